//! A map's viewport query over 100,000 positioned entities, with and without an ordered index
//! declared on `(x, y)`: the ids in a 32 × 18 region (576 entities), the region ordered by `y`
//! with a limit, and a count; plus the cost of keeping the index current on a DELTA of 1,000
//! moves.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{Felt, Manifest, Member, Primitive, QuerySpec, Struct, Value};
use dojo_reactive_storage::encode_state_changes;
use dojo_reactive_view::{Consistency, IndexSpec, ViewModel, ViewOptions};

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 100;
const MODEL: &str = "ns-Position";

fn manifest() -> Manifest {
    let json = serde_json::json!({
        "world": { "class_hash": "0x1", "address": "0x2" },
        "models": [{ "tag": MODEL, "class_hash": "0x10", "selector": "0x10", "members": [
            { "name": "id", "type": "core::integer::u32", "key": true },
            { "name": "x", "type": "core::integer::u32", "key": false },
            { "name": "y", "type": "core::integer::u32", "key": false }
        ] }],
    });
    Manifest::from_json(&json).expect("the bench manifest parses")
}

fn record(id: u32, x: u32, y: u32, t: u64) -> ModelRecord {
    let member = |name: &str, key: bool, v: u32| Member {
        name: name.into(),
        key,
        value: Value::Primitive(Primitive::U32(v)),
    };
    ModelRecord {
        entity: Felt::from(u128::from(id) * 7919 + 1),
        world_address: Felt::from(2u128),
        state: Struct {
            name: MODEL.into(),
            members: vec![
                member("id", true, id),
                member("x", false, x),
                member("y", false, y),
            ],
        },
        created_at: 1,
        updated_at: t,
        executed_at: t,
    }
}

fn world(indexed: bool) -> ViewModel {
    let mut view = ViewModel::new(&manifest(), ViewOptions::default());
    if indexed {
        view.declare_index(IndexSpec {
            model: MODEL.into(),
            members: vec!["x".into(), "y".into()],
        })
        .expect("x and y are numbers");
    }
    let records: Vec<ModelRecord> = (0..WIDTH * HEIGHT)
        .map(|i| record(i, i % WIDTH, i / WIDTH, 1))
        .collect();
    let delta = encode_state_changes(TargetKind::Entities, &records, &[]).expect("encodes");
    view.apply_delta(&delta).expect("applies");
    view
}

fn spec(json: serde_json::Value) -> QuerySpec {
    serde_json::from_value(json).expect("a query spec")
}

fn bench_viewport(c: &mut Criterion) {
    let region = serde_json::json!({ "where": [
        { "member": "x", "op": "gte", "value": 480 }, { "member": "x", "op": "lt", "value": 512 },
        { "member": "y", "op": "gte", "value": 40 }, { "member": "y", "op": "lt", "value": 58 }
    ] });
    let viewport = spec(serde_json::json!({ "filter": region }));
    let ordered =
        spec(serde_json::json!({ "filter": region, "orderBy": [{ "member": "y" }], "limit": 100 }));
    let mut group = c.benchmark_group("viewport_100k");
    group.sample_size(20);
    for indexed in [false, true] {
        let mut view = world(indexed);
        let name = if indexed { "index" } else { "scan" };
        let hits = view
            .matching(MODEL, &viewport, Consistency::Overlay)
            .unwrap()
            .unwrap();
        assert_eq!(hits.ids.len(), 32 * 18);
        group.bench_function(format!("{name}/ids_32x18"), |b| {
            b.iter(|| {
                black_box(
                    view.matching(MODEL, &viewport, Consistency::Overlay)
                        .unwrap(),
                )
            })
        });
        group.bench_function(format!("{name}/ordered_by_y_limit_100"), |b| {
            b.iter(|| {
                black_box(
                    view.matching(MODEL, &ordered, Consistency::Overlay)
                        .unwrap(),
                )
            })
        });
        group.bench_function(format!("{name}/count_32x18"), |b| {
            b.iter(|| black_box(view.count(MODEL, &viewport, Consistency::Overlay).unwrap()))
        });
        // 1,000 entities move one step right: the DELTA's cost with the index kept current.
        let mut t = 2;
        group.bench_function(format!("{name}/apply_delta_1000_moves"), |b| {
            b.iter(|| {
                t += 1;
                let moves: Vec<ModelRecord> = (0..1000u32)
                    .map(|i| {
                        let id = i * 97;
                        record(id, (id + t as u32) % WIDTH, id / WIDTH, t)
                    })
                    .collect();
                let delta =
                    encode_state_changes(TargetKind::Entities, &moves, &[]).expect("encodes");
                black_box(view.apply_delta(&delta).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_viewport);
criterion_main!(benches);
