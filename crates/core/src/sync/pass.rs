//! Snapshot passes (bootstrap, replay and catch-up): subscribe, page the snapshot, re-read
//! entities that moved while it was paged, apply the buffered updates, and complete it.
//!
//! A catch-up (after a restart) relies on Torii paging rows newest first: it stops after the
//! page that reaches rows last changed before its `since`, which were all applied before the
//! client closed, and completes absences only for the entities it read.

use std::pin::pin;

use super::clock::Clock;
use super::engine::{Env, Failure, Next, PassKind, St, Step};
use super::handle::Command;
use super::mirror::{EntitySet, Pending, RowMeta, Seen};
use super::options::Retention;
use super::state::{SyncErrorKind, SyncState, TransitionReason};
use super::storage::{StorageAdapter, TargetSyncState};
use super::target::SyncTarget;
use super::transport::{PageRequest, SnapshotPage, ToriiTransport};
use crate::entity::EntityId;
use crate::ledger::Source;

/// Rounds of re-reading entities the stream touched but the snapshot did not show.
const REFETCH_ROUNDS: usize = 3;

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    /// One snapshot pass (see the module documentation).
    pub(crate) async fn pass(
        &self,
        st: &mut St<T::Stream>,
        kind: PassKind,
        reason: TransitionReason,
    ) -> Step {
        let pass_state = match kind {
            PassKind::Bootstrap { .. } => SyncState::Bootstrapping,
            PassKind::Replay | PassKind::CatchUp { .. } => SyncState::Replaying,
        };
        let replay = pass_state == SyncState::Replaying;
        let fresh_subscription = st.live.is_none();
        self.set_state(st, pass_state, reason);
        let next = Next::Pass(kind.clone());
        if replay {
            st.replay_count += 1;
            if st.replay_started_at.is_none() {
                st.replay_started_at = Some(self.now());
            }
        }
        if fresh_subscription {
            if replay {
                if let Err(failure) = self.probe_version(st).await {
                    return self.fail(st, failure, next);
                }
            }
            if let Err(failure) = self.subscribe(st).await {
                return self.fail(st, failure, next);
            }
        }
        let (resume, since) = match &kind {
            PassKind::Bootstrap { resume } => (resume.clone(), None),
            PassKind::Replay => (None, None),
            PassKind::CatchUp { since } => (None, Some(*since)),
        };
        let resumed = resume.is_some();
        match self.read_snapshot(st, pass_state, resume, since).await {
            Ok(()) => {}
            Err(failure) => return self.fail(st, failure, next),
        }
        if resumed {
            // The pages stored before the interruption were read under a subscription that is
            // gone: what changed in between is only visible to a full pass.
            return Step::Pass {
                kind: PassKind::Replay,
                reason: TransitionReason::CloseRestartGap,
            };
        }
        // A full pass saw every entity; a catch-up leaves whole-entity deletions to the next
        // scheduled one.
        st.reconcile_at = match kind {
            PassKind::CatchUp { .. } => st.reconcile_at.or_else(|| self.next_reconcile()),
            PassKind::Bootstrap { .. } | PassKind::Replay => self.next_reconcile(),
        };
        self.set_state(st, SyncState::Streaming, TransitionReason::SnapshotComplete);
        Step::Stream
    }

    /// Reports a Torii version change (the store keeps syncing; the next start lets the host
    /// decide through `StorageAdapter::init`).
    async fn probe_version(&self, st: &mut St<T::Stream>) -> Result<(), Failure> {
        let version = self
            .call(
                st,
                self.transport.version(),
                Some(self.options.probe_timeout_ms()),
            )
            .await?;
        if st.torii_version.as_deref() != Some(version.as_str()) {
            let previous = st.torii_version.replace(version.clone());
            if let Some(previous) = previous {
                self.report(
                    st,
                    SyncErrorKind::ToriiVersionChanged,
                    format!("Torii version changed from {previous:?} to {version:?}"),
                    None,
                );
            }
        }
        Ok(())
    }

    /// Pages the snapshot from `cursor` (for a catch-up, only down to rows changed before
    /// `since`), re-reads moved entities, applies buffered updates and, for a pass from the
    /// first page, completes the snapshot (absence).
    async fn read_snapshot(
        &self,
        st: &mut St<T::Stream>,
        pass_state: SyncState,
        mut cursor: Option<String>,
        since: Option<u64>,
    ) -> Result<(), Failure> {
        let resumed = cursor.is_some();
        let mut seen = Seen::default();
        let mut complete = true;
        let bootstrap = pass_state == SyncState::Bootstrapping;
        if bootstrap && !resumed {
            st.sync_state.pages_read = 0;
        }
        loop {
            let request = PageRequest {
                cursor: cursor.clone(),
                limit: self.options.page_size,
                entity_ids: Vec::new(),
            };
            let target = st.target.clone();
            let page = self.fetch(st, &target, &request, pass_state, true).await?;
            let mut sync = st.sync_state.clone();
            sync.cursor = page.next_cursor.clone();
            sync.pages_read += 1;
            sync.updated_at = self.now();
            if !bootstrap {
                sync.snapshot_complete = true;
            }
            self.apply_page(st, &page, &mut seen, &mut complete, Some(sync))
                .await?;
            let caught_up =
                since.is_some_and(|since| page.items.iter().any(|row| row.updated_at < since));
            match page.next_cursor {
                Some(next) if !caught_up => cursor = Some(next),
                _ => break,
            }
        }
        let mut refetched = EntitySet::default();
        for _ in 0..REFETCH_ROUNDS {
            let ids = self.moved_entities(st, &seen, &refetched);
            if ids.is_empty() {
                break;
            }
            refetched.extend(ids.iter().copied());
            self.read_ids(st, &ids, &mut seen, &mut complete, true)
                .await?;
        }
        if !self.moved_entities(st, &seen, &refetched).is_empty() {
            complete = false;
        }
        self.apply_buffered(st, None)
            .await
            .map_err(|error| Failure::Pass {
                message: error.to_string(),
                restart: false,
            })?;
        let mut pending = Pending::default();
        if !resumed && complete {
            if self.options.retention == Retention::Keep && st.mirror.holds_unseen(&seen) {
                // What no target covers any more stays as it was last synced (judged on the
                // stored states: the mirror keeps fingerprints only).
                let stored =
                    self.storage
                        .read(st.target.kind)
                        .await
                        .map_err(|error| Failure::Pass {
                            message: error.to_string(),
                            restart: false,
                        })?;
                for (entity, model) in st.mirror.uncovered(&st.target, &stored) {
                    seen.entities.insert(entity);
                    seen.models.insert((entity, model));
                }
            }
            let epoch = st.live.as_ref().map_or(0, |live| live.epoch);
            st.page_counter += 1;
            let page = st.page_counter;
            st.mirror
                .complete_snapshot(&mut pending, epoch, page, &seen, since.is_some());
        }
        let now = self.now();
        // A full pass read every scope; a catch-up leaves incomplete ones to be paged.
        let full = !resumed && since.is_none();
        let sync = TargetSyncState {
            cursor: None,
            snapshot_complete: true,
            pages_read: 0,
            last_synced_at: Some(now),
            last_timestamp: st.sync_state.last_timestamp,
            updated_at: now,
            scopes: if full {
                super::scopes::after_full_pass(
                    &st.target,
                    &st.sync_state,
                    st.sync_state.last_timestamp,
                    self.options.retention,
                )
            } else {
                // A catch-up brought the targets it read up to the kind's newest row; those
                // behind it catch up on their own, incomplete ones are paged.
                let mut scopes = st.sync_state.scopes.clone();
                super::scopes::raise(
                    &mut scopes,
                    &st.target,
                    st.sync_state.last_timestamp,
                    &st.catch_up,
                );
                scopes
            },
        };
        if full {
            st.paging.clear();
            st.catch_up.clear();
        }
        self.commit(st, pending, Some(sync))
            .await
            .map_err(|error| Failure::Pass {
                message: error.to_string(),
                restart: false,
            })?;
        st.failed_passes = 0;
        st.consecutive_failures = 0;
        st.last_progress = now;
        st.last_synced_at = Some(now);
        if !bootstrap {
            if let Some(started) = st.replay_started_at.take() {
                st.last_replay_ms = Some(now.saturating_sub(started));
            }
        }
        st.settle = Some((
            now.saturating_add(self.options.settle_window_ms),
            seen.entities,
        ));
        Ok(())
    }

    /// Entities with buffered updates that the pass has neither shown nor re-read: they were
    /// written while the snapshot was paged and moved to an already-read position.
    fn moved_entities(
        &self,
        st: &St<T::Stream>,
        seen: &Seen,
        refetched: &EntitySet,
    ) -> Vec<EntityId> {
        let mut ids: Vec<EntityId> = st
            .queue
            .iter()
            .map(|((id, _), _)| *id)
            .filter(|id| !seen.entities.contains(id) && !refetched.contains(id))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Reads entities by id (in chunks, every page) and applies them as snapshot rows.
    pub(crate) async fn read_ids(
        &self,
        st: &mut St<T::Stream>,
        ids: &[EntityId],
        seen: &mut Seen,
        complete: &mut bool,
        retry: bool,
    ) -> Result<(), Failure> {
        let state = st.state;
        let target = st.target.clone();
        for chunk in ids.chunks(self.options.refetch_chunk.max(1)) {
            let mut cursor = None;
            loop {
                let request = PageRequest {
                    cursor,
                    limit: self.options.page_size,
                    entity_ids: chunk.to_vec(),
                };
                let page = self.fetch(st, &target, &request, state, retry).await?;
                self.apply_page(st, &page, seen, complete, None).await?;
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// Reads one page; transient failures are retried after a backoff while the subscription
    /// stays live (its buffer keeps filling), when `retry` is set.
    pub(crate) async fn fetch(
        &self,
        st: &mut St<T::Stream>,
        target: &SyncTarget,
        request: &PageRequest,
        pass_state: SyncState,
        retry: bool,
    ) -> Result<SnapshotPage, Failure> {
        loop {
            let result = self
                .call(
                    st,
                    self.transport.retrieve(target, request),
                    Some(self.options.request_timeout_ms),
                )
                .await;
            match result {
                Ok(page) => {
                    st.consecutive_failures = 0;
                    return Ok(page);
                }
                Err(Failure::Transient(message)) if retry && st.live.is_some() => {
                    self.backoff_in_pass(st, message).await?;
                    self.set_state(st, pass_state, TransitionReason::BackoffElapsed);
                }
                Err(failure) => return Err(failure),
            }
        }
    }

    /// `offline` within a pass: waits out the backoff while the stream keeps being read.
    async fn backoff_in_pass(
        &self,
        st: &mut St<T::Stream>,
        message: String,
    ) -> Result<(), Failure> {
        st.consecutive_failures = st.consecutive_failures.saturating_add(1);
        let delay = st.backoff.delay_ms(st.consecutive_failures);
        let deadline = self.now().saturating_add(delay);
        st.retry_at = Some(deadline);
        self.report(st, SyncErrorKind::Transient, message.clone(), Some(delay));
        self.set_state(
            st,
            SyncState::Offline,
            TransitionReason::TransientFailure { message },
        );
        loop {
            let mut idle = pin!(std::future::pending::<()>());
            match self.drive(st, idle.as_mut(), Some(deadline)).await {
                Ok(()) | Err(Failure::Transient(_)) => break,
                Err(Failure::Command(Command::ForceReplay | Command::Resume)) => continue,
                Err(failure) => return Err(failure),
            }
        }
        st.retry_at = None;
        Ok(())
    }

    /// Applies one page's rows as snapshot observations and writes them with `sync_state`.
    pub(crate) async fn apply_page(
        &self,
        st: &mut St<T::Stream>,
        page: &SnapshotPage,
        seen: &mut Seen,
        complete: &mut bool,
        sync_state: Option<TargetSyncState>,
    ) -> Result<(), Failure> {
        let epoch = st.live.as_ref().map_or(0, |live| live.epoch);
        st.page_counter += 1;
        let source = Source::Snapshot {
            epoch,
            page: st.page_counter,
        };
        let mut pending = Pending::default();
        for entity in &page.items {
            seen.entities.insert(entity.id);
            let meta = RowMeta::of(entity);
            for state in &entity.models {
                if st.target.includes_model(&state.name) {
                    let model = st.mirror.model_id(&state.name);
                    seen.models.insert((entity.id, model));
                    st.mirror.observe(&mut pending, &meta, state, source);
                }
            }
        }
        for rejected in &page.rejected {
            st.rejected_records += 1;
            match rejected.entity {
                // Its content is unknown: keep what is held rather than call it absent.
                Some(id) => {
                    seen.entities.insert(id);
                    seen.opaque.insert(id);
                }
                None => *complete = false,
            }
            let entity = rejected
                .entity
                .map(|id| id.to_hex())
                .unwrap_or_else(|| "?".to_owned());
            self.report(
                st,
                SyncErrorKind::BadRecord,
                format!("entity {entity}: {}", rejected.reason),
                None,
            );
        }
        st.last_progress = self.now();
        self.commit(st, pending, sync_state)
            .await
            .map_err(|error| Failure::Pass {
                message: error.to_string(),
                restart: false,
            })
    }
}
