//! The main-thread `View`: the replica of synced states (fed only by DELTAs), the optimistic
//! overlay merged over it, and queries answered from memory. Only the results returned are
//! converted to JS.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use dojo_reactive_core::{
    EntityId, Guard, Manifest, Overlay, OverlayEvent, OverlaySubmission, Query, QuerySpec, Struct,
    DEFAULT_GUARD_POLL_INTERVAL_MS, DEFAULT_OVERLAY_TIMEOUT_MS,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::delta::decode_delta;
use crate::errors::{filter_error, overlay_error, overlay_timeout, ErrorInfo};
use crate::id_order::IdOrder;
use crate::json::js_to_json;
use crate::keys::entity_id_of_keys;
use crate::replica::{Changed, Replica};
use crate::sdk::{entity_js, members_js, parse_entity_id, parse_payload};
use crate::shapes::Shapes;
use crate::types::{
    ConsistencyJs, OverlayEntryInfoListJs, OverlaySubmissionJs, OverlaySubmittedJs, PollResultJs,
    QueryIdsJs, QueryResultJs, QuerySpecJs, SdkEntityJs, ViewOptionsJs,
};
use dojo_reactive_storage::{scan_state_changes, StateChange};

/// Which state a read shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consistency {
    /// Pending optimistic writes over synced state (the default).
    Overlay,
    /// Synced state only.
    Synced,
}

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
    shapes: Shapes,
    replica: Replica,
    /// Entity ids in order, for queries with a small limit.
    order: IdOrder,
    overlay: Overlay,
    /// Pending writes: transaction id → (entity, model).
    pending: HashMap<String, (EntityId, String)>,
    /// Events found outside `poll` (confirmations while applying DELTAs, replaced writes),
    /// with their entity and model, reported by the next `poll`.
    queued: Vec<(OverlayEvent, EntityId, String)>,
    /// The latest time the caller gave (for guards re-checked in `applyDelta`).
    now_ms: u64,
    next_transaction: u64,
}

fn event_kind(event: &OverlayEvent) -> &'static str {
    match event {
        OverlayEvent::Confirmed { .. } => "confirmed",
        OverlayEvent::TimedOut(_) => "timedOut",
        OverlayEvent::Replaced { .. } => "replaced",
        OverlayEvent::RolledBack { .. } => "rolledBack",
    }
}

fn event_transaction(event: &OverlayEvent) -> &str {
    match event {
        OverlayEvent::Confirmed { transaction_id, .. }
        | OverlayEvent::Replaced { transaction_id, .. }
        | OverlayEvent::RolledBack { transaction_id } => transaction_id,
        OverlayEvent::TimedOut(error) => &error.transaction_id,
    }
}

/// What a query matches.
struct Matches {
    /// The compiled query (its selector prunes what is shown).
    query: Query,
    /// The matching entities, by ascending id.
    ids: Vec<EntityId>,
    /// The next page's cursor, when there are more matches.
    next_cursor: Option<String>,
}

/// A limit under this share of a model's states reads them in id order (see [`IdOrder`]).
const ORDERED_LIMIT_SHARE: usize = 8;

impl View {
    /// The state of (entity, model) a read shows: the pending write over the synced state
    /// unless `Synced`.
    fn shown(
        &self,
        id: &EntityId,
        model: &str,
        consistency: Consistency,
    ) -> Option<Cow<'_, Struct>> {
        let synced = self.replica.state(id, model);
        if consistency == Consistency::Overlay && !self.overlay.is_empty() {
            if let Some(entry) = self.overlay.entry(id, model) {
                return Some(Cow::Owned(entry.apply_to(synced)));
            }
        }
        synced.map(Cow::Borrowed)
    }

    /// The entities a query (JS `QuerySpec`) on `model` matches; `None` while no state of the
    /// model arrived and the manifest does not define its types.
    fn matching(
        &self,
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
        if self.shapes.awaiting(model) {
            return Ok(None);
        }
        let compiled = Query::compile(model, &spec, self.shapes.registry())
            .map_err(|e| filter_error(model, &e))?;
        let overlaid: Vec<(EntityId, Struct)> = match consistency {
            Consistency::Synced => Vec::new(),
            Consistency::Overlay => self
                .pending
                .values()
                .filter(|(_, m)| m == model)
                .filter_map(|(id, m)| {
                    let synced = self.replica.state(id, m);
                    self.overlay.merged(id, m, synced).map(|s| (*id, s))
                })
                .collect(),
        };
        // Every key fixed: the entity id is the keys' hash, so only that entity can match.
        // When no entity has that id the model is scanned (ids that are not their keys' hash,
        // as in synthetic data, are still found).
        let keyed = compiled
            .filter
            .entity_keys()
            .map(|keys| entity_id_of_keys(&keys))
            .and_then(|id| self.replica.state_entry(&id, model));
        let few = compiled.limit.is_some_and(|limit| {
            (limit as usize).saturating_mul(ORDERED_LIMIT_SHARE) < self.replica.len()
        });
        let (hits, next_cursor) = if let Some(entry) = keyed.filter(|_| overlaid.is_empty()) {
            compiled.matching(std::iter::once(entry))
        } else if overlaid.is_empty() && few {
            let order = self.order.ids(model, &self.replica);
            let start = compiled
                .cursor
                .map_or(0, |c| order.partition_point(|id| *id <= c));
            let in_order = order[start..]
                .iter()
                .filter_map(|id| self.replica.state_entry(id, model));
            compiled.matching_in_order(in_order)
        } else {
            let synced: Box<dyn Iterator<Item = (&EntityId, &Struct)>> = match keyed {
                Some(entry) => Box::new(std::iter::once(entry)),
                None => Box::new(self.replica.states(model)),
            };
            let shadowed: HashSet<EntityId> = overlaid.iter().map(|(id, _)| *id).collect();
            compiled.matching(
                synced
                    .filter(|(id, _)| !shadowed.contains(*id))
                    .chain(overlaid.iter().map(|(id, s)| (id, s))),
            )
        };
        Ok(Some(Matches {
            ids: hits.into_iter().map(|(id, _)| *id).collect(),
            next_cursor,
            query: compiled,
        }))
    }

    /// Re-checks the guards of pending writes on synced states that changed.
    fn check_overlay(&mut self, changed: &[Changed]) {
        if self.overlay.is_empty() {
            return;
        }
        for (entity, model) in changed {
            let synced = self.replica.state(entity, model);
            if let Some(event) = self
                .overlay
                .on_synced_change(entity, model, synced, self.now_ms)
            {
                self.settle(event);
            }
        }
    }

    /// Forgets a write the overlay dropped and queues its event for the next `poll`.
    fn settle(&mut self, event: OverlayEvent) {
        if let Some((entity, model)) = self.pending.remove(event_transaction(&event)) {
            self.queued.push((event, entity, model));
        }
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
        let shapes = Shapes::from_manifest(&manifest);
        let (timeout, poll) = match options {
            Some(options) => {
                let options: &JsValue = options.as_ref();
                (
                    number_option(options, "overlayTimeoutMs")?,
                    number_option(options, "overlayPollMs")?,
                )
            }
            None => (None, None),
        };
        Ok(View {
            shapes,
            replica: Replica::new(),
            order: IdOrder::default(),
            overlay: Overlay::new(
                poll.unwrap_or(DEFAULT_GUARD_POLL_INTERVAL_MS),
                timeout.unwrap_or(DEFAULT_OVERLAY_TIMEOUT_MS),
            ),
            pending: HashMap::new(),
            queued: Vec::new(),
            now_ms: 0,
            next_transaction: 1,
        })
    }

    /// Applies one DELTA; returns the ids of entities whose synced state changed.
    #[wasm_bindgen(js_name = applyDelta)]
    pub fn apply_delta(&mut self, delta: &[u8]) -> Result<Vec<String>, JsValue> {
        let (target, changes) = decode_delta(delta).map_err(|e| {
            ErrorInfo::validation(format!(
                "a DELTA could not be decoded ({e}); it was ignored"
            ))
        })?;
        for change in &changes {
            if let StateChange::Upsert(record) = change {
                self.shapes.learn(&record.state);
            }
        }
        let changed = self.replica.apply(target, changes);
        self.order.changed(&changed, &self.replica);
        self.check_overlay(&changed);
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        for (entity, _) in &changed {
            if seen.insert(*entity) {
                ids.push(entity.to_hex());
            }
        }
        Ok(ids)
    }

    /// Applies one DELTA of the persisted state sent before INIT_ACK (a stored segment): its
    /// states are indexed now and decoded when first read, and no ids are returned (the client
    /// announces the restore once, at INIT_ACK). Throws a `ValidationError` for bytes that are
    /// not a segment; nothing of it is applied then.
    pub fn restore(&mut self, delta: Vec<u8>) -> Result<(), JsValue> {
        let (target, changes) = scan_state_changes(delta).map_err(|e| {
            ErrorInfo::validation(format!(
                "a restored DELTA could not be read ({e}); it was ignored"
            ))
        })?;
        // Only the overlay and shapes learned from data look at what a restore changed.
        let overlay_active = !self.overlay.is_empty();
        let shapes = &self.shapes;
        let changed = self.replica.restore(target, changes, |model| {
            overlay_active || shapes.learns(model)
        });
        self.order.clear();
        for (entity, model) in &changed {
            if self.shapes.learns(model) {
                if let Some(state) = self.replica.state(entity, model) {
                    self.shapes.learn(state);
                }
            }
        }
        self.check_overlay(&changed);
        Ok(())
    }

    /// Number of entities held (synced).
    pub fn size(&self) -> u32 {
        u32::try_from(self.replica.len()).unwrap_or(u32::MAX)
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
        let mut states: Vec<Cow<'_, Struct>> = self
            .replica
            .entity(&id)
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        if consistency == Consistency::Overlay && !self.overlay.is_empty() {
            for state in &mut states {
                if let Some(entry) = self.overlay.entry(&id, &state.name) {
                    *state = Cow::Owned(entry.apply_to(Some(state)));
                }
            }
            for entry in self.overlay.entries_for(&id) {
                if self.replica.get(&id, &entry.model).is_none() {
                    states.push(Cow::Owned(entry.apply_to(None)));
                }
            }
        }
        if states.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            entity_js(&id, states.iter().map(AsRef::as_ref)).unchecked_into(),
        ))
    }

    /// Runs a query (core `QuerySpec`) on one model; results by ascending entity id. Throws a
    /// `ValidationError` for an unknown model or an invalid query.
    pub fn query(
        &self,
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
                let state = self.shown(id, model, consistency)?;
                Some(if matches.query.selector.is_all() {
                    entity_js(id, [state.as_ref()])
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
        &self,
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
        let mut ids = String::with_capacity(matches.ids.len() * 67);
        for id in &matches.ids {
            if !ids.is_empty() {
                ids.push(',');
            }
            ids.push_str("0x");
            for byte in id.as_bytes() {
                for digit in [byte >> 4, byte & 0xf] {
                    ids.push(char::from_digit(u32::from(digit), 16).unwrap_or('0'));
                }
            }
        }
        set(&result, "ids", ids);
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
            .shown(&id, model, consistency)
            .map(|state| entity_js(&id, [state.as_ref()]).unchecked_into()))
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
        self.now_ms = self.now_ms.max(now);
        let submission: &JsValue = submission.as_ref();
        let text = |key: &str| get(submission, key).as_string();
        let entity_id = text("entityId")
            .ok_or_else(|| ErrorInfo::validation("submitOverlay needs entityId (0x hex)"))?;
        let entity = parse_entity_id(&entity_id)?;
        let model = text("model")
            .ok_or_else(|| ErrorInfo::validation("submitOverlay needs model (a model tag)"))?;
        let shape = self.shapes.registry().get(&model).ok_or_else(|| {
            let message = if self.shapes.awaiting(&model) {
                format!(
                    "the shape of {model} is not known yet: the manifest does not define its \
                     types and no synced state of it arrived"
                )
            } else {
                format!("unknown model {model:?}: not in the manifest")
            };
            ErrorInfo::validation(message).with("model", &model)
        })?;
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
            id if id.is_undefined() || id.is_null() => {
                let id = format!("overlay-{}", self.next_transaction);
                self.next_transaction += 1;
                id
            }
            id => id
                .as_string()
                .ok_or_else(|| ErrorInfo::validation("transactionId must be a string"))?,
        };
        let synced = self.replica.state(&entity, &model);
        let replaced = self
            .overlay
            .submit(
                OverlaySubmission {
                    entity_id: entity,
                    model: model.clone(),
                    payload,
                    transaction_id: transaction_id.clone(),
                    guard,
                    timeout_ms,
                },
                synced,
                now,
            )
            .map_err(|e| overlay_error(&e))?;
        if let Some(event) = replaced {
            self.settle(event);
        }
        self.pending.insert(transaction_id.clone(), (entity, model));
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
            .overlay
            .entries_for(&id)
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
        self.overlay
            .ack(transaction_id)
            .map_err(|e| overlay_error(&e))?;
        self.pending.remove(transaction_id);
        Ok(())
    }

    /// Rolls a write back by hand; reads show the synced state again.
    #[wasm_bindgen(js_name = rollbackOverlay)]
    pub fn rollback_overlay(
        &mut self,
        #[wasm_bindgen(js_name = transactionId)] transaction_id: &str,
    ) -> Result<(), JsValue> {
        self.overlay
            .rollback(transaction_id)
            .map_err(|e| overlay_error(&e))?;
        self.pending.remove(transaction_id);
        Ok(())
    }

    /// Runs guards and timeouts; returns what happened (with confirmations found by
    /// `applyDelta`) and the ids of entities whose merged state changed.
    pub fn poll(&mut self, #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> PollResultJs {
        let now = millis(now_ms);
        self.now_ms = self.now_ms.max(now);
        let replica = &self.replica;
        let found = self.overlay.poll(now, |id, model| replica.state(id, model));
        for event in found {
            self.settle(event);
        }
        let infos = Array::new();
        let changed = Array::new();
        let mut seen = HashSet::new();
        for (event, entity, model) in std::mem::take(&mut self.queued) {
            let info: JsValue = Object::new().into();
            set(&info, "type", event_kind(&event));
            set(&info, "transactionId", event_transaction(&event));
            set(&info, "entityId", entity.to_hex());
            set(&info, "model", model.as_str());
            match &event {
                OverlayEvent::TimedOut(error) => {
                    set(&info, "error", overlay_timeout(error, &model).to_object());
                }
                OverlayEvent::Replaced { by, .. } => set(&info, "by", by.as_str()),
                _ => {}
            }
            infos.push(&info);
            if seen.insert(entity) {
                changed.push(&JsValue::from_str(&entity.to_hex()));
            }
        }
        let result: JsValue = Object::new().into();
        set(&result, "events", infos);
        set(&result, "changed", changed);
        result.unchecked_into()
    }

    /// When `poll` next has work (ms, the caller's clock), if anything is pending.
    #[wasm_bindgen(js_name = nextWakeupMs)]
    pub fn next_wakeup_ms(&self) -> Option<f64> {
        if !self.queued.is_empty() {
            return Some(self.now_ms as f64);
        }
        self.overlay.next_wakeup_ms().map(|ms| ms as f64)
    }
}
