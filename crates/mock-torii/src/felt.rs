//! Felts and 256-bit numbers as the mock handles them: Poseidon hashing (entity ids, selectors,
//! class hashes), hex and decimal text forms, and big-endian byte helpers.

use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Poseidon, StarkHash};

/// A 32-byte big-endian felt or 256-bit number.
pub type Bytes32 = [u8; 32];

/// `poseidon_hash_many(values)`, the hash Dojo and Torii use for entity ids (`hashed_keys`).
pub fn poseidon_many(values: &[Felt]) -> Felt {
    Poseidon::hash_array(values)
}

/// The entity id of a list of key felts: Poseidon hash of the keys, as 32 big-endian bytes.
pub fn entity_id(keys: &[Bytes32]) -> Bytes32 {
    let felts: Vec<Felt> = keys.iter().map(Felt::from_bytes_be).collect();
    poseidon_many(&felts).to_bytes_be()
}

/// The Cairo short string `text` (at most 31 ASCII bytes) as a felt.
pub fn short_string(text: &str) -> Felt {
    let bytes = text.as_bytes();
    let bytes = &bytes[..bytes.len().min(31)];
    Felt::from_bytes_be_slice(bytes)
}

/// The Poseidon hash of a Cairo `ByteArray` serialization of `text`, which is how Dojo hashes
/// namespaces and model names (`[full_words_len, full_words.., pending_word, pending_len]`).
pub fn bytearray_hash(text: &str) -> Felt {
    let bytes = text.as_bytes();
    let full = bytes.len() / 31;
    let mut felts = Vec::with_capacity(full + 3);
    felts.push(Felt::from(full as u64));
    for chunk in bytes.chunks_exact(31) {
        felts.push(Felt::from_bytes_be_slice(chunk));
    }
    let pending = &bytes[full * 31..];
    felts.push(Felt::from_bytes_be_slice(pending));
    felts.push(Felt::from(pending.len() as u64));
    poseidon_many(&felts)
}

/// Dojo's selector of a resource: `poseidon(bytearray_hash(namespace), bytearray_hash(name))`.
pub fn selector(namespace: &str, name: &str) -> Felt {
    poseidon_many(&[bytearray_hash(namespace), bytearray_hash(name)])
}

/// A deterministic pseudo class hash (or address) derived from a label and a salt.
pub fn derived(label: &str, salt: u64) -> Felt {
    poseidon_many(&[
        short_string("dojo-reactive-mock"),
        bytearray_hash(label),
        Felt::from(salt),
    ])
}

/// `0x` followed by the 64 lowercase hex digits of `bytes` (left-padded to 32 bytes).
pub fn hex64(bytes: &[u8]) -> String {
    hex_padded(bytes, 32)
}

/// `0x` followed by the lowercase hex digits of `bytes`, left-padded to `width` bytes.
pub fn hex_padded(bytes: &[u8], width: usize) -> String {
    let mut out = String::with_capacity(2 + 2 * width.max(bytes.len()));
    out.push_str("0x");
    for _ in bytes.len()..width {
        out.push_str("00");
    }
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// `0x` followed by the shortest lowercase hex form of `bytes` (`0x0` for zero).
pub fn hex_min(bytes: &[u8]) -> String {
    let full = hex_padded(bytes, 0);
    let digits = full[2..].trim_start_matches('0');
    if digits.is_empty() {
        "0x0".to_owned()
    } else {
        format!("0x{digits}")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Parses `0x`-prefixed hex (up to 64 digits) into 32 big-endian bytes.
pub fn parse_hex32(text: &str) -> Option<Bytes32> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut nibbles = digits.bytes().rev();
    for byte in out.iter_mut().rev() {
        let low = match nibbles.next() {
            Some(c) => nibble(c)?,
            None => break,
        };
        let high = match nibbles.next() {
            Some(c) => nibble(c)?,
            None => 0,
        };
        *byte = (high << 4) | low;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses an unsigned decimal number below 2^256 into 32 big-endian bytes.
pub fn parse_dec32(text: &str) -> Option<Bytes32> {
    if text.is_empty() || text.len() > 78 {
        return None;
    }
    let mut out = [0u8; 32];
    for c in text.bytes() {
        let digit = c.checked_sub(b'0').filter(|d| *d < 10)?;
        // out = out * 10 + digit, failing on overflow.
        let mut carry = u32::from(digit);
        for byte in out.iter_mut().rev() {
            let value = u32::from(*byte) * 10 + carry;
            *byte = (value & 0xff) as u8;
            carry = value >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(out)
}

/// Parses `0x` hex or unsigned decimal text into 32 big-endian bytes.
pub fn parse_uint32(text: &str) -> Option<Bytes32> {
    if text.starts_with("0x") || text.starts_with("0X") {
        parse_hex32(text)
    } else {
        parse_dec32(text)
    }
}

/// The unsigned decimal text of big-endian `bytes` (any length up to 32).
pub fn to_decimal(bytes: &[u8]) -> String {
    let mut work: Vec<u8> = bytes.to_vec();
    let mut digits = Vec::new();
    while work.iter().any(|b| *b != 0) {
        let mut remainder = 0u32;
        for byte in work.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 10) as u8;
            remainder = value % 10;
        }
        digits.push(b'0' + remainder as u8);
    }
    if digits.is_empty() {
        return "0".to_owned();
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Left-pads big-endian `bytes` (at most 32 of them) to 32 bytes; `None` when longer.
pub fn pad32(bytes: &[u8]) -> Option<Bytes32> {
    if bytes.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(bytes);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip() {
        let max = [0xffu8; 32];
        let text = to_decimal(&max);
        assert_eq!(
            text,
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        assert_eq!(parse_dec32(&text), Some(max));
        assert_eq!(parse_dec32("0"), Some([0; 32]));
        assert_eq!(to_decimal(&[0, 0, 1, 0]), "256");
        assert!(parse_dec32(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        )
        .is_none());
        assert!(parse_dec32("12a").is_none());
    }

    #[test]
    fn hex_forms() {
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(parse_hex32("0x1"), Some(one));
        assert_eq!(hex_min(&one), "0x1");
        assert_eq!(hex64(&one).len(), 66);
        assert_eq!(hex_padded(&[0xab; 20], 20).len(), 42);
        assert!(parse_hex32("0x").is_none());
        assert!(parse_hex32("12").is_none());
        assert!(parse_hex32("0xzz").is_none());
    }

    #[test]
    fn entity_id_is_poseidon_of_keys() {
        let key = Felt::from(0x1234u64).to_bytes_be();
        let expected = poseidon_many(&[Felt::from(0x1234u64)]).to_bytes_be();
        assert_eq!(entity_id(&[key]), expected);
    }
}
