//! `Unpersisted`: the batches of one target that the store has not taken yet (their commit
//! failed), coalesced per (entity, model): the latest state wins, a deletion stays a deletion,
//! the latest batch's sync state wins. Writing it as one batch stores exactly what writing the
//! batches in order would have stored, and it never holds more than one entry per
//! (entity, model), whatever the number of batches.

use std::collections::BTreeMap;

use dojo_reactive_core::sync::{
    LedgerEntry, ModelKey, ModelRecord, StoredRecord, StoredTarget, StoredWrite, SyncBatch,
    TargetKind, TargetSyncState,
};

/// What a batch does to one (entity, model)'s state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Upsert(ModelRecord),
    Delete,
}

/// Coalesced batches of one target, not yet stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unpersisted {
    states: BTreeMap<ModelKey, Change>,
    ledger: BTreeMap<ModelKey, LedgerEntry>,
    sync_state: Option<TargetSyncState>,
}

impl Unpersisted {
    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty() && self.ledger.is_empty() && self.sync_state.is_none()
    }

    /// How many (entity, model) states wait (changed states and ledger-only changes).
    pub fn len(&self) -> usize {
        let ledger_only = self
            .ledger
            .keys()
            .filter(|key| !self.states.contains_key(*key))
            .count();
        self.states.len() + ledger_only
    }

    /// Adds a batch newer than everything held (a batch's deletions come after its upserts,
    /// as the store applies them).
    pub fn push(&mut self, batch: &SyncBatch) {
        for record in &batch.upserts {
            self.states
                .insert(key_of(record), Change::Upsert(record.clone()));
        }
        for key in &batch.deletions {
            self.states.insert(key.clone(), Change::Delete);
            // A deletion without a ledger entry forgets the version (`SyncBatch::deletions`).
            self.ledger.remove(key);
        }
        for entry in &batch.ledger {
            self.ledger.insert(
                ModelKey {
                    entity: entry.entity,
                    model: entry.model.clone(),
                },
                entry.clone(),
            );
        }
        if batch.sync_state.is_some() {
            self.sync_state.clone_from(&batch.sync_state);
        }
    }

    /// Puts back what an attempt took ([`Unpersisted::take_batch`]) and could not store, under
    /// what arrived meanwhile (which is newer).
    pub fn put_back(&mut self, older: SyncBatch) {
        let mut merged = Unpersisted::default();
        merged.push(&older);
        for (key, change) in std::mem::take(&mut self.states) {
            if change == Change::Delete && !self.ledger.contains_key(&key) {
                // Forgotten since: the older version goes too.
                merged.ledger.remove(&key);
            }
            merged.states.insert(key, change);
        }
        for (key, entry) in std::mem::take(&mut self.ledger) {
            merged.ledger.insert(key, entry);
        }
        if self.sync_state.is_some() {
            merged.sync_state = self.sync_state.take();
        }
        *self = merged;
    }

    /// Empties the set into one batch of `target` (to write atomically).
    pub fn take_batch(&mut self, target: TargetKind) -> SyncBatch {
        let taken = std::mem::take(self);
        let mut batch = SyncBatch::new(target);
        for (key, change) in taken.states {
            match change {
                Change::Upsert(record) => batch.upserts.push(record),
                Change::Delete => batch.deletions.push(key),
            }
        }
        batch.ledger = taken.ledger.into_values().collect();
        batch.sync_state = taken.sync_state;
        batch
    }
}

impl Unpersisted {
    /// What the store would hold once this is written: `stored` with these changes applied.
    pub fn overlay(&self, stored: &mut StoredTarget) {
        stored
            .models
            .retain(|record| !self.states.contains_key(&stored_key(record)));
        stored
            .models
            .extend(self.states.values().filter_map(|change| match change {
                Change::Upsert(record) => Some(StoredRecord::from(record.clone())),
                Change::Delete => None,
            }));
        stored.ledger.retain(|entry| {
            !self.ledger.contains_key(&ModelKey {
                entity: entry.entity,
                model: entry.model.clone(),
            })
        });
        stored.ledger.extend(self.ledger.values().cloned());
        if self.sync_state.is_some() {
            stored.sync_state.clone_from(&self.sync_state);
        }
    }
}

impl Unpersisted {
    /// [`Unpersisted::overlay`] for a start-up that seeds as it reads
    /// (`StorageAdapter::load_seeding`): these changes handed to `seed` after what is stored
    /// (the versions first), the sync state put in `stored`.
    pub fn overlay_seeding(&self, stored: &mut StoredTarget, seed: &mut dyn FnMut(StoredWrite)) {
        for entry in self.ledger.values() {
            seed(StoredWrite::Version(entry.clone()));
        }
        for (key, change) in &self.states {
            seed(match change {
                Change::Upsert(record) => StoredWrite::State(StoredRecord::from(record.clone())),
                Change::Delete => StoredWrite::StateDeleted(key.clone()),
            });
        }
        if self.sync_state.is_some() {
            stored.sync_state.clone_from(&self.sync_state);
        }
    }
}

fn stored_key(record: &StoredRecord) -> ModelKey {
    ModelKey {
        entity: *record.entity(),
        model: record.model().into(),
    }
}

fn key_of(record: &ModelRecord) -> ModelKey {
    ModelKey {
        entity: record.entity,
        model: record.state.name.clone(),
    }
}

// Native only, like the adapter tests whose records they borrow.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::adapter::tests::record_with as record;
    use dojo_reactive_core::Felt;

    fn key(id: u128) -> ModelKey {
        ModelKey {
            entity: Felt::from(id),
            model: "ns-A".into(),
        }
    }

    fn cursor(name: &str) -> Option<TargetSyncState> {
        Some(TargetSyncState {
            cursor: Some(name.into()),
            ..TargetSyncState::default()
        })
    }

    #[test]
    fn latest_wins_deletions_stay_and_the_latest_cursor_is_kept() {
        let mut set = Unpersisted::default();
        let mut first = SyncBatch::new(TargetKind::Entities);
        first.upserts = vec![record(1, 1), record(2, 1)];
        first.sync_state = cursor("a");
        let mut second = SyncBatch::new(TargetKind::Entities);
        second.upserts = vec![record(1, 2)];
        second.deletions = vec![key(2)];
        let third = SyncBatch::new(TargetKind::Entities);
        set.push(&first);
        set.push(&second);
        set.push(&third);
        assert_eq!(set.len(), 2, "one entry per (entity, model)");
        let batch = set.take_batch(TargetKind::Entities);
        assert!(set.is_empty());
        assert_eq!(batch.upserts, vec![record(1, 2)]);
        assert_eq!(batch.deletions, vec![key(2)]);
        assert_eq!(batch.sync_state, cursor("a"), "no later batch moved it");
    }

    #[test]
    fn what_is_put_back_goes_under_what_arrived_meanwhile() {
        let mut set = Unpersisted::default();
        let mut old = SyncBatch::new(TargetKind::Entities);
        old.upserts = vec![record(1, 1), record(2, 1)];
        old.sync_state = cursor("old");
        set.push(&old);
        let taken = set.take_batch(TargetKind::Entities);
        let mut newer = SyncBatch::new(TargetKind::Entities);
        newer.deletions = vec![key(1)];
        newer.sync_state = cursor("new");
        set.push(&newer);
        set.put_back(taken);
        let batch = set.take_batch(TargetKind::Entities);
        assert_eq!(batch.upserts, vec![record(2, 1)]);
        assert_eq!(batch.deletions, vec![key(1)]);
        assert_eq!(batch.sync_state, cursor("new"));
    }

    #[test]
    fn a_state_forgotten_later_leaves_no_version_behind() {
        let version = |id: u128| LedgerEntry {
            entity: Felt::from(id),
            model: "ns-A".into(),
            version: dojo_reactive_core::Version {
                source: dojo_reactive_core::Source::Stream { epoch: 1, seq: 1 },
                executed_at: 1,
                updated_at: 1,
                state: dojo_reactive_core::StateKind::Write,
                game: None,
            },
        };
        let mut old = SyncBatch::new(TargetKind::Entities);
        old.upserts = vec![record(1, 1), record(2, 1)];
        old.ledger = vec![version(1), version(2)];
        // A deletion without a ledger entry: no target covers entity 1 any more.
        let mut forget = SyncBatch::new(TargetKind::Entities);
        forget.deletions = vec![key(1)];
        let mut set = Unpersisted::default();
        set.push(&old);
        set.push(&forget);
        let batch = set.take_batch(TargetKind::Entities);
        assert_eq!(batch.deletions, vec![key(1)]);
        assert_eq!(batch.ledger, vec![version(2)]);
        // The same when the older batch is put back under it.
        let mut set = Unpersisted::default();
        set.push(&forget);
        set.put_back(old);
        let batch = set.take_batch(TargetKind::Entities);
        assert_eq!(batch.deletions, vec![key(1)]);
        assert_eq!(batch.ledger, vec![version(2)]);
    }

    #[test]
    fn seeding_what_waits_after_what_is_stored_ends_as_the_overlay() {
        let version = |id: u128, at: u64| LedgerEntry {
            entity: Felt::from(id),
            model: "ns-A".into(),
            version: dojo_reactive_core::Version {
                source: dojo_reactive_core::Source::Stream { epoch: 1, seq: at },
                executed_at: at,
                updated_at: at,
                state: dojo_reactive_core::StateKind::Write,
                game: None,
            },
        };
        let stored = StoredTarget {
            models: vec![
                record(1, 1).into(),
                record(2, 1).into(),
                record(3, 1).into(),
            ],
            ledger: vec![version(1, 1), version(2, 1), version(3, 1)],
            ..StoredTarget::default()
        };
        let mut batch = SyncBatch::new(TargetKind::Entities);
        batch.upserts = vec![record(1, 2)];
        batch.deletions = vec![key(2)];
        batch.ledger = vec![version(1, 2), version(2, 2)];
        batch.sync_state = cursor("waiting");
        let mut set = Unpersisted::default();
        set.push(&batch);

        let mut overlaid = stored.clone();
        set.overlay(&mut overlaid);

        // What is stored, then what waits, applied write by write.
        let mut states: BTreeMap<ModelKey, ModelRecord> = stored
            .models
            .iter()
            .map(|r| (stored_key(r), r.get().unwrap().clone()))
            .collect();
        let mut ledger: BTreeMap<ModelKey, LedgerEntry> = stored
            .ledger
            .iter()
            .map(|e| (key(u128::from(e.entity.0[31])), e.clone()))
            .collect();
        let mut rest = StoredTarget::default();
        let mut order = Vec::new();
        set.overlay_seeding(&mut rest, &mut |write| match write {
            StoredWrite::State(record) => {
                order.push("state");
                let record = record.get().unwrap().clone();
                states.insert(key_of(&record), record);
            }
            StoredWrite::StateDeleted(key) => {
                order.push("state");
                states.remove(&key);
            }
            StoredWrite::Version(entry) => {
                order.push("version");
                ledger.insert(key(u128::from(entry.entity.0[31])), entry);
            }
            StoredWrite::VersionCleared(key) => {
                order.push("version");
                ledger.remove(&key);
            }
        });
        assert_eq!(order, ["version", "version", "state", "state"]);
        assert_eq!(rest.sync_state, cursor("waiting"));
        let mut expected: Vec<ModelRecord> = overlaid
            .models
            .iter()
            .map(|r| r.get().unwrap().clone())
            .collect();
        expected.sort_by_key(key_of);
        assert_eq!(states.into_values().collect::<Vec<_>>(), expected);
        let mut expected = overlaid.ledger;
        expected.sort_by_key(|e| e.entity);
        assert_eq!(ledger.into_values().collect::<Vec<_>>(), expected);
    }
}
