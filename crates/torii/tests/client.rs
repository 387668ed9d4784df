//! Our client against mock-torii over real sockets on 127.0.0.1: paging, subscriptions, the
//! version probe, tokens, and a typed error for every kind of bad server behaviour.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashSet;
use std::time::Duration;

use dojo_reactive_core::Felt;
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock};
use dojo_reactive_torii::{types, EntityKind, EntityPage, ToriiClient, ToriiError, WireError};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

async fn start(entities: usize) -> RunningMock {
    let config = MockConfig {
        entities,
        ..MockConfig::default()
    };
    MockTorii::start(config).await.expect("mock starts")
}

/// POSTs JSON to the mock's control API and returns its JSON answer.
async fn control(mock: &RunningMock, route: &str, body: Value) -> Value {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let request = http::Request::post(format!("{}/_mock/{route}", mock.url()))
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let response = client.request(request).await.expect("control API answers");
    assert!(
        response.status().is_success(),
        "control {route} failed: {}",
        response.status()
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn page_query(cursor: String, limit: u32) -> types::Query {
    types::Query {
        pagination: Some(types::Pagination {
            cursor,
            limit,
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn first_page(client: &ToriiClient) -> Result<EntityPage, ToriiError> {
    client
        .retrieve(EntityKind::Entities, page_query(String::new(), 50))
        .await
}

#[tokio::test]
async fn version_probe_reads_the_torii_root_answer() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    assert_eq!(
        client.version().await.unwrap(),
        MockConfig::default().version
    );
    control(&mock, "restart", json!({ "version": "1.8.17 (next)" })).await;
    assert_eq!(client.version().await.unwrap(), "1.8.17 (next)");
}

#[tokio::test]
async fn paging_25000_entities_returns_each_exactly_once() {
    let mock = start(25_000).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = client
            .retrieve(EntityKind::Entities, page_query(cursor, 1000))
            .await
            .unwrap();
        assert!(page.rejected.is_empty(), "{:?}", page.rejected.first());
        pages += 1;
        for entity in page.items {
            assert!(!entity.models.is_empty());
            assert!(
                seen.insert(entity.id),
                "entity {} returned twice",
                entity.id
            );
        }
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 25_000);
    assert_eq!(pages, 25);
}

#[tokio::test]
async fn event_messages_are_paged_separately() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let page = client
        .retrieve(EntityKind::EventMessages, page_query(String::new(), 0))
        .await
        .unwrap();
    assert_eq!(page.items.len(), MockConfig::default().event_messages);
    assert!(page
        .items
        .iter()
        .all(|e| e.models.iter().all(|m| m.name == "arena-Moved")));
}

#[tokio::test]
async fn handshake_is_not_an_update_and_updates_arrive_in_order() {
    let mock = start(100).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let mut subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .unwrap();
    assert_ne!(subscription.id(), 0);
    // Updates to one entity, one after another: each must arrive, in commit order.
    let page = first_page(&client).await.unwrap();
    let target = page
        .items
        .iter()
        .find(|e| e.model("arena-Player").is_some())
        .expect("a player")
        .id;
    for _ in 0..20 {
        control(
            &mock,
            "updates",
            json!({ "count": 1, "entityIds": [target.to_hex()], "model": "arena-Player" }),
        )
        .await;
    }
    let mut last = None;
    for _ in 0..20 {
        let update = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("update in time")
            .unwrap()
            .unwrap();
        assert_eq!(update.id, target);
        assert_eq!(
            update.models.len(),
            1,
            "an update carries only the model that changed"
        );
        let player = update.model("arena-Player").expect("the Player model");
        let stamp = player
            .get_path("last_updated_at")
            .and_then(|v| v.as_primitive())
            .copied();
        if let (Some(previous), Some(current)) = (last, stamp) {
            assert_eq!(
                current.compare(&previous),
                Some(std::cmp::Ordering::Greater),
                "updates out of order"
            );
        }
        last = stamp;
    }
}

#[tokio::test]
async fn updating_a_subscription_changes_what_arrives() {
    let mock = start(100).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let ids: Vec<Felt> = first_page(&client)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.id)
        .take(2)
        .collect();
    let only = |id: Felt| types::Clause {
        clause_type: Some(types::clause::ClauseType::HashedKeys(
            types::HashedKeysClause {
                hashed_keys: vec![id.0.to_vec()],
            },
        )),
    };
    let mut subscription = client
        .subscribe(EntityKind::Entities, Some(only(ids[0])), &[])
        .await
        .unwrap();
    client
        .update_subscription(
            EntityKind::Entities,
            subscription.id(),
            Some(only(ids[1])),
            &[],
        )
        .await
        .unwrap();
    control(
        &mock,
        "updates",
        json!({ "count": 1, "entityIds": [ids[0].to_hex()] }),
    )
    .await;
    control(
        &mock,
        "updates",
        json!({ "count": 1, "entityIds": [ids[1].to_hex()] }),
    )
    .await;
    let update = tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        update.id, ids[1],
        "after the update only the second entity is watched"
    );
    let unknown = client
        .update_subscription(EntityKind::Entities, subscription.id() ^ 1, None, &[])
        .await;
    assert!(
        matches!(unknown, Err(ToriiError::Rpc { ref code, .. }) if code == "NotFound"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn a_model_deletion_arrives_as_an_empty_model() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    let target = first_page(&client).await.unwrap().items[0].id;
    let mut subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .unwrap();
    control(
        &mock,
        "delete",
        json!({ "entityId": target.to_hex(), "model": "arena-Position" }),
    )
    .await;
    let update = tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(update.id, target);
    assert!(update
        .model("arena-Position")
        .is_some_and(|m| m.is_deletion()));
}

#[tokio::test]
async fn unreachable_and_unavailable_servers_are_retryable_errors() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    control(&mock, "fail", json!({ "count": 2, "code": "unavailable" })).await;
    for _ in 0..2 {
        let error = first_page(&client).await.unwrap_err();
        assert!(matches!(error, ToriiError::Unavailable { .. }), "{error:?}");
        assert!(error.is_retryable());
    }
    assert!(first_page(&client).await.is_ok(), "the third call succeeds");

    let nobody = ToriiClient::new("http://127.0.0.1:9").unwrap();
    let error = first_page(&nobody).await.unwrap_err();
    assert!(matches!(error, ToriiError::Unavailable { .. }), "{error:?}");
    assert!(matches!(
        ToriiClient::new("not a url"),
        Err(ToriiError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn malformed_responses_are_typed_errors() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    for kind in ["protobuf", "content-type", "truncate"] {
        control(&mock, "malformed", json!({ "kind": kind, "count": 1 })).await;
        let error = first_page(&client).await.unwrap_err();
        assert!(
            matches!(error, ToriiError::Malformed { .. }),
            "{kind}: {error:?}"
        );
        assert!(
            first_page(&client).await.is_ok(),
            "{kind}: the next call is clean"
        );
    }
}

#[tokio::test]
async fn a_message_announcing_more_than_the_cap_is_too_large() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    control(
        &mock,
        "malformed",
        json!({ "kind": "oversize", "count": 1 }),
    )
    .await;
    let error = first_page(&client).await.unwrap_err();
    assert!(matches!(error, ToriiError::TooLarge { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert!(first_page(&client).await.is_ok(), "the next call is clean");
}

#[tokio::test]
async fn javascript_special_names_sync_and_names_that_are_not_identifiers_are_rejected_alone() {
    let mock = MockTorii::start(MockConfig {
        entities: 4,
        hostile_names: true,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let client = ToriiClient::new(&mock.url()).unwrap();
    let key = |i: u32| json!([format!("0x{:064x}", 0xabc0 + i)]);
    control(
        &mock,
        "set",
        json!({ "keys": key(1), "model": "__proto__-isAdmin",
                "values": { "__proto__": 7, "constructor": { "__proto__": 8, "prototype": 9 }, "prototype": true } }),
    )
    .await;
    for (model, values) in [
        (
            "constructor-assign",
            json!({ "prototype": "10", "__proto__": "text" }),
        ),
        ("prototype-__proto__", json!({ "prototype": 11 })),
    ] {
        control(
            &mock,
            "set",
            json!({ "keys": key(1), "model": model, "values": values }),
        )
        .await;
    }
    control(
        &mock,
        "set",
        json!({ "keys": key(2), "model": "names-Misnamed", "values": { "not an identifier": 1 } }),
    )
    .await;
    let page = first_page(&client).await.unwrap();
    assert_eq!(
        page.items.len(),
        5,
        "four generated entities and the hostile one"
    );
    let hostile = page
        .items
        .iter()
        .find(|e| e.models.len() == 3)
        .expect("the entity holding the three models");
    let tags: Vec<&str> = hostile.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        tags,
        [
            "__proto__-isAdmin",
            "constructor-assign",
            "prototype-__proto__"
        ]
    );
    assert_eq!(page.rejected.len(), 1, "the misnamed entity alone");
    assert!(
        matches!(
            &page.rejected[0],
            ToriiError::InvalidEntity {
                entity: Some(_),
                source: WireError::BadName { path, .. },
            } if path == "not an identifier"
        ),
        "{:?}",
        page.rejected[0]
    );
}

#[tokio::test]
async fn an_entity_that_breaks_its_model_schema_is_rejected_alone() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    // Learn the shapes first, as a synchronizer does with its first page.
    first_page(&client).await.unwrap();
    control(&mock, "malformed", json!({ "kind": "schema", "count": 1 })).await;
    let page = first_page(&client).await.unwrap();
    assert_eq!(page.rejected.len(), 1, "one entity breaks its schema");
    assert!(
        matches!(
            &page.rejected[0],
            ToriiError::InvalidEntity {
                source: WireError::Schema(_),
                ..
            }
        ),
        "{:?}",
        page.rejected[0]
    );
    assert_eq!(page.items.len(), 9, "the other entities still arrive");
}

#[tokio::test]
async fn broken_stream_messages_and_ended_streams_are_reported() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    first_page(&client).await.unwrap();
    let mut subscription = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .unwrap();
    control(&mock, "malformed", json!({ "kind": "schema", "count": 1 })).await;
    control(
        &mock,
        "updates",
        json!({ "count": 1, "model": "arena-Player" }),
    )
    .await;
    let broken = tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            broken,
            Err(ToriiError::InvalidEntity {
                source: WireError::Schema(_),
                ..
            })
        ),
        "{broken:?}"
    );
    control(
        &mock,
        "updates",
        json!({ "count": 1, "model": "arena-Player" }),
    )
    .await;
    let good = tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        good.is_ok(),
        "the stream goes on after an invalid entity: {good:?}"
    );
    control(&mock, "end-streams", json!({})).await;
    let ended = tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap();
    assert!(ended.is_none(), "an ended stream reads as None: {ended:?}");
}

#[tokio::test]
async fn a_stream_whose_handshake_fails_is_a_typed_error() {
    let mock = start(10).await;
    let client = ToriiClient::new(&mock.url()).unwrap();
    control(
        &mock,
        "malformed",
        json!({ "kind": "protobuf", "count": 1 }),
    )
    .await;
    let error = client
        .subscribe(EntityKind::Entities, None, &[])
        .await
        .err()
        .expect("handshake fails");
    assert!(matches!(error, ToriiError::Malformed { .. }), "{error:?}");
}
