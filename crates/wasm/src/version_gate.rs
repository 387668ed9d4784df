//! `ToriiVersionGate`: the storage of a leading worker's synchronizers. It forwards every call
//! to the worker's [`DeltaStorage`] and decides, when a synchronizer opens it with the version
//! Torii reports, what a version other than the one the data was synced from means
//! ([`OnToriiVersionChange`]). Before that, its [`BeforeInit`] step (the manifest check of a
//! deploy, `crate::deploy`) may put the database on the worker's manifest or refuse.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::LocalBoxFuture;

use dojo_reactive_core::sync::{
    Fingerprinter, StorageAdapter, StorageError, StoredTarget, StoredWrite, SyncBatch, TargetKind,
    TargetSyncState,
};
use dojo_reactive_core::{EntityId, ManifestFingerprint};
use dojo_reactive_storage::{Backend, StoreError, ToriiVersionChangedError};

use crate::adapter::{DeltaSink, DeltaStorage};
use crate::config::OnToriiVersionChange;
use crate::errors::ErrorInfo;

/// A step every synchronizer's `init` awaits first (Torii answered its version probe); an
/// error stops that synchronizer.
pub type BeforeInit = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<(), StorageError>>>;

/// The worker's storage as its synchronizers see it (see the module documentation).
pub struct ToriiVersionGate<B: Backend, K> {
    storage: Rc<DeltaStorage<B, K>>,
    sink: K,
    policy: OnToriiVersionChange,
    /// The version whose change was reported (every synchronizer opens the store).
    reported: RefCell<Option<String>>,
    before_init: Option<BeforeInit>,
}

impl<B: Backend, K: DeltaSink> ToriiVersionGate<B, K> {
    /// Gates `storage`; a kept version change is reported to `sink` as a warning.
    pub fn new(storage: Rc<DeltaStorage<B, K>>, sink: K, policy: OnToriiVersionChange) -> Self {
        ToriiVersionGate {
            storage,
            sink,
            policy,
            reported: RefCell::new(None),
            before_init: None,
        }
    }

    /// Runs `step` at the start of every `init`.
    pub fn with_before_init(mut self, step: BeforeInit) -> Self {
        self.before_init = Some(step);
        self
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
        if let Some(step) = &self.before_init {
            step().await?;
        }
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

    async fn load_seeding(
        &self,
        target: TargetKind,
        with: &Fingerprinter,
        seed: &mut dyn FnMut(StoredWrite),
    ) -> Result<StoredTarget, StorageError> {
        self.storage.load_seeding(target, with, seed).await
    }

    async fn read(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        self.storage.read(target).await
    }

    async fn read_entities(
        &self,
        target: TargetKind,
        entities: &[EntityId],
    ) -> Result<StoredTarget, StorageError> {
        self.storage.read_entities(target, entities).await
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use dojo_reactive_core::sync::{SyncBatch, TargetKind, TargetSyncState};
    use dojo_reactive_storage::{MemoryBackend, MemoryStorage};
    use futures_executor::block_on;

    use super::*;
    use crate::adapter::DeltaRelay;

    /// The warnings reported, and how many DELTAs were sent.
    #[derive(Default, Clone)]
    struct Warnings(Rc<RefCell<Vec<ErrorInfo>>>, Rc<std::cell::Cell<usize>>);

    impl DeltaSink for Warnings {
        fn delta(&self, _bytes: &[u8], _persisted: bool, _relay: Option<DeltaRelay>) {
            self.1.set(self.1.get() + 1);
        }

        fn error(&self, info: ErrorInfo) {
            self.0.borrow_mut().push(info);
        }
    }

    fn fingerprint() -> ManifestFingerprint {
        ManifestFingerprint {
            hash: "manifest-hash:v1:gate".into(),
            world_class_hash: format!("0x{}", "0".repeat(64)),
            entries: Vec::new(),
        }
    }

    /// A gate over a store that synced from Torii "1" up to a known newest timestamp.
    fn gate(
        backend: &MemoryBackend,
        policy: OnToriiVersionChange,
    ) -> (ToriiVersionGate<MemoryBackend, Warnings>, Warnings) {
        let warnings = Warnings::default();
        let storage = DeltaStorage::new(MemoryStorage::new(backend.connect()), warnings.clone(), 8);
        (
            ToriiVersionGate::new(Rc::new(storage), warnings.clone(), policy),
            warnings,
        )
    }

    #[test]
    fn the_synchronizers_own_reads_send_nothing_to_the_view() {
        use dojo_reactive_core::sync::testing::{entity_id, model_state};
        use dojo_reactive_core::sync::ModelRecord;
        use dojo_reactive_core::Felt;

        block_on(async {
            let backend = MemoryBackend::new();
            let (gate, sink) = gate(&backend, OnToriiVersionChange::Reconcile);
            gate.init(&fingerprint(), "1").await.unwrap();
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = (0..3)
                .map(|n| ModelRecord {
                    entity: entity_id(n),
                    world_address: Felt::ZERO,
                    state: model_state("ns-A", n, 1, 1),
                    created_at: 1,
                    updated_at: 1,
                    executed_at: 1,
                })
                .collect();
            gate.commit(&batch).await.unwrap();
            // The synchronizer's first load (its data shown).
            assert_eq!(
                gate.load(TargetKind::Entities).await.unwrap().models.len(),
                3
            );
            let sent = sink.1.get();
            // What a target change reads to judge coverage: the whole kind, or some entities.
            let whole = gate.read(TargetKind::Entities).await.unwrap();
            let some = gate
                .read_entities(TargetKind::Entities, &[entity_id(1)])
                .await
                .unwrap();
            assert_eq!(whole.models.len(), 3);
            assert_eq!(some.models.len(), 1);
            assert_eq!(some.models[0].entity(), &entity_id(1));
            assert_eq!(
                sink.1.get(),
                sent,
                "judging coverage sent the stored states to the view again"
            );
        });
    }

    #[test]
    fn a_version_change_is_kept_and_replayed_or_refused() {
        block_on(async {
            let backend = MemoryBackend::new();
            let (first, _) = gate(&backend, OnToriiVersionChange::Reconcile);
            first.init(&fingerprint(), "1").await.unwrap();
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.sync_state = Some(TargetSyncState {
                snapshot_complete: true,
                last_timestamp: Some(1_700_000_000),
                ..TargetSyncState::default()
            });
            first.commit(&batch).await.unwrap();

            let (strict, warnings) = gate(&backend, OnToriiVersionChange::Fail);
            let refused = strict.init(&fingerprint(), "2").await.unwrap_err();
            assert!(refused.needs_host(), "{refused:?}");
            assert!(warnings.0.borrow().is_empty());

            let (kept, warnings) = gate(&backend, OnToriiVersionChange::Reconcile);
            kept.init(&fingerprint(), "2").await.unwrap();
            // A second synchronizer opening the same store: accepted, reported once.
            kept.init(&fingerprint(), "2").await.unwrap();
            let reported = warnings.0.borrow().clone();
            assert_eq!(reported.len(), 1, "{reported:?}");
            assert_eq!(reported[0].name, "ToriiVersionChangedError");
            assert_eq!(reported[0].fields["kept"], true);
            assert_eq!(reported[0].fields["previous"], "1");
            let state = kept
                .sync_state(TargetKind::Entities)
                .await
                .unwrap()
                .unwrap();
            assert!(state.snapshot_complete);
            assert_eq!(state.last_timestamp, None, "the next start replays in full");
        });
    }
}
