//! The main-thread `View`: the JS marshalling of the view model (`dojo_reactive_view`: the
//! replica of synced states fed only by DELTAs, the optimistic overlay merged over it, queries
//! answered from memory). Only the results returned are converted to JS.

use dojo_reactive_core::{
    Guard, Manifest, ManifestError, OverlayEvent, QuerySpec, Struct, TransactionSubmission,
    WriteSubmission,
};
use dojo_reactive_view::model::event_transaction;
use dojo_reactive_view::{Consistency, IndexSpec, Matches, ViewModel, ViewOptions};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{filter_error, overlay_error, overlay_timeout, ErrorInfo};
use crate::json::js_to_json;
use crate::sdk::{
    deltas_js, entity_js, members_js, parse_deltas, parse_entity_id, parse_keys, parse_payload,
};
use crate::types::{
    ConsistencyJs, OverlayEntryInfoListJs, OverlaySubmissionJs, OverlaySubmittedJs, PollResultJs,
    QueryIdsJs, QueryResultJs, QuerySpecJs, SdkEntityJs, TransactionSubmissionJs, ViewOptionsJs,
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
    /// One write of a submission: `{ entityId, model, guard? }` with `payload` (`submitOverlay`)
    /// or `set` and/or `add` (`submitTransaction`, `relative`).
    fn write(
        &self,
        write: &JsValue,
        call: &str,
        relative: bool,
    ) -> Result<WriteSubmission, ErrorInfo> {
        if !write.is_object() {
            return Err(ErrorInfo::validation(format!(
                "{call}: each write must be an object {{ entityId, model, ... }}"
            )));
        }
        let text = |key: &str| get(write, key).as_string();
        let entity_id = text("entityId")
            .ok_or_else(|| ErrorInfo::validation(format!("{call} needs entityId (0x hex)")))?;
        let entity = parse_entity_id(&entity_id)?;
        let model = text("model")
            .ok_or_else(|| ErrorInfo::validation(format!("{call} needs model (a model tag)")))?;
        let shape = self
            .model
            .write_shape(&model)
            .map_err(|e| ErrorInfo::validation(e.to_string()).with("model", &model))?;
        let (payload, deltas) = if relative {
            let given =
                |key: &str| Some(get(write, key)).filter(|v| !v.is_undefined() && !v.is_null());
            let payload = match given("set") {
                Some(set) => parse_payload(&model, shape, &set)?,
                None => Vec::new(),
            };
            let deltas = match given("add") {
                Some(add) => parse_deltas(&model, shape, &add)?,
                None => Vec::new(),
            };
            if let Some(both) = deltas
                .iter()
                .find(|d| payload.iter().any(|m| m.name == *d.name()))
            {
                return Err(ErrorInfo::validation(format!(
                    "{model}.{} is both in set and in add: a write either sets a member or changes it",
                    both.name().as_str()
                ))
                .with("model", &model));
            }
            (payload, deltas)
        } else {
            (
                parse_payload(&model, shape, &get(write, "payload"))?,
                Vec::new(),
            )
        };
        let guard = get(write, "guard");
        let guard: Option<Box<dyn Guard>> = if guard.is_undefined() || guard.is_null() {
            None
        } else {
            let function = guard
                .dyn_into::<js_sys::Function>()
                .map_err(|_| ErrorInfo::validation("guard must be a function"))?;
            Some(Box::new(FunctionGuard { function }))
        };
        Ok(WriteSubmission {
            entity_id: entity,
            model,
            payload,
            deltas,
            guard,
        })
    }

    /// Submits `writes` as one transaction, with the `transactionId` and `timeoutMs` of
    /// `options`.
    fn submit(
        &mut self,
        options: &JsValue,
        writes: Vec<WriteSubmission>,
        now_ms: f64,
    ) -> Result<OverlaySubmittedJs, JsValue> {
        let timeout_ms = number_option(options, "timeoutMs")?;
        let transaction_id = match get(options, "transactionId") {
            id if id.is_undefined() || id.is_null() => self.model.fresh_transaction_id(),
            id => id
                .as_string()
                .ok_or_else(|| ErrorInfo::validation("transactionId must be a string"))?,
        };
        self.model
            .submit_transaction(
                TransactionSubmission {
                    transaction_id: transaction_id.clone(),
                    writes,
                    timeout_ms,
                },
                millis(now_ms),
            )
            .map_err(|e| overlay_error(&e))?;
        let result: JsValue = Object::new().into();
        set(&result, "transactionId", transaction_id);
        Ok(result.unchecked_into())
    }

    /// The entities a query (JS `QuerySpec`) on `model` matches; `None` while no state of the
    /// model arrived and the manifest does not define its types.
    fn matching(
        &mut self,
        model: &str,
        query: &JsValue,
        consistency: Consistency,
    ) -> Result<Option<Matches>, JsValue> {
        let spec = query_spec(model, query)?;
        Ok(self
            .model
            .matching(model, &spec, consistency)
            .map_err(|e| filter_error(model, &e))?)
    }
}

/// The manifest of its JSON text, parsed by `JSON.parse`: serde_json's text parser stays out
/// of the page's module (~8 KB gzip), which reads no other JSON text.
fn manifest_of(text: &str) -> Result<Manifest, ErrorInfo> {
    let json = js_sys::JSON::parse(text).map_err(|error| {
        let reason = error
            .dyn_ref::<js_sys::Error>()
            .map_or_else(|| "JSON.parse failed".to_owned(), |e| e.message().into());
        ErrorInfo::validation(ManifestError::Json(reason).to_string())
    })?;
    let json = js_to_json(&json, "the manifest")?;
    Manifest::from_json(&json).map_err(|e| ErrorInfo::validation(e.to_string()))
}

/// A JS `QuerySpec` on `model` (`undefined` or `null`: every entity).
fn query_spec(model: &str, query: &JsValue) -> Result<QuerySpec, JsValue> {
    if query.is_undefined() || query.is_null() {
        return Ok(QuerySpec::default());
    }
    let json = js_to_json(query, "the query")?;
    Ok(QuerySpec::from_json(&json)
        .map_err(|e| ErrorInfo::validation(format!("query on {model}: {e}")))?)
}

#[wasm_bindgen]
impl View {
    /// A view of the world described by `manifest` (the Dojo manifest JSON text).
    #[wasm_bindgen(constructor)]
    pub fn new(manifest: &str, options: Option<ViewOptionsJs>) -> Result<View, JsValue> {
        crate::panic::install();
        let manifest = manifest_of(manifest)?;
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
    /// announces the restore at each kind's RESTORED and at INIT_ACK). Throws a `ValidationError` for bytes that are
    /// not a segment; nothing of it is applied then.
    pub fn restore(&mut self, delta: Vec<u8>) -> Result<(), JsValue> {
        self.model.restore(delta).map_err(|e| {
            ErrorInfo::validation(format!(
                "a restored DELTA could not be read ({e}); it was ignored"
            ))
            .into()
        })
    }

    /// Decodes one `EVENTS` batch of the worker (a change of an event-log target's log) into
    /// `{ target, snapshot, added, positions, evicted }`: `added` the events (frozen
    /// `EventMessage`s, in the log's order), `positions` each one's place among events of
    /// its second, `evicted` the ids of events that left by retention. Throws a
    /// `ValidationError` for bytes that are not a batch.
    #[wasm_bindgen(js_name = decodeEvents, unchecked_return_type = "DecodedEvents")]
    pub fn decode_events(&self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        let batch = dojo_reactive_view::decode_event_batch(bytes).map_err(|e| {
            ErrorInfo::validation(format!(
                "an EVENTS batch could not be decoded ({e}); it was ignored"
            ))
        })?;
        let out = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| {
            let _ = js_sys::Reflect::set(&out, &JsValue::from_str(key), value);
        };
        set("target", &JsValue::from_str(&batch.target));
        set("snapshot", &JsValue::from_bool(batch.snapshot));
        let added: js_sys::Array = batch.added.iter().map(crate::sdk::event_js).collect();
        let positions: js_sys::Array = batch
            .added
            .iter()
            .map(|e| JsValue::from_f64(e.position as f64))
            .collect();
        let evicted: js_sys::Array = batch
            .evicted
            .iter()
            .map(|identity| JsValue::from_str(&identity.key()))
            .collect();
        set("added", &added);
        set("positions", &positions);
        set("evicted", &evicted);
        Ok(out.into())
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
                Some(if matches.query.select.is_all() {
                    entity_js(id, [&state])
                } else {
                    entity_js(id, [&matches.query.select.apply(&state)])
                })
            })
            .collect();
        set(&result, "items", items);
        if let Some(cursor) = matches.next_cursor {
            set(&result, "nextCursor", cursor);
        }
        Ok(result.unchecked_into())
    }

    /// How many entities a query on `model` matches (its `limit`, `cursor` and `orderBy`
    /// aside), without building them; 0 while no state of the model arrived and the manifest
    /// does not define its types. Throws like `query`.
    pub fn count(
        &self,
        model: &str,
        query: QuerySpecJs,
        #[wasm_bindgen(js_name = consistency)] consistency_: Option<ConsistencyJs>,
    ) -> Result<u32, JsValue> {
        let consistency = consistency(consistency_)?;
        let spec = query_spec(model, query.as_ref())?;
        let count = self
            .model
            .count(model, &spec, consistency)
            .map_err(|e| filter_error(model, &e))?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Declares an ordered index on one or two members of `model` (dotted paths of number or
    /// `ByteArray` members, most significant first): queries whose conditions bound its first
    /// member, or both, then read only the entities in that range or region. Throws a
    /// `ValidationError` for a model the manifest does not name, no member or more than two, or
    /// a member the model lacks or that has no order.
    #[wasm_bindgen(js_name = declareIndex)]
    pub fn declare_index(&mut self, model: &str, members: Vec<String>) -> Result<(), JsValue> {
        self.model
            .declare_index(IndexSpec {
                model: model.to_owned(),
                members,
            })
            .map_err(|e| {
                ErrorInfo::validation(format!("index on {model}: {e}"))
                    .with("model", model)
                    .into()
            })
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

    /// The id of the entity of `model` whose key members are `keys` (`{ member: value }`): the
    /// Poseidon hash of their Cairo serialization, as Dojo and Torii compute it. With
    /// `onlyKeys`, every key member must be given and nothing else (a `ValidationError`
    /// otherwise); without, other members are ignored and `undefined` is returned when a key
    /// is absent (how `mutate` checks a payload's keys against the entity id it writes).
    #[wasm_bindgen(js_name = entityIdOfKeys)]
    pub fn entity_id_of_keys(
        &self,
        model: &str,
        keys: &JsValue,
        #[wasm_bindgen(js_name = onlyKeys)] only_keys: bool,
    ) -> Result<Option<String>, JsValue> {
        let shape = self
            .model
            .write_shape(model)
            .map_err(|e| ErrorInfo::validation(e.to_string()).with("model", model))?;
        Ok(parse_keys(model, shape, keys, only_keys)?
            .map(|felts| dojo_reactive_view::keys::entity_id_of_keys(&felts).to_hex()))
    }

    /// Shows an optimistic write on one model at once (core `Overlay`); confirmed by its guard
    /// (default: the synced state has the payload's values), rolled back after its timeout.
    #[wasm_bindgen(js_name = submitOverlay)]
    pub fn submit_overlay(
        &mut self,
        submission: OverlaySubmissionJs,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<OverlaySubmittedJs, JsValue> {
        let submission: &JsValue = submission.as_ref();
        let write = self.write(submission, "submitOverlay", false)?;
        self.submit(submission, vec![write], now_ms)
    }

    /// Shows a transaction's writes (several models and entities; `set` absolute members, `add`
    /// integer members changed by an amount) at once; confirmed and rolled back as one.
    #[wasm_bindgen(js_name = submitTransaction)]
    pub fn submit_transaction(
        &mut self,
        transaction: TransactionSubmissionJs,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> Result<OverlaySubmittedJs, JsValue> {
        let transaction: &JsValue = transaction.as_ref();
        let writes = get(transaction, "writes");
        if !Array::is_array(&writes) {
            return Err(ErrorInfo::validation(
                "submitTransaction needs writes: an array of { entityId, model, set?, add?, guard? }",
            )
            .into());
        }
        let writes = writes.unchecked_into::<Array>();
        let mut parsed = Vec::with_capacity(writes.length() as usize);
        for write in writes.iter() {
            parsed.push(self.write(&write, "submitTransaction", true)?);
        }
        let writes = parsed;
        self.submit(transaction, writes, now_ms)
    }

    /// The unconfirmed writes of pending transactions on an entity.
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
                set(&info, "add", deltas_js(entry.unconfirmed_deltas()));
                set(&info, "submittedAtMs", entry.submitted_at_ms as f64);
                set(&info, "deadlineMs", entry.deadline_ms as f64);
                set(&info, "guard", entry.guard_description());
                info
            })
            .collect();
        Ok(list.unchecked_into())
    }

    /// Confirms a transaction by hand (it settled); all its writes are dropped.
    #[wasm_bindgen(js_name = ackOverlay)]
    pub fn ack_overlay(
        &mut self,
        #[wasm_bindgen(js_name = transactionId)] transaction_id: &str,
    ) -> Result<(), JsValue> {
        self.model
            .ack(transaction_id)
            .map_err(|e| overlay_error(&e).into())
    }

    /// Rolls a transaction back by hand; reads show the synced state again.
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
            let writes: Array = settled
                .writes
                .iter()
                .map(|(entity, model)| {
                    let write: JsValue = Object::new().into();
                    set(&write, "entityId", entity.to_hex());
                    set(&write, "model", model.as_str());
                    write
                })
                .collect();
            set(&info, "writes", writes);
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
