//! Typed errors of the storage layer, and their mapping onto the core's [`StorageError`].

use dojo_reactive_core::sync::{StorageError, StorageErrorKind};

use crate::codec::DecodeError;
use crate::naming::DataOrigin;

/// The stored data was written for another manifest: the host decides (usually `reset`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored data was written for manifest {stored_hash}, not {manifest_hash}")]
pub struct SchemaMismatchError {
    /// Hash of the manifest in use now.
    pub manifest_hash: String,
    /// Hash of the manifest the stored data was written for.
    pub stored_hash: String,
}

/// Only the Torii version changed since the data was written: the host decides whether to keep
/// it ([`Storage::accept_torii_version`](crate::Storage::accept_torii_version)) or `reset`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored data was written from Torii {previous}, Torii now reports {current}")]
pub struct ToriiVersionChangedError {
    /// The version the data was written from.
    pub previous: String,
    /// The version Torii reports now.
    pub current: String,
}

/// The database holds the data of another world or Torii (a custom database name used for two):
/// nothing is read or written; choose another name or delete the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the database holds the data of {stored}, not of {current}")]
pub struct OtherOriginError {
    /// Where the stored data comes from.
    pub stored: DataOrigin,
    /// Where the data would come from now.
    pub current: DataOrigin,
}

/// Every way a storage operation can fail. A failed write left nothing of itself behind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// See [`SchemaMismatchError`].
    #[error(transparent)]
    SchemaMismatch(#[from] SchemaMismatchError),
    /// See [`ToriiVersionChangedError`].
    #[error(transparent)]
    ToriiVersionChanged(#[from] ToriiVersionChangedError),
    /// See [`OtherOriginError`].
    #[error(transparent)]
    OtherOrigin(#[from] OtherOriginError),
    /// The browser refused the write for lack of space (`QuotaExceededError`).
    #[error("storage quota exceeded: {message}")]
    QuotaExceeded {
        /// The browser's message.
        message: String,
    },
    /// Opening needs an upgrade that another connection (another tab, an older worker) blocks by
    /// holding the old version open. Nothing was changed; retry once it is closed.
    #[error("database {database} is held open at an older version by another connection; upgrade to v{version} blocked")]
    Blocked {
        /// The database name.
        database: String,
        /// The version that could not be opened.
        version: u32,
    },
    /// A migration step failed; the upgrade was aborted and the database is still at `from`.
    #[error("migration from v{from} to v{to} failed and was rolled back: {reason}")]
    MigrationFailed {
        /// The version the database stays at.
        from: u32,
        /// The version that was being opened.
        to: u32,
        /// Why the step failed.
        reason: String,
    },
    /// The database was written by newer code (its version is above the one this code knows).
    #[error("database version is newer than v{supported}, the newest this code knows: {message}")]
    VersionTooNew {
        /// The newest schema version this code knows.
        supported: u32,
        /// The browser's message.
        message: String,
    },
    /// A stored record could not be decoded.
    #[error("corrupt {what}: {error}")]
    Corrupt {
        /// Which record.
        what: String,
        /// Why.
        error: DecodeError,
    },
    /// A stored record is not even a byte array (written by something else).
    #[error("corrupt {what}: {message}")]
    Foreign {
        /// Which record.
        what: String,
        /// What was found.
        message: String,
    },
    /// The write's transaction was aborted before it committed; nothing of it was stored.
    #[error("transaction aborted before commit: {message}")]
    Aborted {
        /// Why.
        message: String,
    },
    /// The connection is closed (by `close`, `reset`, or another connection's upgrade).
    #[error("database connection is closed")]
    Closed,
    /// The database was deleted while this connection had it open (another tab's `reset`,
    /// site data cleared); it is not created again under the running client.
    #[error("database {database} was deleted while in use")]
    Deleted {
        /// The database name.
        database: String,
    },
    /// The storage was used before `init`.
    #[error("storage used before init")]
    NotInitialized,
    /// This tab's writer lost its leadership: another tab's worker claimed the database (see
    /// [`crate::writer`]); nothing was stored. Never retried: the worker stops writing.
    #[error("this tab's writer lost its leadership of the database (it wrote under epoch {epoch}; the writer now is {holder}); nothing was stored")]
    LostLeadership {
        /// The epoch this writer held.
        epoch: u64,
        /// Who holds the database now.
        holder: String,
    },
    /// The caller's data cannot be stored (values nested too deep).
    #[error("batch cannot be stored: {0}")]
    InvalidBatch(String),
    /// IndexedDB is not available in this context.
    #[error("IndexedDB is unavailable: {0}")]
    Unavailable(String),
    /// Any other failure of the underlying store.
    #[error("storage failure: {0}")]
    Io(String),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl Into<String>, error: DecodeError) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            error,
        }
    }
}

impl From<StoreError> for StorageError {
    fn from(error: StoreError) -> Self {
        let message = error.to_string();
        let kind = match error {
            StoreError::SchemaMismatch(e) => StorageErrorKind::SchemaMismatch {
                stored_hash: e.stored_hash,
                manifest_hash: e.manifest_hash,
            },
            StoreError::ToriiVersionChanged(e) => StorageErrorKind::ToriiVersionChanged {
                previous: e.previous,
                current: e.current,
            },
            StoreError::OtherOrigin(e) => StorageErrorKind::OtherOrigin {
                stored: e.stored.to_string(),
                current: e.current.to_string(),
            },
            StoreError::Corrupt { .. } | StoreError::Foreign { .. } => StorageErrorKind::Corrupt,
            StoreError::NotInitialized => StorageErrorKind::NotInitialized,
            StoreError::QuotaExceeded { .. } => StorageErrorKind::QuotaExceeded,
            StoreError::Blocked { .. } => StorageErrorKind::Blocked,
            StoreError::MigrationFailed { .. } => StorageErrorKind::MigrationFailed,
            StoreError::Closed => StorageErrorKind::Closed,
            StoreError::Deleted { .. } => StorageErrorKind::Deleted,
            StoreError::InvalidBatch(_) => StorageErrorKind::InvalidBatch,
            StoreError::Unavailable(_) => StorageErrorKind::Unavailable,
            StoreError::VersionTooNew { .. } | StoreError::Aborted { .. } | StoreError::Io(_) => {
                StorageErrorKind::Io
            }
            StoreError::LostLeadership { .. } => StorageErrorKind::LostLeadership,
        };
        StorageError { kind, message }
    }
}

/// A record that could not be read and was skipped; the rest loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// The object store.
    pub store: &'static str,
    /// The record's key, printed.
    pub key: String,
    /// Why it was skipped.
    pub error: StoreError,
}
