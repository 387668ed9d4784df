//! Criterion benchmarks of the view's hot paths over 100,000 `arena-Player` states (the core
//! bench's world): a 4-predicate scan and a query page over the packed states, reading (decoding)
//! one state, applying a DELTA's worth of states, and a warm start's restore of them all.
//!
//! `cargo bench -p dojo-reactive-view --bench view -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dojo_reactive_core::sync::testing::bench_world::{
    entity, player_shape, player_state, FOUR_PREDICATE_SCAN,
};
use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{Felt, Filter, Primitive, Query, Value};
use dojo_reactive_storage::{encode_state_changes, scan_state_changes, StateChange};
use dojo_reactive_view::replica::Replica;

const MODEL: &str = "arena-Player";
const ENTITIES: u64 = 100_000;

fn record(i: u64) -> StateChange {
    StateChange::Upsert(ModelRecord {
        entity: entity(i),
        world_address: Felt::ZERO,
        state: player_state(i),
        created_at: 1,
        updated_at: 2,
        executed_at: 3,
    })
}

fn bench_view(c: &mut Criterion) {
    let mut shapes = std::collections::HashMap::new();
    shapes.insert(MODEL.to_owned(), player_shape());
    let mut replica = Replica::new();
    replica.apply(TargetKind::Entities, (0..ENTITIES).map(record).collect());
    let filter = Filter::parse(MODEL, FOUR_PREDICATE_SCAN, &shapes).expect("bench filter is valid");
    let one = Filter::parse(
        MODEL,
        r#"{"where": [{"member": "hp", "op": "gte", "value": 40}]}"#,
        &shapes,
    )
    .expect("bench filter is valid");
    let page = Query::parse(
        MODEL,
        r#"{"filter": {"where": [{"member": "hp", "op": "gte", "value": 40}]}}"#,
        &shapes,
    )
    .expect("bench query is valid");

    let mut group = c.benchmark_group("view");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ENTITIES));
    group.bench_function("scan_100k_4_predicates", |b| {
        b.iter(|| {
            replica
                .states(MODEL)
                .filter(|(id, s)| filter.matches(id, s))
                .count()
        })
    });
    group.bench_function("scan_100k_1_predicate", |b| {
        b.iter(|| {
            replica
                .states(MODEL)
                .filter(|(id, s)| one.matches(id, s))
                .count()
        })
    });
    group.bench_function("query_100k_ids_by_id_order", |b| {
        b.iter(|| black_box(page.matching(replica.states(MODEL))).0.len())
    });
    group.throughput(Throughput::Elements(1_000));
    let ids: Vec<Felt> = (0..1_000).map(|i| entity(i * 97)).collect();
    group.bench_function("read_1000_states_decoded", |b| {
        b.iter(|| ids.iter().filter_map(|id| replica.state(id, MODEL)).count())
    });
    let batch: Vec<u64> = (0..1_000).map(|i| i * 89).collect();
    group.bench_function("apply_1000_changed_states", |b| {
        let mut round = 0u64;
        b.iter(|| {
            round += 1;
            let changes = batch
                .iter()
                .map(|i| {
                    let mut change = record(*i);
                    if let StateChange::Upsert(r) = &mut change {
                        r.updated_at = 2 + round;
                        r.state.members[2].value = Value::Primitive(Primitive::U64(round));
                    }
                    change
                })
                .collect();
            replica.apply(TargetKind::Entities, changes).len()
        })
    });
    group.throughput(Throughput::Elements(ENTITIES));
    // A warm start: 100,000 stored states in segments of 1,000, restored into an empty replica.
    let segments: Vec<Vec<u8>> = (0..ENTITIES / 1_000)
        .map(|chunk| {
            let records: Vec<ModelRecord> = (chunk * 1_000..(chunk + 1) * 1_000)
                .filter_map(|i| match record(i) {
                    StateChange::Upsert(record) => Some(record),
                    StateChange::Delete(_) => None,
                })
                .collect();
            encode_state_changes(TargetKind::Entities, &records, &[]).expect("bench states encode")
        })
        .collect();
    group.bench_function("restore_100k_in_segments_of_1000", |b| {
        b.iter(|| {
            let mut restored = Replica::new();
            for segment in &segments {
                let (target, changes) =
                    scan_state_changes(segment.clone()).expect("bench segments decode");
                restored.restore(target, changes, |_| false);
            }
            restored.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_view);
criterion_main!(benches);
