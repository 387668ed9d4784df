//! Persistence of dojo-reactive: the synchronizer's
//! [`StorageAdapter`](dojo_reactive_core::sync::StorageAdapter) over IndexedDB (in the browser,
//! in the sync worker) and over memory (natively and in tests).
//!
//! This crate owns the stored form of synced data and everything about keeping it: the binary
//! encoding of model states, ledger versions and sync states ([`codec`]); the chunked records
//! that hold them (segments: one delta per commit, folded into pages by compaction); the
//! IndexedDB schema v1 with its logical stores (`entities`, `sync_meta`, `overlay_ops`, `tokens`,
//! `tokenContracts`, `metadata`) and its versioned migrations; the manifest and Torii version
//! check at start-up; the default database name per (Torii URL, world); and typed errors for
//! every failure (quota, blocked upgrade, failed migration, corrupt records), none of which
//! panics on what it reads back.
//!
//! One sync batch is one atomic write: its model states, deletions, ledger entries and cursor are
//! stored together in one relaxed-durability IndexedDB transaction, or not at all. Start-up reads
//! every segment of a target with chunked `getAll`s and decodes, in wasm, each record's head and
//! ledger entry; a model state stays in its segment's encoding until something reads it.
//!
//! [`Storage`] is generic over a [`Backend`]: [`MemoryStorage`] everywhere, `IndexedDbStorage`
//! on `wasm32` (see the `idb` module there, feature `indexeddb`, on by default), and for the sync worker `BrowserBackend`:
//! IndexedDB, or memory where the browser offers none.

#![warn(missing_docs)]

mod adapter;
mod backend;
pub mod codec;
mod error;
mod event_batch;
mod event_store;
mod lazy;
mod memory;
mod naming;
pub mod relay_mark;
pub mod schema_switch;
mod segment;
mod store;
pub mod writer;

#[cfg(all(target_arch = "wasm32", feature = "indexeddb"))]
pub mod idb;

pub use backend::{
    Backend, Fault, Faults, RawSegment, RawValue, RecordKey, WriteOp, ENTITIES, EVENT_LOG,
    METADATA, META_EVENT_LOGS_WALKED, META_FINGERPRINT, META_TORII_VERSION, OVERLAY_OPS, SYNC_META,
    TOKENS, TOKEN_CONTRACTS,
};
pub use error::{
    OtherOriginError, SchemaMismatchError, SkippedRecord, StoreError, ToriiVersionChangedError,
};
pub use event_batch::{decode_event_batch, encode_event_batch, newest_first_chunks, EventBatch};
pub use event_store::{EventStore, StoredLogs};
pub use lazy::{scan_state_changes, EncodedChange, EncodedState};
pub use memory::MemoryBackend;
pub use naming::{default_db_name, DataOrigin, DB_NAME_PREFIX};
pub use relay_mark::RelayMark;
pub use segment::{decode_state_changes, encode_state_changes, SegmentKind, StateChange};
pub use store::{CompactionConfig, CompactionStats, Loaded, Opened, Records, Storage, TargetStats};

#[cfg(all(target_arch = "wasm32", feature = "indexeddb"))]
pub use idb::{
    delete_db, init_db, BrowserBackend, IndexedDbBackend, IndexedDbStorage, InitDb, InitDbOptions,
};

/// [`Storage`] in memory.
pub type MemoryStorage = Storage<MemoryBackend>;
