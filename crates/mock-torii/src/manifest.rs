//! The Dojo-style manifest of the mock world and the `types::Model` descriptions served by
//! `Worlds`; class hashes, selectors and addresses are deterministic.

use dojo_reactive_torii::types;
use serde_json::{json, Value};

use crate::felt::{self, hex64};
use crate::schema::{self, ModelDef};
use crate::world::WorldInfo;

/// The selector of a model: Dojo's `poseidon(bytearray_hash(namespace), bytearray_hash(name))`.
pub fn model_selector(model: &ModelDef) -> [u8; 32] {
    felt::selector(model.namespace, model.name).to_bytes_be()
}

/// The (pseudo) class hash of a model in `world` (it changes with every upgrade of the model).
pub fn model_class_hash(model: &ModelDef, world: &WorldInfo) -> [u8; 32] {
    let upgrades = world.upgraded.get(model.tag).copied().unwrap_or(0);
    felt::derived(&format!("class:{}", model.tag), upgrades).to_bytes_be()
}

/// The (pseudo) contract address of a model in world `world`.
pub fn model_address(model: &ModelDef, world: &WorldInfo) -> [u8; 32] {
    felt::derived(&format!("contract:{}", model.tag), world.seed).to_bytes_be()
}

fn model_json(model: &ModelDef, world: &WorldInfo) -> Value {
    json!({
        "tag": model.tag,
        "class_hash": hex64(&model_class_hash(model, world)),
        "selector": hex64(&model_selector(model)),
        "members": model
            .members
            .iter()
            .map(|m| json!({"name": m.name, "type": m.ty.cairo_name(), "key": m.key}))
            .collect::<Vec<_>>(),
    })
}

/// The manifest: `{"world": {...}, "models": [...], "events": [...]}` (with the
/// `--hostile-names` models when `hostile_names`, the `--messages` model when `messages`).
pub fn manifest(world: &WorldInfo, hostile_names: bool, messages: bool) -> Value {
    let (events, models): (Vec<&ModelDef>, Vec<&ModelDef>) =
        schema::world_models(hostile_names, messages).partition(|m| m.is_event);
    json!({
        "world": {
            "address": hex64(&world.address),
            "class_hash": hex64(&world.class_hash),
            "seed": world.seed_name,
            "name": "Arena (mock-torii)",
        },
        "models": models.into_iter().map(|m| model_json(m, world)).collect::<Vec<_>>(),
        "events": events.into_iter().map(|m| model_json(m, world)).collect::<Vec<_>>(),
    })
}

/// Every model (event model included) as `Worlds` describes it.
pub fn wire_models(world: &WorldInfo, hostile_names: bool, messages: bool) -> Vec<types::Model> {
    schema::world_models(hostile_names, messages)
        .map(|model| {
            let ty = model.as_type();
            let size = ty.felt_size().unwrap_or(0);
            types::Model {
                selector: model_selector(model).to_vec(),
                namespace: model.namespace.to_owned(),
                name: model.name.to_owned(),
                packed_size: size,
                unpacked_size: size,
                class_hash: model_class_hash(model, world).to_vec(),
                layout: serde_json::to_vec(&ty.layout_json()).unwrap_or_default(),
                schema: serde_json::to_vec(&model.schema_json()).unwrap_or_default(),
                contract_address: model_address(model, world).to_vec(),
                use_legacy_store: false,
                world_address: world.address.to_vec(),
            }
        })
        .collect()
}
