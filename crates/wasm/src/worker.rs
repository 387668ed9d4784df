//! `SyncWorker`: opens the database, sends the persisted state as DELTAs, then runs one
//! synchronizer per target (entities, and event messages when configured) over gRPC-web, sending
//! every committed batch as DELTAs and the synchronizers' ticks, transitions and errors as
//! events (see `API.md`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use dojo_reactive_core::sync::{
    StoredTarget, SyncErrorEvent, SyncHandle, SyncObserver, SyncTick, Synchronizer, TargetKind,
    Transition,
};
use dojo_reactive_core::StateKind;
use dojo_reactive_storage::{IndexedDbBackend, IndexedDbStorage, StoreError};
use dojo_reactive_torii::ToriiClient;
use futures_channel::oneshot;
use js_sys::{Function, Promise, Uint8Array};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::adapter::{DeltaSink, DeltaStorage};
use crate::clock::BrowserClock;
use crate::config::{plan, WorkerConfig};
use crate::errors::{fatal_error, store_error, sync_error, ErrorInfo};
use crate::json::{js_to_json, json_to_js};
use crate::messages::{StartTimings, WorkerEvent};
use crate::types::{StoreReportPromise, WorkerConfigJs, WorkerEmitJs};

/// The host's `emit(event, delta?)`.
#[derive(Clone)]
struct Emit(Function);

impl Emit {
    fn event(&self, event: &WorkerEvent) {
        // The host's callback failing must not stop syncing.
        let _ = self.0.call1(&JsValue::UNDEFINED, &event_js(event));
    }
}

/// The event as a plain JS object.
fn event_js(event: &WorkerEvent) -> JsValue {
    serde_json::to_value(event).map_or(JsValue::UNDEFINED, |json| json_to_js(&json))
}

impl DeltaSink for Emit {
    fn delta(&self, bytes: &[u8]) {
        let buffer = Uint8Array::from(bytes);
        let _ = self
            .0
            .call2(&JsValue::UNDEFINED, &event_js(&WorkerEvent::Delta), &buffer);
    }

    fn error(&self, info: ErrorInfo) {
        self.event(&WorkerEvent::SyncError { error: &info });
    }
}

impl SyncObserver for Emit {
    fn transition(&mut self, transition: &Transition) {
        self.event(&WorkerEvent::Transition { transition });
    }

    fn tick(&mut self, tick: &SyncTick) {
        self.event(&WorkerEvent::SyncTick { tick });
    }

    fn error(&mut self, error: &SyncErrorEvent) {
        self.event(&WorkerEvent::SyncError {
            error: &sync_error(error),
        });
    }
}

type WorkerStorage = DeltaStorage<IndexedDbBackend, Emit>;

/// What `shutdown` needs of the running worker.
struct Running {
    handles: Vec<SyncHandle>,
    /// Set when a synchronizer's run began (it drops commands sent before that).
    started: Vec<Rc<Cell<bool>>>,
    done: RefCell<Vec<oneshot::Receiver<()>>>,
    storage: Rc<WorkerStorage>,
    /// The synced targets, in start order.
    targets: Vec<TargetKind>,
}

impl Running {
    /// Waits until every synchronizer's run began: a run drops the commands sent before it.
    async fn until_started(&self) {
        while !self.started.iter().all(|s| s.get()) {
            let _ = JsFuture::from(Promise::resolve(&JsValue::UNDEFINED)).await;
        }
    }
}

/// The sync loop of the worker (see `API.md`).
#[wasm_bindgen]
pub struct SyncWorker {
    running: Rc<Running>,
}

/// Opens and checks the database, keeping it on a Torii version change when accepted.
async fn open_storage(
    db_name: &str,
    fingerprint: &dojo_reactive_core::ManifestFingerprint,
    torii_version: &str,
    accept_version_change: bool,
) -> Result<IndexedDbStorage, ErrorInfo> {
    let storage = IndexedDbStorage::new(IndexedDbBackend::new(db_name));
    match storage.init(fingerprint, torii_version).await {
        Ok(_) => Ok(storage),
        Err(StoreError::ToriiVersionChanged(_)) if accept_version_change => {
            storage
                .accept_torii_version(torii_version)
                .await
                .map_err(|e| store_error(&e))?;
            Ok(storage)
        }
        Err(error) => {
            storage.close();
            Err(store_error(&error))
        }
    }
}

#[wasm_bindgen]
impl SyncWorker {
    /// Opens the database, sends the persisted state as DELTA batches, then INIT_ACK, then
    /// resumes from the persisted cursors and streams. Rejects with a ReactiveErrorInfo-shaped
    /// error for configuration errors, SchemaMismatchError and (unless accepted)
    /// ToriiVersionChangedError.
    pub async fn start(config: WorkerConfigJs, emit: WorkerEmitJs) -> Result<SyncWorker, JsValue> {
        crate::panic::install();
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
        let torii_version = client.version().await.map_err(|e| {
            ErrorInfo::new(
                "TransportError",
                format!(
                    "Torii at {} did not answer its version probe: {e}",
                    plan.torii_url
                ),
            )
            .with("toriiUrl", &plan.torii_url)
            .with("retryable", e.is_retryable())
        })?;
        let probed_at = js_sys::Date::now();
        let storage = open_storage(
            &plan.db_name,
            &plan.fingerprint,
            &torii_version,
            plan.accept_torii_version_change,
        )
        .await?;
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
        emit.event(&WorkerEvent::InitAck {
            manifest_hash: &plan.fingerprint.hash,
            torii_version: &torii_version,
            db_name: &plan.db_name,
            restored,
            timings: StartTimings {
                started_at,
                probe_ms: probed_at - started_at,
                open_ms: opened_at - probed_at,
                restore_ms: js_sys::Date::now() - opened_at,
            },
        });
        let targets = plan.setups.iter().map(|s| s.target.kind).collect();
        let mut handles = Vec::new();
        let mut done = Vec::new();
        let mut started = Vec::new();
        for setup in plan.setups {
            let mut synchronizer =
                Synchronizer::new(client.clone(), Rc::clone(&storage), BrowserClock, setup);
            synchronizer.set_observer(Box::new(emit.clone()));
            handles.push(synchronizer.handle());
            let (finished, receiver) = oneshot::channel();
            done.push(receiver);
            let running = Rc::new(Cell::new(false));
            started.push(Rc::clone(&running));
            let emit = emit.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // `run` drains old commands on its first poll, in this same turn.
                running.set(true);
                if let Err(fatal) = synchronizer.run().await {
                    emit.event(&WorkerEvent::SyncFatal {
                        error: &fatal_error(&fatal),
                    });
                }
                let _ = finished.send(());
            });
        }
        Ok(SyncWorker {
            running: Rc::new(Running {
                handles,
                started,
                done: RefCell::new(done),
                storage,
                targets,
            }),
        })
    }

    /// Resubscribes and re-pages the snapshot now (also ends a backoff).
    #[wasm_bindgen(js_name = forceReplay)]
    pub fn force_replay(&self) {
        let running = Rc::clone(&self.running);
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
        let running = Rc::clone(&self.running);
        wasm_bindgen_futures::future_to_promise(async move {
            let mut targets = Vec::new();
            for &kind in &running.targets {
                let loaded = running
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

    /// Stops the synchronizers, ends their streams, closes the database; resolves when done.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn shutdown(&self) -> Promise {
        let running = Rc::clone(&self.running);
        let done = std::mem::take(&mut *running.done.borrow_mut());
        wasm_bindgen_futures::future_to_promise(async move {
            running.until_started().await;
            for handle in &running.handles {
                handle.shutdown();
            }
            for receiver in done {
                // A dropped sender means the loop is gone already.
                let _ = receiver.await;
            }
            running.storage.inner().close();
            Ok(JsValue::UNDEFINED)
        })
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
