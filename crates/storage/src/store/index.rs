//! What the storage knows about a target's records without reading them: for every
//! (entity, model) slot, which segment holds the latest write of its state and of its ledger
//! entry, and for every segment how many of its facets are still live. Compaction and point
//! reads are planned from it; it is rebuilt by replaying the segments when a target is first used.

use std::collections::{BTreeMap, HashMap};

use dojo_reactive_core::EntityId;

/// Maps keyed by entity ids: core's fast, per-map seeded hasher.
pub(crate) type IdMap<K, V> = dojo_reactive_core::FastMap<K, V>;
use crate::segment::{SegmentKind, StateOp};

/// What a record does to the version facet (without the version itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionOpKind {
    None,
    Set,
    Clear,
}

/// Where one (entity, model) slot's latest writes are: 24 bytes (the segment numbers with
/// [`Slot::NONE`] for "none", the flags in a byte). Where a load puts the slot's state and
/// ledger entry is the replay's own business, not kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Segment with the latest state write (an upsert or a deletion), or [`Slot::NONE`].
    state: u64,
    /// Segment with the latest ledger write (a version or its removal), or [`Slot::NONE`].
    version: u64,
    /// How many segments hold any record of this slot (live or superseded).
    copies: u32,
    /// [`Slot::HAS_STATE`], [`Slot::HAS_VERSION`].
    flags: u8,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            state: Slot::NONE,
            version: Slot::NONE,
            copies: 0,
            flags: 0,
        }
    }
}

impl Slot {
    /// No segment. No segment has this number: the replay refuses a segment keyed with it
    /// ([`is_segment_number`]).
    const NONE: u64 = u64::MAX;
    /// The latest state write is an upsert (the model state exists).
    const HAS_STATE: u8 = 1;
    /// The latest ledger write sets a version.
    const HAS_VERSION: u8 = 2;

    fn seq(raw: u64) -> Option<u64> {
        (raw != Slot::NONE).then_some(raw)
    }

    /// Segment with the latest state write (an upsert or a deletion).
    pub(crate) fn state(&self) -> Option<u64> {
        Slot::seq(self.state)
    }

    /// Segment with the latest ledger write (a version or its removal).
    pub(crate) fn version(&self) -> Option<u64> {
        Slot::seq(self.version)
    }

    /// Whether the latest state write is an upsert (the model state exists).
    pub(crate) fn has_state(&self) -> bool {
        self.flags & Slot::HAS_STATE != 0
    }

    /// Whether the latest ledger write sets a version.
    pub(crate) fn has_version(&self) -> bool {
        self.flags & Slot::HAS_VERSION != 0
    }

    /// How many segments hold any record of this slot (live or superseded).
    pub(crate) fn copies(&self) -> u32 {
        self.copies
    }

    fn set_flag(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }

    /// Makes `seq` the latest state write; returns the one it replaces.
    fn replace_state(&mut self, seq: u64) -> Option<u64> {
        Slot::seq(std::mem::replace(&mut self.state, seq))
    }

    /// Forgets the latest state write; returns it.
    fn take_state(&mut self) -> Option<u64> {
        Slot::seq(std::mem::replace(&mut self.state, Slot::NONE))
    }

    /// Makes `seq` the latest ledger write; returns the one it replaces.
    fn replace_version(&mut self, seq: u64) -> Option<u64> {
        Slot::seq(std::mem::replace(&mut self.version, seq))
    }

    /// Forgets the latest ledger write; returns it.
    fn take_version(&mut self) -> Option<u64> {
        Slot::seq(std::mem::replace(&mut self.version, Slot::NONE))
    }

    /// Whether nothing of the slot is stored anywhere.
    pub(crate) fn is_gone(&self) -> bool {
        self.state().is_none() && self.version().is_none() && self.copies == 0
    }
}

/// Whether `seq` can number a segment in the index (every number but [`Slot::NONE`]).
pub(crate) fn is_segment_number(seq: u64) -> bool {
    seq != Slot::NONE
}

/// What the index knows of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub(crate) kind: SegmentKind,
    pub(crate) bytes: usize,
    /// Facets (state or version writes) it holds.
    pub(crate) facets: u32,
    /// Facets that are still the latest write of their slot.
    pub(crate) live: u32,
}

/// The index of one target.
#[derive(Debug, Default)]
pub(crate) struct TargetIndex {
    models: Vec<String>,
    model_ids: HashMap<String, u32>,
    slots: IdMap<(EntityId, u32), Slot>,
    pub(crate) segments: BTreeMap<u64, SegmentInfo>,
    /// Segments that could not be decoded (deleted by the next compaction).
    pub(crate) unreadable: Vec<u64>,
    pub(crate) next_seq: u64,
}

impl TargetIndex {
    /// The id of a model tag, interning it.
    pub(crate) fn model_id(&mut self, tag: &str) -> u32 {
        if let Some(id) = self.model_ids.get(tag) {
            return *id;
        }
        let id = self.models.len() as u32;
        self.models.push(tag.to_owned());
        self.model_ids.insert(tag.to_owned(), id);
        id
    }

    /// The id of a model tag, if known.
    pub(crate) fn known_model(&self, tag: &str) -> Option<u32> {
        self.model_ids.get(tag).copied()
    }

    /// The tag of a model id.
    pub(crate) fn model_tag(&self, id: u32) -> Option<&str> {
        self.models.get(id as usize).map(String::as_str)
    }

    /// A slot, if anything of it is stored.
    pub(crate) fn slot(&self, entity: &EntityId, model: u32) -> Option<&Slot> {
        self.slots.get(&(*entity, model))
    }

    fn slot_mut(&mut self, entity: &EntityId, model: u32) -> &mut Slot {
        self.slots.entry((*entity, model)).or_default()
    }

    /// Makes room for `additional` more slots.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.slots.reserve(additional);
    }

    /// The slots of an entity, by model id.
    pub(crate) fn entity_slots(&self, entity: &EntityId) -> Vec<(u32, Slot)> {
        (0..self.models.len() as u32)
            .filter_map(|model| self.slot(entity, model).map(|slot| (model, *slot)))
            .collect()
    }

    /// Every entity with a stored state or ledger entry of the model `tag`.
    pub(crate) fn model_entities(&self, tag: &str) -> Vec<EntityId> {
        let Some(model) = self.known_model(tag) else {
            return Vec::new();
        };
        self.slots
            .iter()
            .filter(|((_, m), slot)| *m == model && (slot.has_state() || slot.has_version()))
            .map(|((entity, _), _)| *entity)
            .collect()
    }

    /// Every entity with a stored state or ledger entry (once per such model).
    pub(crate) fn live_entities(&self) -> impl Iterator<Item = &EntityId> {
        self.slots
            .iter()
            .filter(|(_, slot)| slot.has_state() || slot.has_version())
            .map(|((entity, _), _)| entity)
    }

    /// Registers a new segment (before its records).
    pub(crate) fn add_segment(&mut self, seq: u64, kind: SegmentKind, bytes: usize) {
        self.segments.insert(
            seq,
            SegmentInfo {
                kind,
                bytes,
                facets: 0,
                live: 0,
            },
        );
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
    }

    /// Records a write of segment `seq` (which must be newer than every segment already
    /// recorded for this slot): it becomes the latest write of the facets it touches. A
    /// removal (a deletion or a version cleared) of a slot nothing else holds hides nothing: it
    /// is not live, and compaction drops it.
    pub(crate) fn record(
        &mut self,
        seq: u64,
        entity: &EntityId,
        model: u32,
        state: StateOp,
        version: VersionOpKind,
    ) {
        let mut superseded = [None, None];
        let mut facets = 0;
        let mut live = 0;
        {
            let slot = self.slots.entry((*entity, model)).or_default();
            let hides = slot.copies > 0;
            slot.copies = slot.copies.saturating_add(1);
            if state != StateOp::None {
                let upsert = state == StateOp::Upsert;
                superseded[0] = if upsert || hides {
                    live += 1;
                    slot.replace_state(seq)
                } else {
                    slot.take_state()
                };
                slot.set_flag(Slot::HAS_STATE, upsert);
                facets += 1;
            }
            if version != VersionOpKind::None {
                let set = version == VersionOpKind::Set;
                superseded[1] = if set || hides {
                    live += 1;
                    slot.replace_version(seq)
                } else {
                    slot.take_version()
                };
                slot.set_flag(Slot::HAS_VERSION, set);
                facets += 1;
            }
        }
        for old in superseded.into_iter().flatten() {
            if let Some(info) = self.segments.get_mut(&old) {
                info.live = info.live.saturating_sub(1);
            }
        }
        if let Some(info) = self.segments.get_mut(&seq) {
            info.facets += facets;
            info.live += live;
        }
    }

    /// After a compaction replaced the segments `merged` by pages: `removed_copies` says how
    /// many records of each slot the merged segments held, `placed` where each slot's kept
    /// facets went (`(page, kept state write?, is upsert, kept version write?, sets version)`).
    pub(crate) fn apply_compaction(
        &mut self,
        merged: &[u64],
        removed_copies: &IdMap<(EntityId, u32), u32>,
        placed: &IdMap<(EntityId, u32), Placed>,
        pages: &[(u64, usize)],
    ) {
        let is_merged = |seq: Option<u64>| seq.is_some_and(|s| merged.contains(&s));
        let mut hide_nothing = Vec::new();
        for ((entity, model), copies) in removed_copies {
            let place = placed.get(&(*entity, *model)).copied();
            let slot = self.slot_mut(entity, *model);
            slot.copies = slot.copies.saturating_sub(*copies);
            if is_merged(slot.state()) {
                match place.filter(|p| p.state) {
                    Some(p) => {
                        slot.replace_state(p.page);
                    }
                    None => {
                        slot.take_state();
                        slot.set_flag(Slot::HAS_STATE, false);
                    }
                }
            }
            if is_merged(slot.version()) {
                match place.filter(|p| p.version) {
                    Some(p) => {
                        slot.replace_version(p.page);
                    }
                    None => {
                        slot.take_version();
                        slot.set_flag(Slot::HAS_VERSION, false);
                    }
                }
            }
            if place.is_some() {
                slot.copies += 1;
            } else if slot.copies == 1 {
                // The one record left outside the merged segments: its removals hid only
                // records that are gone now.
                if !slot.has_state() {
                    hide_nothing.extend(slot.take_state());
                }
                if !slot.has_version() {
                    hide_nothing.extend(slot.take_version());
                }
            }
            if slot.is_gone() {
                self.slots.remove(&(*entity, *model));
            }
        }
        for seq in hide_nothing {
            if let Some(info) = self.segments.get_mut(&seq) {
                info.live = info.live.saturating_sub(1);
            }
        }
        for seq in merged {
            self.segments.remove(seq);
        }
        self.unreadable.retain(|seq| !merged.contains(seq));
        for (page, bytes) in pages {
            self.add_segment(*page, SegmentKind::Page, *bytes);
        }
        for place in placed.values() {
            if let Some(info) = self.segments.get_mut(&place.page) {
                let facets = u32::from(place.state) + u32::from(place.version);
                info.facets += facets;
                info.live += facets;
            }
        }
    }

    /// Totals for reports.
    pub(crate) fn totals(&self) -> (usize, usize) {
        let mut states = 0;
        let mut versions = 0;
        for slot in self.slots.values() {
            states += usize::from(slot.has_state());
            versions += usize::from(slot.has_version());
        }
        (states, versions)
    }
}

/// Where compaction put the kept facets of one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    pub(crate) page: u64,
    pub(crate) state: bool,
    pub(crate) version: bool,
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::Felt;

    use super::*;

    #[test]
    fn a_slot_is_24_bytes() {
        // 48 with two `Option<u64>` and a load's positions (`7ba0693`).
        assert_eq!(std::mem::size_of::<Slot>(), 24);
    }

    #[test]
    fn later_writes_supersede_and_live_counts_follow() {
        let mut index = TargetIndex::default();
        let e = Felt::from(1u128);
        let m = index.model_id("ns-M");
        index.add_segment(0, SegmentKind::Delta, 10);
        index.record(0, &e, m, StateOp::Upsert, VersionOpKind::Set);
        index.add_segment(1, SegmentKind::Delta, 10);
        index.record(1, &e, m, StateOp::Delete, VersionOpKind::None);
        assert_eq!(index.segments[&0].live, 1);
        assert_eq!(index.segments[&1].live, 1);
        let slot = *index.slot(&e, m).unwrap();
        assert_eq!(
            (
                slot.state(),
                slot.has_state(),
                slot.version(),
                slot.copies()
            ),
            (Some(1), false, Some(0), 2)
        );
        assert_eq!(index.next_seq, 2);
        assert_eq!(index.totals(), (0, 1));
    }
}
