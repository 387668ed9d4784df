//! Wire values as the JSON of the control API, both ways.
//!
//! u8..u32 and i8..i32 are JSON numbers; bool a boolean; u64, i64, u128, i128 and u256 decimal
//! strings; felt252, ClassHash and ContractAddress `0x` + 64 lowercase hex digits; EthAddress
//! `0x` + 40 hex digits; ByteArray a string; enums `{"variant": "Rogue", "value": 3}` (no
//! `value` for unit variants); arrays, tuples and fixed-size arrays JSON arrays; nested structs
//! objects. When reading, integers are also accepted as strings (decimal or `0x` hex) and
//! felt-like values as decimal strings.

use dojo_reactive_torii::types::{self, primitive::PrimitiveType as P, ty::TyType};
use serde_json::{Map, Value};

use crate::felt::{hex64, hex_padded, parse_uint32, to_decimal};
use crate::schema::{Prim, TypeDef};
use crate::wire::{self, Num};

/// The JSON of a wire struct: an object of its members.
pub fn struct_to_json(st: &types::Struct) -> Value {
    let mut object = Map::new();
    for member in &st.children {
        let value = member.ty.as_ref().map_or(Value::Null, ty_to_json);
        object.insert(member.name.clone(), value);
    }
    Value::Object(object)
}

/// The JSON of a wire value.
pub fn ty_to_json(ty: &types::Ty) -> Value {
    match &ty.ty_type {
        None => Value::Null,
        Some(TyType::Primitive(p)) => p.primitive_type.as_ref().map_or(Value::Null, prim_to_json),
        Some(TyType::Bytearray(s)) => Value::String(s.clone()),
        Some(TyType::Struct(st)) => struct_to_json(st),
        Some(TyType::Enum(e)) => {
            let mut object = Map::new();
            let option = usize::try_from(e.option)
                .ok()
                .and_then(|i| e.options.get(i));
            match option {
                Some(option) => {
                    object.insert("variant".to_owned(), Value::String(option.name.clone()));
                    let is_unit = option.ty.as_ref().is_none_or(is_empty_tuple);
                    if !is_unit {
                        if let Some(value) = &option.ty {
                            object.insert("value".to_owned(), ty_to_json(value));
                        }
                    }
                }
                None => {
                    object.insert("variant".to_owned(), Value::Null);
                }
            }
            Value::Object(object)
        }
        Some(TyType::Tuple(a)) | Some(TyType::Array(a)) => {
            Value::Array(a.children.iter().map(ty_to_json).collect())
        }
        Some(TyType::FixedSizeArray(a)) => {
            Value::Array(a.children.iter().map(ty_to_json).collect())
        }
    }
}

fn is_empty_tuple(ty: &types::Ty) -> bool {
    matches!(&ty.ty_type, Some(TyType::Tuple(a)) if a.children.is_empty())
}

/// The JSON of a wire primitive.
pub fn prim_to_json(p: &P) -> Value {
    match p {
        P::U8(v) | P::U16(v) | P::U32(v) => Value::from(*v),
        P::I8(v) | P::I16(v) | P::I32(v) => Value::from(*v),
        P::U64(v) => Value::String(v.to_string()),
        P::I64(v) => Value::String(v.to_string()),
        P::U128(b) | P::U256(b) => Value::String(to_decimal(b)),
        P::I128(b) => match Num::from_i128_bytes(b) {
            Some(n) if n.negative => Value::String(format!("-{}", to_decimal(&n.magnitude))),
            Some(n) => Value::String(to_decimal(&n.magnitude)),
            None => Value::Null,
        },
        P::Bool(v) => Value::Bool(*v),
        P::Felt252(b) | P::ClassHash(b) | P::ContractAddress(b) => Value::String(hex64(b)),
        P::EthAddress(b) => Value::String(hex_padded(b, 20)),
    }
}

/// Sets `target` (of type `def`) from JSON. Struct values merge: only the members present in
/// the object change. Errors name the offending member path.
pub fn apply_json(
    target: &mut types::Ty,
    def: &TypeDef,
    value: &Value,
    path: &str,
) -> Result<(), String> {
    match def {
        TypeDef::Struct { members, .. } => {
            let Value::Object(object) = value else {
                return Err(format!("{path}: expected an object"));
            };
            if !matches!(target.ty_type, Some(TyType::Struct(_))) {
                *target = def.default_wire();
            }
            let Some(TyType::Struct(st)) = &mut target.ty_type else {
                return Err(format!("{path}: not a struct"));
            };
            for (name, member_value) in object {
                let Some(member_def) = members.iter().find(|m| m.name == name) else {
                    return Err(format!("{path}.{name}: no such member"));
                };
                let Some(slot) = wire::get_mut(st, name) else {
                    return Err(format!("{path}.{name}: missing in the stored value"));
                };
                apply_json(
                    slot,
                    &member_def.ty,
                    member_value,
                    &format!("{path}.{name}"),
                )?;
            }
            Ok(())
        }
        _ => {
            *target = json_to_ty(def, value, path)?;
            Ok(())
        }
    }
}

/// A complete wire value of type `def` from JSON (structs must list every member they set; the
/// others take default values).
pub fn json_to_ty(def: &TypeDef, value: &Value, path: &str) -> Result<types::Ty, String> {
    let ty_type = match def {
        TypeDef::Primitive(prim) => {
            return Ok(wire::prim(json_to_prim(*prim, value).ok_or_else(|| {
                format!("{path}: {value} is not a valid {}", prim.scalar_name())
            })?))
        }
        TypeDef::ByteArray => match value {
            Value::String(s) => TyType::Bytearray(s.clone()),
            _ => return Err(format!("{path}: expected a string")),
        },
        TypeDef::Struct { .. } => {
            let mut ty = def.default_wire();
            apply_json(&mut ty, def, value, path)?;
            return Ok(ty);
        }
        TypeDef::Enum { variants, .. } => {
            let (name, inner) = match value {
                Value::String(name) => (name.as_str(), None),
                Value::Object(object) => match object.get("variant") {
                    Some(Value::String(name)) => (name.as_str(), object.get("value")),
                    _ => return Err(format!("{path}: expected {{\"variant\": name}}")),
                },
                _ => return Err(format!("{path}: expected {{\"variant\": name}}")),
            };
            let Some(index) = variants.iter().position(|(n, _)| *n == name) else {
                return Err(format!("{path}: unknown variant {name}"));
            };
            let mut options = Vec::with_capacity(variants.len());
            for (i, (option_name, option_def)) in variants.iter().enumerate() {
                let ty = match (i == index, inner) {
                    (true, Some(v)) if *option_def != TypeDef::unit() => {
                        json_to_ty(option_def, v, &format!("{path}.{option_name}"))?
                    }
                    _ => option_def.default_wire(),
                };
                options.push(types::EnumOption {
                    name: (*option_name).to_owned(),
                    ty: Some(ty),
                });
            }
            TyType::Enum(types::Enum {
                name: def.short_name().to_owned(),
                option: u32::try_from(index).unwrap_or_default(),
                options,
            })
        }
        TypeDef::Tuple(items) => {
            let Value::Array(values) = value else {
                return Err(format!("{path}: expected an array"));
            };
            if values.len() != items.len() {
                return Err(format!("{path}: expected {} elements", items.len()));
            }
            let children = items
                .iter()
                .zip(values)
                .enumerate()
                .map(|(i, (d, v))| json_to_ty(d, v, &format!("{path}.{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            TyType::Tuple(types::Array { children })
        }
        TypeDef::Array(item) => {
            let Value::Array(values) = value else {
                return Err(format!("{path}: expected an array"));
            };
            let children = values
                .iter()
                .enumerate()
                .map(|(i, v)| json_to_ty(item, v, &format!("{path}.{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            TyType::Array(types::Array { children })
        }
        TypeDef::FixedArray(item, size) => {
            let Value::Array(values) = value else {
                return Err(format!("{path}: expected an array"));
            };
            if values.len() != *size as usize {
                return Err(format!("{path}: expected {size} elements"));
            }
            let children = values
                .iter()
                .enumerate()
                .map(|(i, v)| json_to_ty(item, v, &format!("{path}.{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            TyType::FixedSizeArray(types::FixedSizeArray {
                children,
                size: *size,
            })
        }
    };
    Ok(types::Ty {
        ty_type: Some(ty_type),
    })
}

/// The numeric value of a JSON number or numeric string.
fn json_num(value: &Value) -> Option<Num> {
    match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(Num::from_u128(u128::from(u)))
            } else {
                n.as_i64().map(|i| Num::from_i128(i128::from(i)))
            }
        }
        Value::String(s) => Num::parse(s),
        _ => None,
    }
}

/// A wire primitive of type `prim` from JSON, `None` when the value is not valid for it.
pub fn json_to_prim(prim: Prim, value: &Value) -> Option<P> {
    if prim == Prim::Bool {
        return match value {
            Value::Bool(b) => Some(P::Bool(*b)),
            _ => None,
        };
    }
    let num = json_num(value)?;
    let as_i128 = || -> Option<i128> {
        let high_zero = num.magnitude[..16].iter().all(|b| *b == 0);
        if !high_zero {
            return None;
        }
        let low: [u8; 16] = num.magnitude[16..].try_into().ok()?;
        let magnitude = u128::from_be_bytes(low);
        if num.negative {
            if magnitude == 1u128 << 127 {
                Some(i128::MIN)
            } else {
                i128::try_from(magnitude).ok().map(|m| -m)
            }
        } else {
            i128::try_from(magnitude).ok()
        }
    };
    let as_u128 = || -> Option<u128> {
        if num.negative || num.magnitude[..16].iter().any(|b| *b != 0) {
            return None;
        }
        let low: [u8; 16] = num.magnitude[16..].try_into().ok()?;
        Some(u128::from_be_bytes(low))
    };
    let unsigned_bytes = |width: usize| -> Option<Vec<u8>> {
        if num.negative || num.magnitude[..32 - width].iter().any(|b| *b != 0) {
            return None;
        }
        Some(num.magnitude[32 - width..].to_vec())
    };
    match prim {
        Prim::U8 => Some(P::U8(u32::from(u8::try_from(as_u128()?).ok()?))),
        Prim::U16 => Some(P::U16(u32::from(u16::try_from(as_u128()?).ok()?))),
        Prim::U32 => Some(P::U32(u32::try_from(as_u128()?).ok()?)),
        Prim::U64 => Some(P::U64(u64::try_from(as_u128()?).ok()?)),
        Prim::U128 => Some(P::U128(as_u128()?.to_be_bytes().to_vec())),
        Prim::U256 => Some(P::U256(unsigned_bytes(32)?)),
        Prim::I8 => Some(P::I8(i32::from(i8::try_from(as_i128()?).ok()?))),
        Prim::I16 => Some(P::I16(i32::from(i16::try_from(as_i128()?).ok()?))),
        Prim::I32 => Some(P::I32(i32::try_from(as_i128()?).ok()?)),
        Prim::I64 => Some(P::I64(i64::try_from(as_i128()?).ok()?)),
        Prim::I128 => Some(P::I128(as_i128()?.to_be_bytes().to_vec())),
        Prim::Felt252 | Prim::ClassHash | Prim::ContractAddress => {
            let bytes = unsigned_bytes(32)?;
            // A felt is below the Stark prime (2^251 + 17 * 2^192 + 1); refuse anything at or
            // above 2^251 + 17 * 2^192 + 1 by a cheap conservative check on the top byte.
            if bytes[0] > 0x08 {
                return None;
            }
            Some(match prim {
                Prim::Felt252 => P::Felt252(bytes),
                Prim::ClassHash => P::ClassHash(bytes),
                _ => P::ContractAddress(bytes),
            })
        }
        Prim::EthAddress => Some(P::EthAddress(unsigned_bytes(20)?)),
        Prim::Bool => None,
    }
}

/// Parses `0x` hex or decimal text into a value of `prim` (used for key felts).
pub fn parse_felt_text(text: &str) -> Option<[u8; 32]> {
    parse_uint32(text).filter(|b| b[0] <= 0x08)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn primitives_round_trip_through_json() {
        let cases = [
            (Prim::U8, json!(255)),
            (Prim::I8, json!(-128)),
            (Prim::U64, json!("18446744073709551615")),
            (
                Prim::I128,
                json!("-170141183460469231731687303715884105728"),
            ),
            (Prim::U128, json!("340282366920938463463374607431768211455")),
            (Prim::Bool, json!(true)),
            (Prim::EthAddress, json!(format!("0x{}", "ab".repeat(20)))),
        ];
        for (prim, value) in cases {
            let wire = json_to_prim(prim, &value).unwrap_or_else(|| panic!("{prim:?} {value}"));
            assert_eq!(prim_to_json(&wire), value, "{prim:?}");
        }
        assert!(json_to_prim(Prim::U8, &json!(256)).is_none());
        assert!(json_to_prim(Prim::I8, &json!(-129)).is_none());
        assert!(json_to_prim(Prim::U32, &json!(-1)).is_none());
    }

    #[test]
    fn enums_read_variant_and_value() {
        let def = TypeDef::Enum {
            path: "a::E",
            variants: vec![("A", TypeDef::unit()), ("B", TypeDef::Primitive(Prim::U8))],
        };
        let ty = json_to_ty(&def, &json!({"variant": "B", "value": 7}), "e").unwrap();
        assert_eq!(ty_to_json(&ty), json!({"variant": "B", "value": 7}));
        let unit = json_to_ty(&def, &json!({"variant": "A"}), "e").unwrap();
        assert_eq!(ty_to_json(&unit), json!({"variant": "A"}));
        assert!(json_to_ty(&def, &json!({"variant": "C"}), "e").is_err());
    }
}
