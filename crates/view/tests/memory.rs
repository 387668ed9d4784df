//! What the replica holds per model state, counted by a global allocator over 20,000
//! `arena-Player` states (the bench world's model: keys, integers, an enum, a nested struct, a
//! `ByteArray`): a guard on the view's share of issue 13's memory goal (≤ 1.5 KB of renderer
//! memory per entity). Native, 64-bit: wasm32's pointers and `usize`s are half as wide, so the
//! browser's figure per state is lower. Run with `--nocapture` to see the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use dojo_reactive_core::sync::testing::bench_world::{entity, player_state};
use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::Felt;
use dojo_reactive_storage::StateChange;
use dojo_reactive_view::replica::Replica;

/// Bytes allocated and not freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const STATES: u64 = 20_000;

fn delta(from: u64, to: u64, round: u64) -> Vec<StateChange> {
    (from..to)
        .map(|i| {
            StateChange::Upsert(ModelRecord {
                entity: entity(i),
                world_address: Felt::ZERO,
                state: player_state(i + round),
                created_at: 1,
                updated_at: 2 + round,
                executed_at: 3,
            })
        })
        .collect()
}

#[test]
fn a_synced_state_costs_the_replica_under_240_bytes() {
    let before = LIVE.load(Ordering::Relaxed);
    let mut replica = Replica::new();
    for from in (0..STATES).step_by(1_000) {
        replica.apply(TargetKind::Entities, delta(from, from + 1_000, 0));
    }
    let held = LIVE.load(Ordering::Relaxed) - before;
    let per_state = held as f64 / STATES as f64;
    let packed = replica.packed_bytes() as f64 / STATES as f64;
    println!(
        "replica after sync: {per_state:.0} B per state (packed bytes {packed:.0} B, the rest \
         slots, id maps and the arena's free tail)"
    );
    // Rewrites of every state: garbage is compacted; what is held stays of the same order.
    for round in 1..=3 {
        for from in (0..STATES).step_by(1_000) {
            replica.apply(TargetKind::Entities, delta(from, from + 1_000, round));
        }
    }
    let rewritten = (LIVE.load(Ordering::Relaxed) - before) as f64 / STATES as f64;
    println!("replica after 3 rewrites of every state: {rewritten:.0} B per state");
    assert_eq!(replica.len(), STATES as usize);
    // Measured 2026-12-07: 105 packed bytes and 208 B per state, 313 B after the rewrites
    // (before names were indices, slots paged and ids held once: 169, 469 and 639 B).
    assert!(packed < 120.0, "{packed:.0} packed bytes per state");
    assert!(per_state < 240.0, "{per_state:.0} B per state");
    assert!(rewritten < 360.0, "{rewritten:.0} B per state");
}
