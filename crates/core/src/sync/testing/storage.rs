//! An in-memory [`StorageAdapter`] with atomic batches and injectable failures and crashes.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::entity::EntityId;
use crate::ledger::Version;
use crate::manifest::ManifestFingerprint;
use crate::name::Name;
use crate::sync::{
    EncodedRecord, LedgerEntry, ModelRecord, RecordHead, StorageAdapter, StorageError,
    StorageErrorKind, StoredRecord, StoredTarget, SyncBatch, TargetKind, TargetSyncState,
};

/// A record handed back "encoded", as a real storage hands back what it read: the synchronizer
/// sees only its head until it reads it, so every test runs the lazy path.
#[derive(Debug)]
struct Kept(ModelRecord);

impl EncodedRecord for Kept {
    fn decode(&self, _: &RecordHead) -> Result<ModelRecord, String> {
        Ok(self.0.clone())
    }
}

fn kept(record: &ModelRecord) -> StoredRecord {
    let head = RecordHead {
        entity: record.entity,
        model: record.state.name.clone(),
        updated_at: record.updated_at,
        executed_at: record.executed_at,
    };
    StoredRecord::encoded(head, Box::new(Kept(record.clone())))
}

#[derive(Debug, Clone, Default)]
struct MemTarget {
    models: BTreeMap<(EntityId, Name), ModelRecord>,
    ledger: BTreeMap<(EntityId, Name), Version>,
    sync: Option<TargetSyncState>,
}

#[derive(Debug, Default)]
struct MemInner {
    meta: Option<(String, String)>,
    targets: BTreeMap<TargetKind, MemTarget>,
    fail_commits: u32,
    /// Every commit is refused as by another tab's writer claim.
    fenced: bool,
    crash_after: Option<u64>,
    crashed: bool,
    unreadable: Vec<String>,
    commits: u64,
}

impl MemInner {
    /// What a load of `target` returns (without the skipped records).
    fn stored(&self, target: TargetKind) -> StoredTarget {
        let Some(t) = self.targets.get(&target) else {
            return StoredTarget::default();
        };
        StoredTarget {
            models: t.models.values().map(kept).collect(),
            ledger: t
                .ledger
                .iter()
                .map(|((entity, model), version)| LedgerEntry {
                    entity: *entity,
                    model: model.clone(),
                    version: *version,
                })
                .collect(),
            sync_state: t.sync.clone(),
            skipped: Vec::new(),
        }
    }
}

/// In-memory storage (see the module documentation). Share it with `Rc` or `&`.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    inner: RefCell<MemInner>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// The next `count` commits fail (transiently) and leave nothing behind.
    pub fn fail_next_commits(&self, count: u32) {
        self.inner.borrow_mut().fail_commits = count;
    }

    /// Every later commit is refused with [`StorageErrorKind::LostLeadership`], as when another
    /// tab's worker claimed the database.
    pub fn fence_commits(&self) {
        self.inner.borrow_mut().fenced = true;
    }

    /// After `commits` more successful commits, the process "crashes" before the next commit
    /// is stored: that commit and every later call fail until [`MemoryStorage::recover`].
    pub fn crash_after_commits(&self, commits: u64) {
        self.inner.borrow_mut().crash_after = Some(commits);
    }

    /// Makes one stored model state unreadable, as a corrupt record would be: it and its ledger
    /// version are gone, and the next `load` reports it in `StoredTarget::skipped`.
    pub fn corrupt_record(&self, target: TargetKind, entity: EntityId, model: &str) {
        let mut inner = self.inner.borrow_mut();
        let key = (entity, Name::from(model));
        if let Some(t) = inner.targets.get_mut(&target) {
            t.models.remove(&key);
            t.ledger.remove(&key);
        }
        inner
            .unreadable
            .push(format!("{}/{}: unreadable", entity.to_hex(), model));
    }

    /// Whether a crash happened.
    pub fn crashed(&self) -> bool {
        self.inner.borrow().crashed
    }

    /// Clears the crash (a new process opens the same data).
    pub fn recover(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.crashed = false;
        inner.crash_after = None;
    }

    /// Successful commits so far.
    pub fn commits(&self) -> u64 {
        self.inner.borrow().commits
    }

    /// The stored sync state of a target.
    pub fn stored_sync_state(&self, target: TargetKind) -> Option<TargetSyncState> {
        self.inner
            .borrow()
            .targets
            .get(&target)
            .and_then(|t| t.sync.clone())
    }

    /// Number of stored model states.
    pub fn model_count(&self, target: TargetKind) -> usize {
        self.inner
            .borrow()
            .targets
            .get(&target)
            .map_or(0, |t| t.models.len())
    }

    /// One stored model state.
    pub fn record(
        &self,
        target: TargetKind,
        entity: &EntityId,
        model: &str,
    ) -> Option<ModelRecord> {
        self.inner
            .borrow()
            .targets
            .get(&target)
            .and_then(|t| t.models.get(&(*entity, model.to_owned().into())).cloned())
    }

    /// The stored world as `{"entities": [{"entityId", "models": {tag: members}}]}`, entities
    /// sorted by id (the mock-torii `GET /_mock/world` form, ordered for comparison).
    pub fn world_json(&self, target: TargetKind) -> Json {
        let inner = self.inner.borrow();
        let mut entities: BTreeMap<EntityId, serde_json::Map<String, Json>> = BTreeMap::new();
        if let Some(t) = inner.targets.get(&target) {
            for ((entity, model), record) in &t.models {
                entities
                    .entry(*entity)
                    .or_default()
                    .insert(model.to_string(), record.state.members_json());
            }
        }
        world_json(entities)
    }

    /// Checks that what is stored agrees with itself ([`StoredTarget::disagreements`]).
    pub fn check_invariants(&self, target: TargetKind) -> Result<(), String> {
        let problems = self.inner.borrow().stored(target).disagreements();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Checks that storage holds exactly these ledger entries and `held` model states, each of
    /// which `holds` recognises (a synchronizer's `held_states` and `holds`).
    pub fn check_matches(
        &self,
        target: TargetKind,
        ledger: &[LedgerEntry],
        held: usize,
        holds: impl Fn(&ModelRecord) -> bool,
    ) -> Result<(), String> {
        let inner = self.inner.borrow();
        let empty = MemTarget::default();
        let t = inner.targets.get(&target).unwrap_or(&empty);
        let expected: BTreeMap<(EntityId, Name), Version> = ledger
            .iter()
            .map(|e| ((e.entity, e.model.clone()), e.version))
            .collect();
        if expected != t.ledger {
            let missing = expected
                .keys()
                .filter(|k| !t.ledger.contains_key(*k))
                .count();
            let extra = t
                .ledger
                .keys()
                .filter(|k| !expected.contains_key(*k))
                .count();
            let differing = expected
                .iter()
                .filter(|(k, v)| t.ledger.get(*k).is_some_and(|s| s != *v))
                .count();
            return Err(format!(
                "ledger differs: {missing} missing, {extra} extra, {differing} differing"
            ));
        }
        let differing = t.models.values().filter(|r| !holds(r)).count();
        if held != t.models.len() || differing > 0 {
            return Err(format!(
                "model states differ: {held} in memory, {} stored, {differing} of them not as in memory",
                t.models.len()
            ));
        }
        Ok(())
    }

    fn usable(inner: &MemInner) -> Result<(), StorageError> {
        if inner.crashed {
            return Err(StorageError::io("the store crashed"));
        }
        Ok(())
    }
}

/// Renders entities as the mock-torii world JSON.
pub(crate) fn world_json(entities: BTreeMap<EntityId, serde_json::Map<String, Json>>) -> Json {
    let list: Vec<Json> = entities
        .into_iter()
        .filter(|(_, models)| !models.is_empty())
        .map(|(id, models)| json!({ "entityId": id.to_hex(), "models": models }))
        .collect();
    json!({ "entities": list })
}

impl StorageAdapter for MemoryStorage {
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError> {
        let mut inner = self.inner.borrow_mut();
        Self::usable(&inner)?;
        match &inner.meta {
            None => {
                inner.meta = Some((fingerprint.hash.clone(), torii_version.to_owned()));
                Ok(())
            }
            Some((hash, _)) if *hash != fingerprint.hash => Err(StorageError {
                kind: StorageErrorKind::SchemaMismatch {
                    stored_hash: hash.clone(),
                    manifest_hash: fingerprint.hash.clone(),
                },
                message: "the store was written for another manifest".to_owned(),
            }),
            Some((_, version)) if version != torii_version => Err(StorageError {
                kind: StorageErrorKind::ToriiVersionChanged {
                    previous: version.clone(),
                    current: torii_version.to_owned(),
                },
                message: format!("Torii was {version:?} and is now {torii_version:?}"),
            }),
            Some(_) => Ok(()),
        }
    }

    async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        let mut inner = self.inner.borrow_mut();
        Self::usable(&inner)?;
        if inner.meta.is_none() {
            return Err(StorageError {
                kind: StorageErrorKind::NotInitialized,
                message: "load before init".to_owned(),
            });
        }
        let skipped = std::mem::take(&mut inner.unreadable);
        Ok(StoredTarget {
            skipped,
            ..inner.stored(target)
        })
    }

    async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError> {
        let mut inner = self.inner.borrow_mut();
        Self::usable(&inner)?;
        if inner.meta.is_none() {
            return Err(StorageError {
                kind: StorageErrorKind::NotInitialized,
                message: "commit before init".to_owned(),
            });
        }
        if inner.crash_after == Some(0) {
            inner.crashed = true;
            return Err(StorageError::io("the store crashed before the commit"));
        }
        if inner.fenced {
            return Err(StorageError {
                kind: StorageErrorKind::LostLeadership,
                message: "this worker lost its leadership: another tab writes now".into(),
            });
        }
        if inner.fail_commits > 0 {
            inner.fail_commits -= 1;
            return Err(StorageError::io("injected commit failure"));
        }
        if let Some(left) = inner.crash_after.as_mut() {
            *left -= 1;
        }
        inner.commits += 1;
        let t = inner.targets.entry(batch.target).or_default();
        for key in &batch.deletions {
            t.models.remove(&(key.entity, key.model.clone()));
            let versioned = batch
                .ledger
                .iter()
                .any(|e| e.entity == key.entity && e.model == key.model);
            if !versioned {
                t.ledger.remove(&(key.entity, key.model.clone()));
            }
        }
        for record in &batch.upserts {
            t.models
                .insert((record.entity, record.state.name.clone()), record.clone());
        }
        for entry in &batch.ledger {
            t.ledger
                .insert((entry.entity, entry.model.clone()), entry.version);
        }
        if let Some(state) = &batch.sync_state {
            t.sync = Some(state.clone());
        }
        Ok(())
    }

    async fn sync_state(
        &self,
        target: TargetKind,
    ) -> Result<Option<TargetSyncState>, StorageError> {
        let inner = self.inner.borrow();
        Self::usable(&inner)?;
        Ok(inner.targets.get(&target).and_then(|t| t.sync.clone()))
    }

    async fn reset(&self) -> Result<(), StorageError> {
        let mut inner = self.inner.borrow_mut();
        Self::usable(&inner)?;
        inner.meta = None;
        inner.targets.clear();
        Ok(())
    }
}
