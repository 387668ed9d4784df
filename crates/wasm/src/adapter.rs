//! `DeltaStorage`: the synchronizer's storage, decorated so that every committed batch (and the
//! state stored before start-up) also goes to the view as DELTA buffers, only after it is stored.
//!
//! At start-up the stored segments go to the view as they are read, undecoded (they are in the
//! DELTA format): neither thread decodes a model state before something reads it.

use std::cell::RefCell;
use std::collections::HashSet;

use dojo_reactive_core::sync::{
    StorageAdapter, StorageError, StoredTarget, SyncBatch, TargetKind, TargetSyncState,
};
use dojo_reactive_core::ManifestFingerprint;
use dojo_reactive_storage::{Backend, Storage};

use crate::delta::encode_deltas;
use crate::errors::ErrorInfo;

/// Where DELTAs go (the worker's `emit`; a recorder in tests).
pub trait DeltaSink {
    /// One DELTA buffer.
    fn delta(&self, bytes: &[u8]);

    /// A DELTA that could not be built (the data is stored; the view misses it until the next
    /// start).
    fn error(&self, info: ErrorInfo);
}

/// A [`StorageAdapter`] that forwards to `inner` and sends what it stores or loads to a sink.
pub struct DeltaStorage<B: Backend, K> {
    inner: Storage<B>,
    sink: K,
    chunk: usize,
    /// Targets whose stored segments were sent before the synchronizers started: their first
    /// `load` decodes without sending again.
    preloaded: RefCell<HashSet<TargetKind>>,
}

impl<B: Backend, K: DeltaSink> DeltaStorage<B, K> {
    /// Decorates `inner`; DELTAs hold at most `chunk` model states.
    pub fn new(inner: Storage<B>, sink: K, chunk: usize) -> Self {
        DeltaStorage {
            inner,
            sink,
            chunk: chunk.max(1),
            preloaded: RefCell::new(HashSet::new()),
        }
    }

    /// The decorated storage.
    pub fn inner(&self) -> &Storage<B> {
        &self.inner
    }

    /// Sends a target's stored segments as DELTAs now, undecoded; the synchronizer's first
    /// `load` of it then decodes without sending again. Returns the model states stored.
    pub async fn preload(&self, target: TargetKind) -> Result<usize, StorageError> {
        let sink = &self.sink;
        let states = self
            .inner
            .scan_raw(target, &mut |segment| sink.delta(segment))
            .await?;
        self.preloaded.borrow_mut().insert(target);
        Ok(states)
    }

    async fn load_and_send(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        let sink = &self.sink;
        let loaded = self
            .inner
            .load_with_segments(target, &mut |segment| sink.delta(segment))
            .await?;
        Ok(loaded.data)
    }

    fn send(
        &self,
        target: TargetKind,
        upserts: &[dojo_reactive_core::sync::ModelRecord],
        deletions: &[dojo_reactive_core::sync::ModelKey],
    ) {
        if upserts.is_empty() && deletions.is_empty() {
            return;
        }
        match encode_deltas(target, upserts, deletions, self.chunk) {
            Ok(buffers) => {
                for bytes in buffers {
                    self.sink.delta(&bytes);
                }
            }
            Err(error) => self.sink.error(ErrorInfo::new(
                "StorageError",
                format!(
                    "a stored batch could not be sent to the view ({error}); it shows after a reload"
                ),
            )),
        }
    }
}

impl<B: Backend, K: DeltaSink> StorageAdapter for DeltaStorage<B, K> {
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError> {
        StorageAdapter::init(&self.inner, fingerprint, torii_version).await
    }

    async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        let sent = self.preloaded.borrow_mut().remove(&target);
        if sent {
            StorageAdapter::load(&self.inner, target).await
        } else {
            self.load_and_send(target).await
        }
    }

    async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError> {
        self.inner.commit(batch).await?;
        self.send(batch.target, &batch.upserts, &batch.deletions);
        Ok(())
    }

    async fn sync_state(
        &self,
        target: TargetKind,
    ) -> Result<Option<TargetSyncState>, StorageError> {
        StorageAdapter::sync_state(&self.inner, target).await
    }

    async fn reset(&self) -> Result<(), StorageError> {
        self.preloaded.borrow_mut().clear();
        StorageAdapter::reset(&self.inner).await
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::rc::Rc;

    use dojo_reactive_core::sync::{ModelKey, ModelRecord};
    use dojo_reactive_core::{Felt, Member, Primitive, Struct, Value};
    use dojo_reactive_storage::{MemoryBackend, MemoryStorage, StateChange};
    use futures_executor::block_on;

    use super::*;
    use crate::delta::decode_delta;

    #[derive(Default, Clone)]
    struct Recorder(Rc<RefCell<Vec<Vec<u8>>>>);

    impl DeltaSink for Recorder {
        fn delta(&self, bytes: &[u8]) {
            self.0.borrow_mut().push(bytes.to_vec());
        }

        fn error(&self, info: ErrorInfo) {
            panic!("unexpected error {info:?}");
        }
    }

    impl Recorder {
        fn changes(&self) -> Vec<StateChange> {
            let buffers = std::mem::take(&mut *self.0.borrow_mut());
            buffers
                .iter()
                .flat_map(|b| decode_delta(b).unwrap().1)
                .collect()
        }
    }

    fn record(id: u128) -> ModelRecord {
        ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-A".into(),
                members: vec![Member {
                    name: "v".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U8(1)),
                }],
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        }
    }

    fn fingerprint() -> ManifestFingerprint {
        ManifestFingerprint {
            hash: "manifest-hash:v1:test".into(),
            world_class_hash: format!("0x{}", "0".repeat(64)),
            entries: Vec::new(),
        }
    }

    #[test]
    fn commits_then_loads_are_sent_once_each() {
        block_on(async {
            let sink = Recorder::default();
            let storage = DeltaStorage::new(
                MemoryStorage::new(MemoryBackend::default()),
                sink.clone(),
                2,
            );
            storage.init(&fingerprint(), "v1").await.unwrap();
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = (0..3).map(record).collect();
            batch.deletions = vec![ModelKey {
                entity: Felt::from(9u128),
                model: "ns-A".into(),
            }];
            storage.commit(&batch).await.unwrap();
            assert_eq!(sink.0.borrow().len(), 3, "2 + 1 upserts, 1 deletion");
            let sent = sink.changes();
            assert_eq!(sent.len(), 4);
            assert!(matches!(&sent[3], StateChange::Delete(k) if k.entity == Felt::from(9u128)));

            // Nothing written, nothing sent.
            storage
                .commit(&SyncBatch::new(TargetKind::Entities))
                .await
                .unwrap();
            assert!(sink.changes().is_empty());

            // The stored segment goes as it is: its 3 upserts and the stored deletion.
            assert_eq!(storage.preload(TargetKind::Entities).await.unwrap(), 3);
            assert_eq!(sink.changes().len(), 4);
            // The synchronizer's load reads the same data without a second send.
            let loaded = storage.load(TargetKind::Entities).await.unwrap();
            assert_eq!(loaded.models.len(), 3);
            assert!(sink.changes().is_empty());
            // A later load (a new run) reads and sends the stored segment again.
            let again = storage.load(TargetKind::Entities).await.unwrap();
            assert_eq!(sink.changes().len(), 4);
            assert_eq!(again.models, loaded.models);
        });
    }
}
