//! The conformance suite and the IndexedDB-only cases on IndexedDB, in headless Chromium in a
//! dedicated worker: `cargo test -p dojo-reactive-storage --target wasm32-unknown-unknown`
//! (with `CHROMEDRIVER=/usr/bin/chromedriver`).

#![cfg(target_arch = "wasm32")]

mod conformance;
mod idb_suite;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

for_each_case!(conformance_on_idb);
idb_only_cases!();

/// Proves where these tests run: a dedicated worker, as the sync worker will.
#[wasm_bindgen_test::wasm_bindgen_test]
fn runs_in_a_dedicated_worker() {
    let global = js_sys::global();
    let name = js_sys::Reflect::get(&global, &"constructor".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"name".into()))
        .ok()
        .and_then(|n| n.as_string());
    assert_eq!(name.as_deref(), Some("DedicatedWorkerGlobalScope"));
}
