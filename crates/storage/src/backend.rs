//! The physical record store under [`Storage`](crate::Storage): three key-value object stores
//! and one atomic multi-record write. IndexedDB and memory implement it.

use dojo_reactive_core::sync::TargetKind;

use crate::error::StoreError;

/// Object store of entity data: segment records keyed `[target, seq]`.
pub const ENTITIES: &str = "entities";
/// Object store of sync states keyed `[targetType, targetId]`.
pub const SYNC_META: &str = "sync_meta";
/// Object store of optimistic overlay operations (created by schema v1, kept for the overlay).
pub const OVERLAY_OPS: &str = "overlay_ops";
/// Object store of ERC tokens (created by schema v1 for token sync).
pub const TOKENS: &str = "tokens";
/// Object store of token contracts (created by schema v1 for token sync).
pub const TOKEN_CONTRACTS: &str = "tokenContracts";
/// Object store of the event-log targets' changes: [`crate::EventBatch`] records keyed by a
/// sequence number (created by schema v2).
pub const EVENT_LOG: &str = "event_log";
/// Object store of database-wide facts: manifest fingerprint, Torii version.
pub const METADATA: &str = "metadata";

/// Metadata key of the manifest fingerprint (JSON).
pub const META_FINGERPRINT: &str = "fingerprint";
/// Metadata key of the Torii version the data was written from (UTF-8).
pub const META_TORII_VERSION: &str = "toriiVersion";
/// Key of the Torii URL and world address the data was synced from (a [`crate::DataOrigin`]).
pub const META_ORIGIN: &str = "origin";
/// Metadata key of the event-log targets whose first history walk ended (JSON: `[id, digest of
/// the definition walked]` pairs; see [`crate::EventStore::walked`]).
pub const META_EVENT_LOGS_WALKED: &str = "eventLogsWalked";

/// How many segments one read of a scan fetches.
pub(crate) const SCAN_CHUNK: usize = 8;

/// The key of one stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKey {
    /// A segment of a target's entity data (`entities` store, key `[target, seq]`).
    Segment(TargetKind, u64),
    /// A target's sync state (`sync_meta` store, key `[target, ""]`).
    SyncState(TargetKind),
    /// A metadata entry (`metadata` store, key `name`).
    Meta(&'static str),
    /// A change of an event-log target (`event_log` store, key `seq`).
    EventBatch(u64),
}

impl RecordKey {
    /// The object store holding this record.
    pub fn store(&self) -> &'static str {
        match self {
            RecordKey::Segment(..) => ENTITIES,
            RecordKey::SyncState(_) => SYNC_META,
            RecordKey::Meta(_) => METADATA,
            RecordKey::EventBatch(_) => EVENT_LOG,
        }
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordKey::Segment(target, seq) => write!(f, "{ENTITIES}[{}, {seq}]", target.name()),
            RecordKey::SyncState(target) => write!(f, "{SYNC_META}[{}, \"\"]", target.name()),
            RecordKey::Meta(name) => write!(f, "{METADATA}[{name}]"),
            RecordKey::EventBatch(seq) => write!(f, "{EVENT_LOG}[{seq}]"),
        }
    }
}

/// A stored value as read back: bytes, or a description of something that is not bytes.
pub type RawValue = Result<Vec<u8>, String>;

/// One segment as read back; its key may itself be malformed.
#[derive(Debug)]
pub struct RawSegment {
    /// Its sequence number, or the printed key that is not a valid segment key.
    pub seq: Result<u64, String>,
    /// Its value.
    pub value: RawValue,
}

/// One operation of an atomic write.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Insert or replace a record.
    Put(RecordKey, Vec<u8>),
    /// Delete a record (no error if absent).
    Delete(RecordKey),
}

/// A physical store of records. Calls may interleave (they take `&self`); `Storage` serialises
/// them. Nothing here panics on what it reads.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// Opens the store (creating or migrating it) if it is not open.
    async fn open(&self) -> Result<(), StoreError>;

    /// Every segment of a target, in sequence order.
    async fn read_segments(&self, target: TargetKind) -> Result<Vec<RawSegment>, StoreError>;

    /// Every segment of a target, in sequence order, handed to `on_chunk` a few at a time as
    /// they arrive: the caller decodes one chunk while the next is being read. Also reads the
    /// records `with` (`None` for a missing one) in the same transaction: the segments and
    /// those records are one snapshot of the store.
    async fn scan_segments(
        &self,
        target: TargetKind,
        with: &[RecordKey],
        on_chunk: &mut dyn FnMut(Vec<RawSegment>),
    ) -> Result<Vec<Option<RawValue>>, StoreError>;

    /// Every record of the `event_log` store, in sequence order (the key, or the printed key
    /// that is not a sequence number, and the value).
    async fn read_event_batches(&self) -> Result<Vec<RawSegment>, StoreError>;

    /// Some records by key, in the order asked (`None` for a missing one).
    async fn read(&self, keys: &[RecordKey]) -> Result<Vec<Option<RawValue>>, StoreError>;

    /// Applies all operations atomically: all of them are stored, or none. While fenced (see
    /// [`Backend::fence`]), the same transaction first reads the writer record and fails with
    /// [`StoreError::LostLeadership`], storing nothing, unless it names the fence's epoch.
    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Reads one record and stores what `update` returns for it (nothing for `None`), in one
    /// atomic transaction, unfenced: the writer election's compare-and-set.
    async fn update(
        &self,
        key: RecordKey,
        update: &mut dyn FnMut(Option<RawValue>) -> Option<Vec<u8>>,
    ) -> Result<(), StoreError>;

    /// Fences every later write on a writer epoch (`None`: unfenced, the default; an epoch
    /// nobody holds, such as 0, refuses every write). Clones share the fence.
    fn fence(&self, epoch: Option<u64>);

    /// Deletes everything (for IndexedDB: closes and deletes the database).
    async fn destroy(&self) -> Result<(), StoreError>;

    /// Closes the connection; later calls fail with [`StoreError::Closed`] until `open`.
    fn close(&self);

    /// Writes a record as-is, bypassing every encoding: for tests that plant corrupt data.
    async fn write_raw(&self, key: RecordKey, value: RawValue) -> Result<(), StoreError>;

    /// The faults planted for the next writes (for tests).
    fn faults(&self) -> &Faults;
}

/// A fault a test plants in a backend, taking effect at the next atomic write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The write's transaction is aborted after all its operations were issued, before commit
    /// (as when the tab dies mid-batch).
    InterruptBeforeCommit,
    /// The write fails as the browser fails it when the quota is exhausted.
    QuotaExceeded,
    /// The write fails as when another connection deleted the database.
    Deleted,
}

/// The faults planted in a backend (shared by its clones).
#[derive(Debug, Clone, Default)]
pub struct Faults(std::rc::Rc<std::cell::RefCell<Vec<Fault>>>);

impl Faults {
    /// Plants a fault for the next write (faults fire in the order planted, one per write).
    pub fn inject(&self, fault: Fault) {
        self.0.borrow_mut().push(fault);
    }

    /// Removes the faults not fired yet.
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }

    /// The fault for this write, if any.
    pub(crate) fn take(&self) -> Option<Fault> {
        let mut faults = self.0.borrow_mut();
        if faults.is_empty() {
            None
        } else {
            Some(faults.remove(0))
        }
    }
}
