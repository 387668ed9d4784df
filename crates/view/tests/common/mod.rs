//! A small world for the view model's tests: two models keyed by `id: u32`, with a `t` member
//! (the Torii time of the state, so a test can tell an older state) and a value `x`; entity ids
//! are the Poseidon hash of the keys, as Torii names them.

#![allow(dead_code)]

use dojo_reactive_core::sync::{ModelKey, ModelRecord, TargetKind};
use dojo_reactive_core::{EntityId, Felt, Manifest, Member, Primitive, Struct, Value};
use dojo_reactive_storage::encode_state_changes;
use dojo_reactive_view::keys::entity_id_of_keys;

/// The models of the world.
pub const MODELS: [&str; 2] = ["ns-Pos", "ns-Hp"];

/// The manifest of the world (every member type resolves, so no shape is learned).
pub fn manifest() -> Manifest {
    let model = |tag: &str, hash: &str| {
        serde_json::json!({ "tag": tag, "class_hash": hash, "selector": hash, "members": [
            { "name": "id", "type": "core::integer::u32", "key": true },
            { "name": "t", "type": "core::integer::u32", "key": false },
            { "name": "x", "type": "core::integer::u32", "key": false }
        ] })
    };
    let json = serde_json::json!({
        "world": { "class_hash": "0x1", "address": "0x2" },
        "models": [model(MODELS[0], "0x10"), model(MODELS[1], "0x11")],
    });
    Manifest::from_json(&json).expect("the test manifest parses")
}

/// The id Torii gives the entity keyed `key`.
pub fn entity(key: u32) -> EntityId {
    entity_id_of_keys(&[Felt::from(u128::from(key))])
}

/// A `u32` member.
pub fn u32_member(name: &str, key: bool, value: u32) -> Member {
    Member {
        name: name.into(),
        key,
        value: Value::Primitive(Primitive::U32(value)),
    }
}

/// The state of `model` for entity `key` written at Torii time `t` (both timestamps) with `x`.
pub fn state(key: u32, model: &str, t: u32, x: u32) -> Struct {
    Struct {
        name: model.into(),
        members: vec![
            u32_member("id", true, key),
            u32_member("t", false, t),
            u32_member("x", false, x),
        ],
    }
}

/// The record Torii would send for [`state`].
pub fn record(key: u32, model: &str, t: u32, x: u32) -> ModelRecord {
    ModelRecord {
        entity: entity(key),
        world_address: Felt::from(2u128),
        state: state(key, model, t, x),
        created_at: 1,
        updated_at: u64::from(t),
        executed_at: u64::from(t),
    }
}

/// The deletion of (entity `key`, `model`).
pub fn deletion(key: u32, model: &str) -> ModelKey {
    ModelKey {
        entity: entity(key),
        model: model.into(),
    }
}

/// One DELTA (or stored segment) of entity changes: the upserts, then the deletions.
pub fn delta(upserts: &[ModelRecord], deletions: &[ModelKey]) -> Vec<u8> {
    encode_state_changes(TargetKind::Entities, upserts, deletions).expect("a DELTA encodes")
}

/// A `u32` member of a state, if it has it.
pub fn member_u32(state: &Struct, name: &str) -> Option<u32> {
    state
        .members
        .iter()
        .find(|m| m.name.as_ref() == name)
        .and_then(|m| match m.value {
            Value::Primitive(Primitive::U32(v)) => Some(v),
            _ => None,
        })
}
