//! Compact binary persistence of a [`Ledger`].
//!
//! ```text
//! "DRL" version:u8(=1)
//! next_epoch:varint  model_count:varint  model...
//! model  = str(tag) has_member:u8 [str(member)] has_floor:u8 [floor_epoch:varint floor_page:varint]
//!          entry_count:varint entry...                                     (entries sorted by id)
//! entry  = entity:32 bytes  flags:u8  epoch:varint  order:varint
//!          executed_at:varint  updated_at:varint  [game]
//! flags  = bits 0-1 state (0 write, 1 deleted, 2 absent), bit 2 snapshot source, bit 3 has game
//! game   = type:u8 (0 i8, 1 i16, 2 i32, 3 i64, 4 i128, 5 u8, 6 u16, 7 u32, 8 u64, 9 u128,
//!          10 u256, 11 bool, 12 felt252, 13 ClassHash, 14 ContractAddress, 15 EthAddress)
//!          then the value big-endian in its natural width (1, 2, 4, 8, 16 or 32 bytes; bool 1)
//! varint = unsigned LEB128, at most 10 bytes;  str = varint length + UTF-8 bytes
//! ```
//! A typical entry is 40-45 bytes. Decoding checks every length and value and never panics;
//! decision counts are not persisted.

use std::collections::HashMap;

use super::{
    Ledger, LedgerStats, ModelId, ModelTable, Source, Stamp, StateKind, SNAPSHOT_BIT, STATE_MASK,
};
use crate::bytes32::{Felt, U256};
use crate::hasher::FastMap;
use crate::value::Primitive;

const MAGIC: &[u8; 3] = b"DRL";
const FORMAT_VERSION: u8 = 1;
const GAME_BIT: u8 = 0b1000;
/// Smallest possible encoded entry: id, flags and four one-byte varints.
const MIN_ENTRY: usize = 32 + 1 + 4;

/// Why persisted ledger bytes could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerDecodeError {
    /// The bytes do not start with the ledger magic.
    #[error("not a ledger record (bad magic)")]
    BadMagic,
    /// A format version this code does not know.
    #[error("ledger format version {0} is not supported (expected {FORMAT_VERSION})")]
    UnsupportedVersion(u8),
    /// The bytes end in the middle of something.
    #[error("ledger record truncated at byte {offset} while reading {what}")]
    Truncated {
        /// Where.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A varint longer than 10 bytes or above its field's range.
    #[error("ledger record: bad {what} number at byte {offset}")]
    BadNumber {
        /// Where.
        offset: usize,
        /// Which field.
        what: &'static str,
    },
    /// Text that is not UTF-8.
    #[error("ledger record: text at byte {offset} is not UTF-8")]
    BadUtf8 {
        /// Where.
        offset: usize,
    },
    /// Flag bits that mean nothing, or a game value on a tombstone.
    #[error("ledger record: bad flags {flags:#04x} at byte {offset}")]
    BadFlags {
        /// Where.
        offset: usize,
        /// The byte.
        flags: u8,
    },
    /// An unknown primitive type tag or a bool that is not 0 or 1.
    #[error("ledger record: bad game value at byte {offset}")]
    BadGameValue {
        /// Where.
        offset: usize,
    },
    /// A model that appears twice.
    #[error("ledger record: model {0:?} appears twice")]
    DuplicateModel(String),
    /// An entity that appears twice in one model.
    #[error("ledger record: entity {entity} appears twice in {model}")]
    DuplicateEntry {
        /// The model tag.
        model: String,
        /// The entity id.
        entity: String,
    },
    /// Bytes after the end of the ledger.
    #[error("ledger record: {0} unexpected bytes at the end")]
    TrailingBytes(usize),
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn put_game(out: &mut Vec<u8>, game: &Primitive) {
    match *game {
        Primitive::I8(v) => {
            out.push(0);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::I16(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::I32(v) => {
            out.push(2);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::I64(v) => {
            out.push(3);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::I128(v) => {
            out.push(4);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::U8(v) => {
            out.push(5);
            out.push(v);
        }
        Primitive::U16(v) => {
            out.push(6);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::U32(v) => {
            out.push(7);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::U64(v) => {
            out.push(8);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::U128(v) => {
            out.push(9);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Primitive::U256(v) => {
            out.push(10);
            out.extend_from_slice(&v.0);
        }
        Primitive::Bool(v) => {
            out.push(11);
            out.push(u8::from(v));
        }
        Primitive::Felt252(v) => {
            out.push(12);
            out.extend_from_slice(&v.0);
        }
        Primitive::ClassHash(v) => {
            out.push(13);
            out.extend_from_slice(&v.0);
        }
        Primitive::ContractAddress(v) => {
            out.push(14);
            out.extend_from_slice(&v.0);
        }
        Primitive::EthAddress(v) => {
            out.push(15);
            out.extend_from_slice(&v.0);
        }
    }
}

impl Ledger {
    /// Encodes the held versions (and the epoch counter) in the compact format described in the
    /// module documentation. The output is deterministic: models in registration order, entries
    /// sorted by entity id.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.len() * 44);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        put_varint(&mut out, u64::from(self.next_epoch));
        put_varint(&mut out, self.tables.len() as u64);
        for table in &self.tables {
            put_str(&mut out, &table.tag);
            match &table.version_member {
                Some(member) => {
                    out.push(1);
                    put_str(&mut out, member);
                }
                None => out.push(0),
            }
            match &table.floor {
                Some(floor) => {
                    out.push(1);
                    put_varint(&mut out, u64::from(floor.epoch));
                    put_varint(&mut out, floor.order);
                }
                None => out.push(0),
            }
            let mut entries: Vec<(&Felt, &Stamp)> = table.stamps.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            put_varint(&mut out, entries.len() as u64);
            for (entity, stamp) in entries {
                let game = table.games.get(entity);
                out.extend_from_slice(entity.as_bytes());
                out.push(stamp.flags | if game.is_some() { GAME_BIT } else { 0 });
                put_varint(&mut out, u64::from(stamp.epoch));
                put_varint(&mut out, stamp.order);
                put_varint(&mut out, stamp.executed_at);
                put_varint(&mut out, stamp.updated_at);
                if let Some(game) = game {
                    put_game(&mut out, game);
                }
            }
        }
        out
    }

    /// Restores a ledger from [`Ledger::encode`] output. Garbage gives a typed error, never a
    /// panic. Decision counts start at zero.
    pub fn decode(bytes: &[u8]) -> Result<Ledger, LedgerDecodeError> {
        let mut reader = Reader { bytes, pos: 0 };
        if reader.take(3, "magic")? != MAGIC {
            return Err(LedgerDecodeError::BadMagic);
        }
        let version = reader.byte("version")?;
        if version != FORMAT_VERSION {
            return Err(LedgerDecodeError::UnsupportedVersion(version));
        }
        let next_epoch = reader.u32("next epoch")?.max(1);
        let model_count = reader.count("model count", 2)?;
        let mut tables = Vec::with_capacity(model_count);
        let mut by_tag = HashMap::with_capacity(model_count);
        for index in 0..model_count {
            let tag = reader.string("model tag")?;
            let version_member = match reader.byte("member flag")? {
                0 => None,
                1 => Some(reader.string("version member")?),
                flags => {
                    return Err(LedgerDecodeError::BadFlags {
                        offset: reader.pos - 1,
                        flags,
                    })
                }
            };
            let floor = match reader.byte("floor flag")? {
                0 => None,
                1 => {
                    let epoch = reader.u32("floor epoch")?;
                    let page = reader.varint("floor page")?;
                    Some(Stamp::new(
                        Source::Snapshot { epoch, page },
                        0,
                        0,
                        StateKind::Absent,
                    ))
                }
                flags => {
                    return Err(LedgerDecodeError::BadFlags {
                        offset: reader.pos - 1,
                        flags,
                    })
                }
            };
            if by_tag.contains_key(&tag) {
                return Err(LedgerDecodeError::DuplicateModel(tag));
            }
            by_tag.insert(tag.clone(), ModelId(index as u32));
            let entry_count = reader.count("entry count", MIN_ENTRY)?;
            let mut stamps = FastMap::with_capacity_and_hasher(entry_count, Default::default());
            let mut games = FastMap::default();
            for _ in 0..entry_count {
                let entity = reader.felt("entity id")?;
                let flags_at = reader.pos;
                let flags = reader.byte("flags")?;
                let state = flags & STATE_MASK;
                let has_game = flags & GAME_BIT != 0;
                if flags & !(STATE_MASK | SNAPSHOT_BIT | GAME_BIT) != 0
                    || state == 3
                    || (has_game && state != 0)
                {
                    return Err(LedgerDecodeError::BadFlags {
                        offset: flags_at,
                        flags,
                    });
                }
                let stamp = Stamp {
                    epoch: reader.u32("epoch")?,
                    order: reader.varint("order")?,
                    executed_at: reader.varint("executed_at")?,
                    updated_at: reader.varint("updated_at")?,
                    flags: flags & !GAME_BIT,
                };
                if has_game {
                    games.insert(entity, reader.game()?);
                }
                if stamps.insert(entity, stamp).is_some() {
                    return Err(LedgerDecodeError::DuplicateEntry {
                        model: tag,
                        entity: entity.to_hex(),
                    });
                }
            }
            tables.push(ModelTable {
                tag,
                version_member,
                stamps,
                games,
                floor,
            });
        }
        if reader.pos != bytes.len() {
            return Err(LedgerDecodeError::TrailingBytes(bytes.len() - reader.pos));
        }
        let mut ledger = Ledger {
            tables,
            by_tag,
            next_epoch,
            stats: LedgerStats::default(),
        };
        let max_epoch = ledger
            .tables
            .iter()
            .flat_map(|t| t.stamps.values().chain(t.floor.iter()))
            .map(|s| s.epoch)
            .max()
            .unwrap_or(0);
        ledger.next_epoch = ledger.next_epoch.max(max_epoch.saturating_add(1));
        Ok(ledger)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], LedgerDecodeError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(LedgerDecodeError::Truncated {
                offset: self.pos,
                what,
            })?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(LedgerDecodeError::Truncated {
                offset: self.pos,
                what,
            })?;
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, LedgerDecodeError> {
        let byte = *self
            .bytes
            .get(self.pos)
            .ok_or(LedgerDecodeError::Truncated {
                offset: self.pos,
                what,
            })?;
        self.pos += 1;
        Ok(byte)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], LedgerDecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn felt(&mut self, what: &'static str) -> Result<Felt, LedgerDecodeError> {
        Ok(Felt(self.array::<32>(what)?))
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, LedgerDecodeError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.byte(what)?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(LedgerDecodeError::BadNumber {
                    offset: start,
                    what,
                });
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(LedgerDecodeError::BadNumber {
            offset: start,
            what,
        })
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, LedgerDecodeError> {
        let start = self.pos;
        u32::try_from(self.varint(what)?).map_err(|_| LedgerDecodeError::BadNumber {
            offset: start,
            what,
        })
    }

    /// A count of items that each take at least `min_size` bytes: bounded by what is left, so a
    /// hostile count cannot make us allocate.
    fn count(&mut self, what: &'static str, min_size: usize) -> Result<usize, LedgerDecodeError> {
        let start = self.pos;
        let count = self.varint(what)?;
        let left = self.bytes.len().saturating_sub(self.pos) as u64;
        if count.saturating_mul(min_size as u64) > left {
            return Err(LedgerDecodeError::Truncated {
                offset: start,
                what,
            });
        }
        Ok(count as usize)
    }

    fn string(&mut self, what: &'static str) -> Result<String, LedgerDecodeError> {
        let len = self.count(what, 1)?;
        let start = self.pos;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| LedgerDecodeError::BadUtf8 { offset: start })
    }

    fn game(&mut self) -> Result<Primitive, LedgerDecodeError> {
        let offset = self.pos;
        let what = "game value";
        Ok(match self.byte(what)? {
            0 => Primitive::I8(i8::from_be_bytes(self.array(what)?)),
            1 => Primitive::I16(i16::from_be_bytes(self.array(what)?)),
            2 => Primitive::I32(i32::from_be_bytes(self.array(what)?)),
            3 => Primitive::I64(i64::from_be_bytes(self.array(what)?)),
            4 => Primitive::I128(i128::from_be_bytes(self.array(what)?)),
            5 => Primitive::U8(self.byte(what)?),
            6 => Primitive::U16(u16::from_be_bytes(self.array(what)?)),
            7 => Primitive::U32(u32::from_be_bytes(self.array(what)?)),
            8 => Primitive::U64(u64::from_be_bytes(self.array(what)?)),
            9 => Primitive::U128(u128::from_be_bytes(self.array(what)?)),
            10 => Primitive::U256(U256(self.array(what)?)),
            11 => match self.byte(what)? {
                0 => Primitive::Bool(false),
                1 => Primitive::Bool(true),
                _ => return Err(LedgerDecodeError::BadGameValue { offset }),
            },
            12 => Primitive::Felt252(self.felt(what)?),
            13 => Primitive::ClassHash(self.felt(what)?),
            14 => Primitive::ContractAddress(self.felt(what)?),
            15 => Primitive::EthAddress(self.felt(what)?),
            _ => return Err(LedgerDecodeError::BadGameValue { offset }),
        })
    }
}
