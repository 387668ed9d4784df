//! Packed model states: how the replica holds every synced state. One contiguous buffer per
//! state instead of a tree of allocations (a decoded `arena-Player` is ~1.3 KB in ~25 heap
//! objects; packed it is ~0.25 KB in one), read in place by filters ([`PackedState`] is a
//! [`FilterState`]) and decoded to a [`Struct`] only for what a caller reads.
//!
//! # Layout
//!
//! Names (of members, structs, enums and variants) are not in the bytes: each is written as its
//! index in a [`Names`] table that the states packed together share (a model's ~20 member names
//! once per replica instead of once per state).
//!
//! A struct body is a header (`count << 1 | wide`, a LEB128 varint), then one offset per member
//! (`u16` LE, or `u32` LE when `wide`), each from the start of the member area that follows, so
//! a member is found by its index without reading those before it. A member is a varint
//! `name << 1 | key` (its name's index, whether it is a key), then its value: a tag byte and
//! - integers: their fixed width, little-endian; `bool`: one byte;
//! - `u256` and the felt-like types: a length byte and their big-endian bytes without leading
//!   zeros (a small felt takes 2 bytes, not 32);
//! - struct: its name (varint index), then a struct body; enum: its name, the option (varint),
//!   the variant's name, the inner value; tuple, array, fixed-size array: a varint count then the
//!   values; `ByteArray`: varint length + UTF-8.
//!
//! The encoding of a value is unique for one [`Names`] table, so two states packed with the same
//! table are equal exactly when the decoded states are. Packed bytes are only ever written by
//! [`Packed::pack`]; reading never panics all the same (a malformed buffer, or a name index the
//! table lacks, reads as absent).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use dojo_reactive_core::{
    EnumValue, Felt, FilterState, Member, Name, Primitive, Scalar, Step, Steps, Struct, Value, U256,
};

/// One model state packed (see the module doc). Its model tag is kept by whoever holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Packed(Box<[u8]>);

impl fmt::Debug for Packed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Packed({} bytes)", self.0.len())
    }
}

/// The names packed states refer to by index (see the module doc). It only grows, so an index
/// once written stays valid; it holds each distinct name synced once. Each table has a number
/// of its own, under which a filter's [`Step`]s remember their name's index in it.
#[derive(Debug)]
pub struct Names {
    names: Vec<Name>,
    index: HashMap<Name, usize>,
    number: u32,
}

/// The number the next table gets (never 0).
static NEXT_TABLE: AtomicU32 = AtomicU32::new(1);

impl Default for Names {
    fn default() -> Self {
        Names {
            names: Vec::new(),
            index: HashMap::new(),
            // After 2^32 tables a number comes again (a table an old one's numbers would
            // mislead cannot live that long in practice); 0 stays unused.
            number: NEXT_TABLE.fetch_add(1, Ordering::Relaxed).max(1),
        }
    }
}

impl Clone for Names {
    /// A copy with a number of its own (the copies may grow apart).
    fn clone(&self) -> Self {
        Names {
            names: self.names.clone(),
            index: self.index.clone(),
            ..Names::default()
        }
    }
}

impl Names {
    /// An empty table.
    pub fn new() -> Self {
        Names::default()
    }

    /// The index of a step's name, `None` when no state packed with this table has a member
    /// (struct, enum or variant) of that name: looked up once per step, then remembered.
    #[inline]
    fn of_step(&self, step: &Step) -> Option<u64> {
        step.name_index(self.number, |name| {
            u32::try_from(*self.index.get(name)?).ok()
        })
        .map(u64::from)
    }

    /// The index of `name`, added when absent.
    fn intern(&mut self, name: &Name) -> usize {
        if let Some(&at) = self.index.get(name.as_ref()) {
            return at;
        }
        let at = self.names.len();
        self.names.push(name.clone());
        self.index.insert(name.clone(), at);
        at
    }

    /// The name at an index.
    fn get(&self, at: usize) -> Option<&Name> {
        self.names.get(at)
    }

    /// Number of names held.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is held.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

const STRUCT: u8 = 16;
const ENUM: u8 = 17;
const TUPLE: u8 = 18;
const ARRAY: u8 = 19;
const FIXED_SIZE_ARRAY: u8 = 20;
const BYTE_ARRAY: u8 = 21;

impl Packed {
    /// Packs a state's members (its name, the model tag, is not kept), their names as indices
    /// in `names` (added when absent).
    pub fn pack(state: &Struct, names: &mut Names) -> Packed {
        let mut out = Vec::with_capacity(8 * state.members.len() + 4);
        write_body(&mut out, &state.members, names);
        Packed(out.into_boxed_slice())
    }

    /// The state again, named `model` (`None` only for a buffer [`Packed::pack`] did not write
    /// with `names`).
    pub fn unpack(&self, model: &Name, names: &Names) -> Option<Struct> {
        unpack(&self.0, model, names)
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The packed bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_vec()
    }

    /// Bytes held (the buffer; the box itself is two words more).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the buffer is empty (never: even a deletion has a header).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the state has no members (a deletion).
    pub fn is_deletion(&self) -> bool {
        is_deletion(&self.0)
    }

    /// The comparable value at a member path, read in place.
    pub fn scalar<'b>(&'b self, steps: &Steps, names: &'b Names) -> Option<Scalar<'b>> {
        scalar(&self.0, steps, names)
    }
}

/// The state packed in `bytes` with `names`, named `model`.
pub fn unpack(bytes: &[u8], model: &Name, names: &Names) -> Option<Struct> {
    let mut reader = Reader::new(bytes, names);
    Some(Struct {
        name: model.clone(),
        members: reader.body()?,
    })
}

/// Whether the state packed in `bytes` has no members (a deletion).
fn is_deletion(bytes: &[u8]) -> bool {
    varint(bytes, &mut 0).is_none_or(|header| header >> 1 == 0)
}

/// The comparable value at a member path of the state packed in `bytes`, read in place.
fn scalar<'b>(bytes: &'b [u8], steps: &Steps, names: &'b Names) -> Option<Scalar<'b>> {
    member(bytes, steps, names)?.scalar()
}

/// A reader at the value (its tag) of the member at a path of the state packed in `bytes`.
fn member<'b>(bytes: &'b [u8], steps: &Steps, names: &'b Names) -> Option<Reader<'b>> {
    let (last, path) = steps.split_last()?;
    let mut body: &[u8] = bytes;
    for step in path {
        let mut value = Reader::new(member_value(body, step, names)?, names);
        if value.byte()? != STRUCT {
            return None;
        }
        value.varint()?;
        body = value.rest();
    }
    Some(Reader::new(member_value(body, last, names)?, names))
}

/// A packed state with its model tag and the names it refers to: what filters and queries
/// read. Its bytes are borrowed from the replica's arena, or owned (with a table of their own)
/// when a restored state was packed for one read. Four words, as small as before names were
/// indices: scans and query pages move it.
#[derive(Debug, Clone)]
pub struct PackedState<'a> {
    /// The model tag.
    pub model: &'a Name,
    held: Held<'a>,
}

/// The bytes of a [`PackedState`] and the table they were packed with.
#[derive(Debug, Clone)]
enum Held<'a> {
    /// In the replica's arena, with the replica's names.
    Shared { bytes: &'a [u8], names: &'a Names },
    /// Packed for one read, with a table of its own (boxed: the shared case is the common one).
    Own(Box<(Packed, Names)>),
}

impl<'a> PackedState<'a> {
    /// Bytes packed with `names`, read in place.
    pub fn new(model: &'a Name, bytes: &'a [u8], names: &'a Names) -> Self {
        PackedState {
            model,
            held: Held::Shared { bytes, names },
        }
    }

    /// A state packed with a table of its own.
    pub fn owned(model: &'a Name, packed: Packed, names: Names) -> Self {
        PackedState {
            model,
            held: Held::Own(Box::new((packed, names))),
        }
    }

    /// The packed bytes (as [`Packed::pack`] writes them) and their names.
    #[inline]
    fn parts(&self) -> (&[u8], &Names) {
        match &self.held {
            Held::Shared { bytes, names } => (bytes, names),
            Held::Own(own) => (own.0.as_bytes(), &own.1),
        }
    }

    /// The state, decoded.
    pub fn unpack(&self) -> Option<Struct> {
        let (bytes, names) = self.parts();
        unpack(bytes, self.model, names)
    }
}

impl FilterState for PackedState<'_> {
    fn model(&self) -> &str {
        self.model
    }

    fn is_deletion(&self) -> bool {
        is_deletion(self.parts().0)
    }

    fn scalar(&self, steps: &Steps) -> Option<Scalar<'_>> {
        let (bytes, names) = self.parts();
        scalar(bytes, steps, names)
    }

    fn elements(&self, steps: &Steps) -> Option<Vec<Scalar<'_>>> {
        let (bytes, names) = self.parts();
        let mut items = array(bytes, steps, names)?;
        let count = items.len()?;
        // Each element takes at least one byte: a hostile count cannot reserve much.
        let mut out = Vec::with_capacity(count.min(items.rest().len()));
        for _ in 0..count {
            out.push(items.element()?);
        }
        Some(out)
    }

    fn array_len(&self, steps: &Steps) -> Option<usize> {
        let (bytes, names) = self.parts();
        array(bytes, steps, names)?.len()
    }

    fn key_felts(&self) -> Vec<Felt> {
        let (bytes, names) = self.parts();
        key_felts(bytes, names)
    }
}

/// A reader at the count of the array (or fixed-size array) member at a path of the state
/// packed in `bytes`.
fn array<'b>(bytes: &'b [u8], steps: &Steps, names: &'b Names) -> Option<Reader<'b>> {
    let mut value = member(bytes, steps, names)?;
    matches!(value.byte()?, ARRAY | FIXED_SIZE_ARRAY).then_some(value)
}

/// The members of a struct body, found by index through its offsets.
struct Members<'b> {
    body: &'b [u8],
    names: &'b Names,
    count: usize,
    width: usize,
    /// Where the offsets start.
    offsets: usize,
    /// Where the member area starts.
    members: usize,
}

impl<'b> Members<'b> {
    fn new(body: &'b [u8], names: &'b Names) -> Option<Self> {
        let mut header = Reader::new(body, names);
        let head = header.varint()?;
        let count = usize::try_from(head >> 1).ok()?;
        let width = if head & 1 == 1 { 4 } else { 2 };
        let offsets = header.position();
        let members = offsets.checked_add(count.checked_mul(width)?)?;
        // The offsets must fit in the body: a hostile count cannot make a reader loop.
        if members > body.len() {
            return None;
        }
        Some(Members {
            body,
            names,
            count,
            width,
            offsets,
            members,
        })
    }

    /// Member `index`: its name, whether it is a key, and a reader at its value (its tag).
    fn get(&self, index: usize) -> Option<(&'b str, bool, Reader<'b>)> {
        let mut member = self.at(index)?;
        let (name, key) = member.member_head()?;
        Some((name.as_ref(), key, Reader::new(member.rest(), self.names)))
    }

    /// A reader at member `index` (its `name << 1 | key` head).
    #[inline]
    fn at(&self, index: usize) -> Option<Reader<'b>> {
        let slot = self.offsets + index * self.width;
        let offset = match self.width {
            2 => usize::from(u16::from_le_bytes(
                self.body.get(slot..slot + 2)?.try_into().ok()?,
            )),
            _ => usize::try_from(u32::from_le_bytes(
                self.body.get(slot..slot + 4)?.try_into().ok()?,
            ))
            .ok()?,
        };
        Some(Reader::new(
            self.body.get(self.members.checked_add(offset)?..)?,
            self.names,
        ))
    }
}

/// The bytes from a member's value (its tag) to the end of `body`: found at the step's index
/// hint when the name there matches, else by name. Names are compared as indices (the step's
/// looked up once): a name the table lacks is no member of any state.
fn member_value<'b>(body: &'b [u8], step: &Step, names: &'b Names) -> Option<&'b [u8]> {
    let name = names.of_step(step)?;
    let members = Members::new(body, names)?;
    let at = |index: usize| -> Option<&'b [u8]> {
        let mut member = members.at(index)?;
        (member.varint()? >> 1 == name).then(|| member.rest())
    };
    let hint = step.hint();
    if hint < members.count {
        if let Some(value) = at(hint) {
            return Some(value);
        }
    }
    (0..members.count).find_map(at)
}

/// The key members of the state packed in `bytes` serialized to felts, in declaration order
/// (only the keys are decoded).
fn key_felts(bytes: &[u8], names: &Names) -> Vec<Felt> {
    let mut out = Vec::new();
    let Some(members) = Members::new(bytes, names) else {
        return out;
    };
    for index in 0..members.count {
        if let Some((_, true, mut value)) = members.get(index) {
            if let Some(value) = value.value(0) {
                value.serialize_felts(&mut out);
            }
        }
    }
    out
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_text(out: &mut Vec<u8>, text: &str) {
    write_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn write_name(out: &mut Vec<u8>, name: &Name, names: &mut Names) {
    write_varint(out, names.intern(name) as u64);
}

fn write_body(out: &mut Vec<u8>, members: &[Member], names: &mut Names) {
    let mut area = Vec::with_capacity(8 * members.len());
    let mut offsets = Vec::with_capacity(members.len());
    for member in members {
        offsets.push(area.len());
        write_varint(
            &mut area,
            ((names.intern(&member.name) as u64) << 1) | u64::from(member.key),
        );
        write_value(&mut area, &member.value, names);
    }
    let wide = offsets
        .last()
        .is_some_and(|last| *last > usize::from(u16::MAX));
    write_varint(out, ((members.len() as u64) << 1) | u64::from(wide));
    for offset in offsets {
        if wide {
            // A body over 4 GiB cannot be held in wasm32 memory in the first place.
            out.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
        } else {
            out.extend_from_slice(&(offset as u16).to_le_bytes());
        }
    }
    out.extend_from_slice(&area);
}

/// The tag of a primitive type (0-15).
fn primitive_tag(p: &Primitive) -> u8 {
    match p {
        Primitive::I8(_) => 0,
        Primitive::I16(_) => 1,
        Primitive::I32(_) => 2,
        Primitive::I64(_) => 3,
        Primitive::I128(_) => 4,
        Primitive::U8(_) => 5,
        Primitive::U16(_) => 6,
        Primitive::U32(_) => 7,
        Primitive::U64(_) => 8,
        Primitive::U128(_) => 9,
        Primitive::U256(_) => 10,
        Primitive::Bool(_) => 11,
        Primitive::Felt252(_) => 12,
        Primitive::ClassHash(_) => 13,
        Primitive::ContractAddress(_) => 14,
        Primitive::EthAddress(_) => 15,
    }
}

fn write_wide(out: &mut Vec<u8>, bytes: &[u8; 32]) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let significant = bytes.get(start..).unwrap_or_default();
    out.push(significant.len() as u8);
    out.extend_from_slice(significant);
}

fn write_value(out: &mut Vec<u8>, value: &Value, names: &mut Names) {
    match value {
        Value::Primitive(p) => {
            out.push(primitive_tag(p));
            match p {
                Primitive::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::I128(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::U8(v) => out.push(*v),
                Primitive::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::U128(v) => out.extend_from_slice(&v.to_le_bytes()),
                Primitive::Bool(v) => out.push(u8::from(*v)),
                Primitive::U256(v) => write_wide(out, &v.0),
                Primitive::Felt252(v)
                | Primitive::ClassHash(v)
                | Primitive::ContractAddress(v)
                | Primitive::EthAddress(v) => write_wide(out, &v.0),
            }
        }
        Value::Struct(s) => {
            out.push(STRUCT);
            write_name(out, &s.name, names);
            write_body(out, &s.members, names);
        }
        Value::Enum(e) => {
            out.push(ENUM);
            write_name(out, &e.name, names);
            write_varint(out, u64::from(e.option));
            write_name(out, &e.variant, names);
            write_value(out, &e.value, names);
        }
        Value::Tuple(items) | Value::Array(items) | Value::FixedSizeArray(items) => {
            out.push(match value {
                Value::Tuple(_) => TUPLE,
                Value::Array(_) => ARRAY,
                _ => FIXED_SIZE_ARRAY,
            });
            write_varint(out, items.len() as u64);
            for item in items {
                write_value(out, item, names);
            }
        }
        Value::ByteArray(text) => {
            out.push(BYTE_ARRAY);
            write_text(out, text);
        }
    }
}

/// The LEB128 varint at `*at` in `bytes`, `*at` moved past it.
#[inline]
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A cursor over packed bytes and the names they refer to; every read is checked (`None` past
/// the end, on a bad tag or a name index the table lacks).
struct Reader<'b> {
    bytes: &'b [u8],
    names: &'b Names,
    at: usize,
}

/// Deepest nesting read back (the writer never exceeds what the decoder that built the state
/// allowed; this only bounds the recursion on a buffer it did not write).
const MAX_DEPTH: u32 = 64;

impl<'b> Reader<'b> {
    fn new(bytes: &'b [u8], names: &'b Names) -> Self {
        Reader {
            bytes,
            names,
            at: 0,
        }
    }

    fn position(&self) -> usize {
        self.at
    }

    fn rest(&self) -> &'b [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let bytes = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn varint(&mut self) -> Option<u64> {
        varint(self.bytes, &mut self.at)
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    /// A name written as its index.
    fn name(&mut self) -> Option<&'b Name> {
        let at = self.len()?;
        self.names.get(at)
    }

    /// A member's name and whether it is a key.
    fn member_head(&mut self) -> Option<(&'b Name, bool)> {
        let head = self.varint()?;
        let name = self.names.get(usize::try_from(head >> 1).ok()?)?;
        Some((name, head & 1 == 1))
    }

    fn text(&mut self) -> Option<&'b str> {
        let len = self.len()?;
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn wide(&mut self) -> Option<[u8; 32]> {
        let len = usize::from(self.byte()?);
        let significant = self.take(len)?;
        let mut bytes = [0u8; 32];
        bytes
            .get_mut(32usize.checked_sub(len)?..)?
            .copy_from_slice(significant);
        Some(bytes)
    }

    fn primitive(&mut self, tag: u8) -> Option<Primitive> {
        Some(match tag {
            0 => Primitive::I8(i8::from_le_bytes(self.array()?)),
            1 => Primitive::I16(i16::from_le_bytes(self.array()?)),
            2 => Primitive::I32(i32::from_le_bytes(self.array()?)),
            3 => Primitive::I64(i64::from_le_bytes(self.array()?)),
            4 => Primitive::I128(i128::from_le_bytes(self.array()?)),
            5 => Primitive::U8(self.byte()?),
            6 => Primitive::U16(u16::from_le_bytes(self.array()?)),
            7 => Primitive::U32(u32::from_le_bytes(self.array()?)),
            8 => Primitive::U64(u64::from_le_bytes(self.array()?)),
            9 => Primitive::U128(u128::from_le_bytes(self.array()?)),
            10 => Primitive::U256(U256(self.wide()?)),
            11 => Primitive::Bool(self.byte()? != 0),
            12 => Primitive::Felt252(Felt(self.wide()?)),
            13 => Primitive::ClassHash(Felt(self.wide()?)),
            14 => Primitive::ContractAddress(Felt(self.wide()?)),
            15 => Primitive::EthAddress(Felt(self.wide()?)),
            _ => return None,
        })
    }

    /// The comparable value here (primitives, enum variants, text; `None` for the others).
    fn scalar(&mut self) -> Option<Scalar<'b>> {
        match self.byte()? {
            ENUM => {
                self.varint()?;
                self.varint()?;
                Some(Scalar::Variant(self.name()?))
            }
            BYTE_ARRAY => Some(Scalar::Text(self.text()?)),
            tag => self.primitive(tag).map(Scalar::Primitive),
        }
    }

    /// The comparable value of an array element here, read past the whole element (an enum's
    /// inner value too); `None` when it is not comparable.
    fn element(&mut self) -> Option<Scalar<'b>> {
        let scalar = self.scalar()?;
        if let Scalar::Variant(_) = scalar {
            self.value(0)?;
        }
        Some(scalar)
    }

    fn body(&mut self) -> Option<Vec<Member>> {
        self.body_at(0)
    }

    fn body_at(&mut self, depth: u32) -> Option<Vec<Member>> {
        let head = self.varint()?;
        let count = usize::try_from(head >> 1).ok()?;
        let width = if head & 1 == 1 { 4 } else { 2 };
        self.take(count.checked_mul(width)?)?;
        // Each member takes at least two bytes: a hostile count cannot reserve much.
        let mut members = Vec::with_capacity(count.min(self.rest().len() / 2));
        for _ in 0..count {
            let (name, key) = self.member_head()?;
            let name = name.clone();
            let value = self.value(depth)?;
            members.push(Member { name, key, value });
        }
        Some(members)
    }

    fn items(&mut self, depth: u32) -> Option<Vec<Value>> {
        let count = self.len()?;
        let mut items = Vec::with_capacity(count.min(self.rest().len()));
        for _ in 0..count {
            items.push(self.value(depth)?);
        }
        Some(items)
    }

    fn value(&mut self, depth: u32) -> Option<Value> {
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match self.byte()? {
            STRUCT => {
                let name = self.name()?.clone();
                Value::Struct(Struct {
                    name,
                    members: self.body_at(depth)?,
                })
            }
            ENUM => {
                let name = self.name()?.clone();
                let option = u32::try_from(self.varint()?).ok()?;
                let variant = self.name()?.clone();
                let value = Box::new(self.value(depth)?);
                Value::Enum(EnumValue {
                    name,
                    option,
                    variant,
                    value,
                })
            }
            TUPLE => Value::Tuple(self.items(depth)?),
            ARRAY => Value::Array(self.items(depth)?),
            FIXED_SIZE_ARRAY => Value::FixedSizeArray(self.items(depth)?),
            BYTE_ARRAY => Value::ByteArray(self.text()?.to_owned()),
            tag => Value::Primitive(self.primitive(tag)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, key: bool, value: Value) -> Member {
        Member {
            name: name.into(),
            key,
            value,
        }
    }

    fn sample() -> Struct {
        let mut felt = [0u8; 32];
        felt[31] = 0x2a;
        felt[3] = 0x01;
        Struct {
            name: "ns-M".into(),
            members: vec![
                member(
                    "id",
                    true,
                    Value::Primitive(Primitive::ContractAddress(Felt(felt))),
                ),
                member("hp", false, Value::Primitive(Primitive::I16(-7))),
                member(
                    "class",
                    false,
                    Value::Enum(EnumValue {
                        name: "Class".into(),
                        option: 2,
                        variant: "Rogue".into(),
                        value: Box::new(Value::Primitive(Primitive::U8(3))),
                    }),
                ),
                member(
                    "pos",
                    false,
                    Value::Struct(Struct {
                        name: "Vec2".into(),
                        members: vec![
                            member("x", false, Value::Primitive(Primitive::U32(5))),
                            member("y", false, Value::Primitive(Primitive::U32(9))),
                        ],
                    }),
                ),
                member("title", false, Value::ByteArray("héllo".into())),
                member(
                    "bag",
                    false,
                    Value::Array(vec![Value::Tuple(vec![
                        Value::Primitive(Primitive::U256(U256::ZERO)),
                        Value::Primitive(Primitive::Bool(true)),
                    ])]),
                ),
                member(
                    "zero",
                    false,
                    Value::Primitive(Primitive::Felt252(Felt::ZERO)),
                ),
            ],
        }
    }

    fn steps(path: &[(&str, usize)]) -> Steps {
        path.iter().map(|(n, i)| Step::new(*n, *i)).collect()
    }

    #[test]
    fn a_state_unpacks_to_itself_and_is_smaller_packed() {
        let mut names = Names::new();
        let state = sample();
        let packed = Packed::pack(&state, &mut names);
        assert_eq!(packed.unpack(&state.name, &names), Some(state.clone()));
        // Names are indices: 7 members and their nested names in under 100 bytes.
        assert!(packed.len() < 100, "{} bytes", packed.len());
        assert!(!packed.is_deletion());
        let deletion = Packed::pack(
            &Struct {
                name: "ns-M".into(),
                members: Vec::new(),
            },
            &mut names,
        );
        assert!(deletion.is_deletion());
        assert_eq!(
            deletion
                .unpack(&"ns-M".into(), &names)
                .map(|s| s.members.len()),
            Some(0)
        );
    }

    #[test]
    fn members_are_read_in_place_by_hint_or_by_name() {
        let mut names = Names::new();
        let packed = Packed::pack(&sample(), &mut names);
        assert_eq!(
            packed.scalar(&steps(&[("hp", 1)]), &names),
            Some(Scalar::Primitive(Primitive::I16(-7)))
        );
        // A wrong hint still finds the member by name.
        assert_eq!(
            packed.scalar(&steps(&[("hp", 5)]), &names),
            Some(Scalar::Primitive(Primitive::I16(-7)))
        );
        assert_eq!(
            packed.scalar(&steps(&[("pos", 3), ("y", 1)]), &names),
            Some(Scalar::Primitive(Primitive::U32(9)))
        );
        assert_eq!(
            packed.scalar(&steps(&[("class", 2)]), &names),
            Some(Scalar::Variant("Rogue"))
        );
        assert_eq!(
            packed.scalar(&steps(&[("title", 4)]), &names),
            Some(Scalar::Text("héllo"))
        );
        // Not comparable, absent, or a path through a non-struct.
        assert_eq!(packed.scalar(&steps(&[("pos", 3)]), &names), None);
        assert_eq!(packed.scalar(&steps(&[("bag", 5)]), &names), None);
        assert_eq!(packed.scalar(&steps(&[("nope", 0)]), &names), None);
        assert_eq!(packed.scalar(&steps(&[("hp", 1), ("x", 0)]), &names), None);
        assert_eq!(packed.scalar(&Vec::new(), &names), None);
    }

    #[test]
    fn equal_packings_mean_equal_states() {
        let mut names = Names::new();
        let a = sample();
        let mut b = sample();
        assert_eq!(Packed::pack(&a, &mut names), Packed::pack(&b, &mut names));
        b.members[1].value = Value::Primitive(Primitive::I16(-8));
        assert_ne!(Packed::pack(&a, &mut names), Packed::pack(&b, &mut names));
        // Same bits, another type: another packing.
        let mut c = sample();
        c.members[1].value = Value::Primitive(Primitive::U16(0xfff9));
        assert_ne!(Packed::pack(&a, &mut names), Packed::pack(&c, &mut names));
    }

    #[test]
    fn truncated_or_garbage_buffers_read_as_absent() {
        let mut names = Names::new();
        let packed = Packed::pack(&sample(), &mut names);
        for cut in 0..packed.len() {
            let short = Packed(packed.0[..cut].into());
            assert_eq!(short.unpack(&"ns-M".into(), &names), None, "cut at {cut}");
            let _ = short.scalar(&steps(&[("pos", 3), ("y", 1)]), &names);
            let _ = short.is_deletion();
        }
        let garbage = Packed(vec![0xff; 40].into());
        assert_eq!(garbage.unpack(&"ns-M".into(), &names), None);
        assert_eq!(garbage.scalar(&steps(&[("hp", 1)]), &names), None);
    }

    #[test]
    fn a_packed_state_stays_small_to_move() {
        // Scans yield one per state and query pages collect and sort them: a name table held
        // inline (it was, before) made query pages a third slower.
        assert!(std::mem::size_of::<PackedState<'_>>() <= 4 * std::mem::size_of::<usize>());
    }

    #[test]
    fn wide_bodies_use_four_byte_offsets() {
        let mut names = Names::new();
        let long = "x".repeat(70_000);
        let state = Struct {
            name: "ns-M".into(),
            members: vec![
                member("a", false, Value::ByteArray(long)),
                member("b", false, Value::Primitive(Primitive::U8(4))),
            ],
        };
        let packed = Packed::pack(&state, &mut names);
        assert_eq!(packed.unpack(&state.name, &names), Some(state));
        assert_eq!(
            packed.scalar(&steps(&[("b", 1)]), &names),
            Some(Scalar::Primitive(Primitive::U8(4)))
        );
    }
}
