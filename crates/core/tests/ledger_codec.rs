//! Properties of the ledger's persistence: random ledgers round-trip exactly, and no byte string
//! (random, truncated or corrupted) makes decoding panic.

use dojo_reactive_core::{Felt, Ledger, Observation, Primitive, Source, U256};
use proptest::prelude::*;

fn primitive() -> impl Strategy<Value = Primitive> {
    prop_oneof![
        any::<i8>().prop_map(Primitive::I8),
        any::<i64>().prop_map(Primitive::I64),
        any::<i128>().prop_map(Primitive::I128),
        any::<u32>().prop_map(Primitive::U32),
        any::<u128>().prop_map(Primitive::U128),
        any::<[u8; 32]>().prop_map(|b| Primitive::U256(U256(b))),
        any::<bool>().prop_map(Primitive::Bool),
        any::<[u8; 32]>().prop_map(|b| Primitive::Felt252(Felt(b))),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Observe {
        entity: u8,
        model: u8,
        stream: bool,
        epoch: u32,
        order: u64,
        executed_at: u64,
        updated_at: u64,
        deletion: bool,
        game: Option<Primitive>,
    },
    Absent {
        entity: u8,
        model: u8,
        epoch: u32,
        page: u64,
    },
    Complete {
        model: u8,
        epoch: u32,
        page: u64,
        keep: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<u8>(), 0u8..3, any::<bool>(), 0u32..5, any::<u64>(), any::<u64>(), any::<u64>(), any::<bool>(), prop::option::of(primitive()))
            .prop_map(|(entity, model, stream, epoch, order, executed_at, updated_at, deletion, game)| Step::Observe {
                entity, model, stream, epoch, order, executed_at, updated_at, deletion, game,
            }),
        1 => (any::<u8>(), 0u8..3, 0u32..5, any::<u64>()).prop_map(|(entity, model, epoch, page)| Step::Absent { entity, model, epoch, page }),
        1 => (0u8..3, 0u32..5, any::<u64>(), any::<u8>()).prop_map(|(model, epoch, page, keep)| Step::Complete { model, epoch, page, keep }),
    ]
}

fn build(steps: &[Step]) -> Ledger {
    let mut ledger = Ledger::new();
    let models = [
        ledger.set_version_member("ns-A", Some("v")),
        ledger.model_id("ns-B"),
        ledger.model_id("ns-C"),
    ];
    for step in steps {
        match step.clone() {
            Step::Observe {
                entity,
                model,
                stream,
                epoch,
                order,
                executed_at,
                updated_at,
                deletion,
                game,
            } => {
                let source = if stream {
                    Source::Stream { epoch, seq: order }
                } else {
                    Source::Snapshot { epoch, page: order }
                };
                let mut obs = if deletion {
                    Observation::deletion(source, executed_at, updated_at)
                } else {
                    Observation::write(source, executed_at, updated_at)
                };
                obs.game = game;
                ledger.observe(
                    &Felt::from(u128::from(entity)),
                    models[usize::from(model)],
                    &obs,
                );
            }
            Step::Absent {
                entity,
                model,
                epoch,
                page,
            } => {
                ledger.observe_absent(
                    &Felt::from(u128::from(entity)),
                    models[usize::from(model)],
                    epoch,
                    page,
                );
            }
            Step::Complete {
                model,
                epoch,
                page,
                keep,
            } => {
                ledger.complete_snapshot(models[usize::from(model)], epoch, page, |e| {
                    e.0[31] % 4 < keep % 4
                });
            }
        }
    }
    ledger
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn random_ledgers_round_trip(steps in prop::collection::vec(step(), 0..60)) {
        let ledger = build(&steps);
        let bytes = ledger.encode();
        let restored = Ledger::decode(&bytes).unwrap();
        prop_assert_eq!(restored.encode(), bytes);
        prop_assert_eq!(restored.len(), ledger.len());
        prop_assert_eq!(restored.current_epoch(), ledger.current_epoch());
        for tag in ["ns-A", "ns-B", "ns-C"] {
            let (a, b) = (ledger.find_model(tag).unwrap(), restored.find_model(tag).unwrap());
            for entity in ledger.entities(a) {
                prop_assert_eq!(restored.get(entity, b), ledger.get(entity, a));
            }
        }
        // The restored ledger decides like the original.
        let (mut x, mut y) = (ledger.clone(), restored);
        for step in &steps {
            if let Step::Observe { entity, model, stream, epoch, order, executed_at, updated_at, deletion, game } = step.clone() {
                let source = if stream { Source::Stream { epoch, seq: order } } else { Source::Snapshot { epoch, page: order } };
                let mut obs = if deletion { Observation::deletion(source, executed_at, updated_at) } else { Observation::write(source, executed_at, updated_at) };
                obs.game = game;
                let tag = ["ns-A", "ns-B", "ns-C"][usize::from(model)];
                let (mx, my) = (x.find_model(tag).unwrap(), y.find_model(tag).unwrap());
                let id = Felt::from(u128::from(entity));
                prop_assert_eq!(x.observe(&id, mx, &obs), y.observe(&id, my, &obs));
            }
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Ledger::decode(&bytes);
        let mut with_header = b"DRL\x01".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = Ledger::decode(&with_header);
    }

    #[test]
    fn corrupted_encodings_never_panic(
        steps in prop::collection::vec(step(), 1..20),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = build(&steps).encode();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(ledger) = Ledger::decode(&bytes) {
            // Whatever decodes is a consistent ledger that encodes again.
            let again = Ledger::decode(&ledger.encode()).unwrap();
            prop_assert_eq!(again.len(), ledger.len());
        }
        let len = cut.index(bytes.len() + 1);
        let _ = Ledger::decode(&bytes[..len]);
    }
}
