//! Building and reading wire values (`types::Ty`, `types::Struct`): primitive constructors,
//! member navigation, and the numeric value of a primitive for comparisons.

use std::cmp::Ordering;

use dojo_reactive_torii::types::{self, primitive::PrimitiveType as P, ty::TyType};

use crate::felt::{pad32, Bytes32};

/// A wire `Ty` holding a primitive.
pub fn prim(value: P) -> types::Ty {
    types::Ty {
        ty_type: Some(TyType::Primitive(types::Primitive {
            primitive_type: Some(value),
        })),
    }
}

/// A wire `u128` (16 big-endian bytes).
pub fn u128_bytes(value: u128) -> Vec<u8> {
    value.to_be_bytes().to_vec()
}

/// A wire `i128` (16 big-endian bytes, two's complement).
pub fn i128_bytes(value: i128) -> Vec<u8> {
    value.to_be_bytes().to_vec()
}

/// A member of a wire struct.
pub fn member(name: &str, ty: types::Ty, key: bool) -> types::Member {
    types::Member {
        name: name.to_owned(),
        ty: Some(ty),
        key,
    }
}

/// The type of the member called `name` of `st`.
pub fn get<'a>(st: &'a types::Struct, name: &str) -> Option<&'a types::Ty> {
    st.children
        .iter()
        .find(|m| m.name == name)
        .and_then(|m| m.ty.as_ref())
}

/// The type of the member called `name` of `st`, mutably.
pub fn get_mut<'a>(st: &'a mut types::Struct, name: &str) -> Option<&'a mut types::Ty> {
    st.children
        .iter_mut()
        .find(|m| m.name == name)
        .and_then(|m| m.ty.as_mut())
}

/// The primitive inside `ty`, if it is one.
pub fn as_prim(ty: &types::Ty) -> Option<&P> {
    match &ty.ty_type {
        Some(TyType::Primitive(p)) => p.primitive_type.as_ref(),
        _ => None,
    }
}

/// The primitive inside `ty`, mutably.
pub fn as_prim_mut(ty: &mut types::Ty) -> Option<&mut P> {
    match &mut ty.ty_type {
        Some(TyType::Primitive(p)) => p.primitive_type.as_mut(),
        _ => None,
    }
}

/// A step of a member path inside a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A struct member by name.
    Member(String),
    /// An element of a tuple, array or fixed-size array by index.
    Index(usize),
}

/// The value at `path` inside `ty`, or `None` when the value does not have that shape.
pub fn at_path<'a>(mut ty: &'a types::Ty, path: &[Step]) -> Option<&'a types::Ty> {
    for step in path {
        ty = match (&ty.ty_type, step) {
            (Some(TyType::Struct(st)), Step::Member(name)) => get(st, name)?,
            (Some(TyType::Tuple(a)) | Some(TyType::Array(a)), Step::Index(i)) => {
                a.children.get(*i)?
            }
            (Some(TyType::FixedSizeArray(a)), Step::Index(i)) => a.children.get(*i)?,
            _ => return None,
        };
    }
    Some(ty)
}

/// The value at `path` inside `ty`, mutably.
pub fn at_path_mut<'a>(mut ty: &'a mut types::Ty, path: &[Step]) -> Option<&'a mut types::Ty> {
    for step in path {
        ty = match (&mut ty.ty_type, step) {
            (Some(TyType::Struct(st)), Step::Member(name)) => get_mut(st, name)?,
            (Some(TyType::Tuple(a)) | Some(TyType::Array(a)), Step::Index(i)) => {
                a.children.get_mut(*i)?
            }
            (Some(TyType::FixedSizeArray(a)), Step::Index(i)) => a.children.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(ty)
}

/// A signed integer of up to 256 bits of magnitude: the value of any numeric primitive, compared
/// by real numeric value (negative `i128`s below every unsigned value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Num {
    /// Whether the value is below zero.
    pub negative: bool,
    /// The magnitude, big-endian.
    pub magnitude: Bytes32,
}

impl Num {
    /// A non-negative number from big-endian bytes (at most 32).
    pub fn unsigned(bytes: &[u8]) -> Option<Num> {
        Some(Num {
            negative: false,
            magnitude: pad32(bytes)?,
        })
    }

    /// A number from a Rust `i128`.
    pub fn from_i128(value: i128) -> Num {
        let mut magnitude = [0u8; 32];
        magnitude[16..].copy_from_slice(&value.unsigned_abs().to_be_bytes());
        Num {
            negative: value < 0,
            magnitude,
        }
    }

    /// A number from a Rust `u128`.
    pub fn from_u128(value: u128) -> Num {
        let mut magnitude = [0u8; 32];
        magnitude[16..].copy_from_slice(&value.to_be_bytes());
        Num {
            negative: false,
            magnitude,
        }
    }

    /// The value of 16 big-endian two's-complement bytes (a wire `i128`).
    pub fn from_i128_bytes(bytes: &[u8]) -> Option<Num> {
        let array: [u8; 16] = bytes.try_into().ok()?;
        Some(Num::from_i128(i128::from_be_bytes(array)))
    }

    /// The value of a wire primitive (`bool` as 0/1).
    pub fn of_prim(value: &P) -> Option<Num> {
        match value {
            P::U8(v) | P::U16(v) | P::U32(v) => Some(Num::from_u128(u128::from(*v))),
            P::U64(v) => Some(Num::from_u128(u128::from(*v))),
            P::I8(v) | P::I16(v) | P::I32(v) => Some(Num::from_i128(i128::from(*v))),
            P::I64(v) => Some(Num::from_i128(i128::from(*v))),
            P::I128(bytes) => Num::from_i128_bytes(bytes),
            P::Bool(v) => Some(Num::from_u128(u128::from(*v))),
            P::U128(bytes)
            | P::U256(bytes)
            | P::Felt252(bytes)
            | P::ClassHash(bytes)
            | P::ContractAddress(bytes)
            | P::EthAddress(bytes) => Num::unsigned(bytes),
        }
    }

    /// Parses decimal (optionally negative) or `0x` hex text.
    pub fn parse(text: &str) -> Option<Num> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix('-') {
            let magnitude = crate::felt::parse_uint32(rest)?;
            Some(Num {
                negative: magnitude != [0; 32],
                magnitude,
            })
        } else {
            Some(Num {
                negative: false,
                magnitude: crate::felt::parse_uint32(text)?,
            })
        }
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, false) => self.magnitude.cmp(&other.magnitude),
            (true, true) => other.magnitude.cmp(&self.magnitude),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        let minus_one = Num::of_prim(&P::I128(i128_bytes(-1))).unwrap();
        let zero = Num::of_prim(&P::U8(0)).unwrap();
        let big = Num::of_prim(&P::U256(vec![0xff; 32])).unwrap();
        let minus_two = Num::from_i128(-2);
        assert!(minus_two < minus_one);
        assert!(minus_one < zero);
        assert!(zero < big);
        assert_eq!(Num::parse("-1"), Some(minus_one));
        assert_eq!(Num::parse("0x10"), Some(Num::from_u128(16)));
        assert_eq!(Num::parse("-0"), Some(zero));
    }
}
