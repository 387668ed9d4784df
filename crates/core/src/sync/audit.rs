//! Checks that what a store holds for a target agrees with itself: every model state has the
//! ledger's write version of it, every tombstone has no state, and the sync state exists once
//! anything was stored. A store written only by atomic batches always passes; a failure means a
//! batch was torn or a record was lost.

use std::collections::HashMap;

use super::storage::{ModelKey, StoredTarget};
use crate::ledger::StateKind;

impl StoredTarget {
    /// Every disagreement between the stored states, their ledger entries and the sync state,
    /// one message each (empty when the store agrees with itself).
    pub fn disagreements(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut ledger = HashMap::with_capacity(self.ledger.len());
        for entry in &self.ledger {
            let key = ModelKey {
                entity: entry.entity,
                model: entry.model.clone(),
            };
            if ledger.insert(key, entry.version).is_some() {
                problems.push(format!(
                    "{} {}: two ledger entries",
                    entry.entity.to_hex(),
                    entry.model
                ));
            }
        }
        let mut written = 0;
        for record in &self.models {
            let key = ModelKey {
                entity: *record.entity(),
                model: record.model().into(),
            };
            let name = || format!("{} {}", record.entity().to_hex(), record.model());
            if let Some(error) = record.decode_error() {
                problems.push(format!(
                    "{}: the stored state cannot be decoded: {error}",
                    name()
                ));
            }
            match ledger.get(&key) {
                None => problems.push(format!("{}: a stored state without a ledger entry", name())),
                Some(version) if version.state != StateKind::Write => problems.push(format!(
                    "{}: a stored state whose ledger entry is a {:?} tombstone",
                    name(),
                    version.state
                )),
                Some(version) => {
                    written += 1;
                    if (version.executed_at, version.updated_at)
                        != (record.executed_at(), record.updated_at())
                    {
                        problems.push(format!(
                            "{}: the stored state is of ({}, {}), its ledger entry of ({}, {})",
                            name(),
                            record.executed_at(),
                            record.updated_at(),
                            version.executed_at,
                            version.updated_at
                        ))
                    }
                }
            }
        }
        let writes = ledger
            .values()
            .filter(|v| v.state == StateKind::Write)
            .count();
        if writes > written {
            problems.push(format!(
                "{} ledger write entries have no stored state",
                writes - written
            ));
        }
        match &self.sync_state {
            None if !self.models.is_empty() || !self.ledger.is_empty() => {
                problems.push("states are stored but no sync state (cursor) is".to_owned())
            }
            Some(state) if state.cursor.is_some() && state.pages_read == 0 => {
                problems.push("the sync state has a snapshot cursor but no page read".to_owned())
            }
            _ => {}
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes32::Felt;
    use crate::ledger::{Source, Version};
    use crate::sync::testing::{entity_id, model_state};
    use crate::sync::{LedgerEntry, ModelRecord, TargetSyncState};

    fn record(n: u64, updated_at: u64) -> ModelRecord {
        ModelRecord {
            entity: entity_id(n),
            world_address: Felt::default(),
            state: model_state("ns-M", n, 1, 0),
            created_at: 1,
            updated_at,
            executed_at: updated_at,
        }
    }

    fn entry(n: u64, updated_at: u64, state: StateKind) -> LedgerEntry {
        LedgerEntry {
            entity: entity_id(n),
            model: "ns-M".into(),
            version: Version {
                source: Source::Snapshot { epoch: 1, page: 1 },
                executed_at: updated_at,
                updated_at,
                state,
                game: None,
            },
        }
    }

    fn stored(models: Vec<ModelRecord>, ledger: Vec<LedgerEntry>) -> StoredTarget {
        StoredTarget {
            models: models.into_iter().map(Into::into).collect(),
            ledger,
            sync_state: Some(TargetSyncState::default()),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn states_with_their_write_versions_and_tombstones_agree() {
        let target = stored(
            vec![record(1, 10), record(2, 20)],
            vec![
                entry(1, 10, StateKind::Write),
                entry(2, 20, StateKind::Write),
                entry(3, 30, StateKind::Deleted),
                entry(4, 0, StateKind::Absent),
            ],
        );
        assert_eq!(target.disagreements(), Vec::<String>::new());
        assert!(StoredTarget::default().disagreements().is_empty());
    }

    #[test]
    fn every_torn_write_is_named() {
        let target = stored(
            vec![record(1, 10), record(2, 20), record(3, 30)],
            vec![
                entry(2, 25, StateKind::Write),
                entry(3, 30, StateKind::Deleted),
                entry(4, 40, StateKind::Write),
            ],
        );
        let problems = target.disagreements();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("without a ledger entry"));
        assert!(problems[1].contains("(20, 20), its ledger entry of (25, 25)"));
        assert!(problems[2].contains("Deleted tombstone"));
        assert!(problems[3].contains("1 ledger write entries have no stored state"));
    }

    #[test]
    fn states_without_a_sync_state_or_a_cursor_without_pages_disagree() {
        let mut target = stored(vec![record(1, 10)], vec![entry(1, 10, StateKind::Write)]);
        target.sync_state = None;
        assert_eq!(target.disagreements().len(), 1);
        target.sync_state = Some(TargetSyncState {
            cursor: Some("c".into()),
            ..TargetSyncState::default()
        });
        assert!(target.disagreements()[0].contains("cursor but no page"));
    }
}
