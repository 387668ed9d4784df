//! The worker's event-log targets. After INIT_ACK (`ready` never waits for them), the
//! `event_log` store is read and each target's stored [`EventLog`] sent to the view in chunks of
//! [`RESTORE_CHUNK`] events, newest first (the first a snapshot, the last flagged `restored`),
//! the worker's event loop running between chunks. Then, once leading, a follower ([`follow`])
//! keeps each current: every change stored (one batch, in one transaction) and sent as an
//! `EVENTS` batch (the JS worker relays it to the other tabs). A worker that read the store as
//! a follower reads it again when it starts to lead (the old leader wrote on since: writing on
//! from the old read would reuse its record numbers) and sends each log found changed again. A
//! target is complete once its stored log is sent and a walk read its whole history within the
//! retention: the store marks it walked, so a reload of a complete log is complete once
//! restored. A target changed (at run time, or its definition between two sessions once
//! walked) starts over (its stored log dropped, a cold walk); a target removed loses its stored
//! log.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use dojo_reactive_core::sync::Clock;
use dojo_reactive_core::{EventLog, LogChange, LoggedEvent};
use dojo_reactive_storage::{
    encode_event_batch, newest_first_chunks, Backend, BrowserBackend, EventBatch, EventStore,
    StoreError, WriteOp,
};
use dojo_reactive_torii::event_follow::{follow, FollowOptions, FollowSink};
use dojo_reactive_torii::{ToriiClient, ToriiError};
use js_sys::Uint8Array;

use crate::clock::{yield_task, BrowserClock};
use crate::errors::{store_error, ErrorInfo};
use crate::event_targets::EventLogTarget;
use crate::messages::WorkerEvent;
use crate::worker::Emit;

/// Events per chunk of a stored log sent to the view: each one a short task to decode on the
/// main thread.
pub(crate) const RESTORE_CHUNK: usize = 500;

/// Where a target is in its restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Its stored log is not sent yet; without `from_store` it starts empty and what the store
    /// holds under its id is dropped (a target changed before the store was read).
    Waiting { from_store: bool },
    /// Its stored log is being sent.
    Restoring,
    /// Sent: its log waits in `log` until a follower takes it.
    Restored,
}

/// One event-log target: its definition, where its restore is, its log until a follower takes
/// it, and the flag that stops its restore and its follower.
struct Target {
    target: EventLogTarget,
    phase: Phase,
    log: Option<EventLog>,
    /// Whether a walk read its whole history within the retention into `log`.
    walked: bool,
    stop: Rc<Cell<bool>>,
}

/// How a batch sent to the view stands (see [`WorkerEvent::Events`]).
#[derive(Debug, Clone, Copy)]
struct Flags {
    persisted: bool,
    stored: bool,
    restored: bool,
    complete: bool,
}

/// What the followers share: the store's writer, the database and the host.
struct Shared {
    store: RefCell<EventStore>,
    backend: BrowserBackend,
    emit: Emit,
}

/// The event-log targets of a worker.
pub(crate) struct EventLogs {
    shared: Rc<Shared>,
    targets: RefCell<BTreeMap<String, Target>>,
    client: ToriiClient,
    options: FollowOptions,
    /// Set by `lead`: targets restored later start following at once.
    leading: Cell<bool>,
    /// Set once the store was read (`shared.store` is its writer from then on).
    loaded: Cell<bool>,
    /// Set while `restore` sends the stored logs.
    restoring: Cell<bool>,
    /// Set by `shutdown`: the restore stops.
    closed: Cell<bool>,
    /// The targets whose stored log is to be dropped, decided before this worker led (or read
    /// the store): dropped by `lead` through the writer it holds then (only the leader writes).
    unwritten: RefCell<BTreeSet<String>>,
}

/// How the stored log of target `id`, defined as `digest` says, stands by the store's walked
/// mark: whether it is this definition's (no mark, or a mark of the same digest), and whether
/// its walk ended (kept and marked).
fn standing(store: &EventStore, id: &str, digest: &str) -> (bool, bool) {
    let mark = store.walked(id);
    let kept = mark.is_none_or(|d| d == digest);
    (kept, kept && mark.is_some())
}

fn now_s() -> u64 {
    BrowserClock.now_ms() / 1000
}

impl Shared {
    /// Sends one batch to the view.
    fn send(&self, batch: &EventBatch, flags: Flags) {
        if !batch.added.is_empty() {
            self.emit.shown.set(true);
        }
        let event = WorkerEvent::Events {
            target: &batch.target,
            persisted: flags.persisted,
            stored: flags.stored,
            restored: flags.restored,
            complete: flags.complete,
        };
        match encode_event_batch(batch) {
            Ok(bytes) => self.emit.bytes(&event, &Uint8Array::from(&bytes[..])),
            Err(error) => self.emit.report(ErrorInfo::new(
                "StorageError",
                format!(
                    "an event of the event log {} cannot be encoded: {error}",
                    batch.target
                ),
            )),
        }
    }

    /// Writes `ops` (nothing to write is a success); a failure is reported.
    async fn write(&self, ops: Result<Vec<WriteOp>, StoreError>) -> bool {
        let written = match ops {
            Ok(ops) if ops.is_empty() => Ok(()),
            Ok(ops) => self.backend.write(ops).await,
            Err(error) => Err(error),
        };
        match written {
            Ok(()) => true,
            Err(error) => {
                self.emit.report(store_error(&error));
                false
            }
        }
    }
}

impl EventLogs {
    /// The event-log targets, their stored logs not read yet (see [`EventLogs::restore`]).
    pub(crate) fn new(
        backend: BrowserBackend,
        emit: Emit,
        client: ToriiClient,
        targets: &[EventLogTarget],
        options: FollowOptions,
    ) -> EventLogs {
        let logs = EventLogs {
            shared: Rc::new(Shared {
                store: RefCell::new(EventStore::default()),
                backend,
                emit,
            }),
            targets: RefCell::new(BTreeMap::new()),
            client,
            options,
            leading: Cell::new(false),
            loaded: Cell::new(false),
            restoring: Cell::new(false),
            closed: Cell::new(false),
            unwritten: RefCell::new(BTreeSet::new()),
        };
        for target in targets {
            logs.insert(target.clone(), Phase::Waiting { from_store: true });
        }
        logs
    }

    fn insert(&self, target: EventLogTarget, phase: Phase) {
        self.targets.borrow_mut().insert(
            target.id.clone(),
            Target {
                target,
                phase,
                log: None,
                walked: false,
                stop: Rc::new(Cell::new(false)),
            },
        );
    }

    /// Reads the store, then sends each target's stored log to the view in chunks (see the
    /// module documentation), starting its follower when leading. A store that cannot be read
    /// is reported: the event logs then stay unsynced until the page is reloaded (nothing is
    /// written over records not read).
    pub(crate) async fn restore(&self) {
        self.restoring.set(true);
        self.restore_all().await;
        self.restoring.set(false);
    }

    async fn restore_all(&self) {
        let loaded = EventStore::load(&self.shared.backend).await;
        if self.closed.get() {
            return;
        }
        let mut stored = match loaded {
            Ok((store, stored)) => {
                *self.shared.store.borrow_mut() = store;
                stored
            }
            Err(error) => {
                let mut info = store_error(&error);
                info.message = format!(
                    "the stored event logs cannot be read, so they are neither shown nor synced \
                     until the page is reloaded: {}",
                    info.message
                );
                self.shared.emit.report(info);
                return;
            }
        };
        for skipped in &stored.skipped {
            self.shared
                .emit
                .report(store_error(&skipped.error).with("key", &skipped.key));
        }
        self.loaded.set(true);
        if self.leading.get() {
            self.drop_unconfigured();
        }
        while let Some((id, from_store)) = self.next_waiting() {
            let digest = self.with_target(&id, |t| t.target.digest_hex());
            let Some(digest) = digest else { continue };
            let (kept, walked) = standing(&self.shared.store.borrow(), &id, &digest);
            // Stored for another definition (changed at run time, or since its walk): dropped.
            let (kept, walked) = (from_store && kept, from_store && walked);
            let events = stored.logs.remove(&id).filter(|_| kept);
            if !kept {
                self.drop_stored([id.clone()]);
            }
            self.restore_target(&id, events.unwrap_or_default(), walked)
                .await;
            if self.closed.get() {
                return;
            }
        }
    }

    /// The first target waiting for its restore, now restoring, and whether its log is read
    /// from the store.
    fn next_waiting(&self) -> Option<(String, bool)> {
        let mut targets = self.targets.borrow_mut();
        let (id, target) = targets
            .iter_mut()
            .find(|(_, t)| matches!(t.phase, Phase::Waiting { .. }))?;
        let Phase::Waiting { from_store } = target.phase else {
            return None;
        };
        target.phase = Phase::Restoring;
        Some((id.clone(), from_store))
    }

    fn with_target<T>(&self, id: &str, f: impl FnOnce(&Target) -> T) -> Option<T> {
        self.targets.borrow().get(id).map(f)
    }

    /// Restores target `id`'s log from `events` and sends it in chunks, the worker's event loop
    /// running between them; then keeps it for its follower (started when leading). A target
    /// removed or changed meanwhile is left (its replacement restores on its own).
    async fn restore_target(&self, id: &str, events: Vec<LoggedEvent>, walked: bool) {
        let Some((retention, stop)) =
            self.with_target(id, |t| (t.target.retention, Rc::clone(&t.stop)))
        else {
            return;
        };
        let mut log = EventLog::new(retention);
        log.restore(events, now_s());
        let mut chunks = newest_first_chunks(id, &log, RESTORE_CHUNK).peekable();
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            let flags = Flags {
                persisted: true,
                stored: true,
                restored: last,
                complete: last && walked,
            };
            self.shared.send(&chunk, flags);
            if last {
                break;
            }
            drop(chunk);
            yield_task().await;
            if stop.get() || self.closed.get() {
                return;
            }
        }
        drop(chunks);
        self.keep(id, log, walked);
    }

    /// Keeps target `id`'s restored log for its follower, started now when leading.
    fn keep(&self, id: &str, log: EventLog, walked: bool) {
        if let Some(target) = self.targets.borrow_mut().get_mut(id) {
            target.log = Some(log);
            target.walked = walked;
            target.phase = Phase::Restored;
        }
        if self.leading.get() {
            self.start(id);
        }
    }

    /// Sends target `id`'s log as empty (a snapshot of nothing, restored): a target removed
    /// (`stored: false`), or one starting over.
    fn send_empty(&self, id: &str, stored: bool) {
        let empty = EventBatch {
            target: id.to_owned(),
            snapshot: true,
            ..EventBatch::default()
        };
        let flags = Flags {
            persisted: true,
            stored,
            restored: true,
            complete: false,
        };
        self.shared.send(&empty, flags);
    }

    /// Drops the stored logs of `ids`: written now when leading with the store read, else
    /// kept for `lead` (or the read), which drops them through the writer it holds then.
    fn drop_stored(&self, ids: impl IntoIterator<Item = String>) {
        if !(self.leading.get() && self.loaded.get()) {
            self.unwritten.borrow_mut().extend(ids);
            return;
        }
        let ops: Vec<WriteOp> = ids
            .into_iter()
            .flat_map(|id| self.shared.store.borrow_mut().remove(&id))
            .collect();
        if ops.is_empty() {
            return;
        }
        let shared = Rc::clone(&self.shared);
        wasm_bindgen_futures::spawn_local(async move {
            shared.write(Ok(ops)).await;
        });
    }

    /// Drops the stored logs of targets no longer configured, and those decided before this
    /// worker led.
    fn drop_unconfigured(&self) {
        let mut ids = std::mem::take(&mut *self.unwritten.borrow_mut());
        {
            let targets = self.targets.borrow();
            let store = self.shared.store.borrow();
            ids.extend(
                store
                    .targets()
                    .filter(|id| !targets.contains_key(*id))
                    .map(str::to_owned),
            );
        }
        self.drop_stored(ids);
    }

    /// Starts following every restored target (the others follow once restored). A worker
    /// that read the store as a follower waits for its restore to end and reads the store
    /// again first (see [`EventLogs::reread`]); then the stored logs of targets no longer
    /// configured, or to be dropped, are deleted (only the leader writes).
    pub(crate) async fn lead(&self) {
        if self.loaded.get() {
            while self.restoring.get() {
                yield_task().await;
                if self.closed.get() {
                    return;
                }
            }
            self.reread().await;
            if self.closed.get() {
                return;
            }
        }
        self.leading.set(true);
        if self.loaded.get() {
            self.drop_unconfigured();
        }
        let ids: Vec<String> = self.targets.borrow().keys().cloned().collect();
        for id in ids {
            self.start(&id);
        }
    }

    /// Reads the store again before this worker leads: the store's writer becomes the fresh
    /// read's, and each restored log to keep is rebuilt from it (with its walked mark, against
    /// its definition); one found changed replaces the held one and is sent again, as one
    /// snapshot. Targets whose stored log is to be dropped (added or changed meanwhile) start
    /// empty. A store that cannot be read is reported; the logs go on from the first read.
    async fn reread(&self) {
        let (store, mut stored) = match EventStore::load(&self.shared.backend).await {
            Ok(read) => read,
            Err(error) => {
                self.shared.emit.report(store_error(&error));
                return;
            }
        };
        if self.closed.get() {
            return;
        }
        let (mut resent, mut dropped) = (Vec::new(), Vec::new());
        {
            let unwritten = self.unwritten.borrow();
            let mut targets = self.targets.borrow_mut();
            for (id, target) in targets.iter_mut() {
                if target.phase != Phase::Restored || unwritten.contains(id) {
                    continue;
                }
                let Some(held) = target.log.as_mut() else {
                    continue;
                };
                // Walked under another definition: another tab's, not this target's.
                let (kept, walked) = standing(&store, id, &target.target.digest_hex());
                if !kept {
                    dropped.push(id.clone());
                }
                let mut log = EventLog::new(target.target.retention);
                log.restore(
                    stored.logs.remove(id).filter(|_| kept).unwrap_or_default(),
                    now_s(),
                );
                let same = walked == target.walked
                    && log.len() == held.len()
                    && log
                        .iter()
                        .zip(held.iter())
                        .all(|(a, b)| a.identity == b.identity && a.position == b.position);
                if !same {
                    resent.extend(newest_first_chunks(id, &log, usize::MAX).map(|b| (b, walked)));
                    *held = log;
                    target.walked = walked;
                }
            }
        }
        *self.shared.store.borrow_mut() = store;
        self.unwritten.borrow_mut().extend(dropped);
        for (batch, walked) in &resent {
            let flags = Flags {
                persisted: true,
                stored: true,
                restored: true,
                complete: *walked,
            };
            self.shared.send(batch, flags);
        }
    }

    /// Spawns the follower of target `id` once it is restored (once: it takes the log).
    fn start(&self, id: &str) {
        let mut targets = self.targets.borrow_mut();
        let Some(target) = targets.get_mut(id) else {
            return;
        };
        if target.phase != Phase::Restored {
            return;
        }
        let Some(mut log) = target.log.take() else {
            return;
        };
        let mut sink = Sink {
            id: id.to_owned(),
            digest: target.target.digest_hex(),
            shared: Rc::clone(&self.shared),
            stop: Rc::clone(&target.stop),
            rewrite: false,
            complete: target.walked,
        };
        let walked = target.walked;
        let query = target.target.query.clone();
        let (client, options) = (self.client.clone(), self.options);
        wasm_bindgen_futures::spawn_local(async move {
            follow(
                &client,
                &query,
                &mut log,
                walked,
                &BrowserClock,
                options,
                &mut sink,
            )
            .await;
        });
    }

    /// Replaces the targets: removed ones stop and lose their stored log (the view gets an
    /// empty snapshot), changed ones start over, new ones start empty.
    pub(crate) fn retarget(&self, next: Vec<EventLogTarget>) {
        let mut dropped = Vec::new();
        {
            let mut targets = self.targets.borrow_mut();
            targets.retain(|id, running| {
                let kept = next.iter().any(|t| t.id == *id && *t == running.target);
                if !kept {
                    running.stop.set(true);
                    dropped.push(id.clone());
                }
                kept
            });
        }
        for id in &dropped {
            if !next.iter().any(|t| t.id == *id) {
                self.send_empty(id, false);
            }
        }
        self.drop_stored(dropped);
        for target in next {
            if self.targets.borrow().contains_key(&target.id) {
                continue;
            }
            if self.loaded.get() {
                // Nothing of its id is kept: a log stored for it is another definition's.
                self.drop_stored([target.id.clone()]);
                let (id, log) = (target.id.clone(), EventLog::new(target.retention));
                self.insert(target, Phase::Restoring);
                self.send_empty(&id, true);
                self.keep(&id, log, false);
            } else {
                self.insert(target, Phase::Waiting { from_store: false });
            }
        }
    }

    /// Stops every follower and the restore.
    pub(crate) fn shutdown(&self) {
        self.closed.set(true);
        for target in self.targets.borrow().values() {
            target.stop.set(true);
        }
    }
}

/// A follower's sink: stores each change, then sends it.
struct Sink {
    id: String,
    /// Its target's definition digest (what the walked mark names).
    digest: String,
    shared: Rc<Shared>,
    stop: Rc<Cell<bool>>,
    /// A write failed: the next change stores the whole log instead of its batch.
    rewrite: bool,
    /// Whether a walk read its whole history within the retention.
    complete: bool,
}

impl Sink {
    fn flags(&self, persisted: bool) -> Flags {
        Flags {
            persisted,
            stored: false,
            restored: true,
            complete: self.complete,
        }
    }
}

impl FollowSink for Sink {
    async fn change(&mut self, log: &EventLog, change: LogChange) {
        if self.stop.get() {
            return;
        }
        let ops = {
            let mut store = self.shared.store.borrow_mut();
            if self.rewrite {
                store.snapshot(&self.id, log)
            } else {
                store.append(&self.id, &change, log)
            }
        };
        let persisted = self.shared.write(ops).await;
        self.rewrite = !persisted;
        // Stopped during the write (the target changed or was removed): its view is replaced.
        if self.stop.get() {
            return;
        }
        let batch = EventBatch {
            target: self.id.clone(),
            snapshot: false,
            added: change.added,
            evicted: change.evicted,
        };
        self.shared.send(&batch, self.flags(persisted));
    }

    async fn walked(&mut self) {
        if self.stop.get() {
            return;
        }
        let mark = self
            .shared
            .store
            .borrow_mut()
            .mark_walked(&self.id, &self.digest);
        // Unwritten, the next start walks the history whole again: nothing is lost.
        let persisted = self.shared.write(Ok(vec![mark])).await;
        if self.stop.get() {
            return;
        }
        self.complete = true;
        let batch = EventBatch {
            target: self.id.clone(),
            ..EventBatch::default()
        };
        self.shared.send(&batch, self.flags(persisted));
    }

    fn error(&mut self, error: &ToriiError) {
        if self.stop.get() {
            return;
        }
        self.shared.emit.report(
            ErrorInfo::new(
                "TransportError",
                format!("event log {}: {error} (retrying)", self.id),
            )
            .with("target", &self.id),
        );
    }

    fn stopped(&self) -> bool {
        self.stop.get()
    }
}
