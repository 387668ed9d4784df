//! Start-up: every segment of a target is read (in chunks, so that decoding the first ones
//! overlaps reading the next), checked and replayed in sequence order to rebuild the index and,
//! for a load, the stored model states and ledger entries. A model state's head is read as its
//! segment arrives, the state itself left in the segment's encoding (decoded when first read),
//! and replaced in place when a later segment supersedes it. A segment that cannot be decoded is
//! skipped and reported; the rest loads.

use std::rc::Rc;

use dojo_reactive_core::sync::{
    EncodedRecord, Fingerprint, Fingerprinter, LedgerEntry, ModelKey, RecordHead, StoredRecord,
    StoredWrite, TargetKind,
};
use dojo_reactive_core::{EntityId, Name};

use crate::backend::{RawSegment, RecordKey, ENTITIES};
use crate::codec::{DecodeError, DecodeErrorKind};
use crate::error::{SkippedRecord, StoreError};
use crate::lazy::{members_range, EncodedModelRecord, EncodedSegment};
use crate::segment::{decode_segment, RecordView, SegmentView, StateOp, VersionOp};

use super::index::{is_segment_number, IdMap, TargetIndex, VersionOpKind};

/// What a replay produced.
pub(crate) struct Replayed {
    pub(crate) index: TargetIndex,
    pub(crate) models: Vec<StoredRecord>,
    pub(crate) ledger: Vec<LedgerEntry>,
    pub(crate) skipped: Vec<SkippedRecord>,
}

pub(crate) fn version_kind(op: &VersionOp) -> VersionOpKind {
    match op {
        VersionOp::None => VersionOpKind::None,
        VersionOp::Set(_) => VersionOpKind::Set,
        VersionOp::Clear => VersionOpKind::Clear,
    }
}

/// Maps a segment's string indices to the index's model ids.
pub(crate) fn model_ids(index: &mut TargetIndex, view: &SegmentView<'_>) -> Vec<Option<u32>> {
    let mut ids = vec![None; view.strings.len()];
    for record in &view.records {
        if let (Some(slot), Some(tag)) = (ids.get_mut(record.model), view.strings.get(record.model))
        {
            if slot.is_none() {
                *slot = Some(index.model_id(tag));
            }
        }
    }
    ids
}

/// What a replay keeps of the stored model states.
#[derive(Debug, Clone)]
pub(crate) enum Keep {
    /// Nothing: the index only.
    Index,
    /// Each state left in its segment's encoding (decoded when something reads it): the
    /// segment's bytes are kept as long as one of its states is.
    Encoded,
    /// Nothing: each write handed over as it is replayed ([`Replayer::feed_one`]'s `seed`), its
    /// state fingerprinted: a replay holds the index and one chunk of segments.
    Seed(Fingerprinter),
}

/// Replays segments fed in sequence order. Model states are kept as [`Keep`] says; their heads
/// (entity, model, timestamps) are read here.
pub(crate) struct Replayer {
    target: TargetKind,
    keep: Keep,
    index: TargetIndex,
    /// Stored states; `None` where a later write superseded or deleted one.
    models: Vec<Option<StoredRecord>>,
    ledger: Vec<Option<LedgerEntry>>,
    /// Where each slot's state and ledger entry are in `models` and `ledger` (`u32::MAX`:
    /// nowhere), while states are kept; dropped with the replay (the index does not keep them).
    positions: IdMap<(EntityId, u32), [u32; 2]>,
    skipped: Vec<SkippedRecord>,
}

impl Replayer {
    pub(crate) fn new(target: TargetKind, keep: Keep) -> Self {
        Replayer {
            target,
            keep,
            index: TargetIndex::default(),
            models: Vec::new(),
            ledger: Vec::new(),
            positions: IdMap::default(),
            skipped: Vec::new(),
        }
    }

    /// Replays the next segments (in sequence order).
    pub(crate) fn feed(&mut self, segments: Vec<RawSegment>) {
        for segment in segments {
            self.feed_one(segment, &mut |_| {});
        }
    }

    /// Replays one segment; returns its bytes if it could be decoded (else it is reported).
    /// Kept as [`Keep::Seed`] says, each of its writes is handed to `seed` (a record's version
    /// before its state).
    pub(crate) fn feed_one(
        &mut self,
        segment: RawSegment,
        seed: &mut dyn FnMut(StoredWrite),
    ) -> Option<Rc<Vec<u8>>> {
        let target = self.target;
        let seq = match &segment.seq {
            Ok(seq) if is_segment_number(*seq) => *seq,
            Ok(seq) => {
                self.skipped.push(SkippedRecord {
                    store: ENTITIES,
                    key: RecordKey::Segment(target, *seq).to_string(),
                    error: StoreError::Foreign {
                        what: format!("{ENTITIES} segment {seq}"),
                        message: "no segment is numbered so".into(),
                    },
                });
                return None;
            }
            Err(key) => {
                self.skipped.push(SkippedRecord {
                    store: ENTITIES,
                    key: key.clone(),
                    error: StoreError::Foreign {
                        what: format!("{ENTITIES} key {key}"),
                        message: "not a segment key".into(),
                    },
                });
                return None;
            }
        };
        let key = RecordKey::Segment(target, seq);
        let bytes = match segment.value {
            Ok(bytes) => Rc::new(bytes),
            Err(message) => {
                self.unreadable(
                    seq,
                    key,
                    StoreError::Foreign {
                        what: key.to_string(),
                        message,
                    },
                );
                return None;
            }
        };
        let view = match decode_segment(&bytes, target) {
            Ok(view) => view,
            Err(error) => {
                self.unreadable(seq, key, StoreError::corrupt(key.to_string(), error));
                return None;
            }
        };
        let materialize = matches!(self.keep, Keep::Encoded);
        let seeding = matches!(self.keep, Keep::Seed(_));
        let fingerprints = match &self.keep {
            Keep::Seed(with) => Some(with),
            Keep::Index | Keep::Encoded => None,
        };
        let segment =
            (materialize || seeding).then(|| EncodedSegment::new(Rc::clone(&bytes), &view.strings));
        self.index.add_segment(seq, view.kind, bytes.len());
        let ids = model_ids(&mut self.index, &view);
        self.index.reserve(view.records.len());
        if materialize {
            self.models.reserve(view.records.len());
            self.ledger.reserve(view.records.len());
            self.positions.reserve(view.records.len());
        }
        let models = &mut self.models;
        let ledger = &mut self.ledger;
        let skipped = &mut self.skipped;
        let strings = &view.strings;
        for record in &view.records {
            let Some(Some(model)) = ids.get(record.model) else {
                continue;
            };
            let version = version_kind(&record.version);
            self.index
                .record(seq, &record.entity, *model, record.state, version);
            let Some(segment) = &segment else {
                continue;
            };
            if seeding {
                seed_writes(segment, record, strings, fingerprints, seed, skipped, key);
                continue;
            }
            // Kept in the lists, each write in place of the one it supersedes.
            let [state_pos, ledger_pos] = self
                .positions
                .entry((record.entity, *model))
                .or_insert([u32::MAX; 2]);
            let mut keep = |write| match write {
                StoredWrite::State(state) => *state_pos = place(models, *state_pos, state),
                StoredWrite::StateDeleted(_) => clear(models, *state_pos),
                StoredWrite::Version(entry) => *ledger_pos = place(ledger, *ledger_pos, entry),
                StoredWrite::VersionCleared(_) => clear(ledger, *ledger_pos),
            };
            seed_writes(
                segment,
                record,
                strings,
                fingerprints,
                &mut keep,
                skipped,
                key,
            );
        }
        Some(bytes)
    }

    fn unreadable(&mut self, seq: u64, key: RecordKey, error: StoreError) {
        self.index.unreadable.push(seq);
        self.index.next_seq = self.index.next_seq.max(seq.saturating_add(1));
        self.skipped.push(SkippedRecord {
            store: ENTITIES,
            key: key.to_string(),
            error,
        });
    }

    /// The index, the live states and ledger entries, and what was skipped.
    pub(crate) fn finish(self) -> Replayed {
        Replayed {
            index: self.index,
            models: live(self.models),
            ledger: live(self.ledger),
            skipped: self.skipped,
        }
    }
}

/// Hands the writes of one record to `seed`: its version first, then its state.
fn seed_writes(
    segment: &Rc<EncodedSegment>,
    record: &RecordView<'_>,
    strings: &[Name],
    fingerprints: Option<&Fingerprinter>,
    seed: &mut dyn FnMut(StoredWrite),
    skipped: &mut Vec<SkippedRecord>,
    key: RecordKey,
) {
    let model_key = || ModelKey {
        entity: record.entity,
        model: strings.get(record.model).cloned().unwrap_or_default(),
    };
    match &record.version {
        VersionOp::None => {}
        VersionOp::Clear => seed(StoredWrite::VersionCleared(model_key())),
        VersionOp::Set(version) => {
            let key = model_key();
            seed(StoredWrite::Version(LedgerEntry {
                entity: key.entity,
                model: key.model,
                version: *version,
            }));
        }
    }
    match record.state {
        StateOp::None => {}
        StateOp::Delete => seed(StoredWrite::StateDeleted(model_key())),
        StateOp::Upsert => match stored_record(segment, record, strings, fingerprints) {
            Ok(state) => seed(StoredWrite::State(state)),
            Err(error) => {
                seed(StoredWrite::StateDeleted(model_key()));
                skipped.push(SkippedRecord {
                    store: ENTITIES,
                    key: format!("{key} entity {}", record.entity.to_hex()),
                    error: StoreError::corrupt("model state", error),
                });
            }
        },
    }
}

/// The stored state of an upsert record (its head read), left in its segment's encoding or,
/// `with` a fingerprint function, decoded now for its fingerprint and not kept (a state that
/// cannot be decoded: [`Fingerprint::UNDECODABLE`]).
fn stored_record(
    segment: &Rc<EncodedSegment>,
    record: &RecordView<'_>,
    strings: &[Name],
    with: Option<&Fingerprinter>,
) -> Result<StoredRecord, DecodeError> {
    let model = strings.get(record.model).cloned().ok_or(DecodeError {
        offset: record.state_span().0,
        kind: DecodeErrorKind::BadStringIndex(record.model as u64),
    })?;
    let ([_, updated_at, executed_at], _) = members_range(record)?;
    let head = RecordHead {
        entity: record.entity,
        model,
        updated_at,
        executed_at,
    };
    let encoded = EncodedModelRecord::new(segment, record);
    Ok(match with {
        Some(with) => {
            let fingerprint = encoded
                .decode(&head)
                .map_or(Fingerprint::UNDECODABLE, |record| with.of_record(&record));
            StoredRecord::fingerprinted(head, fingerprint)
        }
        None => StoredRecord::encoded(head, Box::new(encoded)),
    })
}

/// The items that are there, in their list's own buffer: a load never holds its lists twice
/// (`filter_map` over a `Vec`'s items collects in place; `flatten` allocates a new list).
#[allow(
    clippy::filter_map_identity,
    reason = "flatten() does not collect in place"
)]
fn live<T>(items: Vec<Option<T>>) -> Vec<T> {
    items.into_iter().filter_map(|item| item).collect()
}

/// Stores `value` at `pos` (or appends it); returns where it is.
fn place<T>(items: &mut Vec<Option<T>>, pos: u32, value: T) -> u32 {
    match items.get_mut(pos as usize) {
        Some(item) => {
            *item = Some(value);
            pos
        }
        None => {
            items.push(Some(value));
            (items.len() - 1) as u32
        }
    }
}

fn clear<T>(items: &mut [Option<T>], pos: u32) {
    if let Some(item) = items.get_mut(pos as usize) {
        *item = None;
    }
}

/// Replays raw segments in one go.
pub(crate) fn replay(target: TargetKind, mut raw: Vec<RawSegment>, keep: Keep) -> Replayed {
    raw.sort_by_key(|segment| segment.seq.as_ref().ok().copied());
    let mut replayer = Replayer::new(target, keep);
    replayer.feed(raw);
    replayer.finish()
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::ModelRecord;
    use dojo_reactive_core::{Felt, Member, Primitive, Struct, Value};

    use super::*;
    use crate::segment::encode_state_changes;

    fn segment(seq: u64, id: u128) -> RawSegment {
        let record = ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-A".into(),
                members: vec![Member {
                    name: "hp".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U32(1)),
                }],
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        };
        RawSegment {
            seq: Ok(seq),
            value: Ok(encode_state_changes(TargetKind::Entities, &[record], &[]).unwrap()),
        }
    }

    #[test]
    fn a_seeding_replay_hands_every_write_over_in_order_and_keeps_none() {
        let deletion = RawSegment {
            seq: Ok(2),
            value: Ok(encode_state_changes(
                TargetKind::Entities,
                &[],
                &[ModelKey {
                    entity: Felt::from(1u128),
                    model: "ns-A".into(),
                }],
            )
            .unwrap()),
        };
        let with = Fingerprinter::default();
        let mut replayer = Replayer::new(TargetKind::Entities, Keep::Seed(with.clone()));
        let mut writes = Vec::new();
        for raw in [segment(0, 1), segment(1, 2), deletion] {
            replayer.feed_one(raw, &mut |write| writes.push(write));
        }
        let replayed = replayer.finish();
        for write in &writes {
            if let StoredWrite::State(record) = write {
                assert_ne!(record.fingerprint(&with), Fingerprint::UNDECODABLE);
                assert!(record.get().is_none(), "fingerprinted, not kept encoded");
            }
        }
        assert_eq!(writes.len(), 3, "{writes:?}");
        assert!(matches!(&writes[0], StoredWrite::State(r) if r.entity() == &Felt::from(1u128)));
        assert!(matches!(&writes[1], StoredWrite::State(r) if r.entity() == &Felt::from(2u128)));
        assert!(
            matches!(&writes[2], StoredWrite::StateDeleted(k) if k.entity == Felt::from(1u128))
        );
        assert!(replayed.models.is_empty() && replayed.ledger.is_empty());
        assert_eq!(replayed.index.totals(), (1, 0));
    }

    #[test]
    fn a_segment_numbered_like_no_segment_is_skipped_and_the_rest_loads() {
        let raw = vec![segment(0, 1), segment(u64::MAX, 2)];
        let replayed = replay(TargetKind::Entities, raw, Keep::Encoded);
        assert_eq!(replayed.models.len(), 1);
        assert_eq!(replayed.models[0].entity(), &Felt::from(1u128));
        assert_eq!(replayed.skipped.len(), 1);
        assert_eq!(replayed.index.segments.len(), 1);
        assert_eq!(replayed.index.next_seq, 1);
    }
}
