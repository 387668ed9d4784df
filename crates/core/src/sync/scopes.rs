//! Sync targets changed at run time: the live subscription's filter is updated in place (one
//! stream per kind), what the changed targets add is paged (see `scope_delta`), and the
//! entities no target covers any more leave the store unless [`Retention::Keep`].
//!
//! Each target's state (complete or not, the digest of what it selected, and its own resume
//! cursor) is persisted with its kind's sync state; a restart resumes every target: the ones
//! complete under the same definition catch up from their cursor (those sharing the newest
//! cursor in the pass's one catch-up of the merged filter, an older one by a catch-up of its
//! own once the stream is live), the others are paged once the stream is live, in the order
//! the targets are declared. With [`Retention::Keep`], a complete target no longer declared
//! keeps its state (its data stays stored), so declaring it again catches it up instead of
//! paging it.

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
use super::tick::TargetTick;
use super::transport::{PageRequest, ToriiTransport, UpdateStream};

/// The state of every scope of `target`, in its order (complete, with its own cursor, when
/// `state`, a stored or current sync state, records it complete under the same definition and
/// the kind's snapshot is complete), followed, with [`Retention::Keep`], by the complete scopes
/// of `state` that `target` does not declare (their data stays stored: see
/// [`TargetSyncState::scopes`]; with [`Retention::Drop`] it leaves, by a prune or by the
/// absences a pass judges, so their state goes at once).
pub(crate) fn restored(
    target: &SyncTarget,
    state: &TargetSyncState,
    retention: Retention,
) -> Vec<ScopeSyncState> {
    let mut scopes = declared(target, state);
    if retention == Retention::Keep {
        scopes.extend(dormant(target, state));
    }
    scopes
}

/// The state of every scope of `target`, in its order (see [`restored`]).
fn declared(target: &SyncTarget, state: &TargetSyncState) -> Vec<ScopeSyncState> {
    target
        .scopes
        .iter()
        .map(|scope| {
            let digest = scope.digest();
            let stored = state
                .scopes
                .iter()
                .find(|s| s.id == scope.id && s.digest == digest && s.complete)
                .filter(|_| state.snapshot_complete);
            ScopeSyncState {
                id: scope.id.clone(),
                digest,
                complete: stored.is_some(),
                since: stored.and_then(|s| s.since),
            }
        })
        .collect()
}

/// Where each target of `target` stands after a restore from `stored` (the kind's stored sync
/// state), before anything is synced: complete when it was stored complete under the same
/// definition. What a host shows as soon as the stored data is in the view, without waiting
/// for the synchronizer's first tick (which says the same).
pub fn restored_targets(target: &SyncTarget, stored: Option<&TargetSyncState>) -> Vec<TargetTick> {
    let empty = TargetSyncState::default();
    target
        .scopes
        .iter()
        .zip(declared(target, stored.unwrap_or(&empty)))
        .map(|(scope, state)| TargetTick {
            id: scope.id.clone(),
            digest: scope.digest_hex(),
            complete: state.complete,
        })
        .collect()
}

/// Most undeclared scope states kept: a game that names each region it visits anew must not
/// grow its sync state without bound.
const MAX_DORMANT: usize = 32;

/// The complete scope states of `state` that `target` does not declare, the most recently
/// declared first (the newest cursors), at most [`MAX_DORMANT`]: a target just dropped comes
/// from the declared part of `state`, which comes before its undeclared part.
fn dormant(target: &SyncTarget, state: &TargetSyncState) -> Vec<ScopeSyncState> {
    state
        .scopes
        .iter()
        .filter(|s| state.snapshot_complete && s.complete && target.scope(&s.id).is_none())
        .take(MAX_DORMANT)
        .cloned()
        .collect()
}

/// The scope states after a full pass read every scope of `target`: each complete, with the
/// cursor `since`; the undeclared ones of `state` stay only when their data stays
/// ([`Retention::Keep`]: a full pass drops it otherwise).
pub(crate) fn after_full_pass(
    target: &SyncTarget,
    state: &TargetSyncState,
    since: Option<u64>,
    retention: Retention,
) -> Vec<ScopeSyncState> {
    let mut scopes: Vec<ScopeSyncState> = target
        .scopes
        .iter()
        .map(|scope| ScopeSyncState {
            id: scope.id.clone(),
            digest: scope.digest(),
            complete: true,
            since,
        })
        .collect();
    if retention == Retention::Keep {
        scopes.extend(dormant(target, state));
    }
    scopes
}

/// Raises to `to` the cursor of every declared complete scope of `target` that is current as
/// far as the kind is (not one waiting for its own catch-up in `catch_up`): what a batch
/// applied while streaming, or a catch-up that ended, brought them to. Cursors never go back.
pub(crate) fn raise(
    scopes: &mut [ScopeSyncState],
    target: &SyncTarget,
    to: Option<u64>,
    catch_up: &BTreeMap<String, u64>,
) {
    let declared = target.scopes.len().min(scopes.len());
    for state in scopes.iter_mut().take(declared) {
        if state.complete && !catch_up.contains_key(&state.id) {
            state.since = state.since.max(to);
        }
    }
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
pub(crate) fn adopt<Stream>(st: &mut St<Stream>, scopes: Vec<TargetScope>, retention: Retention) {
    let old = st.target.clone();
    let new = old.clone().with_scopes(scopes);
    let (states, parts) = changed_scopes(&old, &new, &st.sync_state, retention);
    let narrowed = old.scopes.iter().any(|scope| {
        new.scope(&scope.id)
            .is_none_or(|now| added_scope(now, scope).is_some())
    });
    st.prune |= narrowed;
    // A target declared again whose data stayed stored since it was dropped catches up from
    // its own cursor; one whose cursor is unknown is paged whole.
    let mut states = states;
    for (scope, status) in new.scopes.iter().zip(states.iter_mut()) {
        if old.scope(&scope.id).is_some() || !status.complete {
            continue;
        }
        match status.since {
            Some(since) => {
                st.catch_up.insert(scope.id.clone(), since);
            }
            None => status.complete = false,
        }
    }
    let mut parts = parts;
    st.catch_up.retain(|id, _| {
        let complete = new.scope(id).is_some() && states.iter().any(|s| &s.id == id && s.complete);
        if !complete {
            // Changed before it caught up: what it held is not current, page it whole.
            parts.remove(id);
        }
        complete
    });
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
    retention: Retention,
) -> (Vec<ScopeSyncState>, BTreeMap<String, TargetScope>) {
    let mut states = restored(new, state, retention);
    let mut parts = BTreeMap::new();
    for (scope, status) in new.scopes.iter().zip(states.iter_mut()) {
        if status.complete {
            continue;
        }
        match old.scope(&scope.id) {
            Some(before) if before != scope && was_complete(state, before) => {
                match added_scope(before, scope) {
                    // Narrowed: what it still selects is as current as it was.
                    None => {
                        status.complete = true;
                        status.since = state
                            .scopes
                            .iter()
                            .find(|s| s.id == scope.id)
                            .and_then(|s| s.since);
                    }
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

/// How many held entities a target change judges at a time (see `settle_scopes`).
const COVERAGE_CHUNK: usize = 2_000;

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    /// While streaming: applies the scopes asked for by `retarget` (updating the live
    /// subscription's filter when the merged one changed), drops what no scope covers any more
    /// ([`Retention::Drop`]), and pages the scopes not complete yet. `Some` leaves streaming.
    pub(crate) async fn settle_scopes(&self, st: &mut St<T::Stream>) -> Option<Step> {
        if let Some(scopes) = st.retarget.take() {
            let old = st.target.clone();
            adopt(st, scopes, self.options.retention);
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
            // read without sending them to the view again (its DELTAs could land after the
            // drop's and show what it dropped), a chunk of held entities at a time: a move
            // holds one chunk's states, not the kind's.
            let mut pending = Pending::default();
            for chunk in st.mirror.held_entities().chunks(COVERAGE_CHUNK) {
                let stored = match self.storage.read_entities(st.target.kind, chunk).await {
                    Ok(stored) => stored,
                    Err(error) => {
                        st.mirror.rollback(pending.into_undo());
                        let failure = Failure::Pass {
                            message: error.to_string(),
                            restart: false,
                        };
                        return Some(self.retarget_failed(st, failure));
                    }
                };
                st.mirror.drop_uncovered(&mut pending, &st.target, &stored);
            }
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
            let Some(scope) = st.target.scopes.get(index).cloned() else {
                continue;
            };
            let complete = st.sync_state.scopes.get(index).is_none_or(|s| s.complete);
            let catch_up = st.catch_up.get(&scope.id).copied().filter(|_| complete);
            if complete && catch_up.is_none() {
                continue;
            }
            // A complete target behind the kind reads its rows changed since its own cursor;
            // an incomplete one is paged (whole, or the part a change added).
            let (part, since) = match catch_up {
                Some(since) => (
                    scope,
                    Some(since.saturating_sub(self.options.catch_up_margin_s)),
                ),
                None => (st.paging.remove(&scope.id).unwrap_or(scope), None),
            };
            if let Err(failure) = self.page_scope(st, &part, since).await {
                return Some(self.retarget_failed(st, failure));
            }
            st.catch_up.remove(&part.id);
            let mut sync = st.sync_state.clone();
            let newest = sync.last_timestamp;
            if let Some(state) = sync.scopes.get_mut(index) {
                state.complete = true;
                state.since = state.since.max(newest);
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
    /// absence; rows held as they are change nothing. With `since`, a catch-up: Torii pages
    /// newest first, so the paging stops after the page that reaches rows changed before it.
    async fn page_scope(
        &self,
        st: &mut St<T::Stream>,
        scope: &TargetScope,
        since: Option<u64>,
    ) -> Result<(), Failure> {
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
            let caught_up =
                since.is_some_and(|since| page.items.iter().any(|row| row.updated_at < since));
            match page.next_cursor {
                Some(next) if !caught_up => cursor = Some(next),
                _ => return Ok(()),
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
