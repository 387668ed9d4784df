//! `SyncWorker`: `open` opens the database and sends the persisted state as DELTAs (no
//! network); `lead` then runs one synchronizer per target (entities, and event messages when
//! configured) over gRPC-web, sending every committed batch as DELTAs and the synchronizers'
//! ticks, transitions and errors as events (see `API.md`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use dojo_reactive_core::sync::{
    StoredTarget, SyncErrorEvent, SyncHandle, SyncObserver, SyncTick, Synchronizer, TargetKind,
    Transition,
};
use dojo_reactive_core::StateKind;
use dojo_reactive_storage::{IndexedDbBackend, IndexedDbStorage};
use dojo_reactive_torii::ToriiClient;
use futures_channel::oneshot;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::adapter::{DeltaSink, DeltaStorage};
use crate::clock::BrowserClock;
use crate::config::{plan, Plan, WorkerConfig};
use crate::errors::{fatal_error, store_error, sync_error, ErrorInfo};
use crate::json::{js_to_json, json_to_js};
use crate::types::{StoreReportPromise, WorkerConfigJs, WorkerEmitJs};
use crate::version_gate::ToriiVersionGate;

/// The host's `emit(event, delta?)`.
#[derive(Clone)]
struct Emit(Function);

impl Emit {
    fn event(&self, event: &serde_json::Value) {
        // The host's callback failing must not stop syncing.
        let _ = self.0.call1(&JsValue::UNDEFINED, &json_to_js(event));
    }
}

impl DeltaSink for Emit {
    fn delta(&self, bytes: &[u8]) {
        let event: JsValue = Object::new().into();
        let _ = Reflect::set(&event, &"type".into(), &"DELTA".into());
        let buffer = Uint8Array::from(bytes);
        let _ = self.0.call2(&JsValue::UNDEFINED, &event, &buffer);
    }

    fn error(&self, info: ErrorInfo) {
        self.event(&json!({ "type": "SYNC_ERROR", "error": info.to_json() }));
    }
}

impl SyncObserver for Emit {
    fn transition(&mut self, transition: &Transition) {
        self.event(&json!({ "type": "TRANSITION", "transition": transition }));
    }

    fn tick(&mut self, tick: &SyncTick) {
        self.event(&json!({ "type": "SYNC_TICK", "tick": tick }));
    }

    fn error(&mut self, error: &SyncErrorEvent) {
        self.event(&json!({ "type": "SYNC_ERROR", "error": sync_error(error).to_json() }));
    }
}

type WorkerStorage = DeltaStorage<IndexedDbBackend, Emit>;

/// What `open` set up: everything `lead` needs to start syncing.
struct Opened {
    plan: Plan,
    client: ToriiClient,
    storage: Rc<WorkerStorage>,
    emit: Emit,
    /// The synced targets, in start order.
    targets: Vec<TargetKind>,
}

/// What `shutdown` needs of the running synchronizers.
struct Running {
    handles: Vec<SyncHandle>,
    /// Set when a synchronizer's run began (it drops commands sent before that).
    started: Vec<Rc<Cell<bool>>>,
    done: RefCell<Vec<oneshot::Receiver<()>>>,
}

impl Running {
    /// Waits until every synchronizer's run began: a run drops the commands sent before it.
    async fn until_started(&self) {
        while !self.started.iter().all(|s| s.get()) {
            let _ = JsFuture::from(Promise::resolve(&JsValue::UNDEFINED)).await;
        }
    }
}

/// The sync loop of the worker (see `API.md`): `open` shows the stored state without Torii,
/// `lead` syncs it with Torii.
#[wasm_bindgen]
pub struct SyncWorker {
    opened: Rc<Opened>,
    /// The synchronizers, once `lead` started them.
    running: RefCell<Option<Rc<Running>>>,
    /// Set by `shutdown`: `lead` then starts nothing.
    stopped: Cell<bool>,
}

#[wasm_bindgen]
impl SyncWorker {
    /// Parses the configuration, opens and checks the database (its manifest fingerprint; no
    /// network), sends the persisted state as DELTA batches, then INIT_ACK (its `toriiVersion`
    /// is the version the data was synced from, null when none is recorded). Rejects with a
    /// ReactiveErrorInfo-shaped error for configuration errors, SchemaMismatchError and
    /// storage errors. Nothing syncs until [`SyncWorker::lead`].
    pub async fn open(config: WorkerConfigJs, emit: WorkerEmitJs) -> Result<SyncWorker, JsValue> {
        let started_at = js_sys::Date::now();
        let emit = Emit(
            emit.dyn_into::<Function>()
                .map_err(|_| ErrorInfo::validation("emit must be a function"))?,
        );
        let json = js_to_json(config.as_ref(), "the worker config")?;
        let config: WorkerConfig = serde_json::from_value(json)
            .map_err(|e| ErrorInfo::validation(format!("worker config: {e}")))?;
        let plan = plan(config, js_sys::Date::now() as u64)?;
        let client = ToriiClient::new(&plan.torii_url).map_err(|e| {
            ErrorInfo::validation(format!("toriiUrl: {e}")).with("toriiUrl", &plan.torii_url)
        })?;
        let storage = IndexedDbStorage::new(IndexedDbBackend::new(&plan.db_name));
        let stored_version = match storage.open(&plan.fingerprint).await {
            Ok(version) => version,
            Err(error) => {
                storage.close();
                return Err(store_error(&error).into());
            }
        };
        let opened_at = js_sys::Date::now();
        let storage = Rc::new(DeltaStorage::new(storage, emit.clone(), plan.delta_chunk));
        let mut restored = 0;
        for setup in &plan.setups {
            match storage.preload(setup.target.kind).await {
                Ok(count) => restored += count,
                Err(error) => {
                    storage.inner().close();
                    return Err(crate::errors::storage_error(&error).into());
                }
            }
        }
        emit.event(&json!({
            "type": "INIT_ACK",
            "manifestHash": plan.fingerprint.hash,
            "toriiVersion": stored_version,
            "dbName": plan.db_name,
            "restored": restored,
            "timings": {
                "startedAt": started_at,
                "openMs": opened_at - started_at,
                "restoreMs": js_sys::Date::now() - opened_at,
            },
        }));
        let targets = plan.setups.iter().map(|s| s.target.kind).collect();
        Ok(SyncWorker {
            opened: Rc::new(Opened {
                plan,
                client,
                storage,
                emit,
                targets,
            }),
            running: RefCell::new(None),
            stopped: Cell::new(false),
        })
    }

    /// Starts syncing with Torii: each synchronizer probes Torii's version (within
    /// `requestTimeoutMs`, retried with backoff while Torii cannot be reached), checks it
    /// against the database, resumes from the persisted cursors and streams. Resolves once
    /// syncing started (failures come as events); rejects with a `ValidationError` when called
    /// twice or after `shutdown`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn lead(&self) -> Promise {
        let refused = if self.stopped.get() {
            Some("lead was called after shutdown")
        } else if self.running.borrow().is_some() {
            Some("lead was called twice")
        } else {
            None
        };
        if let Some(message) = refused {
            return Promise::reject(&ErrorInfo::validation(message).into());
        }
        *self.running.borrow_mut() = Some(Rc::new(start_synchronizers(&self.opened)));
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// The worker's database connection (the writer election claims and fences it).
    pub(crate) fn backend(&self) -> IndexedDbBackend {
        self.opened.storage.inner().backend().clone()
    }

    /// Resubscribes and re-pages the snapshot now (also ends a backoff); nothing before `lead`.
    #[wasm_bindgen(js_name = forceReplay)]
    pub fn force_replay(&self) {
        let Some(running) = self.running.borrow().clone() else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            running.until_started().await;
            for handle in &running.handles {
                handle.force_replay();
            }
        });
    }

    /// Reads back what the database holds for every target (states, the version ledger, the
    /// sync state) and checks that they agree: the development inspector's view of the store.
    #[wasm_bindgen(js_name = inspectStore)]
    pub fn inspect_store(&self) -> StoreReportPromise {
        let opened = Rc::clone(&self.opened);
        wasm_bindgen_futures::future_to_promise(async move {
            let mut targets = Vec::new();
            for &kind in &opened.targets {
                let loaded = opened
                    .storage
                    .inner()
                    .load(kind)
                    .await
                    .map_err(|e| JsValue::from(store_error(&e)))?;
                targets.push(store_report(kind, &loaded.data));
            }
            Ok(json_to_js(&json!({ "targets": targets })))
        })
        .unchecked_into()
    }

    /// Stops the synchronizers (when `lead` started them), ends their streams, closes the
    /// database; resolves when done.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn shutdown(&self) -> Promise {
        self.stopped.set(true);
        let opened = Rc::clone(&self.opened);
        let running = self.running.borrow().clone();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(running) = running {
                let done = std::mem::take(&mut *running.done.borrow_mut());
                running.until_started().await;
                for handle in &running.handles {
                    handle.shutdown();
                }
                for receiver in done {
                    // A dropped sender means the loop is gone already.
                    let _ = receiver.await;
                }
            }
            opened.storage.inner().close();
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// Starts one synchronizer per target over the opened storage, behind the Torii version gate.
fn start_synchronizers(opened: &Opened) -> Running {
    let gate = Rc::new(ToriiVersionGate::new(
        Rc::clone(&opened.storage),
        opened.plan.accept_torii_version_change,
    ));
    let mut handles = Vec::new();
    let mut done = Vec::new();
    let mut started = Vec::new();
    for setup in opened.plan.setups.iter().cloned() {
        let mut synchronizer =
            Synchronizer::new(opened.client.clone(), Rc::clone(&gate), BrowserClock, setup);
        synchronizer.set_observer(Box::new(opened.emit.clone()));
        handles.push(synchronizer.handle());
        let (finished, receiver) = oneshot::channel();
        done.push(receiver);
        let running = Rc::new(Cell::new(false));
        started.push(Rc::clone(&running));
        let emit = opened.emit.clone();
        wasm_bindgen_futures::spawn_local(async move {
            // `run` drains old commands on its first poll, in this same turn.
            running.set(true);
            if let Err(fatal) = synchronizer.run().await {
                emit.event(
                    &json!({ "type": "SYNC_FATAL", "error": fatal_error(&fatal).to_json() }),
                );
            }
            let _ = finished.send(());
        });
    }
    Running {
        handles,
        started,
        done: RefCell::new(done),
    }
}

/// One target's `StoredTargetReport` (see `types.rs`).
fn store_report(kind: TargetKind, stored: &StoredTarget) -> serde_json::Value {
    let ledger: Vec<_> = stored
        .ledger
        .iter()
        .map(|entry| {
            let state = match entry.version.state {
                StateKind::Write => "write",
                StateKind::Deleted => "deleted",
                StateKind::Absent => "absent",
            };
            json!({
                "entityId": entry.entity.to_hex(),
                "model": &*entry.model,
                "state": state,
                "executedAt": entry.version.executed_at,
                "updatedAt": entry.version.updated_at,
            })
        })
        .collect();
    json!({
        "target": kind.name(),
        "states": stored.models.len(),
        "ledger": ledger,
        "syncState": stored.sync_state,
        "skipped": stored.skipped,
        "disagreements": stored.disagreements(),
    })
}

/// Deletes a database (the host's recovery after SchemaMismatchError).
#[wasm_bindgen(js_name = deleteDatabase, unchecked_return_type = "Promise<void>")]
pub fn delete_database(#[wasm_bindgen(js_name = dbName)] db_name: String) -> Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        dojo_reactive_storage::delete_db(&db_name)
            .await
            .map_err(|e| JsValue::from(store_error(&e)))?;
        Ok(JsValue::UNDEFINED)
    })
}
