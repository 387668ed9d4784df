//! Helpers shared by the browser tests: the mock-torii they talk to (its URL compiled in by
//! `.ci/test` through `MOCK_TORII_URL`), its control API over the global `fetch` (window or
//! worker), timers, and reading typed errors.

#![allow(dead_code)]

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The mock-torii these tests talk to, fixed when the tests are compiled.
pub const MOCK_TORII_URL: &str = match option_env!("MOCK_TORII_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

fn global_function(name: &str) -> Function {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .expect("a global")
        .dyn_into()
        .expect("a function")
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        global_function("setTimeout")
            .call2(&js_sys::global(), &resolve, &JsValue::from(ms))
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("a timer");
}

async fn fetch(path: &str, body: Option<&str>) -> String {
    let url = format!("{MOCK_TORII_URL}{path}");
    let init = js_sys::Object::new();
    if let Some(body) = body {
        Reflect::set(&init, &"method".into(), &"POST".into()).unwrap();
        Reflect::set(&init, &"body".into(), &body.into()).unwrap();
    }
    let promise: Promise = global_function("fetch")
        .call2(&js_sys::global(), &url.as_str().into(), &init)
        .expect("fetch")
        .dyn_into()
        .expect("a promise");
    let response = JsFuture::from(promise).await.expect("the mock answers");
    let ok = Reflect::get(&response, &"ok".into()).unwrap();
    assert_eq!(ok, JsValue::TRUE, "{path} failed");
    let text: Function = Reflect::get(&response, &"text".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let promise: Promise = text.call0(&response).unwrap().dyn_into().unwrap();
    JsFuture::from(promise).await.unwrap().as_string().unwrap()
}

/// `GET /_mock/<route>` as JSON.
pub async fn mock_get(route: &str) -> serde_json::Value {
    let text = fetch(&format!("/_mock/{route}"), None).await;
    serde_json::from_str(&text).expect("JSON")
}

/// `POST /_mock/<route>` with a JSON body.
pub async fn mock_post(route: &str, body: &str) -> serde_json::Value {
    let text = fetch(&format!("/_mock/{route}"), Some(body)).await;
    serde_json::from_str(&text).expect("JSON")
}

/// The mock's manifest JSON text.
pub async fn manifest() -> String {
    fetch("/_mock/manifest", None).await
}

/// A property of a JS object.
pub fn prop(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The `name` of a thrown typed error.
pub fn error_name(error: &JsValue) -> String {
    prop(error, "name").as_string().unwrap_or_default()
}

/// A database name no earlier run used.
pub fn fresh_db_name(what: &str) -> String {
    format!(
        "dojo-reactive-test-{what}-{}-{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}
