//! Compaction: folds small delta segments and mostly superseded segments into pages.
//!
//! Only live facets are copied (a facet is live when its segment holds the latest write of its
//! slot), so any set of segments can be merged: a newer write of a slot is never in a merged
//! segment unless the merged copy is that newest write. A deletion or ledger removal is dropped
//! when no segment outside the merged set holds a record of its slot; otherwise it stays, to
//! hide those older records. The pages and the deletion of the merged segments are one
//! transaction: a failed compaction leaves the data as it was.

use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{EntityId, Version};

use crate::backend::{RecordKey, WriteOp};
use crate::error::StoreError;
use crate::segment::{
    decode_segment, SegmentEncoder, SegmentKind, SlotWrite, StateOp, StateWrite, VersionOp,
    VersionWrite,
};

use super::index::{is_segment_number, IdMap, Placed, SegmentInfo, TargetIndex};
use super::replay::model_ids;

/// When compaction runs and how big its pages are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompactionConfig {
    /// Target size of a page (bytes); pages are cut when they reach it.
    pub page_bytes: usize,
    /// Segments smaller than this are folded once there are enough of them.
    pub small_segment_bytes: usize,
    /// How many small or mostly superseded segments trigger a compaction after a commit.
    pub max_small_segments: usize,
    /// Segments whose live share of facets falls below this are folded.
    pub min_live_ratio: f64,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            page_bytes: 512 * 1024,
            small_segment_bytes: 64 * 1024,
            max_small_segments: 16,
            min_live_ratio: 0.5,
        }
    }
}

/// What one compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompactionStats {
    /// Segments folded (and deleted).
    pub merged: usize,
    /// Pages written.
    pub pages: usize,
    /// Bytes read.
    pub bytes_read: usize,
    /// Bytes written.
    pub bytes_written: usize,
}

fn is_candidate(info: &SegmentInfo, config: &CompactionConfig) -> bool {
    info.bytes < config.small_segment_bytes
        || (info.live as f64) < (info.facets as f64) * config.min_live_ratio
}

/// The bytes of a segment that hold superseded or deleted data (its share of facets not live).
fn dead_bytes(info: &SegmentInfo) -> f64 {
    if info.facets == 0 {
        return 0.0;
    }
    let dead = info.facets.saturating_sub(info.live);
    info.bytes as f64 * f64::from(dead) / f64::from(info.facets)
}

/// Whether superseded and deleted data (states overwritten, states no target covers any more)
/// makes up more than `1 - min_live_ratio` of the target's bytes, and more than a small
/// segment: then the candidates are folded however few they are, so that the stored bytes
/// stay within a small multiple of what is live.
fn mostly_dead(index: &TargetIndex, config: &CompactionConfig) -> bool {
    let total: usize = index.segments.values().map(|info| info.bytes).sum();
    let dead: f64 = index.segments.values().map(dead_bytes).sum();
    dead > total as f64 * (1.0 - config.min_live_ratio) && dead > config.small_segment_bytes as f64
}

/// The segments a compaction folds, if one is due (`force`: all of them): when enough small or
/// mostly superseded segments accumulated, or when most of the stored bytes are dead.
pub(crate) fn plan(
    index: &TargetIndex,
    config: &CompactionConfig,
    force: bool,
) -> Option<Vec<u64>> {
    let merge: Vec<u64> = index
        .segments
        .iter()
        .filter(|(_, info)| force || is_candidate(info, config))
        .map(|(seq, _)| *seq)
        .collect();
    let due = force
        || merge.len() >= config.max_small_segments.max(2)
        || (!merge.is_empty() && mostly_dead(index, config));
    if !due || (merge.is_empty() && index.unreadable.is_empty()) {
        return None;
    }
    Some(merge)
}

enum OutState {
    None,
    Upsert(ModelRecord),
    Delete,
}

enum OutVersion {
    None,
    Set(Version),
    Clear,
}

struct Out {
    entity: EntityId,
    model: u32,
    state: OutState,
    version: OutVersion,
}

/// The writes and index changes of one compaction, computed from the merged segments' bytes.
pub(crate) struct Folded {
    pub(crate) ops: Vec<WriteOp>,
    pub(crate) removed_copies: IdMap<(EntityId, u32), u32>,
    pub(crate) placed: IdMap<(EntityId, u32), Placed>,
    pub(crate) pages: Vec<(u64, usize)>,
    pub(crate) stats: CompactionStats,
}

/// Folds the merged segments (`raw`, in the order of `merge`) into pages numbered from
/// `index.next_seq`.
pub(crate) fn fold(
    index: &mut TargetIndex,
    target: TargetKind,
    merge: &[u64],
    raw: &[Vec<u8>],
    config: &CompactionConfig,
) -> Result<Folded, StoreError> {
    let mut views = Vec::with_capacity(raw.len());
    let mut removed_copies: IdMap<(EntityId, u32), u32> = IdMap::default();
    let mut stats = CompactionStats {
        merged: merge.len(),
        ..CompactionStats::default()
    };
    for (seq, bytes) in merge.iter().zip(raw) {
        stats.bytes_read += bytes.len();
        let view = decode_segment(bytes, target).map_err(|error| {
            StoreError::corrupt(RecordKey::Segment(target, *seq).to_string(), error)
        })?;
        let ids = model_ids(index, &view);
        for record in &view.records {
            if let Some(Some(model)) = ids.get(record.model) {
                *removed_copies.entry((record.entity, *model)).or_default() += 1;
            }
        }
        views.push((*seq, view, ids));
    }

    let mut outs: Vec<Out> = Vec::new();
    let mut positions: IdMap<(EntityId, u32), usize> = IdMap::default();
    for (seq, view, ids) in &views {
        for record in &view.records {
            let Some(Some(model)) = ids.get(record.model) else {
                continue;
            };
            let key = (record.entity, *model);
            let Some(slot) = index.slot(&record.entity, *model).copied() else {
                continue;
            };
            let outside = slot
                .copies()
                .saturating_sub(removed_copies.get(&key).copied().unwrap_or(0));
            let state = if slot.state() == Some(*seq) {
                match record.state {
                    StateOp::Upsert => OutState::Upsert(
                        record
                            .model_record(&view.strings)
                            .map_err(|error| StoreError::corrupt("model state", error))?,
                    ),
                    StateOp::Delete if outside > 0 => OutState::Delete,
                    _ => OutState::None,
                }
            } else {
                OutState::None
            };
            let version = if slot.version() == Some(*seq) {
                match &record.version {
                    VersionOp::Set(version) => OutVersion::Set(*version),
                    VersionOp::Clear if outside > 0 => OutVersion::Clear,
                    _ => OutVersion::None,
                }
            } else {
                OutVersion::None
            };
            if matches!(state, OutState::None) && matches!(version, OutVersion::None) {
                continue;
            }
            let position = *positions.entry(key).or_insert_with(|| {
                outs.push(Out {
                    entity: record.entity,
                    model: *model,
                    state: OutState::None,
                    version: OutVersion::None,
                });
                outs.len() - 1
            });
            if let Some(out) = outs.get_mut(position) {
                if !matches!(state, OutState::None) {
                    out.state = state;
                }
                if !matches!(version, OutVersion::None) {
                    out.version = version;
                }
            }
        }
    }
    outs.sort_by(|a, b| {
        (a.entity, index.model_tag(a.model)).cmp(&(b.entity, index.model_tag(b.model)))
    });

    let mut ops = Vec::new();
    let mut pages = Vec::new();
    let mut placed: IdMap<(EntityId, u32), Placed> = IdMap::default();
    let mut next = index.next_seq;
    let tags: Vec<String> = outs
        .iter()
        .map(|out| index.model_tag(out.model).unwrap_or_default().to_owned())
        .collect();
    let mut encoder = SegmentEncoder::new(SegmentKind::Page, target);
    for (out, tag) in outs.iter().zip(&tags) {
        let state = match &out.state {
            OutState::None => StateWrite::None,
            OutState::Upsert(model) => StateWrite::Upsert(model),
            OutState::Delete => StateWrite::Delete,
        };
        let version = match &out.version {
            OutVersion::None => VersionWrite::None,
            OutVersion::Set(v) => VersionWrite::Set(v),
            OutVersion::Clear => VersionWrite::Clear,
        };
        encoder
            .push(SlotWrite {
                entity: &out.entity,
                model: tag,
                state,
                version,
            })
            .map_err(|e| StoreError::InvalidBatch(e.to_string()))?;
        placed.insert(
            (out.entity, out.model),
            Placed {
                page: next,
                state: !matches!(out.state, OutState::None),
                version: !matches!(out.version, OutVersion::None),
            },
        );
        if encoder.size() >= config.page_bytes {
            let full =
                std::mem::replace(&mut encoder, SegmentEncoder::new(SegmentKind::Page, target));
            let bytes = full.finish();
            pages.push((next, bytes.len()));
            stats.bytes_written += bytes.len();
            ops.push(WriteOp::Put(RecordKey::Segment(target, next), bytes));
            next += 1;
        }
    }
    if encoder.count() > 0 {
        let bytes = encoder.finish();
        pages.push((next, bytes.len()));
        stats.bytes_written += bytes.len();
        ops.push(WriteOp::Put(RecordKey::Segment(target, next), bytes));
    }
    if !pages.iter().all(|(page, _)| is_segment_number(*page)) {
        return Err(StoreError::InvalidBatch(
            "the segment numbers are exhausted".into(),
        ));
    }
    stats.pages = pages.len();
    for seq in merge.iter().chain(&index.unreadable) {
        ops.push(WriteOp::Delete(RecordKey::Segment(target, *seq)));
    }
    Ok(Folded {
        ops,
        removed_copies,
        placed,
        pages,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::Felt;

    use super::*;
    use crate::store::index::VersionOpKind;

    /// 100 states in segment 0, then 80 of them dropped (deleted, versions cleared) in
    /// segment 1: most of the bytes are dead.
    fn dropped_index() -> (TargetIndex, u32) {
        let mut index = TargetIndex::default();
        let model = index.model_id("ns-M");
        index.add_segment(0, SegmentKind::Delta, 200_000);
        for n in 0..100u128 {
            let e = Felt::from(n);
            index.record(0, &e, model, StateOp::Upsert, VersionOpKind::Set);
        }
        index.add_segment(1, SegmentKind::Delta, 100_000);
        for n in 0..80u128 {
            let e = Felt::from(n);
            index.record(1, &e, model, StateOp::Delete, VersionOpKind::Clear);
        }
        (index, model)
    }

    #[test]
    fn dropped_states_trigger_a_compaction_however_few_the_segments() {
        let (index, _) = dropped_index();
        assert_eq!(index.segments[&0].live, 40);
        assert_eq!(
            index.segments[&1].live, 160,
            "the removals hide segment 0's copies"
        );
        let config = CompactionConfig::default();
        assert_eq!(plan(&index, &config, false), Some(vec![0]));
        // Live data stays: a store mostly live is not compacted for one candidate.
        let mut live = TargetIndex::default();
        let model = live.model_id("ns-M");
        live.add_segment(0, SegmentKind::Delta, 200_000);
        live.add_segment(1, SegmentKind::Delta, 10_000);
        for n in 0..100u128 {
            let e = Felt::from(n);
            live.record(0, &e, model, StateOp::Upsert, VersionOpKind::Set);
        }
        let e = Felt::from(0u128);
        live.record(1, &e, model, StateOp::Upsert, VersionOpKind::Set);
        assert_eq!(plan(&live, &config, false), None);
    }

    #[test]
    fn removals_that_hide_nothing_any_more_are_not_live() {
        let (mut index, model) = dropped_index();
        // Segment 0 folded: the 20 states kept go to page 2, the 80 dropped ones vanish.
        let mut removed = IdMap::default();
        let mut placed = IdMap::default();
        for n in 0..100u128 {
            removed.insert((Felt::from(n), model), 1);
            if n >= 80 {
                let place = Placed {
                    page: 2,
                    state: true,
                    version: true,
                };
                placed.insert((Felt::from(n), model), place);
            }
        }
        index.apply_compaction(&[0], &removed, &placed, &[(2, 40_000)]);
        assert_eq!(index.segments[&1].live, 0, "segment 1 is dead weight now");
        assert_eq!(index.segments[&2].live, 40);
        assert_eq!(index.totals(), (20, 20));
        let folded = plan(&index, &CompactionConfig::default(), false);
        assert_eq!(
            folded,
            Some(vec![1, 2]),
            "folded away (with the small page)"
        );
        // A removal of something never stored hides nothing from the start.
        index.add_segment(3, SegmentKind::Delta, 100);
        let e = Felt::from(500u128);
        index.record(3, &e, model, StateOp::Delete, VersionOpKind::Clear);
        assert_eq!(index.segments[&3].live, 0);
    }
}
