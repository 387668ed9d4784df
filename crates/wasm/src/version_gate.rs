//! `ToriiVersionGate`: the storage of a leading worker's synchronizers. It forwards every call
//! to the worker's [`DeltaStorage`] and decides, when a synchronizer opens it with the version
//! Torii reports, what a version other than the one the data was synced from means.

use std::rc::Rc;

use dojo_reactive_core::sync::{
    StorageAdapter, StorageError, StoredTarget, SyncBatch, TargetKind, TargetSyncState,
};
use dojo_reactive_core::ManifestFingerprint;
use dojo_reactive_storage::{Backend, StoreError};

use crate::adapter::{DeltaSink, DeltaStorage};

/// The worker's storage as its synchronizers see it (see the module documentation).
pub struct ToriiVersionGate<B: Backend, K> {
    storage: Rc<DeltaStorage<B, K>>,
    accept: bool,
}

impl<B: Backend, K: DeltaSink> ToriiVersionGate<B, K> {
    /// Gates `storage`; `accept` keeps the stored data on a version change (else it is fatal).
    pub fn new(storage: Rc<DeltaStorage<B, K>>, accept: bool) -> Self {
        ToriiVersionGate { storage, accept }
    }
}

impl<B: Backend, K: DeltaSink> StorageAdapter for ToriiVersionGate<B, K> {
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError> {
        let storage = self.storage.inner();
        match storage.init(fingerprint, torii_version).await {
            Ok(_) => Ok(()),
            Err(StoreError::ToriiVersionChanged(_)) if self.accept => {
                Ok(storage.accept_torii_version(torii_version).await?)
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        self.storage.load(target).await
    }

    async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError> {
        self.storage.commit(batch).await
    }

    async fn sync_state(
        &self,
        target: TargetKind,
    ) -> Result<Option<TargetSyncState>, StorageError> {
        self.storage.sync_state(target).await
    }

    async fn reset(&self) -> Result<(), StorageError> {
        self.storage.reset().await
    }
}
