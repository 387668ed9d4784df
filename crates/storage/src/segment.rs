//! The chunked record that holds entity data: a *segment* of slot writes, each slot being one
//! (entity, model) pair with a state facet (the model state, or its deletion) and a version
//! facet (its ledger entry, or its removal).
//!
//! Every commit writes one **delta** segment; compaction folds small or mostly superseded
//! segments into **pages** (the same format, sorted by entity). Replaying a target's segments in
//! key order, the later write of each facet winning, gives the stored state.
//!
//! ```text
//! segment = "DRS" format:u8(=1) kind:u8(0 delta, 1 page) target:u8(0 entities, 1 event messages)
//!           strings record_count:varint (len:varint record)* checksum:4
//! strings = count:varint str*                      (model tags and every name, each once)
//! record  = entity:32 model:sref ops:u8 [version] [state]
//! ops     = bits 0-1 state op (0 none, 1 upsert, 2 delete), bits 2-3 version op (0 none, 1 set,
//!           2 clear); other bits zero
//! state   = world:bytes32 created_at:varint updated_at:varint executed_at:varint members
//! ```
//! (`version`, `members`, `sref`, `bytes32`: see the `codec` modules.) Records are
//! length-prefixed so a reader can skip to the one it wants without decoding the others.

use dojo_reactive_core::sync::{ModelKey, ModelRecord, TargetKind};
use std::ops::Range;

use dojo_reactive_core::{EntityId, Felt, Member, Name, Struct, Version};

use crate::codec::value::{
    read_members, read_strings, sref_index, write_members, EncodeError, Strings,
};
use crate::codec::version::{read_version, write_version};
use crate::codec::{DecodeError, DecodeErrorKind, Reader, Writer};

const MAGIC: &[u8; 3] = b"DRS";
const FORMAT: u8 = 1;
const STATE_OPS: u8 = 0b11;
const VERSION_OPS: u8 = 0b1100;

/// Whether a segment was written by a commit or by compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// The writes of one commit.
    Delta,
    /// Compacted live data.
    Page,
}

/// What a slot write does to the model state.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StateWrite<'a> {
    /// Leaves it.
    None,
    /// Inserts or replaces it.
    Upsert(&'a ModelRecord),
    /// Deletes it.
    Delete,
}

/// What a slot write does to the ledger entry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum VersionWrite<'a> {
    /// Leaves it.
    None,
    /// Sets it.
    Set(&'a Version),
    /// Removes it (pruned).
    Clear,
}

/// One (entity, model) write to encode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotWrite<'a> {
    pub(crate) entity: &'a EntityId,
    pub(crate) model: &'a str,
    pub(crate) state: StateWrite<'a>,
    pub(crate) version: VersionWrite<'a>,
}

/// The state op of a decoded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateOp {
    None,
    Upsert,
    Delete,
}

/// The version op of a decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionOp {
    None,
    Set(Version),
    Clear,
}

pub(crate) fn target_byte(target: TargetKind) -> u8 {
    match target {
        TargetKind::Entities => 0,
        TargetKind::EventMessages => 1,
        TargetKind::Tokens => 2,
        TargetKind::TokenBalances => 3,
        TargetKind::TokenContracts => 4,
    }
}

/// The target of a segment's target byte (entities for a byte no kind has, as before kinds
/// were added).
pub(crate) fn target_of_byte(byte: Option<&u8>) -> TargetKind {
    TargetKind::ALL
        .into_iter()
        .find(|kind| byte == Some(&target_byte(*kind)))
        .unwrap_or(TargetKind::Entities)
}

/// Builds one segment record write by write.
pub(crate) struct SegmentEncoder<'a> {
    kind: SegmentKind,
    target: TargetKind,
    strings: Strings<'a>,
    records: Writer,
    record: Writer,
    count: usize,
}

impl<'a> SegmentEncoder<'a> {
    pub(crate) fn new(kind: SegmentKind, target: TargetKind) -> Self {
        SegmentEncoder {
            kind,
            target,
            strings: Strings::default(),
            records: Writer::with_capacity(4096),
            record: Writer::with_capacity(512),
            count: 0,
        }
    }

    /// Appends one slot write.
    pub(crate) fn push(&mut self, write: SlotWrite<'a>) -> Result<(), EncodeError> {
        let record = &mut self.record;
        record.out.clear();
        record.bytes(&write.entity.0);
        record.varint(self.strings.id(write.model).into());
        let state_op = match write.state {
            StateWrite::None => 0,
            StateWrite::Upsert(_) => 1,
            StateWrite::Delete => 2,
        };
        let version_op = match write.version {
            VersionWrite::None => 0,
            VersionWrite::Set(_) => 1,
            VersionWrite::Clear => 2,
        };
        record.u8(state_op | (version_op << 2));
        if let VersionWrite::Set(version) = write.version {
            write_version(record, version);
        }
        if let StateWrite::Upsert(model) = write.state {
            record.bytes32(&model.world_address.0);
            record.varint(model.created_at);
            record.varint(model.updated_at);
            record.varint(model.executed_at);
            write_members(record, &mut self.strings, &model.state.members, 0)?;
        }
        self.records.len(record.out.len());
        self.records.bytes(&record.out);
        self.count += 1;
        Ok(())
    }

    /// Number of writes pushed.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Bytes of the records pushed so far (the segment is a little larger).
    pub(crate) fn size(&self) -> usize {
        self.records.out.len()
    }

    /// The finished segment record.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.records.out.len() + 256);
        w.bytes(MAGIC);
        w.u8(FORMAT);
        w.u8(match self.kind {
            SegmentKind::Delta => 0,
            SegmentKind::Page => 1,
        });
        w.u8(target_byte(self.target));
        self.strings.write(&mut w);
        w.len(self.count);
        w.bytes(&self.records.out);
        w.finish()
    }
}

/// Encodes slot writes as one segment.
#[cfg(test)]
pub(crate) fn encode_segment<'a>(
    kind: SegmentKind,
    target: TargetKind,
    writes: impl IntoIterator<Item = SlotWrite<'a>>,
) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = SegmentEncoder::new(kind, target);
    for write in writes {
        encoder.push(write)?;
    }
    Ok(encoder.finish())
}

/// A decoded segment header with its records still encoded.
#[derive(Debug)]
pub(crate) struct SegmentView<'a> {
    pub(crate) kind: SegmentKind,
    pub(crate) strings: Vec<Name>,
    pub(crate) records: Vec<RecordView<'a>>,
}

/// One record: its key and ops decoded, its model state still encoded.
#[derive(Debug, Clone)]
pub(crate) struct RecordView<'a> {
    pub(crate) entity: EntityId,
    /// Index of the model tag in the segment's string table (checked).
    pub(crate) model: usize,
    pub(crate) state: StateOp,
    pub(crate) version: VersionOp,
    /// The encoded state (empty unless `state` is `Upsert`).
    state_bytes: &'a [u8],
    /// Offset of `state_bytes` in the segment, for error reports.
    state_offset: usize,
}

/// Decodes a segment's header and record heads, checking the checksum, every length and that
/// the segment belongs to `target`.
pub(crate) fn decode_segment(
    bytes: &[u8],
    target: TargetKind,
) -> Result<SegmentView<'_>, DecodeError> {
    const W: &str = "segment";
    let mut r = Reader::checked(bytes, W)?;
    let format = r.magic(MAGIC, W)?;
    if format != FORMAT {
        return Err(r.error(DecodeErrorKind::UnsupportedVersion(format)));
    }
    let kind = match r.u8("segment kind")? {
        0 => SegmentKind::Delta,
        1 => SegmentKind::Page,
        tag => {
            return Err(r.error(DecodeErrorKind::BadTag {
                what: "segment kind",
                tag,
            }))
        }
    };
    if r.u8("segment target")? != target_byte(target) {
        return Err(r.error(DecodeErrorKind::Inconsistent(
            "segment belongs to another target",
        )));
    }
    let strings = read_strings(&mut r)?;
    // A record takes at least 35 bytes: length, entity, model, ops.
    let count = r.count(35, "record count")?;
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.count(1, "record length")?;
        let offset = r.pos();
        let body = r.take(len, "record")?;
        records.push(decode_head(body, offset, &strings)?);
    }
    r.expect_end()?;
    Ok(SegmentView {
        kind,
        strings,
        records,
    })
}

fn decode_head<'a>(
    body: &'a [u8],
    offset: usize,
    strings: &[Name],
) -> Result<RecordView<'a>, DecodeError> {
    let shift = |mut e: DecodeError| {
        e.offset += offset;
        e
    };
    let mut r = Reader::new(body);
    let entity = Felt(r.array::<32>("entity id").map_err(shift)?);
    let model_start = r.pos();
    let model = sref_index(&mut r, strings).map_err(shift)?;
    let ops = r.u8("record ops").map_err(shift)?;
    let bad_ops = || {
        shift(DecodeError {
            offset: model_start,
            kind: DecodeErrorKind::BadTag {
                what: "record ops",
                tag: ops,
            },
        })
    };
    if ops & !(STATE_OPS | VERSION_OPS) != 0 {
        return Err(bad_ops());
    }
    let state = match ops & STATE_OPS {
        0 => StateOp::None,
        1 => StateOp::Upsert,
        2 => StateOp::Delete,
        _ => return Err(bad_ops()),
    };
    let version = match (ops & VERSION_OPS) >> 2 {
        0 => VersionOp::None,
        1 => VersionOp::Set(read_version(&mut r).map_err(shift)?),
        2 => VersionOp::Clear,
        _ => return Err(bad_ops()),
    };
    let state_offset = offset + r.pos();
    let state_bytes = r.take(r.remaining(), "state").map_err(shift)?;
    if state != StateOp::Upsert && !state_bytes.is_empty() {
        return Err(DecodeError {
            offset: state_offset,
            kind: DecodeErrorKind::TrailingBytes(state_bytes.len()),
        });
    }
    Ok(RecordView {
        entity,
        model,
        state,
        version,
        state_bytes,
        state_offset,
    })
}

/// An upsert's encoded state read up to its members.
#[derive(Debug, Clone)]
pub(crate) struct StateHead {
    pub(crate) world_address: Felt,
    pub(crate) created_at: u64,
    pub(crate) updated_at: u64,
    pub(crate) executed_at: u64,
    /// Where the members are encoded in the segment.
    pub(crate) members: Range<usize>,
}

impl RecordView<'_> {
    /// Where the encoded state lies in the segment: `(offset, bytes)` (empty unless an upsert).
    pub(crate) fn state_span(&self) -> (usize, &[u8]) {
        (self.state_offset, self.state_bytes)
    }

    /// Reads an upsert's state up to its members (world address and timestamps).
    pub(crate) fn state_head(&self) -> Result<StateHead, DecodeError> {
        read_state_head(self.state_bytes, self.state_offset)
    }

    /// Decodes the model state of an upsert record.
    pub(crate) fn model_record(&self, strings: &[Name]) -> Result<ModelRecord, DecodeError> {
        let tag = strings.get(self.model).cloned().ok_or(DecodeError {
            offset: self.state_offset,
            kind: DecodeErrorKind::BadStringIndex(self.model as u64),
        })?;
        let head = self.state_head()?;
        let within = head.members.start - self.state_offset..head.members.end - self.state_offset;
        let members = read_members_at(self.state_bytes, within, strings).map_err(|mut e| {
            e.offset += self.state_offset;
            e
        })?;
        Ok(head.record(self.entity, Struct { name: tag, members }))
    }
}

impl StateHead {
    /// The record of this head with its decoded state.
    pub(crate) fn record(&self, entity: EntityId, state: Struct) -> ModelRecord {
        ModelRecord {
            entity,
            world_address: self.world_address,
            state,
            created_at: self.created_at,
            updated_at: self.updated_at,
            executed_at: self.executed_at,
        }
    }
}

/// Reads an encoded state (found at `offset` of its segment) up to its members.
pub(crate) fn read_state_head(state: &[u8], offset: usize) -> Result<StateHead, DecodeError> {
    let shift = |mut e: DecodeError| {
        e.offset += offset;
        e
    };
    let mut r = Reader::new(state);
    let world_address = Felt(r.bytes32("world address").map_err(shift)?);
    let created_at = r.varint("created_at").map_err(shift)?;
    let updated_at = r.varint("updated_at").map_err(shift)?;
    let executed_at = r.varint("executed_at").map_err(shift)?;
    Ok(StateHead {
        world_address,
        created_at,
        updated_at,
        executed_at,
        members: offset + r.pos()..offset + state.len(),
    })
}

/// Decodes the members encoded at `range` of a segment (errors give offsets in the segment).
pub(crate) fn read_members_at(
    segment: &[u8],
    range: Range<usize>,
    strings: &[Name],
) -> Result<Vec<Member>, DecodeError> {
    let start = range.start;
    let shift = |mut e: DecodeError| {
        e.offset += start;
        e
    };
    let bytes = segment.get(range).ok_or(DecodeError {
        offset: start,
        kind: DecodeErrorKind::Truncated("model state"),
    })?;
    let mut r = Reader::new(bytes);
    let members = read_members(&mut r, strings, 0).map_err(shift)?;
    r.expect_end().map_err(shift)?;
    Ok(members)
}

/// One model-state change carried by a segment (its version facet left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateChange {
    /// The model state was inserted or replaced.
    Upsert(ModelRecord),
    /// The model state was deleted.
    Delete(ModelKey),
}

/// Encodes model-state upserts and deletions, without ledger versions, as one delta segment of
/// `target`: the binary batch the sync worker sends to the main-thread view.
pub fn encode_state_changes(
    target: TargetKind,
    upserts: &[ModelRecord],
    deletions: &[ModelKey],
) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = SegmentEncoder::new(SegmentKind::Delta, target);
    for record in upserts {
        encoder.push(SlotWrite {
            entity: &record.entity,
            model: record.model(),
            state: StateWrite::Upsert(record),
            version: VersionWrite::None,
        })?;
    }
    for key in deletions {
        encoder.push(SlotWrite {
            entity: &key.entity,
            model: &key.model,
            state: StateWrite::Delete,
            version: VersionWrite::None,
        })?;
    }
    Ok(encoder.finish())
}

/// Decodes the model-state changes of a segment of either target, in record order, with the
/// target it belongs to (see [`encode_state_changes`]). Version facets are ignored.
pub fn decode_state_changes(bytes: &[u8]) -> Result<(TargetKind, Vec<StateChange>), DecodeError> {
    // The target byte follows the magic, the format and the kind.
    let target = target_of_byte(bytes.get(MAGIC.len() + 2));
    let view = decode_segment(bytes, target)?;
    let mut changes = Vec::with_capacity(view.records.len());
    for record in &view.records {
        match record.state {
            StateOp::None => {}
            StateOp::Upsert => {
                changes.push(StateChange::Upsert(record.model_record(&view.strings)?))
            }
            StateOp::Delete => {
                let model = view.strings.get(record.model).cloned().ok_or(DecodeError {
                    offset: 0,
                    kind: DecodeErrorKind::BadStringIndex(record.model as u64),
                })?;
                changes.push(StateChange::Delete(ModelKey {
                    entity: record.entity,
                    model,
                }));
            }
        }
    }
    Ok((target, changes))
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::{Member, Primitive, Source, StateKind, Value};

    use super::*;

    fn record(id: u128, hp: u32) -> ModelRecord {
        ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::from(7u128),
            state: Struct {
                name: "ns-Player".into(),
                members: vec![
                    Member {
                        name: "id".into(),
                        key: true,
                        value: Value::Primitive(Primitive::Felt252(Felt::from(id))),
                    },
                    Member {
                        name: "hp".into(),
                        key: false,
                        value: Value::Primitive(Primitive::U32(hp)),
                    },
                ],
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        }
    }

    fn version(seq: u64) -> Version {
        Version {
            source: Source::Stream { epoch: 1, seq },
            executed_at: 3,
            updated_at: 2,
            state: StateKind::Write,
            game: None,
        }
    }

    /// Random bytes behind a valid header and a valid checksum reach every decoder; none of
    /// them may panic, whatever it returns.
    #[test]
    fn garbage_with_valid_checksums_never_panics() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = encode_segment(
            SegmentKind::Page,
            TargetKind::Entities,
            [SlotWrite {
                entity: &Felt::from(5u128),
                model: "ns-Player",
                state: StateWrite::Upsert(&record(5, 1)),
                version: VersionWrite::Set(&version(1)),
            }],
        )
        .unwrap();
        let content = &valid[..valid.len() - 4];
        for round in 0..20_000 {
            let mut bytes = if round % 2 == 0 {
                b"DRS\x01\x01\x00".to_vec()
            } else {
                // A valid segment with a few bytes changed.
                content.to_vec()
            };
            let extra = (next() % 200) as usize;
            if round % 2 == 0 {
                bytes.extend((0..extra).map(|_| next() as u8));
            } else {
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % bytes.len();
                    bytes[i] = next() as u8;
                }
            }
            let mut w = Writer::default();
            w.bytes(&bytes);
            let record_bytes = w.finish();
            if let Ok(view) = decode_segment(&record_bytes, TargetKind::Entities) {
                for r in &view.records {
                    let _ = r.model_record(&view.strings);
                }
            }
        }
    }

    #[test]
    fn state_changes_round_trip_with_their_target() {
        let a = record(1, 10);
        let gone = ModelKey {
            entity: Felt::from(3u128),
            model: "ns-Other".into(),
        };
        for target in [TargetKind::Entities, TargetKind::EventMessages] {
            let bytes = encode_state_changes(
                target,
                std::slice::from_ref(&a),
                std::slice::from_ref(&gone),
            )
            .unwrap();
            let (decoded_target, changes) = decode_state_changes(&bytes).unwrap();
            assert_eq!(decoded_target, target);
            assert_eq!(
                changes,
                vec![
                    StateChange::Upsert(a.clone()),
                    StateChange::Delete(gone.clone())
                ]
            );
            for len in 0..bytes.len() {
                assert!(decode_state_changes(&bytes[..len]).is_err());
            }
        }
    }

    #[test]
    fn segments_round_trip() {
        let a = record(1, 10);
        let b = record(2, 20);
        let va = version(1);
        let gone = Felt::from(3u128);
        let writes = [
            SlotWrite {
                entity: &a.entity,
                model: "ns-Player",
                state: StateWrite::Upsert(&a),
                version: VersionWrite::Set(&va),
            },
            SlotWrite {
                entity: &b.entity,
                model: "ns-Player",
                state: StateWrite::Upsert(&b),
                version: VersionWrite::None,
            },
            SlotWrite {
                entity: &gone,
                model: "ns-Other",
                state: StateWrite::Delete,
                version: VersionWrite::Clear,
            },
        ];
        let bytes = encode_segment(SegmentKind::Delta, TargetKind::Entities, writes).unwrap();
        let view = decode_segment(&bytes, TargetKind::Entities).unwrap();
        assert_eq!(view.kind, SegmentKind::Delta);
        assert_eq!(view.records.len(), 3);
        let r0 = &view.records[0];
        assert_eq!(r0.version, VersionOp::Set(va));
        assert_eq!(r0.model_record(&view.strings).unwrap(), a);
        assert_eq!(view.records[1].model_record(&view.strings).unwrap(), b);
        let r2 = &view.records[2];
        assert_eq!(
            (r2.entity, r2.state, &r2.version),
            (gone, StateOp::Delete, &VersionOp::Clear)
        );
        assert_eq!(view.strings[r2.model], "ns-Other");
        assert!(decode_segment(&bytes, TargetKind::EventMessages).is_err());
        for len in 0..bytes.len() {
            assert!(decode_segment(&bytes[..len], TargetKind::Entities).is_err());
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x20;
            assert!(
                decode_segment(&bad, TargetKind::Entities).is_err(),
                "flip {i}"
            );
        }
    }
}
