//! The in-memory backend: the same records, keys and atomic writes as IndexedDB, kept in a map.
//! Used natively (tests, Node-less tools) and as the reference the conformance suite runs on.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use dojo_reactive_core::sync::TargetKind;

use crate::backend::{
    Backend, Fault, Faults, RawSegment, RawValue, RecordKey, WriteOp, SCAN_CHUNK,
};
use crate::error::StoreError;
use crate::writer::{check_fence, META_WRITER};

#[derive(Debug, Default)]
struct Shared {
    records: RefCell<BTreeMap<RecordKey, RawValue>>,
    quota: Cell<Option<usize>>,
}

/// Records in memory. Clones share the records (a clone is another connection to the same
/// "database"), each clone has its own open/closed state.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    shared: Rc<Shared>,
    open: Rc<Cell<bool>>,
    faults: Faults,
    fence: Rc<Cell<Option<u64>>>,
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> Self {
        MemoryBackend::default()
    }

    /// Another connection to the same records (closed until opened).
    pub fn connect(&self) -> Self {
        MemoryBackend {
            shared: Rc::clone(&self.shared),
            open: Rc::new(Cell::new(false)),
            faults: self.faults.clone(),
            fence: Rc::new(Cell::new(None)),
        }
    }

    /// Limits the total size of stored values: a write that would exceed it fails with
    /// [`StoreError::QuotaExceeded`], like a browser whose quota is used up.
    pub fn set_quota(&self, bytes: Option<usize>) {
        self.shared.quota.set(bytes);
    }

    /// Total bytes stored.
    pub fn stored_bytes(&self) -> usize {
        self.shared
            .records
            .borrow()
            .values()
            .map(|v| v.as_ref().map_or(0, Vec::len))
            .sum()
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.open.get() {
            Ok(())
        } else {
            Err(StoreError::Closed)
        }
    }
}

impl Backend for MemoryBackend {
    async fn open(&self) -> Result<(), StoreError> {
        self.open.set(true);
        Ok(())
    }

    async fn read_segments(&self, target: TargetKind) -> Result<Vec<RawSegment>, StoreError> {
        self.check_open()?;
        let records = self.shared.records.borrow();
        let range = RecordKey::Segment(target, 0)..=RecordKey::Segment(target, u64::MAX);
        Ok(records
            .range(range)
            .filter_map(|(key, value)| match key {
                RecordKey::Segment(_, seq) => Some(RawSegment {
                    seq: Ok(*seq),
                    value: value.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn scan_segments(
        &self,
        target: TargetKind,
        with: &[RecordKey],
        on_chunk: &mut dyn FnMut(Vec<RawSegment>),
    ) -> Result<Vec<Option<RawValue>>, StoreError> {
        // Both read before anything else can run: one snapshot.
        let values = self.read(with).await?;
        let mut segments = self.read_segments(target).await?.into_iter().peekable();
        while segments.peek().is_some() {
            on_chunk(segments.by_ref().take(SCAN_CHUNK).collect());
        }
        Ok(values)
    }

    async fn read_event_batches(&self) -> Result<Vec<RawSegment>, StoreError> {
        self.check_open()?;
        let records = self.shared.records.borrow();
        let range = RecordKey::EventBatch(0)..=RecordKey::EventBatch(u64::MAX);
        Ok(records
            .range(range)
            .filter_map(|(key, value)| match key {
                RecordKey::EventBatch(seq) => Some(RawSegment {
                    seq: Ok(*seq),
                    value: value.clone(),
                }),
                _ => None,
            })
            .collect())
    }

    async fn read(&self, keys: &[RecordKey]) -> Result<Vec<Option<RawValue>>, StoreError> {
        self.check_open()?;
        let records = self.shared.records.borrow();
        Ok(keys.iter().map(|key| records.get(key).cloned()).collect())
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.check_open()?;
        match self.faults.take() {
            Some(Fault::InterruptBeforeCommit) => {
                return Err(StoreError::Aborted {
                    message: "interrupted before commit (injected)".into(),
                })
            }
            Some(Fault::QuotaExceeded) => {
                return Err(StoreError::QuotaExceeded {
                    message: "quota exceeded (injected)".into(),
                })
            }
            Some(Fault::Deleted) => {
                return Err(StoreError::Deleted {
                    database: "memory (injected)".into(),
                })
            }
            None => {}
        }
        let mut records = self.shared.records.borrow_mut();
        if let Some(epoch) = self.fence.get() {
            check_fence(epoch, records.get(&RecordKey::Meta(META_WRITER)))?;
        }
        if let Some(quota) = self.shared.quota.get() {
            let mut after = records.clone();
            apply(&mut after, &ops);
            let size: usize = after.values().map(|v| v.as_ref().map_or(0, Vec::len)).sum();
            if size > quota {
                return Err(StoreError::QuotaExceeded {
                    message: format!("{size} bytes would exceed the quota of {quota}"),
                });
            }
        }
        apply(&mut records, &ops);
        Ok(())
    }

    async fn destroy(&self) -> Result<(), StoreError> {
        self.shared.records.borrow_mut().clear();
        self.open.set(false);
        Ok(())
    }

    fn close(&self) {
        self.open.set(false);
    }

    async fn update(
        &self,
        key: RecordKey,
        update: &mut dyn FnMut(Option<RawValue>) -> Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        self.check_open()?;
        let mut records = self.shared.records.borrow_mut();
        if let Some(bytes) = update(records.get(&key).cloned()) {
            records.insert(key, Ok(bytes));
        }
        Ok(())
    }

    fn fence(&self, epoch: Option<u64>) {
        self.fence.set(epoch);
    }

    fn faults(&self) -> &Faults {
        &self.faults
    }

    async fn write_raw(&self, key: RecordKey, value: RawValue) -> Result<(), StoreError> {
        self.check_open()?;
        self.shared.records.borrow_mut().insert(key, value);
        Ok(())
    }
}

fn apply(records: &mut BTreeMap<RecordKey, RawValue>, ops: &[WriteOp]) {
    for op in ops {
        match op {
            WriteOp::Put(key, bytes) => {
                records.insert(*key, Ok(bytes.clone()));
            }
            WriteOp::Delete(key) => {
                records.remove(key);
            }
        }
    }
}
