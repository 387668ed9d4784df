//! Typed errors of the synchronizer: transport failures, storage failures and the fatal error
//! that ends a run.

use serde::Serialize;

use super::tick::SyncTick;
use crate::entity::EntityId;

/// A failed transport call or a broken stream item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct TransportError {
    /// Whether the same call may succeed later (connection trouble, server unavailable).
    pub retryable: bool,
    /// What went wrong.
    pub message: String,
    /// The error is about one record whose content is invalid (skipped and reported; the call
    /// or stream itself is fine).
    pub bad_record: bool,
    /// The entity of that record, when its id could be read (the synchronizer then reads the
    /// entity again by id).
    #[serde(skip)]
    pub entity: Option<EntityId>,
}

impl TransportError {
    /// A transient failure: retrying with backoff is the right reaction.
    pub fn transient(message: impl Into<String>) -> Self {
        TransportError {
            retryable: true,
            message: message.into(),
            bad_record: false,
            entity: None,
        }
    }

    /// A failure that retrying the same call will not fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        TransportError {
            retryable: false,
            message: message.into(),
            bad_record: false,
            entity: None,
        }
    }

    /// One invalid record (skipped, reported).
    pub fn bad_record(message: impl Into<String>) -> Self {
        TransportError {
            retryable: false,
            message: message.into(),
            bad_record: true,
            entity: None,
        }
    }

    /// The same error, about `entity`.
    pub fn about(mut self, entity: EntityId) -> Self {
        self.entity = Some(entity);
        self
    }
}

/// What kind of storage failure happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum StorageErrorKind {
    /// The stored data was written for another manifest.
    SchemaMismatch {
        /// Hash of the manifest the data was written for.
        stored_hash: String,
        /// Hash of the manifest in use now.
        manifest_hash: String,
    },
    /// The stored data was written from another Torii version.
    ToriiVersionChanged {
        /// The version the data was written from.
        previous: String,
        /// The version Torii reports now.
        current: String,
    },
    /// The database holds the data of another world or Torii (a database name used for two).
    OtherOrigin {
        /// Where the stored data comes from.
        stored: String,
        /// Where the data would come from now.
        current: String,
    },
    /// The browser refused a write for lack of space: free space (or `reset`) and retry.
    QuotaExceeded,
    /// Opening or upgrading the database is blocked by another tab holding an older version.
    Blocked,
    /// A schema migration failed; the previous version is intact.
    MigrationFailed,
    /// A read or write failed (IO, aborted transaction).
    Io,
    /// The database connection was closed (by the browser, or by another connection's upgrade
    /// or deletion); the storage reopens it.
    Closed,
    /// The database was deleted under the running client (another tab's `reset`, site data
    /// cleared): nothing more can be stored until the client starts again.
    Deleted,
    /// The batch cannot be stored (its values cannot be encoded): writing it again cannot help.
    InvalidBatch,
    /// The browser offers no database here (IndexedDB missing or forbidden).
    Unavailable,
    /// The stored data cannot be decoded.
    Corrupt,
    /// The storage was used before `init`.
    NotInitialized,
    /// Another tab's worker became the database's writer: this one must stop writing (never
    /// retried).
    LostLeadership,
}

/// A storage failure. A failed batch left nothing of itself behind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "camelCase")]
#[error("storage: {message}")]
pub struct StorageError {
    /// What kind of failure.
    pub kind: StorageErrorKind,
    /// Details.
    pub message: String,
}

impl StorageError {
    /// An IO failure.
    pub fn io(message: impl Into<String>) -> Self {
        StorageError {
            kind: StorageErrorKind::Io,
            message: message.into(),
        }
    }

    /// Whether the host must decide (reset or keep) before syncing can go on.
    pub fn needs_host(&self) -> bool {
        matches!(
            self.kind,
            StorageErrorKind::SchemaMismatch { .. }
                | StorageErrorKind::ToriiVersionChanged { .. }
                | StorageErrorKind::OtherOrigin { .. }
        )
    }
}

/// Why a run ended in `halted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum FatalReason {
    /// The configured number of consecutive sync passes (bootstrap or replay) failed.
    RetryBudgetExhausted {
        /// How many consecutive passes failed.
        attempts: u32,
        /// The error of the last one.
        last_error: String,
    },
    /// Storage refused to open (schema mismatch, Torii version change, IO): the host decides.
    Storage {
        /// The storage error.
        error: StorageError,
    },
}

impl std::fmt::Display for FatalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FatalReason::RetryBudgetExhausted {
                attempts,
                last_error,
            } => write!(
                f,
                "{attempts} consecutive sync passes failed (last: {last_error})"
            ),
            FatalReason::Storage { error } => write!(f, "{error}"),
        }
    }
}

/// The error that halts a synchronizer, with the last status it reported.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(rename_all = "camelCase")]
#[error("sync halted: {reason}")]
pub struct SyncFatalError {
    /// Why.
    pub reason: FatalReason,
    /// The status at the moment it halted.
    pub last_tick: Box<SyncTick>,
}
