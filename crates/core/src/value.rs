//! Values of every Dojo type, exact: no integer is ever narrowed or rounded.

use std::cmp::Ordering;

use serde_json::{json, Map, Value as Json};

use crate::bytes32::{Felt, U256};
use crate::name::Name;

/// A primitive Cairo value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    /// `i8`
    I8(i8),
    /// `i16`
    I16(i16),
    /// `i32`
    I32(i32),
    /// `i64`
    I64(i64),
    /// `i128`
    I128(i128),
    /// `u8`
    U8(u8),
    /// `u16`
    U16(u16),
    /// `u32`
    U32(u32),
    /// `u64`
    U64(u64),
    /// `u128`
    U128(u128),
    /// `u256`
    U256(U256),
    /// `bool`
    Bool(bool),
    /// `felt252`
    Felt252(Felt),
    /// `ClassHash`
    ClassHash(Felt),
    /// `ContractAddress`
    ContractAddress(Felt),
    /// `EthAddress` (20 significant bytes)
    EthAddress(Felt),
}

/// A struct value; for a model state, `name` is the model tag `namespace-Model`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Struct {
    /// Struct name, or the model tag for a model state.
    pub name: Name,
    /// Members in declaration order.
    pub members: Vec<Member>,
}

/// One named member of a struct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Member {
    /// Member name.
    pub name: Name,
    /// Whether the member is a model key.
    pub key: bool,
    /// The member's value.
    pub value: Value,
}

/// An enum value: the active variant and what it carries (`Value::unit()` for unit variants).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnumValue {
    /// The enum type's name.
    pub name: Name,
    /// Index of the active variant among the enum's options.
    pub option: u32,
    /// Name of the active variant.
    pub variant: Name,
    /// The variant's payload; the empty tuple for unit variants.
    pub value: Box<Value>,
}

/// Any Dojo value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A primitive.
    Primitive(Primitive),
    /// A struct.
    Struct(Struct),
    /// An enum.
    Enum(EnumValue),
    /// A tuple (the empty tuple is Cairo's unit).
    Tuple(Vec<Value>),
    /// A dynamic array.
    Array(Vec<Value>),
    /// A fixed-size array; its size is its length.
    FixedSizeArray(Vec<Value>),
    /// A `ByteArray` string.
    ByteArray(String),
}

impl Primitive {
    /// The Cairo name of this primitive's type (`u32`, `felt252`, `ContractAddress`, ...).
    pub fn type_name(&self) -> &'static str {
        self.ty().name()
    }

    /// Compares two primitives by numeric value when both are numbers (any widths and signs),
    /// by truth value for booleans; `None` when they are not comparable.
    pub fn compare(&self, other: &Primitive) -> Option<Ordering> {
        match (self, other) {
            (Primitive::Bool(a), Primitive::Bool(b)) => Some(a.cmp(b)),
            // Integers up to 128 bits (the common case, on every filter scan) without the
            // 256-bit form.
            _ => match (self.as_i128(), other.as_i128()) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => Some(self.as_bigint()?.cmp(&other.as_bigint()?)),
            },
        }
    }

    /// The value as an `i128` when it is an integer that fits one (not felts or `u256`).
    fn as_i128(&self) -> Option<i128> {
        match *self {
            Primitive::I8(v) => Some(v.into()),
            Primitive::I16(v) => Some(v.into()),
            Primitive::I32(v) => Some(v.into()),
            Primitive::I64(v) => Some(v.into()),
            Primitive::I128(v) => Some(v),
            Primitive::U8(v) => Some(v.into()),
            Primitive::U16(v) => Some(v.into()),
            Primitive::U32(v) => Some(v.into()),
            Primitive::U64(v) => Some(v.into()),
            Primitive::U128(v) => i128::try_from(v).ok(),
            _ => None,
        }
    }

    /// The canonical JSON form: numbers up to 32 bits, decimal strings for 64 bits and wider,
    /// `0x` + 64 hex digits for felts (40 for EthAddress).
    pub fn to_json(&self) -> Json {
        match *self {
            Primitive::I8(v) => json!(v),
            Primitive::I16(v) => json!(v),
            Primitive::I32(v) => json!(v),
            Primitive::U8(v) => json!(v),
            Primitive::U16(v) => json!(v),
            Primitive::U32(v) => json!(v),
            Primitive::Bool(v) => json!(v),
            Primitive::I64(v) => json!(v.to_string()),
            Primitive::I128(v) => json!(v.to_string()),
            Primitive::U64(v) => json!(v.to_string()),
            Primitive::U128(v) => json!(v.to_string()),
            Primitive::U256(v) => json!(u256_to_decimal(&v)),
            Primitive::Felt252(_)
            | Primitive::ClassHash(_)
            | Primitive::ContractAddress(_)
            | Primitive::EthAddress(_) => json!(self.hex_text()),
        }
    }

    /// The `0x` hex text of a felt, class hash or contract address (64 digits) or of an
    /// Ethereum address (40 digits), as [`Primitive::to_json`] writes them; empty for the
    /// other primitives.
    pub fn hex_text(&self) -> String {
        match *self {
            Primitive::Felt252(v) | Primitive::ClassHash(v) | Primitive::ContractAddress(v) => {
                v.to_hex()
            }
            Primitive::EthAddress(v) => format!("0x{}", hex::encode(&v.0[12..])),
            _ => String::new(),
        }
    }
}

/// Decimal digits of a 256-bit unsigned integer.
fn u256_to_decimal(value: &U256) -> String {
    let mut limbs = value.0;
    if limbs.iter().all(|b| *b == 0) {
        return "0".to_owned();
    }
    let mut digits = Vec::with_capacity(78);
    while limbs.iter().any(|b| *b != 0) {
        let mut remainder = 0u32;
        for byte in limbs.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = (acc / 10) as u8;
            remainder = acc % 10;
        }
        digits.push(b'0' + remainder as u8);
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

impl Struct {
    /// The member with this name, if any.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// The value at a dotted member path such as `"vec.x"`. A step through an enum names a
    /// variant, as Torii names an enum's payload columns (`"token_id.Some"`): the payload when
    /// that variant is the active one, `None` otherwise.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut current = &self.member(parts.next()?)?.value;
        for part in parts {
            match current {
                Value::Struct(inner) => current = &inner.member(part)?.value,
                Value::Enum(e) if e.variant == part => current = &e.value,
                _ => return None,
            }
        }
        Some(current)
    }

    /// Key members' values in declaration order.
    pub fn keys(&self) -> impl Iterator<Item = &Value> {
        self.members.iter().filter(|m| m.key).map(|m| &m.value)
    }

    /// Members as a JSON object in the canonical JSON form (see [`Value::to_json`]).
    pub fn members_json(&self) -> Json {
        let mut object = Map::with_capacity(self.members.len());
        for member in &self.members {
            object.insert(member.name.to_string(), member.value.to_json());
        }
        Json::Object(object)
    }
}

impl Value {
    /// Cairo's unit value, the empty tuple (payload of unit enum variants).
    pub fn unit() -> Value {
        Value::Tuple(Vec::new())
    }

    /// Whether this is the unit value.
    pub fn is_unit(&self) -> bool {
        matches!(self, Value::Tuple(items) if items.is_empty())
    }

    /// The primitive inside, if this is one.
    pub fn as_primitive(&self) -> Option<&Primitive> {
        match self {
            Value::Primitive(p) => Some(p),
            _ => None,
        }
    }

    /// The canonical JSON form shared by the tools and tests: primitives as in
    /// [`Primitive::to_json`], ByteArray as a string, structs as objects, enums as
    /// `{"variant": name, "value": payload}` (no `value` for unit variants), arrays and tuples as arrays.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Primitive(p) => p.to_json(),
            Value::Struct(s) => s.members_json(),
            Value::Enum(e) => {
                if e.value.is_unit() {
                    json!({ "variant": e.variant })
                } else {
                    json!({ "variant": e.variant, "value": e.value.to_json() })
                }
            }
            Value::Tuple(items) | Value::Array(items) | Value::FixedSizeArray(items) => {
                Json::Array(items.iter().map(Value::to_json).collect())
            }
            Value::ByteArray(s) => json!(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prim(value: Primitive) -> Value {
        Value::Primitive(value)
    }

    #[test]
    fn numbers_compare_exactly_across_widths_and_signs() {
        use Primitive::*;
        assert_eq!(U8(5).compare(&U64(5)), Some(Ordering::Equal));
        assert_eq!(I128(-1).compare(&U8(0)), Some(Ordering::Less));
        assert_eq!(I128(i128::MIN).compare(&I8(-128)), Some(Ordering::Less));
        assert_eq!(
            U128(u128::MAX).compare(&U256(crate::U256::from(u128::MAX))),
            Some(Ordering::Equal)
        );
        let mut big = [0u8; 32];
        big[0] = 0x07;
        assert_eq!(
            Felt252(Felt(big)).compare(&U128(u128::MAX)),
            Some(Ordering::Greater)
        );
        assert_eq!(Bool(true).compare(&U8(1)), None);
        assert_eq!(I64(-0).compare(&U64(0)), Some(Ordering::Equal));
    }

    #[test]
    fn json_form_keeps_big_numbers_exact() {
        use Primitive::*;
        assert_eq!(prim(U64(u64::MAX)).to_json(), json!("18446744073709551615"));
        assert_eq!(
            prim(I128(i128::MIN)).to_json(),
            json!(i128::MIN.to_string())
        );
        assert_eq!(
            prim(U256(crate::U256([0xff; 32]))).to_json(),
            json!("115792089237316195423570985008687907853269984665640564039457584007913129639935")
        );
        assert_eq!(prim(U256(crate::U256::ZERO)).to_json(), json!("0"));
        assert_eq!(prim(U32(7)).to_json(), json!(7));
        let mut eth = [0u8; 32];
        eth[31] = 0xab;
        assert_eq!(
            prim(EthAddress(Felt(eth))).to_json(),
            json!(format!("0x{:0>40}", "ab"))
        );
    }

    #[test]
    fn paths_reach_nested_members() {
        let vec2 = Struct {
            name: "Vec2".into(),
            members: vec![Member {
                name: "x".into(),
                key: false,
                value: prim(Primitive::U32(3)),
            }],
        };
        let model = Struct {
            name: "arena-Position".into(),
            members: vec![Member {
                name: "vec".into(),
                key: false,
                value: Value::Struct(vec2),
            }],
        };
        assert_eq!(model.get_path("vec.x"), Some(&prim(Primitive::U32(3))));
        assert_eq!(model.get_path("vec.y"), None);
        assert_eq!(model.get_path("vec.x.z"), None);
    }

    #[test]
    fn paths_reach_the_payload_of_the_active_variant() {
        let option = |variant: &str, value: Value| Struct {
            name: "torii-Token".into(),
            members: vec![Member {
                name: "token_id".into(),
                key: true,
                value: Value::Enum(EnumValue {
                    name: "Option<u256>".into(),
                    option: u32::from(variant == "None"),
                    variant: variant.into(),
                    value: Box::new(value),
                }),
            }],
        };
        let some = option("Some", prim(Primitive::U32(7)));
        assert_eq!(
            some.get_path("token_id.Some"),
            Some(&prim(Primitive::U32(7)))
        );
        assert_eq!(
            some.get_path("token_id.None"),
            None,
            "not the active variant"
        );
        assert_eq!(
            option("None", Value::unit()).get_path("token_id.Some"),
            None
        );
    }

    #[test]
    fn unit_variants_have_no_value_in_json() {
        let unit = Value::Enum(EnumValue {
            name: "Class".into(),
            option: 0,
            variant: "Warrior".into(),
            value: Box::new(Value::unit()),
        });
        assert_eq!(unit.to_json(), json!({ "variant": "Warrior" }));
        let rogue = Value::Enum(EnumValue {
            name: "Class".into(),
            option: 2,
            variant: "Rogue".into(),
            value: Box::new(prim(Primitive::U8(4))),
        });
        assert_eq!(rogue.to_json(), json!({ "variant": "Rogue", "value": 4 }));
    }
}
