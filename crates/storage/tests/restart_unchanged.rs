//! A restart over the real store (memory backend) whose first pass re-reads a world that did
//! not change writes no model state: the stored states, fingerprinted by storage as it read
//! them at start-up, compare equal to the rows Torii sends (the synchronizer and the store
//! agree on the fingerprint function).

#![cfg(not(target_arch = "wasm32"))]

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use dojo_reactive_core::sync::testing::{entity_id, model_state, test_setup, Harness, SimOutcome};
use dojo_reactive_core::sync::{
    SyncFatalError, SyncOptions, SyncTarget, Synchronizer, TargetKind, TargetScope,
};
use dojo_reactive_storage::{MemoryBackend, Storage, TargetStats};

const E: TargetKind = TargetKind::Entities;
const PLAYER: &str = "ns-Player";
const WORLD: u64 = 300;

type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SyncFatalError>> + 'a>>;

/// Runs a synchronizer of every entity over a new connection to `backend` for 30 virtual
/// seconds; what is stored then.
fn sync_for_30_s(h: &mut Harness, backend: &MemoryBackend) -> TargetStats {
    let storage = Rc::new(Storage::new(backend.connect()));
    let every_player = TargetScope {
        id: "players".into(),
        models: vec![PLAYER.into()],
        clause: None,
    };
    let mut setup = test_setup(SyncTarget::of(E, vec![every_player]));
    setup.options = SyncOptions {
        // A restart re-reads the whole world (a replay, not a catch-up).
        catch_up_window_ms: 0,
        ..SyncOptions::default()
    };
    let mut sync = Synchronizer::new(
        h.server.clone(),
        Rc::clone(&storage),
        h.clock.clone(),
        setup,
    );
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    let until = h.in_ms(30_000);
    assert_eq!(h.sim.run_until(run.as_mut(), until), SimOutcome::TimeLimit);
    drop(run);
    storage.stats(E).expect("stored")
}

#[test]
fn a_restart_over_an_unchanged_world_writes_no_state() {
    let mut h = Harness::new();
    for n in 0..WORLD {
        h.server
            .write(E, entity_id(n), model_state(PLAYER, n, n as u32, 1));
    }
    let backend = MemoryBackend::new();
    let first = sync_for_30_s(&mut h, &backend);
    assert_eq!(first.states as u64, WORLD);

    let again = sync_for_30_s(&mut h, &backend);
    assert_eq!(again.states as u64, WORLD);
    assert_eq!(
        (again.deltas, again.pages),
        (first.deltas, first.pages),
        "the replay after the restart stored no segment: every row compared equal"
    );
}
