//! Streaming: buffering stream updates, applying them through the ledger in batches, the
//! heartbeat, and losing the stream.

use std::pin::pin;

use futures_util::FutureExt;

use super::clock::Clock;
use super::engine::{Buffered, Env, Failure, PassKind, St, Step};
use super::error::{StorageError, StorageErrorKind, TransportError};
use super::handle::Command;
use super::mirror::{Pending, RowMeta};
use super::probe::Probe;
use super::pump::Wake;
use super::state::{SyncErrorKind, SyncState, TransitionReason};
use super::storage::{StorageAdapter, TargetSyncState};
use super::transport::{ToriiTransport, UpdateStream};
use crate::entity::{Entity, EntityId};
use crate::ledger::Source;

/// How a stream was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lost {
    /// The server ended it.
    Ended,
    /// It failed.
    Failed(String),
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lost::Ended => write!(f, "the stream ended"),
            Lost::Failed(message) => write!(f, "the stream failed: {message}"),
        }
    }
}

impl Lost {
    pub(crate) fn reason(self) -> TransitionReason {
        match self {
            Lost::Ended => TransitionReason::StreamEnded,
            Lost::Failed(message) => TransitionReason::StreamFailed { message },
        }
    }
}

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    /// Puts one stream item in the buffer (compacted per (entity, model)).
    pub(crate) fn buffer_item(
        &self,
        st: &mut St<T::Stream>,
        item: Option<Result<Entity, TransportError>>,
    ) -> Result<(), Lost> {
        st.last_progress = self.now();
        match item {
            None => Err(Lost::Ended),
            Some(Err(error)) if error.bad_record => {
                st.rejected_records += 1;
                if let Some(entity) = error.entity {
                    st.rejected_stream.insert(entity);
                }
                self.report(st, SyncErrorKind::BadRecord, error.message, None);
                Ok(())
            }
            Some(Err(error)) => Err(Lost::Failed(error.message)),
            Some(Ok(entity)) => {
                let Some(live) = st.live.as_mut() else {
                    return Ok(());
                };
                live.seq += 1;
                let seq = live.seq;
                // An update no target covers applies only to what is held: one sent under the
                // filter a change just replaced must not bring back what it dropped. Clauses
                // are evaluated only for states not held, off the common path.
                let stray: Vec<bool> = entity
                    .models
                    .iter()
                    .map(|state| {
                        let held = st
                            .mirror
                            .ledger
                            .find_model(&state.name)
                            .is_some_and(|model| st.mirror.is_held(&entity.id, model));
                        !held && !st.target.covers(&entity.id, &state.name, &entity.models)
                    })
                    .collect();
                for (state, stray) in entity.models.into_iter().zip(stray) {
                    if stray || !st.target.includes_model(&state.name) {
                        continue;
                    }
                    let model = st.mirror.model_id(&state.name);
                    // Compacting keeps the newest version, not the latest arrival: an update
                    // delivered out of order must not replace a newer one still buffered.
                    if let Some(pending) = st.queue.get(&(entity.id, model)) {
                        let pending = (&pending.state, pending.executed_at, pending.updated_at);
                        let incoming = (&state, entity.executed_at, entity.updated_at);
                        if !st.mirror.ledger.supersedes_pending(pending, incoming) {
                            continue;
                        }
                    }
                    st.queue.enqueue(
                        (entity.id, model),
                        Buffered {
                            world_address: entity.world_address,
                            created_at: entity.created_at,
                            updated_at: entity.updated_at,
                            executed_at: entity.executed_at,
                            state,
                            seq,
                        },
                    );
                }
                Ok(())
            }
        }
    }

    /// Applies every buffered update through the ledger and writes what applied (with
    /// `sync_state`, when given) in one batch. Returns the entities the updates were about.
    pub(crate) async fn apply_buffered(
        &self,
        st: &mut St<T::Stream>,
        sync_state: Option<TargetSyncState>,
    ) -> Result<Vec<EntityId>, StorageError> {
        let epoch = st.live.as_ref().map_or(0, |live| live.epoch);
        let depth = st.queue.len();
        let items = st.queue.drain_batch(depth);
        let mut pending = Pending::default();
        let mut ids = Vec::with_capacity(items.len());
        for ((id, _), item) in items {
            let meta = RowMeta {
                id,
                world_address: item.world_address,
                created_at: item.created_at,
                updated_at: item.updated_at,
                executed_at: item.executed_at,
            };
            st.mirror.observe(
                &mut pending,
                &meta,
                &item.state,
                Source::Stream {
                    epoch,
                    seq: item.seq,
                },
            );
            ids.push(id);
        }
        self.commit(st, pending, sync_state).await?;
        Ok(ids)
    }

    /// Writes pending changes (and the sync state) in one batch; on failure memory is put back
    /// as storage is.
    pub(crate) async fn commit(
        &self,
        st: &mut St<T::Stream>,
        pending: Pending,
        sync_state: Option<TargetSyncState>,
    ) -> Result<(), StorageError> {
        if pending.is_empty() && sync_state.is_none() {
            return Ok(());
        }
        let (mut batch, undo) = st.mirror.finish(pending, self.kind, None);
        let newest = batch.upserts.iter().map(|record| record.updated_at).max();
        batch.sync_state = self.sync_state_to_store(st, sync_state, newest);
        match self.storage.commit(&batch).await {
            Ok(()) => {
                let now = self.now();
                st.record_batch(&batch, now, self.options.throughput_window_ms);
                if let Some(state) = batch.sync_state {
                    st.sync_state = state;
                }
                Ok(())
            }
            Err(error) => {
                st.mirror.rollback(undo);
                let kind = if error.kind == StorageErrorKind::LostLeadership {
                    SyncErrorKind::LostLeadership
                } else {
                    SyncErrorKind::Storage
                };
                self.report(st, kind, error.to_string(), None);
                Err(error)
            }
        }
    }

    /// The sync state a batch stores: the one given, or while streaming the current one when
    /// the batch moves Torii's time of the newest applied update (what a catch-up after a
    /// restart starts from); either way with that time raised to the batch's newest row.
    fn sync_state_to_store(
        &self,
        st: &St<T::Stream>,
        given: Option<TargetSyncState>,
        newest: Option<u64>,
    ) -> Option<TargetSyncState> {
        let mut state = match given {
            Some(state) => state,
            None if st.state == SyncState::Streaming && newest > st.sync_state.last_timestamp => {
                TargetSyncState {
                    updated_at: self.now(),
                    last_synced_at: Some(self.now()),
                    ..st.sync_state.clone()
                }
            }
            None => return None,
        };
        state.last_timestamp = state.last_timestamp.max(newest);
        if st.state == SyncState::Streaming {
            // The live stream covers every declared target: the complete ones are as current.
            super::scopes::raise(
                &mut state.scopes,
                &st.target,
                state.last_timestamp,
                &st.catch_up,
            );
        }
        Some(state)
    }

    /// Leaves `streaming` for `lagging`, drops the subscription, and re-subscribes, reading the
    /// rows changed since the last one seen (see [`Env::gap_pass`]).
    fn lose(&self, st: &mut St<T::Stream>, reason: TransitionReason) -> Step {
        self.set_state(st, SyncState::Lagging, reason.clone());
        self.disconnect(st);
        let kind = self.gap_pass(st);
        Step::Pass { kind, reason }
    }

    /// Applies buffered updates and re-reads, during the settle window after a snapshot, the
    /// entities they touched that the snapshot did not see. `Some` leaves streaming.
    async fn apply_stream_batch(&self, st: &mut St<T::Stream>) -> Option<Step> {
        let ids = match self.apply_buffered(st, None).await {
            Ok(ids) => ids,
            Err(error) => {
                return Some(self.lose(
                    st,
                    TransitionReason::StorageFailed {
                        message: error.to_string(),
                    },
                ))
            }
        };
        let now = self.now();
        let mut suspects = Vec::new();
        if let Some((until, seen)) = st.settle.as_mut() {
            if now > *until {
                st.settle = None;
            } else {
                for id in ids {
                    if seen.insert(id) {
                        suspects.push(id);
                    }
                }
            }
        }
        // A rejected update left its entity behind: read it again (the update is on Torii).
        for id in st.rejected_stream.drain() {
            if !suspects.contains(&id) {
                suspects.push(id);
            }
        }
        if suspects.is_empty() {
            return None;
        }
        let mut seen = super::mirror::Seen::default();
        let mut complete = true;
        match self
            .read_ids(st, &suspects, &mut seen, &mut complete, false)
            .await
        {
            Ok(()) => None,
            Err(Failure::Command(Command::Shutdown)) => Some(Step::Stop),
            Err(Failure::Command(Command::Pause)) => Some(Step::Pause),
            Err(Failure::Lost(lost)) => Some(self.lose(st, lost.reason())),
            Err(failure) => {
                // The next replay covers these entities; updates buffered meanwhile are
                // applied on the next loop.
                self.report(st, SyncErrorKind::Refetch, failure.to_string(), None);
                None
            }
        }
    }

    /// Streaming until the stream is lost, stalls, or a command says otherwise.
    pub(crate) async fn stream(&self, st: &mut St<T::Stream>) -> Step {
        let check = self.options.heartbeat_check_ms.max(1);
        st.next_heartbeat_at = self.now().saturating_add(check);
        loop {
            let scopes_waiting =
                st.sync_state.scopes.iter().any(|s| !s.complete) || !st.catch_up.is_empty();
            if st.retarget.is_some() || st.prune || scopes_waiting {
                if let Some(step) = self.settle_scopes(st).await {
                    return step;
                }
            }
            if !st.queue.is_empty() || !st.rejected_stream.is_empty() {
                if let Some(step) = self.apply_stream_batch(st).await {
                    return step;
                }
            }
            let timer_at = st
                .next_tick_at
                .min(st.next_heartbeat_at)
                .min(st.reconcile_at.unwrap_or(u64::MAX));
            let mut idle = pin!(std::future::pending::<()>());
            match self.wait(st, idle.as_mut(), timer_at, true).await {
                Wake::Done(()) => {}
                Wake::Item(item) => {
                    let mut lost = self.buffer_item(st, item).err();
                    while lost.is_none() && st.queue.len() < self.options.max_stream_batch.max(1) {
                        let Some(live) = st.live.as_mut() else {
                            break;
                        };
                        match live.stream.next().now_or_never() {
                            Some(item) => lost = self.buffer_item(st, item).err(),
                            None => break,
                        }
                    }
                    if !st.queue.is_empty() {
                        if let Some(step) = self.apply_stream_batch(st).await {
                            return step;
                        }
                    }
                    if let Some(lost) = lost {
                        return self.lose(st, lost.reason());
                    }
                }
                Wake::Timer => {
                    self.on_timer(st);
                    let now = self.now();
                    if st.reconcile_at.is_some_and(|at| now >= at) {
                        st.reconcile_at = None;
                        self.disconnect(st);
                        return Step::Pass {
                            kind: PassKind::Replay,
                            reason: TransitionReason::Reconcile,
                        };
                    }
                    if now >= st.next_heartbeat_at {
                        st.next_heartbeat_at = now.saturating_add(check);
                        let silent_ms = now.saturating_sub(st.last_progress);
                        if silent_ms >= self.options.heartbeat_timeout_ms {
                            match self.probe(st).await {
                                Ok(Probe::Quiet) => st.last_progress = self.now(),
                                Ok(Probe::Missed) => {
                                    return self.lose(st, TransitionReason::Heartbeat { silent_ms })
                                }
                                Err(Failure::Command(Command::Shutdown)) => return Step::Stop,
                                Err(Failure::Command(Command::Pause)) => return Step::Pause,
                                Err(Failure::Lost(lost)) => return self.lose(st, lost.reason()),
                                // Torii did not answer the probe: treated as a stall.
                                Err(_) => {
                                    return self.lose(st, TransitionReason::Heartbeat { silent_ms })
                                }
                            }
                        }
                    }
                }
                Wake::Command(Command::ForceReplay) => {
                    self.disconnect(st);
                    return Step::Pass {
                        kind: PassKind::Replay,
                        reason: TransitionReason::Forced,
                    };
                }
                Wake::Command(Command::Shutdown) => return Step::Stop,
                Wake::Command(Command::Pause) => return Step::Pause,
                Wake::Command(Command::Resume) => {}
                Wake::Command(Command::Retarget(scopes)) => st.retarget = Some(scopes),
            }
        }
    }
}
