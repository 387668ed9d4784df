//! The wasm-bindgen facade of dojo-reactive, one module loaded twice: in the dedicated sync
//! worker ([`SyncWorker`]: transport, synchronizers, IndexedDB, DELTA batches out) and on the
//! main thread ([`View`]: the JS marshalling of the view model of `dojo_reactive_view`, the
//! replica fed by DELTAs, the optimistic overlay, queries). The contract with the `js/` package
//! is `API.md` beside this crate; the TypeScript types of every export are in [`types`].
//!
//! Browser-only parts (the worker, its clock) are compiled for `wasm32` only; the rest builds
//! and is unit-tested natively.

#![warn(missing_docs)]

pub mod adapter;
pub mod config;
pub mod deploy;
pub mod errors;
pub mod json;
pub mod manifest;
pub mod messages;
pub mod panic;
pub mod schema_json;
pub mod sdk;
pub mod types;
mod unpersisted;
pub mod version_gate;
pub mod view;
pub mod world_check;

#[cfg(target_arch = "wasm32")]
mod clock;
#[cfg(target_arch = "wasm32")]
mod leadership;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use clock::BrowserClock;
pub use dojo_reactive_view::delta;
pub use panic::take_panic_message;
pub use view::View;
#[cfg(target_arch = "wasm32")]
pub use worker::{delete_database, SyncWorker};

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
            "worldAddress {world_address:?} is not a 0x-prefixed felt: {e}"
        ))
    })?;
    Ok(dojo_reactive_storage::default_db_name(torii_url, &world))
}
