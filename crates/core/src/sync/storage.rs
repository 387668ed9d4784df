//! The persistence side of the synchronizer: model states, their ledger versions and the
//! per-target sync state, written together in atomic batches.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::error::StorageError;
use super::fingerprint::Fingerprinter;
use super::stored::StoredRecord;
use super::target::TargetKind;
use crate::bytes32::Felt;
use crate::entity::EntityId;
use crate::ledger::Version;
use crate::manifest::ManifestFingerprint;
use crate::name::Name;
use crate::value::Struct;

/// One synced model state of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRecord {
    /// The entity.
    pub entity: EntityId,
    /// The world it belongs to.
    pub world_address: Felt,
    /// The state; its `name` is the model tag. Never a deletion.
    pub state: Struct,
    /// When Torii first indexed the entity (Unix seconds).
    pub created_at: u64,
    /// When Torii indexed this state (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of this state (Unix seconds).
    pub executed_at: u64,
}

impl ModelRecord {
    /// The model tag.
    pub fn model(&self) -> &str {
        &self.state.name
    }
}

/// An (entity, model) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelKey {
    /// The entity.
    pub entity: EntityId,
    /// The model tag.
    pub model: Name,
}

/// The ledger's version of one (entity, model): a write, a deletion or an absence tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The entity.
    pub entity: EntityId,
    /// The model tag.
    pub model: Name,
    /// The version.
    pub version: Version,
}

/// Where a target's sync stands; persisted with every batch that changes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetSyncState {
    /// Cursor of the next snapshot page to read; `None` at the start or after the last page.
    pub cursor: Option<String>,
    /// Whether a snapshot has been read to its end at least once.
    pub snapshot_complete: bool,
    /// Pages read since the snapshot in progress started.
    pub pages_read: u64,
    /// Clock time (ms) when the target was last known to be current.
    pub last_synced_at: Option<u64>,
    /// Newest Torii `updated_at` applied to the kind (Unix seconds); each target's own
    /// catch-up point is its [`ScopeSyncState::since`].
    pub last_timestamp: Option<u64>,
    /// Clock time (ms) of this record.
    pub updated_at: u64,
    /// Where each sync target of the kind stands: the declared ones in their order, then, with
    /// `Retention::Keep` (their data stays stored), the complete ones no longer declared, with
    /// their cursor.
    #[serde(default)]
    pub scopes: Vec<ScopeSyncState>,
}

/// Where one sync target ([`TargetScope`](super::TargetScope)) stands; persisted with its kind's
/// sync state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeSyncState {
    /// The target's id.
    pub id: String,
    /// [`TargetScope::digest`](super::TargetScope::digest) of what it selected when stored.
    pub digest: u64,
    /// Whether everything it selects has been read (it is then visible as complete).
    pub complete: bool,
    /// The target's resume cursor: the newest Torii `updated_at` (Unix seconds) applied while
    /// it was complete and streamed; a catch-up of this target reads its rows changed since
    /// (less `catch_up_margin_s`). `None` while it is not complete (it is paged, not caught
    /// up): a target never inherits a cursor older than itself.
    #[serde(default)]
    pub since: Option<u64>,
}

/// Everything stored for one target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredTarget {
    /// Model states (possibly still encoded: see [`StoredRecord`]).
    pub models: Vec<StoredRecord>,
    /// Ledger versions (of the states above, and tombstones).
    pub ledger: Vec<LedgerEntry>,
    /// The sync state, if one was written.
    pub sync_state: Option<TargetSyncState>,
    /// Records that could not be read back and were skipped (what they held is re-read from
    /// Torii by the next pass), one message each naming the record and the problem.
    pub skipped: Vec<String>,
}

impl StoredTarget {
    /// Keeps only the states and ledger entries of `entities` (in ascending id order).
    pub fn retain_entities(&mut self, entities: &[EntityId]) {
        let wanted = |entity: &EntityId| entities.binary_search(entity).is_ok();
        self.models.retain(|record| wanted(record.entity()));
        self.ledger.retain(|entry| wanted(&entry.entity));
    }
}

/// One stored write, as a start-up reads them back ([`StorageAdapter::load_seeding`]): in the
/// order they were stored, so that a later write of an (entity, model)'s state, or of its
/// version, supersedes an earlier one.
#[derive(Debug)]
pub enum StoredWrite {
    /// A model state (fingerprinted or encoded).
    State(StoredRecord),
    /// The model state deleted.
    StateDeleted(ModelKey),
    /// A ledger version.
    Version(LedgerEntry),
    /// The ledger version forgotten.
    VersionCleared(ModelKey),
}

/// One atomic write: it is stored entirely or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncBatch {
    /// The target written.
    pub target: TargetKind,
    /// Model states to insert or replace.
    pub upserts: Vec<ModelRecord>,
    /// Model states to delete: with their tombstones in `ledger`, or, for a deletion without
    /// a ledger entry in this batch, forgotten with their version (no tombstone is kept: the
    /// (entity, model) left what is synced, e.g. no sync target covers it any more).
    pub deletions: Vec<ModelKey>,
    /// Ledger versions of exactly the (entity, model) pairs this batch changes.
    pub ledger: Vec<LedgerEntry>,
    /// The new sync state, when it changes.
    pub sync_state: Option<TargetSyncState>,
}

impl SyncBatch {
    /// An empty batch for a target.
    pub fn new(target: TargetKind) -> Self {
        SyncBatch {
            target,
            upserts: Vec::new(),
            deletions: Vec::new(),
            ledger: Vec::new(),
            sync_state: None,
        }
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty()
            && self.deletions.is_empty()
            && self.ledger.is_empty()
            && self.sync_state.is_none()
    }
}

/// Persistence of synced data. Calls take `&self` so several targets can share one store.
#[allow(async_fn_in_trait)]
pub trait StorageAdapter {
    /// Opens the store for this manifest and Torii version. An empty store records them; a
    /// store written for another manifest fails with `SchemaMismatch`, one written from another
    /// Torii version with `ToriiVersionChanged` (the host then decides: `reset` or stop).
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError>;

    /// Everything stored for a target.
    async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError>;

    /// Everything stored for a target, for the synchronizer's start-up, handed to `seed` as it
    /// is read, one write at a time in the order it was stored (the states fingerprinted
    /// `with`), so that the start-up holds what it keeps and a chunk of what is read, not the
    /// whole load besides. The synchronizer keeps only a fingerprint of each state: an adapter
    /// may hand them over fingerprinted ([`StoredRecord::fingerprinted`]), so that nothing it
    /// read them from outlives the read. Returns the rest: the sync state and what was skipped
    /// (no states, no ledger entries). By default, [`Self::load`] handed over whole (each
    /// version before the states, none fingerprinted).
    async fn load_seeding(
        &self,
        target: TargetKind,
        with: &Fingerprinter,
        seed: &mut dyn FnMut(StoredWrite),
    ) -> Result<StoredTarget, StorageError> {
        let _ = with;
        let mut stored = self.load(target).await?;
        for entry in std::mem::take(&mut stored.ledger) {
            seed(StoredWrite::Version(entry));
        }
        for record in std::mem::take(&mut stored.models) {
            seed(StoredWrite::State(record));
        }
        Ok(stored)
    }

    /// Everything stored for a target, read for the synchronizer's own judgement (what a
    /// target change leaves uncovered), without what an adapter does with a load besides
    /// returning it (the worker's sends every loaded state to the view).
    async fn read(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        self.load(target).await
    }

    /// What is stored for some entities of a target (their states and ledger entries; the
    /// entities in ascending id order), read
    /// for the synchronizer's own judgement as [`StorageAdapter::read`] is: a target change
    /// judges coverage a chunk of entities at a time, holding one chunk's states rather than
    /// the kind's. This default reads the whole kind and keeps the entities asked for; a store
    /// that can read by entity reads only the records that hold them.
    async fn read_entities(
        &self,
        target: TargetKind,
        entities: &[EntityId],
    ) -> Result<StoredTarget, StorageError> {
        let mut stored = self.read(target).await?;
        stored.retain_entities(entities);
        Ok(stored)
    }

    /// Writes a batch atomically.
    async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError>;

    /// The stored sync state of a target.
    async fn sync_state(&self, target: TargetKind)
        -> Result<Option<TargetSyncState>, StorageError>;

    /// Deletes everything, including the recorded fingerprint and version.
    async fn reset(&self) -> Result<(), StorageError>;
}

/// `StorageAdapter` for shared handles: `&S` and `Rc<S>` forward every call.
macro_rules! forward_storage_adapter {
    ($($handle:ty),+) => {$(
        impl<S: StorageAdapter + ?Sized> StorageAdapter for $handle {
            async fn init(
                &self,
                fingerprint: &ManifestFingerprint,
                torii_version: &str,
            ) -> Result<(), StorageError> {
                (**self).init(fingerprint, torii_version).await
            }

            async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
                (**self).load(target).await
            }

            async fn load_seeding(
                &self,
                target: TargetKind,
                with: &Fingerprinter,
                seed: &mut dyn FnMut(StoredWrite),
            ) -> Result<StoredTarget, StorageError> {
                (**self).load_seeding(target, with, seed).await
            }

            async fn read(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
                (**self).read(target).await
            }

            async fn read_entities(
                &self,
                target: TargetKind,
                entities: &[EntityId],
            ) -> Result<StoredTarget, StorageError> {
                (**self).read_entities(target, entities).await
            }

            async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError> {
                (**self).commit(batch).await
            }

            async fn sync_state(
                &self,
                target: TargetKind,
            ) -> Result<Option<TargetSyncState>, StorageError> {
                (**self).sync_state(target).await
            }

            async fn reset(&self) -> Result<(), StorageError> {
                (**self).reset().await
            }
        }
    )+};
}

forward_storage_adapter!(&S, Rc<S>);
