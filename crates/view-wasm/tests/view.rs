//! The main-thread `View` in headless Chromium: DELTAs in, queries with every filter operator,
//! values in the SDK shape, the optimistic overlay (confirm, guard, timeout rollback), and typed
//! errors for bad input. The manifest is mock-torii's (fetched from the running mock).
//!
//! `MOCK_TORII_URL=http://127.0.0.1:PORT cargo test -p dojo-reactive-view-wasm --target
//! wasm32-unknown-unknown --test view` (with a mock running there).

#![cfg(target_arch = "wasm32")]

#[path = "../../wasm/tests/common/mod.rs"]
mod common;

use common::{error_name, manifest, prop};
use dojo_reactive_core::sync::{ModelKey, ModelRecord, TargetKind};
use dojo_reactive_core::{EnumValue, Felt, Member, Primitive, Struct, Value, U256};
use dojo_reactive_view_wasm::delta::encode_deltas;
use dojo_reactive_view_wasm::View;
use js_sys::{Array, Function, Object};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const PLAYER: &str = "arena-Player";

fn member(name: &str, key: bool, value: Value) -> Member {
    Member {
        name: name.into(),
        key,
        value,
    }
}

fn p(primitive: Primitive) -> Value {
    Value::Primitive(primitive)
}

fn address(i: u32) -> Felt {
    Felt::from(0x1000 + u128::from(i))
}

/// A player state: level `i`, gold `i * 10^12`, class Mage for even `i`, Rogue(i) otherwise.
fn player(i: u32, level: u8) -> ModelRecord {
    let class = if i.is_multiple_of(2) {
        EnumValue {
            name: "Class".into(),
            option: 1,
            variant: "Mage".into(),
            value: Box::new(Value::unit()),
        }
    } else {
        EnumValue {
            name: "Class".into(),
            option: 2,
            variant: "Rogue".into(),
            value: Box::new(p(Primitive::U8(i as u8))),
        }
    };
    ModelRecord {
        entity: address(i),
        world_address: Felt::from(7u128),
        state: Struct {
            name: PLAYER.into(),
            members: vec![
                member("player", true, p(Primitive::ContractAddress(address(i)))),
                member("name", false, Value::ByteArray(format!("p{i}"))),
                member("class", false, Value::Enum(class)),
                member("level", false, p(Primitive::U8(level))),
                member(
                    "gold",
                    false,
                    p(Primitive::U64(u64::from(i) * 1_000_000_000_000)),
                ),
                member("mana", false, p(Primitive::U128(u128::MAX - u128::from(i)))),
                member(
                    "score",
                    false,
                    p(Primitive::U256(U256::from(u128::from(i)))),
                ),
                member("debt", false, p(Primitive::I128(-(i128::from(i))))),
                member("alive", false, p(Primitive::Bool(i.is_multiple_of(3)))),
                member("guild", false, p(Primitive::Felt252(Felt::from(0xabcu128)))),
            ],
        },
        created_at: 1,
        updated_at: 2,
        executed_at: 3,
    }
}

/// A view of `n` players: the first half restored (decoded when read), the rest applied.
async fn view_with_players(n: u32) -> View {
    let mut view = View::new(&manifest().await, None).expect("a view");
    let records: Vec<ModelRecord> = (0..n).map(|i| player(i, i as u8)).collect();
    let deltas = encode_deltas(TargetKind::Entities, &records, &[], 7).unwrap();
    let restored = deltas.len() / 2;
    for (i, delta) in deltas.into_iter().enumerate() {
        if i < restored {
            view.restore(delta).expect("a valid segment");
        } else {
            view.apply_delta(&delta).expect("a valid delta");
        }
    }
    view
}

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("JSON")
}

fn query(view: &mut View, spec: &str) -> (Vec<String>, JsValue) {
    let result: JsValue = view
        .query(PLAYER, json(spec).unchecked_into(), None)
        .unwrap_or_else(|e| panic!("query {spec} failed: {:?}", prop(&e, "message")))
        .into();
    let ids = Array::from(&prop(&result, "items"))
        .iter()
        .map(|item| prop(&item, "entityId").as_string().unwrap())
        .collect();
    (ids, result)
}

fn count(view: &mut View, filter: &str) -> usize {
    query(view, &format!(r#"{{"filter": {filter}}}"#)).0.len()
}

fn where_(member: &str, op: &str, value: &str) -> String {
    format!(r#"{{"where": [{{"member": "{member}", "op": "{op}", "value": {value}}}]}}"#)
}

#[wasm_bindgen_test]
async fn every_filter_operator_selects_what_it_should() {
    let mut view = view_with_players(20).await;
    assert_eq!(view.size(), 20);
    assert_eq!(count(&mut view, &where_("level", "eq", "5")), 1);
    assert_eq!(count(&mut view, &where_("level", "neq", "5")), 19);
    assert_eq!(count(&mut view, &where_("level", "gt", "15")), 4);
    assert_eq!(count(&mut view, &where_("level", "gte", "15")), 5);
    assert_eq!(count(&mut view, &where_("level", "lt", "3")), 3);
    assert_eq!(count(&mut view, &where_("level", "lte", "3")), 4);
    assert_eq!(
        count(&mut view, &where_("level", "in", "[1, 2, 3, 200]")),
        3
    );
    // 64-bit and wider operands as decimal strings.
    assert_eq!(
        count(&mut view, &where_("gold", "gte", r#""5000000000000""#)),
        15
    );
    assert_eq!(count(&mut view, &where_("debt", "lt", r#""-17""#)), 2);
    assert_eq!(count(&mut view, &where_("name", "eq", r#""p7""#)), 1);
    assert_eq!(count(&mut view, &where_("class", "eq", r#""Mage""#)), 10);
    assert_eq!(count(&mut view, &where_("alive", "eq", "true")), 7);
    let key = format!(r#"{{"keys": {{"player": "{}"}}}}"#, address(4).to_hex());
    let (ids, _) = query(&mut view, &format!(r#"{{"filter": {key}}}"#));
    assert_eq!(ids, vec![address(4).to_hex()]);
}

#[wasm_bindgen_test]
async fn bigint_operands_and_paging_and_selections_work() {
    let mut view = view_with_players(20).await;
    // A BigInt operand from JS (not representable as JSON).
    let spec = Object::new();
    let filter = json(r#"{"where": [{"member": "gold", "op": "lt", "value": 0}]}"#);
    let predicate = Array::from(&prop(&filter, "where")).get(0);
    js_sys::Reflect::set(
        &predicate,
        &"value".into(),
        &js_sys::BigInt::from(3_000_000_000_000u64).into(),
    )
    .unwrap();
    js_sys::Reflect::set(&spec, &"filter".into(), &filter).unwrap();
    let result: JsValue = view
        .query(PLAYER, JsValue::from(spec).unchecked_into(), None)
        .unwrap()
        .into();
    assert_eq!(Array::from(&prop(&result, "items")).length(), 3);

    // Pages of 6 by ascending id cover everything once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let spec = match &cursor {
            Some(c) => format!(r#"{{"limit": 6, "cursor": "{c}"}}"#),
            None => r#"{"limit": 6}"#.to_owned(),
        };
        let (ids, result) = query(&mut view, &spec);
        assert!(ids.len() <= 6);
        seen.extend(ids);
        match prop(&result, "nextCursor").as_string() {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "ascending, no duplicates");
    assert_eq!(seen.len(), 20);

    let (_, result) = query(
        &mut view,
        r#"{"select": {"include": ["level"]}, "limit": 1}"#,
    );
    let item = Array::from(&prop(&result, "items")).get(0);
    let model = prop(&prop(&prop(&item, "models"), "arena"), "Player");
    assert_eq!(Object::keys(model.unchecked_ref::<Object>()).length(), 1);
    assert_eq!(prop(&model, "level").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
async fn values_take_the_sdk_shape() {
    let view = view_with_players(4).await;
    let entity: JsValue = view
        .entity(&address(3).to_hex(), None)
        .unwrap()
        .expect("held")
        .into();
    assert_eq!(
        prop(&entity, "entityId").as_string(),
        Some(address(3).to_hex())
    );
    let player = prop(&prop(&prop(&entity, "models"), "arena"), "Player");
    assert_eq!(prop(&player, "level").as_f64(), Some(3.0));
    let gold = prop(&player, "gold");
    assert!(gold.is_bigint());
    assert_eq!(
        gold,
        JsValue::from(js_sys::BigInt::from(3_000_000_000_000u64))
    );
    assert_eq!(
        prop(&player, "mana"),
        JsValue::from(js_sys::BigInt::from(u128::MAX - 3))
    );
    assert_eq!(
        prop(&player, "score"),
        JsValue::from(js_sys::BigInt::from(3u64))
    );
    assert_eq!(
        prop(&player, "debt"),
        JsValue::from(js_sys::BigInt::from(-3i64))
    );
    assert_eq!(prop(&player, "alive"), JsValue::TRUE);
    assert_eq!(prop(&player, "name").as_string().as_deref(), Some("p3"));
    assert_eq!(
        prop(&player, "guild").as_string(),
        Some(Felt::from(0xabcu128).to_hex())
    );
    assert_eq!(
        prop(&player, "player").as_string(),
        Some(address(3).to_hex())
    );
    let class = prop(&player, "class");
    assert_eq!(
        prop(&class, "variant").as_string().as_deref(),
        Some("Rogue")
    );
    assert_eq!(prop(&class, "value").as_f64(), Some(3.0));
    let mage = prop(
        &prop(
            &prop(
                &prop(
                    &JsValue::from(view.entity(&address(2).to_hex(), None).unwrap().unwrap()),
                    "models",
                ),
                "arena",
            ),
            "Player",
        ),
        "class",
    );
    assert_eq!(prop(&mage, "variant").as_string().as_deref(), Some("Mage"));
    assert!(
        !js_sys::Reflect::has(&mage, &"value".into()).unwrap(),
        "unit variants have no value"
    );
}

#[wasm_bindgen_test]
async fn deltas_report_only_real_changes_and_deletions() {
    let mut view = view_with_players(3).await;
    let same = encode_deltas(TargetKind::Entities, &[player(1, 1)], &[], 10).unwrap();
    assert!(view.apply_delta(&same[0]).unwrap().is_empty());
    let changed = encode_deltas(TargetKind::Entities, &[player(1, 50)], &[], 10).unwrap();
    assert_eq!(
        view.apply_delta(&changed[0]).unwrap(),
        vec![address(1).to_hex()]
    );
    let gone = ModelKey {
        entity: address(2),
        model: PLAYER.into(),
    };
    let deletion = encode_deltas(TargetKind::Entities, &[], &[gone], 10).unwrap();
    assert_eq!(
        view.apply_delta(&deletion[0]).unwrap(),
        vec![address(2).to_hex()]
    );
    assert!(view.entity(&address(2).to_hex(), None).unwrap().is_none());
    assert_eq!(view.size(), 2);
}

fn submission(entity: Felt, payload: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    js_sys::Reflect::set(&object, &"entityId".into(), &entity.to_hex().into()).unwrap();
    js_sys::Reflect::set(&object, &"model".into(), &PLAYER.into()).unwrap();
    js_sys::Reflect::set(&object, &"payload".into(), &json(payload)).unwrap();
    for (key, value) in extra {
        js_sys::Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

fn level(view: &View, entity: Felt, consistency: &str) -> Option<f64> {
    let entity: JsValue = view
        .entity(
            &entity.to_hex(),
            Some(JsValue::from_str(consistency).unchecked_into()),
        )
        .unwrap()?
        .into();
    prop(
        &prop(&prop(&prop(&entity, "models"), "arena"), "Player"),
        "level",
    )
    .as_f64()
}

fn events(result: &JsValue) -> Vec<(String, String)> {
    Array::from(&prop(result, "events"))
        .iter()
        .map(|e| {
            (
                prop(&e, "type").as_string().unwrap(),
                prop(&e, "transactionId").as_string().unwrap(),
            )
        })
        .collect()
}

#[wasm_bindgen_test]
async fn an_overlay_shows_at_once_and_is_confirmed_by_synced_data() {
    let mut view = view_with_players(3).await;
    let submitted: JsValue = view
        .submit_overlay(
            submission(address(1), r#"{"level": 99}"#, &[]).unchecked_into(),
            1000.0,
        )
        .unwrap()
        .into();
    let tx = prop(&submitted, "transactionId").as_string().unwrap();
    assert_eq!(level(&view, address(1), "overlay"), Some(99.0));
    assert_eq!(level(&view, address(1), "synced"), Some(1.0));
    assert_eq!(
        count(&mut view, &where_("level", "eq", "99")),
        1,
        "queries see the overlay"
    );
    let synced_only: JsValue = view
        .query(
            PLAYER,
            json(r#"{"filter": {"where": [{"member": "level", "op": "eq", "value": 99}]}}"#)
                .unchecked_into(),
            Some(JsValue::from_str("synced").unchecked_into()),
        )
        .unwrap()
        .into();
    assert_eq!(Array::from(&prop(&synced_only, "items")).length(), 0);
    assert_eq!(
        Array::from(&view.overlay_for(&address(1).to_hex()).unwrap().into()).length(),
        1
    );
    assert!(events(&view.poll(1001.0).into()).is_empty());

    let confirm = encode_deltas(TargetKind::Entities, &[player(1, 99)], &[], 10).unwrap();
    view.apply_delta(&confirm[0]).unwrap();
    let result: JsValue = view.poll(1002.0).into();
    assert_eq!(events(&result), vec![("confirmed".to_owned(), tx)]);
    assert_eq!(
        Array::from(&prop(&result, "changed")).get(0).as_string(),
        Some(address(1).to_hex())
    );
    assert_eq!(
        Array::from(&view.overlay_for(&address(1).to_hex()).unwrap().into()).length(),
        0
    );
}

#[wasm_bindgen_test]
async fn an_unconfirmed_overlay_rolls_back_with_a_typed_timeout_error() {
    let mut view = view_with_players(3).await;
    let extra = [
        ("timeoutMs", JsValue::from(500)),
        ("transactionId", JsValue::from("0xt1")),
    ];
    view.submit_overlay(
        submission(address(2), r#"{"level": 42}"#, &extra).unchecked_into(),
        1000.0,
    )
    .unwrap();
    assert_eq!(level(&view, address(2), "overlay"), Some(42.0));
    assert!(view.next_wakeup_ms().is_some());
    assert!(events(&view.poll(1400.0).into()).is_empty());
    let result: JsValue = view.poll(1500.0).into();
    assert_eq!(
        events(&result),
        vec![("timedOut".to_owned(), "0xt1".to_owned())]
    );
    let error = prop(&Array::from(&prop(&result, "events")).get(0), "error");
    assert_eq!(error_name(&error), "OverlayTimeoutError");
    assert_eq!(
        prop(&error, "transactionId").as_string().as_deref(),
        Some("0xt1")
    );
    assert_eq!(
        prop(&error, "entityId").as_string(),
        Some(address(2).to_hex())
    );
    assert_eq!(prop(&error, "model").as_string().as_deref(), Some(PLAYER));
    assert_eq!(
        level(&view, address(2), "overlay"),
        Some(2.0),
        "rolled back"
    );
    assert!(view.next_wakeup_ms().is_none());
}

#[wasm_bindgen_test]
async fn a_guard_function_decides_confirmation() {
    let mut view = view_with_players(3).await;
    let guard = Function::new_with_args("state", "return state !== undefined && state.level >= 7");
    let extra = [("guard", JsValue::from(guard))];
    view.submit_overlay(
        submission(address(0), r#"{"level": 5}"#, &extra).unchecked_into(),
        0.0,
    )
    .unwrap();
    let five = encode_deltas(TargetKind::Entities, &[player(0, 5)], &[], 10).unwrap();
    view.apply_delta(&five[0]).unwrap();
    assert!(
        events(&view.poll(1.0).into()).is_empty(),
        "the guard wants 7"
    );
    let eight = encode_deltas(TargetKind::Entities, &[player(0, 8)], &[], 10).unwrap();
    view.apply_delta(&eight[0]).unwrap();
    let confirmed = events(&view.poll(2.0).into());
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].0, "confirmed");
    // A manual rollback and ack of unknown writes are typed errors.
    let error = view.ack_overlay("nope").expect_err("an error");
    assert_eq!(error_name(&error), "OverlayError");
}

#[wasm_bindgen_test]
async fn bad_input_throws_typed_errors() {
    let mut view = view_with_players(2).await;
    let bad_queries = [
        (
            PLAYER,
            r#"{"filter": {"where": [{"member": "level", "op": "like", "value": 1}]}}"#,
        ),
        (
            PLAYER,
            r#"{"filter": {"where": [{"member": "nope", "op": "eq", "value": 1}]}}"#,
        ),
        (
            PLAYER,
            r#"{"filter": {"where": [{"member": "level", "op": "eq", "value": 300}]}}"#,
        ),
        (
            PLAYER,
            r#"{"filter": {"where": [{"member": "alive", "op": "gt", "value": true}]}}"#,
        ),
        (PLAYER, r#"{"limit": 0}"#),
        (PLAYER, r#"{"cursor": "zz"}"#),
        (PLAYER, r#"{"unknown": 1}"#),
        ("arena-Nope", r#"{}"#),
    ];
    for (model, spec) in bad_queries {
        let error = view
            .query(model, json(spec).unchecked_into(), None)
            .err()
            .expect("an error");
        assert_eq!(error_name(&error), "ValidationError", "{model} {spec}");
        assert!(error.is_instance_of::<js_sys::Error>());
        assert!(!prop(&error, "message").as_string().unwrap().is_empty());
    }
    let error = view
        .query(
            PLAYER,
            json("{}").unchecked_into(),
            Some(JsValue::from_str("eventual").unchecked_into()),
        )
        .err()
        .expect("an error");
    assert_eq!(error_name(&error), "ValidationError");
    assert_eq!(
        error_name(&view.apply_delta(b"garbage").expect_err("an error")),
        "ValidationError"
    );
    assert_eq!(
        error_name(&view.restore(b"garbage".to_vec()).expect_err("an error")),
        "ValidationError"
    );
    assert_eq!(
        error_name(&view.entity("not hex", None).err().expect("an error")),
        "ValidationError"
    );
    for payload in [
        r#"{"nope": 1}"#,
        r#"{"level": 256}"#,
        r#"{"level": "x"}"#,
        r#"{"class": "Bard"}"#,
        "[1]",
    ] {
        let error = view
            .submit_overlay(submission(address(1), payload, &[]).unchecked_into(), 0.0)
            .err()
            .expect("an error");
        assert_eq!(error_name(&error), "ValidationError", "{payload}");
    }
    let error = View::new("{ not a manifest", None).err().expect("refused");
    assert_eq!(error_name(&error), "ValidationError");
    let duplicate = [("transactionId", JsValue::from("same"))];
    view.submit_overlay(
        submission(address(0), r#"{"level": 1}"#, &duplicate).unchecked_into(),
        0.0,
    )
    .unwrap();
    let error = view
        .submit_overlay(
            submission(address(1), r#"{"level": 1}"#, &duplicate).unchecked_into(),
            0.0,
        )
        .err()
        .expect("an error");
    assert_eq!(error_name(&error), "OverlayError");
}

#[wasm_bindgen_test]
async fn a_query_fixing_every_key_looks_the_entity_up_by_its_hashed_keys() {
    let mut view = View::new(&manifest().await, None).expect("a view");
    // Two states with the same key: one under the id Dojo gives it (the Poseidon hash of its
    // keys), one under a synthetic id. The lookup finds only the first; a scan would find both.
    let key = address(4);
    let mut hashed = player(4, 9);
    hashed.entity = dojo_reactive_view::keys::entity_id_of_keys(&[key]);
    let synthetic = player(4, 9);
    let deltas =
        encode_deltas(TargetKind::Entities, &[hashed.clone(), synthetic], &[], 10).unwrap();
    view.restore(deltas[0].clone()).expect("a valid segment");
    let filter = format!(r#"{{"keys": {{"player": "{}"}}}}"#, key.to_hex());
    let (ids, _) = query(&mut view, &format!(r#"{{"filter": {filter}}}"#));
    assert_eq!(ids, vec![hashed.entity.to_hex()]);
    // With a predicate the entity fails, the lookup answers nothing (no scan).
    let failing = format!(
        r#"{{"filter": {{"keys": {{"player": "{}"}}, "where": [{{"member": "level", "op": "gt", "value": 9}}]}}}}"#,
        key.to_hex()
    );
    assert!(query(&mut view, &failing).0.is_empty());
    // Keys no entity is named by: the scan finds states under other ids.
    let other = format!(r#"{{"keys": {{"player": "{}"}}}}"#, address(5).to_hex());
    let more = encode_deltas(TargetKind::Entities, &[player(5, 1)], &[], 10).unwrap();
    view.apply_delta(&more[0]).unwrap();
    let (ids, _) = query(&mut view, &format!(r#"{{"filter": {other}}}"#));
    assert_eq!(ids, vec![address(5).to_hex()]);
}
