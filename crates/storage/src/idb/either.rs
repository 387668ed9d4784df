//! [`BrowserBackend`]: IndexedDB where the browser offers it, memory where it does not (some
//! private modes have no `indexedDB`, or refuse to open one): the client then runs with
//! nothing persisted, and says so.

use dojo_reactive_core::sync::TargetKind;

use crate::backend::{Backend, Faults, RawSegment, RawValue, RecordKey, WriteOp};
use crate::error::StoreError;
use crate::memory::MemoryBackend;

use super::IndexedDbBackend;

/// The sync worker's backend: an IndexedDB database, or memory when IndexedDB is unavailable.
#[derive(Debug, Clone)]
pub enum BrowserBackend {
    /// A persisted IndexedDB database.
    IndexedDb(IndexedDbBackend),
    /// Memory only: nothing survives the worker.
    Memory(MemoryBackend),
}

impl BrowserBackend {
    /// Whether data survives the worker (`false` in memory).
    pub fn is_persistent(&self) -> bool {
        matches!(self, BrowserBackend::IndexedDb(_))
    }
}

/// Forwards a call to whichever backend is in use.
macro_rules! either {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            BrowserBackend::IndexedDb($b) => $call,
            BrowserBackend::Memory($b) => $call,
        }
    };
}

impl Backend for BrowserBackend {
    async fn open(&self) -> Result<(), StoreError> {
        either!(self, b => b.open().await)
    }

    async fn read_segments(&self, target: TargetKind) -> Result<Vec<RawSegment>, StoreError> {
        either!(self, b => b.read_segments(target).await)
    }

    async fn scan_segments(
        &self,
        target: TargetKind,
        with: &[RecordKey],
        on_chunk: &mut dyn FnMut(Vec<RawSegment>),
    ) -> Result<Vec<Option<RawValue>>, StoreError> {
        either!(self, b => b.scan_segments(target, with, on_chunk).await)
    }

    async fn read_event_batches(&self) -> Result<Vec<RawSegment>, StoreError> {
        either!(self, b => b.read_event_batches().await)
    }

    async fn read(&self, keys: &[RecordKey]) -> Result<Vec<Option<RawValue>>, StoreError> {
        either!(self, b => b.read(keys).await)
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        either!(self, b => b.write(ops).await)
    }

    async fn update(
        &self,
        key: RecordKey,
        update: &mut dyn FnMut(Option<RawValue>) -> Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        either!(self, b => b.update(key, update).await)
    }

    fn fence(&self, epoch: Option<u64>) {
        either!(self, b => b.fence(epoch))
    }

    async fn destroy(&self) -> Result<(), StoreError> {
        either!(self, b => b.destroy().await)
    }

    fn close(&self) {
        either!(self, b => b.close())
    }

    async fn write_raw(&self, key: RecordKey, value: RawValue) -> Result<(), StoreError> {
        either!(self, b => b.write_raw(key, value).await)
    }

    fn faults(&self) -> &Faults {
        either!(self, b => b.faults())
    }
}
