//! What a start-up's load of 20,000 stored bench-world `arena-Player` states costs in memory
//! besides the stored bytes themselves, counted by a global allocator: the most it holds at
//! once and what it leaves held. A guard on the worker's warm-start peak (issue 13 item 4).
//! And what a synchronizer holds per model state after a cold sync of them over the real store
//! (memory backend): the worker's steady state (the ledger, the mirror, storage's index).
//! Native, 64-bit (wasm32's pointers are half as wide). Run with `--nocapture` for the figures.

#![cfg(not(target_arch = "wasm32"))]

mod one_model;

use std::alloc::{GlobalAlloc, Layout, System};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dojo_reactive_core::sync::testing::bench_world::{entity, player_state};
use dojo_reactive_core::sync::testing::Harness;
use dojo_reactive_core::sync::{
    Fingerprinter, LedgerEntry, ModelRecord, StoredWrite, SyncBatch, TargetKind,
};
use dojo_reactive_core::{Felt, ManifestFingerprint};
use dojo_reactive_core::{Source, StateKind, Version};
use dojo_reactive_storage::{MemoryBackend, Storage};

/// Bytes allocated and not freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The most `LIVE` has been since the last [`reset_peak`].
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grow(new_size);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Held by each test: the counters are global, so the tests measure one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const STATES: u64 = 20_000;

fn batch(from: u64, to: u64) -> SyncBatch {
    let mut batch = SyncBatch::new(TargetKind::Entities);
    for i in from..to {
        let record = ModelRecord {
            entity: entity(i),
            world_address: Felt::ZERO,
            state: player_state(i),
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        };
        batch.ledger.push(LedgerEntry {
            entity: record.entity,
            model: record.state.name.clone(),
            version: Version {
                source: Source::Snapshot { epoch: 1, page: i },
                executed_at: 3,
                updated_at: 2,
                state: StateKind::Write,
                game: None,
            },
        });
        batch.upserts.push(record);
    }
    batch
}

/// Loads the stored states the way the synchronizer's start-up does (each write handed over
/// as it is read, the states fingerprinted, the caller keeping one fingerprint a state) and the
/// way every other reader does (encoded), and compares what each holds.
#[test]
fn a_start_up_load_peaks_under_700_bytes_per_stored_state_and_below_a_full_load() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    futures_executor::block_on(async {
        let backend = MemoryBackend::new();
        let storage = Storage::new(backend.connect());
        let manifest = ManifestFingerprint {
            hash: "m".into(),
            world_class_hash: Felt::ZERO.to_hex(),
            entries: Vec::new(),
        };
        storage.init(&manifest, "1.0.0").await.unwrap();
        for from in (0..STATES).step_by(1_000) {
            storage.commit(&batch(from, from + 1_000)).await.unwrap();
        }
        let stored = backend.stored_bytes();
        let per_state = |bytes: usize| bytes as f64 / STATES as f64;
        let with = Fingerprinter::default();

        // A new connection each time: what a start-up does. What the seed keeps (a key and a
        // fingerprint a state, a version a ledger entry) counts in the figures, as the
        // synchronizer's tables do.
        let storage = Storage::new(backend.connect());
        storage.init(&manifest, "1.0.0").await.unwrap();
        let mut states = std::collections::HashMap::with_capacity(STATES as usize);
        let mut versions = std::collections::HashMap::with_capacity(STATES as usize);
        let before = reset_peak();
        let started = std::time::Instant::now();
        let seeded = storage
            .load_seeding(TargetKind::Entities, &with, &mut |write| match write {
                StoredWrite::State(record) => {
                    let key = (*record.entity(), record.model().to_owned());
                    assert!(states.insert(key, record.fingerprint(&with)).is_none());
                }
                StoredWrite::Version(entry) => {
                    let key = (entry.entity, entry.model.to_string());
                    assert!(versions.insert(key, entry.version).is_none());
                }
                other => panic!("nothing was deleted: {other:?}"),
            })
            .await
            .unwrap()
            .data;
        let seeding = started.elapsed();
        let held = LIVE.load(Ordering::Relaxed) - before;
        let peak = PEAK.load(Ordering::Relaxed) - before;
        assert!(seeded.models.is_empty() && seeded.ledger.is_empty());

        let storage = Storage::new(backend.connect());
        storage.init(&manifest, "1.0.0").await.unwrap();
        let before = reset_peak();
        let started = std::time::Instant::now();
        let encoded = storage.load(TargetKind::Entities).await.unwrap().data;
        let encoding = started.elapsed();
        let encoded_held = LIVE.load(Ordering::Relaxed) - before;
        let encoded_peak = PEAK.load(Ordering::Relaxed) - before;
        println!(
            "load of {STATES} states ({:.0} B stored per state): seeded: peak {:.0} B, held \
             {:.0} B per state (the seed's maps included), {seeding:?}; encoded: peak {:.0} B, \
             held {:.0} B per state, {encoding:?}",
            per_state(stored),
            per_state(peak),
            per_state(held),
            per_state(encoded_peak),
            per_state(encoded_held),
        );

        // The same states and versions, each handed over once, each state as its fingerprint.
        assert_eq!(encoded.models.len(), STATES as usize);
        assert_eq!(states.len(), encoded.models.len());
        for stored in &encoded.models {
            let key = (*stored.entity(), stored.model().to_owned());
            let record = stored.get().expect("stored states decode");
            assert_eq!(states.get(&key), Some(&with.of_record(record)));
        }
        assert_eq!(versions.len(), encoded.ledger.len());
        for entry in &encoded.ledger {
            let key = (entry.entity, entry.model.to_string());
            assert_eq!(versions.get(&key), Some(&entry.version));
        }

        assert!(
            per_state(peak) < 700.0,
            "a start-up's load peaks at {:.0} B per state",
            per_state(peak)
        );
        assert!(peak < encoded_peak && held < encoded_held);
    });
}

/// What a synchronizer of every `arena-Player` over a new connection to `backend` holds per
/// state after 30 virtual seconds (the stored bytes not counted), and the most it held at once
/// on the way (its start-up's load included).
fn sync_for_30_s(h: &mut Harness, backend: &MemoryBackend) -> (f64, f64) {
    let before = reset_peak();
    let stored_before = backend.stored_bytes();
    let storage = Rc::new(Storage::new(backend.connect()));
    let mut measured = (0, 0);
    one_model::sync_for_30_s(h, &storage, "arena-Player", None, || {
        let stored = backend.stored_bytes() - stored_before;
        measured = (
            LIVE.load(Ordering::Relaxed) - before - stored,
            PEAK.load(Ordering::Relaxed) - before - stored,
        );
    });
    let stats = storage.stats(TargetKind::Entities).expect("stored");
    assert_eq!(stats.states as u64, STATES);
    let per_state = |bytes: usize| bytes as f64 / STATES as f64;
    (per_state(measured.0), per_state(measured.1))
}

/// The worker's steady state per model state: what a synchronizer holds after a cold sync
/// (its ledger's stamps, its mirror's fingerprints, storage's index of the stored states), and
/// after a restart over the stored states (its warm start) with its peak.
#[test]
fn a_synced_state_holds_under_320_bytes_in_the_worker_and_a_restart_peaks_under_400() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = Harness::new();
    for i in 0..STATES {
        h.server
            .write(TargetKind::Entities, entity(i), player_state(i));
    }
    let backend = MemoryBackend::new();
    let (cold, cold_peak) = sync_for_30_s(&mut h, &backend);
    let (warm, warm_peak) = sync_for_30_s(&mut h, &backend);
    println!(
        "a synchronizer of {STATES} states holds, per state besides the stored bytes: after \
         a cold sync {cold:.0} B (peak {cold_peak:.0} B), after a restart {warm:.0} B (peak \
         {warm_peak:.0} B)"
    );
    // 401 and 349 B while storage's index slots were 48 bytes (`7ba0693`), 361 and 310 B
    // since they are 24, 294 and 243 B since the ledger's table holds the mirror's
    // fingerprints too (one key for both).
    assert!(cold < 320.0, "after a cold sync {cold:.0} B per state");
    assert!(warm < 270.0, "after a restart {warm:.0} B per state");
    // 682 B while the start-up held the whole load until it seeded the mirror (659 B with the
    // smaller slots), 414 B since it seeds as storage reads, 367 B with one table.
    assert!(
        warm_peak < 400.0,
        "a restart peaks at {warm_peak:.0} B per state"
    );
}
