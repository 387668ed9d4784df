//! State-machine tests of the synchronizer in virtual time: every transition, backoff timings,
//! the retry budget, commands and restarts.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use dojo_reactive_core::sync::testing::{
    entity_id, model_state, test_setup, CallKind, CallRecord, Harness, SimOutcome, TestSynchronizer,
};
use dojo_reactive_core::sync::{Backoff, BackoffConfig, StorageErrorKind, SyncErrorKind};
use dojo_reactive_core::sync::{
    ConnectionState, FatalReason, SyncFatalError, SyncOptions, SyncState, SyncTarget, TargetKind,
    TransitionReason,
};
use dojo_reactive_core::QueueConfig;

const E: TargetKind = TargetKind::Entities;
const SEC: u64 = 1_000;
const MIN: u64 = 60 * SEC;

fn populate(h: &Harness, count: u64) {
    for n in 0..count {
        h.server
            .write(E, entity_id(n), model_state("ns-Player", n, n as u32, 1));
        if n % 2 == 0 {
            h.server
                .write(E, entity_id(n), model_state("ns-Position", n, 7, 1));
        }
    }
}

fn small_pages() -> SyncOptions {
    SyncOptions {
        page_size: 10,
        ..SyncOptions::default()
    }
}

fn synchronizer(h: &Harness, options: SyncOptions) -> TestSynchronizer {
    let mut setup = test_setup(SyncTarget::entities());
    setup.options = options;
    h.synchronizer(setup)
}

/// Asserts storage equals the server's world and the synchronizer's ledger and states.
fn assert_converged(h: &Harness, sync: &TestSynchronizer) {
    let target = SyncTarget::entities();
    assert_eq!(h.storage.world_json(E), h.server.world_json(&target));
    h.storage.check_invariants(E).unwrap();
    h.storage
        .check_matches(E, &sync.ledger_entries(), sync.held_states(), |r| {
            sync.holds(r)
        })
        .unwrap();
}

fn run_for(h: &mut Harness, sync: &mut TestSynchronizer, ms: u64) {
    let until = h.in_ms(ms);
    let outcome = h.sim.run_until(sync.run(), until);
    assert_eq!(outcome, SimOutcome::TimeLimit);
}

/// A run that stays alive across several [`advance`] calls.
type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SyncFatalError>> + 'a>>;

fn start(sync: &mut TestSynchronizer) -> RunFuture<'_> {
    Box::pin(sync.run())
}

fn advance(h: &mut Harness, run: &mut RunFuture<'_>, ms: u64) {
    let until = h.in_ms(ms);
    assert_eq!(h.sim.run_until(run.as_mut(), until), SimOutcome::TimeLimit);
}

#[test]
fn bootstrap_pages_the_snapshot_then_streams() {
    let mut h = Harness::new();
    populate(&h, 95);
    let mut sync = synchronizer(&h, small_pages());
    assert_eq!(sync.state(), SyncState::Idle);
    run_for(&mut h, &mut sync, 10 * SEC);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_eq!(
        h.recorder.states(),
        vec![SyncState::Bootstrapping, SyncState::Streaming]
    );
    assert_converged(&h, &sync);
    let retrieves = h
        .server
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Retrieve)
        .count();
    assert_eq!(retrieves, 10);
    let state = h.storage.stored_sync_state(E).unwrap();
    assert!(state.snapshot_complete);
    assert_eq!(state.cursor, None);
    let tick = h.recorder.last_tick().unwrap();
    assert_eq!(tick.overall.state, SyncState::Streaming);
    assert_eq!(tick.connection, ConnectionState::Connected);
    assert_eq!(tick.ledger.applied, 95 + 48);
}

fn transitions_to(h: &Harness, to: SyncState) -> Vec<u64> {
    h.recorder
        .transitions()
        .iter()
        .filter(|t| t.to == to)
        .map(|t| t.at)
        .collect()
}

#[test]
fn stream_updates_and_deletions_are_applied_while_streaming() {
    let mut h = Harness::new();
    populate(&h, 20);
    let mut sync = synchronizer(&h, small_pages());
    let server = h.server.clone();
    h.after(5 * SEC, move || {
        server.write(E, entity_id(3), model_state("ns-Player", 3, 333, 2));
        server.delete(E, entity_id(4), "ns-Position");
        server.delete_entity(E, entity_id(6));
        server.write(E, entity_id(100), model_state("ns-Player", 100, 1, 1));
    });
    run_for(&mut h, &mut sync, 10 * SEC);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_converged(&h, &sync);
    let player = h.storage.record(E, &entity_id(3), "ns-Player").unwrap();
    assert_eq!(player.state, model_state("ns-Player", 3, 333, 2));
    assert!(h.storage.record(E, &entity_id(4), "ns-Position").is_none());
    assert!(h.storage.record(E, &entity_id(4), "ns-Player").is_some());
    assert!(h.storage.record(E, &entity_id(6), "ns-Player").is_none());
}

#[test]
fn writes_during_paging_are_buffered_and_moved_entities_re_read_by_id() {
    let mut h = Harness::new();
    populate(&h, 200);
    h.server.set_latency(100);
    let mut sync = synchronizer(&h, small_pages());
    // While the 20 pages are read (100 ms each), rewrite entities not read yet: they move to
    // the head of Torii's order and no later page shows them.
    for step in 0..15u64 {
        let server = h.server.clone();
        h.after(150 + step * 100, move || {
            let n = step * 7;
            server.write(E, entity_id(n), model_state("ns-Position", n, 99, 2));
        });
    }
    run_for(&mut h, &mut sync, 20 * SEC);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_converged(&h, &sync);
    assert!(
        h.server
            .calls()
            .iter()
            .any(|c| c.kind == CallKind::Retrieve && c.ids > 0),
        "moved entities are re-read by id"
    );
    assert_eq!(
        h.recorder.states(),
        vec![SyncState::Bootstrapping, SyncState::Streaming]
    );
    // The updates were buffered during paging: the tick says how deep the queue went, though
    // it is empty now.
    let tick = h.recorder.last_tick().unwrap();
    assert_eq!(tick.queue_depth, 0);
    assert!(tick.queue_max_depth >= 1, "{}", tick.queue_max_depth);
}

#[test]
fn heartbeat_detects_a_stall_and_replays() {
    let mut h = Harness::new();
    populate(&h, 30);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * SEC);
    let synced_at = transitions_to(&h, SyncState::Streaming)[0];
    h.server.stall(true);
    let server = h.server.clone();
    h.after(SEC, move || {
        // Lost for the stalled stream.
        server.write(E, entity_id(1), model_state("ns-Player", 1, 11, 2));
        server.stall(false);
    });
    advance(&mut h, &mut run, 40 * SEC);
    let lagging = transitions_to(&h, SyncState::Lagging);
    assert_eq!(lagging.len(), 1);
    let silent = lagging[0] - synced_at;
    assert!(
        (30 * SEC..=35 * SEC).contains(&silent),
        "lagging after {silent} ms"
    );
    let reasons: Vec<TransitionReason> = h
        .recorder
        .transitions()
        .iter()
        .filter(|t| t.to == SyncState::Lagging)
        .map(|t| t.reason.clone())
        .collect();
    assert!(
        matches!(reasons[0], TransitionReason::Heartbeat { silent_ms } if silent_ms >= 30 * SEC)
    );
    assert_eq!(
        &h.recorder.states()[2..],
        &[
            SyncState::Lagging,
            SyncState::Replaying,
            SyncState::Streaming
        ]
    );
    drop(run);
    assert_converged(&h, &sync);
    assert_eq!(sync.tick().replay_count, 1);
}

#[test]
fn heartbeat_timeout_and_check_interval_are_configurable() {
    let mut h = Harness::new();
    populate(&h, 5);
    let mut sync = synchronizer(
        &h,
        SyncOptions {
            heartbeat_timeout_ms: 3 * SEC,
            heartbeat_check_ms: SEC,
            ..SyncOptions::default()
        },
    );
    run_for(&mut h, &mut sync, 12 * SEC);
    // A quiet stream shows no progress either: it is probed every ~3 s, and goes on.
    let probes: Vec<u64> = probes_since(&h, 0).iter().map(|c| c.at).collect();
    assert!(probes.len() >= 2, "{probes:?}");
    for pair in probes.windows(2) {
        assert!(
            (3 * SEC..=4 * SEC + 100).contains(&(pair[1] - pair[0])),
            "{pair:?}"
        );
    }
    assert!(transitions_to(&h, SyncState::Lagging).is_empty());
}

#[test]
fn an_ended_stream_is_caught_up_and_the_next_reconcile_removes_what_was_deleted_whole() {
    let mut h = Harness::new();
    populate(&h, 40);
    let mut sync = synchronizer(
        &h,
        SyncOptions {
            reconcile_interval_ms: 2 * MIN,
            ..catch_up_pages()
        },
    );
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * SEC);
    h.server.end_streams();
    h.server.stall(true);
    h.server
        .write(E, entity_id(2), model_state("ns-Player", 2, 22, 2));
    h.server.delete_entity(E, entity_id(5));
    h.server.stall(false);
    let calls = h.server.calls().len();
    advance(&mut h, &mut run, 5 * SEC);
    let lagging: Vec<TransitionReason> = h
        .recorder
        .transitions()
        .iter()
        .filter(|t| t.to == SyncState::Lagging)
        .map(|t| t.reason.clone())
        .collect();
    assert_eq!(lagging, vec![TransitionReason::StreamEnded]);
    assert_eq!(
        pages_read_since(&h, calls),
        1,
        "one page holds what changed"
    );
    let player = h.storage.record(E, &entity_id(2), "ns-Player").unwrap();
    assert_eq!(player.state, model_state("ns-Player", 2, 22, 2));
    // Deleted whole: no row shows it to a catch-up; the scheduled reconcile removes it.
    assert!(h.storage.record(E, &entity_id(5), "ns-Player").is_some());
    advance(&mut h, &mut run, 2 * MIN);
    drop(run);
    assert_converged(&h, &sync);
    assert!(h.storage.record(E, &entity_id(5), "ns-Player").is_none());
    assert_eq!(sync.tick().ledger.absent_deleted, 1);
}

#[test]
fn a_two_minute_outage_backs_off_exponentially_and_recovers() {
    let mut h = Harness::new();
    populate(&h, 30);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * SEC);
    let down_at = h.clock.now();
    h.server.set_down(true);
    let server = h.server.clone();
    h.after(2 * MIN, move || {
        server.write(E, entity_id(7), model_state("ns-Player", 7, 77, 2));
        server.set_down(false);
    });
    advance(&mut h, &mut run, 4 * MIN);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_converged(&h, &sync);
    // Attempts: version probes of the replay, one per backoff.
    let attempts: Vec<u64> = h
        .server
        .calls()
        .iter()
        .filter(|c| c.at >= down_at && c.at <= down_at + 2 * MIN)
        .filter(|c| c.kind == CallKind::Version)
        .map(|c| c.at)
        .collect();
    let config = BackoffConfig::default();
    for (i, pair) in attempts.windows(2).enumerate() {
        let (low, high) = Backoff::bounds(&config, i as u32 + 1);
        let gap = pair[1] - pair[0];
        assert!(
            (low..=high).contains(&gap),
            "gap {i}: {gap} not in {low}..={high}"
        );
    }
    // 2 + 4 + 8 + 16 + 32 + 60 + 60 > 120 s: at least 7 attempts, the later ones capped.
    assert!(attempts.len() >= 7, "{attempts:?}");
    let errors = h.recorder.errors();
    assert!(errors.iter().all(|e| e.kind == SyncErrorKind::Transient));
    assert!(errors.iter().all(|e| e.failed_passes == 0));
    let tick = sync.tick();
    assert_eq!(tick.failed_passes, 0);
    assert_eq!(tick.models[0].consecutive_failures, 0);
}

#[test]
fn backoff_delays_double_from_two_seconds_capped_at_a_minute_with_jitter() {
    let mut h = Harness::new();
    populate(&h, 3);
    h.server.set_down(true);
    let mut sync = synchronizer(&h, small_pages());
    run_for(&mut h, &mut sync, 3 * 60 * MIN);
    let retry: Vec<(u64, u64)> = h
        .recorder
        .errors()
        .iter()
        .map(|e| (e.at, e.retry_in_ms.unwrap()))
        .collect();
    let config = BackoffConfig::default();
    for (i, (_, delay)) in retry.iter().enumerate() {
        let (low, high) = Backoff::bounds(&config, i as u32 + 1);
        assert!((low..=high).contains(delay), "{i}: {delay}");
        assert!(*delay <= 60 * SEC);
    }
    assert!(retry.len() > 150, "hours of backoff: {}", retry.len());
    assert_eq!(sync.state(), SyncState::Offline);
    let tick = sync.tick();
    assert!(tick.models.is_empty() || tick.models[0].next_poll_in_ms <= 60 * SEC);
}

#[test]
fn the_retry_budget_halts_with_a_fatal_error_carrying_the_last_tick() {
    let mut h = Harness::new();
    populate(&h, 10);
    h.server.fail_next_of(CallKind::Subscribe, 10, false);
    let mut sync = synchronizer(&h, small_pages());
    let until = h.in_ms(10 * MIN);
    let outcome = h.sim.run_until(sync.run(), until);
    let SimOutcome::Done(Err(fatal)) = outcome else {
        panic!("expected a fatal error, got {outcome:?}");
    };
    assert!(matches!(
        fatal.reason,
        FatalReason::RetryBudgetExhausted { attempts: 3, .. }
    ));
    assert_eq!(fatal.last_tick.overall.state, SyncState::Halted);
    assert_eq!(fatal.last_tick.failed_passes, 3);
    assert_eq!(sync.state(), SyncState::Halted);
    let subscribes = h
        .server
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Subscribe)
        .count();
    assert_eq!(subscribes, 3, "never more attempts than the budget");
    assert_eq!(
        h.recorder.states(),
        vec![
            SyncState::Bootstrapping,
            SyncState::Retrying,
            SyncState::Bootstrapping,
            SyncState::Retrying,
            SyncState::Bootstrapping,
            SyncState::Halted
        ]
    );
    let json = serde_json::to_value(&fatal).unwrap();
    assert_eq!(json["reason"]["kind"], "retryBudgetExhausted");
    assert_eq!(json["lastTick"]["overall"]["state"], "halted");
}

#[test]
fn failure_counters_reset_after_a_success() {
    let mut h = Harness::new();
    populate(&h, 10);
    h.server.fail_next_of(CallKind::Subscribe, 2, false);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, MIN);
    let tick = h.recorder.last_tick().unwrap();
    assert_eq!(tick.overall.state, SyncState::Streaming);
    assert_eq!(tick.failed_passes, 0);
    // Two more failing replays later do not halt: the budget counts consecutive failures.
    h.server.fail_next_of(CallKind::Subscribe, 2, false);
    h.server.end_streams();
    let before = h.recorder.errors().len();
    advance(&mut h, &mut run, MIN);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    let errors = h.recorder.errors();
    let new: Vec<_> = errors[before..].iter().collect();
    assert_eq!(new.len(), 2);
    assert_eq!(new[0].failed_passes, 1);
    assert_eq!(new[0].consecutive_failures, 1);
    let (low, high) = Backoff::bounds(&BackoffConfig::default(), 1);
    assert!(
        (low..=high).contains(&new[0].retry_in_ms.unwrap()),
        "backoff starts over at 2 s"
    );
    assert_converged(&h, &sync);
}

#[test]
fn force_replay_resubscribes_and_re_pages() {
    let mut h = Harness::new();
    populate(&h, 25);
    let mut sync = synchronizer(&h, small_pages());
    let handle = sync.handle();
    h.after(3 * SEC, move || {
        handle.force_replay();
    });
    run_for(&mut h, &mut sync, 6 * SEC);
    assert_eq!(
        h.recorder.states(),
        vec![
            SyncState::Bootstrapping,
            SyncState::Streaming,
            SyncState::Replaying,
            SyncState::Streaming
        ]
    );
    let forced = &h.recorder.transitions()[2];
    assert_eq!(forced.reason, TransitionReason::Forced);
    let tick = sync.tick();
    assert_eq!(tick.replay_count, 1);
    assert!(tick.last_replay_duration_ms.is_some());
    // Unchanged rows are not written again.
    assert_eq!(tick.ledger.unchanged, 25 + 13);
    let subscribes = h
        .server
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Subscribe)
        .count();
    assert_eq!(subscribes, 2);
    assert_converged(&h, &sync);
}

#[test]
fn shutdown_stops_the_run() {
    let mut h = Harness::new();
    populate(&h, 5);
    let mut sync = synchronizer(&h, small_pages());
    let handle = sync.handle();
    h.after(3 * SEC, move || {
        handle.shutdown();
    });
    let until = h.in_ms(MIN);
    let outcome = h.sim.run_until(sync.run(), until);
    assert_eq!(outcome, SimOutcome::Done(Ok(())));
    assert_eq!(
        h.recorder.states(),
        vec![
            SyncState::Bootstrapping,
            SyncState::Streaming,
            SyncState::Pausing,
            SyncState::Idle
        ]
    );
    assert_eq!(h.server.subscription_count(), 0);
}

#[test]
fn a_torii_that_never_answers_at_start_is_offline_until_it_does() {
    let mut h = Harness::new();
    populate(&h, 20);
    // Every call takes longer than the request timeout: Torii accepts and never answers.
    h.server.set_latency(10 * MIN);
    let options = SyncOptions {
        request_timeout_ms: 3 * SEC,
        ..small_pages()
    };
    let mut sync = synchronizer(&h, options);
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 30 * SEC);
    assert_eq!(sync_state(&h), Some(SyncState::Offline));
    let errors = h.recorder.errors();
    assert!(errors.len() >= 2, "the probe is retried: {errors:?}");
    assert!(errors
        .iter()
        .all(|e| e.kind == SyncErrorKind::Transient && e.retry_in_ms.is_some()));
    h.server.set_latency(0);
    advance(&mut h, &mut run, 2 * MIN);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_eq!(
        h.recorder.states()[..2],
        [SyncState::Offline, SyncState::Bootstrapping]
    );
    assert_converged(&h, &sync);
}

/// The state the last transition reported.
fn sync_state(h: &Harness) -> Option<SyncState> {
    h.recorder.states().last().copied()
}

#[test]
fn shutdown_interrupts_a_backoff() {
    let mut h = Harness::new();
    h.server.set_down(true);
    let mut sync = synchronizer(&h, small_pages());
    let handle = sync.handle();
    h.after(MIN, move || {
        handle.shutdown();
    });
    let until = h.in_ms(10 * MIN);
    assert_eq!(h.sim.run_until(sync.run(), until), SimOutcome::Done(Ok(())));
    assert_eq!(sync.state(), SyncState::Idle);
}

#[test]
fn pause_and_resume() {
    let mut h = Harness::new();
    populate(&h, 12);
    let mut sync = synchronizer(&h, small_pages());
    let handle = sync.handle();
    let server = h.server.clone();
    let (pause, resume) = (handle.clone(), handle);
    h.after(2 * SEC, move || {
        pause.pause();
    });
    h.after(3 * SEC, move || {
        server.write(E, entity_id(1), model_state("ns-Player", 1, 5, 9));
    });
    h.after(2 * MIN, move || {
        resume.resume();
    });
    run_for(&mut h, &mut sync, 2 * MIN + 10 * SEC);
    assert_eq!(
        h.recorder.states(),
        vec![
            SyncState::Bootstrapping,
            SyncState::Streaming,
            SyncState::Pausing,
            SyncState::Replaying,
            SyncState::Streaming
        ]
    );
    assert_converged(&h, &sync);
}

#[test]
fn a_transient_page_failure_is_retried_within_the_pass() {
    let mut h = Harness::new();
    populate(&h, 50);
    let mut sync = synchronizer(&h, small_pages());
    h.server.fail_next_of(CallKind::Retrieve, 1, true);
    run_for(&mut h, &mut sync, 20 * SEC);
    assert_eq!(
        h.recorder.states(),
        vec![
            SyncState::Bootstrapping,
            SyncState::Offline,
            SyncState::Bootstrapping,
            SyncState::Streaming
        ]
    );
    assert_eq!(
        h.server
            .calls()
            .iter()
            .filter(|c| c.kind == CallKind::Subscribe)
            .count(),
        1,
        "the subscription survives the retry"
    );
    assert_converged(&h, &sync);
}

#[test]
fn a_stream_lost_during_a_bootstrap_resumes_from_the_cursor_then_closes_the_gap() {
    let mut h = Harness::new();
    populate(&h, 100);
    h.server.set_latency(50);
    let mut sync = synchronizer(&h, small_pages());
    let server = h.server.clone();
    h.after(300, move || {
        server.end_streams();
    });
    run_for(&mut h, &mut sync, MIN);
    let states = h.recorder.states();
    assert_eq!(
        states[..5],
        [
            SyncState::Bootstrapping,
            SyncState::Retrying,
            SyncState::Bootstrapping,
            SyncState::Replaying,
            SyncState::Streaming
        ]
    );
    let calls = h.server.calls();
    let second_subscribe = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == CallKind::Subscribe)
        .nth(1)
        .unwrap()
        .0;
    let resumed = calls[second_subscribe..]
        .iter()
        .find(|c| c.kind == CallKind::Retrieve)
        .unwrap();
    assert!(
        resumed.cursor.is_some(),
        "the bootstrap resumes from its cursor"
    );
    assert_converged(&h, &sync);
}

#[test]
fn a_restart_mid_snapshot_resumes_from_the_persisted_cursor() {
    let mut h = Harness::new();
    populate(&h, 100);
    let mut first = synchronizer(&h, small_pages());
    h.storage.crash_after_commits(4);
    let storage = Rc::clone(&h.storage);
    let until = h.in_ms(MIN);
    let outcome = h.sim.run_with(first.run(), until, || storage.crashed());
    assert_eq!(outcome, SimOutcome::Stopped);
    drop(first);
    let stored = h.storage.stored_sync_state(E).unwrap();
    assert!(!stored.snapshot_complete);
    assert_eq!(stored.pages_read, 4);
    let cursor = stored.cursor.clone().unwrap();
    h.storage.check_invariants(E).unwrap();
    assert_eq!(h.storage.model_count(E), 40 + 20);

    // Meanwhile the server changes (the restart gap).
    h.server
        .write(E, entity_id(99), model_state("ns-Player", 99, 1, 5));
    h.server.delete_entity(E, entity_id(98));
    h.storage.recover();
    h.recorder.clear();
    let calls_before = h.server.calls().len();
    let mut second = synchronizer(&h, small_pages());
    run_for(&mut h, &mut second, MIN);
    let transitions = h.recorder.transitions();
    assert_eq!(
        transitions[0].reason,
        TransitionReason::ResumeSnapshot { pages_read: 4 }
    );
    assert_eq!(
        h.recorder.states()[..3],
        [
            SyncState::Bootstrapping,
            SyncState::Replaying,
            SyncState::Streaming
        ]
    );
    assert_eq!(transitions[1].reason, TransitionReason::CloseRestartGap);
    let first_page = h.server.calls()[calls_before..]
        .iter()
        .find(|c| c.kind == CallKind::Retrieve)
        .cloned()
        .unwrap();
    assert_eq!(first_page.cursor, Some(cursor));
    assert_converged(&h, &second);
}

/// Asserts the recorded run restarted, replayed (or caught up) and streamed.
fn assert_restarted_then_streaming(h: &Harness) {
    assert_eq!(
        h.recorder.transitions()[0].reason,
        TransitionReason::Restarted
    );
    assert_eq!(
        h.recorder.states(),
        vec![SyncState::Replaying, SyncState::Streaming]
    );
}

/// Snapshot pages (not by id, not probes) served since `calls`.
fn pages_read_since(h: &Harness, calls: usize) -> usize {
    h.server.calls()[calls..]
        .iter()
        .filter(|c| c.kind == CallKind::Retrieve && c.ids == 0 && !is_probe(c))
        .count()
}

/// Whether a call is the heartbeat's probe: a one-row page from the start (the tests' pages
/// are larger).
fn is_probe(call: &CallRecord) -> bool {
    call.kind == CallKind::Retrieve && call.ids == 0 && call.limit == 1 && call.cursor.is_none()
}

/// Probes served since `calls`.
fn probes_since(h: &Harness, calls: usize) -> Vec<CallRecord> {
    h.server.calls()[calls..]
        .iter()
        .filter(|c| is_probe(c))
        .cloned()
        .collect()
}

fn catch_up_pages() -> SyncOptions {
    SyncOptions {
        catch_up_margin_s: 0,
        ..small_pages()
    }
}

#[test]
fn a_restart_catches_up_on_what_changed_while_closed_without_re_reading_the_snapshot() {
    let mut h = Harness::new();
    populate(&h, 60);
    let mut first = synchronizer(&h, catch_up_pages());
    run_for(&mut h, &mut first, 5 * SEC);
    drop(first);
    // While the client is closed: a change, a model deleted from a live entity, a new entity.
    h.server
        .write(E, entity_id(3), model_state("ns-Player", 3, 4, 5));
    h.server.delete(E, entity_id(8), "ns-Position");
    h.server
        .write(E, entity_id(500), model_state("ns-Player", 500, 1, 1));
    h.recorder.clear();
    let calls = h.server.calls().len();
    let mut second = synchronizer(&h, catch_up_pages());
    run_for(&mut h, &mut second, 5 * SEC);
    assert_restarted_then_streaming(&h);
    assert_eq!(
        pages_read_since(&h, calls),
        1,
        "one page of 6 holds what changed"
    );
    assert_converged(&h, &second);
}

/// A store synced with `options`, then entity 1 deleted whole while the client is closed.
/// Entity 1 has only a Player: deleting it removes the entity's row from Torii, so a catch-up
/// has nothing to show it by.
fn synced_then_deleted_whole_while_closed(options: &SyncOptions) -> Harness {
    let mut h = Harness::new();
    populate(&h, 20);
    let mut first = synchronizer(&h, options.clone());
    run_for(&mut h, &mut first, 5 * SEC);
    drop(first);
    h.server.delete(E, entity_id(1), "ns-Player");
    h.recorder.clear();
    h
}

#[test]
fn an_entity_deleted_whole_while_closed_is_removed_by_the_replay_that_follows_a_catch_up() {
    let options = SyncOptions {
        reconcile_after_catch_up_ms: 20 * SEC,
        ..catch_up_pages()
    };
    let mut h = synced_then_deleted_whole_while_closed(&options);
    let mut second = synchronizer(&h, options);
    let mut run = start(&mut second);
    advance(&mut h, &mut run, 5 * SEC);
    assert!(h.storage.record(E, &entity_id(1), "ns-Player").is_some());
    advance(&mut h, &mut run, 20 * SEC);
    drop(run);
    assert!(h.storage.record(E, &entity_id(1), "ns-Player").is_none());
    let reasons: Vec<_> = h
        .recorder
        .transitions()
        .into_iter()
        .map(|t| t.reason)
        .collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == TransitionReason::Reconcile)
            .count(),
        1,
        "one reconciling replay: {reasons:?}"
    );
    assert_converged(&h, &second);
}

#[test]
fn with_no_reconcile_a_catch_up_keeps_an_entity_deleted_whole_until_a_full_replay() {
    let options = SyncOptions {
        reconcile_after_catch_up_ms: 0,
        ..catch_up_pages()
    };
    let mut h = synced_then_deleted_whole_while_closed(&options);
    let mut second = synchronizer(&h, options);
    let handle = second.handle();
    let mut run = start(&mut second);
    advance(&mut h, &mut run, 25 * SEC);
    assert!(h.storage.record(E, &entity_id(1), "ns-Player").is_some());
    handle.force_replay();
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    assert!(h.storage.record(E, &entity_id(1), "ns-Player").is_none());
    assert_converged(&h, &second);
}

#[test]
fn a_restart_after_an_interrupted_replay_replays_everything() {
    let mut h = Harness::new();
    populate(&h, 60);
    let mut first = synchronizer(&h, catch_up_pages());
    let handle = first.handle();
    let mut run = start(&mut first);
    advance(&mut h, &mut run, 5 * SEC);
    // A replay that stores two pages, then the process dies.
    h.server
        .write(E, entity_id(3), model_state("ns-Player", 3, 4, 5));
    h.storage.crash_after_commits(2);
    handle.force_replay();
    // The run ends (halted: every later write fails) or not; either way the process dies.
    let until = h.in_ms(5 * SEC);
    let _ = h.sim.run_until(run.as_mut(), until);
    drop(run);
    drop(first);
    assert!(h.storage.crashed());
    assert!(h.storage.stored_sync_state(E).unwrap().cursor.is_some());
    h.storage.recover();
    let calls = h.server.calls().len();
    let mut second = synchronizer(&h, catch_up_pages());
    run_for(&mut h, &mut second, 5 * SEC);
    assert_eq!(pages_read_since(&h, calls), 6, "every page of 60 rows");
    assert_converged(&h, &second);
}

#[test]
fn a_restart_without_catch_up_replays_without_rewriting_unchanged_rows() {
    let mut h = Harness::new();
    populate(&h, 60);
    let full_replays = SyncOptions {
        catch_up_window_ms: 0,
        ..small_pages()
    };
    let mut first = synchronizer(&h, full_replays.clone());
    run_for(&mut h, &mut first, 5 * SEC);
    drop(first);
    h.server
        .write(E, entity_id(3), model_state("ns-Player", 3, 4, 5));
    h.recorder.clear();
    let commits = h.storage.commits();
    let mut second = synchronizer(&h, full_replays);
    run_for(&mut h, &mut second, 5 * SEC);
    assert_restarted_then_streaming(&h);
    let tick = second.tick();
    assert_eq!(tick.ledger.applied, 1, "only the changed row is written");
    assert_eq!(tick.ledger.unchanged, 60 + 30 - 1);
    // 6 pages + the completion carry the cursor; the changed row rides in one of them.
    assert_eq!(h.storage.commits() - commits, 7);
    assert_converged(&h, &second);
}

#[test]
fn a_stored_record_that_cannot_be_read_is_reported_and_read_again_from_torii() {
    let mut h = Harness::new();
    populate(&h, 20);
    let mut first = synchronizer(&h, small_pages());
    run_for(&mut h, &mut first, 5 * SEC);
    drop(first);
    h.storage.corrupt_record(E, entity_id(4), "ns-Player");
    h.recorder.clear();
    let mut second = synchronizer(&h, small_pages());
    run_for(&mut h, &mut second, 5 * SEC);
    let skipped: Vec<_> = h
        .recorder
        .errors()
        .into_iter()
        .filter(|e| e.kind == SyncErrorKind::BadRecord)
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].message.contains("stored record skipped"));
    assert!(skipped[0].message.contains("ns-Player"));
    // The replay after the restart wrote the lost state back.
    assert_eq!(second.tick().ledger.applied, 1);
    assert_converged(&h, &second);
}

#[test]
fn a_storage_failure_while_streaming_loses_the_stream_and_replays() {
    let mut h = Harness::new();
    populate(&h, 10);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * SEC);
    h.storage.fail_next_commits(1);
    h.server
        .write(E, entity_id(1), model_state("ns-Player", 1, 2, 3));
    advance(&mut h, &mut run, 5 * SEC);
    let lagging = h
        .recorder
        .transitions()
        .into_iter()
        .find(|t| t.to == SyncState::Lagging)
        .unwrap();
    assert!(matches!(
        lagging.reason,
        TransitionReason::StorageFailed { .. }
    ));
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_converged(&h, &sync);
}

#[test]
fn a_commit_fenced_by_another_writer_is_reported_as_lost_leadership() {
    let mut h = Harness::new();
    populate(&h, 10);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * SEC);
    h.recorder.clear();
    h.storage.fence_commits();
    h.server
        .write(E, entity_id(1), model_state("ns-Player", 1, 2, 3));
    advance(&mut h, &mut run, 2 * SEC);
    let errors = h.recorder.errors();
    assert_eq!(
        errors.first().map(|e| e.kind),
        Some(SyncErrorKind::LostLeadership),
        "{errors:?}"
    );
    assert!(
        errors.iter().all(|e| e.kind != SyncErrorKind::Storage),
        "{errors:?}"
    );
}

#[test]
fn a_version_change_at_start_is_for_the_host_to_decide() {
    let mut h = Harness::new();
    populate(&h, 5);
    let mut first = synchronizer(&h, small_pages());
    run_for(&mut h, &mut first, 2 * SEC);
    drop(first);
    h.server.restart(Some("1.9.0 (scripted)"));
    let mut second = synchronizer(&h, small_pages());
    let until = h.in_ms(MIN);
    let outcome = h.sim.run_until(second.run(), until);
    let SimOutcome::Done(Err(fatal)) = outcome else {
        panic!("{outcome:?}");
    };
    let FatalReason::Storage { error } = fatal.reason else {
        panic!("{:?}", fatal.reason);
    };
    assert!(matches!(
        error.kind,
        StorageErrorKind::ToriiVersionChanged { ref previous, ref current }
            if previous == "1.8.16 (scripted)" && current == "1.9.0 (scripted)"
    ));
}

#[test]
fn a_version_change_during_a_run_is_reported_and_syncing_goes_on() {
    let mut h = Harness::new();
    populate(&h, 5);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * SEC);
    h.server.restart(Some("1.9.0 (scripted)"));
    advance(&mut h, &mut run, 5 * SEC);
    assert!(h
        .recorder
        .errors()
        .iter()
        .any(|e| e.kind == SyncErrorKind::ToriiVersionChanged));
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_eq!(
        sync.tick().torii_version.as_deref(),
        Some("1.9.0 (scripted)")
    );
}

#[test]
fn an_overflowing_buffer_loses_the_stream_and_replays() {
    let mut h = Harness::new();
    populate(&h, 100);
    h.server.set_latency(50);
    h.server.set_buffer(8);
    let mut sync = synchronizer(
        &h,
        SyncOptions {
            page_size: 10,
            queue: QueueConfig {
                high_water: 4,
                low_water: 2,
            },
            ..SyncOptions::default()
        },
    );
    // A burst while the first pass pages: our buffer pauses at 4, Torii's overflows at 8.
    let server = h.server.clone();
    h.after(120, move || {
        for n in 0..30 {
            server.write(E, entity_id(n), model_state("ns-Player", n, 500, 2));
        }
    });
    run_for(&mut h, &mut sync, MIN);
    // The pass completes; the stream Torii dropped ends after what it had buffered, and is
    // replayed.
    let lost = h
        .recorder
        .transitions()
        .into_iter()
        .find(|t| t.to == SyncState::Lagging)
        .unwrap();
    assert_eq!(lost.reason, TransitionReason::StreamEnded);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_converged(&h, &sync);
}

#[test]
fn an_entity_whose_stream_update_is_rejected_is_read_again_by_id() {
    let mut h = Harness::new();
    populate(&h, 20);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 5 * SEC);
    // Torii holds a newer state of entity 3, but its update reaches the client unreadable.
    h.server.stall(true);
    h.server
        .write(E, entity_id(3), model_state("ns-Player", 3, 9, 9));
    h.server.stall(false);
    let calls = h.server.calls().len();
    h.server.inject(
        E,
        Err(
            dojo_reactive_core::sync::TransportError::bad_record("u32 sent as u64")
                .about(entity_id(3)),
        ),
    );
    advance(&mut h, &mut run, SEC);
    let by_id = h.server.calls()[calls..]
        .iter()
        .filter(|c| c.kind == CallKind::Retrieve && c.ids == 1)
        .count();
    assert_eq!(by_id, 1, "entity 3 was read again by id");
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming, "no replay was needed");
    assert_converged(&h, &sync);
}

#[test]
fn bad_records_are_skipped_and_reported_never_stored() {
    let mut h = Harness::new();
    populate(&h, 20);
    h.server.reject_next_rows(2);
    let mut sync = synchronizer(&h, small_pages());
    let handle = sync.handle();
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 5 * SEC);
    let bad = h
        .recorder
        .errors()
        .iter()
        .filter(|e| e.kind == SyncErrorKind::BadRecord)
        .count();
    assert_eq!(bad, 2);
    assert_eq!(h.recorder.last_tick().unwrap().rejected_records, 2);
    h.storage.check_invariants(E).unwrap();
    // The two rejected entities are missing until a replay reads them cleanly.
    assert_eq!(h.recorder.last_tick().unwrap().ledger.held, 30 - 3);
    h.server.inject(
        E,
        Err(dojo_reactive_core::sync::TransportError::bad_record(
            "u32 sent as u64",
        )),
    );
    advance(&mut h, &mut run, 3 * SEC);
    let tick = h.recorder.last_tick().unwrap();
    assert_eq!(tick.rejected_records, 3);
    assert_eq!(tick.overall.state, SyncState::Streaming);
    handle.force_replay();
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    assert_converged(&h, &sync);
}

#[test]
fn ticks_have_the_plans_shape_in_camel_case() {
    let mut h = Harness::new();
    populate(&h, 10);
    let mut sync = synchronizer(&h, small_pages());
    run_for(&mut h, &mut sync, 10 * SEC);
    let ticks = h.recorder.ticks();
    // One per transition, one every 2 s.
    assert!(ticks.len() >= 2 + 4, "{}", ticks.len());
    let json = serde_json::to_value(ticks.last().unwrap()).unwrap();
    for key in [
        "clock",
        "overall",
        "models",
        "queueDepth",
        "ledger",
        "replayCount",
        "connection",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in ["state", "lastSyncedAt", "lagMs", "pendingOverlayCount"] {
        assert!(json["overall"].get(key).is_some(), "overall.{key}");
    }
    let model = &json["models"][0];
    for key in [
        "model",
        "status",
        "lastTimestamp",
        "lastBatchSize",
        "consecutiveFailures",
        "nextPollInMs",
        "throughputPerSec",
    ] {
        assert!(model.get(key).is_some(), "models[].{key}");
    }
    assert_eq!(json["overall"]["state"], "streaming");
    assert_eq!(model["status"], "streaming");
    for key in ["applied", "staleDropped", "superseded"] {
        assert!(json["ledger"].get(key).is_some(), "ledger.{key}");
    }
    assert_eq!(json["target"], "entities");
}

#[test]
fn entities_and_event_messages_sync_side_by_side_with_their_own_ledgers() {
    let mut h = Harness::new();
    populate(&h, 30);
    for n in 0..12 {
        h.server.write(
            TargetKind::EventMessages,
            entity_id(1_000 + n),
            model_state("ns-Moved", n, n as u32, 1),
        );
    }
    let mut entities = synchronizer(&h, small_pages());
    let mut setup = test_setup(SyncTarget::event_messages());
    setup.options = small_pages();
    let mut events = h.synchronizer(setup);
    let server = h.server.clone();
    h.after(2 * SEC, move || {
        server.write(
            TargetKind::EventMessages,
            entity_id(1_001),
            model_state("ns-Moved", 1, 9, 2),
        );
        server.end_streams();
    });
    let until = h.in_ms(10 * SEC);
    let both = async { futures_util::future::join(entities.run(), events.run()).await };
    assert_eq!(h.sim.run_until(both, until), SimOutcome::TimeLimit);
    assert_eq!(entities.state(), SyncState::Streaming);
    assert_eq!(events.state(), SyncState::Streaming);
    assert_converged(&h, &entities);
    let messages = SyncTarget::event_messages();
    assert_eq!(
        h.storage.world_json(TargetKind::EventMessages),
        h.server.world_json(&messages)
    );
    h.storage
        .check_matches(
            TargetKind::EventMessages,
            &events.ledger_entries(),
            events.held_states(),
            |r| events.holds(r),
        )
        .unwrap();
    assert_eq!(events.ledger().len(), 12);
    assert_eq!(entities.ledger().len(), 45);
}

#[test]
fn a_target_restricted_to_some_models_stores_only_those() {
    let mut h = Harness::new();
    populate(&h, 20);
    let mut setup = test_setup(SyncTarget::entities().with_models(["ns-Position"]));
    setup.options = small_pages();
    let target = setup.target.clone();
    let mut sync = h.synchronizer(setup);
    let server = h.server.clone();
    h.after(2 * SEC, move || {
        server.write(E, entity_id(1), model_state("ns-Player", 1, 5, 5));
        server.write(E, entity_id(1), model_state("ns-Position", 1, 5, 5));
    });
    run_for(&mut h, &mut sync, 5 * SEC);
    assert_eq!(h.storage.world_json(E), h.server.world_json(&target));
    assert_eq!(h.storage.model_count(E), 11);
    let tick = sync.tick();
    assert_eq!(tick.models.len(), 1);
    assert_eq!(tick.models[0].model, "ns-Position");
}

#[test]
fn configured_version_members_reach_the_ledger() {
    use dojo_reactive_core::{Manifest, ModelSyncSpec, SyncConfig};
    let member =
        |name: &str, ty: &str, key: bool| serde_json::json!({"name": name, "type": ty, "key": key});
    let manifest = Manifest::from_json(&serde_json::json!({
        "world": { "class_hash": format!("0x{:064x}", 1), "address": format!("0x{:064x}", 2) },
        "models": [{
            "tag": "ns-Player",
            "class_hash": format!("0x{:064x}", 3),
            "members": [member("key", "u64", true), member("value", "u32", false), member("version", "u64", false)],
        }],
        "events": [],
    }))
    .unwrap();
    let config = SyncConfig::new(
        &manifest,
        [ModelSyncSpec::with_version("ns-Player", "version")],
    )
    .unwrap();
    let mut h = Harness::new();
    h.server
        .write(E, entity_id(1), model_state("ns-Player", 1, 1, 5));
    let mut setup = test_setup(SyncTarget::entities().with_models(["ns-Player"]));
    setup.config = config;
    setup.options = small_pages();
    let mut sync = h.synchronizer(setup);
    let server = h.server.clone();
    h.after(2 * SEC, move || {
        server.write(E, entity_id(1), model_state("ns-Player", 1, 2, 6));
    });
    run_for(&mut h, &mut sync, 5 * SEC);
    let model = sync.ledger().find_model("ns-Player").unwrap();
    let held = sync.ledger().get(&entity_id(1), model).unwrap();
    assert_eq!(
        held.game,
        Some(dojo_reactive_core::Primitive::U64(6)),
        "the game member is part of the held version"
    );
    assert_eq!(sync.ledger().stats().missing_version_member, 0);
    assert_converged(&h, &sync);
}

#[test]
fn a_stopped_synchronizer_runs_again_from_storage() {
    let mut h = Harness::new();
    populate(&h, 8);
    let mut sync = synchronizer(&h, small_pages());
    let handle = sync.handle();
    let first = handle.clone();
    h.after(2 * SEC, move || {
        first.shutdown();
    });
    let until = h.in_ms(MIN);
    assert_eq!(h.sim.run_until(sync.run(), until), SimOutcome::Done(Ok(())));
    // A command sent while nothing runs is for a run that is over.
    handle.shutdown();
    h.recorder.clear();
    run_for(&mut h, &mut sync, 5 * SEC);
    assert_eq!(
        h.recorder.transitions()[0].reason,
        TransitionReason::Restarted
    );
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_converged(&h, &sync);
}

// ----- quiet streams, dead streams, stall replays and the reconcile schedule -----

/// Calls served since `calls` other than probes.
fn non_probe_calls_since(h: &Harness, calls: usize) -> Vec<CallRecord> {
    h.server.calls()[calls..]
        .iter()
        .filter(|c| !is_probe(c))
        .cloned()
        .collect()
}

#[test]
fn a_quiet_stream_over_many_heartbeat_periods_is_only_probed() {
    let mut h = Harness::new();
    populate(&h, 100);
    let mut sync = synchronizer(&h, small_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 5 * SEC);
    let calls = h.server.calls().len();
    h.recorder.clear();
    advance(&mut h, &mut run, 10 * MIN);
    drop(run);
    assert_eq!(non_probe_calls_since(&h, calls), Vec::new());
    let probes = probes_since(&h, calls);
    // One every heartbeat timeout (30 s, checked every 5 s).
    assert!((17..=20).contains(&probes.len()), "{} probes", probes.len());
    assert!(probes.iter().all(|p| p.rows == 1));
    assert_eq!(h.recorder.states(), Vec::new(), "no transition");
    assert_eq!(sync.tick().replay_count, 0);
    assert_converged(&h, &sync);
}

#[test]
fn an_update_the_stream_missed_is_found_by_the_probe_and_fetched_alone() {
    let mut h = Harness::new();
    populate(&h, 100);
    let mut sync = synchronizer(&h, catch_up_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 5 * SEC);
    // The stream stays open but loses this update.
    h.server.stall(true);
    h.server
        .write(E, entity_id(7), model_state("ns-Player", 7, 77, 2));
    h.server.stall(false);
    let calls = h.server.calls().len();
    advance(&mut h, &mut run, 40 * SEC);
    drop(run);
    let lagging = h
        .recorder
        .transitions()
        .into_iter()
        .find(|t| t.to == SyncState::Lagging)
        .unwrap();
    assert!(matches!(lagging.reason, TransitionReason::Heartbeat { .. }));
    let fetched: Vec<(CallKind, usize)> = non_probe_calls_since(&h, calls)
        .iter()
        .map(|c| (c.kind, c.rows))
        .collect();
    // Re-subscribed, then one page (of 10 rows, the changed one first) instead of 10 pages.
    assert_eq!(
        fetched,
        vec![
            (CallKind::Version, 0),
            (CallKind::Subscribe, 0),
            (CallKind::Retrieve, 10)
        ]
    );
    let player = h.storage.record(E, &entity_id(7), "ns-Player").unwrap();
    assert_eq!(player.state, model_state("ns-Player", 7, 77, 2));
    assert_converged(&h, &sync);
}

#[test]
fn a_stall_replay_reads_only_the_rows_changed_since_the_last_one_seen() {
    let mut h = Harness::new();
    populate(&h, 100);
    let mut sync = synchronizer(&h, catch_up_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 5 * SEC);
    h.server.end_streams();
    h.server.stall(true);
    for n in [3, 4, 5] {
        h.server
            .write(E, entity_id(n), model_state("ns-Player", n, 9, 2));
    }
    h.server.stall(false);
    let calls = h.server.calls().len();
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    assert_eq!(
        h.recorder.transitions().last().unwrap().to,
        SyncState::Streaming
    );
    assert_eq!(
        pages_read_since(&h, calls),
        1,
        "not the 10 pages of a replay"
    );
    assert_converged(&h, &sync);
}

#[test]
fn the_reconcile_schedule_runs_a_full_pass_that_removes_an_entity_deleted_whole() {
    let mut h = Harness::new();
    populate(&h, 30);
    let mut sync = synchronizer(
        &h,
        SyncOptions {
            reconcile_interval_ms: 5 * MIN,
            ..small_pages()
        },
    );
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 5 * SEC);
    // Deleted whole while the stream lost it: no row is left for a probe to see.
    h.server.stall(true);
    h.server.delete(E, entity_id(1), "ns-Player");
    h.server.stall(false);
    let calls = h.server.calls().len();
    advance(&mut h, &mut run, 4 * MIN);
    assert!(h.storage.record(E, &entity_id(1), "ns-Player").is_some());
    assert_eq!(pages_read_since(&h, calls), 0);
    advance(&mut h, &mut run, MIN + 5 * SEC);
    drop(run);
    let reconciles = h
        .recorder
        .transitions()
        .into_iter()
        .filter(|t| t.reason == TransitionReason::Reconcile)
        .count();
    assert_eq!(reconciles, 1);
    assert_eq!(pages_read_since(&h, calls), 3, "a full pass over 30 rows");
    assert!(h.storage.record(E, &entity_id(1), "ns-Player").is_none());
    assert_converged(&h, &sync);
}

#[test]
fn a_stream_that_died_silently_is_noticed_within_a_minute() {
    let mut h = Harness::new();
    populate(&h, 50);
    let mut sync = synchronizer(&h, catch_up_pages());
    let mut run = start(&mut sync);
    advance(&mut h, &mut run, 2 * MIN);
    // The worst moment: just after a probe found the quiet stream alive.
    let probes = probes_since(&h, 0).len();
    while probes_since(&h, 0).len() == probes {
        advance(&mut h, &mut run, 100);
    }
    h.server.stall(true);
    h.server
        .write(E, entity_id(9), model_state("ns-Player", 9, 99, 2));
    let died_at = h.clock.now();
    advance(&mut h, &mut run, MIN);
    let lagging = transitions_to(&h, SyncState::Lagging);
    assert_eq!(lagging.len(), 1);
    let noticed_after = lagging[0] - died_at;
    assert!(noticed_after <= MIN, "noticed after {noticed_after} ms");
    // Re-subscribed: the new stream delivers.
    h.server.stall(false);
    h.server
        .write(E, entity_id(9), model_state("ns-Player", 9, 100, 3));
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    assert_eq!(transitions_to(&h, SyncState::Lagging).len(), 1);
    assert_converged(&h, &sync);
}
