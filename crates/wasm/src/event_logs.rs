//! The worker's event-log targets: each one's [`EventLog`] restored from the `event_log` store
//! at `open` (and sent to the view as a snapshot, before any network), then, once leading,
//! read again (another tab's worker may have written since) and kept current by a follower
//! ([`follow`]) whose every change is stored (one batch, in one transaction) and sent to the
//! view as an `EVENTS` batch (the JS worker relays it to the other tabs). A target changed at run time starts
//! over (its stored log dropped, a cold walk); a target removed loses its stored log.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use dojo_reactive_core::sync::Clock;
use dojo_reactive_core::{EventLog, LogChange, LoggedEvent};
use dojo_reactive_storage::{
    encode_event_batch, Backend, BrowserBackend, EventBatch, EventStore, StoreError, WriteOp,
};
use dojo_reactive_torii::event_follow::{follow, FollowOptions, FollowSink};
use dojo_reactive_torii::{ToriiClient, ToriiError};
use js_sys::Uint8Array;

use crate::clock::BrowserClock;
use crate::errors::{store_error, ErrorInfo};
use crate::event_targets::EventLogTarget;
use crate::messages::WorkerEvent;
use crate::worker::Emit;

/// One event-log target: its definition, its log until a follower takes it, and the flag that
/// stops its follower.
struct Target {
    target: EventLogTarget,
    log: Option<EventLog>,
    stop: Rc<Cell<bool>>,
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
    /// Set by `lead`: targets added later start following at once.
    leading: Cell<bool>,
}

fn now_s() -> u64 {
    BrowserClock.now_ms() / 1000
}

impl Shared {
    /// Sends one batch to the view.
    fn send(&self, batch: &EventBatch, persisted: bool) {
        if !batch.added.is_empty() {
            self.emit.shown.set(true);
        }
        match encode_event_batch(batch) {
            Ok(bytes) => self.emit.bytes(
                &WorkerEvent::Events {
                    target: &batch.target,
                    persisted,
                },
                &Uint8Array::from(&bytes[..]),
            ),
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
    /// Reads the stored logs and sends each target's to the view (a snapshot, also for a target
    /// with nothing stored, so a reopened view starts from what the store holds).
    pub(crate) async fn open(
        backend: BrowserBackend,
        emit: Emit,
        client: ToriiClient,
        targets: &[EventLogTarget],
        options: FollowOptions,
    ) -> Result<EventLogs, StoreError> {
        let (store, mut stored) = EventStore::load(&backend).await?;
        for skipped in &stored.skipped {
            emit.report(store_error(&skipped.error).with("key", &skipped.key));
        }
        let logs = EventLogs {
            shared: Rc::new(Shared {
                store: RefCell::new(store),
                backend,
                emit,
            }),
            targets: RefCell::new(BTreeMap::new()),
            client,
            options,
            leading: Cell::new(false),
        };
        for target in targets {
            let events = stored.logs.remove(&target.id).unwrap_or_default();
            logs.add(target.clone(), events);
        }
        Ok(logs)
    }

    /// Adds a target whose log starts from `events`, sends it, and follows it when leading.
    fn add(&self, target: EventLogTarget, events: Vec<LoggedEvent>) {
        let mut log = EventLog::new(target.retention);
        log.restore(events, now_s());
        self.shared.send(&snapshot(&target.id, &log), true);
        let id = target.id.clone();
        self.targets.borrow_mut().insert(
            id.clone(),
            Target {
                target,
                log: Some(log),
                stop: Rc::new(Cell::new(false)),
            },
        );
        if self.leading.get() {
            self.start(&id);
        }
    }

    /// Starts following every target from what the store holds now: another tab's worker may
    /// have written since `open` read it (this tab followed meanwhile), and writing on from that
    /// read would reuse its record numbers. A log found changed is sent again (a snapshot). The
    /// stored logs of targets no longer configured, or changed during the read, are deleted
    /// first (only the leader writes).
    pub(crate) async fn lead(&self) {
        let read: Vec<Rc<Cell<bool>>> = self
            .targets
            .borrow()
            .values()
            .map(|t| Rc::clone(&t.stop))
            .collect();
        let (mut changed, mut resent) = (Vec::new(), Vec::new());
        match EventStore::load(&self.shared.backend).await {
            Ok((store, mut stored)) => {
                *self.shared.store.borrow_mut() = store;
                for (id, target) in self.targets.borrow_mut().iter_mut() {
                    let Some(log) = target.log.as_mut() else {
                        continue;
                    };
                    // Added by `retarget` during the read: it starts empty.
                    if !read.iter().any(|stop| Rc::ptr_eq(stop, &target.stop)) {
                        changed.push(id.clone());
                        continue;
                    }
                    let mut now = EventLog::new(target.target.retention);
                    now.restore(stored.logs.remove(id).unwrap_or_default(), now_s());
                    let same = now.len() == log.len()
                        && now
                            .iter()
                            .zip(log.iter())
                            .all(|(a, b)| a.identity == b.identity && a.position == b.position);
                    if !same {
                        resent.push(snapshot(id, &now));
                        *log = now;
                    }
                }
            }
            // Followed from what `open` read, as it stands.
            Err(error) => self.shared.emit.report(store_error(&error)),
        }
        for batch in &resent {
            self.shared.send(batch, true);
        }
        self.leading.set(true);
        let gone: Vec<String> = {
            let targets = self.targets.borrow();
            let store = self.shared.store.borrow();
            store
                .targets()
                .filter(|id| !targets.contains_key(*id))
                .map(str::to_owned)
                .chain(changed)
                .collect()
        };
        let ops: Vec<WriteOp> = gone
            .iter()
            .flat_map(|id| self.shared.store.borrow_mut().remove(id))
            .collect();
        let shared = Rc::clone(&self.shared);
        wasm_bindgen_futures::spawn_local(async move {
            shared.write(Ok(ops)).await;
        });
        let ids: Vec<String> = self.targets.borrow().keys().cloned().collect();
        for id in ids {
            self.start(&id);
        }
    }

    /// Spawns the follower of target `id` (once: it takes the log).
    fn start(&self, id: &str) {
        let mut targets = self.targets.borrow_mut();
        let Some(target) = targets.get_mut(id) else {
            return;
        };
        let Some(mut log) = target.log.take() else {
            return;
        };
        let mut sink = Sink {
            id: id.to_owned(),
            shared: Rc::clone(&self.shared),
            stop: Rc::clone(&target.stop),
            rewrite: false,
        };
        let query = target.target.query.clone();
        let (client, options) = (self.client.clone(), self.options);
        wasm_bindgen_futures::spawn_local(async move {
            follow(&client, &query, &mut log, &BrowserClock, options, &mut sink).await;
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
        let mut ops = Vec::new();
        for id in &dropped {
            ops.extend(self.shared.store.borrow_mut().remove(id));
            if !next.iter().any(|t| t.id == *id) {
                self.shared.send(
                    &EventBatch {
                        target: id.clone(),
                        snapshot: true,
                        ..EventBatch::default()
                    },
                    true,
                );
            }
        }
        if self.leading.get() {
            let shared = Rc::clone(&self.shared);
            wasm_bindgen_futures::spawn_local(async move {
                shared.write(Ok(ops)).await;
            });
        }
        for target in next {
            if !self.targets.borrow().contains_key(&target.id) {
                self.add(target, Vec::new());
            }
        }
    }

    /// Stops every follower.
    pub(crate) fn shutdown(&self) {
        for target in self.targets.borrow().values() {
            target.stop.set(true);
        }
    }
}

/// The whole of `log` as one snapshot batch of `target`.
fn snapshot(target: &str, log: &EventLog) -> EventBatch {
    EventBatch {
        target: target.to_owned(),
        snapshot: true,
        added: log.iter().cloned().collect(),
        evicted: Vec::new(),
    }
}

/// A follower's sink: stores each change, then sends it.
struct Sink {
    id: String,
    shared: Rc<Shared>,
    stop: Rc<Cell<bool>>,
    /// A write failed: the next change stores the whole log instead of its batch.
    rewrite: bool,
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
        self.shared.send(
            &EventBatch {
                target: self.id.clone(),
                snapshot: false,
                added: change.added,
                evicted: change.evicted,
            },
            persisted,
        );
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
