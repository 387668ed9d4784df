//! The compact binary encoding of everything this crate stores: byte-level writer and reader,
//! the checksum that ends every record, and the typed error every decoder returns.
//!
//! Numbers are unsigned LEB128 varints (signed ones zigzag-mapped first), text is a varint
//! length followed by UTF-8, and 32-byte quantities (felts, `u256`) are a length byte followed
//! by their significant big-endian bytes. Every read checks the bytes left, so decoding
//! garbage returns a [`DecodeError`] and never panics or allocates more than the input allows.

pub(crate) mod sync_state;
pub(crate) mod value;
pub(crate) mod version;

pub use value::EncodeError;

/// Why stored bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct DecodeError {
    /// Where in the record the problem was found.
    pub offset: usize,
    /// What the problem is.
    pub kind: DecodeErrorKind,
}

/// What was wrong with stored bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The record does not start with the expected magic bytes.
    #[error("not a {0} record (bad magic)")]
    BadMagic(&'static str),
    /// A format version this code does not read.
    #[error("format version {0} is not supported")]
    UnsupportedVersion(u8),
    /// The bytes end in the middle of something.
    #[error("truncated while reading {0}")]
    Truncated(&'static str),
    /// A varint longer than its type allows, or a number out of its field's range.
    #[error("bad number in {0}")]
    BadNumber(&'static str),
    /// Text that is not UTF-8.
    #[error("text in {0} is not UTF-8")]
    BadUtf8(&'static str),
    /// A tag or flag byte that means nothing.
    #[error("bad tag {tag:#04x} in {what}")]
    BadTag {
        /// The field.
        what: &'static str,
        /// The byte found.
        tag: u8,
    },
    /// A string-table index past the end of the table.
    #[error("string index {0} is out of range")]
    BadStringIndex(u64),
    /// Values nested deeper than [`MAX_DEPTH`].
    #[error("values nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// The checksum does not match the content.
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// The checksum stored in the record.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// Bytes left over after the end of the content.
    #[error("{0} unexpected bytes at the end")]
    TrailingBytes(usize),
    /// A field that disagrees with where the record was found (e.g. the target of its key).
    #[error("{0}")]
    Inconsistent(&'static str),
}

/// How deep values may nest (structs in arrays in enums ...) before decoding gives up.
pub const MAX_DEPTH: usize = 64;

/// Appends the encoding of values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Writer {
            out: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub(crate) fn varint(&mut self, mut value: u64) {
        // 64-bit arithmetic: u128 is emulated (slowly) on wasm32.
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    pub(crate) fn varint128(&mut self, mut value: u128) {
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    pub(crate) fn zigzag(&mut self, value: i128) {
        self.varint128(((value << 1) ^ (value >> 127)) as u128);
    }

    pub(crate) fn zigzag64(&mut self, value: i64) {
        self.varint(((value << 1) ^ (value >> 63)) as u64);
    }

    pub(crate) fn len(&mut self, len: usize) {
        self.varint(len as u64);
    }

    pub(crate) fn str(&mut self, text: &str) {
        self.len(text.len());
        self.bytes(text.as_bytes());
    }

    /// A 32-byte big-endian quantity as its significant bytes.
    pub(crate) fn bytes32(&mut self, value: &[u8; 32]) {
        let first = value.iter().position(|b| *b != 0).unwrap_or(32);
        let significant = value.get(first..).unwrap_or_default();
        self.u8(significant.len() as u8);
        self.bytes(significant);
    }

    /// Ends a record: appends the checksum of everything written so far.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let sum = checksum(&self.out);
        self.out.extend_from_slice(&sum.to_be_bytes());
        self.out
    }
}

/// Reads values back, checking every length.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// A reader over a whole record after checking and removing its trailing checksum.
    pub(crate) fn checked(record: &'a [u8], what: &'static str) -> Result<Self, DecodeError> {
        let Some(split) = record.len().checked_sub(4) else {
            return Err(DecodeError {
                offset: record.len(),
                kind: DecodeErrorKind::Truncated(what),
            });
        };
        let (content, tail) = record.split_at(split);
        let mut stored = [0u8; 4];
        stored.copy_from_slice(tail);
        let stored = u32::from_be_bytes(stored);
        let computed = checksum(content);
        if stored != computed {
            return Err(DecodeError {
                offset: split,
                kind: DecodeErrorKind::Checksum { stored, computed },
            });
        }
        Ok(Reader::new(content))
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.pos,
            kind,
        }
    }

    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| self.error(DecodeErrorKind::Truncated(what)))?;
        let slice = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.error(DecodeErrorKind::Truncated(what)))?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let byte = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.error(DecodeErrorKind::Truncated(what)))?;
        self.pos += 1;
        Ok(byte)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn varint128(&mut self, what: &'static str) -> Result<u128, DecodeError> {
        let start = self.pos;
        let mut value: u128 = 0;
        for shift in (0..128).step_by(7) {
            let byte = self.u8(what)?;
            let bits = u128::from(byte & 0x7f);
            if shift == 126 && bits > 0b11 {
                self.pos = start;
                return Err(self.error(DecodeErrorKind::BadNumber(what)));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.error(DecodeErrorKind::BadNumber(what)))
    }

    pub(crate) fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        // 64-bit arithmetic (u128 is emulated on wasm32), one-byte values first.
        if let Some(&byte) = self.data.get(self.pos) {
            if byte < 0x80 {
                self.pos += 1;
                return Ok(u64::from(byte));
            }
        }
        let start = self.pos;
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8(what)?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                self.pos = start;
                return Err(self.error(DecodeErrorKind::BadNumber(what)));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.error(DecodeErrorKind::BadNumber(what)))
    }

    pub(crate) fn zigzag64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        let raw = self.varint(what)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    pub(crate) fn varint_u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        let value = self.varint(what)?;
        u32::try_from(value).map_err(|_| DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadNumber(what),
        })
    }

    pub(crate) fn zigzag(&mut self, what: &'static str) -> Result<i128, DecodeError> {
        let raw = self.varint128(what)?;
        Ok(((raw >> 1) as i128) ^ -((raw & 1) as i128))
    }

    /// A count of items that each take at least `min_item` bytes: checked against the bytes left
    /// so that garbage cannot make us allocate more than the input.
    pub(crate) fn count(
        &mut self,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let start = self.pos;
        let count = self.varint(what)?;
        let fits = usize::try_from(count)
            .ok()
            .filter(|n| n.saturating_mul(min_item.max(1)) <= self.remaining());
        fits.ok_or(DecodeError {
            offset: start,
            kind: DecodeErrorKind::Truncated(what),
        })
    }

    pub(crate) fn str(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        let len = self.count(1, what)?;
        let start = self.pos;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError {
            offset: start,
            kind: DecodeErrorKind::BadUtf8(what),
        })
    }

    pub(crate) fn bytes32(&mut self, what: &'static str) -> Result<[u8; 32], DecodeError> {
        let len = usize::from(self.u8(what)?);
        if len > 32 {
            self.pos -= 1;
            return Err(self.error(DecodeErrorKind::BadNumber(what)));
        }
        let significant = self.take(len, what)?;
        let mut out = [0u8; 32];
        if let Some(tail) = out.get_mut(32 - len..) {
            tail.copy_from_slice(significant);
        }
        Ok(out)
    }

    pub(crate) fn expect_end(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(DecodeErrorKind::TrailingBytes(n))),
        }
    }

    pub(crate) fn magic(&mut self, magic: &[u8; 3], what: &'static str) -> Result<u8, DecodeError> {
        let found = self.take(3, what)?;
        if found != magic {
            self.pos -= 3;
            return Err(self.error(DecodeErrorKind::BadMagic(what)));
        }
        self.u8(what)
    }
}

/// A 32-bit checksum of a record's content: four lanes of a multiplicative hash over 8-byte
/// words (independent, so they run in parallel), folded. Fast enough to check every record at
/// start-up; any flipped or truncated byte changes it. Public so that fuzzers can seal arbitrary
/// content and reach the decoders behind it.
pub fn checksum(data: &[u8]) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let seed = (data.len() as u64).wrapping_mul(K) ^ 0x2545_F491_4F6C_DD1D;
    let mut lanes = [seed, seed ^ 1, seed ^ 2, seed ^ 3];
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            *lane = (*lane ^ u64::from_le_bytes(bytes))
                .wrapping_mul(K)
                .rotate_left(31);
        }
    }
    let mut hash = lanes.iter().fold(seed, |acc, lane| {
        (acc ^ lane).wrapping_mul(K).rotate_left(27)
    });
    for chunk in blocks.remainder().chunks(8) {
        let mut bytes = [0u8; 8];
        if let Some(dst) = bytes.get_mut(..chunk.len()) {
            dst.copy_from_slice(chunk);
        }
        hash = (hash ^ u64::from_le_bytes(bytes))
            .wrapping_mul(K)
            .rotate_left(31);
    }
    hash ^= hash >> 29;
    hash = hash.wrapping_mul(K);
    hash ^= hash >> 32;
    hash as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong() {
        let mut w = Writer::default();
        for v in [0u128, 1, 127, 128, 300, u128::from(u64::MAX), u128::MAX] {
            w.varint128(v);
        }
        w.zigzag(-1);
        w.zigzag(i128::MIN);
        w.zigzag(i128::MAX);
        let bytes = w.out;
        let mut r = Reader::new(&bytes);
        for v in [0u128, 1, 127, 128, 300, u128::from(u64::MAX), u128::MAX] {
            assert_eq!(r.varint128("n").unwrap(), v);
        }
        assert_eq!(r.zigzag("z").unwrap(), -1);
        assert_eq!(r.zigzag("z").unwrap(), i128::MIN);
        assert_eq!(r.zigzag("z").unwrap(), i128::MAX);
        r.expect_end().unwrap();

        let overlong = [0xffu8; 20];
        assert!(matches!(
            Reader::new(&overlong).varint128("n"),
            Err(DecodeError {
                kind: DecodeErrorKind::BadNumber(_),
                ..
            })
        ));
        let big = {
            let mut w = Writer::default();
            w.varint128(u128::from(u64::MAX) + 1);
            w.out
        };
        assert!(Reader::new(&big).varint("n").is_err());
    }

    #[test]
    fn checksum_detects_any_single_byte_change() {
        let mut w = Writer::default();
        w.str("hello world, a record of some length");
        let record = w.finish();
        assert!(Reader::checked(&record, "t").is_ok());
        for i in 0..record.len() {
            let mut bad = record.clone();
            bad[i] ^= 0x01;
            assert!(Reader::checked(&bad, "t").is_err(), "flip at {i}");
        }
        for len in 0..record.len() {
            assert!(Reader::checked(&record[..len], "t").is_err());
        }
    }

    #[test]
    fn counts_cannot_exceed_the_input() {
        let mut w = Writer::default();
        w.varint(u64::MAX);
        assert!(Reader::new(&w.out).count(1, "c").is_err());
        let mut w = Writer::default();
        w.varint(3);
        w.bytes(&[1, 2]);
        assert!(Reader::new(&w.out).count(1, "c").is_err());
    }

    #[test]
    fn bytes32_is_minimal_and_checked() {
        let mut value = [0u8; 32];
        value[31] = 5;
        let mut w = Writer::default();
        w.bytes32(&value);
        w.bytes32(&[0xff; 32]);
        w.bytes32(&[0; 32]);
        assert_eq!(w.out.len(), 2 + 33 + 1);
        let mut r = Reader::new(&w.out);
        assert_eq!(r.bytes32("f").unwrap(), value);
        assert_eq!(r.bytes32("f").unwrap(), [0xff; 32]);
        assert_eq!(r.bytes32("f").unwrap(), [0; 32]);
        assert!(Reader::new(&[33]).bytes32("f").is_err());
        assert!(Reader::new(&[2, 1]).bytes32("f").is_err());
    }
}
