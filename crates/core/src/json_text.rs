//! Compact JSON text of a value for error messages, without serde_json's serializer.
//!
//! `Value`'s `Display` (serde_json's writer) links the serializer, its `io::Error` plumbing
//! (which brings `<str as Debug>` and Unicode's printable tables) and `zmij`'s float formatting
//! with its power-of-ten table: ~10 KB of the page's wasm module, used there only to quote a
//! caller's value in a filter error. [`json_text`] writes the same text as `Value::to_string`
//! (compact, strings escaped as serde_json escapes them), except for numbers with a fraction:
//! those are written with at most 15 significant digits ([`float_text`]), which is the same text
//! for every number written with 15 digits or fewer.

use std::fmt::Write;

use serde_json::Value as Json;

/// The compact JSON text of `json`, as `json.to_string()` writes it (see the module).
pub(crate) fn json_text(json: &Json) -> String {
    let mut out = String::new();
    write_json(&mut out, json);
    out
}

fn write_json(out: &mut String, json: &Json) {
    match json {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&number_text(n)),
        Json::String(s) => write_string(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let byte = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The text of a JSON number: integers as serde_json writes them, others by [`float_text`].
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if let Some(v) = n.as_u64() {
        v.to_string()
    } else if let Some(v) = n.as_i64() {
        v.to_string()
    } else {
        float_text(n.as_f64().unwrap_or(0.0))
    }
}

/// A finite `f64` in the form serde_json writes it (`1.5`, `3.0`, `1e+20`, `1.5e-7`), with at
/// most 15 significant digits (whole numbers below 10^16 exactly): `{}` of an `f64` would link float formatting (~17 KB) into the
/// page's module.
pub(crate) fn float_text(x: f64) -> String {
    if !x.is_finite() {
        return "null".to_owned();
    }
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    let mut y = x.abs();
    if y == 0.0 {
        out.push_str("0.0");
        return out;
    }
    if y < 1e16 && y.fract() == 0.0 {
        let _ = write!(out, "{}.0", y as u64);
        return out;
    }
    // y = m × 10^(exp - 14) with m of 15 digits.
    const POWERS: [(f64, i32); 9] = [
        (1e256, 256),
        (1e128, 128),
        (1e64, 64),
        (1e32, 32),
        (1e16, 16),
        (1e8, 8),
        (1e4, 4),
        (1e2, 2),
        (1e1, 1),
    ];
    let mut exp = 0i32;
    for (power, digits) in POWERS {
        if y >= power {
            y /= power;
            exp += digits;
        }
    }
    for (power, digits) in POWERS {
        if y * power < 10.0 {
            y *= power;
            exp -= digits;
        }
    }
    if y < 1.0 {
        y *= 10.0;
        exp -= 1;
    }
    let mut m = (y * 1e14 + 0.5).floor() as u64;
    if m >= 1_000_000_000_000_000 {
        m = (m + 5) / 10;
        exp += 1;
    }
    let mut digits = m.to_string();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let n = digits.len() as i32;
    if (-5..16).contains(&exp) {
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (point - n) as usize));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{exp}", if exp > 0 { "+" } else { "" });
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{float_text, json_text};

    #[test]
    fn writes_what_serde_json_writes() {
        for json in [
            json!(null),
            json!(true),
            json!([1, -2, 18446744073709551615u64, -9223372036854775808i64]),
            json!({"b": [{"c": "x"}], "a": false, "k\"ey": "v\\al"}),
            json!("line\nbreak\r\ttab \u{8}\u{c}\u{1}\u{1f}\u{7f} é 🎲 \"q\""),
            json!([1.5, -0.25, 3.0, 0.1, 100.0, 1e20, 1.5e-7, 0.0001, 123456.789, -0.0]),
            json!([1e300, 2.5e-300, 9007199254740993.0, 1e15, 1e16, 0.3]),
        ] {
            assert_eq!(json_text(&json), json.to_string(), "{json}");
        }
    }

    #[test]
    fn floats_keep_fifteen_digits() {
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(std::f64::consts::PI), "3.14159265358979");
        assert_eq!(float_text(-2.0 / 3.0), "-0.666666666666667");
        assert_eq!(float_text(f64::MAX), "1.79769313486232e+308");
        assert_eq!(float_text(f64::NAN), "null");
    }
}
