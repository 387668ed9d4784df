//! State-machine tests of the synchronizer in virtual time: every transition, backoff timings,
//! the retry budget, commands and restarts.

use dojo_reactive_core::sync::testing::{
    entity_id, model_state, test_setup, CallKind, Harness, SimOutcome, TestSynchronizer,
};
use dojo_reactive_core::sync::{
    ConnectionState, FatalReason, SyncOptions, SyncState, SyncTarget, TargetKind, TransitionReason,
};

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
        .check_matches(E, &sync.ledger_entries(), sync.records())
        .unwrap();
}

fn run_for(h: &mut Harness, sync: &mut TestSynchronizer, ms: u64) {
    let until = h.in_ms(ms);
    let outcome = h.sim.run_until(sync.run(), until);
    assert_eq!(outcome, SimOutcome::TimeLimit);
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
