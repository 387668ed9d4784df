//! Cairo serialization of values into felts: what Torii stores as an entity's keys, and what a
//! [`KeysClause`](crate::KeysClause) pattern is matched against.
//!
//! The rules are Cairo's `Serde`: one felt per primitive except `u256` (two felts, low then high
//! 128 bits); negative signed integers are `P - |v|` where `P` is the Stark field prime; `bool` is
//! 0 or 1; enums are the option index then the payload; structs and tuples concatenate their
//! members; dynamic arrays are the length then the elements; fixed-size arrays are the elements
//! only; `ByteArray` is the number of full 31-byte words, those words, the pending word and its
//! length.

use crate::bytes32::{Felt, U256};
use crate::schema::{PrimitiveType, Ty};
use crate::value::{Primitive, Struct, Value};

/// The Stark field prime `P = 2^251 + 17 * 2^192 + 1`; every felt252 is below it.
pub const FIELD_PRIME: Felt = Felt([
    0x08, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0x01,
]);

/// `a - b` on 32-byte big-endian numbers, wrapping.
pub(crate) fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        if d < 0 {
            d += 256;
            borrow = 1;
        } else {
            borrow = 0;
        }
        out[i] = d as u8;
    }
    out
}

fn signed_felt(value: i128) -> Felt {
    if value >= 0 {
        Felt::from(value.unsigned_abs())
    } else {
        Felt(sub_be(&FIELD_PRIME.0, &Felt::from(value.unsigned_abs()).0))
    }
}

fn usize_felt(value: usize) -> Felt {
    Felt::from(value as u128)
}

impl Primitive {
    /// Appends this primitive's Cairo serialization (one felt, two for `u256`).
    pub fn serialize_felts(&self, out: &mut Vec<Felt>) {
        let felt = match *self {
            Primitive::I8(v) => signed_felt(v.into()),
            Primitive::I16(v) => signed_felt(v.into()),
            Primitive::I32(v) => signed_felt(v.into()),
            Primitive::I64(v) => signed_felt(v.into()),
            Primitive::I128(v) => signed_felt(v),
            Primitive::U8(v) => Felt::from(u128::from(v)),
            Primitive::U16(v) => Felt::from(u128::from(v)),
            Primitive::U32(v) => Felt::from(u128::from(v)),
            Primitive::U64(v) => Felt::from(u128::from(v)),
            Primitive::U128(v) => Felt::from(v),
            Primitive::Bool(v) => Felt::from(u128::from(v)),
            Primitive::U256(U256(bytes)) => {
                let mut low = [0u8; 32];
                let mut high = [0u8; 32];
                low[16..].copy_from_slice(&bytes[16..]);
                high[16..].copy_from_slice(&bytes[..16]);
                out.push(Felt(low));
                Felt(high)
            }
            Primitive::Felt252(v)
            | Primitive::ClassHash(v)
            | Primitive::ContractAddress(v)
            | Primitive::EthAddress(v) => v,
        };
        out.push(felt);
    }
}

impl Value {
    /// Appends this value's Cairo serialization (see the module documentation).
    pub fn serialize_felts(&self, out: &mut Vec<Felt>) {
        match self {
            Value::Primitive(p) => p.serialize_felts(out),
            Value::Struct(s) => {
                for member in &s.members {
                    member.value.serialize_felts(out);
                }
            }
            Value::Enum(e) => {
                out.push(Felt::from(u128::from(e.option)));
                e.value.serialize_felts(out);
            }
            Value::Tuple(items) | Value::FixedSizeArray(items) => {
                for item in items {
                    item.serialize_felts(out);
                }
            }
            Value::Array(items) => {
                out.push(usize_felt(items.len()));
                for item in items {
                    item.serialize_felts(out);
                }
            }
            Value::ByteArray(text) => serialize_byte_array(text.as_bytes(), out),
        }
    }
}

fn serialize_byte_array(bytes: &[u8], out: &mut Vec<Felt>) {
    let chunks = bytes.chunks_exact(31);
    let pending = chunks.remainder();
    out.push(usize_felt(bytes.len() / 31));
    for chunk in chunks {
        out.push(word_felt(chunk));
    }
    out.push(word_felt(pending));
    out.push(usize_felt(pending.len()));
}

fn word_felt(word: &[u8]) -> Felt {
    let mut bytes = [0u8; 32];
    bytes[32 - word.len()..].copy_from_slice(word);
    Felt(bytes)
}

impl Struct {
    /// The Cairo serialization of the key members, in declaration order: the felts Torii keeps
    /// as the entity's keys and a [`KeysClause`](crate::KeysClause) matches.
    pub fn key_felts(&self) -> Vec<Felt> {
        let mut out = Vec::new();
        for value in self.keys() {
            value.serialize_felts(&mut out);
        }
        out
    }
}

impl Ty {
    /// How many felts every value of this type serializes to, or `None` when it varies
    /// (arrays, `ByteArray`, enums whose options serialize to different lengths).
    pub fn felt_width(&self) -> Option<usize> {
        match self {
            Ty::Primitive(PrimitiveType::U256) => Some(2),
            Ty::Primitive(_) => Some(1),
            Ty::Struct { members, .. } => members
                .iter()
                .try_fold(0usize, |acc, (_, _, ty)| acc.checked_add(ty.felt_width()?)),
            Ty::Tuple(items) => items
                .iter()
                .try_fold(0usize, |acc, ty| acc.checked_add(ty.felt_width()?)),
            Ty::Enum { options, .. } => {
                let mut widths = options.iter().map(|(_, ty)| ty.felt_width());
                let first = widths.next().unwrap_or(Some(0))?;
                if widths.all(|w| w == Some(first)) {
                    first.checked_add(1)
                } else {
                    None
                }
            }
            Ty::FixedSizeArray { element, size } => match element {
                Some(element) => element.felt_width()?.checked_mul(*size as usize),
                None if *size == 0 => Some(0),
                None => None,
            },
            Ty::Array(_) | Ty::ByteArray => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{EnumValue, Member};

    #[test]
    fn negative_integers_are_field_negations() {
        let mut out = Vec::new();
        Primitive::I8(-1).serialize_felts(&mut out);
        assert_eq!(
            out,
            vec![Felt::from_hex(
                "0x0800000000000011000000000000000000000000000000000000000000000000"
            )
            .unwrap()]
        );
        out.clear();
        Primitive::I128(i128::MIN).serialize_felts(&mut out);
        assert_eq!(
            out[0].0,
            sub_be(&FIELD_PRIME.0, &Felt::from(1u128 << 127).0)
        );
    }

    #[test]
    fn u256_is_low_then_high() {
        let mut bytes = [0u8; 32];
        bytes[15] = 2; // high = 2
        bytes[31] = 1; // low = 1
        let mut out = Vec::new();
        Primitive::U256(U256(bytes)).serialize_felts(&mut out);
        assert_eq!(out, vec![Felt::from(1u128), Felt::from(2u128)]);
    }

    #[test]
    fn byte_array_splits_into_31_byte_words() {
        let text = "a".repeat(33);
        let mut out = Vec::new();
        Value::ByteArray(text).serialize_felts(&mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], Felt::from(1u128));
        assert_eq!(out[2], Felt::from(0x6161u128));
        assert_eq!(out[3], Felt::from(2u128));
    }

    #[test]
    fn key_felts_follow_declaration_order_and_enum_index() {
        let state = Struct {
            name: "ns-M".into(),
            members: vec![
                Member {
                    name: "b".into(),
                    key: true,
                    value: Value::Enum(EnumValue {
                        name: "Dir".into(),
                        option: 3,
                        variant: "Up".into(),
                        value: Box::new(Value::unit()),
                    }),
                },
                Member {
                    name: "v".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U8(9)),
                },
                Member {
                    name: "a".into(),
                    key: true,
                    value: Value::Primitive(Primitive::U32(7)),
                },
            ],
        };
        assert_eq!(
            state.key_felts(),
            vec![Felt::from(3u128), Felt::from(7u128)]
        );
    }

    #[test]
    fn widths_are_fixed_only_when_every_value_has_the_same_length() {
        assert_eq!(Ty::Primitive(PrimitiveType::U256).felt_width(), Some(2));
        let unit_enum = Ty::Enum {
            name: "E".into(),
            options: vec![("A".into(), Ty::unit()), ("B".into(), Ty::unit())],
        };
        assert_eq!(unit_enum.felt_width(), Some(1));
        let mixed = Ty::Enum {
            name: "E".into(),
            options: vec![
                ("A".into(), Ty::unit()),
                ("B".into(), Ty::Primitive(PrimitiveType::U8)),
            ],
        };
        assert_eq!(mixed.felt_width(), None);
        assert_eq!(Ty::ByteArray.felt_width(), None);
    }
}
