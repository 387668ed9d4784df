//! Segments whose model states stay encoded until they are read: a start-up that receives the
//! stored segments can index every state by reading only the record heads (entity, model,
//! timestamps), and pay for decoding a state when something reads it.

use std::ops::Range;
use std::rc::Rc;

use dojo_reactive_core::sync::{ModelKey, TargetKind};
use dojo_reactive_core::{EntityId, Name, Struct};

use crate::codec::value::read_members;
use crate::codec::{DecodeError, Reader};
use crate::segment::{decode_segment, StateOp};

/// A segment's bytes and string table, shared by the states it holds.
#[derive(Debug)]
struct EncodedSegment {
    bytes: Box<[u8]>,
    strings: Vec<Name>,
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
        let shift = |mut e: DecodeError| {
            e.offset += self.members.start as usize;
            e
        };
        let range = self.members.start as usize..self.members.end as usize;
        let bytes = self.segment.bytes.get(range).unwrap_or_default();
        let mut r = Reader::new(bytes);
        let members = read_members(&mut r, &self.segment.strings, 0).map_err(shift)?;
        r.expect_end().map_err(shift)?;
        Ok(Struct {
            name: self.model.clone(),
            members,
        })
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
    let target = match bytes.get(5) {
        Some(1) => TargetKind::EventMessages,
        _ => TargetKind::Entities,
    };
    let view = decode_segment(&bytes, target)?;
    let mut heads = Vec::with_capacity(view.records.len());
    for record in &view.records {
        let Some(model) = view.strings.get(record.model).cloned() else {
            continue;
        };
        match record.state {
            StateOp::None => {}
            StateOp::Delete => heads.push((record.entity, model, None)),
            StateOp::Upsert => {
                let (offset, state) = record.state_span();
                let shift = |mut e: DecodeError| {
                    e.offset += offset;
                    e
                };
                let mut r = Reader::new(state);
                r.bytes32("world address").map_err(shift)?;
                let times = [
                    r.varint("created_at").map_err(shift)?,
                    r.varint("updated_at").map_err(shift)?,
                    r.varint("executed_at").map_err(shift)?,
                ];
                let start = offset + r.pos();
                let end = offset + state.len();
                let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) else {
                    return Err(DecodeError {
                        offset,
                        kind: crate::codec::DecodeErrorKind::BadNumber("state offset"),
                    });
                };
                heads.push((record.entity, model, Some((times, start..end))));
            }
        }
    }
    let strings = view.strings;
    let segment = Rc::new(EncodedSegment {
        bytes: bytes.into_boxed_slice(),
        strings,
    });
    let changes = heads
        .into_iter()
        .map(|(entity, model, upsert)| match upsert {
            None => EncodedChange::Delete(ModelKey { entity, model }),
            Some(([created_at, updated_at, executed_at], members)) => EncodedChange::Upsert {
                entity,
                created_at,
                updated_at,
                executed_at,
                state: EncodedState {
                    segment: Rc::clone(&segment),
                    model,
                    members,
                },
            },
        })
        .collect();
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
