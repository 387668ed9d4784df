//! The states of a target's synchronizer, the reasons it moves between them, and the hooks
//! that observe it.

use serde::Serialize;

use super::target::TargetKind;
use super::tick::SyncTick;

/// The one current state of a target's synchronizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncState {
    /// Not started, or stopped by `shutdown`.
    Idle,
    /// First snapshot: subscribe, page it all, apply what the stream buffered.
    Bootstrapping,
    /// Live: stream updates are applied as they come.
    Streaming,
    /// The stream stalled, ended, failed or overflowed; its subscription is dropped.
    Lagging,
    /// Resubscribe and close the gap (reading the rows changed since the newest update applied,
    /// or the whole snapshot for a full reconcile), then stream again.
    Replaying,
    /// Waiting out a backoff after a failed pass.
    Retrying,
    /// Torii cannot be reached or did not answer in time (a retryable transport error or a
    /// timeout): waiting out a backoff, then trying again, for as long as it takes.
    Offline,
    /// Paused by the host (or stopping): no subscription, nothing read.
    Pausing,
    /// Stopped for good after the retry budget ran out (see `SyncFatalError`).
    Halted,
}

impl SyncState {
    /// The per-model status of the plan's SYNC_TICK for this target state.
    pub fn model_status(self) -> ModelSyncStatus {
        match self {
            SyncState::Idle | SyncState::Pausing | SyncState::Halted => ModelSyncStatus::Idle,
            SyncState::Bootstrapping | SyncState::Replaying => ModelSyncStatus::Bootstrapping,
            SyncState::Streaming => ModelSyncStatus::Streaming,
            SyncState::Lagging | SyncState::Retrying | SyncState::Offline => {
                ModelSyncStatus::Retrying
            }
        }
    }
}

/// The per-model status values of the plan's SYNC_TICK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelSyncStatus {
    /// Not syncing.
    Idle,
    /// Reading a snapshot (bootstrap or replay).
    Bootstrapping,
    /// Live.
    Streaming,
    /// Recovering from a failure or a lost stream.
    Retrying,
}

/// Why a transition happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum TransitionReason {
    /// `run` started on an empty store.
    Start,
    /// `run` started on a store whose snapshot was interrupted: resume from its cursor.
    ResumeSnapshot {
        /// Pages already stored.
        pages_read: u64,
    },
    /// `run` started on a store with a complete snapshot: replay (Torii has no resume token).
    Restarted,
    /// The snapshot was read and the buffered updates applied.
    SnapshotComplete,
    /// A resumed snapshot ended; replay closes the gap the restart left.
    CloseRestartGap,
    /// No progress on the stream for this long.
    Heartbeat {
        /// Milliseconds since the last progress.
        silent_ms: u64,
    },
    /// The server ended the stream.
    StreamEnded,
    /// The stream failed.
    StreamFailed {
        /// The error.
        message: String,
    },
    /// Writing stream updates failed; they are lost until a replay.
    StorageFailed {
        /// The error.
        message: String,
    },
    /// A call failed transiently.
    TransientFailure {
        /// The error.
        message: String,
    },
    /// A sync pass failed (counts against the retry budget).
    PassFailed {
        /// The error.
        message: String,
    },
    /// The backoff elapsed.
    BackoffElapsed,
    /// `force_replay` was called.
    Forced,
    /// A scheduled full replay (`reconcile_interval_ms` after the last one, or a while after a
    /// restart's catch-up) removes what catch-ups could not see (entities deleted whole).
    Reconcile,
    /// `pause` was called.
    Paused,
    /// `resume` was called.
    Resumed,
    /// `shutdown` was called.
    Shutdown,
    /// Stopping finished.
    Stopped,
    /// The retry budget ran out.
    BudgetExhausted,
}

impl std::fmt::Display for TransitionReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransitionReason::Start => write!(f, "start"),
            TransitionReason::ResumeSnapshot { pages_read } => {
                write!(f, "resume the snapshot after {pages_read} stored pages")
            }
            TransitionReason::Restarted => write!(f, "restart: replay, Torii has no resume token"),
            TransitionReason::SnapshotComplete => write!(f, "snapshot complete"),
            TransitionReason::CloseRestartGap => write!(f, "close the gap left by the restart"),
            TransitionReason::Heartbeat { silent_ms } => {
                write!(f, "no stream progress for {silent_ms} ms")
            }
            TransitionReason::StreamEnded => write!(f, "the server ended the stream"),
            TransitionReason::StreamFailed { message } => write!(f, "stream failed: {message}"),
            TransitionReason::StorageFailed { message } => {
                write!(f, "storage failed: {message}")
            }
            TransitionReason::TransientFailure { message } => {
                write!(f, "transient failure: {message}")
            }
            TransitionReason::PassFailed { message } => write!(f, "sync pass failed: {message}"),
            TransitionReason::BackoffElapsed => write!(f, "backoff elapsed"),
            TransitionReason::Forced => write!(f, "forced replay"),
            TransitionReason::Reconcile => {
                write!(
                    f,
                    "scheduled replay to reconcile what catch-ups could not see"
                )
            }
            TransitionReason::Paused => write!(f, "paused"),
            TransitionReason::Resumed => write!(f, "resumed"),
            TransitionReason::Shutdown => write!(f, "shutdown"),
            TransitionReason::Stopped => write!(f, "stopped"),
            TransitionReason::BudgetExhausted => write!(f, "retry budget exhausted"),
        }
    }
}

/// One state change, as reported to the logger hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// The target.
    pub target: TargetKind,
    /// State before.
    pub from: SyncState,
    /// State after.
    pub to: SyncState,
    /// Why.
    pub reason: TransitionReason,
    /// Clock time (ms).
    pub at: u64,
}

/// What kind of non-fatal error was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncErrorKind {
    /// A call failed and will be retried after a backoff.
    Transient,
    /// A sync pass failed (counts against the retry budget).
    PassFailed,
    /// A record could not be decoded and was skipped.
    BadRecord,
    /// A storage write failed (its batch left nothing behind).
    Storage,
    /// A storage write was refused because another tab's worker claimed the database
    /// ([`StorageErrorKind::LostLeadership`]): this synchronizer must stop writing (never
    /// retried).
    ///
    /// [`StorageErrorKind::LostLeadership`]: super::StorageErrorKind::LostLeadership
    LostLeadership,
    /// Torii now reports another version than the store was opened with.
    ToriiVersionChanged,
    /// Re-reading entities by id after a snapshot failed (the next replay covers them).
    Refetch,
}

/// A non-fatal error (the plan's SYNC_ERROR), with retry metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncErrorEvent {
    /// The target.
    pub target: TargetKind,
    /// What kind.
    pub kind: SyncErrorKind,
    /// Details.
    pub message: String,
    /// Consecutive failures so far.
    pub consecutive_failures: u32,
    /// Consecutive failed passes so far (the retry budget counts these).
    pub failed_passes: u32,
    /// Milliseconds until the next attempt, when one is scheduled.
    pub retry_in_ms: Option<u64>,
    /// Clock time (ms).
    pub at: u64,
}

/// Pending optimistic overlay entries, for the ticks (the overlay lives elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverlayCounts {
    /// All pending entries.
    pub total: u64,
    /// Pending entries per model tag.
    pub per_model: Vec<(String, u64)>,
}

/// Hooks observing a synchronizer: the structured logger, SYNC_TICK and SYNC_ERROR sinks.
pub trait SyncObserver {
    /// A state change.
    fn transition(&mut self, transition: &Transition) {
        let _ = transition;
    }

    /// A status tick (on every transition and periodically).
    fn tick(&mut self, tick: &SyncTick) {
        let _ = tick;
    }

    /// A non-fatal error.
    fn error(&mut self, error: &SyncErrorEvent) {
        let _ = error;
    }

    /// Pending overlay entries to report in ticks.
    fn overlay_counts(&mut self) -> OverlayCounts {
        OverlayCounts::default()
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl SyncObserver for NoObserver {}
