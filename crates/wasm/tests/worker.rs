//! `SyncWorker` in a dedicated worker of headless Chromium against a running mock-torii: a cold
//! sync into IndexedDB with DELTAs into a `View`, convergence after live updates, a warm restart
//! from the same database (every state sent from IndexedDB before INIT_ACK, nothing re-sent,
//! fewer pages read than a full pass), a manifest Torii contradicts (OutdatedManifestError,
//! nothing written), a deploy Torii confirms keeping the unchanged models, a
//! Torii version change kept (a warning) or refused (strict), SYNC_FATAL, and configuration
//! errors.
//!
//! `.ci/test` starts the mock and compiles its URL in through `MOCK_TORII_URL`. By hand:
//! `MOCK_TORII_URL=http://127.0.0.1:PORT CHROMEDRIVER=/usr/bin/chromedriver cargo test -p
//! dojo-reactive-wasm --target wasm32-unknown-unknown --test worker`

#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{error_name, fresh_db_name, manifest, mock_get, mock_post, prop, sleep};
use dojo_reactive_view_wasm::View;
use dojo_reactive_wasm::{delete_database, SyncWorker};
use js_sys::{Array, Uint8Array};
use serde_json::{json, Value as Json};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// What a worker emitted, with every DELTA given to a view.
struct Sink {
    view: View,
    /// Event types in order ("DELTA" included).
    types: Vec<String>,
    events: Vec<JsValue>,
    /// Entities the view held when INIT_ACK arrived.
    size_at_ack: Option<u32>,
    /// Entity ids changed by DELTAs after INIT_ACK.
    changed_after_ack: usize,
}

struct Harness {
    sink: Rc<RefCell<Sink>>,
    emit: Closure<dyn FnMut(JsValue, JsValue)>,
}

impl Harness {
    fn new(manifest: &str) -> Harness {
        let sink = Rc::new(RefCell::new(Sink {
            view: View::new(manifest, None).expect("a view"),
            types: Vec::new(),
            events: Vec::new(),
            size_at_ack: None,
            changed_after_ack: 0,
        }));
        let shared = Rc::clone(&sink);
        let emit =
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |event: JsValue, delta: JsValue| {
                let mut sink = shared.borrow_mut();
                let kind = prop(&event, "type").as_string().unwrap_or_default();
                if kind == "DELTA" {
                    let bytes = delta
                        .dyn_into::<Uint8Array>()
                        .expect("DELTA bytes")
                        .to_vec();
                    // As the package does: the persisted state (before INIT_ACK) is restored,
                    // later DELTAs applied.
                    if sink.size_at_ack.is_some() {
                        let changed = sink.view.apply_delta(&bytes).expect("a valid DELTA");
                        sink.changed_after_ack += changed.len();
                    } else {
                        sink.view.restore(bytes).expect("a valid stored segment");
                    }
                }
                if kind == "INIT_ACK" {
                    sink.size_at_ack = Some(sink.view.size());
                }
                sink.types.push(kind);
                sink.events.push(event);
            });
        Harness { sink, emit }
    }

    /// `open`, then `lead`, as the worker entry does.
    async fn start(&self, config: &Json) -> Result<SyncWorker, JsValue> {
        let config = js_sys::JSON::parse(&config.to_string()).unwrap();
        let worker = SyncWorker::open(
            config.unchecked_into(),
            self.emit.as_ref().clone().unchecked_into(),
            None,
        )
        .await?;
        JsFuture::from(worker.lead()).await?;
        Ok(worker)
    }

    fn event(&self, kind: &str) -> Option<JsValue> {
        let sink = self.sink.borrow();
        sink.types
            .iter()
            .position(|t| t == kind)
            .and_then(|i| sink.events.get(i).cloned())
    }

    /// Whether the synchronizer of `target` reported `streaming`.
    fn streaming(&self, target: &str) -> bool {
        self.streaming_since(target, |_| true)
    }

    /// Whether `target` reached streaming after a transition whose reason is `reason`.
    fn streaming_after(&self, target: &str, reason: &str) -> bool {
        let mut seen = false;
        self.streaming_since(target, |transition| {
            let kind = prop(&prop(transition, "reason"), "kind");
            seen |= kind.as_string().as_deref() == Some(reason);
            seen
        })
    }

    /// Whether `target` reached streaming at a transition for which `counts` (called on every
    /// transition of `target`, in order) says yes.
    fn streaming_since(&self, target: &str, mut counts: impl FnMut(&JsValue) -> bool) -> bool {
        self.sink.borrow().events.iter().any(|e| {
            let transition = prop(e, "transition");
            if prop(&transition, "target").as_string().as_deref() != Some(target) {
                return false;
            }
            counts(&transition)
                && prop(&transition, "to").as_string().as_deref() == Some("streaming")
        })
    }
}

async fn wait_for(what: &str, seconds: u32, mut done: impl FnMut() -> bool) {
    for _ in 0..seconds * 20 {
        if done() {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out after {seconds} s waiting for {what}");
}

async fn config(db_name: &str, manifest: &str) -> Json {
    let status = mock_get("status").await;
    json!({
        "toriiUrl": common::MOCK_TORII_URL,
        "worldAddress": status["worldAddress"],
        "manifest": manifest,
        "dbName": db_name,
        "eventMessages": true,
        "syncOptions": { "pageSize": 300, "catchUpMarginS": 0 },
        "deltaChunk": 128,
    })
}

async fn shutdown(worker: &SyncWorker) {
    JsFuture::from(worker.shutdown())
        .await
        .expect("shutdown resolves");
}

/// The mock's world: its entities.
async fn mock_world() -> Vec<Json> {
    mock_get("world").await["entities"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Every entity's `last_updated_at` per model in `world` equals the view's.
fn converged(view: &View, world: &[Json]) -> Result<(), String> {
    for entity in world {
        let id = entity["entityId"].as_str().unwrap();
        let held: JsValue = match view.entity(id, None).unwrap() {
            Some(held) => held.into(),
            None => return Err(format!("{id} missing")),
        };
        for (tag, members) in entity["models"].as_object().unwrap() {
            let (ns, name) = tag.split_once('-').unwrap();
            let state = prop(&prop(&prop(&held, "models"), ns), name);
            let ours = prop(&state, "last_updated_at");
            let ours = ours
                .dyn_ref::<js_sys::BigInt>()
                .and_then(|b| b.to_string(10).ok())
                .and_then(|s| s.as_string());
            if ours.as_deref() != members["last_updated_at"].as_str() {
                return Err(format!(
                    "{id} {tag}: {ours:?} vs {}",
                    members["last_updated_at"]
                ));
            }
        }
    }
    Ok(())
}

#[wasm_bindgen_test]
async fn cold_sync_converges_and_a_restart_restores_from_indexeddb() {
    let manifest = manifest().await;
    let db = fresh_db_name("cold");
    let config = config(&db, &manifest).await;
    let status = mock_get("status").await;
    let entity_count = status["entities"].as_u64().unwrap() as u32;

    let cold = Harness::new(&manifest);
    let worker = cold.start(&config).await.expect("the worker starts");
    let ack = cold.event("INIT_ACK").expect("INIT_ACK");
    assert_eq!(prop(&ack, "restored").as_f64(), Some(0.0));
    assert_eq!(
        prop(&ack, "dbName").as_string().as_deref(),
        Some(db.as_str())
    );
    assert!(prop(&ack, "manifestHash")
        .as_string()
        .unwrap()
        .starts_with("manifest-hash:v1:"));
    wait_for("entities streaming", 60, || cold.streaming("entities")).await;
    wait_for("event messages streaming", 60, || {
        cold.streaming("eventMessages")
    })
    .await;
    assert_eq!(cold.sink.borrow().view.size(), entity_count);
    assert!(cold.event("SYNC_TICK").is_some());
    {
        let mut sink = cold.sink.borrow_mut();
        let moved: JsValue = sink
            .view
            .query("arena-Moved", js_sys::Object::new().unchecked_into(), None)
            .unwrap()
            .into();
        assert_eq!(
            Array::from(&prop(&moved, "items")).length() as u64,
            status["eventMessages"].as_u64().unwrap()
        );
    }

    // Live updates reach the view, which converges to the mock's world.
    mock_post("updates", r#"{"count": 40}"#).await;
    let mut last = Err(String::new());
    for _ in 0..100 {
        let world = mock_world().await;
        last = converged(&cold.sink.borrow().view, &world);
        if last.is_ok() {
            break;
        }
        sleep(100).await;
    }
    last.expect("the view converges after live updates");

    // A model deletion reaches the view; an optimistic write is confirmed by Torii's change.
    let world = mock_world().await;
    let player = world
        .iter()
        .find(|e| e["models"].get("arena-Position").is_some())
        .and_then(|e| e["entityId"].as_str())
        .expect("a player")
        .to_owned();
    mock_post(
        "delete",
        &json!({ "entityId": player, "model": "arena-Position" }).to_string(),
    )
    .await;
    let submission = js_sys::JSON::parse(
        &json!({ "entityId": player, "model": "arena-Player", "payload": { "level": 255 } })
            .to_string(),
    )
    .unwrap();
    let submitted: JsValue = cold
        .sink
        .borrow_mut()
        .view
        .submit_overlay(submission.unchecked_into(), 1.0)
        .expect("an optimistic write")
        .into();
    let transaction = prop(&submitted, "transactionId");
    mock_post(
        "set",
        &json!({ "entityId": player, "model": "arena-Player", "values": { "level": 255 } })
            .to_string(),
    )
    .await;
    let mut confirmed = false;
    let mut position_gone = false;
    for _ in 0..200 {
        let result: JsValue = cold.sink.borrow_mut().view.poll(2.0).into();
        confirmed |= Array::from(&prop(&result, "events")).iter().any(|e| {
            prop(&e, "type").as_string().as_deref() == Some("confirmed")
                && prop(&e, "transactionId") == transaction
        });
        position_gone = {
            let sink = cold.sink.borrow();
            let held: JsValue = sink.view.entity(&player, None).unwrap().unwrap().into();
            prop(&prop(&prop(&held, "models"), "arena"), "Position").is_undefined()
        };
        if confirmed && position_gone {
            break;
        }
        sleep(50).await;
    }
    assert!(confirmed, "the write was confirmed by the synced change");
    assert!(position_gone, "the model deletion reached the view");
    let world = mock_world().await;
    converged(&cold.sink.borrow().view, &world).expect("the deletion reached the view");
    // The database agrees with itself and holds the world: a state per model, the deleted
    // model as a tombstone in the ledger.
    let report = JsFuture::from(js_sys::Promise::from(JsValue::from(worker.inspect_store())))
        .await
        .expect("the store is read back");
    let report: Json =
        serde_json::from_str(&String::from(js_sys::JSON::stringify(&report).unwrap())).unwrap();
    let entities = &report["targets"][0];
    assert_eq!(entities["target"], "entities");
    assert_eq!(
        entities["disagreements"],
        json!([]),
        "{}",
        entities["disagreements"]
    );
    let model_states: usize = world
        .iter()
        .map(|e| e["models"].as_object().unwrap().len())
        .sum();
    assert_eq!(entities["states"], model_states);
    let tombstone =
        entities["ledger"].as_array().unwrap().iter().find(|entry| {
            entry["entityId"] == player.as_str() && entry["model"] == "arena-Position"
        });
    assert_eq!(
        tombstone.map(|t| t["state"].clone()),
        Some(json!("deleted"))
    );
    assert_eq!(entities["syncState"]["snapshotComplete"], true);
    worker.force_replay();
    // Shut down only once the forced replay has ended: a replay cut short leaves its cursor
    // stored, and the restart would rightly replay in full.
    for target in ["entities", "eventMessages"] {
        wait_for(
            &format!("{target} streaming after a forced replay"),
            60,
            || cold.streaming_after(target, "forced"),
        )
        .await;
    }
    shutdown(&worker).await;
    let types_after_shutdown = cold.sink.borrow().types.len();

    // Warm start: every state comes from IndexedDB, sent before INIT_ACK.
    mock_post("log/clear", "{}").await;
    let warm = Harness::new(&manifest);
    let worker = warm.start(&config).await.expect("the worker restarts");
    let ack = warm.event("INIT_ACK").expect("INIT_ACK");
    assert!(prop(&ack, "restored").as_f64().unwrap() >= f64::from(entity_count));
    let timings = prop(&ack, "timings");
    for step in ["startedAt", "openMs", "restoreMs"] {
        assert!(
            prop(&timings, step).as_f64().is_some_and(|ms| ms >= 0.0),
            "{step}"
        );
    }
    assert_eq!(warm.sink.borrow().size_at_ack, Some(entity_count));
    let world = mock_world().await;
    converged(&warm.sink.borrow().view, &world).expect("the restored view equals the world");
    wait_for("entities streaming again", 60, || {
        warm.streaming("entities")
    })
    .await;
    wait_for("event messages streaming again", 60, || {
        warm.streaming("eventMessages")
    })
    .await;
    // The restart's catch-up found nothing new, so nothing was sent to the view again, and it
    // did not re-read the snapshot.
    assert_eq!(warm.sink.borrow().changed_after_ack, 0);
    let log = mock_get("log").await;
    let pages = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "RetrieveEntities")
        .count();
    let full = (entity_count as usize).div_ceil(300);
    assert!(
        pages < full,
        "{pages} pages read after a restart, a full pass is {full}: {log}"
    );
    shutdown(&worker).await;
    assert_eq!(
        cold.sink.borrow().types.len(),
        types_after_shutdown,
        "nothing is emitted after shutdown"
    );
    JsFuture::from(delete_database(db)).await.unwrap();
}

/// The mock's manifest and a fresh database a worker synced the world into (both targets
/// streaming), then shut down.
async fn synced_once(case: &str) -> (String, String) {
    let manifest = manifest().await;
    let db = fresh_db_name(case);
    let harness = Harness::new(&manifest);
    let worker = harness
        .start(&config(&db, &manifest).await)
        .await
        .expect("the worker starts");
    for target in ["entities", "eventMessages"] {
        wait_for(&format!("{target} streaming"), 60, || {
            harness.streaming(target)
        })
        .await;
    }
    shutdown(&worker).await;
    (manifest, db)
}

#[wasm_bindgen_test]
async fn a_changed_manifest_keeps_the_unchanged_models_and_resyncs_the_changed_one() {
    let (manifest, db) = synced_once("deploy").await;
    let stored = Harness::new(&manifest);
    let worker = stored
        .start(&config(&db, &manifest).await)
        .await
        .expect("reopens");
    let all = prop(&stored.event("INIT_ACK").unwrap(), "restored")
        .as_f64()
        .unwrap();
    shutdown(&worker).await;

    // A manifest Torii contradicts (a class hash the mock does not list): the worker shows the
    // unchanged models, reports OutdatedManifestError and writes nothing.
    let mut contradicted: Json = serde_json::from_str(&manifest).unwrap();
    let tag = contradicted["models"][0]["tag"]
        .as_str()
        .unwrap()
        .to_owned();
    contradicted["models"][0]["class_hash"] = json!(format!("0x{}", "1".repeat(60)));
    let contradicted = contradicted.to_string();
    let outdated = Harness::new(&contradicted);
    let worker = outdated
        .start(&config(&db, &contradicted).await)
        .await
        .expect("opens");
    let shown = prop(&outdated.event("INIT_ACK").unwrap(), "restored")
        .as_f64()
        .unwrap();
    assert!(
        shown > 0.0 && shown < all,
        "{shown} of {all} states shown ({tag} hidden)"
    );
    wait_for("OutdatedManifestError", 60, || {
        outdated.sink.borrow().events.iter().any(|e| {
            error_name(&prop(e, "error")) == "OutdatedManifestError"
                && prop(e, "type").as_string().as_deref() == Some("SYNC_ERROR")
        })
    })
    .await;
    shutdown(&worker).await;
    let again = Harness::new(&manifest);
    let worker = again
        .start(&config(&db, &manifest).await)
        .await
        .expect("reopens");
    assert_eq!(
        prop(&again.event("INIT_ACK").unwrap(), "restored").as_f64(),
        Some(all),
        "the outdated worker dropped nothing"
    );
    shutdown(&worker).await;

    // The deploy reaches Torii (the mock upgrades the model): its manifest switches the
    // database, keeping the unchanged models and re-syncing the changed one.
    mock_post("manifest", &json!({ "upgrade": tag }).to_string()).await;
    let changed = common::manifest().await;
    let deployed = Harness::new(&changed);
    let worker = deployed
        .start(&config(&db, &changed).await)
        .await
        .expect("no SchemaMismatchError: the unchanged models' data is kept");
    let kept = prop(&deployed.event("INIT_ACK").unwrap(), "restored")
        .as_f64()
        .unwrap();
    assert!(
        kept > 0.0 && kept < all,
        "{kept} of {all} states kept ({tag} dropped)"
    );
    wait_for("the changed model re-synced", 60, || {
        deployed.streaming_after("entities", "restarted")
    })
    .await;
    let world = mock_world().await;
    converged(&deployed.sink.borrow().view, &world).expect("the view equals the world again");
    shutdown(&worker).await;
    JsFuture::from(delete_database(db)).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_torii_version_change_keeps_the_data_unless_strict() {
    let (manifest, db) = synced_once("version").await;
    let original = mock_get("status").await["version"].clone();
    mock_post("restart", r#"{"version": "1.9.0 (mock)"}"#).await;
    let mut config = config(&db, &manifest).await;
    let kept = Harness::new(&manifest);
    let worker = kept
        .start(&config)
        .await
        .expect("the stored data opens without Torii");
    wait_for("the version change warning", 20, || {
        kept.event("SYNC_ERROR").is_some()
    })
    .await;
    let warning = prop(&kept.event("SYNC_ERROR").unwrap(), "error");
    assert_eq!(error_name(&warning), "ToriiVersionChangedError");
    assert_eq!(prop(&warning, "kept").as_bool(), Some(true));
    wait_for("entities streaming", 60, || kept.streaming("entities")).await;
    assert!(kept.event("SYNC_FATAL").is_none());
    shutdown(&worker).await;

    mock_post("restart", r#"{"version": "2.0.0 (mock)"}"#).await;
    config["onToriiVersionChange"] = json!("fail");
    let strict = Harness::new(&manifest);
    let worker = strict
        .start(&config)
        .await
        .expect("the stored data opens without Torii");
    wait_for("SYNC_FATAL", 20, || strict.event("SYNC_FATAL").is_some()).await;
    let refused = prop(&strict.event("SYNC_FATAL").unwrap(), "error");
    assert_eq!(error_name(&refused), "ToriiVersionChangedError");
    assert_eq!(
        prop(&refused, "current").as_string().as_deref(),
        Some("2.0.0 (mock)")
    );
    shutdown(&worker).await;
    mock_post("restart", &json!({ "version": original }).to_string()).await;
    JsFuture::from(delete_database(db)).await.unwrap();
}

#[wasm_bindgen_test]
async fn bad_configurations_are_validation_errors() {
    let manifest = manifest().await;
    let harness = Harness::new(&manifest);
    let mut bad_world = config(&fresh_db_name("bad"), &manifest).await;
    bad_world["worldAddress"] = json!("world");
    let mut bad_manifest = bad_world.clone();
    bad_manifest["worldAddress"] = json!("0x1");
    bad_manifest["manifest"] = json!("{}");
    let mut bad_model = bad_manifest.clone();
    bad_model["manifest"] = json!(manifest);
    bad_model["worldAddress"] = Json::Null;
    bad_model["models"] = json!(["arena-Nope"]);
    let mut bad_url = bad_model.clone();
    bad_url["models"] = Json::Null;
    bad_url["toriiUrl"] = json!("ftp://x");
    let mut no_host = bad_url.clone();
    no_host["toriiUrl"] = json!("http://");
    let mut other_world = bad_url.clone();
    other_world["toriiUrl"] = json!(common::MOCK_TORII_URL);
    other_world["worldAddress"] = json!("0x0123");
    let mut zero_timeout = other_world.clone();
    zero_timeout["worldAddress"] = Json::Null;
    zero_timeout["syncOptions"] = json!({ "requestTimeoutMs": 0 });
    for config in [
        bad_world,
        bad_manifest,
        bad_model,
        bad_url,
        no_host,
        other_world,
        zero_timeout,
        json!({ "toriiUrl": 1 }),
    ] {
        let error = harness.start(&config).await.err().expect("refused");
        assert_eq!(error_name(&error), "ValidationError", "{config}");
    }
}

#[wasm_bindgen_test]
async fn a_synchronizer_out_of_retries_reports_sync_fatal() {
    let manifest = manifest().await;
    let db = fresh_db_name("fatal");
    let mut config = config(&db, &manifest).await;
    config["eventMessages"] = json!(false);
    config["syncOptions"] =
        json!({ "replayBudget": 1, "backoffInitialMs": 10, "backoffMaxMs": 20 });
    mock_post("fail", r#"{"count": 1000, "code": "permission_denied"}"#).await;
    let harness = Harness::new(&manifest);
    let started = harness.start(&config).await;
    let fatal_seen = async {
        for _ in 0..400 {
            if harness.event("SYNC_FATAL").is_some() {
                return true;
            }
            sleep(50).await;
        }
        false
    }
    .await;
    mock_post("fail", r#"{"count": 0, "code": "permission_denied"}"#).await;
    let worker = started.expect("the worker starts (the failures come later)");
    assert!(fatal_seen, "SYNC_FATAL after the retry budget");
    let fatal = harness.event("SYNC_FATAL").unwrap();
    let error = prop(&fatal, "error");
    assert_eq!(error_name(&error), "SyncFatalError");
    assert_eq!(
        prop(&error, "reason").as_string().as_deref(),
        Some("retryBudgetExhausted")
    );
    assert!(prop(&error, "attempts").as_f64().is_some_and(|n| n >= 1.0));
    assert!(
        harness.event("SYNC_ERROR").is_some(),
        "the failed pass was reported first"
    );
    shutdown(&worker).await;
    JsFuture::from(delete_database(db)).await.unwrap();
}
