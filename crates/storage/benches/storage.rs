//! Browser benchmark of the IndexedDB storage against a plain one-record-per-entity IndexedDB
//! baseline (rexie), in headless Chromium in a dedicated worker (where the sync worker runs).
//!
//! A `harness = false` bench target, run by `bash benches/storage/run.sh` (`cargo bench --target
//! wasm32-unknown-unknown`: wasm-bindgen-test-runner runs its `#[wasm_bindgen_bench]`). Built
//! natively it only says where it runs.

#![cfg_attr(target_arch = "wasm32", no_main)]

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the storage benchmark runs in a browser: bash benches/storage/run.sh");
}

#[cfg(target_arch = "wasm32")]
#[path = "../tests/conformance/mod.rs"]
mod conformance;

#[cfg(target_arch = "wasm32")]
#[path = "storage/indexeddb.rs"]
mod indexeddb;
