//! Fault knobs: fail, delay, stall, end-streams, restart, malformed (all kinds), reset.

use std::time::{Duration, Instant};

use dojo_reactive_mock_torii::{MalformedKind, UpdatesRequest};
use dojo_reactive_torii::types::{primitive::PrimitiveType as P, ty::TyType};
use dojo_reactive_torii::world;
use serde_json::json;

use crate::common::*;

fn updates(count: usize) -> UpdatesRequest {
    UpdatesRequest {
        count,
        ..UpdatesRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fails_the_next_calls_with_the_code() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let (status, body) = http(
        &mock,
        "POST",
        "/_mock/fail",
        Some(json!({"count": 2, "code": "unavailable"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..2 {
        let error = client
            .retrieve_entities(retrieve(None, 5, ""))
            .await
            .expect_err("injected");
        assert_eq!(error.code(), tonic::Code::Unavailable);
    }
    client
        .retrieve_entities(retrieve(None, 5, ""))
        .await
        .expect("third call succeeds");
    mock.control().fail(1, tonic::Code::ResourceExhausted);
    let error = client
        .subscribe_entities(world::SubscribeEntitiesRequest {
            clause: None,
            world_addresses: vec![],
        })
        .await
        .expect_err("streams fail too");
    assert_eq!(error.code(), tonic::Code::ResourceExhausted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_slows_responses_and_streamed_messages() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    let (status, _) = http(&mock, "POST", "/_mock/delay", Some(json!({"ms": 1500}))).await;
    assert_eq!(status, 200);
    let started = Instant::now();
    client
        .retrieve_entities(retrieve(None, 5, ""))
        .await
        .expect("page");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let started = Instant::now();
    mock.control().apply_updates(&updates(1)).expect("update");
    next(&mut stream).await.expect("update");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    mock.control().delay(Duration::ZERO);
    let started = Instant::now();
    client
        .retrieve_entities(retrieve(None, 5, ""))
        .await
        .expect("page");
    // Well under the 1.5 s fault delay, even on a loaded machine.
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_keeps_streams_open_but_silent() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    let (status, _) = http(
        &mock,
        "POST",
        "/_mock/stall",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    mock.control().apply_updates(&updates(5)).expect("updates");
    assert_quiet(&mut stream).await;
    assert_eq!(mock.control().subscription_count(), 1, "still open");
    mock.control().stall(false);
    let player = world_entities(&mock)[0]["entityId"]
        .as_str()
        .expect("id")
        .to_owned();
    mock.control()
        .apply_updates(&UpdatesRequest {
            count: 1,
            model: None,
            entity_ids: vec![player.clone()],
        })
        .expect("update");
    let entity = next(&mut stream)
        .await
        .expect("after the stall")
        .entity
        .expect("entity");
    assert_eq!(
        hex(&entity.hashed_keys),
        player,
        "updates during the stall were lost"
    );
    assert_quiet(&mut stream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_streams_ends_every_stream() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let (_, mut a) = subscribe(&mut client, None).await;
    let (_, mut b) = subscribe(&mut client, Some(hashed(&[vec![1]]))).await;
    let (status, body) = http(&mock, "POST", "/_mock/end-streams", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["ended"], 2);
    assert!(next(&mut a).await.is_none());
    assert!(next(&mut b).await.is_none());
    // New subscriptions work.
    let (_, mut c) = subscribe(&mut client, None).await;
    mock.control().apply_updates(&updates(1)).expect("update");
    assert!(next(&mut c).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_changes_the_version_and_forgets_subscriptions() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    let (_, root) = http(&mock, "GET", "/", None).await;
    assert_eq!(
        root,
        json!({"service": "torii", "version": "1.8.16 (mock)", "success": true})
    );
    let (id, mut stream) = subscribe(&mut client, None).await;
    let (status, _) = http(
        &mock,
        "POST",
        "/_mock/restart",
        Some(json!({"version": "1.8.17 (next)"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(next(&mut stream).await.is_none(), "streams end");
    let (_, root) = http(&mock, "GET", "/", None).await;
    assert_eq!(root["version"], "1.8.17 (next)");
    let error = client
        .update_entities_subscription(world::UpdateEntitiesSubscriptionRequest {
            subscription_id: id,
            clause: None,
            world_addresses: vec![],
        })
        .await
        .expect_err("forgotten");
    assert_eq!(error.code(), tonic::Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_responses_break_exactly_the_next_ones() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    for kind in ["protobuf", "content-type", "truncate"] {
        let (status, _) = http(
            &mock,
            "POST",
            "/_mock/malformed",
            Some(json!({"kind": kind, "count": 1})),
        )
        .await;
        assert_eq!(status, 200);
        let result = client.retrieve_entities(retrieve(None, 5, "")).await;
        assert!(result.is_err(), "{kind}: the next response is broken");
        client
            .retrieve_entities(retrieve(None, 5, ""))
            .await
            .unwrap_or_else(|e| panic!("{kind}: the one after is fine: {e}"));
    }
    // Schema: the first entity has a u32 member sent as a u64.
    mock.control().malformed(MalformedKind::Schema, 1);
    let page = client
        .retrieve_entities(retrieve(None, 5, ""))
        .await
        .expect("page")
        .into_inner();
    let first = &page.entities[0].models[0];
    let kinds: Vec<bool> = first
        .children
        .iter()
        .map(|m| {
            matches!(
                m.ty.as_ref().and_then(|t| t.ty_type.as_ref()),
                Some(TyType::Primitive(p)) if matches!(p.primitive_type, Some(P::U64(_)))
            )
        })
        .collect();
    let expected_u64 = if first.name == "arena-Player" { 3 } else { 2 };
    assert_eq!(
        kinds.iter().filter(|k| **k).count(),
        expected_u64,
        "one u32 became a u64 in {}",
        first.name
    );
    let page = client
        .retrieve_entities(retrieve(None, 5, ""))
        .await
        .expect("page")
        .into_inner();
    assert_ne!(page.entities[0].models[0], *first, "only once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_streamed_messages() {
    let mock = start(10).await;
    let mut client = client(&mock).await;
    // Protobuf garbage on a stream: the stream errors.
    let (_, mut stream) = subscribe(&mut client, None).await;
    mock.control().malformed(MalformedKind::Protobuf, 1);
    mock.control().apply_updates(&updates(1)).expect("update");
    let outcome = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("in time");
    assert!(outcome.is_err(), "undecodable message: {outcome:?}");
    // Truncated stream: an error or an abrupt end.
    drop(stream);
    let (_, mut stream) = subscribe(&mut client, None).await;
    only_one_subscription(&mock).await;
    mock.control().malformed(MalformedKind::Truncate, 1);
    mock.control().apply_updates(&updates(1)).expect("update");
    let outcome = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("in time");
    assert!(
        !matches!(outcome, Ok(Some(_))),
        "no complete message: {outcome:?}"
    );
    // Schema break on the next streamed update only.
    drop(stream);
    let (_, mut stream) = subscribe(&mut client, None).await;
    only_one_subscription(&mock).await;
    mock.control().malformed(MalformedKind::Schema, 1);
    let player = world_entities(&mock)[0]["entityId"]
        .as_str()
        .expect("id")
        .to_owned();
    let request = UpdatesRequest {
        count: 2,
        model: Some("arena-Position".into()),
        entity_ids: vec![player],
    };
    mock.control().apply_updates(&request).expect("updates");
    let broken = next(&mut stream)
        .await
        .expect("broken")
        .entity
        .expect("entity");
    let fine = next(&mut stream)
        .await
        .expect("fine")
        .entity
        .expect("entity");
    let x_type = |e: &dojo_reactive_torii::types::Entity| {
        let vec = e.models[0]
            .children
            .iter()
            .find(|m| m.name == "vec")
            .and_then(|m| m.ty.clone());
        match vec.and_then(|t| t.ty_type) {
            Some(TyType::Struct(s)) => s.children[0].ty.clone().and_then(|t| t.ty_type),
            _ => None,
        }
    };
    assert!(
        matches!(x_type(&broken), Some(TyType::Primitive(p)) if matches!(p.primitive_type, Some(P::U64(_))))
    );
    assert!(
        matches!(x_type(&fine), Some(TyType::Primitive(p)) if matches!(p.primitive_type, Some(P::U32(_))))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_restores_the_initial_world_and_clears_faults() {
    let mock = start(30).await;
    let before = mock
        .control()
        .world(dojo_reactive_mock_torii::Kind::Entities);
    mock.control()
        .apply_updates(&updates(100))
        .expect("updates");
    mock.control().delay(Duration::from_millis(5000));
    mock.control().fail(5, tonic::Code::Internal);
    assert_ne!(
        mock.control()
            .world(dojo_reactive_mock_torii::Kind::Entities),
        before
    );
    let mut client = client(&mock).await;
    let (status, _) = http(&mock, "POST", "/_mock/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        mock.control()
            .world(dojo_reactive_mock_torii::Kind::Entities),
        before
    );
    let started = Instant::now();
    client
        .retrieve_entities(retrieve(None, 5, ""))
        .await
        .expect("no fault left");
    assert!(
        started.elapsed() < Duration::from_millis(5000),
        "the delay fault was cleared"
    );
    let log = mock.control().log();
    assert_eq!(log.len(), 1, "the log was cleared: {log:?}");
    assert_eq!(log[0].method, "RetrieveEntities");
    assert!(log[0].detail.contains("limit=5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_emits_updates_in_the_background() {
    let mock = start(50).await;
    let mut client = client(&mock).await;
    let (_, mut stream) = subscribe(&mut client, None).await;
    let (status, _) = http(&mock, "POST", "/_mock/rate", Some(json!({"perSec": 200}))).await;
    assert_eq!(status, 200);
    for _ in 0..20 {
        assert!(next(&mut stream).await.is_some());
    }
    mock.control().set_rate(0.0).expect("stop");
    // Drain what was in flight, then silence.
    tokio::time::sleep(Duration::from_millis(100)).await;
    while tokio::time::timeout(Duration::from_millis(150), stream.message())
        .await
        .is_ok()
    {}
    assert_quiet(&mut stream).await;
}

/// Waits until the streams dropped by the test are forgotten by the server.
async fn only_one_subscription(mock: &dojo_reactive_mock_torii::RunningMock) {
    tokio::time::timeout(PATIENCE, async {
        while mock.control().subscription_count() > 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("dropped streams are forgotten");
}
