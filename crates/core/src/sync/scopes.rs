//! Sync targets changed at run time: the live subscription's filter is updated in place (one
//! stream per kind), what the changed targets add is paged (see `scope_delta`), and the
//! entities no target covers any more leave the store unless [`Retention::Keep`].
//!
//! Each target's state (complete or not, and the digest of what it selected) is persisted with
//! its kind's sync state; a restart resumes every target: the ones complete under the same
//! definition are caught up with the rest of the store, the others are paged once the stream
//! is live.

use std::collections::BTreeMap;

use super::clock::Clock;
use super::engine::{Env, Failure, Next, PassKind, St, Step};
use super::handle::Command;
use super::mirror::{Pending, Seen};
use super::options::Retention;
use super::scope_delta::added_scope;
use super::state::SyncState;
use super::storage::{ScopeSyncState, StorageAdapter, TargetSyncState};
use super::target::{SyncTarget, TargetScope};
use super::transport::{PageRequest, ToriiTransport, UpdateStream};

/// The state of every scope of `target`: complete when `state` (a stored or current sync
/// state) records it complete under the same definition and the kind's snapshot is complete.
pub(crate) fn restored(target: &SyncTarget, state: &TargetSyncState) -> Vec<ScopeSyncState> {
    target
        .scopes
        .iter()
        .map(|scope| {
            let digest = scope.digest();
            let complete = state.snapshot_complete
                && state
                    .scopes
                    .iter()
                    .any(|s| s.id == scope.id && s.digest == digest && s.complete);
            ScopeSyncState {
                id: scope.id.clone(),
                digest,
                complete,
            }
        })
        .collect()
}

/// Every scope of `target`, complete (after a full pass).
pub(crate) fn all_complete(target: &SyncTarget) -> Vec<ScopeSyncState> {
    target
        .scopes
        .iter()
        .map(|scope| ScopeSyncState {
            id: scope.id.clone(),
            digest: scope.digest(),
            complete: true,
        })
        .collect()
}

/// Whether `state` records `scope`, as defined now, complete.
fn was_complete(state: &TargetSyncState, scope: &TargetScope) -> bool {
    let digest = scope.digest();
    state.snapshot_complete
        && state
            .scopes
            .iter()
            .any(|s| s.id == scope.id && s.digest == digest && s.complete)
}

/// Syncs `scopes` from now on: the target, the scope states and what each incomplete one pages
/// change; `st.prune` is set when a scope was removed or narrowed.
pub(crate) fn adopt<Stream>(st: &mut St<Stream>, scopes: Vec<TargetScope>) {
    let old = st.target.clone();
    let new = old.clone().with_scopes(scopes);
    let (states, parts) = changed_scopes(&old, &new, &st.sync_state);
    let narrowed = old.scopes.iter().any(|scope| {
        new.scope(&scope.id)
            .is_none_or(|now| added_scope(now, scope).is_some())
    });
    st.prune |= narrowed;
    st.target = new;
    st.sync_state.scopes = states;
    st.paging = parts;
}

/// The scope states after `old` became `new`, and what each incomplete scope pages when not
/// the whole of it: unchanged scopes keep their state; a changed one that was complete pages
/// what it adds (nothing, when it only narrowed); a new or incomplete one pages in whole.
fn changed_scopes(
    old: &SyncTarget,
    new: &SyncTarget,
    state: &TargetSyncState,
) -> (Vec<ScopeSyncState>, BTreeMap<String, TargetScope>) {
    let mut states = restored(new, state);
    let mut parts = BTreeMap::new();
    for (scope, status) in new.scopes.iter().zip(states.iter_mut()) {
        match old.scope(&scope.id) {
            Some(before) if before != scope && was_complete(state, before) => {
                match added_scope(before, scope) {
                    None => status.complete = true,
                    Some(part) => {
                        status.complete = false;
                        parts.insert(scope.id.clone(), part);
                    }
                }
            }
            _ => {}
        }
    }
    (states, parts)
}

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    /// While streaming: applies the scopes asked for by `retarget` (updating the live
    /// subscription's filter when the merged one changed), drops what no scope covers any more
    /// ([`Retention::Drop`]), and pages the scopes not complete yet. `Some` leaves streaming.
    pub(crate) async fn settle_scopes(&self, st: &mut St<T::Stream>) -> Option<Step> {
        if let Some(scopes) = st.retarget.take() {
            let old = st.target.clone();
            adopt(st, scopes);
            let new = st.target.clone();
            if (&new.models, &new.clause) != (&old.models, &old.clause) {
                let live_id = st.live.as_ref().map(|live| live.stream.id());
                let Some(live_id) = live_id else {
                    return Some(self.retarget_failed(st, Failure::Lost(super::live::Lost::Ended)));
                };
                let timeout = Some(self.options.request_timeout_ms);
                let call = self.transport.update_subscription(&new, live_id);
                if let Err(failure) = self.call(st, call, timeout).await {
                    return Some(self.retarget_failed(st, failure));
                }
            }
            self.emit_tick(st);
        }
        if std::mem::take(&mut st.prune) && self.options.retention == Retention::Drop {
            // Coverage is judged on the stored states (the mirror keeps fingerprints only),
            // read without sending them to the view again: its DELTAs could land after the
            // drop's and show what it dropped.
            let stored = match self.storage.read(st.target.kind).await {
                Ok(stored) => stored,
                Err(error) => {
                    let failure = Failure::Pass {
                        message: error.to_string(),
                        restart: false,
                    };
                    return Some(self.retarget_failed(st, failure));
                }
            };
            let mut pending = Pending::default();
            st.mirror.drop_uncovered(&mut pending, &st.target, &stored);
            drop(stored);
            let sync = st.sync_state.clone();
            if let Err(error) = self.commit(st, pending, Some(sync)).await {
                let failure = Failure::Pass {
                    message: error.to_string(),
                    restart: false,
                };
                return Some(self.retarget_failed(st, failure));
            }
        }
        for index in 0..st.target.scopes.len() {
            if st.sync_state.scopes.get(index).is_none_or(|s| s.complete) {
                continue;
            }
            let Some(scope) = st.target.scopes.get(index).cloned() else {
                continue;
            };
            let part = st.paging.remove(&scope.id).unwrap_or(scope);
            if let Err(failure) = self.page_scope(st, &part).await {
                return Some(self.retarget_failed(st, failure));
            }
            let mut sync = st.sync_state.clone();
            if let Some(state) = sync.scopes.get_mut(index) {
                state.complete = true;
            }
            sync.updated_at = self.now();
            if let Err(error) = self.commit(st, Pending::default(), Some(sync)).await {
                let failure = Failure::Pass {
                    message: error.to_string(),
                    restart: false,
                };
                return Some(self.retarget_failed(st, failure));
            }
            self.emit_tick(st);
        }
        None
    }

    /// Pages one scope (or the part a change added to it) as snapshot rows, without judging
    /// absence; rows held as they are change nothing.
    async fn page_scope(&self, st: &mut St<T::Stream>, scope: &TargetScope) -> Result<(), Failure> {
        let target = SyncTarget {
            world_addresses: st.target.world_addresses.clone(),
            ..SyncTarget::of(st.target.kind, vec![scope.clone()])
        };
        let mut seen = Seen::default();
        let mut complete = true;
        let mut cursor = None;
        loop {
            let request = PageRequest {
                cursor,
                limit: self.options.page_size,
                entity_ids: Vec::new(),
            };
            let page = self
                .fetch(st, &target, &request, SyncState::Streaming, true)
                .await?;
            self.apply_page(st, &page, &mut seen, &mut complete, None)
                .await?;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// A change of scopes that could not be applied in place: the stream is dropped and a full
    /// replay (after a backoff) syncs the new scopes.
    fn retarget_failed(&self, st: &mut St<T::Stream>, failure: Failure) -> Step {
        match failure {
            Failure::Command(Command::Shutdown) => Step::Stop,
            Failure::Command(Command::Pause) => Step::Pause,
            Failure::Fatal(error) => Step::Halt(super::error::FatalReason::Storage { error }),
            failure => {
                self.disconnect(st);
                let failure = match failure {
                    Failure::Transient(message) | Failure::Pass { message, .. } => Failure::Pass {
                        message: format!("changing the sync targets failed: {message}"),
                        restart: false,
                    },
                    other => other,
                };
                self.fail(st, failure, Next::Pass(PassKind::Replay))
            }
        }
    }
}
