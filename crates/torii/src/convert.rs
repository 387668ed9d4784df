//! Lossless conversion of wire entities into `dojo-reactive-core` values.
//!
//! Every value is checked while it is decoded: byte lengths of big integers and felts, ranges of
//! small integers, enum option indices, fixed-size array lengths, and the model's shape (the first
//! state seen for a model fixes it, see [`SchemaRegistry`]), and the names of models and members
//! (`dojo_reactive_core::check_tag`, `check_member_name`). Anything wrong is a [`WireError`]
//! naming the member path; nothing here can panic on what the server sent.

use dojo_reactive_core::{
    check_member_name, check_tag, BadName, Entity, EnumValue, Felt, Member, ParseBytesError,
    Primitive, PrimitiveType, SchemaMismatch, SchemaRegistry, Struct, Ty, Value, U256,
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
    /// Text that is not UTF-8.
    #[error("`{path}` is not UTF-8 text")]
    NotUtf8 {
        /// The field.
        path: String,
    },
    /// An entity id that is not a felt.
    #[error("entity id of {len} bytes is not a felt")]
    BadEntityId {
        /// Number of bytes received.
        len: usize,
    },
    /// A model tag or member name that breaks the naming rule (`dojo_reactive_core::name`).
    #[error("{}{source}", at_path(.path))]
    BadName {
        /// Dotted path of the member (empty for the model's tag).
        path: String,
        /// The name and the rule it breaks.
        source: BadName,
    },
    /// A model state whose shape differs from the model's known shape.
    #[error(transparent)]
    Schema(#[from] SchemaMismatch),
}

fn at_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("`{path}`: ")
    }
}

/// Converts a wire entity, checking every model state against `schemas` (learning unknown models).
pub fn entity_from_wire(
    wire: types::Entity,
    schemas: &mut SchemaRegistry,
) -> Result<Entity, WireError> {
    let id = Felt::from_be_slice(&wire.hashed_keys).map_err(|_| WireError::BadEntityId {
        len: wire.hashed_keys.len(),
    })?;
    let world_address = felt_at(
        &wire.world_address,
        &Path::ROOT.child("world_address"),
        "felt252",
    )?;
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
/// and is not checked against the model's shape. The tag and every member name (nested structs
/// included) must follow the naming rule.
pub fn model_from_wire(
    wire: &types::Struct,
    schemas: &mut SchemaRegistry,
) -> Result<Struct, WireError> {
    check_tag(&wire.name).map_err(|source| WireError::BadName {
        path: String::new(),
        source,
    })?;
    let value = struct_from_wire(wire, &Path::ROOT)?;
    if !value.is_deletion() {
        match schemas.get(&wire.name) {
            Some(known) if struct_conforms(known, wire) => {}
            _ => schemas.check_or_learn(&wire.name, struct_shape(wire))?,
        }
    }
    Ok(value)
}

fn struct_from_wire(wire: &types::Struct, path: &Path<'_>) -> Result<Struct, WireError> {
    let mut members = Vec::with_capacity(wire.children.len());
    for child in &wire.children {
        let at = path.child(&child.name);
        check_member_name(&child.name).map_err(|source| WireError::BadName {
            path: at.to_string(),
            source,
        })?;
        let ty = child.ty.as_ref().ok_or_else(|| WireError::MissingType {
            path: at.to_string(),
        })?;
        members.push(Member {
            name: child.name.as_str().into(),
            key: child.key,
            value: decode_value(ty, &at)?,
        });
    }
    Ok(Struct {
        name: wire.name.as_str().into(),
        members,
    })
}

/// Converts one typed wire value into a core value; `path` names it in errors.
pub fn value_from_wire(wire: &types::Ty, path: &str) -> Result<Value, WireError> {
    decode_value(wire, &Path::ROOT.child(path))
}

fn decode_value(wire: &types::Ty, path: &Path<'_>) -> Result<Value, WireError> {
    let missing = || WireError::MissingType {
        path: path.to_string(),
    };
    match wire.ty_type.as_ref().ok_or_else(missing)? {
        TyType::Primitive(p) => Ok(Value::Primitive(decode_primitive(p, path)?)),
        TyType::Struct(s) => Ok(Value::Struct(struct_from_wire(s, path)?)),
        TyType::Enum(e) => enum_from_wire(e, path),
        TyType::Tuple(items) => {
            let mut values = Vec::with_capacity(items.children.len());
            for (i, item) in items.children.iter().enumerate() {
                let index = i.to_string();
                values.push(decode_value(item, &path.child(&index))?);
            }
            Ok(Value::Tuple(values))
        }
        TyType::Array(items) => Ok(Value::Array(elements_from_wire(&items.children, path)?)),
        TyType::FixedSizeArray(items) => {
            if items.children.len() != items.size as usize {
                return Err(WireError::FixedSizeMismatch {
                    path: path.to_string(),
                    size: items.size,
                    len: items.children.len(),
                });
            }
            Ok(Value::FixedSizeArray(elements_from_wire(
                &items.children,
                path,
            )?))
        }
        TyType::Bytearray(text) => Ok(Value::ByteArray(text.clone())),
    }
}

fn elements_from_wire(items: &[types::Ty], path: &Path<'_>) -> Result<Vec<Value>, WireError> {
    let at = path.child("[]");
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        values.push(decode_value(item, &at)?);
    }
    if let Some((first, rest)) = items.split_first() {
        let first_shape = shape_of(first);
        if let Some(other) = rest.iter().find(|item| !conforms(&first_shape, item)) {
            return Err(WireError::MixedArray {
                path: at.to_string(),
                first: first_shape.to_string(),
                other: shape_of(other).to_string(),
            });
        }
    }
    Ok(values)
}

fn enum_from_wire(wire: &types::Enum, path: &Path<'_>) -> Result<Value, WireError> {
    let bad_option = || WireError::BadEnumOption {
        path: path.to_string(),
        name: wire.name.clone(),
        option: wire.option,
        options: wire.options.len(),
    };
    let active = wire
        .options
        .get(wire.option as usize)
        .ok_or_else(bad_option)?;
    let value = match active.ty.as_ref() {
        // A unit variant may come with no type at all.
        Some(ty) if ty.ty_type.is_some() => decode_value(ty, &path.child(&active.name))?,
        _ => Value::unit(),
    };
    Ok(Value::Enum(EnumValue {
        name: wire.name.as_str().into(),
        option: wire.option,
        variant: active.name.as_str().into(),
        value: Box::new(value),
    }))
}

/// The shape of a model state as it arrived.
fn struct_shape(wire: &types::Struct) -> Ty {
    Ty::Struct {
        name: wire.name.clone(),
        members: wire
            .children
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    m.key,
                    m.ty.as_ref().map_or(Ty::unit(), shape_of),
                )
            })
            .collect(),
    }
}

/// The shape of a wire value (a missing type reads as unit; decoding reports it first).
fn shape_of(wire: &types::Ty) -> Ty {
    let elements = |items: &[types::Ty]| items.first().map(|first| Box::new(shape_of(first)));
    match &wire.ty_type {
        None => Ty::unit(),
        Some(TyType::Primitive(p)) => p
            .primitive_type
            .as_ref()
            .map_or(Ty::unit(), |p| Ty::Primitive(wire_primitive_type(p))),
        Some(TyType::Struct(s)) => struct_shape(s),
        Some(TyType::Enum(e)) => Ty::Enum {
            name: e.name.clone(),
            options: e
                .options
                .iter()
                .map(|o| (o.name.clone(), o.ty.as_ref().map_or(Ty::unit(), shape_of)))
                .collect(),
        },
        Some(TyType::Tuple(items)) => Ty::Tuple(items.children.iter().map(shape_of).collect()),
        Some(TyType::Array(items)) => Ty::Array(elements(&items.children)),
        Some(TyType::FixedSizeArray(items)) => Ty::FixedSizeArray {
            element: elements(&items.children),
            size: items.size,
        },
        Some(TyType::Bytearray(_)) => Ty::ByteArray,
    }
}

/// Whether a model state has the known shape, without building its shape (the hot path).
fn struct_conforms(known: &Ty, wire: &types::Struct) -> bool {
    match known {
        Ty::Struct { name, members } => {
            *name == wire.name
                && members.len() == wire.children.len()
                && members
                    .iter()
                    .zip(&wire.children)
                    .all(|((n, k, ty), child)| {
                        *n == child.name
                            && *k == child.key
                            && child.ty.as_ref().is_some_and(|t| conforms(ty, t))
                    })
        }
        _ => false,
    }
}

/// Whether a wire value has the shape `known` (an unknown array element type accepts any).
fn conforms(known: &Ty, wire: &types::Ty) -> bool {
    let all = |element: &Option<Box<Ty>>, items: &[types::Ty]| match element {
        Some(element) => items.iter().all(|item| conforms(element, item)),
        None => true,
    };
    match (known, &wire.ty_type) {
        (Ty::Primitive(expected), Some(TyType::Primitive(p))) => p
            .primitive_type
            .as_ref()
            .is_some_and(|p| wire_primitive_type(p) == *expected),
        (Ty::Struct { .. }, Some(TyType::Struct(s))) => struct_conforms(known, s),
        (Ty::Enum { name, options }, Some(TyType::Enum(e))) => {
            *name == e.name
                && options.len() == e.options.len()
                && options.iter().zip(&e.options).all(|((n, ty), option)| {
                    *n == option.name
                        && match option.ty.as_ref() {
                            Some(t) if t.ty_type.is_some() => conforms(ty, t),
                            _ => *ty == Ty::unit(),
                        }
                })
        }
        (Ty::Tuple(items), Some(TyType::Tuple(found))) => {
            items.len() == found.children.len()
                && items
                    .iter()
                    .zip(&found.children)
                    .all(|(ty, item)| conforms(ty, item))
        }
        (Ty::Array(element), Some(TyType::Array(found))) => all(element, &found.children),
        (Ty::FixedSizeArray { element, size }, Some(TyType::FixedSizeArray(found))) => {
            *size == found.size && all(element, &found.children)
        }
        (Ty::ByteArray, Some(TyType::Bytearray(_))) => true,
        _ => false,
    }
}

fn wire_primitive_type(wire: &WirePrimitive) -> PrimitiveType {
    match wire {
        WirePrimitive::I8(_) => PrimitiveType::I8,
        WirePrimitive::I16(_) => PrimitiveType::I16,
        WirePrimitive::I32(_) => PrimitiveType::I32,
        WirePrimitive::I64(_) => PrimitiveType::I64,
        WirePrimitive::I128(_) => PrimitiveType::I128,
        WirePrimitive::U8(_) => PrimitiveType::U8,
        WirePrimitive::U16(_) => PrimitiveType::U16,
        WirePrimitive::U32(_) => PrimitiveType::U32,
        WirePrimitive::U64(_) => PrimitiveType::U64,
        WirePrimitive::U128(_) => PrimitiveType::U128,
        WirePrimitive::U256(_) => PrimitiveType::U256,
        WirePrimitive::Bool(_) => PrimitiveType::Bool,
        WirePrimitive::Felt252(_) => PrimitiveType::Felt252,
        WirePrimitive::ClassHash(_) => PrimitiveType::ClassHash,
        WirePrimitive::ContractAddress(_) => PrimitiveType::ContractAddress,
        WirePrimitive::EthAddress(_) => PrimitiveType::EthAddress,
    }
}

/// Converts a wire primitive exactly, checking lengths and ranges.
pub fn primitive_from_wire(wire: &types::Primitive, path: &str) -> Result<Primitive, WireError> {
    decode_primitive(wire, &Path::ROOT.child(path))
}

fn decode_primitive(wire: &types::Primitive, path: &Path<'_>) -> Result<Primitive, WireError> {
    let missing = || WireError::MissingType {
        path: path.to_string(),
    };
    let small = |value: i64, ty: PrimitiveType| WireError::OutOfRange {
        path: path.to_string(),
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
        WirePrimitive::U256(bytes) => Primitive::U256(u256_at(bytes, path)?),
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
                    path: path.to_string(),
                    ty: "EthAddress",
                    len: bytes.len(),
                });
            }
            Primitive::EthAddress(felt)
        }
    })
}

fn too_long(_: ParseBytesError, path: &Path<'_>, ty: &'static str, len: usize) -> WireError {
    WireError::BadLength {
        path: path.to_string(),
        ty,
        len,
    }
}

fn felt_at(bytes: &[u8], path: &Path<'_>, ty: &'static str) -> Result<Felt, WireError> {
    Felt::from_be_slice(bytes).map_err(|e| too_long(e, path, ty, bytes.len()))
}

fn u256_at(bytes: &[u8], path: &Path<'_>) -> Result<U256, WireError> {
    U256::from_be_slice(bytes).map_err(|e| too_long(e, path, "u256", bytes.len()))
}

/// A top-level felt field of a non-entity message (tokens, balances).
pub(crate) fn felt_field(bytes: &[u8], field: &str) -> Result<Felt, WireError> {
    felt_at(bytes, &Path::ROOT.child(field), "felt252")
}

/// A top-level u256 field of a non-entity message (tokens, balances).
pub(crate) fn u256_field(bytes: &[u8], field: &str) -> Result<U256, WireError> {
    u256_at(bytes, &Path::ROOT.child(field))
}

fn u128_at(bytes: &[u8], path: &Path<'_>) -> Result<u128, WireError> {
    let wide = U256::from_be_slice(bytes).map_err(|e| too_long(e, path, "u128", bytes.len()))?;
    if wide.0[..16].iter().any(|b| *b != 0) {
        return Err(WireError::BadLength {
            path: path.to_string(),
            ty: "u128",
            len: bytes.len(),
        });
    }
    let mut low = [0u8; 16];
    low.copy_from_slice(&wide.0[16..]);
    Ok(u128::from_be_bytes(low))
}

/// `i128` travels as 16 big-endian two's-complement bytes; empty bytes are proto3's zero.
fn i128_at(bytes: &[u8], path: &Path<'_>) -> Result<i128, WireError> {
    match <[u8; 16]>::try_from(bytes) {
        Ok(exact) => Ok(i128::from_be_bytes(exact)),
        Err(_) if bytes.is_empty() => Ok(0),
        Err(_) => Err(WireError::BadLength {
            path: path.to_string(),
            ty: "i128",
            len: bytes.len(),
        }),
    }
}

/// A member path built only when an error needs it (decoding allocates nothing for paths).
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        name: "",
    };

    fn child(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            name,
        }
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.parent {
            Some(parent) if !parent.name.is_empty() || parent.parent.is_some() => {
                write!(f, "{parent}.{}", self.name)
            }
            _ => f.write_str(self.name),
        }
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
