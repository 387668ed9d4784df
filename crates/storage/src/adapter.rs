//! [`Storage`] as the synchronizer's [`StorageAdapter`].

use dojo_reactive_core::sync::{
    Fingerprinter, StorageAdapter, StorageError, StoredTarget, StoredWrite, SyncBatch, TargetKind,
    TargetSyncState,
};
use dojo_reactive_core::{EntityId, ManifestFingerprint};

use crate::backend::Backend;
use crate::store::Storage;

impl<B: Backend> StorageAdapter for Storage<B> {
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError> {
        Storage::init(self, fingerprint, torii_version).await?;
        Ok(())
    }

    /// Skipped records are dropped here; [`Storage::load`] and [`Storage::take_skipped`] report them.
    async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        Ok(Storage::load(self, target).await?.data)
    }

    /// Each write handed over as its segment is replayed ([`Storage::load_seeding`]).
    async fn load_seeding(
        &self,
        target: TargetKind,
        with: &Fingerprinter,
        seed: &mut dyn FnMut(StoredWrite),
    ) -> Result<StoredTarget, StorageError> {
        Ok(Storage::load_seeding(self, target, with, seed).await?.data)
    }

    /// Reads only the segments holding these entities ([`Storage::load_entities`]).
    async fn read_entities(
        &self,
        target: TargetKind,
        entities: &[EntityId],
    ) -> Result<StoredTarget, StorageError> {
        Ok(Storage::load_entities(self, target, entities).await?)
    }

    async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError> {
        Ok(Storage::commit(self, batch).await?)
    }

    async fn sync_state(
        &self,
        target: TargetKind,
    ) -> Result<Option<TargetSyncState>, StorageError> {
        Ok(Storage::sync_state(self, target).await?)
    }

    async fn reset(&self) -> Result<(), StorageError> {
        Ok(Storage::reset(self).await?)
    }
}
