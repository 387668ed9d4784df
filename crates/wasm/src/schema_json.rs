//! The manifest's models and events described as JSON (`describeModels`): their members' types
//! resolved through the ABIs exactly as the view and the worker resolve them, for the package's
//! type generator (`npx dojo-reactive-types`), which writes TypeScript types from it. One
//! definition of the manifest's types: the generator reads this, never the manifest's Cairo
//! type strings.
//!
//! Shape of a type (`kind` says which):
//!
//! ```text
//! { kind: "primitive", name: "u8" | … | "u256" | "i8" | … | "i128" | "bool" | "felt252"
//!                           | "ClassHash" | "ContractAddress" | "EthAddress" }
//! { kind: "byteArray" }
//! { kind: "struct", name, members: [{ name, key, type }] }
//! { kind: "enum", name, variants: [{ name, type }] }          a unit variant's type is the empty tuple
//! { kind: "tuple", items: [type] }
//! { kind: "array", element: type | null }
//! { kind: "fixedArray", element: type | null, size }
//! ```

use dojo_reactive_core::{Manifest, ManifestError, Ty};
use serde_json::{json, Value as Json};
use wasm_bindgen::prelude::*;

use crate::errors::ErrorInfo;
use crate::json::json_to_js;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A member type as `describeModels` describes it. */
export type TypeDescription =
  | { kind: "primitive"; name: string }
  | { kind: "byteArray" }
  | { kind: "struct"; name: string; members: MemberDescription[] }
  | { kind: "enum"; name: string; variants: { name: string; type: TypeDescription }[] }
  | { kind: "tuple"; items: TypeDescription[] }
  | { kind: "array"; element: TypeDescription | null }
  | { kind: "fixedArray"; element: TypeDescription | null; size: number };

/** A member of a model, an event or a struct. */
export interface MemberDescription { name: string; key: boolean; type: TypeDescription }

/** The models and events of a manifest, in file order. */
export interface ModelDescriptions {
  models: { tag: string; kind: "model" | "event"; members: MemberDescription[] }[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ModelDescriptions`.
    #[wasm_bindgen(typescript_type = "ModelDescriptions")]
    pub type ModelDescriptionsJs;
}

/// A type as JSON (see the module documentation).
pub fn ty_json(ty: &Ty) -> Json {
    match ty {
        Ty::Primitive(p) => json!({ "kind": "primitive", "name": p.name() }),
        Ty::ByteArray => json!({ "kind": "byteArray" }),
        Ty::Struct { name, members } => json!({
            "kind": "struct",
            "name": name,
            "members": members
                .iter()
                .map(|(name, key, ty)| json!({ "name": name, "key": key, "type": ty_json(ty) }))
                .collect::<Vec<_>>(),
        }),
        Ty::Enum { name, options } => json!({
            "kind": "enum",
            "name": name,
            "variants": options
                .iter()
                .map(|(name, ty)| json!({ "name": name, "type": ty_json(ty) }))
                .collect::<Vec<_>>(),
        }),
        Ty::Tuple(items) => {
            json!({ "kind": "tuple", "items": items.iter().map(ty_json).collect::<Vec<_>>() })
        }
        Ty::Array(element) => {
            json!({ "kind": "array", "element": element.as_deref().map(ty_json) })
        }
        Ty::FixedSizeArray { element, size } => json!({
            "kind": "fixedArray",
            "element": element.as_deref().map(ty_json),
            "size": size,
        }),
    }
}

/// Every model and event of `manifest`, in file order: `{ models: [{ tag, kind: "model" |
/// "event", members: [{ name, key, type }] }] }`, or the first member type that cannot be
/// resolved.
pub fn describe(manifest: &Manifest) -> Result<Json, ManifestError> {
    let entries = manifest
        .models
        .iter()
        .map(|entry| (entry, "model"))
        .chain(manifest.events.iter().map(|entry| (entry, "event")));
    let mut models = Vec::new();
    for (entry, kind) in entries {
        let Ty::Struct { members, .. } = manifest.model_ty(&entry.tag)? else {
            continue;
        };
        models.push(json!({
            "tag": entry.tag,
            "kind": kind,
            "members": members
                .iter()
                .map(|(name, key, ty)| json!({ "name": name, "key": key, "type": ty_json(ty) }))
                .collect::<Vec<_>>(),
        }));
    }
    Ok(json!({ "models": models }))
}

/// The models and events of a manifest (JSON text) with their resolved member types (see the
/// module documentation). Throws a `ValidationError` for a manifest that cannot be read or a
/// member type it does not define.
#[wasm_bindgen(js_name = describeModels)]
pub fn describe_models(manifest: &str) -> Result<ModelDescriptionsJs, JsValue> {
    let described = Manifest::from_json_str(manifest)
        .and_then(|manifest| describe(&manifest))
        .map_err(|e| JsValue::from(ErrorInfo::validation(format!("manifest: {e}"))))?;
    Ok(json_to_js(&described).unchecked_into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_described_with_resolved_types() {
        let manifest = Manifest::from_json(&json!({
            "world": { "class_hash": "0x1" },
            "models": [{ "tag": "ns-Position", "class_hash": "0x2", "members": [
                { "name": "player", "type": "core::starknet::contract_address::ContractAddress", "key": true },
                { "name": "__proto__", "type": "core::integer::u64", "key": false },
                { "name": "dir", "type": "core::option::Option::<core::integer::u8>", "key": false },
            ] }],
        }))
        .expect("manifest");
        let described = describe(&manifest).expect("described");
        let members = &described["models"][0]["members"];
        assert_eq!(described["models"][0]["tag"], "ns-Position");
        assert_eq!(members[0]["key"], true);
        assert_eq!(members[0]["type"]["name"], "ContractAddress");
        assert_eq!(members[1]["name"], "__proto__");
        assert_eq!(
            members[1]["type"],
            json!({ "kind": "primitive", "name": "u64" })
        );
        assert_eq!(members[2]["type"]["kind"], "enum");
        assert_eq!(
            members[2]["type"]["variants"][1]["type"],
            json!({ "kind": "tuple", "items": [] })
        );
    }
}
