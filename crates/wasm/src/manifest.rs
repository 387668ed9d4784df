//! The manifest helpers of the plan's storage API: the canonical manifest hash and the
//! fingerprint stored beside synced data, the same code the worker checks the database with.

use dojo_reactive_core::Manifest;
use wasm_bindgen::prelude::*;

use crate::errors::ErrorInfo;
use crate::json::json_to_js;
use crate::types::ManifestFingerprintJs;

fn parse(manifest: &str) -> Result<Manifest, JsValue> {
    Manifest::from_json_str(manifest)
        .map_err(|e| ErrorInfo::validation(format!("manifest: {e}")).into())
}

/// `manifest-hash:v1:` + the SHA-256 of the manifest's canonical form (class hashes and model
/// member signatures, sorted). Throws a `ValidationError` for a manifest that cannot be read.
#[wasm_bindgen(js_name = computeManifestHash)]
pub fn compute_manifest_hash(manifest: &str) -> Result<String, JsValue> {
    Ok(parse(manifest)?.fingerprint().hash)
}

/// The manifest's fingerprint: its hash, the world class hash and one entry per model and
/// event. Throws a `ValidationError` for a manifest that cannot be read.
#[wasm_bindgen(js_name = buildManifestFingerprint)]
pub fn build_manifest_fingerprint(manifest: &str) -> Result<ManifestFingerprintJs, JsValue> {
    let fingerprint = parse(manifest)?.fingerprint();
    let json = serde_json::to_value(&fingerprint)
        .map_err(|e| JsValue::from(ErrorInfo::validation(format!("manifest: {e}"))))?;
    Ok(json_to_js(&json).unchecked_into())
}
