//! Tunables of the synchronizer, with the plan's defaults.

use crate::queue::QueueConfig;

/// Exponential backoff after transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Delay after the first failure (default 2 s).
    pub initial_ms: u64,
    /// Largest delay (default 60 s); jitter never goes above it.
    pub max_ms: u64,
    /// Jitter in per mille of the delay, both ways (default 100 = ±10 %).
    pub jitter_permille: u32,
    /// Seed of the jitter's random generator (inject one per client to spread retries).
    pub seed: u64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial_ms: 2_000,
            max_ms: 60_000,
            jitter_permille: 100,
            seed: 0x5EED_D0D0_CAFE_F00D,
        }
    }
}

/// What happens to the entities no sync target covers any more (after a target was removed or
/// narrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// They leave the store (and every view) at once (default).
    #[default]
    Drop,
    /// They stay as last synced, no longer updated; full reconciles do not remove them either.
    Keep,
}

/// Every tunable of a synchronizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Snapshot page size (default 1,000; 0 means Torii's default of 10,000).
    pub page_size: u32,
    /// A stream that shows no progress for this long is probed (default 30 s): Torii's newest
    /// row is read (a one-row page) and compared with what is held. A quiet stream (the row is
    /// held) goes on; a dead one (the row is newer: the stream missed it) is re-subscribed and
    /// the rows changed since the last one seen are read.
    pub heartbeat_timeout_ms: u64,
    /// How often the heartbeat is checked (default 5 s).
    pub heartbeat_check_ms: u64,
    /// Consecutive failed sync passes (bootstrap or replay) before `halted` (default 3).
    pub replay_budget: u32,
    /// Backoff after failures.
    pub backoff: BackoffConfig,
    /// Buffer of stream updates (compacted per (entity, model)); reading the stream pauses at
    /// its high-water mark while a snapshot is paged.
    pub queue: QueueConfig,
    /// Most stream updates written in one storage batch while streaming (default 512).
    pub max_stream_batch: usize,
    /// Periodic SYNC_TICK interval (default 2 s, the plan's baseline cadence).
    pub tick_interval_ms: u64,
    /// A Torii call that has not answered after this long fails as transient (default 30 s).
    pub request_timeout_ms: u64,
    /// After a snapshot pass, stream updates of entities the pass did not see are re-read by id
    /// for this long (default 10 s; see the module documentation).
    pub settle_window_ms: u64,
    /// Entity ids per by-id request (default 256).
    pub refetch_chunk: usize,
    /// Window of the per-model throughput (default 10 s).
    pub throughput_window_ms: u64,
    /// After a restart, a store that was current less than this long ago (clock time) catches
    /// up by reading only the rows Torii changed since, newest first, instead of re-reading the
    /// whole snapshot (default 24 h; 0 always re-reads everything). A catch-up cannot see
    /// entities deleted whole while the client was closed: the full replay
    /// `reconcile_after_catch_up_ms` later (or any earlier one) removes them.
    pub catch_up_window_ms: u64,
    /// How far (Torii seconds) before the newest applied update a catch-up keeps reading, to
    /// cover updates indexed within the same seconds (default 10).
    pub catch_up_margin_s: u64,
    /// How long (clock ms) after a restart's catch-up a full replay runs to remove entities
    /// deleted whole while the client was closed, which a catch-up cannot see (default 60 s;
    /// 0: they stay until the next scheduled reconcile or `force_replay`).
    pub reconcile_after_catch_up_ms: u64,
    /// How often (clock ms after the last full pass) a full replay reconciles what neither the
    /// stream nor the catch-ups after a stall can show: entities deleted whole while the
    /// stream was down (default 1 h; 0 never: only `force_replay` and restarts replay in full).
    pub reconcile_interval_ms: u64,
    /// What happens to entities no target covers any more (default [`Retention::Drop`]).
    pub retention: Retention,
}

/// Longest wait for Torii's version probe (a small `GET /`): a Torii that accepts and never
/// answers is reported `offline` after this long (or `request_timeout_ms` when shorter).
pub const PROBE_TIMEOUT_MS: u64 = 10_000;

impl SyncOptions {
    /// How long the version probe may take: `request_timeout_ms`, at most [`PROBE_TIMEOUT_MS`].
    pub fn probe_timeout_ms(&self) -> u64 {
        self.request_timeout_ms.min(PROBE_TIMEOUT_MS)
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            page_size: 1_000,
            heartbeat_timeout_ms: 30_000,
            heartbeat_check_ms: 5_000,
            replay_budget: 3,
            backoff: BackoffConfig::default(),
            queue: QueueConfig::default(),
            max_stream_batch: 512,
            tick_interval_ms: 2_000,
            request_timeout_ms: 30_000,
            settle_window_ms: 10_000,
            refetch_chunk: 256,
            throughput_window_ms: 10_000,
            catch_up_window_ms: 24 * 60 * 60 * 1_000,
            catch_up_margin_s: 10,
            reconcile_after_catch_up_ms: 60_000,
            reconcile_interval_ms: 60 * 60 * 1_000,
            retention: Retention::Drop,
        }
    }
}
