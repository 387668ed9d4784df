//! Start-up: every segment of a target is read (one `getAll`), checked and replayed in sequence
//! order to rebuild the index and, for a load, the stored model states and ledger entries.
//! A segment that cannot be decoded is skipped and reported; the rest loads.

use std::collections::HashMap;

use dojo_reactive_core::sync::{LedgerEntry, ModelRecord, TargetKind};

use crate::backend::{RawSegment, RecordKey, ENTITIES};
use crate::error::{SkippedRecord, StoreError};
use crate::segment::{decode_segment, SegmentView, StateOp, VersionOp};

use super::index::{TargetIndex, VersionOpKind};

/// What a replay produced.
pub(crate) struct Replayed {
    pub(crate) index: TargetIndex,
    pub(crate) models: Vec<ModelRecord>,
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

/// Replays raw segments; with `materialize`, also decodes the live model states and versions.
pub(crate) fn replay(target: TargetKind, mut raw: Vec<RawSegment>, materialize: bool) -> Replayed {
    let mut index = TargetIndex::default();
    let mut skipped = Vec::new();
    raw.sort_by_key(|segment| segment.seq.as_ref().ok().copied());
    let mut views = Vec::with_capacity(raw.len());
    for segment in &raw {
        let seq = match &segment.seq {
            Ok(seq) => *seq,
            Err(key) => {
                skipped.push(SkippedRecord {
                    store: ENTITIES,
                    key: key.clone(),
                    error: StoreError::Foreign {
                        what: format!("{ENTITIES} key {key}"),
                        message: "not a segment key".into(),
                    },
                });
                continue;
            }
        };
        let key = RecordKey::Segment(target, seq);
        let decoded = match &segment.value {
            Ok(bytes) => decode_segment(bytes, target)
                .map(|view| (view, bytes.len()))
                .map_err(|error| StoreError::corrupt(key.to_string(), error)),
            Err(message) => Err(StoreError::Foreign {
                what: key.to_string(),
                message: message.clone(),
            }),
        };
        match decoded {
            Ok((view, bytes)) => {
                index.add_segment(seq, view.kind, bytes);
                let ids = model_ids(&mut index, &view);
                for record in &view.records {
                    if let Some(Some(model)) = ids.get(record.model) {
                        index.record(
                            seq,
                            &record.entity,
                            *model,
                            record.state,
                            version_kind(&record.version),
                        );
                    }
                }
                views.push((seq, view, ids));
            }
            Err(error) => {
                index.unreadable.push(seq);
                index.next_seq = index.next_seq.max(seq.saturating_add(1));
                skipped.push(SkippedRecord {
                    store: ENTITIES,
                    key: key.to_string(),
                    error,
                });
            }
        }
    }
    let mut models = Vec::new();
    let mut ledger = Vec::new();
    if materialize {
        let (states, versions) = index.totals();
        models.reserve(states);
        ledger.reserve(versions);
        let mut tags: HashMap<u32, String> = HashMap::new();
        for (seq, view, ids) in &views {
            for record in &view.records {
                let Some(Some(model)) = ids.get(record.model) else {
                    continue;
                };
                let Some(slot) = index.slot(&record.entity, *model) else {
                    continue;
                };
                if record.state == StateOp::Upsert && slot.state == Some(*seq) {
                    match record.model_record(&view.strings) {
                        Ok(state) => models.push(state),
                        Err(error) => skipped.push(SkippedRecord {
                            store: ENTITIES,
                            key: format!(
                                "{} entity {}",
                                RecordKey::Segment(target, *seq),
                                record.entity.to_hex()
                            ),
                            error: StoreError::corrupt("model state", error),
                        }),
                    }
                }
                if let VersionOp::Set(version) = &record.version {
                    if slot.version == Some(*seq) {
                        let tag = tags.entry(*model).or_insert_with(|| {
                            index.model_tag(*model).unwrap_or_default().to_owned()
                        });
                        ledger.push(LedgerEntry {
                            entity: record.entity,
                            model: tag.clone(),
                            version: *version,
                        });
                    }
                }
            }
        }
    }
    Replayed {
        index,
        models,
        ledger,
        skipped,
    }
}
