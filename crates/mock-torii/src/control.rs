//! The in-process control API: the operations of the HTTP control routes (`/_mock/*`) as
//! methods, so Rust tests can script the world without HTTP. Also owns the state shared by the
//! gRPC service, the streams and the HTTP layers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use dojo_reactive_torii::types::{self, primitive::PrimitiveType as P};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::watch;
use tonic::Code;

use crate::faults::{Faults, MalformedKind};
use crate::felt::{hex64, Bytes32};
use crate::json::{apply_json, parse_felt_text, struct_to_json};
use crate::log::{LogEntry, RequestLog};
use crate::schema::{self, Prim, TypeDef};
use crate::store::{Kind, Store, StoreError, Written};
use crate::subs::Subscriptions;
use crate::wire::{self, Step};
use crate::MockConfig;

/// A control operation that could not be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    /// The request is invalid (HTTP 400).
    BadRequest(String),
    /// The entity or model named does not exist (HTTP 404).
    NotFound(String),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::BadRequest(m) | ControlError::NotFound(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ControlError {}

impl From<StoreError> for ControlError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UnknownEntity(id) => ControlError::NotFound(format!("no entity {id}")),
            StoreError::NoSuchModel(tag) => {
                ControlError::NotFound(format!("the entity has no model {tag}"))
            }
        }
    }
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError::BadRequest(message.into())
}

/// `POST /_mock/updates`: apply `count` scripted updates now.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatesRequest {
    /// How many updates.
    pub count: usize,
    /// Only this model (`arena-Moved` updates event messages); any model of the entity if absent.
    #[serde(default)]
    pub model: Option<String>,
    /// Only these entities (`0x` ids), taken in turn; random entities if empty.
    #[serde(default)]
    pub entity_ids: Vec<String>,
}

/// `POST /_mock/set`: set members of a model of an entity, creating the model (and, with
/// `keys`, the entity) if absent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRequest {
    /// The entity id (`0x` + hex). Optional when `keys` are given.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// The key felts (`0x` hex or decimal); the id is their Poseidon hash.
    #[serde(default)]
    pub keys: Option<Vec<String>>,
    /// The model tag, e.g. `arena-Position`.
    pub model: String,
    /// Member values as in `/_mock/world`; keys may be paths like `vec.x`.
    #[serde(default)]
    pub values: Map<String, Value>,
}

/// State shared by the service, the streams, the HTTP layers and [`Control`].
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: MockConfig,
    pub store: Mutex<Store>,
    pub subs: Subscriptions,
    pub token_subs: crate::token_subs::TokenSubscriptions,
    pub faults: Arc<Faults>,
    pub log: RequestLog,
    pub version: RwLock<String>,
    pub rate: watch::Sender<f64>,
}

impl Shared {
    pub fn new(config: MockConfig) -> Shared {
        Shared {
            store: Mutex::new(
                Store::generate(config.seed, config.entities, config.event_messages)
                    .with_balances(config.seed, config.balances),
            ),
            subs: Subscriptions::new(config.buffer),
            token_subs: crate::token_subs::TokenSubscriptions::new(config.buffer),
            faults: Arc::new(Faults::default()),
            log: RequestLog::default(),
            version: RwLock::new(config.version.clone()),
            rate: watch::channel(0.0).0,
            config,
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn version(&self) -> String {
        self.version
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Broadcasts a committed write (the store lock is held, so streams see commit order).
    pub fn publish(&self, store: &Store, written: &Written) {
        if let Some(record) = store.table(written.kind).get(&written.id) {
            self.subs
                .broadcast(written, record, &store.world.address, self.faults.stalled());
        }
    }
}

/// In-process handle on a running mock: the same operations as the HTTP control API.
#[derive(Clone, Debug)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

fn parse_id(text: &str) -> Result<Bytes32, ControlError> {
    crate::felt::parse_hex32(text).ok_or_else(|| bad(format!("{text:?} is not a 0x hex entity id")))
}

fn table_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Entities => "entities",
        Kind::EventMessages => "event_messages",
    }
}

impl Control {
    /// The version string `GET /` reports.
    pub fn version(&self) -> String {
        self.shared.version()
    }

    /// The Dojo-style manifest of the world (`GET /_mock/manifest`).
    pub fn manifest(&self) -> Value {
        let config = &self.shared.config;
        crate::manifest::manifest(
            &self.shared.store().world,
            config.hostile_names,
            config.messages,
        )
    }

    /// Upgrades a model of the world (`POST /_mock/manifest`, a game deploy): its class hash
    /// changes in the manifest and in `Worlds`; its data stays. Returns the new manifest.
    pub fn upgrade_model(&self, tag: &str) -> Result<Value, ControlError> {
        let (hostile, messages) = (
            self.shared.config.hostile_names,
            self.shared.config.messages,
        );
        if !schema::world_models(hostile, messages).any(|model| model.tag == tag) {
            return Err(ControlError::NotFound(format!("no model {tag}")));
        }
        let mut store = self.shared.store();
        *store.world.upgraded.entry(tag.to_owned()).or_insert(0) += 1;
        Ok(crate::manifest::manifest(&store.world, hostile, messages))
    }

    /// The world address (32 bytes).
    pub fn world_address(&self) -> Bytes32 {
        self.shared.store().world.address
    }

    /// Every entity (or event message) as JSON (`GET /_mock/world`):
    /// `{"entities": [{"entityId", "models": {tag: {member: value}}}]}` in creation order.
    pub fn world(&self, kind: Kind) -> Value {
        let store = self.shared.store();
        let entities: Vec<Value> = store
            .table(kind)
            .in_creation_order()
            .filter(|r| !r.models.is_empty())
            .map(|record| {
                let models: Map<String, Value> = record
                    .models
                    .iter()
                    .map(|m| (m.name.clone(), struct_to_json(m)))
                    .collect();
                json!({"entityId": hex64(&record.id), "models": models})
            })
            .collect();
        json!({ "entities": entities })
    }

    /// Ids (`0x` + 64 hex) of every entity (or event message) that has a model, in creation
    /// order.
    pub fn entity_ids(&self, kind: Kind) -> Vec<String> {
        let store = self.shared.store();
        store
            .table(kind)
            .in_creation_order()
            .filter(|r| !r.models.is_empty())
            .map(|r| hex64(&r.id))
            .collect()
    }

    /// The same as [`Control::world`], serialized (faster for large worlds).
    pub fn world_bytes(&self, kind: Kind) -> Vec<u8> {
        let store = self.shared.store();
        let table = store.table(kind);
        let mut out = Vec::with_capacity(table.live_count() * 600 + 16);
        out.extend_from_slice(b"{\"entities\":[");
        let mut first = true;
        for record in table.in_creation_order().filter(|r| !r.models.is_empty()) {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"{\"entityId\":\"");
            out.extend_from_slice(hex64(&record.id).as_bytes());
            out.extend_from_slice(b"\",\"models\":{");
            for (i, model) in record.models.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Serializing a `Value` into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut out, &model.name);
                out.push(b':');
                let _ = serde_json::to_writer(&mut out, &struct_to_json(model));
            }
            out.extend_from_slice(b"}}");
        }
        out.extend_from_slice(b"]}");
        out
    }

    /// Counts and knobs: `{"version", "worldAddress", "entities", "eventMessages",
    /// "historicalEvents", "subscriptions", "tokenSubscriptions", "sequence", "ratePerSec", "stalled", "delayMs",
    /// "duplicatesPending", "reorderPending"}`.
    pub fn status(&self) -> Value {
        let store = self.shared.store();
        json!({
            "version": self.version(),
            "worldAddress": hex64(&store.world.address),
            "entities": store.entities.live_count(),
            "eventMessages": store.event_messages.live_count(),
            "historicalEvents": store.history.len(),
            "subscriptions": self.shared.subs.count(),
            "tokenSubscriptions": self.shared.token_subs.count(),
            "sequence": store.clock.seq,
            "ratePerSec": *self.shared.rate.borrow(),
            "stalled": self.shared.faults.stalled(),
            "delayMs": self.shared.faults.delay().as_millis() as u64,
            "duplicatesPending": self.shared.faults.pending_duplicates(),
            "reorderPending": self.shared.faults.pending_reorder(),
        })
    }

    /// The number of live subscriptions of every kind (entities, event messages, tokens,
    /// balances).
    pub fn subscription_count(&self) -> usize {
        self.shared.subs.count() + self.shared.token_subs.count()
    }

    /// The request log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.shared.log.entries()
    }

    /// Empties the request log.
    pub fn clear_log(&self) {
        self.shared.log.clear();
    }

    /// Applies scripted updates now and broadcasts them; returns how many were applied.
    pub fn apply_updates(&self, request: &UpdatesRequest) -> Result<usize, ControlError> {
        let model = request.model.as_deref();
        if let Some(tag) = model {
            schema::model(tag).ok_or_else(|| bad(format!("unknown model {tag}")))?;
        }
        let kind = model.map_or(Kind::Entities, Kind::of_model);
        let ids = request
            .entity_ids
            .iter()
            .map(|t| parse_id(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut store = self.shared.store();
        for id in &ids {
            let record = store.table(kind).get(id).ok_or_else(|| {
                ControlError::NotFound(format!("no {} {}", table_name(kind), hex64(id)))
            })?;
            let usable = match model {
                Some(tag) => record.model(tag).is_some(),
                None => !record.models.is_empty(),
            };
            if !usable {
                return Err(ControlError::NotFound(format!(
                    "{} has no model {}",
                    hex64(id),
                    model.unwrap_or("at all")
                )));
            }
        }
        for i in 0..request.count {
            let target = if ids.is_empty() {
                store.pick(kind, model)
            } else {
                let id = ids[i % ids.len()];
                store.model_choice(kind, &id, model).map(|tag| (id, tag))
            };
            let Some((id, tag)) = target else {
                if i == 0 {
                    return Err(ControlError::NotFound(format!(
                        "no {} with model {}",
                        table_name(kind),
                        model.unwrap_or("any")
                    )));
                }
                return Ok(i);
            };
            let written = store.bump(kind, &id, &tag)?;
            self.shared.publish(&store, &written);
        }
        Ok(request.count)
    }

    /// Emits scripted updates continuously at `per_sec` per second (0 stops).
    pub fn set_rate(&self, per_sec: f64) -> Result<(), ControlError> {
        if !(0.0..=1_000_000.0).contains(&per_sec) {
            return Err(bad("perSec must be between 0 and 1000000"));
        }
        self.shared.rate.send_replace(per_sec);
        Ok(())
    }

    /// Sets members of a model of an entity (creating the model, and with `keys` the entity);
    /// broadcasts the change. Returns the entity id.
    pub fn set(&self, request: &SetRequest) -> Result<String, ControlError> {
        let model = schema::model(&request.model)
            .ok_or_else(|| bad(format!("unknown model {}", request.model)))?;
        let kind = Kind::of_model(model.tag);
        let key_members: Vec<&schema::MemberDef> = model.members.iter().filter(|m| m.key).collect();
        let mut store = self.shared.store();
        let id = match (&request.keys, &request.entity_id) {
            (Some(keys), given) => {
                let keys = keys
                    .iter()
                    .map(|k| parse_felt_text(k).ok_or_else(|| bad(format!("{k:?} is not a felt"))))
                    .collect::<Result<Vec<_>, _>>()?;
                if keys.len() != key_members.len() {
                    return Err(bad(format!(
                        "{} has {} key(s), got {}",
                        model.tag,
                        key_members.len(),
                        keys.len()
                    )));
                }
                let id = crate::felt::entity_id(&keys);
                if let Some(given) = given {
                    if parse_id(given)? != id {
                        return Err(bad("entityId is not the Poseidon hash of keys"));
                    }
                }
                store.ensure_record(kind, keys)
            }
            (None, Some(given)) => parse_id(given)?,
            (None, None) => return Err(bad("entityId or keys is required")),
        };
        let record = store.table(kind).get(&id).ok_or_else(|| {
            ControlError::NotFound(format!("no {} {}", table_name(kind), hex64(&id)))
        })?;
        let mut value = match record.model(model.tag) {
            Some(current) => current.clone(),
            None => {
                if record.keys.len() != key_members.len() {
                    return Err(bad(format!(
                        "the entity has {} key(s) but {} has {}",
                        record.keys.len(),
                        model.tag,
                        key_members.len()
                    )));
                }
                let mut fresh = model.default_struct();
                for (def, key) in key_members.iter().zip(&record.keys) {
                    let TypeDef::Primitive(prim) = def.ty else {
                        return Err(bad(format!("key {} is not a primitive", def.name)));
                    };
                    let wire_key = key_primitive(prim, key).ok_or_else(|| {
                        bad(format!(
                            "key {} does not fit a {}",
                            def.name,
                            prim.scalar_name()
                        ))
                    })?;
                    if let Some(slot) =
                        wire::get_mut(&mut fresh, def.name).and_then(wire::as_prim_mut)
                    {
                        *slot = wire_key;
                    }
                }
                fresh
            }
        };
        for (path, json_value) in &request.values {
            set_path(model, &mut value, path, json_value)?;
        }
        let written = store.write(kind, &id, model.tag, Some(value))?;
        self.shared.publish(&store, &written);
        Ok(hex64(&id))
    }

    /// Deletes model `tag` of entity `entity_id`; broadcast as a `Struct` with no children.
    pub fn delete(&self, entity_id: &str, tag: &str) -> Result<(), ControlError> {
        let model = schema::model(tag).ok_or_else(|| bad(format!("unknown model {tag}")))?;
        let id = parse_id(entity_id)?;
        let kind = Kind::of_model(model.tag);
        let mut store = self.shared.store();
        let written = store.write(kind, &id, model.tag, None)?;
        self.shared.publish(&store, &written);
        Ok(())
    }

    /// Stalls (or resumes) every stream: while stalled streams stay open but receive nothing.
    pub fn stall(&self, enabled: bool) {
        self.shared.faults.set_stalled(enabled);
    }

    /// Ends every open subscription stream (entities, event messages, tokens, balances).
    pub fn end_streams(&self) {
        self.shared.subs.end_all();
        self.shared.token_subs.end_all();
    }

    /// Applies `count` scripted token events (ERC20 transfers, and every tenth a HERO mint) and
    /// broadcasts them; returns the number of token and balance changes.
    pub fn apply_token_updates(&self, count: usize) -> usize {
        let mut store = self.shared.store();
        let changes = store.tokens.scripted(count);
        self.shared
            .token_subs
            .broadcast(&changes, self.shared.faults.stalled());
        changes.len()
    }

    /// Sets one balance (`account`, `contract`, `token_id` 0x hex, `amount` a u256 as 0x hex
    /// or decimal) and broadcasts it to the balance subscribers it concerns.
    pub fn set_balance(
        &self,
        account: &str,
        contract: &str,
        token_id: Option<&str>,
        amount: &str,
    ) -> Result<Value, ControlError> {
        let bad = |what: &str, text: &str| {
            ControlError::BadRequest(format!("{what} {text:?} is not a 0x hex or decimal u256"))
        };
        let account = crate::felt::parse_uint32(account).ok_or_else(|| bad("account", account))?;
        let contract =
            crate::felt::parse_uint32(contract).ok_or_else(|| bad("contract", contract))?;
        let token_id = token_id
            .map(|id| crate::felt::parse_uint32(id).ok_or_else(|| bad("tokenId", id)))
            .transpose()?;
        let amount_bytes =
            crate::felt::parse_uint32(amount).ok_or_else(|| bad("amount", amount))?;
        let mut store = self.shared.store();
        let balance = store
            .tokens
            .set_balance(contract, account, token_id, amount_bytes);
        self.shared.token_subs.broadcast(
            &[crate::tokens::TokenChange::Balance(balance)],
            self.shared.faults.stalled(),
        );
        Ok(json!({ "changes": 1 }))
    }

    /// The next `count` gRPC calls fail with `code`.
    pub fn fail(&self, count: u32, code: Code) {
        self.shared.faults.set_fail(count, code);
    }

    /// Delays every gRPC response and streamed message by `delay`.
    pub fn delay(&self, delay: Duration) {
        self.shared.faults.set_delay(delay);
    }

    /// The next `count` gRPC responses (or streamed messages) are broken as `kind` says.
    pub fn malformed(&self, kind: MalformedKind, count: u32) {
        self.shared.faults.set_malformed(kind, count);
    }

    /// The next `count` streamed entity or event-message updates are each sent twice: the copy
    /// right after the original (`lag` 0) or after `lag` later messages of the same stream.
    pub fn duplicate(&self, count: u32, lag: u32) {
        self.shared.faults.set_duplicate(count, lag);
    }

    /// The next `count` streamed entity or event-message updates are held in windows of
    /// `window` messages per stream and sent shuffled (seeded by `seed`).
    pub fn reorder(&self, count: u32, window: u32, seed: u64) {
        self.shared.faults.set_reorder(count, window, seed);
    }

    /// Simulates a Torii restart: a new version string, every stream ends, subscriptions are
    /// forgotten. The world is kept.
    pub fn restart(&self, version: Option<String>) {
        if let Some(version) = version {
            *self
                .shared
                .version
                .write()
                .unwrap_or_else(PoisonError::into_inner) = version;
        }
        self.end_streams();
    }

    /// Regenerates the initial world, clears every fault, the log and the update rate, and ends
    /// every stream (clients must resync against the new world).
    pub fn reset(&self) {
        let config = &self.shared.config;
        let fresh = Store::generate(config.seed, config.entities, config.event_messages)
            .with_balances(config.seed, config.balances);
        *self.shared.store() = fresh;
        self.shared.faults.clear();
        self.shared.log.reset();
        self.shared.rate.send_replace(0.0);
        self.end_streams();
    }
}

/// A key felt as the wire primitive of a key member.
fn key_primitive(prim: Prim, key: &Bytes32) -> Option<P> {
    let small = |limit: u64| -> Option<u64> {
        if key[..24].iter().any(|b| *b != 0) {
            return None;
        }
        let mut low = [0u8; 8];
        low.copy_from_slice(&key[24..]);
        Some(u64::from_be_bytes(low)).filter(|v| *v <= limit)
    };
    match prim {
        Prim::ContractAddress => Some(P::ContractAddress(key.to_vec())),
        Prim::ClassHash => Some(P::ClassHash(key.to_vec())),
        Prim::Felt252 => Some(P::Felt252(key.to_vec())),
        Prim::U8 => small(u64::from(u8::MAX)).map(|v| P::U8(v as u32)),
        Prim::U16 => small(u64::from(u16::MAX)).map(|v| P::U16(v as u32)),
        Prim::U32 => small(u64::from(u32::MAX)).map(|v| P::U32(v as u32)),
        Prim::U64 => small(u64::MAX).map(P::U64),
        Prim::Bool => small(1).map(|v| P::Bool(v == 1)),
        _ => None,
    }
}

/// Sets the value at `path` (`vec.x`, `flags.1`) of a model struct from JSON.
fn set_path(
    model: &schema::ModelDef,
    value: &mut types::Struct,
    path: &str,
    json_value: &Value,
) -> Result<(), ControlError> {
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or_default();
    let member = model
        .member(first)
        .ok_or_else(|| bad(format!("{} has no member {first}", model.tag)))?;
    if member.key {
        return Err(bad(format!("{first} is a key: set keys through \"keys\"")));
    }
    let mut def = &member.ty;
    let mut steps = Vec::new();
    for segment in segments {
        def = match def {
            TypeDef::Struct { members, .. } => {
                steps.push(Step::Member(segment.to_owned()));
                &members
                    .iter()
                    .find(|m| m.name == segment)
                    .ok_or_else(|| bad(format!("{path}: no member {segment}")))?
                    .ty
            }
            TypeDef::Tuple(items) => {
                let i: usize = segment
                    .parse()
                    .map_err(|_| bad(format!("{path}: index expected")))?;
                steps.push(Step::Index(i));
                items
                    .get(i)
                    .ok_or_else(|| bad(format!("{path}: index out of range")))?
            }
            TypeDef::FixedArray(item, _) | TypeDef::Array(item) => {
                let i: usize = segment
                    .parse()
                    .map_err(|_| bad(format!("{path}: index expected")))?;
                steps.push(Step::Index(i));
                item
            }
            _ => return Err(bad(format!("{path}: cannot descend into {segment}"))),
        };
    }
    let slot = wire::get_mut(value, first)
        .ok_or_else(|| bad(format!("{path}: missing in the stored value")))?;
    let target =
        wire::at_path_mut(slot, &steps).ok_or_else(|| bad(format!("{path}: no such element")))?;
    apply_json(target, def, json_value, path).map_err(ControlError::BadRequest)
}
