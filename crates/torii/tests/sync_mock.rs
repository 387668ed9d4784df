//! The synchronizer over the real transport against mock-torii on 127.0.0.1: 5,000 entities
//! bootstrapped, live updates streamed, ended streams and failing calls survived by replays,
//! and the store equal to the mock's world at the end.

#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;
use std::time::{Duration, Instant};

use dojo_reactive_core::sync::testing::{test_fingerprint, MemoryStorage, Recorder};
use dojo_reactive_core::sync::{
    BackoffConfig, SyncOptions, SyncSetup, SyncState, SyncTarget, Synchronizer, TargetKind,
    TransitionReason,
};
use dojo_reactive_core::SyncConfig;
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock, UpdatesRequest};
use dojo_reactive_torii::sync_transport::TokioClock;
use dojo_reactive_torii::ToriiClient;
use http_body_util::BodyExt;
use serde_json::Value;

const ENTITIES: usize = 5_000;

/// `GET /_mock/world` over HTTP, entities sorted by id.
async fn mock_world(mock: &RunningMock) -> Value {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: http::Uri = format!("{}/_mock/world", mock.url()).parse().unwrap();
    let response = client.get(uri).await.expect("the control API answers");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut world: Value = serde_json::from_slice(&bytes).expect("world JSON");
    if let Some(entities) = world["entities"].as_array_mut() {
        entities.sort_by(|a, b| a["entityId"].as_str().cmp(&b["entityId"].as_str()));
    }
    world
}

/// Polls `check` every 50 ms for up to `limit`.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

fn streaming(recorder: &Recorder) -> bool {
    recorder.states().last() == Some(&SyncState::Streaming)
}

#[tokio::test(flavor = "current_thread")]
async fn syncs_five_thousand_entities_and_survives_faults_through_replays() {
    let mock = MockTorii::start(MockConfig {
        entities: ENTITIES,
        event_messages: 0,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let client = ToriiClient::new(&mock.url()).expect("client");
    let storage = Rc::new(MemoryStorage::new());
    let recorder = Recorder::new();
    let mut sync = Synchronizer::new(
        client,
        Rc::clone(&storage),
        TokioClock,
        SyncSetup {
            target: SyncTarget::entities(),
            fingerprint: test_fingerprint("mock"),
            config: SyncConfig::default(),
            options: SyncOptions {
                page_size: 1_000,
                backoff: BackoffConfig {
                    initial_ms: 100,
                    max_ms: 1_000,
                    ..BackoffConfig::default()
                },
                ..SyncOptions::default()
            },
        },
    );
    sync.set_observer(Box::new(recorder.clone()));
    let handle = sync.handle();
    let control = mock.control().clone();

    let script = async {
        assert!(
            eventually(Duration::from_secs(60), || streaming(&recorder)).await,
            "bootstrapped: {:?}",
            recorder.states()
        );
        let bootstrapped = storage.model_count(TargetKind::Entities);
        assert!(bootstrapped >= ENTITIES, "{bootstrapped} model states");

        // Live updates stream in.
        let updates = UpdatesRequest {
            count: 200,
            ..Default::default()
        };
        control.apply_updates(&updates).expect("updates");
        assert!(
            eventually(Duration::from_secs(20), || recorder
                .last_tick()
                .is_some_and(|t| t.ledger.applied as usize >= bootstrapped + 150))
            .await,
            "updates streamed"
        );

        // The server ends every stream; writes made meanwhile come back through the replay.
        control.end_streams();
        control.apply_updates(&updates).expect("updates");
        assert!(
            eventually(Duration::from_secs(30), || recorder
                .transitions()
                .iter()
                .any(|t| t.reason == TransitionReason::StreamEnded))
            .await
        );
        assert!(eventually(Duration::from_secs(60), || streaming(&recorder)).await);

        // Failing calls while the stream is lost (Torii unavailable): the replay is offline,
        // backs off and retries.
        control.fail(3, tonic::Code::Unavailable);
        control.end_streams();
        control.apply_updates(&updates).expect("updates");
        assert!(
            eventually(Duration::from_secs(30), || recorder
                .states()
                .contains(&SyncState::Offline))
            .await,
            "{:?}",
            recorder.states()
        );
        assert!(eventually(Duration::from_secs(60), || streaming(&recorder)).await);
        control.apply_updates(&updates).expect("updates");

        // Converged: the store renders exactly as the mock's world.
        let start = Instant::now();
        let mut world = mock_world(&mock).await;
        while storage.world_json(TargetKind::Entities) != world
            && start.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            world = mock_world(&mock).await;
        }
        assert_eq!(storage.world_json(TargetKind::Entities), world);
        handle.shutdown();
    };
    let (result, ()) = tokio::join!(sync.run(), script);
    result.expect("the run ends with shutdown");
    assert_eq!(sync.state(), SyncState::Idle);
    let tick = sync.tick();
    assert!(tick.replay_count >= 2, "{tick:?}");
    assert_eq!(tick.failed_passes, 0);
    storage
        .check_matches(
            TargetKind::Entities,
            &sync.ledger_entries(),
            sync.held_states(),
            |r| sync.holds(r),
        )
        .expect("storage holds what the ledger says");
    mock.shutdown().await;
}
