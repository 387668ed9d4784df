use proptest::prelude::*;

use super::*;
use crate::{EntityId, Felt, Member, Name, Primitive, Struct, Value};

const MODELS: [&str; 2] = ["arena-Moved", "arena-Attacked"];

fn state(model: &str, player: u8, value: u32) -> Struct {
    Struct {
        name: Name::from(model),
        members: vec![
            Member {
                name: Name::from("player"),
                key: true,
                value: Value::Primitive(Primitive::ContractAddress(Felt::from(u128::from(player)))),
            },
            Member {
                name: Name::from("value"),
                key: false,
                value: Value::Primitive(Primitive::U32(value)),
            },
        ],
    }
}

fn event(model: &str, player: u8, value: u32, executed_at: u64) -> IncomingEvent {
    IncomingEvent {
        entity: Felt::from(u128::from(player) + 1000),
        state: state(model, player, value),
        executed_at,
        created_at: executed_at + 1,
        world_address: Felt::from(7u128),
    }
}

/// What identifies an event's content and second, to compare logs with the server's history.
fn summary(event: &LoggedEvent) -> (u64, String, EntityId, String) {
    (
        event.executed_at(),
        event.model().to_owned(),
        event.entity(),
        event.state.members_json().to_string(),
    )
}

fn incoming_summary(event: &IncomingEvent) -> (u64, String, EntityId, String) {
    (
        event.executed_at,
        event.state.name.to_string(),
        event.entity,
        event.state.members_json().to_string(),
    )
}

fn summaries(log: &EventLog) -> Vec<(u64, String, EntityId, String)> {
    log.iter().map(summary).collect()
}

fn unbounded() -> EventLog {
    EventLog::new(EventRetention::default())
}

/// Reads `history` newest first in pages of `page`, as Torii's historical retrieve does, down to
/// rows executed at or after `down_to`, as one delivery.
fn walk(log: &mut EventLog, history: &[IncomingEvent], down_to: u64, page: usize, now: u64) {
    let mut delivery = Delivery::new();
    let rows: Vec<IncomingEvent> = history
        .iter()
        .rev()
        .take_while(|e| e.executed_at >= down_to)
        .cloned()
        .collect();
    for chunk in rows.chunks(page.max(1)) {
        log.apply(&mut delivery, chunk.to_vec(), Placement::Walk, now);
    }
}

#[test]
fn a_stream_keeps_arrival_order_and_a_replay_adds_nothing() {
    let mut log = unbounded();
    let history = vec![
        event(MODELS[0], 1, 10, 100),
        event(MODELS[1], 2, 11, 100),
        event(MODELS[0], 1, 12, 101),
    ];
    let mut session = Delivery::new();
    let change = log.apply(&mut session, history.clone(), Placement::Arrival, 200);
    assert_eq!(change.added.len(), 3);
    // A reconnect's catch-up re-reads all three: nothing is added or moved.
    let before = summaries(&log);
    walk(&mut log, &history, 0, 2, 200);
    assert_eq!(summaries(&log), before);
    assert_eq!(
        summaries(&log),
        history.iter().map(incoming_summary).collect::<Vec<_>>()
    );
}

#[test]
fn twins_in_one_delivery_stay_two_events() {
    let mut log = unbounded();
    let twin = event(MODELS[0], 1, 10, 100);
    let mut session = Delivery::new();
    log.apply(&mut session, vec![twin.clone()], Placement::Arrival, 200);
    log.apply(&mut session, vec![twin.clone()], Placement::Arrival, 200);
    assert_eq!(log.len(), 2, "one stream session delivers each event once");
    // A walk that shows both again adds nothing.
    walk(&mut log, &[twin.clone(), twin.clone()], 0, 1, 200);
    assert_eq!(log.len(), 2);
    // The same row in another session is the same event.
    log.apply(&mut Delivery::new(), vec![twin], Placement::Arrival, 200);
    assert_eq!(log.len(), 2);
}

#[test]
fn a_walk_newest_first_is_kept_oldest_first() {
    let history: Vec<_> = (0..7).map(|i| event(MODELS[0], 1, i, 100)).collect();
    let mut log = unbounded();
    walk(&mut log, &history, 0, 3, 200);
    assert_eq!(
        summaries(&log),
        history.iter().map(incoming_summary).collect::<Vec<_>>()
    );
}

#[test]
fn retention_by_count_keeps_the_newest_and_does_not_resurrect() {
    let mut log = EventLog::new(EventRetention {
        count: Some(3),
        age_s: None,
    });
    let history: Vec<_> = (0..5u32)
        .map(|i| event(MODELS[0], 1, i, 100 + u64::from(i)))
        .collect();
    let change = log.apply(
        &mut Delivery::new(),
        history.clone(),
        Placement::Arrival,
        1000,
    );
    assert_eq!(
        change.added.len(),
        3,
        "events added and evicted at once are not reported"
    );
    assert!(change.evicted.is_empty());
    assert_eq!(
        summaries(&log),
        history[2..]
            .iter()
            .map(incoming_summary)
            .collect::<Vec<_>>()
    );
    // A walk over the whole history brings back nothing older.
    walk(&mut log, &history, 0, 2, 1000);
    assert_eq!(
        summaries(&log),
        history[2..]
            .iter()
            .map(incoming_summary)
            .collect::<Vec<_>>()
    );
    let change = log.apply(
        &mut Delivery::new(),
        vec![event(MODELS[0], 1, 9, 200)],
        Placement::Arrival,
        1000,
    );
    assert_eq!(change.added.len(), 1);
    assert_eq!(change.evicted.len(), 1);
    assert_eq!(change.evicted[0].content.executed_at, 102);
}

#[test]
fn retention_by_age_applies_on_ticks_and_reloads() {
    let history: Vec<_> = (0..10u32)
        .map(|i| event(MODELS[0], 1, i, 100 + 10 * u64::from(i)))
        .collect();
    let mut log = unbounded();
    log.apply(
        &mut Delivery::new(),
        history.clone(),
        Placement::Arrival,
        200,
    );
    assert_eq!(log.len(), 10);
    // A reload under an age bound of 50 s at 200: events before 150 leave.
    let mut reloaded = EventLog::new(EventRetention {
        count: None,
        age_s: Some(50),
    });
    let change = reloaded.restore(log.iter().cloned().collect(), 200);
    assert_eq!(change.added.len(), 5);
    assert_eq!(
        reloaded.iter().next().map(LoggedEvent::executed_at),
        Some(150)
    );
    assert!(reloaded.too_old(149, 200) && !reloaded.too_old(150, 200));
    // Time passes: a tick trims.
    let evicted = reloaded.trim(220);
    assert_eq!(evicted.len(), 2);
    assert_eq!(
        reloaded.iter().next().map(LoggedEvent::executed_at),
        Some(170)
    );
}

#[test]
fn a_reload_resumes_without_gap_or_duplicate() {
    let history: Vec<_> = (0..20u32)
        .map(|i| {
            event(
                MODELS[(i % 2) as usize],
                (i % 3) as u8,
                i,
                100 + u64::from(i / 3),
            )
        })
        .collect();
    let mut log = unbounded();
    log.apply(
        &mut Delivery::new(),
        history[..12].to_vec(),
        Placement::Arrival,
        500,
    );
    // Reload: restore what was stored, then catch up from the newest second held less a
    // margin while the server went on to 20 events.
    let stored: Vec<LoggedEvent> = log.iter().cloned().collect();
    let mut reloaded = unbounded();
    reloaded.restore(stored, 500);
    let down_to = reloaded.newest_executed_at().unwrap_or(0).saturating_sub(1);
    walk(&mut reloaded, &history, down_to, 4, 500);
    assert_eq!(
        summaries(&reloaded),
        history.iter().map(incoming_summary).collect::<Vec<_>>()
    );
}

#[test]
fn queries_select_by_model_entity_keys_and_time() {
    let mut log = unbounded();
    let rows = vec![
        event(MODELS[0], 1, 1, 100),
        event(MODELS[1], 1, 2, 101),
        event(MODELS[0], 2, 3, 102),
        event(MODELS[0], 1, 4, 103),
    ];
    log.apply(&mut Delivery::new(), rows, Placement::Arrival, 200);
    let values = |q: EventQuery| -> Vec<String> {
        log.query(&q)
            .iter()
            .map(|e| e.state.members_json()["value"].to_string())
            .collect()
    };
    let moved = Some(MODELS[0].to_owned());
    assert_eq!(
        values(EventQuery {
            model: moved.clone(),
            ..EventQuery::default()
        }),
        ["1", "3", "4"]
    );
    assert_eq!(
        values(EventQuery {
            model: moved.clone(),
            keys: Some(vec![Some(Felt::from(1u128))]),
            ..EventQuery::default()
        }),
        ["1", "4"]
    );
    assert_eq!(
        values(EventQuery {
            keys: Some(vec![None, None]),
            ..EventQuery::default()
        }),
        Vec::<String>::new(),
        "a pattern longer than the keys matches nothing"
    );
    assert_eq!(
        values(EventQuery {
            entity: Some(Felt::from(1002u128)),
            ..EventQuery::default()
        }),
        ["3"]
    );
    assert_eq!(
        values(EventQuery {
            from_s: Some(101),
            to_s: Some(102),
            ..EventQuery::default()
        }),
        ["2", "3"]
    );
    assert_eq!(
        values(EventQuery {
            limit: Some(2),
            newest_first: true,
            ..EventQuery::default()
        }),
        ["4", "3"]
    );
    assert!(values(EventQuery {
        from_s: Some(5),
        to_s: Some(4),
        ..EventQuery::default()
    })
    .is_empty());
}

#[test]
fn identities_have_a_stable_text_key() {
    let mut delivery = Delivery::new();
    let row = event(MODELS[0], 1, 1, 100);
    let first = delivery.identify(row.content());
    let second = delivery.identify(row.content());
    assert_ne!(first.key(), second.key());
    assert!(first.key().ends_with(":0") && second.key().ends_with(":1"));
    assert_eq!(first.key(), Delivery::new().identify(row.content()).key());
}

/// What a client lives through while the server's history grows.
#[derive(Debug, Clone)]
enum Step {
    /// The live stream delivers the next events.
    Stream(usize),
    /// The stream drops, `missed` events happen meanwhile, and the client re-subscribes and
    /// catches up down to its newest second less `margin`, in pages of `page`.
    Reconnect {
        missed: usize,
        margin: u64,
        page: usize,
    },
    /// The page reloads: the stored log is restored, then caught up as on a reconnect.
    Reload {
        missed: usize,
        margin: u64,
        page: usize,
    },
    /// Another tab relays the last `n` events it holds (the same log's).
    Relay(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1..6usize).prop_map(Step::Stream),
        2 => (0..5usize, 0..3u64, 1..5usize)
            .prop_map(|(missed, margin, page)| Step::Reconnect { missed, margin, page }),
        1 => (0..5usize, 0..3u64, 1..5usize)
            .prop_map(|(missed, margin, page)| Step::Reload { missed, margin, page }),
        1 => (1..4usize).prop_map(Step::Relay),
    ]
}

/// A history of `len` events, their seconds non-decreasing; `twins` allows identical events in
/// one second (a game emitting the same event twice in a block).
fn history(twins: bool) -> impl Strategy<Value = Vec<IncomingEvent>> {
    prop::collection::vec((0..2usize, 0..3u8, 0..3u32, 0..2u64), 1..40).prop_map(move |rows| {
        let mut at = 100;
        rows.into_iter()
            .enumerate()
            .map(|(i, (model, player, value, step))| {
                at += step;
                let value = if twins { value } else { i as u32 };
                event(MODELS[model], player, value, at)
            })
            .collect()
    })
}

/// Runs `steps` against `history`; returns the log and how many events the server had.
fn run(history: &[IncomingEvent], steps: &[Step], retention: EventRetention) -> (EventLog, usize) {
    let now = 10_000;
    let mut log = EventLog::new(retention);
    let mut session = Delivery::new();
    let mut server = 0;
    let mut seen = 0;
    let catch_up = |log: &mut EventLog, server: usize, margin: u64, page: usize| {
        let down_to = log.newest_executed_at().unwrap_or(0).saturating_sub(margin);
        walk(log, &history[..server], down_to, page, now);
    };
    for step in steps {
        match *step {
            Step::Stream(n) => {
                let end = (server + n).min(history.len());
                log.apply(
                    &mut session,
                    history[seen.max(server)..end].to_vec(),
                    Placement::Arrival,
                    now,
                );
                server = end;
                seen = end;
            }
            Step::Reconnect {
                missed,
                margin,
                page,
            } => {
                server = (server + missed).min(history.len());
                session = Delivery::new();
                catch_up(&mut log, server, margin, page);
                seen = server;
            }
            Step::Reload {
                missed,
                margin,
                page,
            } => {
                server = (server + missed).min(history.len());
                let stored: Vec<LoggedEvent> = log.iter().cloned().collect();
                log = EventLog::new(retention);
                log.restore(stored, now);
                session = Delivery::new();
                catch_up(&mut log, server, margin, page);
                seen = server;
            }
            Step::Relay(n) => {
                let relayed: Vec<LoggedEvent> = log.iter().rev().take(n).cloned().collect();
                log.restore(relayed, now);
            }
        }
    }
    (log, server)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Reconnects, reloads and relays re-deliver events: the log holds exactly the distinct
    /// events the server had, in its order, under a count bound the newest of them.
    #[test]
    fn replays_yield_exactly_the_distinct_events_in_order(
        history in history(false),
        steps in prop::collection::vec(step(), 1..20),
        count in prop::option::of(1..10usize),
    ) {
        let retention = EventRetention { count, age_s: None };
        let (log, server) = run(&history, &steps, retention);
        let expected: Vec<_> = history[..server].iter().map(incoming_summary).collect();
        let keep = count.unwrap_or(usize::MAX).min(expected.len());
        prop_assert_eq!(summaries(&log), expected[expected.len() - keep..].to_vec());
    }

    /// With twins (identical events in one second), every twin is kept once a full walk (the
    /// reconcile) has shown them together, and never more than the server had.
    #[test]
    fn twins_are_neither_merged_nor_duplicated_after_a_full_walk(
        history in history(true),
        steps in prop::collection::vec(step(), 1..20),
    ) {
        let (mut log, server) = run(&history, &steps, EventRetention::default());
        let mut expected: Vec<_> = history[..server].iter().map(incoming_summary).collect();
        let mut held = summaries(&log);
        held.sort();
        let mut truth = expected.clone();
        truth.sort();
        // Before the reconcile: a sub-multiset of the truth (nothing duplicated).
        let mut rest = truth.clone();
        for event in &held {
            let at = rest.iter().position(|e| e == event);
            prop_assert!(at.is_some(), "held an event the server did not have twice");
            if let Some(at) = at {
                rest.remove(at);
            }
        }
        walk(&mut log, &history[..server], 0, 3, 10_000);
        let mut held = summaries(&log);
        // Same seconds in order; within a second, the same events.
        let seconds: Vec<u64> = held.iter().map(|e| e.0).collect();
        prop_assert!(seconds.windows(2).all(|w| w[0] <= w[1]));
        held.sort();
        expected.sort();
        prop_assert_eq!(held, expected);
    }
}
