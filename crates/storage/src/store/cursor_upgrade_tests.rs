//! A database written before each sync target had its own resume cursor (sync state format 2)
//! keeps working: its complete targets take the kind's cursor, the restart catches up from it
//! (no target is paged again), and the state is written back with a cursor per target.

use std::rc::Rc;

use dojo_reactive_core::sync::testing::{entity_id, model_state, test_setup, Harness, SimOutcome};
use dojo_reactive_core::sync::{StorageAdapter, TargetScope};
use dojo_reactive_core::sync::{SyncOptions, SyncState, SyncTarget, Synchronizer, TargetKind};
use dojo_reactive_core::Clause;
use futures_executor::block_on;

use crate::backend::{Backend, RecordKey, WriteOp};
use crate::codec::sync_state::encode_format_2;
use crate::{MemoryBackend, Storage};

const E: TargetKind = TargetKind::Entities;
const PLAYER: &str = "ns-Player";

fn scopes() -> Vec<TargetScope> {
    vec![
        TargetScope::whole("players", [PLAYER]),
        TargetScope {
            id: "mine".into(),
            models: vec![PLAYER.into()],
            clause: Some(Clause::HashedKeys(vec![entity_id(3)])),
        },
    ]
}

fn run_for(h: &mut Harness, storage: &Rc<Storage<MemoryBackend>>, ms: u64) -> SyncState {
    let mut setup = test_setup(SyncTarget::of(E, scopes()));
    setup.options = SyncOptions {
        page_size: 4,
        catch_up_margin_s: 0,
        ..SyncOptions::default()
    };
    let mut sync = Synchronizer::new(h.server.clone(), Rc::clone(storage), h.clock.clone(), setup);
    let until = h.in_ms(ms);
    let outcome = h.sim.run_until(Box::pin(sync.run()), until);
    assert_eq!(outcome, SimOutcome::TimeLimit);
    sync.state()
}

#[test]
fn a_store_written_before_target_cursors_catches_up_from_the_kind_cursor() {
    let mut h = Harness::new();
    h.server.set_writes_per_second(1);
    for n in 0..20 {
        h.server
            .write(E, entity_id(n), model_state(PLAYER, n, n as u32, 1));
    }
    let backend = MemoryBackend::new();
    let storage = Rc::new(Storage::new(backend.connect()));
    assert_eq!(run_for(&mut h, &storage, 3_000), SyncState::Streaming);
    // The sync state as the previous version stored it.
    let state = block_on(StorageAdapter::sync_state(&*storage, E))
        .unwrap()
        .unwrap();
    let newest = state.last_timestamp;
    assert!(newest.is_some());
    let old = encode_format_2(&state);
    block_on(
        storage
            .backend()
            .write(vec![WriteOp::Put(RecordKey::SyncState(E), old)]),
    )
    .unwrap();
    let read = block_on(StorageAdapter::sync_state(&*storage, E))
        .unwrap()
        .unwrap();
    assert!(read.scopes.iter().all(|s| s.complete && s.since == newest));
    // Written while the page was closed: the catch-up reads it, and only the newest rows.
    h.server
        .write(E, entity_id(3), model_state(PLAYER, 3, 300, 2));
    let calls = h.server.calls().len();
    let reopened = Rc::new(Storage::new(backend.connect()));
    assert_eq!(run_for(&mut h, &reopened, 3_000), SyncState::Streaming);
    let rows: usize = h.server.calls()[calls..]
        .iter()
        .filter(|c| c.limit > 1 && c.ids == 0)
        .map(|c| c.rows)
        .sum();
    assert!(
        rows <= 4,
        "a catch-up of one page, not a re-page: {rows} rows"
    );
    let loaded = block_on(reopened.load(E)).unwrap();
    let held = loaded
        .models
        .iter()
        .find(|r| r.entity() == &entity_id(3))
        .and_then(|r| r.get().cloned())
        .unwrap();
    let server = h.server.world(E).entities[&entity_id(3)].models[PLAYER].updated_at;
    assert_eq!(held.updated_at, server);
    let state = loaded.sync_state.unwrap();
    assert!(state.last_timestamp > newest);
    assert!(state
        .scopes
        .iter()
        .all(|s| s.complete && s.since == state.last_timestamp));
}
