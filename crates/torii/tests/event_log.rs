//! An event log fed by our client from mock-torii's history and stream: a cold sync, live
//! events, a reconnect that missed events, a reload, and a count bound, each converging to
//! exactly the events mock-torii wrote, in its order, once each.

#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use dojo_reactive_core::{Delivery, EventLog, EventRetention, LoggedEvent, Placement};
use std::sync::atomic::{AtomicU64, Ordering};

use dojo_reactive_mock_torii::control::SetRequest;
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock};
use dojo_reactive_torii::event_log::{events_of, HistoricalQuery, WalkBounds};
use dojo_reactive_torii::{EntityKind, EntitySubscription, ToriiClient};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
const NOW: u64 = u64::MAX / 2;
const MOVED: &str = "arena-Moved";

async fn start() -> RunningMock {
    let config = MockConfig {
        entities: 10,
        event_messages: 30,
        ..MockConfig::default()
    };
    MockTorii::start(config).await.expect("mock starts")
}

/// Emits `count` `Moved` events of five players, each with its own `at` (so no two are
/// identical), as a game's moves.
fn emit(mock: &RunningMock, count: usize) {
    for _ in 0..count {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        emit_one(mock, n % 5, n);
    }
}

/// Emits one `Moved` event of player `player` with member `at`.
fn emit_one(mock: &RunningMock, player: u64, at: u64) {
    mock.control()
        .set(&SetRequest {
            keys: Some(vec![format!("{:#x}", player + 1)]),
            model: MOVED.to_owned(),
            values: json!({ "direction": { "variant": "Up" }, "at": at })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..SetRequest::default()
        })
        .expect("event emitted");
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn query() -> HistoricalQuery {
    HistoricalQuery {
        models: vec![MOVED.to_owned()],
        ..HistoricalQuery::default()
    }
}

fn bounds(down_to_s: u64) -> WalkBounds {
    WalkBounds {
        down_to_s,
        page_size: 7,
        now_s: NOW,
    }
}

/// The server's history, oldest first, as comparable text (entity, second, members).
async fn server_history(client: &ToriiClient) -> Vec<String> {
    let mut all = EventLog::new(EventRetention::default());
    client
        .walk_history(&query(), &mut all, bounds(0))
        .await
        .expect("walk");
    texts(&all)
}

fn texts(log: &EventLog) -> Vec<String> {
    log.iter().map(text).collect()
}

fn text(event: &LoggedEvent) -> String {
    format!(
        "{}@{} {}",
        event.entity().to_hex(),
        event.executed_at(),
        event.state.members_json()
    )
}

/// Applies `n` streamed rows of `subscription` to `log` as arrivals of `session`.
async fn stream(
    subscription: &mut EntitySubscription,
    log: &mut EventLog,
    session: &mut Delivery,
    n: usize,
) {
    for _ in 0..n {
        let entity = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("a streamed event in time")
            .expect("stream open")
            .expect("valid row");
        log.apply(
            session,
            events_of(entity, &[MOVED.to_owned()]),
            Placement::Arrival,
            NOW,
        );
    }
}

async fn subscribe(client: &ToriiClient) -> EntitySubscription {
    client
        .subscribe(
            EntityKind::EventMessages,
            query().subscription_clause(),
            &[],
        )
        .await
        .expect("subscribed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_follows_history_stream_reconnect_and_reload() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).expect("client");

    // Cold sync: subscribe first, then walk the whole history.
    let mut log = EventLog::new(EventRetention::default());
    let mut subscription = subscribe(&client).await;
    let mut session = Delivery::new();
    client
        .walk_history(&query(), &mut log, bounds(0))
        .await
        .expect("cold sync");
    assert_eq!(log.len(), 30);

    // Live: every event arrives once, even several on one entity in one second.
    emit(&mock, 12);
    stream(&mut subscription, &mut log, &mut session, 12).await;
    assert_eq!(texts(&log), server_history(&client).await);

    // A reconnect that missed 5 events: a new session, a catch-up walk from the newest second
    // held less a margin (it re-reads events held: none is added twice).
    drop(subscription);
    emit(&mock, 5);
    let mut subscription = subscribe(&client).await;
    let mut session = Delivery::new();
    let down_to = log.newest_executed_at().unwrap_or(0).saturating_sub(2);
    client
        .walk_history(&query(), &mut log, bounds(down_to))
        .await
        .expect("catch-up");
    emit(&mock, 3);
    stream(&mut subscription, &mut log, &mut session, 3).await;
    assert_eq!(texts(&log), server_history(&client).await);
    assert_eq!(log.len(), 50);

    // A reload: the stored log is restored, caught up, and nothing repeats.
    drop(subscription);
    let stored: Vec<LoggedEvent> = log.iter().cloned().collect();
    emit(&mock, 4);
    let mut reloaded = EventLog::new(EventRetention::default());
    reloaded.restore(stored, NOW);
    let down_to = reloaded.newest_executed_at().unwrap_or(0).saturating_sub(2);
    client
        .walk_history(&query(), &mut reloaded, bounds(down_to))
        .await
        .expect("catch-up after reload");
    assert_eq!(reloaded.len(), 54);
    assert_eq!(texts(&reloaded), server_history(&client).await);
    assert_eq!(mock.control().status()["historicalEvents"], 54);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_bound_keeps_the_newest_and_reads_no_further() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).expect("client");
    emit(&mock, 10);
    let mut log = EventLog::new(EventRetention {
        count: Some(8),
        age_s: None,
    });
    client
        .walk_history(&query(), &mut log, bounds(0))
        .await
        .expect("cold sync");
    // Two pages of 7 are enough for the 8 newest of 40: the walk reads no further.
    let pages = mock
        .control()
        .log()
        .iter()
        .filter(|entry| entry.method == "RetrieveEventMessages")
        .count();
    assert_eq!(pages, 2);
    let history = server_history(&client).await;
    assert_eq!(history.len(), 40);
    assert_eq!(texts(&log), history[history.len() - 8..].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twins_in_one_second_are_two_events() {
    let mock = start().await;
    let client = ToriiClient::new(&mock.url()).expect("client");
    let mut log = EventLog::new(EventRetention::default());
    let mut subscription = subscribe(&client).await;
    let mut session = Delivery::new();
    client
        .walk_history(&query(), &mut log, bounds(0))
        .await
        .expect("cold sync");
    // The same move twice in one second: identical rows, two real events.
    emit_one(&mock, 9, 7);
    emit_one(&mock, 9, 7);
    stream(&mut subscription, &mut log, &mut session, 2).await;
    assert_eq!(log.len(), 32);
    // A catch-up re-reading them adds nothing; a full walk (the reconcile) neither.
    for down_to in [log.newest_executed_at().unwrap_or(0), 0] {
        client
            .walk_history(&query(), &mut log, bounds(down_to))
            .await
            .expect("walk");
        assert_eq!(log.len(), 32);
    }
    assert_eq!(texts(&log), server_history(&client).await);
}
