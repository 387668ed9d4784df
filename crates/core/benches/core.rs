//! Criterion benchmarks of the core's hot paths: ledger decisions, queue compaction under a
//! burst, filter scans, ledger persistence, manifest hashing and the event log.
//!
//! `cargo bench -p dojo-reactive-core --bench core -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dojo_reactive_core::sync::testing::bench_world::{
    entity, player_shape, player_state, FOUR_PREDICATE_SCAN,
};
use dojo_reactive_core::{
    compute_manifest_hash, Delivery, EventLog, EventRetention, Felt, Filter, IncomingEvent, Ledger,
    LoggedEvent, Manifest, Member, Observation, Placement, Primitive, Query, QueueConfig, Source,
    Struct, UpdateQueue, Value,
};

fn bench_ledger(c: &mut Criterion) {
    const ENTITIES: u64 = 10_000;
    const OBSERVATIONS: u64 = 100_000;
    let mut base = Ledger::new();
    let position = base.model_id("arena-Position");
    let player = base.set_version_member("arena-Player", Some("last_updated_at"));
    let epoch = base.begin_epoch();
    for i in 0..ENTITIES {
        let src = Source::Snapshot {
            epoch,
            page: i / 100,
        };
        base.observe(&entity(i), position, &Observation::write(src, 1_000, 1_000));
        base.observe(
            &entity(i),
            player,
            &Observation::write(src, 1_000, 1_000).with_game(Primitive::U64(1)),
        );
    }
    // A mix: stream updates (applied), late snapshot rows (stale or tied), deletions, game
    // versions going up and down.
    let work: Vec<(Felt, bool, Observation)> = (0..OBSERVATIONS)
        .map(|n| {
            let i = n.wrapping_mul(7919) % ENTITIES;
            let t = 1_000 + n / 5_000;
            let obs = match n % 5 {
                0 | 1 => Observation::write(Source::Stream { epoch, seq: n }, t, t),
                2 => Observation::write(Source::Snapshot { epoch, page: n }, 999 + n % 3, t),
                3 => Observation::deletion(Source::Stream { epoch, seq: n }, t, t),
                _ => Observation::write(Source::Snapshot { epoch, page: n }, t, t)
                    .with_game(Primitive::U64(n % 7)),
            };
            (entity(i), n % 5 == 4, obs)
        })
        .collect();
    let mut group = c.benchmark_group("ledger");
    group.throughput(Throughput::Elements(OBSERVATIONS));
    group.bench_function("observe_100k_mixed", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |ledger| {
                for (id, game_model, obs) in &work {
                    let model = if *game_model { player } else { position };
                    black_box(ledger.observe(id, model, obs));
                }
            },
            BatchSize::LargeInput,
        )
    });
    let states: Vec<(Felt, Struct)> = (0..OBSERVATIONS)
        .map(|n| {
            let i = n.wrapping_mul(7919) % ENTITIES;
            let state = Struct {
                name: "arena-Player".into(),
                members: vec![
                    Member {
                        name: "player".into(),
                        key: true,
                        value: Value::Primitive(Primitive::ContractAddress(entity(i))),
                    },
                    Member {
                        name: "last_updated_at".into(),
                        key: false,
                        value: Value::Primitive(Primitive::U64(n)),
                    },
                ],
            };
            (entity(i), state)
        })
        .collect();
    group.bench_function("observe_state_100k", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |ledger| {
                for (n, (id, state)) in states.iter().enumerate() {
                    let src = Source::Stream {
                        epoch,
                        seq: n as u64,
                    };
                    black_box(ledger.observe_state(id, state, src, 2_000, 2_000));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn bench_queue(c: &mut Criterion) {
    const UPDATES: u64 = 1_000_000;
    let ids: Vec<Felt> = (0..1_000).map(entity).collect();
    let mut group = c.benchmark_group("queue");
    group.sample_size(10);
    group.throughput(Throughput::Elements(UPDATES));
    group.bench_function("burst_1m_over_1k_entities", |b| {
        b.iter(|| {
            let mut queue: UpdateQueue<(Felt, u32), u64> = UpdateQueue::new(QueueConfig {
                high_water: 1_000,
                low_water: 500,
            });
            for n in 0..UPDATES {
                let id = ids[(n.wrapping_mul(7919) % 1_000) as usize];
                black_box(queue.enqueue((id, (n % 2) as u32), n));
            }
            let mut out = Vec::with_capacity(2_000);
            while queue.drain_into(&mut out, 500) > 0 {}
            assert!(out.len() <= 2_000);
            out
        })
    });
    group.finish();
}

fn bench_filter(c: &mut Criterion) {
    const ENTITIES: u64 = 100_000;
    let mut shapes = std::collections::HashMap::new();
    shapes.insert("arena-Player".to_owned(), player_shape());
    let rows: Vec<(Felt, Struct)> = (0..ENTITIES)
        .map(|i| (entity(i), player_state(i)))
        .collect();
    let filter =
        Filter::parse("arena-Player", FOUR_PREDICATE_SCAN, &shapes).expect("bench filter is valid");
    let keyed = Filter::parse("arena-Player", r#"{"keys": {"player": "0x2a"}}"#, &shapes)
        .expect("bench filter is valid");
    let query = Query::parse(
        "arena-Player",
        r#"{"filter": {"where": [{"member": "hp", "op": "gt", "value": 0}]},
            "select": {"include": ["gold", "pos.x"]}, "limit": 100}"#,
        &shapes,
    )
    .expect("bench query is valid");
    let mut group = c.benchmark_group("filter");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ENTITIES));
    group.bench_function("scan_100k_4_predicates", |b| {
        b.iter(|| rows.iter().filter(|(id, s)| filter.matches(id, s)).count())
    });
    group.bench_function("scan_100k_key", |b| {
        b.iter(|| rows.iter().filter(|(id, s)| keyed.matches(id, s)).count())
    });
    let clause = filter.to_clause();
    group.bench_function("scan_100k_as_clause", |b| {
        b.iter(|| {
            rows.iter()
                .filter(|(id, s)| clause.matches(id, std::slice::from_ref(s)))
                .count()
        })
    });
    group.bench_function("query_100k_limit_100_selector", |b| {
        b.iter(|| black_box(query.run(rows.iter().map(|(id, s)| (id, s)))))
    });
    group.finish();
}

fn bench_manifest(c: &mut Criterion) {
    let models: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            serde_json::json!({
                "tag": format!("arena-Model{i}"),
                "class_hash": format!("0x{:x}", 1000 + i),
                "selector": format!("0x{:x}", 2000 + i),
                "members": (0..12).map(|j| serde_json::json!({
                    "name": format!("m{j}"), "type": "core::integer::u64", "key": j == 0
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let text = serde_json::json!({"world": {"class_hash": "0x1"}, "models": models}).to_string();
    let manifest = Manifest::from_json_str(&text).expect("bench manifest is valid");
    let mut group = c.benchmark_group("manifest");
    group.bench_function("parse_and_hash_50_models", |b| {
        b.iter(|| compute_manifest_hash(&Manifest::from_json_str(&text).expect("valid")))
    });
    group.bench_function("hash_50_models", |b| {
        b.iter(|| compute_manifest_hash(&manifest))
    });
    group.finish();
}

/// 100,000 `Moved`-like events of 1,000 players over about 3 hours, newest first as Torii
/// pages its history.
fn history_newest_first() -> Vec<IncomingEvent> {
    (0..100_000u64)
        .rev()
        .map(|n| {
            let player = n.wrapping_mul(7919) % 1_000;
            IncomingEvent {
                entity: entity(player),
                state: Struct {
                    name: "arena-Moved".into(),
                    members: vec![
                        Member {
                            name: "player".into(),
                            key: true,
                            value: Value::Primitive(Primitive::ContractAddress(entity(player))),
                        },
                        Member {
                            name: "direction".into(),
                            key: false,
                            value: Value::Primitive(Primitive::U8((n % 4) as u8)),
                        },
                        Member {
                            name: "at".into(),
                            key: false,
                            value: Value::Primitive(Primitive::U64(n)),
                        },
                    ],
                },
                executed_at: 1_700_000_000 + n / 10,
                created_at: 1_700_000_000 + n / 10,
                world_address: Felt::from(1u128),
            }
        })
        .collect()
}

fn bench_event_log(c: &mut Criterion) {
    let now = 1_800_000_000;
    let history = history_newest_first();
    let cold = |log: &mut EventLog| {
        let mut delivery = Delivery::new();
        for page in history.chunks(1_000) {
            black_box(log.apply(&mut delivery, page.to_vec(), Placement::Walk, now));
        }
    };
    let mut full = EventLog::new(EventRetention::default());
    cold(&mut full);
    let stored: Vec<LoggedEvent> = full.iter().cloned().collect();
    let mut group = c.benchmark_group("event_log");
    group.sample_size(10);
    group.throughput(Throughput::Elements(history.len() as u64));
    group.bench_function("cold_sync_100k_pages_of_1000", |b| {
        b.iter_batched_ref(
            || EventLog::new(EventRetention::default()),
            |log| cold(log),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("warm_start_restore_100k", |b| {
        b.iter_batched(
            || stored.clone(),
            |events| {
                let mut log = EventLog::new(EventRetention::default());
                black_box(log.restore(events, now));
                log
            },
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("catch_up_1000_held_rows", |b| {
        b.iter(|| {
            let mut delivery = Delivery::new();
            black_box(full.apply(
                &mut delivery,
                history[..1_000].to_vec(),
                Placement::Walk,
                now,
            ))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_ledger,
    bench_queue,
    bench_filter,
    bench_manifest,
    bench_event_log
);
criterion_main!(benches);
