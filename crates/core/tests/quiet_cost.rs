//! What a quiet stream costs: ten quiet minutes over a 100,000-entity world, with the default
//! options, in rows and requests served, against one snapshot (the figure recorded in
//! `benches/README.md`; printed as `QUIET-COST`).

use std::future::Future;
use std::pin::Pin;

use dojo_reactive_core::sync::testing::{
    entity_id, model_state, test_setup, CallKind, CallRecord, Harness, SimOutcome,
};
use dojo_reactive_core::sync::{SyncFatalError, SyncState, SyncTarget, TargetKind};

const E: TargetKind = TargetKind::Entities;
const ENTITIES: u64 = 100_000;
const MIN: u64 = 60_000;

type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SyncFatalError>> + 'a>>;

fn rows_served(calls: &[CallRecord]) -> usize {
    calls
        .iter()
        .filter(|c| c.kind == CallKind::Retrieve)
        .map(|c| c.rows)
        .sum()
}

#[test]
fn ten_quiet_minutes_over_100000_entities_cost_under_one_percent_of_a_snapshot() {
    let mut h = Harness::new();
    for n in 0..ENTITIES {
        h.server
            .write(E, entity_id(n), model_state("ns-Player", n, n as u32, 1));
    }
    let mut sync = h.synchronizer(test_setup(SyncTarget::entities()));
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    let until = h.in_ms(MIN);
    let recorder = h.recorder.clone();
    let streaming = move || recorder.states().contains(&SyncState::Streaming);
    assert_eq!(
        h.sim.run_with(run.as_mut(), until, streaming),
        SimOutcome::Stopped
    );
    let snapshot = h.server.calls();
    let snapshot_rows = rows_served(&snapshot);
    assert_eq!(snapshot_rows, ENTITIES as usize);
    let until = h.in_ms(10 * MIN);
    assert_eq!(h.sim.run_until(run.as_mut(), until), SimOutcome::TimeLimit);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    let quiet = &h.server.calls()[snapshot.len()..];
    let quiet_rows = rows_served(quiet);
    println!(
        "QUIET-COST entities={ENTITIES} snapshot_rows={snapshot_rows} snapshot_requests={} \
         quiet_minutes=10 quiet_rows={quiet_rows} quiet_requests={} ratio={:.4}%",
        snapshot.len(),
        quiet.len(),
        quiet_rows as f64 * 100.0 / snapshot_rows as f64
    );
    assert!(
        quiet_rows * 100 < snapshot_rows,
        "{quiet_rows} rows in ten quiet minutes"
    );
}
