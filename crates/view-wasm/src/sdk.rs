//! Values in the Dojo SDK's JS shape: numbers for integers up to 32 bits, `BigInt` for 64 bits
//! and wider, `0x` hex strings for felts and addresses, strings for `ByteArray`,
//! `{ variant, value? }` for enums, arrays for arrays and tuples, objects for structs. Both ways:
//! core values to JS for reads, JS values (checked against the model's shape) to core values
//! for optimistic writes.
//!
//! Names come from the wire, so every object here is an ordinary object whose properties are
//! own data properties no setter touched ([`set`]): a model, namespace or member called
//! `__proto__`, `constructor` or `prototype` is an own property like any other and reaches no
//! prototype and no global. Reads of a caller's payload take own properties only ([`own`]).
//!
//! Every object and array built here is frozen once filled ([`frozen`]): callers cache and
//! share them (one entity object per change, read by every subscriber), so none of them can
//! change what the others see.

use std::cell::RefCell;
use std::collections::HashMap;

use dojo_reactive_core::{
    Delta, EntityId, EnumValue, Felt, LoggedEvent, Member, Primitive, PrimitiveType, Quoted,
    Struct, Ty, Value, U256,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::errors::ErrorInfo;

/// Most names kept as JS strings (member, model and variant names repeat in every state).
const NAME_CACHE_LIMIT: usize = 4096;

/// A name as a JS string, and whether `Object.prototype` has a property of that name.
#[derive(Clone)]
struct Key {
    text: JsValue,
    inherited: bool,
}

thread_local! {
    static NAMES: RefCell<HashMap<String, Key>> = RefCell::new(HashMap::new());
    /// The prototype of every object built here.
    static OBJECT_PROTOTYPE: Object = Object::get_prototype_of(&Object::new().into());
}

/// A name as a JS key, decoded from UTF-8 (and looked up on `Object.prototype`) once per name.
fn key(name: &str) -> Key {
    NAMES.with(|names| {
        if let Some(key) = names.borrow().get(name) {
            return key.clone();
        }
        let text = JsValue::from_str(name);
        let inherited =
            OBJECT_PROTOTYPE.with(|prototype| Reflect::has(prototype, &text).unwrap_or(true));
        let key = Key { text, inherited };
        let mut names = names.borrow_mut();
        if names.len() < NAME_CACHE_LIMIT {
            names.insert(name.to_owned(), key.clone());
        }
        key
    })
}

/// A name as a JS string.
fn js_name(name: &str) -> JsValue {
    key(name).text
}

/// A property descriptor `{ value, writable, enumerable, configurable }` reused for every
/// definition, and its `"value"` key.
struct Descriptor {
    object: Object,
    value: JsValue,
}

thread_local! {
    /// With no prototype, so nothing a page adds to `Object.prototype` is read as part of it.
    static DESCRIPTOR: Descriptor = {
        let object = Object::create(JsValue::NULL.unchecked_ref());
        for flag in ["writable", "enumerable", "configurable"] {
            let _ = Reflect::set(&object, &JsValue::from_str(flag), &JsValue::TRUE);
        }
        Descriptor {
            object,
            value: JsValue::from_str("value"),
        }
    };
}

/// Defines `key` as an own, enumerable, writable data property of `target` (as an object
/// literal would): no setter runs, whatever the key, so `__proto__` is an ordinary key.
pub fn define(target: &JsValue, key: &JsValue, value: &JsValue) {
    DESCRIPTOR.with(|descriptor| {
        let _ = Reflect::set(&descriptor.object, &descriptor.value, value);
        // Defining a property of a fresh, extensible object cannot fail.
        let _ = Reflect::define_property(target.unchecked_ref::<Object>(), key, &descriptor.object);
    });
}

/// The own property `key` of `object` (undefined when it has none: nothing is read from its
/// prototype chain, so a payload without `__proto__` does not read `Object.prototype`).
pub fn own(object: &JsValue, key: &JsValue) -> JsValue {
    let Some(target) = object.dyn_ref::<Object>() else {
        return JsValue::UNDEFINED;
    };
    match Reflect::get_own_property_descriptor(target, key) {
        Ok(descriptor) if !descriptor.is_undefined() => {
            Reflect::get(object, key).unwrap_or(JsValue::UNDEFINED)
        }
        _ => JsValue::UNDEFINED,
    }
}

/// Gives `target`, a fresh plain object, the own property `name`. A name `Object.prototype`
/// did not have when the name was first seen is assigned, which on such an object creates
/// exactly the own data property defining it would (one call instead of two: building entities
/// costs about a third less); a name it has (`__proto__`, `constructor`, `toString`, anything
/// the page added, read-only ones of a frozen prototype) is defined, so no setter runs and no
/// inherited property is in the way.
fn set(target: &JsValue, name: &str, value: &JsValue) {
    let Key { text, inherited } = key(name);
    if inherited || !Reflect::set(target, &text, value).unwrap_or(false) {
        define(target, &text, value);
    }
}

/// `object` (an object or array filled here), frozen: its properties can no longer be set,
/// added or removed.
fn frozen(object: JsValue) -> JsValue {
    Object::freeze(object.unchecked_ref::<Object>());
    object
}

/// A primitive in the SDK shape.
pub fn primitive_js(primitive: &Primitive) -> JsValue {
    match *primitive {
        Primitive::I8(v) => JsValue::from(v),
        Primitive::I16(v) => JsValue::from(v),
        Primitive::I32(v) => JsValue::from(v),
        Primitive::U8(v) => JsValue::from(v),
        Primitive::U16(v) => JsValue::from(v),
        Primitive::U32(v) => JsValue::from(v),
        Primitive::I64(v) => js_sys::BigInt::from(v).into(),
        Primitive::U64(v) => js_sys::BigInt::from(v).into(),
        Primitive::I128(v) => js_sys::BigInt::from(v).into(),
        Primitive::U128(v) => js_sys::BigInt::from(v).into(),
        Primitive::U256(v) => {
            let hex = JsValue::from_str(&v.to_hex());
            js_sys::BigInt::new(&hex).map_or(hex, JsValue::from)
        }
        Primitive::Bool(v) => JsValue::from_bool(v),
        Primitive::Felt252(_)
        | Primitive::ClassHash(_)
        | Primitive::ContractAddress(_)
        | Primitive::EthAddress(_) => JsValue::from_str(&primitive.hex_text()),
    }
}

/// A value in the SDK shape.
pub fn value_js(value: &Value) -> JsValue {
    match value {
        Value::Primitive(p) => primitive_js(p),
        Value::Struct(s) => members_js(&s.members),
        Value::Enum(e) => {
            let object: JsValue = Object::new().into();
            set(&object, "variant", &js_name(&e.variant));
            if !e.value.is_unit() {
                set(&object, "value", &value_js(&e.value));
            }
            frozen(object)
        }
        Value::Tuple(items) | Value::Array(items) | Value::FixedSizeArray(items) => {
            frozen(items.iter().map(value_js).collect::<Array>().into())
        }
        Value::ByteArray(text) => JsValue::from_str(text),
    }
}

/// Members as an object `{ name: value }`, frozen throughout.
pub fn members_js(members: &[Member]) -> JsValue {
    let object: JsValue = Object::new().into();
    for member in members {
        set(&object, &member.name, &value_js(&member.value));
    }
    frozen(object)
}

/// `(namespace, model name)` of a tag `ns-Model` (split at the first dash; the whole tag under
/// `""` without one). Synced tags follow `dojo_reactive_core::split_tag`'s rule; this only
/// decides where a state is shown.
pub fn split_tag(tag: &str) -> (&str, &str) {
    tag.split_once('-').unwrap_or(("", tag))
}

/// An entity `{ entityId, models: { ns: { Model: members } } }` holding these model states,
/// frozen throughout.
pub fn entity_js<'a>(id: &EntityId, states: impl IntoIterator<Item = &'a Struct>) -> JsValue {
    let entity: JsValue = Object::new().into();
    set(&entity, "entityId", &JsValue::from_str(&id.to_hex()));
    let models: JsValue = Object::new().into();
    // The namespace objects are found here, never read back from `models`.
    let mut namespaces: Vec<(&str, JsValue)> = Vec::new();
    for state in states {
        let (namespace, name) = split_tag(&state.name);
        let ns = match namespaces.iter().find(|(known, _)| *known == namespace) {
            Some((_, ns)) => ns.clone(),
            None => {
                let ns: JsValue = Object::new().into();
                set(&models, namespace, &ns);
                namespaces.push((namespace, ns.clone()));
                ns
            }
        };
        set(&ns, name, &members_js(&state.members));
    }
    for (_, ns) in &namespaces {
        Object::freeze(ns.unchecked_ref::<Object>());
    }
    set(&entity, "models", &frozen(models));
    frozen(entity)
}

/// An event of an event log `{ id, entityId, model, executedAt, createdAt, keys, models }`, frozen
/// throughout: `models` holds the one model state it carried, as an entity's does.
pub fn event_js(event: &LoggedEvent) -> JsValue {
    let object = entity_js(&event.entity(), [&event.state]);
    // `entity_js` froze it: the event is built on a copy of its two properties.
    let out: JsValue = Object::new().into();
    set(&out, "id", &JsValue::from_str(&event.identity.key()));
    set(
        &out,
        "entityId",
        &Reflect::get(&object, &js_name("entityId")).unwrap_or(JsValue::UNDEFINED),
    );
    set(&out, "model", &JsValue::from_str(event.model()));
    set(
        &out,
        "executedAt",
        &JsValue::from_f64(event.executed_at() as f64),
    );
    set(
        &out,
        "createdAt",
        &JsValue::from_f64(event.created_at as f64),
    );
    let keys: Array = event
        .state
        .key_felts()
        .iter()
        .map(|felt| JsValue::from_str(&felt.to_hex()))
        .collect();
    set(&out, "keys", &frozen(keys.into()));
    set(
        &out,
        "models",
        &Reflect::get(&object, &js_name("models")).unwrap_or(JsValue::UNDEFINED),
    );
    frozen(out)
}

/// Parses an entity id (`0x` hex felt).
pub fn parse_entity_id(text: &str) -> Result<EntityId, ErrorInfo> {
    Felt::from_hex(text).map_err(|e| {
        ErrorInfo::validation(format!(
            "entity id {} is not a 0x-prefixed felt: {e}",
            Quoted(&text.chars().take(80).collect::<String>())
        ))
    })
}

/// The members of an optimistic write: each property of `payload` must be a member of the
/// model (`shape`, a [`Ty::Struct`]) and hold a value of its type.
pub fn parse_payload(model: &str, shape: &Ty, payload: &JsValue) -> Result<Vec<Member>, ErrorInfo> {
    let Ty::Struct { members, .. } = shape else {
        return Err(ErrorInfo::validation(format!("{model} is not a model")));
    };
    if !payload.is_object() || Array::is_array(payload) {
        return Err(ErrorInfo::validation(format!(
            "the payload for {model} must be an object {{ member: value }}"
        )));
    }
    let mut out = Vec::new();
    for key in Object::keys(payload.unchecked_ref::<Object>()).iter() {
        let name = key.as_string().unwrap_or_default();
        let Some((_, is_key, ty)) = members.iter().find(|(n, _, _)| *n == name) else {
            return Err(
                ErrorInfo::validation(format!("{model} has no member `{name}`"))
                    .with("model", model),
            );
        };
        let item = own(payload, &key);
        let at = At { model, path: &name };
        out.push(Member {
            name: name.as_str().into(),
            key: *is_key,
            value: parse_value(ty, &item, &at, 0)?,
        });
    }
    Ok(out)
}

/// The relative writes of `add` (`{ member: amount }`, amounts as BigInt, whole numbers or
/// decimal / `0x` hex strings) on `model`: each member must be a non-key integer member
/// (u8-u256, i8-i128).
pub fn parse_deltas(model: &str, shape: &Ty, add: &JsValue) -> Result<Vec<Delta>, ErrorInfo> {
    let Ty::Struct { members, .. } = shape else {
        return Err(ErrorInfo::validation(format!("{model} is not a model")));
    };
    if !add.is_object() || Array::is_array(add) {
        return Err(ErrorInfo::validation(format!(
            "add for {model} must be an object {{ member: amount }}"
        )));
    }
    let mut out = Vec::new();
    for key in Object::keys(add.unchecked_ref::<Object>()).iter() {
        let name = key.as_string().unwrap_or_default();
        let at = At { model, path: &name };
        let item = own(add, &key);
        let Some((_, is_key, ty)) = members.iter().find(|(n, _, _)| *n == name) else {
            return Err(
                ErrorInfo::validation(format!("{model} has no member `{name}`"))
                    .with("model", model),
            );
        };
        let ty = match ty {
            Ty::Primitive(p) if !is_key => *p,
            _ => {
                return Err(at.error(
                    "a non-key integer member (u8-u256, i8-i128) to take a relative write",
                    &item,
                ))
            }
        };
        let amount = js_integer(&item)
            .and_then(|big| big.to_string(10).ok())
            .and_then(|text| text.as_string())
            .ok_or_else(|| at.error("an integer amount (BigInt, whole number or string)", &item))?;
        out.push(Delta::new(name.as_str().into(), ty, &amount).map_err(|e| {
            ErrorInfo::validation(e.to_string())
                .with("model", model)
                .with("member", &name)
        })?);
    }
    Ok(out)
}

/// Relative writes as an object `{ member: amount }` (amounts as BigInt), frozen.
pub fn deltas_js<'a>(deltas: impl IntoIterator<Item = &'a Delta>) -> JsValue {
    let object: JsValue = Object::new().into();
    for delta in deltas {
        let amount = js_sys::BigInt::new(&JsValue::from_str(&delta.amount()))
            .map_or(JsValue::UNDEFINED, JsValue::from);
        set(&object, delta.name().as_str(), &amount);
    }
    frozen(object)
}

/// The Cairo serialization of an entity's keys, read from `keys` (`{ member: value }`, each
/// value as a write takes it) against the model's `shape`: every key member in declaration
/// order. With `only_keys`, a property that is not a key member is refused (a misspelt key
/// would otherwise name another entity); without, other members are skipped and `None` is
/// returned when a key member is absent (a write's payload need not hold the keys).
pub fn parse_keys(
    model: &str,
    shape: &Ty,
    keys: &JsValue,
    only_keys: bool,
) -> Result<Option<Vec<Felt>>, ErrorInfo> {
    let Ty::Struct { members, .. } = shape else {
        return Err(ErrorInfo::validation(format!("{model} is not a model")));
    };
    let names = || {
        members
            .iter()
            .filter(|(_, key, _)| *key)
            .map(|(name, _, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !keys.is_object() || Array::is_array(keys) {
        return Err(ErrorInfo::validation(format!(
            "the keys of {model} must be an object {{ {} }}",
            names()
        ))
        .with("model", model));
    }
    if only_keys {
        for key in Object::keys(keys.unchecked_ref::<Object>()).iter() {
            let name = key.as_string().unwrap_or_default();
            if !members.iter().any(|(n, is_key, _)| *is_key && *n == name) {
                return Err(ErrorInfo::validation(format!(
                    "{model} has no key member `{name}` (its keys: {})",
                    names()
                ))
                .with("model", model)
                .with("member", &name));
            }
        }
    }
    let mut felts = Vec::new();
    for (name, _, ty) in members.iter().filter(|(_, key, _)| *key) {
        let item = own(keys, &JsValue::from_str(name));
        if item.is_undefined() {
            if !only_keys {
                return Ok(None);
            }
            return Err(ErrorInfo::validation(format!(
                "the keys of {model} need `{name}` (its keys: {})",
                names()
            ))
            .with("model", model)
            .with("member", name));
        }
        let at = At { model, path: name };
        parse_value(ty, &item, &at, 0)?.serialize_felts(&mut felts);
    }
    if felts.is_empty() {
        return if only_keys {
            Err(ErrorInfo::validation(format!("{model} has no key members")).with("model", model))
        } else {
            Ok(None)
        };
    }
    Ok(Some(felts))
}

struct At<'a> {
    model: &'a str,
    path: &'a str,
}

impl At<'_> {
    fn error(&self, expected: impl std::fmt::Display, found: &JsValue) -> ErrorInfo {
        let found = found
            .as_string()
            .map(|s| Quoted(&s.chars().take(60).collect::<String>()).to_string())
            .unwrap_or_else(|| found.js_typeof().as_string().unwrap_or_default());
        ErrorInfo::validation(format!(
            "{}.{} must be {expected}, got {found}",
            self.model, self.path
        ))
        .with("model", self.model)
        .with("member", self.path)
    }
}

const MAX_DEPTH: usize = 64;

fn parse_value(ty: &Ty, v: &JsValue, at: &At<'_>, depth: usize) -> Result<Value, ErrorInfo> {
    if depth > MAX_DEPTH {
        return Err(at.error("a value nested less deeply", v));
    }
    match ty {
        Ty::Primitive(p) => parse_primitive(*p, v, at).map(Value::Primitive),
        Ty::ByteArray => v
            .as_string()
            .map(Value::ByteArray)
            .ok_or_else(|| at.error("a string (ByteArray)", v)),
        Ty::Struct { name, members } => {
            if !v.is_object() || Array::is_array(v) {
                return Err(at.error(format!("an object ({name})"), v));
            }
            let mut out = Vec::with_capacity(members.len());
            for (member, key, member_ty) in members {
                let item = own(v, &JsValue::from_str(member));
                let path = format!("{}.{member}", at.path);
                let inner = At {
                    model: at.model,
                    path: &path,
                };
                out.push(Member {
                    name: member.as_str().into(),
                    key: *key,
                    value: parse_value(member_ty, &item, &inner, depth + 1)?,
                });
            }
            Ok(Value::Struct(Struct {
                name: name.as_str().into(),
                members: out,
            }))
        }
        Ty::Enum { name, options } => {
            let (variant, payload) = match v.as_string() {
                Some(variant) => (variant, JsValue::UNDEFINED),
                None if v.is_object() => (
                    own(v, &JsValue::from_str("variant"))
                        .as_string()
                        .ok_or_else(|| at.error(format!("{{ variant }} of {name}"), v))?,
                    own(v, &JsValue::from_str("value")),
                ),
                None => return Err(at.error(format!("a variant of {name}"), v)),
            };
            let Some((option, (_, payload_ty))) =
                options.iter().enumerate().find(|(_, (n, _))| *n == variant)
            else {
                let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
                return Err(at.error(format!("one of {}", names.join(", ")), v));
            };
            let value = if *payload_ty == Ty::unit() && payload.is_undefined() {
                Value::unit()
            } else {
                parse_value(payload_ty, &payload, at, depth + 1)?
            };
            Ok(Value::Enum(EnumValue {
                name: name.as_str().into(),
                option: option as u32,
                variant: variant.as_str().into(),
                value: Box::new(value),
            }))
        }
        Ty::Tuple(types) => {
            let items = array_items(v, at, "an array (tuple)")?;
            if items.len() != types.len() {
                return Err(at.error(format!("a tuple of {} items", types.len()), v));
            }
            parse_items(types, &items, at, depth).map(Value::Tuple)
        }
        Ty::Array(element) => {
            let items = array_items(v, at, "an array")?;
            match element {
                Some(element) => {
                    parse_items(std::slice::from_ref(element), &items, at, depth).map(Value::Array)
                }
                None if items.is_empty() => Ok(Value::Array(Vec::new())),
                None => Err(at.error("an empty array (its element type is unknown)", v)),
            }
        }
        Ty::FixedSizeArray { element, size } => {
            let items = array_items(v, at, "an array")?;
            if items.len() != *size as usize {
                return Err(at.error(format!("an array of {size} items"), v));
            }
            match element {
                Some(element) => parse_items(std::slice::from_ref(element), &items, at, depth)
                    .map(Value::FixedSizeArray),
                None => Ok(Value::FixedSizeArray(Vec::new())),
            }
        }
    }
}

/// `items` parsed in order, item `i` as `types[i]` (a tuple's) or, given one type, every item
/// as it (an array's element). One loop for the three: `collect`ing each into a `Result`
/// instantiated the iterator adapters three times.
fn parse_items(
    types: &[Ty],
    items: &[JsValue],
    at: &At<'_>,
    depth: usize,
) -> Result<Vec<Value>, ErrorInfo> {
    let mut values = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ty = if types.len() == 1 {
            &types[0]
        } else {
            &types[i]
        };
        values.push(parse_value(ty, item, at, depth + 1)?);
    }
    Ok(values)
}

fn array_items(v: &JsValue, at: &At<'_>, expected: &str) -> Result<Vec<JsValue>, ErrorInfo> {
    if !Array::is_array(v) {
        return Err(at.error(expected, v));
    }
    Ok(v.unchecked_ref::<Array>().to_vec())
}

/// The hex digits (no `0x`, no sign) and sign of an integer given as a number, a `BigInt`, or
/// a decimal or `0x` hex string.
/// An integer given as a BigInt, a whole number or a decimal / `0x` hex string.
fn js_integer(v: &JsValue) -> Option<js_sys::BigInt> {
    let ok_kind = v.is_bigint()
        || v.as_string().is_some()
        || v.as_f64()
            .is_some_and(|n| n.fract() == 0.0 && n.is_finite());
    if !ok_kind {
        return None;
    }
    js_sys::BigInt::new(v).ok()
}

fn integer(v: &JsValue) -> Option<(bool, String)> {
    let hex = js_integer(v)?.to_string(16).ok()?.as_string()?;
    match hex.strip_prefix('-') {
        Some(digits) => Some((true, digits.to_owned())),
        None => Some((false, hex)),
    }
}

fn parse_primitive(ty: PrimitiveType, v: &JsValue, at: &At<'_>) -> Result<Primitive, ErrorInfo> {
    if ty == PrimitiveType::Bool {
        return v
            .as_bool()
            .map(Primitive::Bool)
            .ok_or_else(|| at.error("a boolean", v));
    }
    let expected = match ty {
        PrimitiveType::Felt252
        | PrimitiveType::ClassHash
        | PrimitiveType::ContractAddress
        | PrimitiveType::EthAddress => format!("a {} (0x hex string or BigInt)", ty.name()),
        _ => format!("a {} (integer number, BigInt or decimal string)", ty.name()),
    };
    primitive_of(ty, integer(v)).ok_or_else(|| at.error(&expected, v))
}

/// The value of type `ty` of an integer given as its sign and hex digits; `None` when there
/// is none or it does not fit (one error for every case, raised by the caller).
fn primitive_of(ty: PrimitiveType, integer: Option<(bool, String)>) -> Option<Primitive> {
    let (negative, hex) = integer?;
    // The magnitude as a felt's 32 big-endian bytes, read once (BigInt's hex has no leading
    // zeros, so a value of more than 64 digits fits no type); the narrower types read its low
    // 16 bytes.
    let magnitude = if hex.len() <= 64 {
        Felt::from_hex(&format!("0x{hex}")).ok()?
    } else {
        return None;
    };
    let unsigned = || -> Option<u128> {
        let (high, low) = magnitude.0.split_at(16);
        let low: [u8; 16] = low.try_into().ok()?;
        high.iter()
            .all(|b| *b == 0)
            .then(|| u128::from_be_bytes(low))
    };
    let small = || -> Option<i128> {
        let magnitude = i128::try_from(unsigned()?).ok()?;
        Some(if negative { -magnitude } else { magnitude })
    };
    let wide = || (!negative).then_some(magnitude);
    let in_field = || wide().filter(|f| f.0 < dojo_reactive_core::FIELD_PRIME.0);
    Some(match ty {
        PrimitiveType::I8 => Primitive::I8(i8::try_from(small()?).ok()?),
        PrimitiveType::I16 => Primitive::I16(i16::try_from(small()?).ok()?),
        PrimitiveType::I32 => Primitive::I32(i32::try_from(small()?).ok()?),
        PrimitiveType::I64 => Primitive::I64(i64::try_from(small()?).ok()?),
        PrimitiveType::I128 => Primitive::I128(small()?),
        PrimitiveType::U8 => Primitive::U8(u8::try_from(small()?).ok()?),
        PrimitiveType::U16 => Primitive::U16(u16::try_from(small()?).ok()?),
        PrimitiveType::U32 => Primitive::U32(u32::try_from(small()?).ok()?),
        PrimitiveType::U64 => Primitive::U64(u64::try_from(small()?).ok()?),
        PrimitiveType::U128 => Primitive::U128(if negative { None } else { unsigned() }?),
        PrimitiveType::U256 => Primitive::U256(U256(wide()?.0)),
        PrimitiveType::Felt252 => Primitive::Felt252(in_field()?),
        PrimitiveType::ClassHash => Primitive::ClassHash(in_field()?),
        PrimitiveType::ContractAddress => Primitive::ContractAddress(in_field()?),
        PrimitiveType::EthAddress => {
            Primitive::EthAddress(wide().filter(|f| f.0[..12].iter().all(|b| *b == 0))?)
        }
        PrimitiveType::Bool => return None,
    })
}
