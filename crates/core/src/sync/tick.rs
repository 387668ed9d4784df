//! The SYNC_TICK status record, exactly the plan's fields plus queue, ledger, replay and
//! connection figures.

use serde::Serialize;

use super::state::{ModelSyncStatus, SyncState};
use super::target::TargetKind;

/// The plan's `overall` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverallStatus {
    /// The target's current state.
    pub state: SyncState,
    /// Clock time (ms) when the target was last known to be current (streaming or a pass just
    /// finished); `None` before the first snapshot completes.
    pub last_synced_at: Option<u64>,
    /// 0 while streaming; otherwise milliseconds since `last_synced_at` (since the start when
    /// never synced).
    pub lag_ms: u64,
    /// Pending optimistic overlay entries (as reported by the observer).
    pub pending_overlay_count: u64,
}

/// The plan's per-model block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelTick {
    /// The model tag.
    pub model: String,
    /// `idle`, `bootstrapping`, `streaming` or `retrying`.
    pub status: ModelSyncStatus,
    /// Cursor of the next snapshot page, while a snapshot is being read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_cursor: Option<String>,
    /// Newest Torii `updated_at` applied to this model, in ms since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<u64>,
    /// Model states of this model written by the last batch.
    pub last_batch_size: u64,
    /// Consecutive failures of the target.
    pub consecutive_failures: u32,
    /// Milliseconds until the next attempt while retrying or offline, else 0.
    pub next_poll_in_ms: u64,
    /// Pending overlay entries of this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlay_pending: Option<u64>,
    /// Model states applied per second over the throughput window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_per_sec: Option<f64>,
}

/// Ledger decision counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerCounters {
    /// Observations applied (inserted, replaced).
    pub applied: u64,
    /// Observations dropped (stale, regressed, tie lost, duplicate).
    pub stale_dropped: u64,
    /// Held versions superseded by an applied observation.
    pub superseded: u64,
    /// Of the dropped: same-stream updates older than the held version (out-of-order or late
    /// duplicate deliveries).
    pub regressed: u64,
    /// Snapshot rows identical to what is held (not written again).
    pub unchanged: u64,
    /// Model states deleted because a complete snapshot no longer had them.
    pub absent_deleted: u64,
    /// (entity, model) versions held.
    pub held: u64,
}

/// Connection to Torii.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    /// No subscription.
    Disconnected,
    /// Subscribing (waiting for the handshake).
    Connecting,
    /// A subscription is live.
    Connected,
}

/// Where one sync target of the tick's kind stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTick {
    /// The target's id.
    pub id: String,
    /// What it selects ([`TargetScope::digest`](super::TargetScope::digest), 16 hex digits): a
    /// status is about the definition with this digest.
    pub digest: String,
    /// Whether everything it selects has been read (restored complete targets are complete
    /// from the start; a target added or widened at run time is not until its pages are read).
    pub complete: bool,
}

/// One SYNC_TICK.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncTick {
    /// Clock time (ms).
    pub clock: u64,
    /// The target.
    pub target: TargetKind,
    /// Overall status.
    pub overall: OverallStatus,
    /// Per model.
    pub models: Vec<ModelTick>,
    /// Per sync target of this kind, in the order given.
    pub targets: Vec<TargetTick>,
    /// Stream updates buffered and not yet applied.
    pub queue_depth: u64,
    /// The most updates ever buffered at once (ticks come after batches are applied, so
    /// `queue_depth` is mostly 0; this shows how deep bursts went).
    pub queue_max_depth: u64,
    /// Buffered updates replaced by a newer one for the same (entity, model).
    pub queue_superseded: u64,
    /// Ledger counters.
    pub ledger: LedgerCounters,
    /// Replays started (stall, lost stream, restart, forced).
    pub replay_count: u64,
    /// Duration of the last completed replay (ms).
    pub last_replay_duration_ms: Option<u64>,
    /// Consecutive failed passes (the retry budget counts these).
    pub failed_passes: u32,
    /// The retry budget.
    pub replay_budget: u32,
    /// Records skipped because they could not be decoded.
    pub rejected_records: u64,
    /// Connection state.
    pub connection: ConnectionState,
    /// Torii's version as last probed.
    pub torii_version: Option<String>,
}

impl SyncTick {
    /// The tick as one line of JSON.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
