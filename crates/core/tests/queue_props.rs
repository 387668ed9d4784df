//! Properties of the update queue's compaction: it matches a naive reference model exactly
//! (order, newest item per key, back-pressure hysteresis), stays bounded by the number of
//! distinct pending keys, and loses nothing.

use dojo_reactive_core::{Backpressure, Enqueued, QueueConfig, UpdateQueue};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Enqueue(u8),
    Drain(u8),
}

fn step(keys: u8) -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..keys).prop_map(Step::Enqueue),
        1 => any::<u8>().prop_map(|n| Step::Drain(n % 16)),
    ]
}

/// The obvious implementation: a vector searched linearly.
struct Reference {
    pending: Vec<(u8, u32)>,
    engaged: bool,
    config: QueueConfig,
}

impl Reference {
    fn enqueue(&mut self, key: u8, item: u32) -> (Enqueued, Backpressure) {
        let outcome = match self.pending.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => {
                slot.1 = item;
                Enqueued::Replaced
            }
            None => {
                self.pending.push((key, item));
                Enqueued::Added
            }
        };
        if self.pending.len() >= self.config.high_water {
            self.engaged = true;
        }
        (outcome, self.state())
    }

    fn drain(&mut self, n: usize) -> Vec<(u8, u32)> {
        let n = n.min(self.pending.len());
        let out: Vec<_> = self.pending.drain(..n).collect();
        if self.pending.len() <= self.config.low_water {
            self.engaged = false;
        }
        out
    }

    fn state(&self) -> Backpressure {
        if self.engaged {
            Backpressure::Engaged
        } else {
            Backpressure::Released
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn queue_matches_the_reference_and_loses_nothing(
        keys in 1u8..40,
        high in 1usize..30,
        low in 0usize..30,
        steps in prop::collection::vec(step(40), 0..300),
    ) {
        let config = QueueConfig { high_water: high, low_water: low.min(high) };
        let mut queue: UpdateQueue<u8, u32> = UpdateQueue::new(config);
        let mut reference = Reference { pending: Vec::new(), engaged: false, config };
        let mut last_enqueued: Vec<Option<u32>> = vec![None; 256];
        let mut delivered: Vec<Option<u32>> = vec![None; 256];
        let (mut added, mut replaced) = (0u64, 0u64);
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Enqueue(key) => {
                    let key = key % keys;
                    let got = queue.enqueue(key, i as u32);
                    prop_assert_eq!(got, reference.enqueue(key, i as u32));
                    match got.0 {
                        Enqueued::Added => added += 1,
                        Enqueued::Replaced => replaced += 1,
                    }
                    last_enqueued[usize::from(key)] = Some(i as u32);
                }
                Step::Drain(n) => {
                    let got = queue.drain_batch(usize::from(*n));
                    prop_assert_eq!(&got, &reference.drain(usize::from(*n)));
                    for (key, item) in got {
                        delivered[usize::from(key)] = Some(item);
                    }
                }
            }
            prop_assert!(queue.len() <= usize::from(keys));
            prop_assert_eq!(queue.backpressure(), reference.state());
        }
        // Flush: every key delivers the newest item it was given.
        let mut out = Vec::new();
        while queue.drain_into(&mut out, 7) > 0 {}
        for (key, item) in out {
            delivered[usize::from(key)] = Some(item);
        }
        prop_assert_eq!(delivered, last_enqueued);
        let stats = queue.stats();
        prop_assert_eq!(stats.enqueued, added + replaced);
        prop_assert_eq!(stats.superseded, replaced);
        prop_assert_eq!(stats.drained, added);
        prop_assert!(queue.is_empty());
    }
}

#[test]
fn a_burst_of_a_million_over_a_thousand_entities_holds_a_thousand() {
    use dojo_reactive_core::Felt;
    let mut queue: UpdateQueue<(Felt, u32), u64> = UpdateQueue::new(QueueConfig {
        high_water: 1_000,
        low_water: 500,
    });
    let ids: Vec<Felt> = (0..1_000u128)
        .map(|i| Felt::from(i * 0x9e37_79b9))
        .collect();
    let mut engaged_at = None;
    for i in 0..1_000_000u64 {
        let (_, pressure) = queue.enqueue((ids[(i % 1_000) as usize], 0), i);
        if pressure == Backpressure::Engaged && engaged_at.is_none() {
            engaged_at = Some(i);
        }
        assert!(queue.len() <= 1_000);
    }
    assert_eq!(engaged_at, Some(999));
    let batch = queue.drain_batch(1_000);
    assert_eq!(batch.len(), 1_000);
    for (n, ((id, _), item)) in batch.iter().enumerate() {
        assert_eq!(*id, ids[n]);
        assert_eq!(*item, 999_000 + n as u64);
    }
    assert_eq!(queue.backpressure(), Backpressure::Released);
}
