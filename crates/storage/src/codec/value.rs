//! Encoding of core values: primitives, structs, enums, tuples, arrays and byte arrays.
//!
//! ```text
//! value     = tag:u8 body
//!   0 i8, 5 u8, 11 bool      1 byte
//!   1 i16, 2 i32, 3 i64, 4 i128   zigzag varint
//!   6 u16, 7 u32, 8 u64, 9 u128   varint
//!   10 u256, 12 felt252, 13 ClassHash, 14 ContractAddress, 15 EthAddress   bytes32
//!   16 struct  name:sref members
//!   17 enum    name:sref option:varint variant:sref value
//!   18 tuple, 19 array, 20 fixed-size array   count:varint value*
//!   21 ByteArray   str
//! members   = count:varint (name:sref key:u8(0|1) value)*
//! sref      = varint index into the record's string table
//! ```
//! Names (struct, enum, variant and member names, model tags) go through the record's string
//! table, so a page of thousands of states of one model stores each name once.

use dojo_reactive_core::{EnumValue, Felt, Member, Name, Primitive, Value, U256};

use super::{DecodeError, DecodeErrorKind, Reader, Writer, MAX_DEPTH};

const STRUCT: u8 = 16;
const ENUM: u8 = 17;
const TUPLE: u8 = 18;
const ARRAY: u8 = 19;
const FIXED: u8 = 20;
const BYTE_ARRAY: u8 = 21;

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Values nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("values nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// The string table a record is being written with: each distinct name once, in first-use order.
#[derive(Debug, Default)]
pub(crate) struct Strings<'a> {
    index: dojo_reactive_core::FastMap<&'a str, u32>,
    list: Vec<&'a str>,
}

impl<'a> Strings<'a> {
    pub(crate) fn id(&mut self, text: &'a str) -> u32 {
        if let Some(id) = self.index.get(text) {
            return *id;
        }
        let id = self.list.len() as u32;
        self.index.insert(text, id);
        self.list.push(text);
        id
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.len(self.list.len());
        for text in &self.list {
            w.str(text);
        }
    }
}

/// Reads a string table written by [`Strings::write`].
pub(crate) fn read_strings(r: &mut Reader<'_>) -> Result<Vec<Name>, DecodeError> {
    let count = r.count(1, "string table")?;
    let mut list = Vec::with_capacity(count);
    for _ in 0..count {
        list.push(Name::from(r.str("string table")?));
    }
    Ok(list)
}

/// The index of a string of the table, checked.
pub(crate) fn sref_index(r: &mut Reader<'_>, strings: &[Name]) -> Result<usize, DecodeError> {
    let start = r.pos();
    let id = r.varint("string index")?;
    usize::try_from(id)
        .ok()
        .filter(|i| *i < strings.len())
        .ok_or(DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadStringIndex(id),
        })
}

/// A string of the table by its index.
pub(crate) fn sref(r: &mut Reader<'_>, strings: &[Name]) -> Result<Name, DecodeError> {
    let start = r.pos();
    let index = sref_index(r, strings)?;
    strings.get(index).cloned().ok_or(DecodeError {
        offset: start,
        kind: DecodeErrorKind::BadStringIndex(index as u64),
    })
}

/// Writes a primitive (tag and body).
pub(crate) fn write_primitive(w: &mut Writer, value: &Primitive) {
    match *value {
        Primitive::I8(v) => {
            w.u8(0);
            w.u8(v as u8);
        }
        Primitive::I16(v) => {
            w.u8(1);
            w.zigzag64(v.into());
        }
        Primitive::I32(v) => {
            w.u8(2);
            w.zigzag64(v.into());
        }
        Primitive::I64(v) => {
            w.u8(3);
            w.zigzag64(v);
        }
        Primitive::I128(v) => {
            w.u8(4);
            w.zigzag(v);
        }
        Primitive::U8(v) => {
            w.u8(5);
            w.u8(v);
        }
        Primitive::U16(v) => {
            w.u8(6);
            w.varint(v.into());
        }
        Primitive::U32(v) => {
            w.u8(7);
            w.varint(v.into());
        }
        Primitive::U64(v) => {
            w.u8(8);
            w.varint(v);
        }
        Primitive::U128(v) => {
            w.u8(9);
            w.varint128(v);
        }
        Primitive::U256(v) => {
            w.u8(10);
            w.bytes32(&v.0);
        }
        Primitive::Bool(v) => {
            w.u8(11);
            w.u8(u8::from(v));
        }
        Primitive::Felt252(v) => {
            w.u8(12);
            w.bytes32(&v.0);
        }
        Primitive::ClassHash(v) => {
            w.u8(13);
            w.bytes32(&v.0);
        }
        Primitive::ContractAddress(v) => {
            w.u8(14);
            w.bytes32(&v.0);
        }
        Primitive::EthAddress(v) => {
            w.u8(15);
            w.bytes32(&v.0);
        }
    }
}

fn narrow<T: TryFrom<i64>>(
    r: &Reader<'_>,
    value: i64,
    what: &'static str,
) -> Result<T, DecodeError> {
    T::try_from(value).map_err(|_| r.error(DecodeErrorKind::BadNumber(what)))
}

fn narrow_u<T: TryFrom<u64>>(
    r: &Reader<'_>,
    value: u64,
    what: &'static str,
) -> Result<T, DecodeError> {
    T::try_from(value).map_err(|_| r.error(DecodeErrorKind::BadNumber(what)))
}

/// Reads the body of a primitive whose tag was already read; `None` if the tag is not one.
pub(crate) fn read_primitive_body(
    r: &mut Reader<'_>,
    tag: u8,
) -> Result<Option<Primitive>, DecodeError> {
    const W: &str = "primitive";
    Ok(Some(match tag {
        0 => Primitive::I8(r.u8(W)? as i8),
        1 => {
            let v = r.zigzag64(W)?;
            Primitive::I16(narrow(r, v, W)?)
        }
        2 => {
            let v = r.zigzag64(W)?;
            Primitive::I32(narrow(r, v, W)?)
        }
        3 => Primitive::I64(r.zigzag64(W)?),
        4 => Primitive::I128(r.zigzag(W)?),
        5 => Primitive::U8(r.u8(W)?),
        6 => {
            let v = r.varint(W)?;
            Primitive::U16(narrow_u(r, v, W)?)
        }
        7 => {
            let v = r.varint(W)?;
            Primitive::U32(narrow_u(r, v, W)?)
        }
        8 => Primitive::U64(r.varint(W)?),
        9 => Primitive::U128(r.varint128(W)?),
        10 => Primitive::U256(U256(r.bytes32(W)?)),
        11 => match r.u8(W)? {
            0 => Primitive::Bool(false),
            1 => Primitive::Bool(true),
            other => {
                return Err(r.error(DecodeErrorKind::BadTag {
                    what: "bool",
                    tag: other,
                }))
            }
        },
        12 => Primitive::Felt252(Felt(r.bytes32(W)?)),
        13 => Primitive::ClassHash(Felt(r.bytes32(W)?)),
        14 => Primitive::ContractAddress(Felt(r.bytes32(W)?)),
        15 => Primitive::EthAddress(Felt(r.bytes32(W)?)),
        _ => return Ok(None),
    }))
}

/// Reads a primitive (tag and body).
pub(crate) fn read_primitive(r: &mut Reader<'_>) -> Result<Primitive, DecodeError> {
    let tag = r.u8("primitive tag")?;
    read_primitive_body(r, tag)?.ok_or_else(|| {
        r.error(DecodeErrorKind::BadTag {
            what: "primitive",
            tag,
        })
    })
}

/// Writes struct members (count, then name, key flag and value of each).
pub(crate) fn write_members<'a>(
    w: &mut Writer,
    strings: &mut Strings<'a>,
    members: &'a [Member],
    depth: usize,
) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    w.len(members.len());
    for member in members {
        w.varint(strings.id(&member.name).into());
        w.u8(u8::from(member.key));
        write_value(w, strings, &member.value, depth + 1)?;
    }
    Ok(())
}

/// Writes a value (tag and body).
pub(crate) fn write_value<'a>(
    w: &mut Writer,
    strings: &mut Strings<'a>,
    value: &'a Value,
    depth: usize,
) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    match value {
        Value::Primitive(p) => write_primitive(w, p),
        Value::Struct(s) => {
            w.u8(STRUCT);
            w.varint(strings.id(&s.name).into());
            write_members(w, strings, &s.members, depth + 1)?;
        }
        Value::Enum(e) => {
            w.u8(ENUM);
            w.varint(strings.id(&e.name).into());
            w.varint(e.option.into());
            w.varint(strings.id(&e.variant).into());
            write_value(w, strings, &e.value, depth + 1)?;
        }
        Value::Tuple(items) | Value::Array(items) | Value::FixedSizeArray(items) => {
            w.u8(match value {
                Value::Tuple(_) => TUPLE,
                Value::Array(_) => ARRAY,
                _ => FIXED,
            });
            w.len(items.len());
            for item in items {
                write_value(w, strings, item, depth + 1)?;
            }
        }
        Value::ByteArray(text) => {
            w.u8(BYTE_ARRAY);
            w.str(text);
        }
    }
    Ok(())
}

/// Reads struct members written by [`write_members`].
pub(crate) fn read_members(
    r: &mut Reader<'_>,
    strings: &[Name],
    depth: usize,
) -> Result<Vec<Member>, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(r.error(DecodeErrorKind::TooDeep));
    }
    // A member takes at least 3 bytes: name index, key flag, value tag.
    let count = r.count(3, "member count")?;
    let mut members = Vec::with_capacity(count);
    for _ in 0..count {
        let name = sref(r, strings)?;
        let key = match r.u8("member key flag")? {
            0 => false,
            1 => true,
            tag => {
                return Err(r.error(DecodeErrorKind::BadTag {
                    what: "member key flag",
                    tag,
                }))
            }
        };
        let value = read_value(r, strings, depth + 1)?;
        members.push(Member { name, key, value });
    }
    Ok(members)
}

/// Reads a value written by [`write_value`].
pub(crate) fn read_value(
    r: &mut Reader<'_>,
    strings: &[Name],
    depth: usize,
) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(r.error(DecodeErrorKind::TooDeep));
    }
    let tag = r.u8("value tag")?;
    if let Some(p) = read_primitive_body(r, tag)? {
        return Ok(Value::Primitive(p));
    }
    Ok(match tag {
        STRUCT => {
            let name = sref(r, strings)?;
            let members = read_members(r, strings, depth + 1)?;
            Value::Struct(dojo_reactive_core::Struct { name, members })
        }
        ENUM => {
            let name = sref(r, strings)?;
            let option = r.varint_u32("enum option")?;
            let variant = sref(r, strings)?;
            let value = Box::new(read_value(r, strings, depth + 1)?);
            Value::Enum(EnumValue {
                name,
                option,
                variant,
                value,
            })
        }
        TUPLE | ARRAY | FIXED => {
            let count = r.count(1, "item count")?;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(read_value(r, strings, depth + 1)?);
            }
            match tag {
                TUPLE => Value::Tuple(items),
                ARRAY => Value::Array(items),
                _ => Value::FixedSizeArray(items),
            }
        }
        BYTE_ARRAY => Value::ByteArray(r.str("byte array")?.to_owned()),
        _ => return Err(r.error(DecodeErrorKind::BadTag { what: "value", tag })),
    })
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::Struct;

    use super::*;

    pub(crate) fn sample() -> Vec<Member> {
        let felt = |n: u128| Felt::from(n);
        vec![
            Member {
                name: "player".into(),
                key: true,
                value: Value::Primitive(Primitive::ContractAddress(felt(0xabc))),
            },
            Member {
                name: "ints".into(),
                key: false,
                value: Value::Tuple(vec![
                    Value::Primitive(Primitive::I8(-5)),
                    Value::Primitive(Primitive::I16(i16::MIN)),
                    Value::Primitive(Primitive::I32(-70000)),
                    Value::Primitive(Primitive::I64(i64::MIN)),
                    Value::Primitive(Primitive::I128(i128::MIN)),
                    Value::Primitive(Primitive::U8(255)),
                    Value::Primitive(Primitive::U16(u16::MAX)),
                    Value::Primitive(Primitive::U32(u32::MAX)),
                    Value::Primitive(Primitive::U64(u64::MAX)),
                    Value::Primitive(Primitive::U128(u128::MAX)),
                    Value::Primitive(Primitive::U256(U256([0xff; 32]))),
                    Value::Primitive(Primitive::Bool(true)),
                    Value::Primitive(Primitive::Felt252(felt(0))),
                    Value::Primitive(Primitive::ClassHash(felt(7))),
                    Value::Primitive(Primitive::EthAddress(felt(u128::MAX))),
                ]),
            },
            Member {
                name: "pos".into(),
                key: false,
                value: Value::Struct(Struct {
                    name: "Vec2".into(),
                    members: vec![
                        Member {
                            name: "x".into(),
                            key: false,
                            value: Value::Primitive(Primitive::U32(3)),
                        },
                        Member {
                            name: "y".into(),
                            key: false,
                            value: Value::Primitive(Primitive::U32(4)),
                        },
                    ],
                }),
            },
            Member {
                name: "dir".into(),
                key: false,
                value: Value::Enum(EnumValue {
                    name: "Direction".into(),
                    option: 2,
                    variant: "Up".into(),
                    value: Box::new(Value::unit()),
                }),
            },
            Member {
                name: "bag".into(),
                key: false,
                value: Value::Array(vec![Value::FixedSizeArray(vec![Value::ByteArray(
                    "épée".into(),
                )])]),
            },
        ]
    }

    #[test]
    fn every_value_kind_round_trips() {
        let members = sample();
        let mut strings = Strings::default();
        let mut body = Writer::default();
        write_members(&mut body, &mut strings, &members, 0).unwrap();
        let mut w = Writer::default();
        strings.write(&mut w);
        w.bytes(&body.out);
        let mut r = Reader::new(&w.out);
        let table = read_strings(&mut r).unwrap();
        assert_eq!(read_members(&mut r, &table, 0).unwrap(), members);
        r.expect_end().unwrap();
    }

    #[test]
    fn every_prefix_and_every_byte_flip_fails_cleanly() {
        let members = sample();
        let mut strings = Strings::default();
        let mut body = Writer::default();
        write_members(&mut body, &mut strings, &members, 0).unwrap();
        let mut w = Writer::default();
        strings.write(&mut w);
        w.bytes(&body.out);
        let bytes = w.out;
        for len in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..len]);
            let decoded = read_strings(&mut r).and_then(|t| read_members(&mut r, &t, 0));
            assert!(decoded.is_err(), "prefix {len} decoded");
        }
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] ^= bit;
                let mut r = Reader::new(&bad);
                // Must not panic; may succeed (a different but valid value) or fail.
                let _ = read_strings(&mut r).and_then(|t| read_members(&mut r, &t, 0));
            }
        }
    }

    #[test]
    fn depth_is_limited_both_ways() {
        let mut value = Value::unit();
        for _ in 0..(MAX_DEPTH + 2) {
            value = Value::Array(vec![value]);
        }
        let mut strings = Strings::default();
        assert_eq!(
            write_value(&mut Writer::default(), &mut strings, &value, 0),
            Err(EncodeError::TooDeep)
        );
        let mut deep = [ARRAY, 1].repeat(MAX_DEPTH + 2);
        deep.extend([TUPLE, 0]);
        let err = read_value(&mut Reader::new(&deep), &[], 0).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooDeep);
    }
}
