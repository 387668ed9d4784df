//! The JS boundary both wasm modules of dojo-reactive share (the sync worker's, `crates/wasm`,
//! and the main thread's, `crates/view-wasm`): every failure as a typed `ReactiveErrorInfo`
//! ([`errors`]), JSON-shaped data to JS values and back ([`json`]), the panic hook whose message
//! `takePanicMessage` returns ([`panic`]), and `defaultDbName`. Each module exports the
//! `#[wasm_bindgen]` functions defined here.

#![warn(missing_docs)]

pub mod errors;
pub mod json;
pub mod panic;

use wasm_bindgen::prelude::*;

/// The default database name of a world served by a Torii (what the worker uses without
/// `dbName`). Throws a `ValidationError` for an invalid world address.
#[wasm_bindgen(js_name = defaultDbName)]
pub fn default_db_name(
    #[wasm_bindgen(js_name = toriiUrl)] torii_url: &str,
    #[wasm_bindgen(js_name = worldAddress)] world_address: &str,
) -> Result<String, JsValue> {
    let world = dojo_reactive_core::Felt::from_hex(world_address.trim()).map_err(|e| {
        errors::ErrorInfo::validation(format!(
            "worldAddress {} is not a 0x-prefixed felt: {e}",
            dojo_reactive_core::Quoted(world_address)
        ))
    })?;
    Ok(dojo_reactive_storage::default_db_name(torii_url, &world))
}
