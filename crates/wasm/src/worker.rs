//! `SyncWorker`: `open` opens the database and sends the persisted state as DELTAs (no
//! network); `lead` then runs one synchronizer per target (entities, and event messages when
//! configured) over gRPC-web, sending every committed batch as DELTAs and the synchronizers'
//! ticks, transitions and errors as events (see `API.md`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use dojo_reactive_core::sync::{
    restored_targets, Clock, StoredTarget, SyncErrorEvent, SyncErrorKind, SyncHandle, SyncObserver,
    SyncState, SyncTick, Synchronizer, TargetKind, TargetScope, Transition,
};
use dojo_reactive_core::ManifestFingerprint;
use dojo_reactive_core::StateKind;
use dojo_reactive_storage::schema_switch::{ToriiModels, Verdict};
use dojo_reactive_storage::{BrowserBackend, IndexedDbBackend, MemoryBackend, Storage, StoreError};
use dojo_reactive_torii::{ToriiClient, ToriiError};
use futures_channel::oneshot;
use futures_util::future::LocalBoxFuture;
use js_sys::{Function, Promise, Uint8Array};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::adapter::{DeltaRelay, DeltaSink, DeltaStorage};
use crate::clock::BrowserClock;
use crate::config::{plan, Plan, TargetConfig, WorkerConfig};
use crate::deploy::{hidden, preload_matching, ManifestJudge};
use crate::errors::{fatal_error, store_error, sync_error, ErrorInfo};
use crate::event_logs::EventLogs;
use crate::event_targets;
use crate::json::{js_to_json, json_to_js};
use crate::messages::{Persistence, StartTimings, TickWithUnpersisted, WorkerEvent};
use crate::types::{StoreReportPromise, WorkerConfigJs, WorkerEmitJs};
use crate::version_gate::ToriiVersionGate;
use crate::world_check::{check_world, WorldCheck};

/// The host's `emit(event, delta?)`.
#[derive(Clone)]
pub(crate) struct Emit {
    emit: Function,
    /// Whether any data was sent to the view (stored or synced): until then, failing to reach
    /// Torii means the page has nothing to show, and the error says so.
    pub(crate) shown: Rc<Cell<bool>>,
    /// Whether a synchronizer got past Torii's version probe (Torii answered once).
    reached: Rc<Cell<bool>>,
}

impl Emit {
    fn event(&self, event: &WorkerEvent) {
        // The host's callback failing must not stop syncing.
        let _ = self.emit.call1(&JsValue::UNDEFINED, &event_js(event));
    }

    /// An event whose bytes are `emit`'s second argument (an `EVENTS` batch).
    pub(crate) fn bytes(&self, event: &WorkerEvent, bytes: &Uint8Array) {
        let _ = self
            .emit
            .call2(&JsValue::UNDEFINED, &event_js(event), bytes);
    }

    /// A non-fatal error (SYNC_ERROR).
    pub(crate) fn report(&self, info: ErrorInfo) {
        self.event(&WorkerEvent::SyncError { error: &info });
    }
}

/// The event as a plain JS object.
fn event_js(event: &WorkerEvent) -> JsValue {
    serde_json::to_value(event).map_or(JsValue::UNDEFINED, |json| json_to_js(&json))
}

impl DeltaSink for Emit {
    fn delta(&self, bytes: &[u8], persisted: bool, relay: Option<DeltaRelay>) {
        self.shown.set(true);
        let buffer = Uint8Array::from(bytes);
        let event = event_js(&WorkerEvent::Delta { persisted, relay });
        let _ = self.emit.call2(&JsValue::UNDEFINED, &event, &buffer);
    }

    fn error(&self, info: ErrorInfo) {
        self.event(&WorkerEvent::SyncError { error: &info });
    }
}

/// A synchronizer's observer: its events, ticks with the model states not yet stored.
struct Observer {
    emit: Emit,
    storage: Rc<WorkerStorage>,
}

impl SyncObserver for Observer {
    fn transition(&mut self, transition: &Transition) {
        if matches!(
            transition.to,
            SyncState::Bootstrapping | SyncState::Replaying | SyncState::Streaming
        ) {
            self.emit.reached.set(true);
        }
        self.emit.event(&WorkerEvent::Transition { transition });
    }

    fn tick(&mut self, tick: &SyncTick) {
        self.emit.event(&WorkerEvent::SyncTick {
            tick: TickWithUnpersisted {
                tick,
                unpersisted: self.storage.unpersisted(tick.target),
            },
        });
    }

    fn error(&mut self, error: &SyncErrorEvent) {
        let mut info = sync_error(error);
        if error.kind == SyncErrorKind::Transient && !self.emit.shown.get() {
            info.message = format!(
                "nothing is stored on this device yet and Torii cannot be reached: the world \
                 appears once it answers ({})",
                info.message
            );
        }
        self.emit.event(&WorkerEvent::SyncError { error: &info });
    }
}

pub(crate) type WorkerStorage = DeltaStorage<BrowserBackend, Emit>;

/// Asks Torii for the models of the world.
type FetchModels = Box<dyn Fn() -> LocalBoxFuture<'static, Result<ToriiModels, ToriiError>>>;

/// The worker's judge of its manifest during a deploy (see `crate::deploy`).
pub(crate) type WorkerJudge = ManifestJudge<FetchModels>;

/// What `open` set up: everything `lead` needs to start syncing.
struct Opened {
    plan: Plan,
    client: ToriiClient,
    storage: Rc<WorkerStorage>,
    emit: Emit,
    /// The synced targets, in start order.
    targets: Vec<TargetKind>,
    /// Judges this manifest against the stored one by Torii's models.
    judge: Rc<WorkerJudge>,
    /// The event-log targets (`kind: 'eventLog'`).
    event_logs: EventLogs,
}

/// What `shutdown` needs of the running synchronizers.
struct Running {
    handles: Vec<SyncHandle>,
    /// The kind each handle syncs.
    kinds: Vec<TargetKind>,
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
    /// Set by `shutdown`: `lead` then starts nothing, and the world check ends.
    stopped: Rc<Cell<bool>>,
    /// The sync targets of each kind (the configured ones until `setTargets`).
    scopes: RefCell<BTreeMap<TargetKind, Vec<TargetScope>>>,
}

#[wasm_bindgen]
impl SyncWorker {
    /// Parses the configuration, opens and checks the database (its origin; no network, no
    /// write), sends the persisted state as DELTA batches (without the models whose stored data
    /// was written for another fingerprint than this manifest's: see `docs/tabs.md`, "During a
    /// deploy"), then INIT_ACK (its `toriiVersion` is the version
    /// the data was synced from, null when none is recorded). Rejects with a
    /// ReactiveErrorInfo-shaped error for configuration errors, a database of another origin
    /// (ValidationError) and storage errors. Nothing syncs until [`SyncWorker::lead`]. With
    /// `live` (a tab reading the database again into a view that shows data already), each
    /// (entity, model)'s last stored change is sent instead of the segments as they are, so
    /// the view never shows a state the store overwrote or deleted later.
    pub async fn open(
        config: WorkerConfigJs,
        emit: WorkerEmitJs,
        live: Option<bool>,
    ) -> Result<SyncWorker, JsValue> {
        crate::panic::install();
        let started_at = js_sys::Date::now();
        let emit = Emit {
            emit: emit
                .dyn_into::<Function>()
                .map_err(|_| ErrorInfo::validation("emit must be a function"))?,
            shown: Rc::new(Cell::new(false)),
            reached: Rc::new(Cell::new(false)),
        };
        let json = js_to_json(config.as_ref(), "the worker config")?;
        let config = WorkerConfig::from_json(json)?;
        let plan = plan(config, js_sys::Date::now() as u64)?;
        let client = ToriiClient::new(&plan.torii_url).map_err(|e| {
            ErrorInfo::validation(format!("toriiUrl: {e}")).with("toriiUrl", &plan.torii_url)
        })?;
        let (storage, stored_version, stored_manifest) = open_storage(&plan, &emit).await?;
        let hidden = hidden(&plan.fingerprint, stored_manifest.as_ref());
        let persistence = if storage.backend().is_persistent() {
            Persistence::IndexedDb
        } else {
            Persistence::Memory
        };
        let opened_at = js_sys::Date::now();
        let storage = Rc::new(DeltaStorage::new(storage, emit.clone(), plan.delta_chunk));
        let mut restored = 0;
        // Kind by kind, in the page's order: its stored data, then where its targets stand, so
        // the page's first target is complete before the next kind is read (none complete
        // while a deploy hides stored models: their data is not shown).
        let mut targets = BTreeMap::new();
        for setup in &plan.setups {
            let kind = setup.target.kind;
            let preloaded = if !hidden.is_empty() {
                preload_matching(storage.inner(), &emit, kind, &hidden, plan.delta_chunk)
                    .await
                    .map_err(Into::into)
            } else if live == Some(true) {
                storage.preload_coalesced(kind).await
            } else {
                storage.preload(kind).await
            };
            let stored = match preloaded {
                Ok(count) => {
                    restored += count;
                    if hidden.is_empty() {
                        storage
                            .inner()
                            .sync_state(kind)
                            .await
                            .map_err(|error| store_error(&error))
                    } else {
                        Ok(None)
                    }
                }
                Err(error) => Err(crate::errors::storage_error(&error)),
            };
            let stored = match stored {
                Ok(stored) => stored,
                Err(error) => {
                    storage.inner().close();
                    return Err(error.into());
                }
            };
            let kind_targets = restored_targets(&setup.target, stored.as_ref());
            emit.event(&WorkerEvent::Restored {
                target: kind.name(),
                targets: kind_targets.clone(),
            });
            targets.insert(kind.name(), kind_targets);
        }
        let event_logs = EventLogs::new(
            storage.inner().backend().clone(),
            emit.clone(),
            client.clone(),
            &plan.event_logs,
            plan.follow,
        );
        emit.event(&WorkerEvent::InitAck {
            manifest_hash: &plan.fingerprint.hash,
            torii_version: stored_version.as_deref(),
            db_name: &plan.db_name,
            restored,
            persistence,
            timings: StartTimings {
                started_at,
                open_ms: opened_at - started_at,
                restore_ms: js_sys::Date::now() - opened_at,
            },
            targets,
        });
        let targets = plan.setups.iter().map(|s| s.target.kind).collect();
        {
            let storage = Rc::clone(&storage);
            wasm_bindgen_futures::spawn_local(async move {
                storage.keep_writing(&BrowserClock).await;
            });
        }
        let judge = Rc::new(manifest_judge(&plan, &client));
        let scopes = plan
            .setups
            .iter()
            .map(|s| (s.target.kind, s.target.scopes.clone()))
            .collect();
        let opened = Rc::new(Opened {
            plan,
            client,
            storage,
            emit,
            targets,
            judge,
            event_logs,
        });
        {
            // After INIT_ACK: `ready` does not wait for the stored event logs.
            let opened = Rc::clone(&opened);
            wasm_bindgen_futures::spawn_local(async move {
                opened.event_logs.restore().await;
            });
        }
        Ok(SyncWorker {
            opened,
            running: RefCell::new(None),
            stopped: Rc::new(Cell::new(false)),
            scopes: RefCell::new(scopes),
        })
    }

    /// Replaces the sync targets (`WorkerConfig.targets`' shape; see `API.md`, "Sync targets"):
    /// each running synchronizer updates its live subscription's filter and pages what the
    /// changed targets add (before `lead`, `lead` starts with them). Returns each target's
    /// digest (`{ [id]: digest }`; a SYNC_TICK's `targets[i].complete` is about the definition
    /// with that digest). A `ValidationError` for a malformed target, a kind this worker does
    /// not sync (kinds are fixed when the client is created), or a kind left without targets.
    #[wasm_bindgen(js_name = setTargets, unchecked_return_type = "Record<string, string>")]
    pub fn set_targets(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WorkerConfig['targets']")] targets: JsValue,
    ) -> Result<JsValue, JsValue> {
        let mut json = js_to_json(&targets, "the targets")?;
        let written = event_targets::split(&mut json);
        let targets: Vec<TargetConfig> = serde_json::from_value(json)
            .map_err(|e| ErrorInfo::validation(format!("targets: {e}")))?;
        let scopes = self
            .opened
            .plan
            .target_rules
            .scopes(&targets, &written.others_at)?;
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        let event_logs = self
            .opened
            .plan
            .event_log_rules
            .targets(&written.event_logs, &ids)?;
        for kind in scopes.keys() {
            if !self.opened.targets.contains(kind) {
                return Err(ErrorInfo::validation(format!(
                    "targets: this client does not sync {} (the kinds synced are fixed when it is created: give one such target, or eventMessages: true, in its options)",
                    kind.name()
                ))
                .into());
            }
        }
        if let Some(kind) = self.opened.targets.iter().find(|k| !scopes.contains_key(k)) {
            return Err(ErrorInfo::validation(format!(
                "targets: every kind synced keeps at least one target; none is left for {}",
                kind.name()
            ))
            .into());
        }
        let digests: serde_json::Map<String, serde_json::Value> = scopes
            .values()
            .flatten()
            .map(|scope| (scope.id.clone(), scope.digest_hex().into()))
            .collect();
        if let Some(running) = self.running.borrow().as_ref() {
            for (kind, handle) in running.kinds.iter().zip(&running.handles) {
                if let Some(scopes) = scopes.get(kind) {
                    // A run keeps the targets sent before it began.
                    handle.retarget(scopes.clone());
                }
            }
        }
        *self.scopes.borrow_mut() = scopes;
        self.opened.event_logs.retarget(event_logs);
        Ok(json_to_js(&serde_json::Value::Object(digests)))
    }

    /// Starts syncing with Torii: each synchronizer probes Torii's version (within
    /// `requestTimeoutMs`, retried with backoff while Torii cannot be reached: state
    /// `offline`), checks it against the database, resumes from the persisted cursors and
    /// streams; once Torii answered, it is asked whether it knows the world (SYNC_FATAL when
    /// it does not). Resolves once syncing started (failures come as events); rejects with a
    /// `ValidationError` when called twice or after `shutdown`.
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
        let running = Rc::new(start_synchronizers(
            &self.opened,
            &self.stopped,
            &self.scopes.borrow(),
        ));
        *self.running.borrow_mut() = Some(Rc::clone(&running));
        spawn_world_check(&self.opened, running, Rc::clone(&self.stopped));
        let opened = Rc::clone(&self.opened);
        let adopt = adoption(&self.opened, &self.stopped);
        wasm_bindgen_futures::spawn_local(async move {
            // The event logs write only once the database is on this tab's manifest (a deploy's
            // adoption drops the stored events of the models it changed first); a tab whose
            // manifest Torii contradicts never writes them (the synchronizers report why).
            if adopt().await.is_ok() {
                opened.event_logs.lead().await;
            }
        });
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// The worker's database connection (the writer election claims and fences it).
    pub(crate) fn backend(&self) -> BrowserBackend {
        self.opened.storage.inner().backend().clone()
    }

    /// The worker's manifest judge (the writer election consults it).
    pub(crate) fn judge(&self) -> Rc<WorkerJudge> {
        Rc::clone(&self.opened.judge)
    }

    /// The hash of this worker's manifest (carried by its cross-tab messages).
    #[wasm_bindgen(getter, js_name = manifestHash)]
    pub fn manifest_hash(&self) -> String {
        self.opened.plan.fingerprint.hash.clone()
    }

    /// The worker's Torii client (the page's one-shot calls: `social.rs`).
    pub(crate) fn torii(&self) -> ToriiClient {
        self.opened.client.clone()
    }

    /// The world address this worker syncs (`0x` + 64 hex digits).
    pub(crate) fn world_address(&self) -> String {
        self.opened.plan.origin.world_address.clone()
    }

    /// The worker's storage (the relay numbers and marks its DELTAs; the judge reads it).
    pub(crate) fn storage(&self) -> Rc<WorkerStorage> {
        Rc::clone(&self.opened.storage)
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

    /// Judges this worker's manifest against the stored one by the models Torii lists (one call
    /// within `requestTimeoutMs`; Torii's answer is reused for 5 s). Resolves `{ verdict }`:
    /// `current` (this manifest is the database's, or may replace it), `outdated` (with
    /// `error`, an `OutdatedManifestError`: Torii contradicts it, this tab must not write),
    /// `undecided` (Torii contradicts neither) or `unanswered` (Torii did not answer).
    #[wasm_bindgen(js_name = judgeManifest, unchecked_return_type = "Promise<ManifestJudgement>")]
    pub fn judge_manifest(&self) -> Promise {
        let (storage, judge) = (self.storage(), self.judge());
        wasm_bindgen_futures::future_to_promise(async move {
            let verdict = judge
                .verdict(storage.inner(), &BrowserClock)
                .await
                .map_err(|e| JsValue::from(store_error(&e)))?;
            Ok(json_to_js(&judgement(
                verdict.as_ref(),
                judge.manifest_hash(),
            )))
        })
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
        self.opened.event_logs.shutdown();
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
            opened.storage.stop_retrying();
            // A last try for what a failed write left waiting.
            opened.storage.write_waiting().await;
            opened.storage.inner().close();
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// The database, the Torii version its data was synced from and the manifest it was written for.
type OpenedStorage = (
    Storage<BrowserBackend>,
    Option<String>,
    Option<ManifestFingerprint>,
);

/// Opens and checks the database (its origin; no network, no write); returns it with the Torii
/// version its data was synced from and the manifest it was written for. Where the browser
/// offers no IndexedDB, the data is kept in memory and a warning is emitted.
async fn open_storage(plan: &Plan, emit: &Emit) -> Result<OpenedStorage, ErrorInfo> {
    let storage = Storage::new(BrowserBackend::IndexedDb(IndexedDbBackend::new(
        &plan.db_name,
    )));
    match storage.open(&plan.fingerprint, &plan.origin).await {
        Ok(opened) => Ok((storage, opened.torii_version, opened.stored)),
        Err(StoreError::Unavailable(reason)) => {
            emit.error(
                ErrorInfo::new(
                    "StorageError",
                    format!(
                        "IndexedDB is not available in this browser context ({reason}, as in \
                         some private modes): the client runs in memory, nothing is stored and \
                         the next start syncs from Torii again"
                    ),
                )
                .with("reason", "unavailable")
                .with("dbName", &plan.db_name),
            );
            let storage = Storage::new(BrowserBackend::Memory(MemoryBackend::new()));
            let opened = storage
                .open(&plan.fingerprint, &plan.origin)
                .await
                .map_err(|e| store_error(&e))?;
            Ok((storage, opened.torii_version, opened.stored))
        }
        Err(error) => {
            storage.close();
            Err(store_error(&error))
        }
    }
}

/// The judge of the plan's manifest, asking `client` for the world's models.
fn manifest_judge(plan: &Plan, client: &ToriiClient) -> WorkerJudge {
    let world = plan
        .setups
        .first()
        .and_then(|setup| setup.target.world_addresses.first().copied());
    let options = plan.setups.first().map(|setup| setup.options.clone());
    let client = client.clone();
    let fetch: FetchModels = Box::new(move || {
        let client = client.clone();
        let fetched: LocalBoxFuture<'static, _> = Box::pin(async move {
            let worlds = client
                .worlds(&world.into_iter().collect::<Vec<_>>())
                .await?;
            Ok(ToriiModels::new(worlds.iter().flat_map(|world| {
                world.models.iter().map(|model| {
                    (
                        model.namespace.as_str(),
                        model.name.as_str(),
                        model.class_hash.as_slice(),
                    )
                })
            })))
        });
        fetched
    });
    let defaults = dojo_reactive_core::sync::SyncOptions::default();
    let options = options.unwrap_or(defaults);
    ManifestJudge::new(
        fetch,
        plan.fingerprint.clone(),
        plan.origin.clone(),
        options.probe_timeout_ms(),
        options.backoff,
    )
}

/// The deploy's step before this worker writes: Torii judges its manifest and the database is
/// put on it (see [`crate::deploy`]); shared by the synchronizers and the event logs.
fn adoption(opened: &Opened, stopped: &Rc<Cell<bool>>) -> crate::version_gate::BeforeInit {
    let judge = Rc::clone(&opened.judge);
    let storage = Rc::clone(&opened.storage);
    let emit = opened.emit.clone();
    let stopped = Rc::clone(stopped);
    Rc::new(move || {
        let (judge, storage, emit, stopped) = (
            Rc::clone(&judge),
            Rc::clone(&storage),
            emit.clone(),
            Rc::clone(&stopped),
        );
        let adopted: LocalBoxFuture<'static, _> = Box::pin(async move {
            judge
                .adopt(storage.inner(), &BrowserClock, &emit, || !stopped.get())
                .await
        });
        adopted
    })
}

/// Starts one synchronizer per target over the opened storage, behind the Torii version gate
/// and the manifest check of a deploy (nothing is written before Torii judged this manifest).
fn start_synchronizers(
    opened: &Opened,
    stopped: &Rc<Cell<bool>>,
    scopes: &BTreeMap<TargetKind, Vec<TargetScope>>,
) -> Running {
    let adopt = adoption(opened, stopped);
    let gate = Rc::new(
        ToriiVersionGate::new(
            Rc::clone(&opened.storage),
            opened.emit.clone(),
            opened.plan.on_torii_version_change,
        )
        .with_before_init(adopt),
    );
    let mut handles = Vec::new();
    let mut kinds = Vec::new();
    let mut done = Vec::new();
    let mut started = Vec::new();
    for mut setup in opened.plan.setups.iter().cloned() {
        if let Some(scopes) = scopes.get(&setup.target.kind) {
            setup.target = setup.target.with_scopes(scopes.clone());
        }
        kinds.push(setup.target.kind);
        let mut synchronizer =
            Synchronizer::new(opened.client.clone(), Rc::clone(&gate), BrowserClock, setup);
        synchronizer.set_observer(Box::new(Observer {
            emit: opened.emit.clone(),
            storage: Rc::clone(&opened.storage),
        }));
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
                emit.event(&WorkerEvent::SyncFatal {
                    error: &fatal_error(&fatal),
                });
            }
            let _ = finished.send(());
        });
    }
    Running {
        handles,
        kinds,
        started,
        done: RefCell::new(done),
    }
}

/// How often the world check looks whether Torii answered a synchronizer yet.
const WORLD_CHECK_POLL_MS: u64 = 250;

/// Once Torii answered a synchronizer, asks it whether it knows the world; a world it does not
/// know stops the synchronizers with a SYNC_FATAL `ValidationError`.
fn spawn_world_check(opened: &Opened, running: Rc<Running>, stopped: Rc<Cell<bool>>) {
    let Some(setup) = opened.plan.setups.first() else {
        return;
    };
    let Some(&world) = setup.target.world_addresses.first() else {
        return;
    };
    let options = setup.options.clone();
    let client = opened.client.clone();
    let emit = opened.emit.clone();
    let torii_url = opened.plan.torii_url.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // While Torii cannot be reached the synchronizers retry (and report it): ask after.
        while !emit.reached.get() {
            if stopped.get() {
                return;
            }
            BrowserClock
                .sleep_until(BrowserClock.now_ms().saturating_add(WORLD_CHECK_POLL_MS))
                .await;
        }
        let fetch = || {
            let client = client.clone();
            async move {
                let worlds = client.worlds(&[world]).await?;
                Ok(worlds.into_iter().map(|w| w.world_address).collect())
            }
        };
        let check = check_world(
            &BrowserClock,
            fetch,
            &world,
            &torii_url,
            options.request_timeout_ms,
            options.backoff,
            || !stopped.get(),
        )
        .await;
        if let WorldCheck::Unknown(error) = check {
            if stopped.get() {
                return;
            }
            emit.event(&WorkerEvent::SyncFatal { error: &error });
            running.until_started().await;
            for handle in &running.handles {
                handle.shutdown();
            }
        }
    });
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

/// Deletes a database (`reset`: start over from Torii).
#[wasm_bindgen(js_name = deleteDatabase, unchecked_return_type = "Promise<void>")]
pub fn delete_database(#[wasm_bindgen(js_name = dbName)] db_name: String) -> Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        dojo_reactive_storage::delete_db(&db_name)
            .await
            .map_err(|e| JsValue::from(store_error(&e)))?;
        Ok(JsValue::UNDEFINED)
    })
}

/// A `ManifestJudgement` (see `types.rs`): the verdict, and the error of an outdated manifest.
pub(crate) fn judgement(verdict: Option<&Verdict>, manifest_hash: &str) -> serde_json::Value {
    match verdict {
        Some(Verdict::Current) => json!({ "verdict": "current" }),
        Some(Verdict::Outdated { models }) => json!({
            "verdict": "outdated",
            "error": crate::errors::outdated_manifest(models, manifest_hash),
        }),
        Some(Verdict::Undecided) => json!({ "verdict": "undecided" }),
        None => json!({ "verdict": "unanswered" }),
    }
}
