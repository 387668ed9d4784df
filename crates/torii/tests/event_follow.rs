//! A follower keeps an event log equal to mock-torii's history through a cold sync, live
//! events, an ended stream (whose catch-up re-reads delivered events) and a silent stream, with each change shown
//! once (as the worker shows them), and within a count bound; a log restored from a walk a
//! reload interrupted is walked whole before it is told complete.

#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dojo_reactive_core::sync::BackoffConfig;
use dojo_reactive_core::{EventLog, EventRetention, LogChange, LoggedEvent};
use dojo_reactive_mock_torii::control::SetRequest;
use dojo_reactive_mock_torii::{MockConfig, MockTorii, RunningMock};
use dojo_reactive_torii::event_follow::{follow, FollowOptions, FollowSink};
use dojo_reactive_torii::event_log::{HistoricalQuery, WalkBounds};
use dojo_reactive_torii::sync_transport::TokioClock;
use dojo_reactive_torii::{ToriiClient, ToriiError};
use serde_json::json;

const MOVED: &str = "arena-Moved";
static NEXT: AtomicU64 = AtomicU64::new(1);

fn query() -> HistoricalQuery {
    HistoricalQuery {
        models: vec![MOVED.to_owned()],
        ..HistoricalQuery::default()
    }
}

fn options() -> FollowOptions {
    FollowOptions {
        page_size: 7,
        heartbeat_ms: 400,
        margin_s: 2,
        request_timeout_ms: 5_000,
        backoff: BackoffConfig {
            initial_ms: 50,
            max_ms: 200,
            ..BackoffConfig::default()
        },
    }
}

fn emit(mock: &RunningMock, count: usize) {
    for _ in 0..count {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        mock.control()
            .set(&SetRequest {
                keys: Some(vec![format!("{:#x}", n % 5 + 1)]),
                model: MOVED.to_owned(),
                values: json!({ "direction": { "variant": "Up" }, "at": n })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                ..SetRequest::default()
            })
            .expect("event emitted");
    }
}

fn text(event: &LoggedEvent) -> String {
    format!(
        "{}@{} {}",
        event.entity().to_hex(),
        event.executed_at(),
        event.state.members_json()
    )
}

/// What a page would show: the changes applied in order, every identity once.
#[derive(Default)]
struct Shown {
    events: Vec<LoggedEvent>,
    duplicates: usize,
    errors: Vec<String>,
    stop: bool,
    /// Times the follower said its first whole walk ended.
    walked: usize,
}

#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Shown>>);

impl FollowSink for Sink {
    async fn change(&mut self, _log: &EventLog, change: LogChange) {
        let mut shown = self.0.borrow_mut();
        shown
            .events
            .retain(|e| !change.evicted.contains(&e.identity));
        for event in change.added {
            if shown.events.iter().any(|e| e.identity == event.identity) {
                shown.duplicates += 1;
            } else {
                shown.events.push(event);
            }
        }
        shown.events.sort_by_key(|e| (e.executed_at(), e.position));
    }

    async fn walked(&mut self) {
        self.0.borrow_mut().walked += 1;
    }

    fn error(&mut self, error: &ToriiError) {
        self.0.borrow_mut().errors.push(error.to_string());
    }

    fn stopped(&self) -> bool {
        self.0.borrow().stop
    }
}

impl Sink {
    fn texts(&self) -> Vec<String> {
        self.0.borrow().events.iter().map(text).collect()
    }

    async fn until_len(&self, len: usize) {
        let start = Instant::now();
        while self.0.borrow().events.len() != len {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} events shown, waiting for {len} (errors: {:?})",
                self.0.borrow().events.len(),
                self.0.borrow().errors
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The whole history Torii holds, walked to its start.
async fn whole_history(client: &ToriiClient) -> EventLog {
    let mut all = EventLog::new(EventRetention::default());
    client
        .walk_history(
            &query(),
            &mut all,
            WalkBounds {
                down_to_s: 0,
                page_size: 50,
                now_s: u64::MAX / 2,
            },
        )
        .await
        .expect("walk");
    all
}

async fn server_history(client: &ToriiClient) -> Vec<String> {
    whole_history(client).await.iter().map(text).collect()
}

async fn start() -> (RunningMock, ToriiClient) {
    let mock = MockTorii::start(MockConfig {
        entities: 10,
        event_messages: 30,
        ..MockConfig::default()
    })
    .await
    .expect("mock starts");
    let client = ToriiClient::new(&mock.url()).expect("client");
    (mock, client)
}

fn spawn_follower(client: &ToriiClient, retention: EventRetention) -> Sink {
    spawn_restored(client, EventLog::new(retention), false, Vec::new())
}

/// A follower of `log` (restored holding `shown`), `walked` or not.
fn spawn_restored(
    client: &ToriiClient,
    mut log: EventLog,
    walked: bool,
    shown: Vec<LoggedEvent>,
) -> Sink {
    let sink = Sink::default();
    sink.0.borrow_mut().events = shown;
    let (client, mut running) = (client.clone(), sink.clone());
    tokio::task::spawn_local(async move {
        follow(
            &client,
            &query(),
            &mut log,
            walked,
            &TokioClock,
            options(),
            &mut running,
        )
        .await;
    });
    sink
}

#[tokio::test(flavor = "current_thread")]
async fn a_followed_log_is_the_history_once_through_faults() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (mock, client) = start().await;
            let sink = spawn_follower(&client, EventRetention::default());
            sink.until_len(30).await;

            emit(&mock, 12);
            sink.until_len(42).await;
            assert_eq!(sink.texts(), server_history(&client).await);

            // The stream ends (a Torii restart): subscribed again, the missed events caught up;
            // the catch-up re-reads events the old stream delivered: none is shown twice.
            mock.control().end_streams();
            emit(&mock, 5);
            sink.until_len(47).await;
            emit(&mock, 3);
            sink.until_len(50).await;

            // A silent stream: the heartbeat's walk finds what it did not deliver.
            mock.control().stall(true);
            emit(&mock, 2);
            sink.until_len(52).await;
            mock.control().stall(false);

            assert_eq!(sink.texts(), server_history(&client).await);
            assert_eq!(sink.0.borrow().duplicates, 0, "an event shown twice");
            sink.0.borrow_mut().stop = true;
        })
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_count_bound_holds_while_following() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (mock, client) = start().await;
            let retention = EventRetention {
                count: Some(8),
                age_s: None,
            };
            let sink = spawn_follower(&client, retention);
            sink.until_len(8).await;
            emit(&mock, 6);
            let start = Instant::now();
            loop {
                let history = server_history(&client).await;
                if sink.texts() == history[history.len() - 8..].to_vec() {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{:?}",
                    sink.texts()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(sink.0.borrow().events.len(), 8);
            sink.0.borrow_mut().stop = true;
        })
        .await;
}

/// The newest `count` events of the history, as a log a reload restored after its cold walk
/// was cut short (or complete, had the walk ended).
async fn newest(client: &ToriiClient, count: usize) -> EventLog {
    let all = whole_history(client).await;
    let kept: Vec<LoggedEvent> = all.iter().rev().take(count).cloned().collect();
    let mut log = EventLog::new(EventRetention::default());
    log.restore(kept, 0);
    log
}

#[tokio::test(flavor = "current_thread")]
async fn a_log_not_walked_is_walked_whole_then_said_complete_once() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (mock, client) = start().await;
            let log = newest(&client, 10).await;
            let shown: Vec<LoggedEvent> = log.iter().cloned().collect();
            let sink = spawn_restored(&client, log, false, shown);
            // The 20 older events a catch-up down to the newest held would never read.
            sink.until_len(30).await;
            assert_eq!(sink.texts(), server_history(&client).await);
            let start = Instant::now();
            while sink.0.borrow().walked == 0 {
                assert!(start.elapsed() < Duration::from_secs(10), "never walked");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // A restarted stream catches up without a whole walk, and says nothing again.
            mock.control().end_streams();
            emit(&mock, 2);
            sink.until_len(32).await;
            assert_eq!(sink.0.borrow().walked, 1);
            assert_eq!(sink.0.borrow().duplicates, 0, "an event shown twice");
            sink.0.borrow_mut().stop = true;
        })
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_walked_log_only_catches_up() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (mock, client) = start().await;
            let log = newest(&client, 10).await;
            let shown: Vec<LoggedEvent> = log.iter().cloned().collect();
            let sink = spawn_restored(&client, log, true, shown);
            emit(&mock, 3);
            let history = server_history(&client).await;
            let start = Instant::now();
            while !sink.texts().ends_with(&history[history.len() - 3..]) {
                assert!(start.elapsed() < Duration::from_secs(10), "the live events");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The catch-up reads down to the newest second held less the margin, not the
            // older history a whole walk reads.
            let shown = sink.0.borrow().events.len();
            assert!(shown < history.len(), "walked the whole history ({shown})");
            assert_eq!(sink.0.borrow().duplicates, 0, "an event shown twice");
            assert_eq!(sink.0.borrow().walked, 0);
            sink.0.borrow_mut().stop = true;
        })
        .await;
}
