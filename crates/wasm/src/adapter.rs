//! `DeltaStorage`: the synchronizer's storage, decorated so that every committed batch (and the
//! state stored before start-up) also goes to the view as DELTA buffers, and so that a failing
//! store never stops live data.
//!
//! At start-up the stored segments go to the view as they are read, undecoded (they are in the
//! DELTA format): neither thread decodes a model state before something reads it.
//!
//! # When a commit fails
//!
//! What a failure does depends on its kind ([`on_failure`]). A failure that may pass (quota
//! exhausted, connection closed and being reopened, an aborted transaction) does not fail the
//! commit: the batch goes to the view at once, as not yet stored (`persisted: false`), and waits
//! in memory, coalesced per (entity, model) with the batches after it ([`Unpersisted`]), until a
//! write succeeds: every later commit of the target writes what waits first, in the same
//! transaction, and [`DeltaStorage::keep_writing`] retries with a backoff meanwhile. The
//! synchronizer sees a successful commit, so sync goes on (no failed pass, no halt). Each kind
//! of failure is reported once per episode (until everything waiting is stored), as a
//! `StorageError` with a `reason` and advice. A deleted database stops storing for good (live
//! data goes on); any other failure is handed to the synchronizer as before. The retry loop
//! sleeps until a write waits.
//!
//! # Relayed DELTAs
//!
//! While this worker leads ([`DeltaStorage::relay_under`]), every committed batch's DELTAs are
//! numbered within the writer epoch (from 1, over every target, in the order they are sent),
//! and the commit that stores a batch stores with it, in the same transaction, the target's
//! relay mark: the newest of those numbers it holds ([`RelayMark`]). A follower's restore reads the
//! mark with the data, in one transaction, and drops the relayed DELTAs the store already holds (see
//! `docs/tabs.md`). A batch the store refuses for good sends nothing, so its numbers are
//! skipped (followers then read the database again).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::poll_fn;
use std::task::{Poll, Waker};

use dojo_reactive_core::sync::{
    Backoff, BackoffConfig, Clock, Fingerprinter, ModelKey, ModelRecord, StorageAdapter,
    StorageError, StorageErrorKind, StoredTarget, StoredWrite, SyncBatch, TargetKind,
    TargetSyncState,
};
use dojo_reactive_core::{EntityId, ManifestFingerprint};
use dojo_reactive_storage::{Backend, RelayMark, StateChange, Storage};
use futures_util::lock::Mutex;
use serde::Serialize;

use crate::delta::{decode_delta, encode_deltas};
use crate::errors::{storage_error, ErrorInfo};
use crate::unpersisted::Unpersisted;

/// Where a relayed DELTA belongs in its leader's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaRelay {
    /// The target whose changes it carries.
    pub target: TargetKind,
    /// The writer epoch it was sent under.
    pub epoch: u64,
    /// Its number within the epoch (from 1, over every target).
    pub n: u64,
}

/// Where DELTAs go (the worker's `emit`; a recorder in tests).
pub trait DeltaSink {
    /// One DELTA buffer; `persisted` is false while the store has not taken its changes yet;
    /// `relay` numbers a synced batch's DELTA while this worker leads (`None` for the stored
    /// state sent at start-up, and before leading).
    fn delta(&self, bytes: &[u8], persisted: bool, relay: Option<DeltaRelay>);

    /// A DELTA that could not be built, or a storage failure that did not stop sync.
    fn error(&self, info: ErrorInfo);
}

/// What a writer does when a commit fails with an error of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Keep the batch in memory and write it again later (space may come back, the connection
    /// is reopened).
    Retry,
    /// Stop storing: live data goes on from memory, nothing more is written (the database is
    /// gone).
    StopStoring,
    /// Hand the error to the synchronizer (it puts its memory back and fails the pass).
    Fail,
}

/// What a failed commit of this kind leads to. Every kind is decided here (no catch-all): a
/// new kind must say whether it is retried.
pub fn on_failure(kind: &StorageErrorKind) -> OnFailure {
    match kind {
        StorageErrorKind::QuotaExceeded
        | StorageErrorKind::Io
        | StorageErrorKind::Closed
        | StorageErrorKind::Blocked => OnFailure::Retry,
        StorageErrorKind::Deleted | StorageErrorKind::Unavailable => OnFailure::StopStoring,
        StorageErrorKind::SchemaMismatch { .. }
        | StorageErrorKind::ToriiVersionChanged { .. }
        | StorageErrorKind::MigrationFailed
        | StorageErrorKind::Corrupt
        | StorageErrorKind::NotInitialized
        | StorageErrorKind::InvalidBatch
        | StorageErrorKind::OtherOrigin { .. }
        // Another tab's worker writes now: this one must stop, not retry (it follows).
        | StorageErrorKind::LostLeadership => OnFailure::Fail,
    }
}

/// The backoff of retried writes: 1 s doubling to 30 s.
const RETRY_BACKOFF: BackoffConfig = BackoffConfig {
    initial_ms: 1_000,
    max_ms: 30_000,
    jitter_permille: 100,
    seed: 0x5709_A6E5_0FF1_CE11,
};

/// Batches of one target waiting to be stored.
#[derive(Default)]
struct Waiting {
    batches: Unpersisted,
    /// The newest relayed DELTA among the waiting batches (stored with them).
    mark: Option<RelayMark>,
    /// A write of this target is under way (writes of a target never overlap, so they land
    /// in order).
    writing: bool,
}

/// The write-behind state (see the module documentation).
struct Writes {
    targets: HashMap<TargetKind, Waiting>,
    /// Failed writes in a row (the retry backoff grows with them).
    failures: u32,
    backoff: Backoff,
    /// Reasons reported in the current episode.
    reported: HashSet<&'static str>,
    /// The compaction failure last reported (reported again only when it changes).
    compaction_reported: Option<String>,
    /// Storing stopped for good (the database was deleted).
    stopped: bool,
}

impl Default for Writes {
    fn default() -> Self {
        Writes {
            targets: HashMap::new(),
            failures: 0,
            backoff: Backoff::new(RETRY_BACKOFF),
            reported: HashSet::new(),
            compaction_reported: None,
            stopped: false,
        }
    }
}

impl Writes {
    fn waiting(&self) -> usize {
        self.targets.values().map(|w| w.batches.len()).sum()
    }
}

impl Waiting {
    /// Keeps the newer of the waiting mark and `mark` (what a write took and could not store,
    /// or a batch that joined the wait).
    fn keep_mark(&mut self, mark: Option<RelayMark>) {
        self.mark = self.mark.max(mark);
    }
}

/// The retry loop's wake-up: set when a write starts waiting, or to stop the loop.
#[derive(Default)]
struct Wake {
    pending: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Wake {
    fn notify(&self) {
        self.pending.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Completes at the next [`Wake::notify`] (at once if one came since the last wait).
    async fn wait(&self) {
        poll_fn(|cx| {
            if self.pending.replace(false) {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// This worker's relay numbering while it leads: the epoch and the DELTAs numbered so far.
#[derive(Debug, Clone, Copy)]
struct Relay {
    epoch: u64,
    numbered: u64,
}

/// A [`StorageAdapter`] that forwards to `inner` and sends what it stores or loads to a sink.
pub struct DeltaStorage<B: Backend, K> {
    inner: Storage<B>,
    sink: K,
    chunk: usize,
    /// Targets whose stored segments were sent before the synchronizers started: their first
    /// `load` decodes without sending again.
    preloaded: RefCell<HashSet<TargetKind>>,
    writes: RefCell<Writes>,
    /// Numbering while leading (see the module documentation).
    relay: Cell<Option<Relay>>,
    /// Held from numbering a commit's DELTAs until they are sent: they go out in number order.
    sending: Mutex<()>,
    /// The relay marks read before the stored state was sent ([`DeltaStorage::preload`]).
    restored_marks: RefCell<Vec<(TargetKind, RelayMark)>>,
    wake: Wake,
    /// Set by [`DeltaStorage::stop_retrying`]: the retry loop ends.
    retry_stopped: Cell<bool>,
}

impl<B: Backend, K: DeltaSink> DeltaStorage<B, K> {
    /// Decorates `inner`; DELTAs hold at most `chunk` model states.
    pub fn new(inner: Storage<B>, sink: K, chunk: usize) -> Self {
        DeltaStorage {
            inner,
            sink,
            chunk: chunk.max(1),
            preloaded: RefCell::new(HashSet::new()),
            writes: RefCell::new(Writes::default()),
            relay: Cell::new(None),
            sending: Mutex::new(()),
            restored_marks: RefCell::new(Vec::new()),
            wake: Wake::default(),
            retry_stopped: Cell::new(false),
        }
    }

    /// Numbers the DELTAs of every later commit within `epoch`, from 1, and stores their relay
    /// marks with them (this worker leads under `epoch`).
    pub fn relay_under(&self, epoch: u64) {
        self.relay.set(Some(Relay { epoch, numbered: 0 }));
    }

    /// Whether the stored state [`DeltaStorage::preload`] sent already held this relayed DELTA
    /// (`persisted` as relayed), by the target's relay mark read in the same snapshot as that state.
    pub fn holds_relayed(&self, relay: DeltaRelay, persisted: bool) -> bool {
        self.restored_marks.borrow().iter().any(|(target, mark)| {
            *target == relay.target && mark.holds(relay.epoch, relay.n, persisted)
        })
    }

    /// The newest relay mark [`DeltaStorage::preload`] read, over every target: the store held
    /// that DELTA (`None` when no mark was stored).
    pub fn newest_restored_mark(&self) -> Option<RelayMark> {
        self.restored_marks
            .borrow()
            .iter()
            .map(|(_, mark)| *mark)
            .max()
    }

    /// Numbers `count` DELTAs of `target` about to be sent: the first one's place (`None`
    /// when not leading).
    fn number(&self, target: TargetKind, count: usize) -> Option<DeltaRelay> {
        let relay = self.relay.get()?;
        self.relay.set(Some(Relay {
            epoch: relay.epoch,
            numbered: relay.numbered.saturating_add(count as u64),
        }));
        Some(DeltaRelay {
            target,
            epoch: relay.epoch,
            n: relay.numbered.saturating_add(1),
        })
    }

    /// The decorated storage.
    pub fn inner(&self) -> &Storage<B> {
        &self.inner
    }

    /// Model states of `target` shown but not stored yet (0 when the store is current).
    pub fn unpersisted(&self, target: TargetKind) -> usize {
        self.writes
            .borrow()
            .targets
            .get(&target)
            .map_or(0, |w| w.batches.len())
    }

    /// Sends a target's stored segments as DELTAs now, undecoded; the synchronizer's first
    /// `load` of it then decodes without sending again. Returns the model states stored.
    pub async fn preload(&self, target: TargetKind) -> Result<usize, StorageError> {
        let sink = &self.sink;
        let (states, mark) = self
            .inner
            .scan_raw_marked(target, &mut |segment| sink.delta(segment, true, None))
            .await?;
        self.restored(target, mark);
        Ok(states)
    }

    /// [`DeltaStorage::preload`] for a view that is live already (a tab that reads the
    /// database again): the stored segments are replayed here and only each (entity, model)'s
    /// last change is sent, its final state or its deletion, so the view never shows a state
    /// the store overwrote or deleted later (a deleted entity does not flicker back).
    pub async fn preload_coalesced(&self, target: TargetKind) -> Result<usize, StorageError> {
        let mut last: BTreeMap<ModelKey, StateChange> = BTreeMap::new();
        let (states, mark) = self
            .inner
            .scan_raw_marked(target, &mut |segment| {
                // The scan hands over only segments that decode.
                if let Ok((_, changes)) = decode_delta(segment) {
                    for change in changes {
                        let key = match &change {
                            StateChange::Upsert(record) => ModelKey {
                                entity: record.entity,
                                model: record.state.name.clone(),
                            },
                            StateChange::Delete(key) => key.clone(),
                        };
                        last.insert(key, change);
                    }
                }
            })
            .await?;
        let mut upserts = Vec::new();
        let mut deletions = Vec::new();
        for (key, change) in last {
            match change {
                StateChange::Upsert(record) => upserts.push(record),
                StateChange::Delete(_) => deletions.push(key),
            }
        }
        let buffers = self.encode(target, &upserts, &deletions);
        self.send(&buffers, None, true);
        self.restored(target, mark);
        Ok(states)
    }

    /// `target`'s stored state was sent, holding the relayed DELTAs up to `mark`; the
    /// synchronizer's first `load` of it decodes without sending again.
    fn restored(&self, target: TargetKind, mark: Option<RelayMark>) {
        if let Some(mark) = mark {
            self.restored_marks.borrow_mut().push((target, mark));
        }
        self.preloaded.borrow_mut().insert(target);
    }

    /// `stored` with what waits to be stored of `target` applied (what the store will hold).
    fn with_waiting(&self, target: TargetKind, mut stored: StoredTarget) -> StoredTarget {
        if let Some(waiting) = self.writes.borrow().targets.get(&target) {
            waiting.batches.overlay(&mut stored);
        }
        stored
    }

    /// What a load does with each stored segment it reads: sends it to the view, unless the
    /// start-up sent this target's segments already.
    fn segment_sender(&self, target: TargetKind) -> impl FnMut(&[u8]) + '_ {
        let sent = self.preloaded.borrow_mut().remove(&target);
        move |segment: &[u8]| {
            if !sent {
                self.sink.delta(segment, true, None);
            }
        }
    }

    /// A batch's DELTA buffers (none when it changes no state; an error is reported and
    /// nothing sent when they cannot be built).
    fn encode(
        &self,
        target: TargetKind,
        upserts: &[ModelRecord],
        deletions: &[ModelKey],
    ) -> Vec<Vec<u8>> {
        if upserts.is_empty() && deletions.is_empty() {
            return Vec::new();
        }
        encode_deltas(target, upserts, deletions, self.chunk).unwrap_or_else(|error| {
            self.sink.error(ErrorInfo::new(
                "StorageError",
                format!(
                    "a synced batch could not be sent to the view ({error}); it shows after a reload"
                ),
            ));
            Vec::new()
        })
    }

    /// Sends a batch's DELTAs, numbered from `first` when relaying.
    fn send(&self, buffers: &[Vec<u8>], first: Option<DeltaRelay>, persisted: bool) {
        for (i, bytes) in buffers.iter().enumerate() {
            let relay = first.map(|first| DeltaRelay {
                n: first.n.saturating_add(i as u64),
                ..first
            });
            self.sink.delta(bytes, persisted, relay);
        }
    }

    /// Writes what waits for `target` (and what arrives while it is written), one batch at a
    /// time. Returns whether nothing waits any more; fails only with an error the synchronizer
    /// must handle ([`OnFailure::Fail`]), what waited being dropped then.
    async fn write_waiting_of(&self, target: TargetKind) -> Result<bool, StorageError> {
        loop {
            let batch = {
                let mut writes = self.writes.borrow_mut();
                let stopped = writes.stopped;
                let waiting = writes.targets.entry(target).or_default();
                if stopped || waiting.writing || waiting.batches.is_empty() {
                    return Ok(waiting.batches.is_empty() && !waiting.writing);
                }
                waiting.writing = true;
                (waiting.batches.take_batch(target), waiting.mark.take())
            };
            let (batch, mark) = batch;
            let result = self
                .inner
                .commit_relayed(&batch, mark)
                .await
                .map_err(StorageError::from);
            self.writes
                .borrow_mut()
                .targets
                .entry(target)
                .or_default()
                .writing = false;
            match result {
                Ok(()) => self.stored(),
                Err(error) => {
                    let outcome = on_failure(&error.kind);
                    let mut writes = self.writes.borrow_mut();
                    let waiting = writes.targets.entry(target).or_default();
                    match outcome {
                        OnFailure::Retry => {
                            waiting.batches.put_back(batch);
                            waiting.keep_mark(mark);
                        }
                        OnFailure::StopStoring | OnFailure::Fail => {
                            waiting.batches = Unpersisted::default();
                            waiting.mark = None;
                        }
                    }
                    drop(writes);
                    return self.failed(error, outcome).map(|()| false);
                }
            }
        }
    }

    /// A write succeeded: the backoff starts over, a finished episode may be reported again,
    /// and a failed compaction is reported.
    fn stored(&self) {
        let compaction = self.inner.compaction_error().map(|e| e.to_string());
        let mut writes = self.writes.borrow_mut();
        writes.failures = 0;
        if writes.waiting() == 0 {
            writes.reported.clear();
        }
        let new_compaction_error = compaction.is_some() && compaction != writes.compaction_reported;
        writes.compaction_reported.clone_from(&compaction);
        drop(writes);
        if let (true, Some(message)) = (new_compaction_error, compaction) {
            self.sink.error(
                ErrorInfo::new(
                    "StorageError",
                    format!(
                        "compacting the database failed ({message}); the data is stored, \
                         compaction is tried again after the next write (if the quota is \
                         exhausted, free disk space or call reset())"
                    ),
                )
                .with("reason", "compaction"),
            );
        }
    }

    /// A write failed: counts it, reports it once per episode, and says what the commit
    /// returns.
    fn failed(&self, error: StorageError, outcome: OnFailure) -> Result<(), StorageError> {
        if outcome == OnFailure::Fail {
            return Err(error);
        }
        let mut writes = self.writes.borrow_mut();
        writes.failures = writes.failures.saturating_add(1);
        if outcome == OnFailure::StopStoring {
            writes.stopped = true;
            writes.targets.clear();
        }
        let waiting = writes.waiting();
        let reason = reason(&error.kind);
        let first = writes.reported.insert(reason);
        drop(writes);
        if outcome == OnFailure::Retry {
            self.wake.notify();
        }
        if first {
            self.sink.error(write_behind_error(&error, reason, waiting));
        }
        Ok(())
    }

    /// Writes every target's waiting batches now (the retry timer; before shutdown). An error
    /// the synchronizer would have handled is reported instead.
    pub async fn write_waiting(&self) {
        let targets: Vec<TargetKind> = self.writes.borrow().targets.keys().copied().collect();
        for target in targets {
            if let Err(error) = self.write_waiting_of(target).await {
                self.sink.error(storage_error(&error));
            }
        }
    }

    /// Retries waiting writes until [`DeltaStorage::stop_retrying`], with a backoff (1 s
    /// doubling to 30 s) while they keep failing; sleeps, without a timer, while nothing waits.
    pub async fn keep_writing<C: Clock>(&self, clock: &C) {
        while !self.retry_stopped.get() {
            let delay = {
                let mut writes = self.writes.borrow_mut();
                if writes.waiting() == 0 {
                    None
                } else {
                    let failures = writes.failures.max(1);
                    Some(writes.backoff.delay_ms(failures))
                }
            };
            let Some(delay) = delay else {
                self.wake.wait().await;
                continue;
            };
            clock
                .sleep_until(clock.now_ms().saturating_add(delay))
                .await;
            if self.retry_stopped.get() {
                return;
            }
            self.write_waiting().await;
        }
    }

    /// Ends [`DeltaStorage::keep_writing`] (at once when it sleeps, else after its wait).
    pub fn stop_retrying(&self) {
        self.retry_stopped.set(true);
        self.wake.notify();
    }
}

/// The `reason` of a storage failure that did not stop sync.
fn reason(kind: &StorageErrorKind) -> &'static str {
    match kind {
        StorageErrorKind::QuotaExceeded => "quota",
        StorageErrorKind::Closed => "closed",
        StorageErrorKind::Deleted => "deleted",
        StorageErrorKind::Blocked => "blocked",
        StorageErrorKind::Unavailable => "unavailable",
        _ => "io",
    }
}

/// The `StorageError` of a failed write that live data went on without: what happened, what
/// the client does about it, and what the player or app can do.
fn write_behind_error(error: &StorageError, reason: &'static str, waiting: usize) -> ErrorInfo {
    let message = &error.message;
    let text = match reason {
        "quota" => format!(
            "the browser's storage quota is used up ({message}): live data goes on from memory, \
             {waiting} model states wait to be stored and are written as soon as there is space \
             again; free disk space or call reset()"
        ),
        "closed" => format!(
            "the database connection was closed by the browser or another tab ({message}): it \
             is reopened and the {waiting} model states waiting are written again; live data \
             goes on from memory"
        ),
        "deleted" => format!(
            "the database was deleted by another tab's reset() or by clearing site data \
             ({message}): live data goes on from memory but nothing more is stored; restart the \
             client (reset() or a reload) to store again"
        ),
        "blocked" => format!(
            "the database cannot be reopened while another tab upgrades it ({message}): live \
             data goes on from memory, {waiting} model states wait and are written once it is \
             reopened; close the other tab if this lasts"
        ),
        "unavailable" => format!(
            "the browser offers no database here ({message}): live data goes on from memory, \
             nothing is stored"
        ),
        _ => format!(
            "a write to the database failed ({message}): live data goes on from memory, \
             {waiting} model states wait and the write is retried"
        ),
    };
    ErrorInfo::new("StorageError", text)
        .with("kind", &error.kind)
        .with("reason", reason)
        .with("unpersisted", waiting)
}

impl<B: Backend, K: DeltaSink> StorageAdapter for DeltaStorage<B, K> {
    async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<(), StorageError> {
        StorageAdapter::init(&self.inner, fingerprint, torii_version).await
    }

    /// What is stored, with what waits to be stored applied (what the store will hold); every
    /// stored segment is sent to the view unless the start-up sent it already.
    async fn load(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        self.write_waiting_of(target).await?;
        let mut send = self.segment_sender(target);
        let loaded = self.inner.load_with_segments(target, &mut send).await?;
        Ok(self.with_waiting(target, loaded.data))
    }

    /// [`Self::load`], each write handed to `seed` as it is read (the states fingerprinted
    /// `with`), what waits to be stored after it.
    async fn load_seeding(
        &self,
        target: TargetKind,
        with: &Fingerprinter,
        seed: &mut dyn FnMut(StoredWrite),
    ) -> Result<StoredTarget, StorageError> {
        self.write_waiting_of(target).await?;
        let mut send = self.segment_sender(target);
        let mut stored = self
            .inner
            .load_seeding_with_segments(target, with, seed, &mut send)
            .await?
            .data;
        if let Some(waiting) = self.writes.borrow().targets.get(&target) {
            waiting.batches.overlay_seeding(&mut stored, seed);
        }
        Ok(stored)
    }

    /// What is stored, with what waits to be stored applied; nothing is sent to the view.
    async fn read(&self, target: TargetKind) -> Result<StoredTarget, StorageError> {
        self.write_waiting_of(target).await?;
        let loaded = self.inner.load_with_segments(target, &mut |_| {}).await?;
        Ok(self.with_waiting(target, loaded.data))
    }

    /// What is stored of these entities, with what waits to be stored of them applied;
    /// nothing is sent to the view.
    async fn read_entities(
        &self,
        target: TargetKind,
        entities: &[EntityId],
    ) -> Result<StoredTarget, StorageError> {
        self.write_waiting_of(target).await?;
        let stored = StorageAdapter::read_entities(&self.inner, target, entities).await?;
        let mut stored = self.with_waiting(target, stored);
        stored.retain_entities(entities);
        Ok(stored)
    }

    async fn commit(&self, batch: &SyncBatch) -> Result<(), StorageError> {
        let target = batch.target;
        let _sending = self.sending.lock().await;
        let buffers = self.encode(target, &batch.upserts, &batch.deletions);
        let first = if buffers.is_empty() {
            None
        } else {
            self.number(target, buffers.len())
        };
        let mark = first.map(|first| RelayMark {
            epoch: first.epoch,
            n: first.n.saturating_add(buffers.len() as u64 - 1),
        });
        let direct = {
            let mut writes = self.writes.borrow_mut();
            let stopped = writes.stopped;
            let waiting = writes.targets.entry(target).or_default();
            if stopped {
                None
            } else if waiting.writing || !waiting.batches.is_empty() {
                waiting.batches.push(batch);
                waiting.keep_mark(mark);
                Some(false)
            } else {
                waiting.writing = true;
                Some(true)
            }
        };
        let persisted = match direct {
            // Storing stopped for good: the view still gets everything.
            None => false,
            // Behind batches still waiting: written after them, in one batch.
            Some(false) => self.write_waiting_of(target).await?,
            Some(true) => {
                // Compaction waits until the view has the batch (below).
                let result = self
                    .inner
                    .write_relayed(batch, mark)
                    .await
                    .map_err(StorageError::from);
                self.writes
                    .borrow_mut()
                    .targets
                    .entry(target)
                    .or_default()
                    .writing = false;
                match result {
                    Ok(()) => true,
                    Err(error) => {
                        let outcome = on_failure(&error.kind);
                        if outcome == OnFailure::Retry {
                            let mut writes = self.writes.borrow_mut();
                            let waiting = writes.targets.entry(target).or_default();
                            // Anything that arrived meanwhile is newer.
                            waiting.batches.put_back(batch.clone());
                            waiting.keep_mark(mark);
                        }
                        self.failed(error, outcome)?;
                        false
                    }
                }
            }
        };
        self.send(&buffers, first, persisted);
        if direct == Some(true) && persisted {
            // Stored and sent: the store may fold its small segments now, off the DELTAs' way.
            self.inner.compact_if_due(target).await;
            self.stored();
        }
        if self.writes.borrow().waiting() > 0 {
            // Behind a write under way: the retry loop stores it if that write does not.
            self.wake.notify();
        }
        Ok(())
    }

    /// The sync state as it will be stored (a waiting one first).
    async fn sync_state(
        &self,
        target: TargetKind,
    ) -> Result<Option<TargetSyncState>, StorageError> {
        let stored = StoredTarget {
            sync_state: StorageAdapter::sync_state(&self.inner, target).await?,
            ..StoredTarget::default()
        };
        Ok(self.with_waiting(target, stored).sync_state)
    }

    async fn reset(&self) -> Result<(), StorageError> {
        self.preloaded.borrow_mut().clear();
        self.restored_marks.borrow_mut().clear();
        *self.writes.borrow_mut() = Writes::default();
        StorageAdapter::reset(&self.inner).await
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use std::rc::Rc;

    use std::collections::BTreeMap;

    use dojo_reactive_core::{Felt, Member, Primitive, Struct, Value};
    use dojo_reactive_storage::{
        Fault, Faults, MemoryBackend, MemoryStorage, RawSegment, RawValue, RecordKey, StateChange,
        StoreError, WriteOp,
    };
    use futures_executor::block_on;

    use super::*;
    use crate::delta::decode_delta;

    /// A DELTA as sent, with its `persisted` flag and relay number.
    type Sent = (Vec<u8>, bool, Option<DeltaRelay>);

    /// What the sink received: DELTAs with their `persisted` flag, and errors.
    #[derive(Default, Clone)]
    struct Recorder {
        deltas: Rc<RefCell<Vec<Sent>>>,
        errors: Rc<RefCell<Vec<ErrorInfo>>>,
    }

    impl DeltaSink for Recorder {
        fn delta(&self, bytes: &[u8], persisted: bool, relay: Option<DeltaRelay>) {
            self.deltas
                .borrow_mut()
                .push((bytes.to_vec(), persisted, relay));
        }

        fn error(&self, info: ErrorInfo) {
            self.errors.borrow_mut().push(info);
        }
    }

    impl Recorder {
        fn changes(&self) -> Vec<StateChange> {
            self.flagged()
                .into_iter()
                .map(|(change, _)| change)
                .collect()
        }

        fn flagged(&self) -> Vec<(StateChange, bool)> {
            let buffers = std::mem::take(&mut *self.deltas.borrow_mut());
            buffers
                .iter()
                .flat_map(|(b, persisted, _)| {
                    decode_delta(b)
                        .unwrap()
                        .1
                        .into_iter()
                        .map(move |change| (change, *persisted))
                })
                .collect()
        }

        fn reasons(&self) -> Vec<String> {
            self.errors
                .borrow()
                .iter()
                .map(|e| e.fields["reason"].as_str().unwrap_or("").to_owned())
                .collect()
        }
    }

    fn record(id: u128) -> ModelRecord {
        record_with(id, 1)
    }

    /// One `ns-A` state of entity `id` with member `v` (also the unpersisted-set tests' record).
    pub(crate) fn record_with(id: u128, v: u8) -> ModelRecord {
        ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-A".into(),
                members: vec![Member {
                    name: "v".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U8(v)),
                }],
            },
            created_at: 1,
            updated_at: 2 + u64::from(v),
            executed_at: 3,
        }
    }

    fn fingerprint() -> ManifestFingerprint {
        ManifestFingerprint {
            hash: "manifest-hash:v1:test".into(),
            world_class_hash: format!("0x{}", "0".repeat(64)),
            entries: Vec::new(),
        }
    }

    /// A new store over memory whose DELTAs (of at most 2 states) go to the recorder returned.
    async fn recorded_storage() -> (Recorder, DeltaStorage<MemoryBackend, Recorder>) {
        let sink = Recorder::default();
        let storage = DeltaStorage::new(
            MemoryStorage::new(MemoryBackend::default()),
            sink.clone(),
            2,
        );
        storage.init(&fingerprint(), "v1").await.unwrap();
        (sink, storage)
    }

    #[test]
    fn commits_then_loads_are_sent_once_each_and_reads_never() {
        block_on(async {
            let (sink, storage) = recorded_storage().await;
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = (0..3).map(record).collect();
            batch.deletions = vec![ModelKey {
                entity: Felt::from(9u128),
                model: "ns-A".into(),
            }];
            storage.commit(&batch).await.unwrap();
            assert_eq!(sink.deltas.borrow().len(), 3, "2 + 1 upserts, 1 deletion");
            let sent = sink.changes();
            assert_eq!(sent.len(), 4);
            assert!(matches!(&sent[3], StateChange::Delete(k) if k.entity == Felt::from(9u128)));

            // Nothing written, nothing sent.
            storage
                .commit(&SyncBatch::new(TargetKind::Entities))
                .await
                .unwrap();
            assert!(sink.changes().is_empty());

            // The stored segment goes as it is: its 3 upserts and the stored deletion.
            assert_eq!(storage.preload(TargetKind::Entities).await.unwrap(), 3);
            assert_eq!(sink.changes().len(), 4);
            // The synchronizer's load reads the same data without a second send.
            let loaded = storage.load(TargetKind::Entities).await.unwrap();
            assert_eq!(loaded.models.len(), 3);
            assert!(sink.changes().is_empty());
            // A later load (a new run) reads and sends the stored segment again.
            let again = storage.load(TargetKind::Entities).await.unwrap();
            assert_eq!(sink.changes().len(), 4);
            assert_eq!(again.models, loaded.models);
            // Reading for a judgement (a target change's coverage) sends nothing: stored
            // states sent then could reach the view after the change's deletions.
            let read = storage.read(TargetKind::Entities).await.unwrap();
            assert_eq!(read.models, loaded.models);
            assert!(sink.changes().is_empty());
        });
    }

    #[test]
    fn the_start_ups_seeding_load_is_sent_once_like_a_load() {
        block_on(async {
            let (sink, storage) = recorded_storage().await;
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = (0..3).map(record).collect();
            storage.commit(&batch).await.unwrap();
            assert_eq!(sink.changes().len(), 3);
            let with = Fingerprinter::default();
            let expected: Vec<_> = (0..3).map(|id| with.of_record(&record(id))).collect();
            // The fingerprints of the states a start-up is handed, by entity.
            let (store, with) = (&storage, &with);
            let seeded = || async move {
                let mut states = Vec::new();
                store
                    .load_seeding(TargetKind::Entities, with, &mut |write| {
                        if let StoredWrite::State(record) = write {
                            states.push((*record.entity(), record.fingerprint(with)));
                        }
                    })
                    .await
                    .unwrap();
                states.sort_by_key(|(entity, _)| *entity);
                states.into_iter().map(|(_, f)| f).collect::<Vec<_>>()
            };

            assert_eq!(storage.preload(TargetKind::Entities).await.unwrap(), 3);
            assert_eq!(sink.changes().len(), 3);
            // The synchronizer's start-up after the preload: its states fingerprinted as they
            // are read, nothing sent a second time.
            assert_eq!(seeded().await, expected);
            assert!(sink.changes().is_empty());
            // A later start-up (a new run) reads and sends the stored segment again.
            assert_eq!(seeded().await, expected);
            assert_eq!(sink.changes().len(), 3);
        });
    }

    fn key(id: u128) -> ModelKey {
        ModelKey {
            entity: Felt::from(id),
            model: "ns-A".into(),
        }
    }

    fn cursor(step: usize) -> TargetSyncState {
        TargetSyncState {
            cursor: Some(format!("c{step}")),
            ..TargetSyncState::default()
        }
    }

    async fn opened(sink: Recorder) -> (DeltaStorage<MemoryBackend, Recorder>, MemoryBackend) {
        let backend = MemoryBackend::default();
        let storage = DeltaStorage::new(MemoryStorage::new(backend.clone()), sink, 3);
        storage.init(&fingerprint(), "v1").await.unwrap();
        (storage, backend)
    }

    /// What a fresh connection reads back: every state, and the sync state.
    async fn stored(backend: &MemoryBackend) -> (BTreeMap<ModelKey, ModelRecord>, TargetSyncState) {
        let reader = MemoryStorage::new(backend.connect());
        reader.init(&fingerprint(), "v1").await.unwrap();
        let loaded = reader.load(TargetKind::Entities).await.unwrap().data;
        let states = loaded
            .models
            .iter()
            .map(|r| {
                let r = r.get().unwrap().clone();
                (
                    ModelKey {
                        entity: r.entity,
                        model: r.state.name.clone(),
                    },
                    r,
                )
            })
            .collect();
        (states, loaded.sync_state.unwrap_or_default())
    }

    /// A small xorshift generator: the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn failed_commits_keep_live_data_flowing_and_the_store_converges() {
        let mut with_failures = 0;
        for seed in 1..=40u64 {
            with_failures += block_on(async {
                let sink = Recorder::default();
                let (storage, backend) = opened(sink.clone()).await;
                let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut memory: BTreeMap<ModelKey, ModelRecord> = BTreeMap::new();
                let mut view: BTreeMap<ModelKey, ModelRecord> = BTreeMap::new();
                let mut last_cursor = TargetSyncState::default();
                let mut unpersisted_seen = false;
                for step in 0..60 {
                    let mut batch = SyncBatch::new(TargetKind::Entities);
                    for _ in 0..=rng.below(4) {
                        let id = u128::from(rng.below(12));
                        if rng.below(4) == 0 {
                            batch.deletions.push(key(id));
                        } else {
                            batch.upserts.push(record_with(id, rng.below(250) as u8));
                        }
                    }
                    if rng.below(3) == 0 {
                        batch.sync_state = Some(cursor(step));
                    }
                    match rng.below(5) {
                        0 => backend.faults().inject(Fault::QuotaExceeded),
                        1 => backend.faults().inject(Fault::InterruptBeforeCommit),
                        _ => {}
                    }
                    storage
                        .commit(&batch)
                        .await
                        .expect("never fails the synchronizer");
                    for r in &batch.upserts {
                        memory.insert(
                            ModelKey {
                                entity: r.entity,
                                model: r.state.name.clone(),
                            },
                            r.clone(),
                        );
                    }
                    for k in &batch.deletions {
                        memory.remove(k);
                    }
                    if let Some(state) = &batch.sync_state {
                        last_cursor = state.clone();
                    }
                    // Every state reaches the view, stored or not, in order.
                    for (change, persisted) in sink.flagged() {
                        unpersisted_seen |= !persisted;
                        match change {
                            StateChange::Upsert(r) => {
                                view.insert(
                                    ModelKey {
                                        entity: r.entity,
                                        model: r.state.name.clone(),
                                    },
                                    r,
                                );
                            }
                            StateChange::Delete(k) => {
                                view.remove(&k);
                            }
                        }
                    }
                    assert_eq!(
                        view, memory,
                        "seed {seed} step {step}: the view has every state"
                    );
                    if rng.below(6) == 0 {
                        storage.write_waiting().await;
                    }
                }
                // Commits succeed again: the retry stores what waited.
                backend.faults().clear();
                storage.write_waiting().await;
                assert_eq!(storage.unpersisted(TargetKind::Entities), 0);
                let (states, sync_state) = stored(&backend).await;
                assert_eq!(states, memory, "seed {seed}: the store equals memory");
                assert_eq!(
                    sync_state, last_cursor,
                    "seed {seed}: the latest cursor is stored"
                );
                assert!(unpersisted_seen || sink.errors.borrow().is_empty());
                for info in sink.errors.borrow().iter() {
                    assert_eq!(info.name, "StorageError");
                }
                usize::from(unpersisted_seen)
            });
        }
        assert!(
            with_failures > 30,
            "the cases exercise failed commits ({with_failures})"
        );
    }

    /// The view after applying `deltas` in order.
    fn applied<'a>(deltas: impl Iterator<Item = &'a Vec<u8>>) -> BTreeMap<ModelKey, ModelRecord> {
        let mut view = BTreeMap::new();
        for bytes in deltas {
            for change in decode_delta(bytes).unwrap().1 {
                match change {
                    StateChange::Upsert(r) => {
                        let key = ModelKey {
                            entity: r.entity,
                            model: r.state.name.clone(),
                        };
                        view.insert(key, r);
                    }
                    StateChange::Delete(k) => {
                        view.remove(&k);
                    }
                }
            }
        }
        view
    }

    #[test]
    fn relay_marks_name_exactly_the_relayed_deltas_the_store_holds() {
        for seed in 1..=30u64 {
            block_on(async {
                let sink = Recorder::default();
                let (storage, backend) = opened(sink.clone()).await;
                storage.relay_under(7);
                let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
                for step in 0..40 {
                    let mut batch = SyncBatch::new(TargetKind::Entities);
                    for _ in 0..=rng.below(5) {
                        let id = u128::from(rng.below(8));
                        if rng.below(3) == 0 {
                            batch.deletions.push(key(id));
                        } else {
                            batch.upserts.push(record_with(id, rng.below(250) as u8));
                        }
                    }
                    match rng.below(4) {
                        0 => backend.faults().inject(Fault::QuotaExceeded),
                        1 => backend.faults().inject(Fault::InterruptBeforeCommit),
                        _ => {}
                    }
                    storage.commit(&batch).await.unwrap();
                    if rng.below(5) == 0 {
                        storage.write_waiting().await;
                    }
                    let deltas = sink.deltas.borrow().clone();
                    // Numbered from 1, in the order sent, without a gap.
                    for (i, (_, _, relay)) in deltas.iter().enumerate() {
                        let relay = relay.expect("every synced DELTA is numbered");
                        assert_eq!((relay.epoch, relay.n), (7, i as u64 + 1));
                        assert_eq!(relay.target, TargetKind::Entities);
                    }
                    // A restore reads the mark, then the states: they are exactly the view
                    // after the DELTAs up to the mark, so dropping those loses nothing.
                    let reader = DeltaStorage::new(
                        MemoryStorage::new(backend.connect()),
                        Recorder::default(),
                        3,
                    );
                    reader.init(&fingerprint(), "v1").await.unwrap();
                    reader.preload(TargetKind::Entities).await.unwrap();
                    let held = deltas
                        .iter()
                        .take_while(|(_, persisted, relay)| {
                            relay.is_some_and(|r| reader.holds_relayed(r, *persisted))
                        })
                        .count();
                    assert!(
                        deltas.iter().skip(held).all(|(_, persisted, relay)| {
                            !relay.is_some_and(|r| reader.holds_relayed(r, *persisted))
                        }),
                        "seed {seed} step {step}: the held DELTAs are a prefix"
                    );
                    let (states, _) = stored(&backend).await;
                    assert_eq!(
                        states,
                        applied(deltas.iter().take(held).map(|(bytes, _, _)| bytes)),
                        "seed {seed} step {step}: the store holds the DELTAs up to its mark"
                    );
                }
                backend.faults().clear();
                storage.write_waiting().await;
                let reader = DeltaStorage::new(
                    MemoryStorage::new(backend.connect()),
                    Recorder::default(),
                    3,
                );
                reader.init(&fingerprint(), "v1").await.unwrap();
                reader.preload(TargetKind::Entities).await.unwrap();
                let deltas = sink.deltas.borrow().clone();
                assert!(
                    deltas
                        .iter()
                        .all(|(_, persisted, relay)| reader
                            .holds_relayed(relay.unwrap(), *persisted)),
                    "seed {seed}: once everything is written, the mark holds every DELTA"
                );
            });
        }
    }

    #[test]
    fn nothing_is_numbered_before_leading_and_the_restore_is_never_numbered() {
        block_on(async {
            let sink = Recorder::default();
            let (storage, backend) = opened(sink.clone()).await;
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = vec![record(1)];
            storage.commit(&batch).await.unwrap();
            assert_eq!(sink.deltas.borrow()[0].2, None, "not leading: not relayed");
            let reader = DeltaStorage::new(MemoryStorage::new(backend.connect()), sink.clone(), 3);
            reader.init(&fingerprint(), "v1").await.unwrap();
            reader.relay_under(2);
            reader.preload(TargetKind::Entities).await.unwrap();
            assert!(sink
                .deltas
                .borrow()
                .iter()
                .all(|(_, _, relay)| relay.is_none()));
            assert!(
                !reader.holds_relayed(
                    DeltaRelay {
                        target: TargetKind::Entities,
                        epoch: 1,
                        n: 1
                    },
                    true
                ),
                "no mark stored: nothing is held"
            );
        });
    }

    #[test]
    fn a_restore_into_a_live_view_sends_each_states_last_change_only() {
        block_on(async {
            let (storage, backend) = opened(Recorder::default()).await;
            for batch in [
                (vec![record_with(1, 1), record_with(2, 1)], vec![]),
                (vec![record_with(1, 2)], vec![key(2)]),
                (vec![record_with(3, 1)], vec![]),
            ] {
                let mut sync = SyncBatch::new(TargetKind::Entities);
                (sync.upserts, sync.deletions) = batch;
                storage.commit(&sync).await.unwrap();
            }
            let sink = Recorder::default();
            let reader = DeltaStorage::new(MemoryStorage::new(backend.connect()), sink.clone(), 3);
            reader.init(&fingerprint(), "v1").await.unwrap();
            reader
                .preload_coalesced(TargetKind::Entities)
                .await
                .unwrap();
            assert_eq!(
                sink.changes(),
                vec![
                    StateChange::Upsert(record_with(1, 2)),
                    StateChange::Upsert(record_with(3, 1)),
                    StateChange::Delete(key(2)),
                ],
                "entity 1's older state and entity 2's upsert are not sent"
            );
        });
    }

    /// A clock whose sleeps end at once, counted.
    #[derive(Default)]
    struct CountingClock {
        now: std::cell::Cell<u64>,
        sleeps: std::cell::Cell<u32>,
    }

    impl Clock for CountingClock {
        fn now_ms(&self) -> u64 {
            self.now.get()
        }

        async fn sleep_until(&self, deadline_ms: u64) {
            self.sleeps.set(self.sleeps.get() + 1);
            self.now.set(deadline_ms.max(self.now.get()));
        }
    }

    #[test]
    fn the_retry_loop_sleeps_without_a_timer_until_a_write_waits() {
        use futures_util::task::LocalSpawnExt;
        let mut pool = futures_executor::LocalPool::new();
        let sink = Recorder::default();
        let (storage, backend) = pool.run_until(opened(sink.clone()));
        let storage = Rc::new(storage);
        let clock = Rc::new(CountingClock::default());
        let done = Rc::new(std::cell::Cell::new(false));
        {
            let (storage, clock, done) = (Rc::clone(&storage), Rc::clone(&clock), Rc::clone(&done));
            pool.spawner()
                .spawn_local(async move {
                    storage.keep_writing(&*clock).await;
                    done.set(true);
                })
                .unwrap();
        }
        pool.run_until_stalled();
        let mut batch = SyncBatch::new(TargetKind::Entities);
        batch.upserts = vec![record(1)];
        pool.run_until(storage.commit(&batch)).unwrap();
        pool.run_until_stalled();
        assert_eq!(clock.sleeps.get(), 0, "nothing waits: no timer");
        backend.faults().inject(Fault::QuotaExceeded);
        batch.upserts = vec![record(2)];
        pool.run_until(storage.commit(&batch)).unwrap();
        assert_eq!(storage.unpersisted(TargetKind::Entities), 1);
        pool.run_until_stalled();
        assert_eq!(clock.sleeps.get(), 1, "one backoff, then the write");
        assert_eq!(storage.unpersisted(TargetKind::Entities), 0);
        assert_eq!(pool.run_until(stored(&backend)).0.len(), 2);
        assert!(!done.get());
        storage.stop_retrying();
        pool.run_until_stalled();
        assert!(done.get(), "stopping wakes the sleeping loop");
        assert_eq!(clock.sleeps.get(), 1);
    }

    #[test]
    fn a_quota_episode_is_reported_once_and_shows_as_unpersisted() {
        block_on(async {
            let sink = Recorder::default();
            let (storage, backend) = opened(sink.clone()).await;
            let mut first = SyncBatch::new(TargetKind::Entities);
            first.upserts = vec![record_with(1, 1), record_with(2, 1)];
            backend.faults().inject(Fault::QuotaExceeded);
            backend.faults().inject(Fault::QuotaExceeded);
            storage.commit(&first).await.unwrap();
            let mut second = SyncBatch::new(TargetKind::Entities);
            second.upserts = vec![record_with(1, 2)];
            second.sync_state = Some(cursor(2));
            storage.commit(&second).await.unwrap();
            assert_eq!(
                storage.unpersisted(TargetKind::Entities),
                2,
                "coalesced per (entity, model)"
            );
            assert!(sink.flagged().iter().all(|(_, persisted)| !persisted));
            assert_eq!(
                sink.reasons(),
                vec!["quota"],
                "once per episode, not per batch"
            );
            let message = sink.errors.borrow()[0].message.clone();
            assert!(
                message.contains("free disk space or call reset()"),
                "{message}"
            );
            assert!(!message.contains("Torii"), "{message}");
            assert!(!message.contains("  "), "one sentence: {message}");
            // Space is back: the next commit writes what waited with it.
            let mut third = SyncBatch::new(TargetKind::Entities);
            third.upserts = vec![record_with(3, 1)];
            storage.commit(&third).await.unwrap();
            assert_eq!(sink.flagged().len(), 1);
            assert_eq!(storage.unpersisted(TargetKind::Entities), 0);
            let (states, sync_state) = stored(&backend).await;
            assert_eq!(states.len(), 3);
            assert_eq!(states[&key(1)], record_with(1, 2));
            assert_eq!(sync_state, cursor(2));
            // A new episode is reported again.
            backend.faults().inject(Fault::QuotaExceeded);
            storage.commit(&third).await.unwrap();
            assert_eq!(sink.reasons(), vec!["quota", "quota"]);
        });
    }

    /// A backend whose writes take a turn of the executor: other commits and retries run
    /// while one is under way.
    #[derive(Debug, Clone, Default)]
    struct Yielding(MemoryBackend);

    /// Pending once, then ready.
    struct YieldOnce(bool);

    impl std::future::Future for YieldOnce {
        type Output = ();

        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            if self.0 {
                return std::task::Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }

    impl Backend for Yielding {
        async fn open(&self) -> Result<(), StoreError> {
            self.0.open().await
        }

        async fn read_segments(&self, target: TargetKind) -> Result<Vec<RawSegment>, StoreError> {
            self.0.read_segments(target).await
        }

        async fn scan_segments(
            &self,
            target: TargetKind,
            with: &[RecordKey],
            on_chunk: &mut dyn FnMut(Vec<RawSegment>),
        ) -> Result<Vec<Option<RawValue>>, StoreError> {
            self.0.scan_segments(target, with, on_chunk).await
        }

        async fn read_event_batches(&self) -> Result<Vec<RawSegment>, StoreError> {
            self.0.read_event_batches().await
        }

        async fn read(&self, keys: &[RecordKey]) -> Result<Vec<Option<RawValue>>, StoreError> {
            self.0.read(keys).await
        }

        async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
            YieldOnce(false).await;
            self.0.write(ops).await
        }

        async fn update(
            &self,
            key: RecordKey,
            update: &mut dyn FnMut(Option<RawValue>) -> Option<Vec<u8>>,
        ) -> Result<(), StoreError> {
            self.0.update(key, update).await
        }

        fn fence(&self, epoch: Option<u64>) {
            self.0.fence(epoch)
        }

        async fn destroy(&self) -> Result<(), StoreError> {
            self.0.destroy().await
        }

        fn close(&self) {
            self.0.close()
        }

        async fn write_raw(&self, key: RecordKey, value: RawValue) -> Result<(), StoreError> {
            self.0.write_raw(key, value).await
        }

        fn faults(&self) -> &Faults {
            self.0.faults()
        }
    }

    #[test]
    fn writes_overlapping_commits_and_retries_land_in_order() {
        for retry_fails in [false, true] {
            block_on(async {
                let sink = Recorder::default();
                let backend = Yielding::default();
                let storage = DeltaStorage::new(Storage::new(backend.clone()), sink.clone(), 3);
                storage.init(&fingerprint(), "v1").await.unwrap();
                let mut first = SyncBatch::new(TargetKind::Entities);
                first.upserts = vec![record_with(1, 1), record_with(2, 1)];
                first.sync_state = Some(cursor(1));
                backend.0.faults().inject(Fault::QuotaExceeded);
                if retry_fails {
                    backend.0.faults().inject(Fault::QuotaExceeded);
                }
                storage.commit(&first).await.unwrap();
                let mut second = SyncBatch::new(TargetKind::Entities);
                second.upserts = vec![record_with(1, 2), record_with(2, 2)];
                second.sync_state = Some(cursor(2));
                let mut third = SyncBatch::new(TargetKind::Entities);
                third.deletions = vec![key(2)];
                third.sync_state = Some(cursor(3));
                // The retry's write is under way while both commits arrive.
                let ((), (a, b)) = futures_util::future::join(
                    storage.write_waiting(),
                    futures_util::future::join(storage.commit(&second), storage.commit(&third)),
                )
                .await;
                a.unwrap();
                b.unwrap();
                storage.write_waiting().await;
                assert_eq!(storage.unpersisted(TargetKind::Entities), 0);
                let reader = MemoryStorage::new(backend.0.connect());
                reader.init(&fingerprint(), "v1").await.unwrap();
                let loaded = reader.load(TargetKind::Entities).await.unwrap().data;
                let states: Vec<ModelRecord> = loaded
                    .models
                    .iter()
                    .map(|r| r.get().unwrap().clone())
                    .collect();
                assert_eq!(
                    states,
                    vec![record_with(1, 2)],
                    "retry fails: {retry_fails}"
                );
                assert_eq!(loaded.sync_state, Some(cursor(3)));
            });
        }
    }

    #[test]
    fn a_failed_compaction_reaches_errors_once() {
        block_on(async {
            let sink = Recorder::default();
            let (storage, backend) = opened(sink.clone()).await;
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = vec![record(1)];
            storage.commit(&batch).await.unwrap();
            // The first segment becomes unreadable: folding it fails.
            backend
                .write_raw(
                    dojo_reactive_storage::RecordKey::Segment(TargetKind::Entities, 0),
                    Err("not bytes".into()),
                )
                .await
                .unwrap();
            for v in 2..40 {
                batch.upserts = vec![record_with(1, v)];
                storage.commit(&batch).await.unwrap();
            }
            assert!(storage.inner().compaction_error().is_some());
            assert_eq!(
                sink.reasons(),
                vec!["compaction"],
                "reported once, not per commit"
            );
            assert!(
                sink.flagged().iter().all(|(_, persisted)| *persisted),
                "the commits stored"
            );
        });
    }

    #[test]
    fn a_deleted_database_stops_storing_but_not_live_data() {
        block_on(async {
            let sink = Recorder::default();
            let (storage, backend) = opened(sink.clone()).await;
            backend.faults().inject(Fault::Deleted);
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = vec![record(1)];
            storage.commit(&batch).await.unwrap();
            storage.commit(&batch).await.unwrap();
            assert_eq!(sink.flagged().len(), 2, "both batches reached the view");
            assert_eq!(sink.reasons(), vec!["deleted"]);
            assert_eq!(
                stored(&backend).await.0.len(),
                0,
                "nothing written after the deletion"
            );
        });
    }

    #[test]
    fn errors_that_retrying_cannot_fix_go_to_the_synchronizer() {
        block_on(async {
            let sink = Recorder::default();
            let (storage, _backend) = opened(sink.clone()).await;
            storage.inner().close();
            let mut batch = SyncBatch::new(TargetKind::Entities);
            batch.upserts = vec![record(1)];
            let error = storage.commit(&batch).await.expect_err("not initialized");
            assert_eq!(on_failure(&error.kind), OnFailure::Fail);
            assert!(
                sink.flagged().is_empty(),
                "nothing sent for a batch the synchronizer puts back"
            );
            assert_eq!(storage.unpersisted(TargetKind::Entities), 0);
        });
    }
}
