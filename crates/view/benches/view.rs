//! Criterion benchmarks of the view's hot paths over 100,000 `arena-Player` states (the core
//! bench's world): a 4-predicate scan and a query page over the packed states, reading (decoding)
//! one state, and applying a DELTA's worth of states.
//!
//! `cargo bench -p dojo-reactive-view --bench view -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{
    EnumValue, Felt, Filter, Member, Primitive, PrimitiveType, Query, Struct, Ty, Value,
};
use dojo_reactive_storage::StateChange;
use dojo_reactive_view::replica::Replica;

const MODEL: &str = "arena-Player";
const ENTITIES: u64 = 100_000;

/// Entity ids spread like Poseidon hashes.
fn entity(i: u64) -> Felt {
    let mut bytes = [0u8; 32];
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    for chunk in bytes.chunks_mut(8) {
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    bytes[0] &= 0x07;
    Felt(bytes)
}

fn p(t: PrimitiveType) -> Ty {
    Ty::Primitive(t)
}

fn player_shape() -> Ty {
    Ty::Struct {
        name: "arena-Player".into(),
        members: vec![
            ("player".into(), true, p(PrimitiveType::ContractAddress)),
            ("id".into(), true, p(PrimitiveType::U32)),
            ("gold".into(), false, p(PrimitiveType::U64)),
            ("hp".into(), false, p(PrimitiveType::I16)),
            ("score".into(), false, p(PrimitiveType::U128)),
            ("alive".into(), false, p(PrimitiveType::Bool)),
            (
                "class".into(),
                false,
                Ty::Enum {
                    name: "Class".into(),
                    options: ["Warrior", "Mage", "Rogue"]
                        .iter()
                        .map(|n| (n.to_string(), Ty::unit()))
                        .collect(),
                },
            ),
            ("name".into(), false, Ty::ByteArray),
            (
                "pos".into(),
                false,
                Ty::Struct {
                    name: "Vec2".into(),
                    members: vec![
                        ("x".into(), false, p(PrimitiveType::U32)),
                        ("y".into(), false, p(PrimitiveType::U32)),
                    ],
                },
            ),
        ],
    }
}

fn player_state(i: u64) -> Struct {
    let m = |name: &str, key: bool, value: Value| Member {
        name: name.into(),
        key,
        value,
    };
    let prim = Value::Primitive;
    Struct {
        name: "arena-Player".into(),
        members: vec![
            m(
                "player",
                true,
                prim(Primitive::ContractAddress(Felt::from(u128::from(i % 64)))),
            ),
            m("id", true, prim(Primitive::U32(i as u32))),
            m(
                "gold",
                false,
                prim(Primitive::U64(i.wrapping_mul(2654435761) % 10_000)),
            ),
            m("hp", false, prim(Primitive::I16((i % 200) as i16 - 50))),
            m("score", false, prim(Primitive::U128(u128::from(i) << 70))),
            m("alive", false, prim(Primitive::Bool(!i.is_multiple_of(3)))),
            m(
                "class",
                false,
                Value::Enum(EnumValue {
                    name: "Class".into(),
                    option: (i % 3) as u32,
                    variant: ["Warrior", "Mage", "Rogue"][(i % 3) as usize].into(),
                    value: Box::new(Value::unit()),
                }),
            ),
            m("name", false, Value::ByteArray(format!("player-{i}"))),
            m(
                "pos",
                false,
                Value::Struct(Struct {
                    name: "Vec2".into(),
                    members: vec![
                        m("x", false, prim(Primitive::U32((i % 100) as u32))),
                        m("y", false, prim(Primitive::U32((i / 100 % 100) as u32))),
                    ],
                }),
            ),
        ],
    }
}

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
    let filter = Filter::parse(
        MODEL,
        r#"{"where": [
            {"member": "gold", "op": "gte", "value": "5000"},
            {"member": "class", "op": "in", "value": ["Mage", "Rogue"]},
            {"member": "pos.x", "op": "lt", "value": 50},
            {"member": "alive", "op": "eq", "value": true}
        ]}"#,
        &shapes,
    )
    .expect("bench filter is valid");
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
    group.finish();
}

criterion_group!(benches, bench_view);
criterion_main!(benches);
