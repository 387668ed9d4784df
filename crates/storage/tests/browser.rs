//! The conformance suite and the IndexedDB-only cases on IndexedDB, in headless Chromium on
//! the main thread: `cargo test -p dojo-reactive-storage --target wasm32-unknown-unknown`
//! (with `CHROMEDRIVER=/usr/bin/chromedriver`).

#![cfg(target_arch = "wasm32")]

mod conformance;
mod idb_suite;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

for_each_case!(conformance_on_idb);
idb_only_cases!();

/// Proves where these tests run: the page's main thread.
#[wasm_bindgen_test::wasm_bindgen_test]
fn runs_on_the_main_thread() {
    let global = js_sys::global();
    assert!(js_sys::Reflect::has(&global, &"document".into()).unwrap_or(false));
}
