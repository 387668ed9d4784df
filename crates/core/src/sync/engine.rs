//! The synchronizer of one target: its parts, its run loop and the steps between states.

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};

use super::backoff::Backoff;
use super::clock::Clock;
use super::error::{FatalReason, StorageError, SyncFatalError};
use super::handle::{Command, SyncHandle};
use super::live::Lost;
use super::mirror::{EntitySet, StoreMirror};
use super::options::SyncOptions;
use super::state::{
    NoObserver, SyncErrorEvent, SyncErrorKind, SyncObserver, SyncState, Transition,
    TransitionReason,
};
use super::status::ModelStats;
use super::storage::{ModelRecord, StorageAdapter, TargetSyncState};
use super::target::{SyncTarget, TargetKind, TargetScope};
use super::tick::{ConnectionState, SyncTick};
use super::transport::ToriiTransport;
use crate::bytes32::Felt;
use crate::entity::EntityId;
use crate::ledger::{Ledger, ModelId};
use crate::manifest::ManifestFingerprint;
use crate::queue::UpdateQueue;
use crate::sync_config::SyncConfig;
use crate::value::Struct;

/// What a synchronizer needs besides its transport, storage and clock.
#[derive(Debug, Clone)]
pub struct SyncSetup {
    /// What to sync.
    pub target: SyncTarget,
    /// Fingerprint of the manifest the store is opened with.
    pub fingerprint: ManifestFingerprint,
    /// Version members of the synced models.
    pub config: SyncConfig,
    /// Tunables.
    pub options: SyncOptions,
}

/// A stream update waiting in the buffer.
#[derive(Debug, Clone)]
pub(crate) struct Buffered {
    pub world_address: Felt,
    pub created_at: u64,
    pub updated_at: u64,
    pub executed_at: u64,
    pub state: Struct,
    pub seq: u64,
}

/// The live subscription.
pub(crate) struct Live<St> {
    pub stream: St,
    pub epoch: u32,
    pub seq: u64,
}

/// Which snapshot pass to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PassKind {
    /// The first snapshot; from the stored cursor when one was interrupted.
    Bootstrap { resume: Option<String> },
    /// A full re-read of the snapshot.
    Replay,
    /// After a restart or a lost stream: the snapshot newest first, down to rows Torii last
    /// changed before `since` (Unix seconds); absences are completed only for the entities read.
    CatchUp { since: u64 },
}

/// What to do after a backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    Start,
    Pass(PassKind),
}

/// The next step of the run loop.
#[derive(Debug)]
pub(crate) enum Step {
    Start,
    Pass {
        kind: PassKind,
        reason: TransitionReason,
    },
    Stream,
    Retry(Next),
    Pause,
    Stop,
    Halt(FatalReason),
}

/// Why a step failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Retry the same thing after a backoff; does not count against the budget.
    Transient(String),
    /// The pass failed; counts against the budget. `restart` drops a resume cursor.
    Pass { message: String, restart: bool },
    /// The live stream was lost; fails a pass like `Pass`.
    Lost(Lost),
    /// A command interrupted it.
    Command(Command),
    /// Storage refused to open.
    Fatal(StorageError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient(message) => write!(f, "{message}"),
            Failure::Pass { message, .. } => write!(f, "{message}"),
            Failure::Lost(lost) => write!(f, "{lost}"),
            Failure::Command(command) => write!(f, "interrupted by {command:?}"),
            Failure::Fatal(error) => write!(f, "{error}"),
        }
    }
}

/// Immutable parts.
pub(crate) struct Env<T, S, C> {
    pub transport: T,
    pub storage: S,
    pub clock: C,
    pub kind: TargetKind,
    pub fingerprint: ManifestFingerprint,
    pub config: SyncConfig,
    pub options: SyncOptions,
}

/// Mutable parts.
pub(crate) struct St<Stream> {
    pub state: SyncState,
    /// What is synced now (its scopes change at run time).
    pub target: SyncTarget,
    /// Scopes asked for by `retarget` and not applied yet (applied while streaming, or by the
    /// next pass).
    pub retarget: Option<Vec<TargetScope>>,
    /// For incomplete scopes changed at run time: the part of the scope to page (absent: the
    /// whole scope).
    pub paging: std::collections::BTreeMap<String, TargetScope>,
    /// Complete scopes whose own cursor (Unix seconds) is older than what the pass's catch-up
    /// read: each reads its rows changed since once streaming (their cursors are not raised
    /// before).
    pub catch_up: std::collections::BTreeMap<String, u64>,
    /// A scope was removed or narrowed: what no scope covers leaves the store once streaming
    /// (with [`Retention::Drop`](super::options::Retention::Drop)).
    pub prune: bool,
    pub mirror: StoreMirror,
    pub queue: UpdateQueue<(EntityId, ModelId), Buffered>,
    pub live: Option<Live<Stream>>,
    pub commands: UnboundedReceiver<Command>,
    pub observer: Box<dyn SyncObserver>,
    pub backoff: Backoff,
    pub consecutive_failures: u32,
    pub failed_passes: u32,
    pub retry_at: Option<u64>,
    pub next_tick_at: u64,
    pub next_heartbeat_at: u64,
    pub last_progress: u64,
    pub last_synced_at: Option<u64>,
    pub started_at: u64,
    pub sync_state: TargetSyncState,
    pub page_counter: u64,
    pub replay_count: u64,
    pub replay_started_at: Option<u64>,
    pub last_replay_ms: Option<u64>,
    pub rejected_records: u64,
    pub torii_version: Option<String>,
    pub model_stats: std::collections::BTreeMap<String, ModelStats>,
    pub settle: Option<(u64, EntitySet)>,
    /// When a full replay reconciles what catch-ups could not see (entities deleted whole
    /// while the client was closed or the stream down): `reconcile_interval_ms` after the last
    /// full pass, or `reconcile_after_catch_up_ms` after a restart's catch-up.
    pub reconcile_at: Option<u64>,
    /// Entities whose stream update was rejected: read again by id on the next stream batch.
    pub rejected_stream: EntitySet,
    pub connection: ConnectionState,
}

/// The synchronizer of one sync target (see the module documentation).
pub struct Synchronizer<T: ToriiTransport, S, C> {
    env: Env<T, S, C>,
    st: St<T::Stream>,
    tx: UnboundedSender<Command>,
}

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Synchronizer<T, S, C> {
    /// A synchronizer in state `idle`; nothing happens until [`Synchronizer::run`].
    pub fn new(transport: T, storage: S, clock: C, setup: SyncSetup) -> Self {
        let (tx, commands) = unbounded();
        let now = clock.now_ms();
        let st = St {
            state: SyncState::Idle,
            target: setup.target.clone(),
            retarget: None,
            paging: Default::default(),
            catch_up: Default::default(),
            prune: false,
            mirror: StoreMirror::new(&setup.config),
            queue: UpdateQueue::new(setup.options.queue),
            live: None,
            commands,
            observer: Box::new(NoObserver),
            backoff: Backoff::new(setup.options.backoff),
            consecutive_failures: 0,
            failed_passes: 0,
            retry_at: None,
            next_tick_at: now,
            next_heartbeat_at: now,
            last_progress: now,
            last_synced_at: None,
            started_at: now,
            sync_state: TargetSyncState::default(),
            page_counter: 0,
            replay_count: 0,
            replay_started_at: None,
            last_replay_ms: None,
            rejected_records: 0,
            torii_version: None,
            model_stats: Default::default(),
            settle: None,
            reconcile_at: None,
            rejected_stream: EntitySet::default(),
            connection: ConnectionState::Disconnected,
        };
        let env = Env {
            transport,
            storage,
            clock,
            kind: setup.target.kind,
            fingerprint: setup.fingerprint,
            config: setup.config,
            options: setup.options,
        };
        Synchronizer { env, st, tx }
    }

    /// Installs the observer (logger, SYNC_TICK and SYNC_ERROR hooks).
    pub fn set_observer(&mut self, observer: Box<dyn SyncObserver>) {
        self.st.observer = observer;
    }

    /// A handle to send commands ([`SyncHandle::force_replay`], [`SyncHandle::shutdown`], ...).
    pub fn handle(&self) -> SyncHandle {
        SyncHandle {
            tx: self.tx.clone(),
        }
    }

    /// The current state.
    pub fn state(&self) -> SyncState {
        self.st.state
    }

    /// The current status.
    pub fn tick(&mut self) -> SyncTick {
        let now = self.env.clock.now_ms();
        self.st.build_tick(&self.env, now)
    }

    /// The version ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.st.mirror.ledger
    }

    /// Whether `record` is the synced state of its (entity, model), as far as the synchronizer
    /// can tell: it keeps a fingerprint of every state it stored, not the state (storage and
    /// the view have it).
    pub fn holds(&self, record: &ModelRecord) -> bool {
        self.st.mirror.holds_record(record)
    }

    /// How many synced model states there are (what storage holds).
    pub fn held_states(&self) -> usize {
        self.st.mirror.held_states()
    }

    /// Every held ledger version, as storage should hold it.
    pub fn ledger_entries(&self) -> Vec<super::storage::LedgerEntry> {
        self.st.mirror.ledger_entries()
    }

    /// The target.
    pub fn target(&self) -> &SyncTarget {
        &self.st.target
    }

    /// Runs until `shutdown` (`Ok`) or until the retry budget runs out or storage refuses to
    /// open (`Err`). Running again after it returned starts over from storage.
    pub async fn run(&mut self) -> Result<(), SyncFatalError> {
        let Synchronizer { env, st, .. } = self;
        // A run future dropped mid-way is a killed process: start over from storage.
        env.disconnect(st);
        st.state = SyncState::Idle;
        st.settle = None;
        st.reconcile_at = None;
        st.retry_at = None;
        st.failed_passes = 0;
        st.consecutive_failures = 0;
        // Commands sent while nothing ran were for a run that is over, except the scopes to
        // sync, which this run starts from.
        while let Ok(command) = st.commands.try_recv() {
            if let Command::Retarget(scopes) = command {
                st.retarget = Some(scopes);
            }
        }
        let mut step = Step::Start;
        loop {
            step = match step {
                Step::Start => env.start(st).await,
                Step::Pass { kind, reason } => env.pass(st, kind, reason).await,
                Step::Stream => env.stream(st).await,
                Step::Retry(next) => env.retry(st, next).await,
                Step::Pause => env.paused(st).await,
                Step::Stop => {
                    env.stop(st);
                    return Ok(());
                }
                Step::Halt(reason) => return Err(env.halt(st, reason)),
            };
        }
    }
}

impl<T: ToriiTransport, S: StorageAdapter, C: Clock> Env<T, S, C> {
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Moves to `to`, reporting the transition and a tick.
    pub(crate) fn set_state(
        &self,
        st: &mut St<T::Stream>,
        to: SyncState,
        reason: TransitionReason,
    ) {
        if st.state == to {
            return;
        }
        let now = self.now();
        if st.state == SyncState::Streaming {
            st.last_synced_at = Some(now);
        }
        let transition = Transition {
            target: self.kind,
            from: st.state,
            to,
            reason,
            at: now,
        };
        st.state = to;
        st.observer.transition(&transition);
        self.emit_tick(st);
    }

    pub(crate) fn emit_tick(&self, st: &mut St<T::Stream>) {
        let now = self.now();
        let tick = st.build_tick(self, now);
        st.observer.tick(&tick);
        st.next_tick_at = now.saturating_add(self.options.tick_interval_ms.max(1));
    }

    pub(crate) fn report(
        &self,
        st: &mut St<T::Stream>,
        kind: SyncErrorKind,
        message: String,
        retry_in_ms: Option<u64>,
    ) {
        let event = SyncErrorEvent {
            target: self.kind,
            kind,
            message,
            consecutive_failures: st.consecutive_failures,
            failed_passes: st.failed_passes,
            retry_in_ms,
            at: self.now(),
        };
        st.observer.error(&event);
    }

    /// Drops the subscription and the updates it buffered.
    pub(crate) fn disconnect(&self, st: &mut St<T::Stream>) {
        st.live = None;
        st.connection = ConnectionState::Disconnected;
        let depth = st.queue.len();
        st.queue.drain_batch(depth);
    }

    /// The pass to run when a failed one is retried.
    fn pass_after_failure(st: &St<T::Stream>, restart: bool) -> PassKind {
        if st.sync_state.snapshot_complete {
            PassKind::Replay
        } else if restart {
            PassKind::Bootstrap { resume: None }
        } else {
            PassKind::Bootstrap {
                resume: st.sync_state.cursor.clone(),
            }
        }
    }

    /// Turns a failure into the next step: a backoff, or `halted` when the budget is spent.
    pub(crate) fn fail(&self, st: &mut St<T::Stream>, failure: Failure, next: Next) -> Step {
        match failure {
            Failure::Command(Command::Shutdown) => Step::Stop,
            Failure::Command(Command::Pause) => Step::Pause,
            Failure::Command(_) => Step::Retry(next),
            Failure::Fatal(error) => Step::Halt(FatalReason::Storage { error }),
            Failure::Transient(message) => {
                st.consecutive_failures = st.consecutive_failures.saturating_add(1);
                let delay = st.backoff.delay_ms(st.consecutive_failures);
                st.retry_at = Some(self.now().saturating_add(delay));
                self.report(st, SyncErrorKind::Transient, message.clone(), Some(delay));
                self.set_state(
                    st,
                    SyncState::Offline,
                    TransitionReason::TransientFailure { message },
                );
                Step::Retry(next)
            }
            Failure::Lost(lost) => self.fail(
                st,
                Failure::Pass {
                    message: format!("{lost} during a snapshot pass"),
                    restart: false,
                },
                next,
            ),
            Failure::Pass { message, restart } => {
                self.disconnect(st);
                st.consecutive_failures = st.consecutive_failures.saturating_add(1);
                st.failed_passes = st.failed_passes.saturating_add(1);
                if st.failed_passes >= self.options.replay_budget.max(1) {
                    self.report(st, SyncErrorKind::PassFailed, message.clone(), None);
                    return Step::Halt(FatalReason::RetryBudgetExhausted {
                        attempts: st.failed_passes,
                        last_error: message,
                    });
                }
                let delay = st.backoff.delay_ms(st.consecutive_failures);
                st.retry_at = Some(self.now().saturating_add(delay));
                self.report(st, SyncErrorKind::PassFailed, message.clone(), Some(delay));
                self.set_state(
                    st,
                    SyncState::Retrying,
                    TransitionReason::PassFailed { message },
                );
                let next = match next {
                    Next::Start => Next::Start,
                    // Its rows are still the newest: reading them again closes the same gap.
                    Next::Pass(kind @ PassKind::CatchUp { .. }) => Next::Pass(kind),
                    Next::Pass(_) => Next::Pass(Self::pass_after_failure(st, restart)),
                };
                Step::Retry(next)
            }
        }
    }

    /// Opens storage, restores what it holds, and picks the first pass.
    async fn start(&self, st: &mut St<T::Stream>) -> Step {
        let now = self.now();
        st.started_at = now;
        st.next_tick_at = now;
        let version = match self
            .call(
                st,
                self.transport.version(),
                Some(self.options.probe_timeout_ms()),
            )
            .await
        {
            Ok(version) => version,
            Err(failure) => return self.fail(st, failure, Next::Start),
        };
        st.torii_version = Some(version.clone());
        if let Err(error) = self.storage.init(&self.fingerprint, &version).await {
            return self.fail(st, Failure::Fatal(error), Next::Start);
        }
        // The new mirror is seeded as storage reads what it stores, the states fingerprinted
        // as they are read; it replaces the old one once all is read.
        let mut mirror = StoreMirror::new(&self.config);
        let with = mirror.fingerprinter().clone();
        let stored = match self
            .storage
            .load_seeding(self.kind, &with, &mut |write| mirror.seed_write(write))
            .await
        {
            Ok(stored) => stored,
            Err(error) => return self.fail(st, Failure::Fatal(error), Next::Start),
        };
        for skipped in &stored.skipped {
            let message = format!("stored record skipped: {skipped}");
            self.report(st, SyncErrorKind::BadRecord, message, None);
        }
        mirror.finish_seed();
        st.mirror = mirror;
        st.sync_state = stored.sync_state.unwrap_or_default();
        st.sync_state.scopes =
            super::scopes::restored(&st.target, &st.sync_state, self.options.retention);
        st.paging.clear();
        st.catch_up.clear();
        if let Some(scopes) = st.retarget.take() {
            super::scopes::adopt(st, scopes, self.options.retention);
        }
        st.last_synced_at = st.sync_state.last_synced_at;
        st.consecutive_failures = 0;
        if st.sync_state.snapshot_complete {
            Step::Pass {
                kind: self.restart_pass(st),
                reason: TransitionReason::Restarted,
            }
        } else if let Some(cursor) = st.sync_state.cursor.clone() {
            Step::Pass {
                kind: PassKind::Bootstrap {
                    resume: Some(cursor),
                },
                reason: TransitionReason::ResumeSnapshot {
                    pages_read: st.sync_state.pages_read,
                },
            }
        } else {
            Step::Pass {
                kind: PassKind::Bootstrap { resume: None },
                reason: TransitionReason::Start,
            }
        }
    }

    /// The pass after a restart with a complete snapshot: a catch-up (see [`Env::gap_pass`])
    /// when the store was current within `catch_up_window_ms`; else a replay. A catch-up
    /// schedules the reconcile `reconcile_after_catch_up_ms` later.
    fn restart_pass(&self, st: &mut St<T::Stream>) -> PassKind {
        let window = self.options.catch_up_window_ms;
        let recent = window > 0
            && st
                .sync_state
                .last_synced_at
                .is_some_and(|at| self.now().saturating_sub(at) <= window);
        let kind = if recent {
            self.gap_pass(st)
        } else {
            PassKind::Replay
        };
        let after = self.options.reconcile_after_catch_up_ms;
        if matches!(kind, PassKind::CatchUp { .. }) && after > 0 {
            st.reconcile_at = Some(self.now().saturating_add(after));
        }
        kind
    }

    /// The pass that closes a gap in the stream (a restart, a lost or dead stream): when the
    /// last pass ended (no cursor of an interrupted pass is stored) and the kind's newest
    /// update is known, a catch-up of the merged filter over the rows Torii changed since the
    /// newest cursor of a complete target (less `catch_up_margin_s`; the kind's newest update
    /// for targets stored without one), the complete targets whose own cursor is older being
    /// left to catch up on their own once streaming ([`St::catch_up`]); else a replay.
    pub(crate) fn gap_pass(&self, st: &mut St<T::Stream>) -> PassKind {
        let state = &st.sync_state;
        let newest = match state.last_timestamp {
            Some(newest) if state.snapshot_complete && state.cursor.is_none() => newest,
            _ => return PassKind::Replay,
        };
        let declared = st.target.scopes.len().min(state.scopes.len());
        let cursors: Vec<(String, u64)> = state.scopes[..declared]
            .iter()
            .filter(|s| s.complete)
            .map(|s| (s.id.clone(), s.since.unwrap_or(newest)))
            .collect();
        let since = cursors
            .iter()
            .map(|(_, since)| *since)
            .max()
            .unwrap_or(newest);
        for (id, cursor) in cursors {
            if cursor < since {
                st.catch_up.insert(id, cursor);
            }
        }
        PassKind::CatchUp {
            since: since.saturating_sub(self.options.catch_up_margin_s),
        }
    }

    /// When the next scheduled full replay is due, counted from now.
    pub(crate) fn next_reconcile(&self) -> Option<u64> {
        let interval = self.options.reconcile_interval_ms;
        (interval > 0).then(|| self.now().saturating_add(interval))
    }

    /// Waits out the backoff, then runs what failed again.
    async fn retry(&self, st: &mut St<T::Stream>, next: Next) -> Step {
        let deadline = st.retry_at.unwrap_or_else(|| self.now());
        loop {
            let mut idle = std::pin::pin!(std::future::pending::<()>());
            match self.drive(st, idle.as_mut(), Some(deadline)).await {
                Err(Failure::Command(Command::ForceReplay)) => {
                    st.retry_at = None;
                    return self.after_retry(next, TransitionReason::Forced);
                }
                Err(Failure::Command(Command::Shutdown)) => return Step::Stop,
                Err(Failure::Command(Command::Pause)) => return Step::Pause,
                Err(Failure::Transient(_)) | Ok(()) => break,
                // No subscription lives while backing off; anything else is ignored.
                Err(Failure::Lost(_)) => self.disconnect(st),
                Err(_) => continue,
            }
        }
        st.retry_at = None;
        self.after_retry(next, TransitionReason::BackoffElapsed)
    }

    fn after_retry(&self, next: Next, reason: TransitionReason) -> Step {
        match next {
            Next::Start => Step::Start,
            Next::Pass(kind) => Step::Pass { kind, reason },
        }
    }

    /// Paused: no subscription until `resume`, `force_replay` or `shutdown`.
    async fn paused(&self, st: &mut St<T::Stream>) -> Step {
        self.disconnect(st);
        self.set_state(st, SyncState::Pausing, TransitionReason::Paused);
        loop {
            let mut idle = std::pin::pin!(std::future::pending::<()>());
            match self.drive(st, idle.as_mut(), None).await {
                Err(Failure::Command(Command::Shutdown)) => return Step::Stop,
                Err(Failure::Command(Command::Resume)) => {
                    return Step::Pass {
                        kind: Self::pass_after_failure(st, false),
                        reason: TransitionReason::Resumed,
                    }
                }
                Err(Failure::Command(Command::ForceReplay)) => {
                    return Step::Pass {
                        kind: Self::pass_after_failure(st, false),
                        reason: TransitionReason::Forced,
                    }
                }
                _ => continue,
            }
        }
    }

    fn stop(&self, st: &mut St<T::Stream>) {
        self.disconnect(st);
        self.set_state(st, SyncState::Pausing, TransitionReason::Shutdown);
        self.set_state(st, SyncState::Idle, TransitionReason::Stopped);
    }

    fn halt(&self, st: &mut St<T::Stream>, reason: FatalReason) -> SyncFatalError {
        self.disconnect(st);
        self.set_state(st, SyncState::Halted, TransitionReason::BudgetExhausted);
        let now = self.now();
        let tick = st.build_tick(self, now);
        SyncFatalError {
            reason,
            last_tick: Box::new(tick),
        }
    }

    /// Subscribes (waiting for the handshake) and starts a new stream epoch.
    pub(crate) async fn subscribe(&self, st: &mut St<T::Stream>) -> Result<(), Failure> {
        st.connection = ConnectionState::Connecting;
        if let Some(scopes) = st.retarget.take() {
            // Not streaming yet: subscribe with the new filter (this pass, or the paging once
            // streaming, reads what the new scopes add).
            super::scopes::adopt(st, scopes, self.options.retention);
        }
        let target = st.target.clone();
        let result = self
            .call(
                st,
                self.transport.subscribe(&target),
                Some(self.options.request_timeout_ms),
            )
            .await;
        match result {
            Ok(stream) => {
                let epoch = st.mirror.ledger.begin_epoch();
                st.live = Some(Live {
                    stream,
                    epoch,
                    seq: 0,
                });
                st.page_counter = 0;
                st.connection = ConnectionState::Connected;
                st.last_progress = self.now();
                Ok(())
            }
            Err(failure) => {
                st.connection = ConnectionState::Disconnected;
                Err(failure)
            }
        }
    }
}
