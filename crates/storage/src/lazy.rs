//! Segments whose model states stay encoded until they are read: a start-up that receives the
//! stored segments can index every state by reading only the record heads (entity, model,
//! timestamps), and pay for decoding a state when something reads it.

use std::ops::Range;
use std::rc::Rc;

use dojo_reactive_core::sync::{EncodedRecord, ModelKey, ModelRecord, RecordHead, TargetKind};
use dojo_reactive_core::{EntityId, Name, Struct};

use crate::codec::{DecodeError, DecodeErrorKind};
use crate::segment::{decode_segment, read_members_at, read_state_head, RecordView, StateOp};

/// A segment's bytes and string table, shared by the states it holds.
#[derive(Debug)]
pub(crate) struct EncodedSegment {
    bytes: Rc<Vec<u8>>,
    strings: Rc<[Name]>,
}

impl EncodedSegment {
    /// Shares `bytes` (the segment) and its decoded string table.
    pub(crate) fn new(bytes: Rc<Vec<u8>>, strings: &[Name]) -> Rc<Self> {
        Rc::new(EncodedSegment {
            bytes,
            strings: strings.into(),
        })
    }

    fn members(&self, range: &Range<u32>) -> Result<Vec<dojo_reactive_core::Member>, DecodeError> {
        let range = range.start as usize..range.end as usize;
        read_members_at(&self.bytes, range, &self.strings)
    }
}

/// Where an upsert's members lie in its segment, as the compact range the lazy types keep.
pub(crate) fn members_range(
    record: &RecordView<'_>,
) -> Result<([u64; 3], Range<u32>), DecodeError> {
    let head = record.state_head()?;
    let (Ok(start), Ok(end)) = (
        u32::try_from(head.members.start),
        u32::try_from(head.members.end),
    ) else {
        return Err(DecodeError {
            offset: record.state_span().0,
            kind: DecodeErrorKind::BadNumber("state offset"),
        });
    };
    Ok((
        [head.created_at, head.updated_at, head.executed_at],
        start..end,
    ))
}

/// One model state still in its segment's encoding (small: a shared segment and a range).
#[derive(Debug, Clone)]
pub struct EncodedState {
    segment: Rc<EncodedSegment>,
    /// The model tag (the decoded state's name).
    model: Name,
    /// Where the state's members are encoded in the segment.
    members: Range<u32>,
}

impl EncodedState {
    /// The model tag.
    pub fn model(&self) -> &Name {
        &self.model
    }

    /// Decodes the state (its `name` is the model tag).
    pub fn decode(&self) -> Result<Struct, DecodeError> {
        Ok(Struct {
            name: self.model.clone(),
            members: self.segment.members(&self.members)?,
        })
    }
}

/// A whole stored model record (world address and timestamps too) left in its segment's
/// encoding: what a lazy [`Storage::load`](crate::Storage::load) hands the synchronizer. Its
/// entity and model are in its head, kept beside it.
#[derive(Debug)]
pub(crate) struct EncodedModelRecord {
    segment: Rc<EncodedSegment>,
    /// The record's whole state (world address, timestamps, members) in the segment.
    state: Range<u32>,
}

impl EncodedModelRecord {
    /// The upsert `record` of `segment` (whose bytes its view was read from).
    pub(crate) fn new(segment: &Rc<EncodedSegment>, record: &RecordView<'_>) -> Self {
        let (offset, bytes) = record.state_span();
        EncodedModelRecord {
            segment: Rc::clone(segment),
            // An offset past 4 GiB (never: segments are far smaller) reads as out of the segment.
            state: u32::try_from(offset).unwrap_or(u32::MAX)
                ..u32::try_from(offset + bytes.len()).unwrap_or(u32::MAX),
        }
    }
}

impl EncodedRecord for EncodedModelRecord {
    fn decode(&self, head: &RecordHead) -> Result<ModelRecord, String> {
        let range = self.state.start as usize..self.state.end as usize;
        let bytes = self
            .segment
            .bytes
            .get(range.clone())
            .ok_or_else(|| "the stored state lies outside its segment".to_owned())?;
        let state_head = read_state_head(bytes, range.start).map_err(|e| e.to_string())?;
        let members = read_members_at(
            &self.segment.bytes,
            state_head.members.clone(),
            &self.segment.strings,
        )
        .map_err(|e| e.to_string())?;
        let state = Struct {
            name: head.model.clone(),
            members,
        };
        Ok(state_head.record(head.entity, state))
    }
}

/// One model-state change of a segment, the state left encoded.
#[derive(Debug, Clone)]
pub enum EncodedChange {
    /// The model state was inserted or replaced.
    Upsert {
        /// The entity.
        entity: EntityId,
        /// When Torii first indexed the entity (Unix seconds).
        created_at: u64,
        /// When Torii indexed this state (Unix seconds).
        updated_at: u64,
        /// Block timestamp of this state (Unix seconds).
        executed_at: u64,
        /// The state (its model tag: [`EncodedState::model`]).
        state: EncodedState,
    },
    /// The model state was deleted.
    Delete(ModelKey),
}

/// Reads a segment's header and record heads (checking its checksum and every length) and
/// returns its target and model-state changes in record order, each state still encoded: the
/// segment's bytes are kept as long as one of its states is. Version facets are ignored.
pub fn scan_state_changes(bytes: Vec<u8>) -> Result<(TargetKind, Vec<EncodedChange>), DecodeError> {
    // The target byte follows the magic, the format and the kind.
    let target = crate::segment::target_of_byte(bytes.get(5));
    let bytes = Rc::new(bytes);
    let view = decode_segment(&bytes, target)?;
    let segment = EncodedSegment::new(Rc::clone(&bytes), &view.strings);
    let mut changes = Vec::with_capacity(view.records.len());
    for record in &view.records {
        let Some(model) = view.strings.get(record.model).cloned() else {
            continue;
        };
        match record.state {
            StateOp::None => {}
            StateOp::Delete => changes.push(EncodedChange::Delete(ModelKey {
                entity: record.entity,
                model,
            })),
            StateOp::Upsert => {
                let ([created_at, updated_at, executed_at], members) = members_range(record)?;
                changes.push(EncodedChange::Upsert {
                    entity: record.entity,
                    created_at,
                    updated_at,
                    executed_at,
                    state: EncodedState {
                        segment: Rc::clone(&segment),
                        model,
                        members,
                    },
                });
            }
        }
    }
    Ok((target, changes))
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::ModelRecord;
    use dojo_reactive_core::{Member, Primitive, Value};

    use super::*;
    use crate::segment::{decode_state_changes, encode_state_changes, StateChange};
    use dojo_reactive_core::Felt;

    fn record(id: u128, model: &str, hp: u32) -> ModelRecord {
        ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::from(7u128),
            state: Struct {
                name: model.into(),
                members: vec![
                    Member {
                        name: "hp".into(),
                        key: false,
                        value: Value::Primitive(Primitive::U32(hp)),
                    },
                    Member {
                        name: "title".into(),
                        key: false,
                        value: Value::ByteArray(format!("title {id}")),
                    },
                ],
            },
            created_at: 1,
            updated_at: 2 + u64::from(hp),
            executed_at: 3,
        }
    }

    #[test]
    fn encoded_states_decode_to_what_an_eager_decode_gives() {
        let upserts = [record(1, "ns-A", 10), record(2, "ns-B", 20)];
        let deletions = [ModelKey {
            entity: Felt::from(3u128),
            model: "ns-A".into(),
        }];
        let bytes = encode_state_changes(TargetKind::EventMessages, &upserts, &deletions).unwrap();
        let (_, eager) = decode_state_changes(&bytes).unwrap();
        let (target, lazy) = scan_state_changes(bytes).unwrap();
        assert_eq!(target, TargetKind::EventMessages);
        assert_eq!(lazy.len(), eager.len());
        for (lazy, eager) in lazy.iter().zip(&eager) {
            match (lazy, eager) {
                (
                    EncodedChange::Upsert {
                        entity,
                        created_at,
                        updated_at,
                        executed_at,
                        state,
                    },
                    StateChange::Upsert(record),
                ) => {
                    assert_eq!(*entity, record.entity);
                    assert_eq!(&**state.model(), record.model());
                    assert_eq!(
                        (*created_at, *updated_at, *executed_at),
                        (record.created_at, record.updated_at, record.executed_at)
                    );
                    assert_eq!(state.decode().unwrap(), record.state);
                }
                (EncodedChange::Delete(lazy), StateChange::Delete(eager)) => {
                    assert_eq!(lazy, eager)
                }
                other => panic!("different changes: {other:?}"),
            }
        }
    }

    #[test]
    fn a_damaged_segment_is_refused_before_anything_is_kept() {
        let mut bytes =
            encode_state_changes(TargetKind::Entities, &[record(1, "ns-A", 1)], &[]).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        assert!(scan_state_changes(bytes.clone()).is_err());
        assert!(scan_state_changes(bytes[..middle].to_vec()).is_err());
        assert!(scan_state_changes(Vec::new()).is_err());
    }
}
