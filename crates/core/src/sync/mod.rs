//! The synchronizer: keeps a store equal to Torii's latest state for one sync target, through
//! the [`ToriiTransport`], [`StorageAdapter`] and [`Clock`] traits (no IO of its own, so every
//! path, hours of backoff included, runs in milliseconds in native tests; see `testing`, behind
//! the `testing` feature).
//!
//! # States and transitions
//!
//! Exactly one [`SyncState`] at a time; every change is reported to
//! [`SyncObserver::transition`] as a [`Transition`] `{ target, from, to, reason, at }`, followed
//! by a [`SyncTick`] (ticks are also emitted every `tick_interval_ms`).
//!
//! | from | event | to |
//! |---|---|---|
//! | `idle` | `run` on an empty store, or with an interrupted snapshot (resume from its cursor) | `bootstrapping` |
//! | `idle` | `run` on a store whose snapshot was complete (no resume token: replay) | `replaying` |
//! | `bootstrapping` | snapshot read, moved entities re-read, buffered updates applied | `streaming` |
//! | `bootstrapping` | a resumed snapshot reached its end (close the restart gap) | `replaying` |
//! | `idle` | Torii's version probe failed transiently or timed out (Torii down or hanging) | `offline` |
//! | `bootstrapping`, `replaying` | transient failure or timeout of a page while the stream lives | `offline` → back |
//! | `bootstrapping`, `replaying` | subscribing failed transiently or timed out | `offline` |
//! | `bootstrapping`, `replaying` | stream lost, call rejected, storage failed | `retrying` |
//! | `streaming` | heartbeat: no progress for `heartbeat_timeout_ms` (checked every `heartbeat_check_ms`) and the probe found a row the stream missed (or failed); the stream ended or failed; a storage write failed | `lagging` |
//! | `streaming` | heartbeat: the probe found Torii's newest row held (a quiet stream) | (stays) |
//! | `lagging` | (at once) resubscribe and catch up (a replay when no catch-up is possible) | `replaying` |
//! | `streaming` | `reconcile_interval_ms` after the last full pass (or `reconcile_after_catch_up_ms` after a restart's catch-up) | `replaying` (full) |
//! | `replaying` | complete | `streaming` |
//! | `retrying`, `offline` | backoff elapsed (or `force_replay`) | `bootstrapping` / `replaying` (from `idle`'s probe: when Torii answers) |
//! | any | the `replay_budget`-th consecutive failed pass | `halted` (`run` returns [`SyncFatalError`]) |
//! | `streaming` | `force_replay` | `replaying` |
//! | any running | `pause` | `pausing`; `resume` or `force_replay` → `replaying` / `bootstrapping` |
//! | any running | `shutdown` | `pausing` → `idle` (`run` returns `Ok`) |
//!
//! Transient failures (retryable transport errors, timeouts: Torii down or hanging) are the
//! state `offline`; they back off from 2 s doubling to 60 s with ±10 % jitter (never above the
//! maximum), unbounded in number: an outage is waited out. Failed *passes* (the stream lost during a pass, a rejected call, a storage failure) also
//! back off and count against the retry budget; any success resets both counters.
//!
//! # A pass (bootstrap or replay)
//!
//! Subscribe and await the handshake (a new ledger epoch), then page the snapshot from the first
//! page, tagging rows `Source::Snapshot { epoch, page }` while stream updates are buffered in
//! the [`UpdateQueue`](crate::UpdateQueue) (compacted per (entity, model); at its high-water mark the stream is no
//! longer read, so Torii buffers, and if Torii's buffer overflows it ends the stream, which
//! fails the pass). Every page is one storage batch: the states the ledger applied, their ledger
//! entries, and the cursor. Torii orders pages by last write, so an entity written during
//! paging moves to an already-read position: entities with buffered updates that no page showed
//! are re-read by id. Then the buffered updates are applied (`Source::Stream`), and, for a pass
//! that started from the first page without a bad record of unknown id, the snapshot is
//! completed: held states of entities it did not contain are absence tombstones and deleted
//! (the ledger's rule 5). For a while after a pass (`settle_window_ms`), stream updates of
//! entities the pass did not see trigger a re-read by id, for updates that were still in flight
//! when the pass ended.
//!
//! # Decisions where Torii is silent
//!
//! - **A quiet stream is probed, not re-paged.** Torii sends nothing on a stream nobody writes
//!   to, so silence cannot tell a quiet stream from a dead one. After `heartbeat_timeout_ms`
//!   without progress, one page of one row is read: Torii's newest row by its own order (last
//!   write, newest first). Held as it is (every model state equal, no other model of the entity
//!   held), nothing was missed and streaming goes on; otherwise the stream missed a write and
//!   is dead: it is re-subscribed and caught up. A write a dead stream misses is so noticed
//!   within `heartbeat_timeout_ms + heartbeat_check_ms` (35 s by default). A write the stream
//!   delivers while the probe is out proves it alive.
//! - **Stalls catch up; full replays run on a schedule.** Torii's cursor is a position in an
//!   order by last write, not a change feed: everything written during a gap moved to the
//!   front. So a lost, ended or dead stream re-subscribes and reads the rows newest first down
//!   to those changed before the newest update applied (less `catch_up_margin_s`), as a
//!   restart does (below). Deletions show only as absence from a complete pass: an entity
//!   deleted whole while the stream was down has no row to show it, and stays until the full
//!   replay that runs `reconcile_interval_ms` (default 1 h) after the last full pass, or on
//!   `force_replay`. A stall with no time of a newest update to start from (nothing applied
//!   yet, or an interrupted pass) replays in full; a failed catch-up is retried as one. Each
//!   sync target keeps its own cursor (the newest update applied while it was complete and
//!   streamed): the catch-up reads down to the newest cursor of the complete targets, and a
//!   complete target whose cursor is older then reads its own rows since its cursor while
//!   streaming; a target new or changed since has no cursor and is paged. The
//!   stored cursor is used only to resume an interrupted bootstrap (after a restart or a
//!   failed bootstrap) without re-reading its stored pages, after which a replay closes the
//!   gap the interruption left.
//! - **Restart**: storage is loaded, the ledger seeded, and the client subscribes and catches
//!   up: since Torii pages rows by last write, newest first, only the pages down to rows
//!   written before the newest update applied (less `catch_up_margin_s`) are read, and absence
//!   is judged only for the entities they show. An entity deleted whole while the client was
//!   closed has no row to show it: it stays until the next full replay
//!   (`reconcile_after_catch_up_ms` after the catch-up, default 60 s; the scheduled one;
//!   `force_replay`; or a restart after `catch_up_window_ms`, default 24 h). A store whose last
//!   replay was interrupted (a cursor is stored) replays in full. Rows identical to what is
//!   held are never written again.
//! - **A Torii version change** seen during a run is reported (`SyncErrorKind::ToriiVersionChanged`)
//!   and syncing goes on (a replay converges anyway); at the next start `StorageAdapter::init`
//!   hands the decision to the host, as the plan says.
//! - **Bad records** are skipped and reported, never stored; a page with one of unknown id does
//!   not complete a snapshot (nothing is deleted by absence from it).

mod audit;
mod backoff;
mod clock;
mod engine;
mod error;
mod fingerprint;
mod handle;
mod live;
mod mirror;
mod options;
mod pass;
mod probe;
mod pump;
mod scope_delta;
mod scopes;
mod state;
mod status;
mod storage;
mod stored;
mod target;
mod tick;
pub mod token_rows;
mod transport;

#[cfg(feature = "testing")]
pub mod testing;

pub use backoff::Backoff;
pub use clock::Clock;
pub use engine::{SyncSetup, Synchronizer};
pub use error::{FatalReason, StorageError, StorageErrorKind, SyncFatalError, TransportError};
pub use fingerprint::{Fingerprint, Fingerprinter};
pub use handle::{Command, SyncHandle};
pub use options::{BackoffConfig, Retention, SyncOptions};
pub use scopes::restored_targets;
pub use state::{
    ModelSyncStatus, NoObserver, OverlayCounts, SyncErrorEvent, SyncErrorKind, SyncObserver,
    SyncState, Transition, TransitionReason,
};
pub use storage::{
    LedgerEntry, ModelKey, ModelRecord, ScopeSyncState, StorageAdapter, StoredTarget, StoredWrite,
    SyncBatch, TargetSyncState,
};
pub use stored::{EncodedRecord, RecordHead, StoredRecord};
pub use target::{text_digest, SyncTarget, TargetKind, TargetScope};
pub use tick::{ConnectionState, LedgerCounters, ModelTick, OverallStatus, SyncTick, TargetTick};
pub use transport::{PageRequest, RejectedRecord, SnapshotPage, ToriiTransport, UpdateStream};
