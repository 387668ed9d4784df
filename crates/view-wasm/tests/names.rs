//! Names that are special in JavaScript (`__proto__`, `constructor`, `prototype`) as namespaces,
//! models and members, in headless Chromium: the view's entities hold them as own properties,
//! queries and optimistic writes use them, and no prototype or global changes.
//!
//! `cargo test -p dojo-reactive-view-wasm --target wasm32-unknown-unknown --test names` (no mock
//! needed: the manifest is written here).

#![cfg(target_arch = "wasm32")]

#[path = "../../wasm/tests/common/mod.rs"]
mod common;

use common::prop;
use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{Felt, Member, Primitive, Struct, Value};
use dojo_reactive_view_wasm::delta::encode_deltas;
use dojo_reactive_view_wasm::View;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ADDRESS: &str = "core::starknet::contract_address::ContractAddress";

/// Three models named like `Object.prototype`'s properties, the nested struct from an ABI.
fn manifest() -> String {
    serde_json::json!({
        "world": { "class_hash": "0x1" },
        "models": [
            { "tag": "__proto__-isAdmin", "class_hash": "0x2", "members": [
                { "name": "player", "type": ADDRESS, "key": true },
                { "name": "__proto__", "type": "core::integer::u32", "key": false },
                { "name": "constructor", "type": "hostile::Inner", "key": false },
                { "name": "prototype", "type": "core::bool", "key": false } ] },
            { "tag": "constructor-assign", "class_hash": "0x3", "members": [
                { "name": "player", "type": ADDRESS, "key": true },
                { "name": "prototype", "type": "core::integer::u64", "key": false },
                { "name": "__proto__", "type": "core::byte_array::ByteArray", "key": false } ] },
            { "tag": "prototype-__proto__", "class_hash": "0x4", "members": [
                { "name": "constructor", "type": ADDRESS, "key": true },
                { "name": "prototype", "type": "core::integer::u32", "key": false } ] }
        ],
        "abis": [ { "type": "struct", "name": "hostile::Inner", "members": [
            { "name": "__proto__", "type": "core::integer::u32" },
            { "name": "prototype", "type": "core::integer::u32" } ] } ]
    })
    .to_string()
}

fn member(name: &str, key: bool, value: Value) -> Member {
    Member {
        name: name.into(),
        key,
        value,
    }
}

fn u32_(v: u32) -> Value {
    Value::Primitive(Primitive::U32(v))
}

fn record(i: u32, tag: &str, members: Vec<Member>) -> ModelRecord {
    ModelRecord {
        entity: Felt::from(0x100 + u128::from(i)),
        world_address: Felt::from(7u128),
        state: Struct {
            name: tag.into(),
            members,
        },
        created_at: 1,
        updated_at: 2,
        executed_at: 3,
    }
}

/// Entity `i` holds all three models; `__proto__` of `__proto__-isAdmin` is `i`.
fn records(i: u32) -> Vec<ModelRecord> {
    let address = Value::Primitive(Primitive::ContractAddress(Felt::from(
        0x100 + u128::from(i),
    )));
    let inner = Value::Struct(Struct {
        name: "Inner".into(),
        members: vec![
            member("__proto__", false, u32_(10 + i)),
            member("prototype", false, u32_(20 + i)),
        ],
    });
    vec![
        record(
            i,
            "__proto__-isAdmin",
            vec![
                member("player", true, address.clone()),
                member("__proto__", false, u32_(i)),
                member("constructor", false, inner),
                member("prototype", false, Value::Primitive(Primitive::Bool(true))),
            ],
        ),
        record(
            i,
            "constructor-assign",
            vec![
                member("player", true, address.clone()),
                member("prototype", false, Value::Primitive(Primitive::U64(5))),
                member("__proto__", false, Value::ByteArray(format!("text {i}"))),
            ],
        ),
        record(
            i,
            "prototype-__proto__",
            vec![
                member("constructor", true, address),
                member("prototype", false, u32_(30 + i)),
            ],
        ),
    ]
}

fn view() -> View {
    let mut view = View::new(&manifest(), None).expect("a view");
    let all: Vec<ModelRecord> = (0..4).flat_map(records).collect();
    for delta in encode_deltas(TargetKind::Entities, &all, &[], 7).unwrap() {
        view.apply_delta(&delta).expect("a valid delta");
    }
    view
}

/// A JS function of `args` with `body`, called with `values`.
fn js(args: &str, body: &str, values: &[JsValue]) -> JsValue {
    let function = Function::new_with_args(args, body);
    let list: Array = values.iter().collect();
    function
        .apply(&JsValue::UNDEFINED, &list)
        .expect("the check runs")
}

/// What a hostile name could have changed: `Object.prototype`'s and `Object`'s own names,
/// `Object.assign`, and what a fresh object inherits.
fn globals() -> String {
    js(
        "",
        "return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), \
         Object.getOwnPropertyNames(Object).sort(), String(Object.assign), \
         Object.getPrototypeOf({}) === Object.prototype, ({}).isAdmin, ({}).assign, \
         typeof ({}).constructor, Object.prototype.__proto__]);",
        &[],
    )
    .as_string()
    .unwrap()
}

fn own_keys(value: &JsValue) -> Vec<String> {
    Object::keys(value.unchecked_ref::<Object>())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect()
}

fn is_own(value: &JsValue, key: &str) -> bool {
    js(
        "o, k",
        "return Object.prototype.hasOwnProperty.call(o, k);",
        &[value.clone(), key.into()],
    ) == JsValue::TRUE
}

#[wasm_bindgen_test]
fn entities_hold_special_names_as_own_properties_and_touch_no_global() {
    let before = globals();
    let view = view();
    let id = Felt::from(0x102u128).to_hex();
    let entity: JsValue = view.entity(&id, None).unwrap().expect("held").into();
    assert_eq!(globals(), before, "no prototype or global changed");

    let models = prop(&entity, "models");
    assert_eq!(own_keys(&models), ["__proto__", "constructor", "prototype"]);
    let proto_ns = prop(&models, "__proto__");
    assert!(is_own(&models, "__proto__"));
    let is_admin = prop(&proto_ns, "isAdmin");
    assert_eq!(
        own_keys(&is_admin),
        ["player", "__proto__", "constructor", "prototype"]
    );
    assert_eq!(prop(&is_admin, "__proto__").as_f64(), Some(2.0));
    assert_eq!(prop(&is_admin, "prototype"), JsValue::TRUE);
    let inner = prop(&is_admin, "constructor");
    assert_eq!(prop(&inner, "__proto__").as_f64(), Some(12.0));
    assert_eq!(prop(&inner, "prototype").as_f64(), Some(22.0));
    // The objects stay ordinary: their prototype is Object.prototype.
    assert!(
        js(
            "o",
            "return Object.getPrototypeOf(o) === Object.prototype;",
            std::slice::from_ref(&is_admin)
        ) == JsValue::TRUE
    );

    let assign = prop(&prop(&models, "constructor"), "assign");
    assert_eq!(
        prop(&assign, "__proto__").as_string().as_deref(),
        Some("text 2")
    );
    let proto_model = prop(&prop(&models, "prototype"), "__proto__");
    assert!(is_own(&prop(&models, "prototype"), "__proto__"));
    assert_eq!(prop(&proto_model, "prototype").as_f64(), Some(32.0));
    // Spreading and JSON keep the names as keys.
    let json = js("o", "return JSON.stringify({ ...o });", &[is_admin])
        .as_string()
        .unwrap();
    assert!(json.contains(r#""__proto__":2"#), "{json}");
    assert_eq!(globals(), before);
}

#[wasm_bindgen_test]
fn queries_filter_on_special_member_names() {
    let before = globals();
    let mut view = view();
    let spec = |text: &str| js_sys::JSON::parse(text).unwrap().unchecked_into();
    let result: JsValue = view
        .query(
            "__proto__-isAdmin",
            spec(r#"{"filter": {"where": [{"member": "__proto__", "op": "gte", "value": 2}]}}"#),
            None,
        )
        .unwrap()
        .into();
    let items = Array::from(&prop(&result, "items"));
    assert_eq!(items.length(), 2);
    let nested: JsValue = view
        .query(
            "__proto__-isAdmin",
            spec(
                r#"{"filter": {"where": [{"member": "constructor.prototype", "op": "eq", "value": 21}]}}"#,
            ),
            None,
        )
        .unwrap()
        .into();
    assert_eq!(Array::from(&prop(&nested, "items")).length(), 1);
    let keyed: JsValue = view
        .query(
            "prototype-__proto__",
            spec(&format!(
                r#"{{"filter": {{"keys": {{"constructor": "{}"}}}}}}"#,
                Felt::from(0x103u128).to_hex()
            )),
            None,
        )
        .unwrap()
        .into();
    let items = Array::from(&prop(&keyed, "items"));
    assert_eq!(items.length(), 1);
    assert_eq!(
        prop(&items.get(0), "entityId").as_string(),
        Some(Felt::from(0x103u128).to_hex())
    );
    assert_eq!(globals(), before);
}

#[wasm_bindgen_test]
fn optimistic_writes_take_special_member_names_from_own_properties() {
    let before = globals();
    let mut view = view();
    let id = Felt::from(0x101u128);
    let submission = |payload: JsValue| {
        let object = Object::new();
        Reflect::set(&object, &"entityId".into(), &id.to_hex().into()).unwrap();
        Reflect::set(&object, &"model".into(), &"__proto__-isAdmin".into()).unwrap();
        Reflect::set(&object, &"payload".into(), &payload).unwrap();
        JsValue::from(object).unchecked_into()
    };
    // `{ ["__proto__"]: 40, constructor: {...} }`: own properties, as JSON.parse makes them.
    let payload = js_sys::JSON::parse(
        r#"{"__proto__": 40, "constructor": {"__proto__": 41, "prototype": 42}}"#,
    )
    .unwrap();
    view.submit_overlay(submission(payload), 0.0)
        .expect("the write is accepted");
    let entity: JsValue = view.entity(&id.to_hex(), None).unwrap().unwrap().into();
    let is_admin = prop(&prop(&prop(&entity, "models"), "__proto__"), "isAdmin");
    assert_eq!(prop(&is_admin, "__proto__").as_f64(), Some(40.0));
    assert_eq!(
        prop(&prop(&is_admin, "constructor"), "prototype").as_f64(),
        Some(42.0)
    );
    // A payload without its own `__proto__` does not read Object.prototype as that member: a
    // nested struct missing a member is refused instead.
    let missing = js_sys::JSON::parse(r#"{"constructor": {"prototype": 1}}"#).unwrap();
    let Err(error) = view.submit_overlay(submission(missing), 0.0) else {
        panic!("a payload missing constructor.__proto__ is refused");
    };
    let message = prop(&error, "message").as_string().unwrap_or_default();
    assert!(
        message.contains("constructor.__proto__") && message.contains("got undefined"),
        "{message}"
    );
    assert_eq!(globals(), before);
}

#[wasm_bindgen_test]
fn a_manifest_with_a_name_that_is_not_an_identifier_is_a_validation_error() {
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest()).unwrap();
    manifest["models"][1]["members"][2]["name"] = "not a name".into();
    let Err(error) = View::new(&manifest.to_string(), None) else {
        panic!("the manifest is refused");
    };
    assert_eq!(common::error_name(&error), "ValidationError");
    let message = prop(&error, "message").as_string().unwrap_or_default();
    assert!(
        message.contains("models[1].members[2].name")
            && message.contains("\"not a name\" is not a Cairo identifier"),
        "{message}"
    );
}
