//! Strings quoted in messages, without `{:?}`.
//!
//! `<str as Debug>` links char escaping and Unicode's printable and grapheme tables (~6 KB of
//! code and data, 3 KB of it tables gzip cannot shrink) into the page's wasm module, which only
//! needs them to quote names and values in error messages. [`Quoted`] writes what `{:?}` writes
//! for the text such messages hold: the text in double quotes, `"` and `\` escaped, control
//! characters as `\n`, `\r`, `\t`, `\0` or `\u{..}`; other characters as they are (`{:?}` would
//! also escape non-printable Unicode).

use std::fmt::{self, Write};

/// `text` in double quotes with `"`, `\` and control characters escaped, as `{:?}` writes it.
#[derive(Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        f.write_str("\"")?;
        let mut start = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escaped = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                b'\0' => "\\0",
                0..=0x1f | 0x7f => "",
                _ => continue,
            };
            f.write_str(&text[start..at])?;
            start = at + 1;
            if escaped.is_empty() {
                // `\u{1}`, `\u{1f}`: lower-case hex without leading zeros.
                const HEX: &[u8; 16] = b"0123456789abcdef";
                f.write_str("\\u{")?;
                if byte >= 0x10 {
                    f.write_char(char::from(HEX[usize::from(byte >> 4)]))?;
                }
                f.write_char(char::from(HEX[usize::from(byte & 0xf)]))?;
                f.write_str("}")?;
            } else {
                f.write_str(escaped)?;
            }
        }
        f.write_str(&text[start..])?;
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::Quoted;

    #[test]
    fn quotes_as_debug_does() {
        for text in [
            "",
            "arena-Player",
            "say \"hi\"",
            "back\\slash",
            "line\nbreak\r\ttab\0nul",
            "\u{1}\u{1f}\u{7f}",
            "é ü 日本 🎲",
            "'single'",
        ] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"), "{text:?}");
        }
    }
}
