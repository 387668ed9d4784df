//! Lossless conversion of wire entities into `dojo-reactive-core` values.
//!
//! Every value is checked while it is decoded: byte lengths of big integers and felts, ranges of
//! small integers, enum option indices, fixed-size array lengths, and the model's shape (the first
//! state seen for a model fixes it, see [`SchemaRegistry`]). Anything wrong is a [`WireError`]
//! naming the member path; nothing here can panic on what the server sent.

use dojo_reactive_core::{
    Entity, EnumValue, Felt, Member, ParseBytesError, Primitive, PrimitiveType, SchemaMismatch,
    SchemaRegistry, Struct, Ty, Value, U256,
};

use crate::proto::types;
use types::primitive::PrimitiveType as WirePrimitive;
use types::ty::TyType;

/// Why a wire entity could not be turned into core values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A member or type with no type information.
    #[error("`{path}` has no type (empty Ty or member without ty)")]
    MissingType {
        /// Dotted path of the member.
        path: String,
    },
    /// Bytes of the wrong length for the type.
    #[error("`{path}`: {ty} cannot be {len} bytes long")]
    BadLength {
        /// Dotted path of the member.
        path: String,
        /// The Cairo type.
        ty: &'static str,
        /// Number of bytes received.
        len: usize,
    },
    /// A small integer outside its type's range.
    #[error("`{path}`: {value} does not fit in {ty}")]
    OutOfRange {
        /// Dotted path of the member.
        path: String,
        /// The Cairo type.
        ty: &'static str,
        /// The value received.
        value: i64,
    },
    /// An enum whose active option index does not exist.
    #[error("`{path}`: enum {name} has {options} options, option {option} does not exist")]
    BadEnumOption {
        /// Dotted path of the member.
        path: String,
        /// Enum name.
        name: String,
        /// The index received.
        option: u32,
        /// How many options were listed.
        options: usize,
    },
    /// A fixed-size array whose length is not its declared size.
    #[error("`{path}`: fixed-size array of {size} has {len} elements")]
    FixedSizeMismatch {
        /// Dotted path of the member.
        path: String,
        /// Declared size.
        size: u32,
        /// Elements received.
        len: usize,
    },
    /// An array whose elements do not all have one type.
    #[error("`{path}`: array elements differ in type ({first} vs {other})")]
    MixedArray {
        /// Dotted path of the array.
        path: String,
        /// Type of the first element.
        first: String,
        /// Type of a differing element.
        other: String,
    },
    /// An entity id that is not a felt.
    #[error("entity id of {len} bytes is not a felt")]
    BadEntityId {
        /// Number of bytes received.
        len: usize,
    },
    /// A model state whose shape differs from the model's known shape.
    #[error(transparent)]
    Schema(#[from] SchemaMismatch),
}

/// Converts a wire entity, checking every model state against `schemas` (learning unknown models).
pub fn entity_from_wire(
    wire: types::Entity,
    schemas: &mut SchemaRegistry,
) -> Result<Entity, WireError> {
    let id = Felt::from_be_slice(&wire.hashed_keys).map_err(|_| WireError::BadEntityId {
        len: wire.hashed_keys.len(),
    })?;
    let world_address = felt_at(&wire.world_address, "world_address", "felt252")?;
    let mut models = Vec::with_capacity(wire.models.len());
    for model in &wire.models {
        models.push(model_from_wire(model, schemas)?);
    }
    Ok(Entity {
        id,
        models,
        created_at: wire.created_at,
        updated_at: wire.updated_at,
        executed_at: wire.executed_at,
        world_address,
    })
}

/// Converts one model state (a `Struct` named by its tag); a state with no members is a deletion
/// and is not checked against the model's shape.
pub fn model_from_wire(
    wire: &types::Struct,
    schemas: &mut SchemaRegistry,
) -> Result<Struct, WireError> {
    let (value, ty) = struct_from_wire(wire, "")?;
    if !value.is_deletion() {
        schemas.check_or_learn(&wire.name, ty)?;
    }
    Ok(value)
}

fn struct_from_wire(wire: &types::Struct, path: &str) -> Result<(Struct, Ty), WireError> {
    let mut members = Vec::with_capacity(wire.children.len());
    let mut member_tys = Vec::with_capacity(wire.children.len());
    for child in &wire.children {
        let at = join(path, &child.name);
        let ty = child
            .ty
            .as_ref()
            .ok_or_else(|| WireError::MissingType { path: at.clone() })?;
        let (value, shape) = value_from_wire(ty, &at)?;
        member_tys.push((child.name.clone(), child.key, shape));
        members.push(Member {
            name: child.name.clone(),
            key: child.key,
            value,
        });
    }
    let shape = Ty::Struct {
        name: wire.name.clone(),
        members: member_tys,
    };
    Ok((
        Struct {
            name: wire.name.clone(),
            members,
        },
        shape,
    ))
}

/// Converts one typed wire value into a core value and its shape.
pub fn value_from_wire(wire: &types::Ty, path: &str) -> Result<(Value, Ty), WireError> {
    let missing = || WireError::MissingType {
        path: path.to_owned(),
    };
    match wire.ty_type.as_ref().ok_or_else(missing)? {
        TyType::Primitive(p) => {
            let primitive = primitive_from_wire(p, path)?;
            Ok((Value::Primitive(primitive), Ty::Primitive(primitive.ty())))
        }
        TyType::Struct(s) => {
            let (value, shape) = struct_from_wire(s, path)?;
            Ok((Value::Struct(value), shape))
        }
        TyType::Enum(e) => enum_from_wire(e, path),
        TyType::Tuple(items) => {
            let mut values = Vec::with_capacity(items.children.len());
            let mut shapes = Vec::with_capacity(items.children.len());
            for (i, item) in items.children.iter().enumerate() {
                let (value, shape) = value_from_wire(item, &join(path, &i.to_string()))?;
                values.push(value);
                shapes.push(shape);
            }
            Ok((Value::Tuple(values), Ty::Tuple(shapes)))
        }
        TyType::Array(items) => {
            let (values, element) = elements_from_wire(&items.children, path)?;
            Ok((Value::Array(values), Ty::Array(element.map(Box::new))))
        }
        TyType::FixedSizeArray(items) => {
            if items.children.len() != items.size as usize {
                return Err(WireError::FixedSizeMismatch {
                    path: path.to_owned(),
                    size: items.size,
                    len: items.children.len(),
                });
            }
            let (values, element) = elements_from_wire(&items.children, path)?;
            let shape = Ty::FixedSizeArray {
                element: element.map(Box::new),
                size: items.size,
            };
            Ok((Value::FixedSizeArray(values), shape))
        }
        TyType::Bytearray(text) => Ok((Value::ByteArray(text.clone()), Ty::ByteArray)),
    }
}

fn elements_from_wire(
    items: &[types::Ty],
    path: &str,
) -> Result<(Vec<Value>, Option<Ty>), WireError> {
    let at = join(path, "[]");
    let mut values = Vec::with_capacity(items.len());
    let mut element: Option<Ty> = None;
    for item in items {
        let (value, shape) = value_from_wire(item, &at)?;
        match &element {
            None => element = Some(shape),
            Some(first) => {
                if first.difference(&shape).is_some() {
                    return Err(WireError::MixedArray {
                        path: at,
                        first: first.to_string(),
                        other: shape.to_string(),
                    });
                }
            }
        }
        values.push(value);
    }
    Ok((values, element))
}

fn enum_from_wire(wire: &types::Enum, path: &str) -> Result<(Value, Ty), WireError> {
    let mut options = Vec::with_capacity(wire.options.len());
    let mut active = None;
    for (index, option) in wire.options.iter().enumerate() {
        let at = join(path, &option.name);
        let (value, shape) = match &option.ty {
            // A unit variant may come with no type at all.
            None => (Value::unit(), Ty::Tuple(Vec::new())),
            Some(ty) if ty.ty_type.is_none() => (Value::unit(), Ty::Tuple(Vec::new())),
            Some(ty) => value_from_wire(ty, &at)?,
        };
        if index == wire.option as usize {
            active = Some(value);
        }
        options.push((option.name.clone(), shape));
    }
    let value = active.ok_or_else(|| WireError::BadEnumOption {
        path: path.to_owned(),
        name: wire.name.clone(),
        option: wire.option,
        options: wire.options.len(),
    })?;
    let variant = options
        .get(wire.option as usize)
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    let value = Value::Enum(EnumValue {
        name: wire.name.clone(),
        option: wire.option,
        variant,
        value: Box::new(value),
    });
    let shape = Ty::Enum {
        name: wire.name.clone(),
        options,
    };
    Ok((value, shape))
}

/// Converts a wire primitive exactly, checking lengths and ranges.
pub fn primitive_from_wire(wire: &types::Primitive, path: &str) -> Result<Primitive, WireError> {
    let missing = || WireError::MissingType {
        path: path.to_owned(),
    };
    let small = |value: i64, ty: PrimitiveType| WireError::OutOfRange {
        path: path.to_owned(),
        ty: ty.name(),
        value,
    };
    Ok(match wire.primitive_type.as_ref().ok_or_else(missing)? {
        WirePrimitive::I8(v) => {
            Primitive::I8(i8::try_from(*v).map_err(|_| small(i64::from(*v), PrimitiveType::I8))?)
        }
        WirePrimitive::I16(v) => {
            Primitive::I16(i16::try_from(*v).map_err(|_| small(i64::from(*v), PrimitiveType::I16))?)
        }
        WirePrimitive::I32(v) => Primitive::I32(*v),
        WirePrimitive::I64(v) => Primitive::I64(*v),
        WirePrimitive::I128(bytes) => Primitive::I128(i128_at(bytes, path)?),
        WirePrimitive::U8(v) => {
            Primitive::U8(u8::try_from(*v).map_err(|_| small(i64::from(*v), PrimitiveType::U8))?)
        }
        WirePrimitive::U16(v) => {
            Primitive::U16(u16::try_from(*v).map_err(|_| small(i64::from(*v), PrimitiveType::U16))?)
        }
        WirePrimitive::U32(v) => Primitive::U32(*v),
        WirePrimitive::U64(v) => Primitive::U64(*v),
        WirePrimitive::U128(bytes) => Primitive::U128(u128_at(bytes, path)?),
        WirePrimitive::U256(bytes) => Primitive::U256(
            U256::from_be_slice(bytes).map_err(|e| too_long(e, path, "u256", bytes.len()))?,
        ),
        WirePrimitive::Bool(v) => Primitive::Bool(*v),
        WirePrimitive::Felt252(bytes) => Primitive::Felt252(felt_at(bytes, path, "felt252")?),
        WirePrimitive::ClassHash(bytes) => Primitive::ClassHash(felt_at(bytes, path, "ClassHash")?),
        WirePrimitive::ContractAddress(bytes) => {
            Primitive::ContractAddress(felt_at(bytes, path, "ContractAddress")?)
        }
        WirePrimitive::EthAddress(bytes) => {
            let felt = felt_at(bytes, path, "EthAddress")?;
            if felt.0[..12].iter().any(|b| *b != 0) {
                return Err(WireError::BadLength {
                    path: path.to_owned(),
                    ty: "EthAddress",
                    len: bytes.len(),
                });
            }
            Primitive::EthAddress(felt)
        }
    })
}

fn too_long(_: ParseBytesError, path: &str, ty: &'static str, len: usize) -> WireError {
    WireError::BadLength {
        path: path.to_owned(),
        ty,
        len,
    }
}

fn felt_at(bytes: &[u8], path: &str, ty: &'static str) -> Result<Felt, WireError> {
    Felt::from_be_slice(bytes).map_err(|e| too_long(e, path, ty, bytes.len()))
}

fn u128_at(bytes: &[u8], path: &str) -> Result<u128, WireError> {
    let wide = U256::from_be_slice(bytes).map_err(|e| too_long(e, path, "u128", bytes.len()))?;
    if wide.0[..16].iter().any(|b| *b != 0) {
        return Err(WireError::BadLength {
            path: path.to_owned(),
            ty: "u128",
            len: bytes.len(),
        });
    }
    let mut low = [0u8; 16];
    low.copy_from_slice(&wide.0[16..]);
    Ok(u128::from_be_bytes(low))
}

/// `i128` travels as 16 big-endian two's-complement bytes; empty bytes are proto3's zero.
fn i128_at(bytes: &[u8], path: &str) -> Result<i128, WireError> {
    match <[u8; 16]>::try_from(bytes) {
        Ok(exact) => Ok(i128::from_be_bytes(exact)),
        Err(_) if bytes.is_empty() => Ok(0),
        Err(_) => Err(WireError::BadLength {
            path: path.to_owned(),
            ty: "i128",
            len: bytes.len(),
        }),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
