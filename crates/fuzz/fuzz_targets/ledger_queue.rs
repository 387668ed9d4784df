//! The version ledger and the update queue driven by an operation list decoded from the input
//! (`arbitrary`).
//!
//! Checked after every operation: each decision is counted once; an applied observation is what the
//! ledger then holds and a dropped one changes nothing; against a held write or deletion, an
//! observation from another stream that is newer (game member first, then timestamps) is applied
//! and an older one is dropped, and within one stream a later update applies unless its version is
//! lower (a delivery out of order, dropped) and an earlier one is a duplicate; the epoch counter
//! never goes back. The queue receives every applied observation and is checked against a plain
//! model: one entry per pending key in first-enqueue order holding its newest item, drains from the
//! front, back-pressure with hysteresis, and exact counters.
#![no_main]

use arbitrary::Arbitrary;
use dojo_reactive_core::{
    Backpressure, Decision, Enqueued, EntityId, Felt, Ledger, LedgerStats, ModelId, Observation,
    Primitive, QueueConfig, Source, StateKind, UpdateQueue, Version,
};
use libfuzzer_sys::fuzz_target;

/// Model tags; the second has a game version member.
const MODELS: [&str; 3] = ["ns-A", "ns-B", "ns-C"];
const ENTITIES: u8 = 6;

#[derive(Debug, Arbitrary)]
struct Input {
    high_water: u8,
    low_water: u8,
    ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Src {
    Stream { epoch: u8, seq: u8 },
    Snapshot { epoch: u8, page: u8 },
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Op {
    BeginEpoch,
    Observe {
        entity: u8,
        model: u8,
        source: Src,
        executed_at: u8,
        updated_at: u8,
        deletion: bool,
        game: Option<u8>,
    },
    Absent {
        entity: u8,
        model: u8,
        epoch: u8,
        page: u8,
    },
    CompleteSnapshot {
        model: u8,
        epoch: u8,
        page: u8,
        seen: u8,
    },
    Prune {
        model: u8,
    },
    Remove {
        entity: u8,
        model: u8,
    },
    Drain {
        max: u8,
    },
}

type Key = (EntityId, ModelId);

/// The queue's expected state.
struct QueueModel {
    pending: Vec<(Key, Version)>,
    engaged: bool,
    config: QueueConfig,
    enqueued: u64,
    superseded: u64,
    drained: u64,
}

struct Harness {
    ledger: Ledger,
    models: [ModelId; 3],
    queue: UpdateQueue<Key, Version>,
    expected: QueueModel,
}

fuzz_target!(|input: Input| {
    let mut ledger = Ledger::default();
    let models = [
        ledger.model_id(MODELS[0]),
        ledger.set_version_member(MODELS[1], Some("turn")),
        ledger.model_id(MODELS[2]),
    ];
    let config = QueueConfig {
        high_water: usize::from(input.high_water),
        low_water: usize::from(input.low_water),
    };
    let queue = UpdateQueue::new(config);
    let expected = QueueModel {
        pending: Vec::new(),
        engaged: false,
        config: queue.config(),
        enqueued: 0,
        superseded: 0,
        drained: 0,
    };
    let mut harness = Harness {
        ledger,
        models,
        queue,
        expected,
    };
    for op in input.ops {
        let epoch = harness.ledger.current_epoch();
        harness.run(op);
        assert!(harness.ledger.current_epoch() >= epoch, "epoch went back");
    }
});

impl Harness {
    fn run(&mut self, op: Op) {
        match op {
            Op::BeginEpoch => {
                let before = self.ledger.current_epoch();
                let epoch = self.ledger.begin_epoch();
                assert!(
                    epoch > before || before == u32::MAX,
                    "begin_epoch not after"
                );
            }
            Op::Observe {
                entity,
                model,
                source,
                executed_at,
                updated_at,
                deletion,
                game,
            } => {
                let source = match source {
                    Src::Stream { epoch, seq } => Source::Stream {
                        epoch: u32::from(epoch),
                        seq: u64::from(seq),
                    },
                    Src::Snapshot { epoch, page } => Source::Snapshot {
                        epoch: u32::from(epoch),
                        page: u64::from(page),
                    },
                };
                let mut obs = if deletion {
                    Observation::deletion(source, executed_at.into(), updated_at.into())
                } else {
                    Observation::write(source, executed_at.into(), updated_at.into())
                };
                if let Some(game) = game {
                    obs = obs.with_game(Primitive::U8(game));
                }
                self.observe(entity_id(entity), self.model(model), &obs);
            }
            Op::Absent {
                entity,
                model,
                epoch,
                page,
            } => {
                let (entity, model) = (entity_id(entity), self.model(model));
                let held = self.ledger.get(&entity, model);
                let stats = *self.ledger.stats();
                let decision =
                    self.ledger
                        .observe_absent(&entity, model, epoch.into(), page.into());
                check_counted(&stats, self.ledger.stats(), decision);
                let now = self.ledger.get(&entity, model);
                if decision.applies() {
                    let now = now.expect("an applied absence is held");
                    assert_eq!(now.state, StateKind::Absent);
                    assert_eq!(now.game, None);
                } else {
                    assert_eq!(now, held, "a dropped absence changed the ledger");
                }
            }
            Op::CompleteSnapshot {
                model,
                epoch,
                page,
                seen,
            } => {
                let model = self.model(model);
                let seen_entity = |id: &EntityId| {
                    (0..ENTITIES).any(|n| seen & (1 << n) != 0 && entity_id(n) == *id)
                };
                let writes: Vec<EntityId> = self
                    .ledger
                    .entities(model)
                    .filter(|e| {
                        !seen_entity(e)
                            && self.ledger.get(e, model).map(|v| v.state) == Some(StateKind::Write)
                    })
                    .copied()
                    .collect();
                let deleted =
                    self.ledger
                        .complete_snapshot(model, epoch.into(), page.into(), seen_entity);
                for entity in &deleted {
                    assert!(
                        writes.contains(entity),
                        "deleted an entity that was not a write"
                    );
                    let held = self.ledger.get(entity, model).map(|v| v.state);
                    assert_eq!(held, Some(StateKind::Absent), "deleted but not absent");
                }
            }
            Op::Prune { model } => {
                let model = self.model(model);
                let before = self.ledger.len();
                let pruned = self.ledger.prune_tombstones(model);
                assert_eq!(self.ledger.len() + pruned, before, "prune count");
            }
            Op::Remove { entity, model } => {
                let (entity, model) = (entity_id(entity), self.model(model));
                let held = self.ledger.get(&entity, model);
                assert_eq!(self.ledger.remove(&entity, model), held);
                assert_eq!(self.ledger.get(&entity, model), None);
            }
            Op::Drain { max } => self.drain(usize::from(max)),
        }
    }

    fn model(&self, n: u8) -> ModelId {
        self.models[usize::from(n) % self.models.len()]
    }

    fn observe(&mut self, entity: EntityId, model: ModelId, obs: &Observation) {
        let held = self.ledger.get(&entity, model);
        let stats = *self.ledger.stats();
        let decision = self.ledger.observe(&entity, model, obs);
        check_counted(&stats, self.ledger.stats(), decision);
        let now = self.ledger.get(&entity, model);
        if let Some(expected) = held.as_ref().and_then(|held| must_apply(held, obs)) {
            assert_eq!(
                decision.applies(),
                expected,
                "{decision:?} for {obs:?} over {held:?}"
            );
        }
        if !decision.applies() {
            assert_eq!(now, held, "a dropped observation changed the ledger");
            return;
        }
        let version = Version {
            source: obs.source,
            executed_at: obs.executed_at,
            updated_at: obs.updated_at,
            state: if obs.deletion {
                StateKind::Deleted
            } else {
                StateKind::Write
            },
            game: if obs.deletion { None } else { obs.game },
        };
        assert_eq!(now, Some(version), "an applied observation is not held");
        self.enqueue((entity, model), version);
    }

    fn enqueue(&mut self, key: Key, item: Version) {
        let (outcome, pressure) = self.queue.enqueue(key, item);
        let model = &mut self.expected;
        model.enqueued += 1;
        let expected = match model.pending.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => {
                slot.1 = item;
                model.superseded += 1;
                Enqueued::Replaced
            }
            None => {
                model.pending.push((key, item));
                Enqueued::Added
            }
        };
        if model.pending.len() >= model.config.high_water {
            model.engaged = true;
        }
        assert_eq!(outcome, expected, "enqueue outcome");
        self.check_queue(pressure);
    }

    fn drain(&mut self, max: usize) {
        let out = self.queue.drain_batch(max);
        let model = &mut self.expected;
        let count = max.min(model.pending.len());
        let front: Vec<(Key, Version)> = model.pending.drain(..count).collect();
        model.drained += count as u64;
        if model.pending.len() <= model.config.low_water {
            model.engaged = false;
        }
        assert_eq!(out, front, "drained entries");
        let pressure = self.queue.backpressure();
        self.check_queue(pressure);
    }

    fn check_queue(&self, pressure: Backpressure) {
        let model = &self.expected;
        let expected = if model.engaged {
            Backpressure::Engaged
        } else {
            Backpressure::Released
        };
        assert_eq!(pressure, expected, "back-pressure");
        assert_eq!(self.queue.len(), model.pending.len(), "queue depth");
        assert!(self.queue.iter().eq(model.pending.iter()), "queue order");
        for (key, item) in &model.pending {
            assert_eq!(self.queue.get(key), Some(item), "pending item");
        }
        let stats = self.queue.stats();
        assert_eq!(
            (stats.enqueued, stats.superseded, stats.drained),
            (model.enqueued, model.superseded, model.drained),
            "queue counters"
        );
    }
}

fn entity_id(n: u8) -> EntityId {
    Felt::from(u128::from(n % ENTITIES) + 1)
}

/// Exactly one decision was counted, under its own counter.
fn check_counted(before: &LedgerStats, after: &LedgerStats, decision: Decision) {
    let mut expected = *before;
    match decision {
        Decision::Inserted => expected.inserted += 1,
        Decision::Replaced => expected.replaced += 1,
        Decision::Regressed => expected.regressed += 1,
        Decision::Stale => expected.stale += 1,
        Decision::TieLost => expected.tie_lost += 1,
        Decision::Duplicate => expected.duplicate += 1,
    }
    assert_eq!(*after, expected, "decision counters");
}

/// Whether rules 1 and 2 require `obs` to be applied over `held`, or `None` when the held
/// version is an absence or the versions tie (rules 3 and 5 then decide by position).
fn must_apply(held: &Version, obs: &Observation) -> Option<bool> {
    if held.state == StateKind::Absent {
        return None;
    }
    let game = if obs.deletion { None } else { obs.game };
    let order = match (held.game, game) {
        (Some(Primitive::U8(h)), Some(Primitive::U8(o))) if h != o => o.cmp(&h),
        _ => (obs.executed_at, obs.updated_at).cmp(&(held.executed_at, held.updated_at)),
    };
    if let (Source::Stream { epoch: a, seq: s }, Source::Stream { epoch: b, seq: t }) =
        (held.source, obs.source)
    {
        if a == b {
            return Some(t > s && order.is_ge());
        }
    }
    order.is_ne().then_some(order.is_gt())
}
