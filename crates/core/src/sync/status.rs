//! Per-model figures and the SYNC_TICK built from the synchronizer's state.

use std::collections::{BTreeMap, VecDeque};

use super::clock::Clock;
use super::engine::{Env, St};
use super::state::SyncState;
use super::storage::{StorageAdapter, SyncBatch};
use super::tick::{LedgerCounters, ModelTick, OverallStatus, SyncTick, TargetTick};
use super::transport::ToriiTransport;

/// Figures of one model.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModelStats {
    /// Newest `updated_at` written (Unix seconds).
    pub last_timestamp: Option<u64>,
    /// States written by the last batch that touched the model.
    pub last_batch_size: u64,
    /// (clock ms, states written) of recent batches.
    pub window: VecDeque<(u64, u64)>,
}

impl<Stream> St<Stream> {
    /// Accounts a committed batch.
    pub(crate) fn record_batch(&mut self, batch: &SyncBatch, now: u64, window_ms: u64) {
        let mut counts: BTreeMap<&str, (u64, Option<u64>)> = BTreeMap::new();
        for record in &batch.upserts {
            let entry = counts.entry(record.model()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(Some(record.updated_at));
        }
        for key in &batch.deletions {
            counts.entry(key.model.as_str()).or_default().0 += 1;
        }
        for (model, (count, newest)) in counts {
            let stats = self.model_stats.entry(model.to_owned()).or_default();
            stats.last_batch_size = count;
            stats.last_timestamp = stats.last_timestamp.max(newest);
            stats.window.push_back((now, count));
            while stats
                .window
                .front()
                .is_some_and(|(at, _)| now.saturating_sub(*at) > window_ms)
            {
                stats.window.pop_front();
            }
            if let Some(newest) = newest {
                self.sync_state.last_timestamp = self.sync_state.last_timestamp.max(Some(newest));
            }
        }
    }

    /// The current SYNC_TICK.
    pub(crate) fn build_tick<T: ToriiTransport, S: StorageAdapter, C: Clock>(
        &mut self,
        env: &Env<T, S, C>,
        now: u64,
    ) -> SyncTick {
        let overlay = self.observer.overlay_counts();
        let mut tags: Vec<String> = if self.target.models.is_empty() {
            self.mirror.model_tags().map(str::to_owned).collect()
        } else {
            self.target.models.clone()
        };
        tags.sort();
        tags.dedup();
        let status = self.state.model_status();
        let next_poll_in_ms = match (self.state, self.retry_at) {
            (SyncState::Retrying | SyncState::Offline, Some(at)) => at.saturating_sub(now),
            _ => 0,
        };
        let window_ms = env.options.throughput_window_ms.max(1);
        let last_cursor = match self.state {
            SyncState::Bootstrapping
            | SyncState::Replaying
            | SyncState::Retrying
            | SyncState::Offline => self.sync_state.cursor.clone(),
            _ => None,
        };
        let models = tags
            .into_iter()
            .map(|model| {
                let stats = self.model_stats.get(&model);
                let recent: u64 = stats
                    .map(|s| {
                        s.window
                            .iter()
                            .filter(|(at, _)| now.saturating_sub(*at) <= window_ms)
                            .map(|(_, n)| *n)
                            .sum()
                    })
                    .unwrap_or(0);
                let overlay_pending = overlay
                    .per_model
                    .iter()
                    .find(|(tag, _)| *tag == model)
                    .map(|(_, n)| *n);
                ModelTick {
                    status,
                    last_cursor: last_cursor.clone(),
                    last_timestamp: stats
                        .and_then(|s| s.last_timestamp)
                        .map(|secs| secs.saturating_mul(1_000)),
                    last_batch_size: stats.map_or(0, |s| s.last_batch_size),
                    consecutive_failures: self.consecutive_failures,
                    next_poll_in_ms,
                    overlay_pending,
                    throughput_per_sec: Some(recent as f64 * 1_000.0 / window_ms as f64),
                    model,
                }
            })
            .collect();
        let stats = self.mirror.ledger.stats();
        let lag_ms = match self.state {
            SyncState::Streaming => 0,
            _ => now.saturating_sub(self.last_synced_at.unwrap_or(self.started_at)),
        };
        SyncTick {
            clock: now,
            target: env.kind,
            overall: OverallStatus {
                state: self.state,
                last_synced_at: if self.state == SyncState::Streaming {
                    Some(now)
                } else {
                    self.last_synced_at
                },
                lag_ms,
                pending_overlay_count: overlay.total,
            },
            models,
            targets: self
                .target
                .scopes
                .iter()
                .map(|scope| TargetTick {
                    id: scope.id.clone(),
                    digest: scope.digest_hex(),
                    complete: self
                        .sync_state
                        .scopes
                        .iter()
                        .any(|s| s.id == scope.id && s.complete),
                })
                .collect(),
            queue_depth: self.queue.len() as u64,
            queue_max_depth: self.queue.stats().max_depth as u64,
            queue_superseded: self.queue.stats().superseded,
            ledger: LedgerCounters {
                applied: stats.applied(),
                stale_dropped: stats.stale_dropped(),
                superseded: stats.superseded(),
                regressed: stats.regressed,
                unchanged: self.mirror.unchanged,
                absent_deleted: self.mirror.absent_deleted,
                held: self.mirror.ledger.len() as u64,
            },
            replay_count: self.replay_count,
            last_replay_duration_ms: self.last_replay_ms,
            failed_passes: self.failed_passes,
            replay_budget: env.options.replay_budget,
            rejected_records: self.rejected_records,
            connection: self.connection,
            torii_version: self.torii_version.clone(),
        }
    }
}
