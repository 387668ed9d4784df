//! `ToriiVersionGate`: the storage of a leading worker's synchronizers. It forwards every call
//! to the worker's [`DeltaStorage`] and decides, when a synchronizer opens it with the version
//! Torii reports, what a version other than the one the data was synced from means
//! ([`OnToriiVersionChange`]).

use std::cell::RefCell;
use std::rc::Rc;

use dojo_reactive_core::sync::{
    StorageAdapter, StorageError, StoredTarget, SyncBatch, TargetKind, TargetSyncState,
};
use dojo_reactive_core::ManifestFingerprint;
use dojo_reactive_storage::{Backend, StoreError, ToriiVersionChangedError};

use crate::adapter::{DeltaSink, DeltaStorage};
use crate::config::OnToriiVersionChange;
use crate::errors::ErrorInfo;

/// The worker's storage as its synchronizers see it (see the module documentation).
pub struct ToriiVersionGate<B: Backend, K> {
    storage: Rc<DeltaStorage<B, K>>,
    sink: K,
    policy: OnToriiVersionChange,
    /// The version whose change was reported (every synchronizer opens the store).
    reported: RefCell<Option<String>>,
}

impl<B: Backend, K: DeltaSink> ToriiVersionGate<B, K> {
    /// Gates `storage`; a kept version change is reported to `sink` as a warning.
    pub fn new(storage: Rc<DeltaStorage<B, K>>, sink: K, policy: OnToriiVersionChange) -> Self {
        ToriiVersionGate {
            storage,
            sink,
            policy,
            reported: RefCell::new(None),
        }
    }
}

/// The warning of a version change whose data was kept: `ToriiVersionChangedError` on
/// `errors`, the sync going on.
pub fn version_change_kept(change: &ToriiVersionChangedError) -> ErrorInfo {
    ErrorInfo::new(
        "ToriiVersionChangedError",
        format!(
            "Torii now reports version {:?} but the local data was synced from {:?}: it stays \
             visible while a full re-read of the snapshot reconciles it (onToriiVersionChange: \
             'fail' stops instead)",
            change.current, change.previous
        ),
    )
    .with("previous", &change.previous)
    .with("current", &change.current)
    .with("kept", true)
}

impl<B: Backend, K: DeltaSink> StorageAdapter for ToriiVersionGate<B, K> {
    /// Opens the store with Torii's version: on a change, `reconcile` records the new version,
    /// makes the next pass a full replay and reports the warning once; `fail` refuses.
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError> {
        let storage = self.storage.inner();
        match storage.init(fingerprint, torii_version).await {
            Ok(_) => Ok(()),
            Err(StoreError::ToriiVersionChanged(change))
                if self.policy == OnToriiVersionChange::Reconcile =>
            {
                storage.accept_torii_version(torii_version).await?;
                storage.require_replay().await?;
                let first = self.reported.borrow().as_deref() != Some(torii_version);
                if first {
                    *self.reported.borrow_mut() = Some(torii_version.to_owned());
                    self.sink.error(version_change_kept(&change));
                }
                Ok(())
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
