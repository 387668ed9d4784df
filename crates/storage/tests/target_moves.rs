//! A region target moved again and again over the real store (memory backend): what no target
//! covers any more leaves storage for good (its states, its ledger versions and, by
//! compaction, their bytes), and a move holds little more memory than the regions it touches.
//! The native reproduction of the 1,000,000-entity scale bench's moves (benches/README.md).

#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dojo_reactive_core::sync::testing::{entity_id, model_state, test_setup, Harness, SimOutcome};
use dojo_reactive_core::sync::{
    Retention, SyncFatalError, SyncOptions, SyncTarget, Synchronizer, TargetKind, TargetScope,
};
use dojo_reactive_core::{Clause, ComparisonOperator, CompositeClause, LogicalOperator};
use dojo_reactive_core::{MemberClause, MemberValue, Primitive};
use dojo_reactive_storage::{MemoryBackend, Storage};

/// Counts the bytes allocated now and the most allocated at once since the last reset.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Held by each test: the counters are global, so the tests measure one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const E: TargetKind = TargetKind::Entities;
const PLAYER: &str = "ns-Player";
/// Entities in the world.
const WORLD: u64 = 24_000;
/// Entities in the region.
const REGION: u64 = 2_000;
/// Moves: alternately a pan (a quarter of the region) and a jump (to a disjoint region).
const MOVES: usize = 8;

type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SyncFatalError>> + 'a>>;

/// Players whose key is in `lo..lo + REGION`.
fn region(lo: u64) -> TargetScope {
    keys_in(lo, REGION)
}

/// Players whose key is in `lo..lo + len`.
fn keys_in(lo: u64, len: u64) -> TargetScope {
    let bound = |operator, value: u64| {
        Clause::Member(MemberClause {
            model: PLAYER.into(),
            member: "key".into(),
            operator,
            value: MemberValue::Primitive(Primitive::U64(value)),
        })
    };
    TargetScope {
        id: "region".into(),
        models: vec![PLAYER.into()],
        clause: Some(Clause::Composite(CompositeClause {
            operator: LogicalOperator::And,
            clauses: vec![
                bound(ComparisonOperator::Gte, lo),
                bound(ComparisonOperator::Lt, lo + len),
            ],
        })),
    }
}

fn advance(h: &mut Harness, run: &mut RunFuture<'_>, ms: u64) {
    let until = h.in_ms(ms);
    assert_eq!(h.sim.run_until(run.as_mut(), until), SimOutcome::TimeLimit);
}

#[test]
fn a_moved_region_leaves_storage_and_a_move_holds_little_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = Harness::new();
    for n in 0..WORLD {
        h.server
            .write(E, entity_id(n), model_state(PLAYER, n, n as u32, 1));
    }
    let backend = MemoryBackend::new();
    let storage = Rc::new(Storage::new(backend.connect()));
    let mut setup = test_setup(SyncTarget::of(E, vec![region(0)]));
    setup.options = SyncOptions {
        retention: Retention::Drop,
        ..SyncOptions::default()
    };
    let mut sync = Synchronizer::new(
        h.server.clone(),
        Rc::clone(&storage),
        h.clock.clone(),
        setup,
    );
    let handle = sync.handle();
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 30_000);
    let stats = storage.stats(E).expect("stored");
    assert_eq!(stats.states as u64, REGION);
    let one_region = backend.stored_bytes();

    let mut lo = 0;
    let mut peaks = Vec::new();
    for k in 0..MOVES {
        lo += if k % 2 == 0 { REGION / 4 } else { 2 * REGION };
        let before = NOW.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        assert!(handle.retarget(vec![region(lo)]));
        advance(&mut h, &mut run, 30_000);
        peaks.push(PEAK.load(Ordering::Relaxed).saturating_sub(before));
        let stats = storage.stats(E).expect("stored");
        assert_eq!(stats.states as u64, REGION, "move {k}: the region is held");
        eprintln!(
            "move {k}: states {} versions {} segments {}+{} bytes {} (backend {}), peak +{} B",
            stats.states,
            stats.versions,
            stats.deltas,
            stats.pages,
            stats.bytes,
            backend.stored_bytes(),
            peaks[k],
        );
    }
    drop(run);
    let stored = backend.stored_bytes();
    let peak = peaks.iter().copied().max().unwrap_or(0);
    eprintln!(
        "one region {one_region} B; after {MOVES} moves {stored} B; largest move peak +{peak} B"
    );
    let stats = storage.stats(E).expect("stored");
    assert_eq!(
        stats.versions as u64, REGION,
        "the versions of what left are forgotten in storage too"
    );
    assert!(
        stored <= 3 * one_region,
        "after {MOVES} moves the store holds {stored} B, one region {one_region} B"
    );
    // A pan and a jump hold what they hold whatever came before: nothing left behind by the
    // earlier moves is read again.
    let first = peaks[0].max(peaks[1]);
    assert!(
        peak <= first + first / 2,
        "the moves' peaks grow: {peaks:?} B"
    );
}

#[test]
fn judging_what_a_narrowed_region_leaves_holds_a_chunk_of_it_not_all_of_it() {
    const HELD: u64 = 10_000;
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = Harness::new();
    for n in 0..HELD + 1_000 {
        h.server
            .write(E, entity_id(n), model_state(PLAYER, n, n as u32, 1));
    }
    let storage = Rc::new(Storage::new(MemoryBackend::new()));
    let mut setup = test_setup(SyncTarget::of(E, vec![keys_in(0, HELD)]));
    setup.options = SyncOptions {
        retention: Retention::Drop,
        ..SyncOptions::default()
    };
    let mut sync = Synchronizer::new(
        h.server.clone(),
        Rc::clone(&storage),
        h.clock.clone(),
        setup,
    );
    let handle = sync.handle();
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 30_000);
    assert_eq!(storage.stats(E).expect("stored").states as u64, HELD);

    // What reading the whole kind holds at once (the judgement before it read by chunks).
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let whole = futures_executor::block_on(storage.load(E)).expect("loads");
    let whole_peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    drop(whole);

    // Narrowing to the first half pages nothing: the move only judges and drops the rest.
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    assert!(handle.retarget(vec![keys_in(0, HELD / 2)]));
    advance(&mut h, &mut run, 30_000);
    let move_peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    drop(run);
    assert_eq!(
        storage.stats(E).expect("stored").states as u64,
        HELD / 2,
        "what left the region left storage"
    );
    eprintln!("reading the kind whole: +{whole_peak} B; the narrowing move: +{move_peak} B");
    // Before it read by chunks a move held more than the whole read (1.1×): now the chunk
    // (2,000 entities of 10,000) and the commit of what left (0.45× of a whole read keeping
    // decoded states; 0.65× since a load keeps them encoded, itself lighter).
    assert!(
        move_peak * 4 < whole_peak * 3,
        "a move held +{move_peak} B, reading the whole kind holds +{whole_peak} B"
    );
}
