//! A restart over the real store (memory backend) whose first pass re-reads a world that did
//! not change writes no model state: the stored states, fingerprinted by storage as it read
//! them at start-up, compare equal to the rows Torii sends (the synchronizer and the store
//! agree on the fingerprint function).

#![cfg(not(target_arch = "wasm32"))]

mod one_model;

use std::rc::Rc;

use dojo_reactive_core::sync::testing::{entity_id, model_state, Harness};
use dojo_reactive_core::sync::{SyncOptions, TargetKind};
use dojo_reactive_storage::{MemoryBackend, Storage, TargetStats};

const E: TargetKind = TargetKind::Entities;
const PLAYER: &str = "ns-Player";
const WORLD: u64 = 300;

/// Runs a synchronizer of every entity over a new connection to `backend` for 30 virtual
/// seconds; what is stored then.
fn sync_for_30_s(h: &mut Harness, backend: &MemoryBackend) -> TargetStats {
    let storage = Rc::new(Storage::new(backend.connect()));
    // A restart re-reads the whole world (a replay, not a catch-up).
    let options = SyncOptions {
        catch_up_window_ms: 0,
        ..SyncOptions::default()
    };
    one_model::sync_for_30_s(h, &storage, PLAYER, Some(options), || {});
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
