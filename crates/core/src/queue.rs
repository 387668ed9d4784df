//! The update queue between the ledger and storage, with per-key compaction.
//!
//! Every applied update is enqueued under its key (typically `(entity, model)`). If that key is
//! already pending, the new item **replaces the pending one in place**: the entry keeps its
//! original position, so a key that is updated continuously is still written in its turn and can
//! never be starved by newer keys. The queue therefore holds at most one entry per distinct key
//! (a burst of 1,000,000 updates over 1,000 keys holds at most 1,000 entries) and delivers the
//! newest item of each. The queue does not judge versions: the [`Ledger`](crate::Ledger) has
//! already dropped stale updates, so a later enqueue is a newer state.
//!
//! Draining is deterministic: batches come out in order of first enqueue since the key was last
//! drained. A key enqueued again after being drained goes to the back.
//!
//! Back-pressure: once the depth reaches the high-water mark, [`UpdateQueue::enqueue`] reports
//! [`Backpressure::Engaged`] (the caller should stop pulling from the network) until draining
//! brings the depth down to the low-water mark. Nothing is ever dropped.

use std::collections::VecDeque;
use std::hash::Hash;

use crate::hasher::FastMap;

/// Back-pressure thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// Depth at which back-pressure engages (at least 1).
    pub high_water: usize,
    /// Depth at or below which it releases again (at most `high_water`).
    pub low_water: usize,
}

impl Default for QueueConfig {
    /// High water 10,000 pending entries, low water 5,000.
    fn default() -> Self {
        QueueConfig {
            high_water: 10_000,
            low_water: 5_000,
        }
    }
}

/// Whether the producer should pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backpressure {
    /// Keep going.
    Released,
    /// The queue is at or above its high-water mark: pause until it drains.
    Engaged,
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new pending entry at the back.
    Added,
    /// The key was pending; its item was replaced in place (the old item is superseded).
    Replaced,
}

/// Counters since creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Items enqueued.
    pub enqueued: u64,
    /// Pending items replaced by a newer one for the same key.
    pub superseded: u64,
    /// Items handed out by draining.
    pub drained: u64,
    /// Largest depth reached.
    pub max_depth: usize,
    /// How many times back-pressure engaged.
    pub engaged: u64,
}

/// A FIFO of pending updates with one entry per key (see the module documentation).
#[derive(Debug, Clone)]
pub struct UpdateQueue<K, T> {
    slots: VecDeque<(K, T)>,
    positions: FastMap<K, u64>,
    head: u64,
    config: QueueConfig,
    engaged: bool,
    stats: QueueStats,
}

impl<K: Hash + Eq + Clone, T> Default for UpdateQueue<K, T> {
    fn default() -> Self {
        UpdateQueue::new(QueueConfig::default())
    }
}

impl<K: Hash + Eq + Clone, T> UpdateQueue<K, T> {
    /// An empty queue; `high_water` is raised to at least 1 and `low_water` lowered to at most
    /// `high_water`.
    pub fn new(config: QueueConfig) -> Self {
        let high_water = config.high_water.max(1);
        let config = QueueConfig {
            high_water,
            low_water: config.low_water.min(high_water),
        };
        UpdateQueue {
            slots: VecDeque::new(),
            positions: FastMap::default(),
            head: 0,
            config,
            engaged: false,
            stats: QueueStats::default(),
        }
    }

    /// Enqueues `item` under `key`, replacing a pending item of the same key in place; returns
    /// what happened and the back-pressure state after it.
    pub fn enqueue(&mut self, key: K, item: T) -> (Enqueued, Backpressure) {
        self.stats.enqueued += 1;
        let outcome = match self.positions.get(&key) {
            Some(&position) => {
                let slot = position
                    .checked_sub(self.head)
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| self.slots.get_mut(i));
                match slot {
                    Some(slot) => {
                        slot.1 = item;
                        self.stats.superseded += 1;
                        Enqueued::Replaced
                    }
                    // Unreachable while the index is consistent; recover by appending.
                    None => self.push(key, item),
                }
            }
            None => self.push(key, item),
        };
        if !self.engaged && self.slots.len() >= self.config.high_water {
            self.engaged = true;
            self.stats.engaged += 1;
        }
        (outcome, self.backpressure())
    }

    fn push(&mut self, key: K, item: T) -> Enqueued {
        self.positions
            .insert(key.clone(), self.head + self.slots.len() as u64);
        self.slots.push_back((key, item));
        self.stats.max_depth = self.stats.max_depth.max(self.slots.len());
        Enqueued::Added
    }

    /// Removes up to `max` entries from the front, in order, appending them to `out`; returns
    /// how many were moved.
    pub fn drain_into(&mut self, out: &mut Vec<(K, T)>, max: usize) -> usize {
        let count = max.min(self.slots.len());
        out.reserve(count);
        for _ in 0..count {
            if let Some((key, item)) = self.slots.pop_front() {
                self.positions.remove(&key);
                self.head += 1;
                out.push((key, item));
            }
        }
        self.stats.drained += count as u64;
        if self.engaged && self.slots.len() <= self.config.low_water {
            self.engaged = false;
        }
        count
    }

    /// Removes and returns up to `max` entries from the front (a storage batch).
    pub fn drain_batch(&mut self, max: usize) -> Vec<(K, T)> {
        let mut out = Vec::new();
        self.drain_into(&mut out, max);
        out
    }

    /// Pending entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The pending item of a key.
    pub fn get(&self, key: &K) -> Option<&T> {
        let position = *self.positions.get(key)?;
        let index = usize::try_from(position.checked_sub(self.head)?).ok()?;
        self.slots.get(index).map(|(_, item)| item)
    }

    /// Pending entries front to back, without removing them.
    pub fn iter(&self) -> impl Iterator<Item = &(K, T)> {
        self.slots.iter()
    }

    /// The current back-pressure state.
    pub fn backpressure(&self) -> Backpressure {
        if self.engaged {
            Backpressure::Engaged
        } else {
            Backpressure::Released
        }
    }

    /// The thresholds in force.
    pub fn config(&self) -> QueueConfig {
        self.config
    }

    /// Counters.
    pub fn stats(&self) -> &QueueStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(high: usize, low: usize) -> UpdateQueue<u32, &'static str> {
        UpdateQueue::new(QueueConfig {
            high_water: high,
            low_water: low,
        })
    }

    #[test]
    fn replacing_keeps_the_original_position() {
        let mut q = queue(100, 50);
        assert_eq!(q.enqueue(1, "a1").0, Enqueued::Added);
        q.enqueue(2, "b1");
        assert_eq!(q.enqueue(1, "a2").0, Enqueued::Replaced);
        q.enqueue(3, "c1");
        assert_eq!(q.drain_batch(10), vec![(1, "a2"), (2, "b1"), (3, "c1")]);
        assert_eq!(q.stats().superseded, 1);
        assert_eq!(q.stats().drained, 3);
    }

    #[test]
    fn a_key_enqueued_after_draining_goes_to_the_back() {
        let mut q = queue(100, 50);
        q.enqueue(1, "a1");
        q.enqueue(2, "b1");
        assert_eq!(q.drain_batch(1), vec![(1, "a1")]);
        q.enqueue(1, "a2");
        q.enqueue(2, "b2");
        assert_eq!(q.get(&2), Some(&"b2"));
        assert_eq!(q.drain_batch(5), vec![(2, "b2"), (1, "a2")]);
        assert!(q.is_empty());
        assert_eq!(q.get(&1), None);
    }

    #[test]
    fn backpressure_engages_at_high_water_and_releases_at_low_water() {
        let mut q = queue(3, 1);
        assert_eq!(q.enqueue(1, "x").1, Backpressure::Released);
        assert_eq!(q.enqueue(2, "x").1, Backpressure::Released);
        assert_eq!(q.enqueue(3, "x").1, Backpressure::Engaged);
        // Replacing does not grow the queue but it stays engaged.
        assert_eq!(q.enqueue(3, "y").1, Backpressure::Engaged);
        q.drain_batch(1);
        assert_eq!(q.backpressure(), Backpressure::Engaged);
        q.drain_batch(1);
        assert_eq!(q.backpressure(), Backpressure::Released);
        assert_eq!(q.stats().engaged, 1);
        assert_eq!(q.stats().max_depth, 3);
    }

    #[test]
    fn bad_thresholds_are_clamped() {
        let q = queue(0, 9);
        assert_eq!(
            q.config(),
            QueueConfig {
                high_water: 1,
                low_water: 1
            }
        );
    }

    #[test]
    fn a_million_updates_over_a_thousand_keys_hold_a_thousand_entries() {
        let mut q: UpdateQueue<u32, u32> = UpdateQueue::new(QueueConfig {
            high_water: 5_000,
            low_water: 1_000,
        });
        for i in 0..1_000_000u32 {
            q.enqueue(i.wrapping_mul(7919) % 1_000, i);
        }
        assert_eq!(q.len(), 1_000);
        assert_eq!(q.stats().superseded, 999_000);
        let mut newest = [0u32; 1_000];
        for i in 0..1_000_000u32 {
            newest[(i.wrapping_mul(7919) % 1_000) as usize] = i;
        }
        let mut out = Vec::new();
        while q.drain_into(&mut out, 128) > 0 {}
        assert_eq!(out.len(), 1_000);
        for (key, item) in out {
            assert_eq!(item, newest[key as usize]);
        }
    }
}
