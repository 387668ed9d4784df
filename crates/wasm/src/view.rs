//! The main-thread `View`: the JS marshalling of the view model (`dojo_reactive_view`: the
//! replica of synced states fed only by DELTAs, the optimistic overlay merged over it, queries
//! answered from memory). Only the results returned are converted to JS.

use dojo_reactive_core::{Guard, Manifest, OverlayEvent, OverlaySubmission, QuerySpec, Struct};
use dojo_reactive_view::model::event_transaction;
use dojo_reactive_view::{Consistency, Matches, ViewModel, ViewOptions};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{filter_error, overlay_error, overlay_timeout, ErrorInfo};
use crate::json::js_to_json;
use crate::sdk::{entity_js, members_js, parse_entity_id, parse_payload};
use crate::types::{
    ConsistencyJs, OverlayEntryInfoListJs, OverlaySubmissionJs, OverlaySubmittedJs, PollResultJs,
    QueryIdsJs, QueryResultJs, QuerySpecJs, SdkEntityJs, ViewOptionsJs,
};

fn consistency(value: Option<ConsistencyJs>) -> Result<Consistency, ErrorInfo> {
    let Some(value) = value else {
        return Ok(Consistency::Overlay);
    };
    let value: &JsValue = value.as_ref();
    if value.is_undefined() || value.is_null() {
        return Ok(Consistency::Overlay);
    }
    match value.as_string().as_deref() {
        Some("overlay") => Ok(Consistency::Overlay),
        Some("synced") => Ok(Consistency::Synced),
        _ => Err(ErrorInfo::validation(
            "consistency must be \"overlay\" or \"synced\"",
        )),
    }
}

/// A millisecond time from JS (negative, NaN and infinite read as 0).
fn millis(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value as u64
    } else {
        0
    }
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(object: &JsValue, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

/// An optional non-negative number option.
fn number_option(object: &JsValue, key: &str) -> Result<Option<u64>, ErrorInfo> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n as u64)),
        _ => Err(ErrorInfo::validation(format!(
            "{key} must be a non-negative number of milliseconds"
        ))),
    }
}

/// A guard given as a JS function `(syncedModelState) => boolean`.
struct FunctionGuard {
    function: js_sys::Function,
}

impl Guard for FunctionGuard {
    fn confirmed(&self, synced: Option<&Struct>, _now_ms: u64) -> bool {
        let state = synced.map_or(JsValue::UNDEFINED, |s| members_js(&s.members));
        // A guard that throws has not confirmed anything.
        self.function
            .call1(&JsValue::UNDEFINED, &state)
            .is_ok_and(|result| result.is_truthy())
    }

    fn describe(&self) -> String {
        let name = String::from(self.function.name());
        if name.is_empty() {
            "the guard function returns true".to_owned()
        } else {
            format!("guard function {name} returns true")
        }
    }
}

/// The main-thread view (see `API.md`).
#[wasm_bindgen]
pub struct View {
    model: ViewModel,
}

fn event_kind(event: &OverlayEvent) -> &'static str {
    match event {
        OverlayEvent::Confirmed { .. } => "confirmed",
        OverlayEvent::TimedOut(_) => "timedOut",
        OverlayEvent::Replaced { .. } => "replaced",
        OverlayEvent::RolledBack { .. } => "rolledBack",
    }
}

impl View {
    /// The entities a query (JS `QuerySpec`) on `model` matches; `None` while no state of the
    /// model arrived and the manifest does not define its types.
    fn matching(
        &mut self,
        model: &str,
        query: &JsValue,
        consistency: Consistency,
    ) -> Result<Option<Matches>, JsValue> {
        let spec = if query.is_undefined() || query.is_null() {
            QuerySpec::default()
        } else {
            let json = js_to_json(query, "the query")?;
            serde_json::from_value::<QuerySpec>(json)
                .map_err(|e| ErrorInfo::validation(format!("query on {model}: {e}")))?
        };
        Ok(self
            .model
            .matching(model, &spec, consistency)
            .map_err(|e| filter_error(model, &e))?)
    }
}

#[wasm_bindgen]
impl View {
    /// A view of the world described by `manifest` (the Dojo manifest JSON text).
    #[wasm_bindgen(constructor)]
    pub fn new(manifest: &str, options: Option<ViewOptionsJs>) -> Result<View, JsValue> {
        crate::panic::install();
        let manifest =
            Manifest::from_json_str(manifest).map_err(|e| ErrorInfo::validation(e.to_string()))?;
        let options = match options {
            Some(options) => {
                let options: &JsValue = options.as_ref();
                ViewOptions {
                    overlay_timeout_ms: number_option(options, "overlayTimeoutMs")?,
                    overlay_poll_ms: number_option(options, "overlayPollMs")?,
                }
            }
            None => ViewOptions::default(),
        };
        Ok(View {
            model: ViewModel::new(&manifest, options),
        })
    }

    /// Applies one DELTA; returns the ids of entities whose synced state changed.
    #[wasm_bindgen(js_name = applyDelta)]
    pub fn apply_delta(&mut self, delta: &[u8]) -> Result<Vec<String>, JsValue> {
        let changed = self.model.apply_delta(delta).map_err(|e| {
            ErrorInfo::validation(format!(
                "a DELTA could not be decoded ({e}); it was ignored"
            ))
        })?;
        Ok(changed.iter().map(|id| id.to_hex()).collect())
    }

    /// Applies one DELTA of the persisted state sent before INIT_ACK (a stored segment): its
    /// states are indexed now and decoded when first read, and no ids are returned (the client
    /// announces the restore once, at INIT_ACK). Throws a `ValidationError` for bytes that are
    /// not a segment; nothing of it is applied then.
    pub fn restore(&mut self, delta: Vec<u8>) -> Result<(), JsValue> {
        self.model.restore(delta).map_err(|e| {
            ErrorInfo::validation(format!(
                "a restored DELTA could not be read ({e}); it was ignored"
            ))
            .into()
        })
    }

    /// Number of entities held (synced).
    pub fn size(&self) -> u32 {
        u32::try_from(self.model.size()).unwrap_or(u32::MAX)
    }

    /// One entity with every model held (merged with pending writes unless `"synced"`);
    /// `undefined` when nothing is held for it.
    pub fn entity(
        &self,
        #[wasm_bindgen(js_name = entityId)] entity_id: &str,
        #[wasm_bindgen(js_name = consistency)] consistency_: Option<ConsistencyJs>,
    ) -> Result<Option<SdkEntityJs>, JsValue> {
        let id = parse_entity_id(entity_id)?;
        let consistency = consistency(consistency_)?;
        let states = self.model.entity(&id, consistency);
        if states.is_empty() {
            return Ok(None);
        }
        Ok(Some(entity_js(&id, &states).unchecked_into()))
    }

    /// Runs a query (core `QuerySpec`) on one model; results by ascending entity id. Throws a
    /// `ValidationError` for an unknown model or an invalid query.
    pub fn query(
        &mut self,
        model: &str,
        query: QuerySpecJs,
        #[wasm_bindgen(js_name = consistency)] consistency_: Option<ConsistencyJs>,
    ) -> Result<QueryResultJs, JsValue> {
        let consistency = consistency(consistency_)?;
        let result: JsValue = Object::new().into();
        let Some(matches) = self.matching(model, query.as_ref(), consistency)? else {
            set(&result, "items", Array::new());
            return Ok(result.unchecked_into());
        };
        let items: Array = matches
            .ids
            .iter()
            .filter_map(|id| {
                let state = self.model.shown(id, model, consistency)?;
                Some(if matches.query.selector.is_all() {
                    entity_js(id, [&state])
                } else {
                    entity_js(id, [&matches.query.selector.apply(&state)])
                })
            })
            .collect();
        set(&result, "items", items);
        if let Some(cursor) = matches.next_cursor {
            set(&result, "nextCursor", cursor);
        }
        Ok(result.unchecked_into())
    }

    /// What `query` would return, as entity ids: `{ ids, nextCursor? }`, `ids` the `0x` + 64 hex
    /// ids joined by commas (one string: passing thousands of strings out of wasm one by one
    /// costs more than splitting one). The entities are read with `entityModel`, so a caller
    /// that keeps them builds each once. Throws like `query`.
    #[wasm_bindgen(js_name = queryIds)]
    pub fn query_ids(
        &mut self,
        model: &str,
        query: QuerySpecJs,
        #[wasm_bindgen(js_name = consistency)] consistency_: Option<ConsistencyJs>,
    ) -> Result<QueryIdsJs, JsValue> {
        let consistency = consistency(consistency_)?;
        let result: JsValue = Object::new().into();
        let Some(matches) = self.matching(model, query.as_ref(), consistency)? else {
            set(&result, "ids", "");
            return Ok(result.unchecked_into());
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut ids = Vec::with_capacity(matches.ids.len() * 67);
        for id in &matches.ids {
            if !ids.is_empty() {
                ids.push(b',');
            }
            ids.extend_from_slice(b"0x");
            for byte in id.as_bytes() {
                ids.push(HEX[usize::from(byte >> 4)]);
                ids.push(HEX[usize::from(byte & 0xf)]);
            }
        }
        // ASCII only, so always UTF-8.
        set(&result, "ids", String::from_utf8(ids).unwrap_or_default());
        if let Some(cursor) = matches.next_cursor {
            set(&result, "nextCursor", cursor);
        }
        Ok(result.unchecked_into())
    }

    /// One model of one entity as a query item shows it (`{ entityId, models: { ns: { Model }
    /// } }`, merged with pending writes unless `"synced"`); `undefined` when not held.
    #[wasm_bindgen(js_name = entityModel)]
    pub fn entity_model(
        &self,
        #[wasm_bindgen(js_name = entityId)] entity_id: &str,
        model: &str,
        #[wasm_bindgen(js_name = consistency)] consistency_: Option<ConsistencyJs>,
    ) -> Result<Option<SdkEntityJs>, JsValue> {
        let id = parse_entity_id(entity_id)?;
        let consistency = consistency(consistency_)?;
        Ok(self
            .model
            .shown(&id, model, consistency)
            .map(|state| entity_js(&id, [&state]).unchecked_into()))
    }

    /// Shows an optimistic write at once (core `Overlay`); confirmed by its guard (default:
    /// the synced state has the payload's values), rolled back after its timeout.
    #[wasm_bindgen(js_name = submitOverlay)]
    pub fn submit_overlay(
        &mut self,
        submission: OverlaySubmissionJs,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<OverlaySubmittedJs, JsValue> {
        let now = millis(now_ms);
        let submission: &JsValue = submission.as_ref();
        let text = |key: &str| get(submission, key).as_string();
        let entity_id = text("entityId")
            .ok_or_else(|| ErrorInfo::validation("submitOverlay needs entityId (0x hex)"))?;
        let entity = parse_entity_id(&entity_id)?;
        let model = text("model")
            .ok_or_else(|| ErrorInfo::validation("submitOverlay needs model (a model tag)"))?;
        let shape = self
            .model
            .write_shape(&model)
            .map_err(|e| ErrorInfo::validation(e.to_string()).with("model", &model))?;
        let payload = parse_payload(&model, shape, &get(submission, "payload"))?;
        let guard = get(submission, "guard");
        let guard: Option<Box<dyn Guard>> = if guard.is_undefined() || guard.is_null() {
            None
        } else {
            let function = guard
                .dyn_into::<js_sys::Function>()
                .map_err(|_| ErrorInfo::validation("guard must be a function"))?;
            Some(Box::new(FunctionGuard { function }))
        };
        let timeout_ms = number_option(submission, "timeoutMs")?;
        let transaction_id = match get(submission, "transactionId") {
            id if id.is_undefined() || id.is_null() => self.model.fresh_transaction_id(),
            id => id
                .as_string()
                .ok_or_else(|| ErrorInfo::validation("transactionId must be a string"))?,
        };
        self.model
            .submit(
                OverlaySubmission {
                    entity_id: entity,
                    model,
                    payload,
                    transaction_id: transaction_id.clone(),
                    guard,
                    timeout_ms,
                },
                now,
            )
            .map_err(|e| overlay_error(&e))?;
        let result: JsValue = Object::new().into();
        set(&result, "transactionId", transaction_id);
        Ok(result.unchecked_into())
    }

    /// The pending writes on an entity.
    #[wasm_bindgen(js_name = overlayFor)]
    pub fn overlay_for(
        &self,
        #[wasm_bindgen(js_name = entityId)] entity_id: &str,
    ) -> Result<OverlayEntryInfoListJs, JsValue> {
        let id = parse_entity_id(entity_id)?;
        let list: Array = self
            .model
            .overlay_for(&id)
            .map(|entry| {
                let info: JsValue = Object::new().into();
                set(&info, "transactionId", entry.transaction_id.as_str());
                set(&info, "entityId", entry.entity_id.to_hex());
                set(&info, "model", entry.model.as_str());
                set(&info, "payload", members_js(&entry.payload));
                set(&info, "submittedAtMs", entry.submitted_at_ms as f64);
                set(&info, "deadlineMs", entry.deadline_ms as f64);
                set(&info, "guard", entry.guard_description());
                info
            })
            .collect();
        Ok(list.unchecked_into())
    }

    /// Confirms a write by hand (its transaction settled); it is dropped.
    #[wasm_bindgen(js_name = ackOverlay)]
    pub fn ack_overlay(
        &mut self,
        #[wasm_bindgen(js_name = transactionId)] transaction_id: &str,
    ) -> Result<(), JsValue> {
        self.model
            .ack(transaction_id)
            .map_err(|e| overlay_error(&e).into())
    }

    /// Rolls a write back by hand; reads show the synced state again.
    #[wasm_bindgen(js_name = rollbackOverlay)]
    pub fn rollback_overlay(
        &mut self,
        #[wasm_bindgen(js_name = transactionId)] transaction_id: &str,
    ) -> Result<(), JsValue> {
        self.model
            .rollback(transaction_id)
            .map_err(|e| overlay_error(&e).into())
    }

    /// Runs guards and timeouts; returns what happened (with confirmations found by
    /// `applyDelta`) and the ids of entities whose merged state changed.
    pub fn poll(&mut self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> PollResultJs {
        let polled = self.model.poll(millis(now_ms));
        let infos = Array::new();
        for settled in &polled.events {
            let event = &settled.event;
            let info: JsValue = Object::new().into();
            set(&info, "type", event_kind(event));
            set(&info, "transactionId", event_transaction(event));
            set(&info, "entityId", settled.entity.to_hex());
            set(&info, "model", settled.model.as_str());
            match event {
                OverlayEvent::TimedOut(error) => {
                    set(
                        &info,
                        "error",
                        overlay_timeout(error, &settled.model).to_object(),
                    );
                }
                OverlayEvent::Replaced { by, .. } => set(&info, "by", by.as_str()),
                _ => {}
            }
            infos.push(&info);
        }
        let changed: Array = polled
            .changed
            .iter()
            .map(|id| JsValue::from_str(&id.to_hex()))
            .collect();
        let result: JsValue = Object::new().into();
        set(&result, "events", infos);
        set(&result, "changed", changed);
        result.unchecked_into()
    }

    /// When `poll` next has work (ms, the caller's clock), if anything is pending.
    #[wasm_bindgen(js_name = nextWakeupMs)]
    pub fn next_wakeup_ms(&self) -> Option<f64> {
        self.model.next_wakeup_ms().map(|ms| ms as f64)
    }
}
