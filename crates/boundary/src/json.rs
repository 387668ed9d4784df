//! JSON-shaped data across the JS boundary: serde JSON to JS values and back, with `BigInt`s
//! from the caller read as decimal strings (what the filter DSL accepts for big integers).

use js_sys::{Array, Object, Reflect};
use serde_json::{Map, Number, Value as Json};
use wasm_bindgen::{JsCast, JsValue};

use crate::errors::ErrorInfo;

/// Deepest nesting accepted from the caller (queries and configs are shallow).
const MAX_DEPTH: usize = 32;

/// A JSON value as a JS value: what `JSON.parse` of its text gives, built directly (the text
/// would need serde_json's writer, which the page's module otherwise does without).
pub fn json_to_js(json: &Json) -> JsValue {
    match json {
        Json::Null => JsValue::NULL,
        Json::Bool(b) => JsValue::from_bool(*b),
        Json::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => JsValue::from_str(s),
        Json::Array(items) => items.iter().map(json_to_js).collect::<Array>().into(),
        Json::Object(map) => {
            let object = Object::new();
            for (key, item) in map {
                let _ = Reflect::set(&object, &JsValue::from_str(key), &json_to_js(item));
            }
            object.into()
        }
    }
}

/// A JS value as JSON: `undefined` and functions are left out of objects (as `JSON.stringify`
/// does), `BigInt`s become decimal strings, non-finite numbers are refused.
pub fn js_to_json(value: &JsValue, what: &str) -> Result<Json, ErrorInfo> {
    convert(value, what, 0)
}

fn convert(value: &JsValue, what: &str, depth: usize) -> Result<Json, ErrorInfo> {
    if depth > MAX_DEPTH {
        return Err(ErrorInfo::validation(format!(
            "{what} is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if value.is_null() || value.is_undefined() {
        return Ok(Json::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Json::Bool(b));
    }
    if let Some(s) = value.as_string() {
        return Ok(Json::String(s));
    }
    if let Some(n) = value.as_f64() {
        return number(n, what);
    }
    if value.is_bigint() {
        let text = value
            .dyn_ref::<js_sys::BigInt>()
            .and_then(|b| b.to_string(10).ok())
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        return Ok(Json::String(text));
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for item in array.iter() {
            items.push(convert(&item, what, depth + 1)?);
        }
        return Ok(Json::Array(items));
    }
    if value.is_object() && !value.is_function() {
        let mut map = Map::new();
        for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
            let Some(name) = key.as_string() else {
                continue;
            };
            let item = Reflect::get(value, &key).unwrap_or(JsValue::UNDEFINED);
            if item.is_undefined() || item.is_function() {
                continue;
            }
            map.insert(name, convert(&item, what, depth + 1)?);
        }
        return Ok(Json::Object(map));
    }
    Err(ErrorInfo::validation(format!(
        "{what} holds a value that is not JSON data (symbol or function)"
    )))
}

fn number(n: f64, what: &str) -> Result<Json, ErrorInfo> {
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
        return Ok(Json::Number(Number::from(n as i64)));
    }
    // Named by hand: formatting an `f64` would link float formatting (~17 KB) into the view.
    let non_finite = if n.is_nan() {
        "NaN"
    } else if n > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    };
    Number::from_f64(n).map(Json::Number).ok_or_else(|| {
        ErrorInfo::validation(format!("{what} holds a non-finite number ({non_finite})"))
    })
}
