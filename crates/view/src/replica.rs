//! The main thread's replica of synced model states, fed only by DELTAs. Per model tag, the
//! states sit in dense slots (in the order entities were first held; pages of 1,024, so growing
//! never copies them) and their [`Packed`] bytes in one arena (chunks of 256 KiB, for the same
//! reason), in slot order: a scan reads memory front to back, with no allocation per state to
//! chase, and a state is decoded only for what a caller reads. Names are held once per replica
//! ([`Names`]), not per state. Entity ids map to slots through a hash table of slot numbers (the
//! id itself is held once, in its slot; queries sort what they return, so holding states in id
//! order would only make every insert dearer). Applying a DELTA costs time proportional to it: a
//! changed state's bytes are appended and the old ones become garbage, which is compacted away
//! (in slot order) once it outweighs the live bytes. States restored at start-up stay in their
//! segment's encoding until the first scan of their model packs them
//! ([`Replica::pack_restored`]); a read before that decodes them from the segment.

use std::collections::HashMap;
use std::hash::BuildHasher;

use dojo_reactive_core::sync::TargetKind;
use dojo_reactive_core::{EntityId, FastHashBuilder, Name, Struct};
use dojo_reactive_storage::{EncodedChange, EncodedState, StateChange};
use hashbrown::HashTable;

use crate::packed::{unpack, Names, Packed, PackedState};

/// One synced model state with Torii's timestamps.
#[derive(Debug)]
pub struct Held {
    /// The entity.
    id: EntityId,
    /// Entities or event messages.
    pub target: TargetKind,
    /// When Torii first indexed the entity (Unix seconds).
    pub created_at: u64,
    /// When Torii indexed this state (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of this state (Unix seconds).
    pub executed_at: u64,
    body: Body,
}

/// Where a held state is.
#[derive(Debug)]
enum Body {
    /// Packed, in the arena.
    Packed(Span),
    /// Restored, still in its segment's encoding (boxed: most states are packed, and a `Held`
    /// is as large as its largest body).
    Stored(Box<EncodedState>),
    /// A restored encoding that could not be decoded (its segment's checksum held, so never in
    /// practice): the state reads as absent until Torii sends it again.
    Unreadable,
}

/// Where a state's bytes are in an [`Arena`] (`u32`s: 12 bytes per state on every target).
#[derive(Debug, Clone, Copy)]
struct Span {
    chunk: u32,
    at: u32,
    len: u32,
}

/// `n` as a `u32`; `u32::MAX` (a span that reads as absent) past it, which a wasm32 memory
/// cannot hold anyway.
fn narrow(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Bytes of one chunk of an [`Arena`] (a state longer than this gets a chunk of its own).
const CHUNK: usize = 256 * 1024;

/// Packed states appended in chunks, a state never across two: growing allocates a chunk and
/// never copies what is held (a wasm memory keeps its high-water mark).
#[derive(Debug, Default)]
struct Arena {
    chunks: Vec<Vec<u8>>,
    /// Bytes held, in every chunk.
    len: usize,
}

impl Arena {
    fn push(&mut self, bytes: &[u8]) -> Span {
        let fits = self
            .chunks
            .last()
            .is_some_and(|chunk| chunk.capacity() - chunk.len() >= bytes.len());
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK.max(bytes.len())));
        }
        let chunk = self.chunks.len() - 1;
        let held = self.chunks.last_mut().map_or(0, |last| {
            last.extend_from_slice(bytes);
            last.len()
        });
        self.len += bytes.len();
        Span {
            chunk: narrow(chunk),
            at: narrow(held - bytes.len()),
            len: narrow(bytes.len()),
        }
    }

    fn get(&self, span: &Span) -> Option<&[u8]> {
        let at = usize::try_from(span.at).ok()?;
        let len = usize::try_from(span.len).ok()?;
        self.chunks
            .get(usize::try_from(span.chunk).ok()?)?
            .get(at..at.checked_add(len)?)
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Held states per page of [`Slots`].
const PAGE: usize = 1024;

/// Dense slots of held states in pages of [`PAGE`]: growing allocates a page and never copies
/// (a `Vec` doubling would keep up to twice the slots' bytes, and a wasm memory keeps the
/// high-water mark of each copy).
#[derive(Debug, Default)]
struct Slots {
    pages: Vec<Vec<Held>>,
    len: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, slot: usize) -> Option<&Held> {
        self.pages.get(slot / PAGE)?.get(slot % PAGE)
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Held> {
        self.pages.get_mut(slot / PAGE)?.get_mut(slot % PAGE)
    }

    fn push(&mut self, held: Held) {
        match self.pages.last_mut() {
            Some(page) if page.len() < PAGE => page.push(held),
            _ => {
                let mut page = Vec::with_capacity(PAGE);
                page.push(held);
                self.pages.push(page);
            }
        }
        self.len += 1;
    }

    /// Removes a slot, the last one taking its place.
    fn swap_remove(&mut self, slot: usize) -> Option<Held> {
        if slot >= self.len {
            return None;
        }
        let last = self.pages.last_mut()?.pop()?;
        if self.pages.last().is_some_and(Vec::is_empty) {
            self.pages.pop();
        }
        self.len -= 1;
        match self.get_mut(slot) {
            Some(held) => Some(std::mem::replace(held, last)),
            None => Some(last),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Held> {
        self.pages.iter().flatten()
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Held> {
        self.pages.iter_mut().flatten()
    }
}

/// The states of one model (see the module doc).
#[derive(Debug, Default)]
struct ModelStates {
    /// Entity id → slot: slot numbers found by their entity id's hash (the id is held once, in
    /// its slot; an entry is 4 bytes instead of a 32-byte key and its slot).
    index: HashTable<u32>,
    /// The hash of `index`.
    hasher: FastHashBuilder,
    slots: Slots,
    /// The packed bytes of every `Body::Packed` slot, and garbage.
    arena: Arena,
    /// Bytes of the arena no slot refers to any more.
    garbage: usize,
    /// Slots still `Body::Stored`.
    stored: usize,
}

/// Garbage under this many bytes is never compacted (not worth a pass).
const MIN_COMPACTED_GARBAGE: usize = 64 * 1024;

impl ModelStates {
    /// The slot of `entity`.
    fn slot(&self, entity: &EntityId) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(self.hasher.hash_one(entity), |&slot| {
                slots
                    .get(slot as usize)
                    .is_some_and(|held| held.id == *entity)
            })
            .map(|&slot| slot as usize)
    }

    fn get(&self, entity: &EntityId) -> Option<&Held> {
        self.slots.get(self.slot(entity)?)
    }

    /// Points the index entry of `entity` (at slot `from`) to slot `to`.
    fn moved(&mut self, entity: &EntityId, from: usize, to: usize) {
        if let Some(slot) = self
            .index
            .find_mut(self.hasher.hash_one(entity), |&slot| slot as usize == from)
        {
            *slot = narrow(to);
        }
    }

    fn bytes(&self, held: &Held) -> Option<&[u8]> {
        match held.body {
            Body::Packed(span) => self.arena.get(&span),
            _ => None,
        }
    }

    /// The state of a slot: borrowed from the arena (its names in `names`), or packed from its
    /// segment encoding with a table of its own.
    fn packed<'a>(
        &'a self,
        model: &'a Name,
        held: &'a Held,
        names: &'a Names,
    ) -> Option<PackedState<'a>> {
        match &held.body {
            Body::Packed(_) => Some(PackedState::new(model, self.bytes(held)?, names)),
            Body::Stored(state) => {
                let mut own = Names::new();
                let packed = Packed::pack(&state.decode().ok()?, &mut own);
                Some(PackedState::owned(model, packed, own))
            }
            Body::Unreadable => None,
        }
    }

    /// The state of a slot, decoded.
    fn decoded(&self, model: &Name, held: &Held, names: &Names) -> Option<Struct> {
        match &held.body {
            Body::Packed(_) => unpack(self.bytes(held)?, model, names),
            Body::Stored(state) => state.decode().ok(),
            Body::Unreadable => None,
        }
    }

    /// Whether a slot holds `state` (`packed` is it packed with the replica's names).
    fn holds(&self, held: &Held, packed: &Packed, state: &Struct) -> bool {
        match &held.body {
            Body::Packed(span) => self.arena.get(span) == Some(packed.as_bytes()),
            Body::Stored(stored) => stored.decode().is_ok_and(|stored| stored == *state),
            Body::Unreadable => false,
        }
    }

    /// Appends packed bytes to the arena; the body that refers to them.
    fn append(&mut self, bytes: &[u8]) -> Body {
        Body::Packed(self.arena.push(bytes))
    }

    /// Lets a body go (its bytes become garbage).
    fn release(&mut self, body: &Body) {
        match body {
            Body::Packed(span) => self.garbage += span.len as usize,
            Body::Stored(_) => self.stored -= 1,
            Body::Unreadable => {}
        }
    }

    /// Holds `held` for `entity`; whether it was not held before.
    fn put(&mut self, held: Held) -> bool {
        if let Body::Stored(_) = held.body {
            self.stored += 1;
        }
        match self
            .slot(&held.id)
            .and_then(|slot| self.slots.get_mut(slot))
        {
            Some(current) => {
                let previous = std::mem::replace(current, held);
                self.release(&previous.body);
                self.compact_if_worth_it();
                false
            }
            None => {
                let (slots, hasher) = (&self.slots, &self.hasher);
                self.index
                    .insert_unique(hasher.hash_one(held.id), narrow(slots.len()), |&slot| {
                        slots
                            .get(slot as usize)
                            .map_or(0, |held| hasher.hash_one(held.id))
                    });
                self.slots.push(held);
                true
            }
        }
    }

    /// [`Self::put`] unless the state held for the same entity is newer by Torii's timestamps
    /// (see [`Replica::older_than_held`]), with one lookup of the entity: `None` when `held` is
    /// older and was dropped, else whether the entity was not held before.
    fn put_unless_older(&mut self, held: Held) -> Option<bool> {
        let hash = self.hasher.hash_one(held.id);
        let slots = &self.slots;
        let found = self
            .index
            .find(hash, |&slot| {
                slots
                    .get(slot as usize)
                    .is_some_and(|current| current.id == held.id)
            })
            .map(|&slot| slot as usize);
        if let Some(current) = found.and_then(|slot| self.slots.get_mut(slot)) {
            if (held.executed_at, held.updated_at) < (current.executed_at, current.updated_at) {
                return None;
            }
            let stored = matches!(held.body, Body::Stored(_));
            let previous = std::mem::replace(current, held);
            if stored {
                self.stored += 1;
            }
            self.release(&previous.body);
            self.compact_if_worth_it();
            return Some(false);
        }
        if let Body::Stored(_) = held.body {
            self.stored += 1;
        }
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert_unique(hash, narrow(slots.len()), |&slot| {
                slots
                    .get(slot as usize)
                    .map_or(0, |held| hasher.hash_one(held.id))
            });
        self.slots.push(held);
        Some(true)
    }

    /// Drops the state of `entity`; whether one was held.
    fn remove(&mut self, entity: &EntityId) -> bool {
        let slots = &self.slots;
        let Ok(entry) = self
            .index
            .find_entry(self.hasher.hash_one(entity), |&slot| {
                slots
                    .get(slot as usize)
                    .is_some_and(|held| held.id == *entity)
            })
        else {
            return false;
        };
        let slot = entry.remove().0 as usize;
        let last = self.slots.len().saturating_sub(1);
        let Some(removed) = self.slots.swap_remove(slot) else {
            return false;
        };
        if let Some(moved) = self.slots.get(slot).map(|held| held.id) {
            self.moved(&moved, last, slot);
        }
        self.release(&removed.body);
        self.compact_if_worth_it();
        true
    }

    /// Rewrites the arena in slot order without garbage once garbage outweighs live bytes.
    fn compact_if_worth_it(&mut self) {
        if self.garbage < MIN_COMPACTED_GARBAGE || self.garbage * 2 < self.arena.len() {
            return;
        }
        let mut arena = Arena::default();
        for held in self.slots.iter_mut() {
            if let Body::Packed(span) = &mut held.body {
                *span = arena.push(self.arena.get(span).unwrap_or_default());
            }
        }
        self.arena = arena;
        self.garbage = 0;
    }

    /// Packs every restored state with `names` (see [`Replica::pack_restored`]).
    fn pack_restored(&mut self, names: &mut Names) {
        if self.stored == 0 {
            return;
        }
        for slot in 0..self.slots.len() {
            let Some(Body::Stored(state)) = self.slots.get(slot).map(|held| &held.body) else {
                continue;
            };
            let body = match state.decode() {
                Ok(state) => self.append(Packed::pack(&state, names).as_bytes()),
                Err(_) => Body::Unreadable,
            };
            if let Some(held) = self.slots.get_mut(slot) {
                held.body = body;
            }
        }
        self.stored = 0;
    }
}

/// A model state that changed: the entity and the model tag.
pub type Changed = (EntityId, Name);

/// Synced model states by model tag and entity id.
#[derive(Debug, Default)]
pub struct Replica {
    models: HashMap<Name, ModelStates>,
    /// The names every packed state refers to.
    names: Names,
    /// Entities with at least one model state (counted, not listed: whether an entity is
    /// held is asked of its models' indexes, so its id is held once per model state, no more).
    entities: usize,
}

impl Replica {
    /// An empty replica.
    pub fn new() -> Self {
        Replica::default()
    }

    /// Number of entities with at least one model state.
    pub fn len(&self) -> usize {
        self.entities
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entities == 0
    }

    /// Whether a model other than `model` holds a state of `entity`.
    fn held_elsewhere(&self, entity: &EntityId, model: &str) -> bool {
        self.models
            .iter()
            .any(|(tag, states)| **tag != *model && states.slot(entity).is_some())
    }

    /// Counts `entity` if `model` is its only one (it just gained a state of it).
    fn gained(&mut self, entity: &EntityId, model: &str) {
        if !self.held_elsewhere(entity, model) {
            self.entities += 1;
        }
    }

    /// Whether a state with these Torii timestamps is older than the one held for (entity,
    /// model): such a state is never applied, so the view never goes back (a restore read
    /// after a relayed DELTA, a new leader's first batches; see `docs/tabs.md`). Equal
    /// timestamps apply: within one second, arrival order is Torii's order.
    fn older_than_held(&self, entity: &EntityId, model: &str, times: (u64, u64)) -> bool {
        self.get(entity, model)
            .is_some_and(|held| times < (held.executed_at, held.updated_at))
    }

    /// The states of a model, created empty when absent.
    fn model_mut(&mut self, tag: &Name) -> &mut ModelStates {
        self.models.entry(tag.clone()).or_default()
    }

    /// Applies changes in order; returns the (entity, model) pairs whose state changed (a
    /// rewrite of an identical state or a deletion of an absent one is not a change; a state
    /// older than the held one is dropped).
    pub fn apply(&mut self, target: TargetKind, changes: Vec<StateChange>) -> Vec<Changed> {
        let mut changed = Vec::with_capacity(changes.len());
        for change in changes {
            match change {
                StateChange::Upsert(record) => {
                    let entity = record.entity;
                    let name = record.state.name.clone();
                    if self.older_than_held(&entity, &name, (record.executed_at, record.updated_at))
                    {
                        continue;
                    }
                    let packed = Packed::pack(&record.state, &mut self.names);
                    let states = self.models.entry(name.clone()).or_default();
                    let same = states
                        .get(&entity)
                        .is_some_and(|held| states.holds(held, &packed, &record.state));
                    if same {
                        // Only the timestamps move: the bytes held stay.
                        if let Some(slot) = states.slot(&entity) {
                            if let Some(held) = states.slots.get_mut(slot) {
                                held.target = target;
                                held.created_at = record.created_at;
                                held.updated_at = record.updated_at;
                                held.executed_at = record.executed_at;
                            }
                        }
                        continue;
                    }
                    let body = states.append(packed.as_bytes());
                    let held = Held {
                        id: entity,
                        target,
                        created_at: record.created_at,
                        updated_at: record.updated_at,
                        executed_at: record.executed_at,
                        body,
                    };
                    if states.put(held) {
                        self.gained(&entity, &name);
                    }
                    changed.push((entity, name));
                }
                StateChange::Delete(key) => {
                    if self.delete(&key.entity, &key.model) {
                        changed.push((key.entity, key.model));
                    }
                }
            }
        }
        changed
    }

    /// Applies restored changes in order (a state older than the held one is dropped), their
    /// states left encoded until their model is scanned or they are read; returns the
    /// (entity, model) pairs written or deleted (without comparing states) for which `wanted`
    /// says yes (a start-up usually wants none: collecting them all would cost as much as
    /// restoring).
    pub fn restore(
        &mut self,
        target: TargetKind,
        changes: Vec<EncodedChange>,
        wanted: impl Fn(&str) -> bool,
    ) -> Vec<Changed> {
        let mut changed = Vec::new();
        for change in changes {
            match change {
                EncodedChange::Upsert {
                    entity,
                    created_at,
                    updated_at,
                    executed_at,
                    state,
                } => {
                    let model = state.model().clone();
                    let held = Held {
                        id: entity,
                        target,
                        created_at,
                        updated_at,
                        executed_at,
                        body: Body::Stored(Box::new(state)),
                    };
                    // One lookup of the entity per state: a warm start restores every one.
                    let Some(gained) = self.model_mut(&model).put_unless_older(held) else {
                        continue;
                    };
                    if gained {
                        self.gained(&entity, &model);
                    }
                    if wanted(&model) {
                        changed.push((entity, model));
                    }
                }
                EncodedChange::Delete(key) => {
                    if self.delete(&key.entity, &key.model) && wanted(&key.model) {
                        changed.push((key.entity, key.model));
                    }
                }
            }
        }
        changed
    }

    fn delete(&mut self, entity: &EntityId, model: &str) -> bool {
        let removed = self
            .models
            .get_mut(model)
            .is_some_and(|states| states.remove(entity));
        if removed && !self.held_elsewhere(entity, model) {
            self.entities = self.entities.saturating_sub(1);
        }
        removed
    }

    /// Packs the restored states of one model still in their segment encoding, so that scans
    /// read them in place (and their segments can be let go). Queries call it first.
    pub fn pack_restored(&mut self, model: &str) {
        if let Some(states) = self.models.get_mut(model) {
            states.pack_restored(&mut self.names);
        }
    }

    /// The synced state of one (entity, model), with its timestamps.
    pub fn get(&self, entity: &EntityId, model: &str) -> Option<&Held> {
        self.models.get(model)?.get(entity)
    }

    /// The synced state of one (entity, model), packed, with the held id (as
    /// [`Replica::states`] gives).
    pub fn state_entry(
        &self,
        entity: &EntityId,
        model: &str,
    ) -> Option<(&EntityId, PackedState<'_>)> {
        let (tag, states) = self.models.get_key_value(model)?;
        let held = states.get(entity)?;
        Some((&held.id, states.packed(tag, held, &self.names)?))
    }

    /// The synced state of one (entity, model), decoded.
    pub fn state(&self, entity: &EntityId, model: &str) -> Option<Struct> {
        let (tag, states) = self.models.get_key_value(model)?;
        states.decoded(tag, states.get(entity)?, &self.names)
    }

    /// Every held model state of an entity, decoded, by model tag.
    pub fn entity(&self, entity: &EntityId) -> Vec<Struct> {
        // Placed in order as they are decoded (an entity holds a few models): no sort of its
        // own in the page's module.
        let mut held: Vec<Struct> = Vec::new();
        for (tag, states) in &self.models {
            if let Some(state) = states
                .get(entity)
                .and_then(|packed| states.decoded(tag, packed, &self.names))
            {
                let at = held.partition_point(|s| s.name < state.name);
                held.insert(at, state);
            }
        }
        held
    }

    /// The ids of every entity holding a state of one model, in no particular order.
    pub fn ids<'a>(&'a self, model: &str) -> impl Iterator<Item = &'a EntityId> {
        self.models
            .get(model)
            .into_iter()
            .flat_map(|states| states.slots.iter().map(|held| &held.id))
    }

    /// Every `(entity id, packed state)` of one model, in slot order (front to back through
    /// the arena). Restored states not packed yet ([`Replica::pack_restored`]) are packed for
    /// this scan only.
    pub fn states<'a>(
        &'a self,
        model: &str,
    ) -> impl Iterator<Item = (&'a EntityId, PackedState<'a>)> {
        let names = &self.names;
        self.models
            .get_key_value(model)
            .into_iter()
            .flat_map(move |(tag, states)| {
                states
                    .slots
                    .iter()
                    .filter_map(move |held| Some((&held.id, states.packed(tag, held, names)?)))
            })
    }

    /// Bytes of the arenas (packed states and garbage not compacted yet), for the memory
    /// figures.
    pub fn packed_bytes(&self) -> usize {
        self.models.values().map(|states| states.arena.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::{ModelKey, ModelRecord};
    use dojo_reactive_core::{Felt, Member, Primitive, Value};

    use super::*;

    fn upsert(id: u128, model: &str, hp: u32) -> StateChange {
        upsert_at(id, model, hp, 2)
    }

    fn upsert_at(id: u128, model: &str, hp: u32, updated_at: u64) -> StateChange {
        StateChange::Upsert(ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::ZERO,
            state: Struct {
                name: model.into(),
                members: vec![Member {
                    name: "hp".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U32(hp)),
                }],
            },
            created_at: 1,
            updated_at,
            executed_at: 3,
        })
    }

    fn delete(id: u128, model: &str) -> StateChange {
        StateChange::Delete(ModelKey {
            entity: Felt::from(id),
            model: model.into(),
        })
    }

    #[test]
    fn only_real_changes_are_reported_and_entities_are_counted_once() {
        let mut replica = Replica::new();
        let changed = replica.apply(
            TargetKind::Entities,
            vec![
                upsert(1, "ns-A", 1),
                upsert(1, "ns-B", 1),
                upsert(2, "ns-A", 1),
            ],
        );
        assert_eq!(changed.len(), 3);
        assert_eq!(replica.len(), 2);
        assert_eq!(replica.entity(&Felt::from(1u128)).len(), 2);
        let again = replica.apply(
            TargetKind::Entities,
            vec![
                upsert(1, "ns-A", 1),
                upsert(2, "ns-A", 5),
                delete(3, "ns-A"),
            ],
        );
        assert_eq!(again, vec![(Felt::from(2u128), "ns-A".into())]);
        let gone = replica.apply(
            TargetKind::Entities,
            vec![delete(1, "ns-A"), delete(1, "ns-B")],
        );
        assert_eq!(gone.len(), 2);
        assert_eq!(replica.len(), 1);
        assert!(replica.state(&Felt::from(1u128), "ns-A").is_none());
        assert_eq!(replica.states("ns-A").count(), 1);
        assert_eq!(
            replica
                .get(&Felt::from(2u128), "ns-A")
                .map(|h| h.updated_at),
            Some(2)
        );
    }

    #[test]
    fn rewrites_and_deletions_compact_the_arena_and_keep_every_state() {
        let mut replica = Replica::new();
        let n = 2_000u128;
        replica.apply(
            TargetKind::Entities,
            (0..n).map(|i| upsert(i, "ns-A", i as u32)).collect(),
        );
        let live = replica.packed_bytes();
        // Many rounds of rewrites: garbage is compacted away, never above the live bytes twice.
        for round in 1..=40u32 {
            let changes =
                (0..n).map(|i| upsert_at(i, "ns-A", i as u32 + round, 2 + u64::from(round)));
            assert_eq!(
                replica.apply(TargetKind::Entities, changes.collect()).len(),
                n as usize
            );
            assert!(
                replica.packed_bytes() <= 3 * live + MIN_COMPACTED_GARBAGE,
                "round {round}"
            );
        }
        // Deleting every other entity moves slots: the others still read their own states.
        let deletions = (0..n).step_by(2).map(|i| delete(i, "ns-A")).collect();
        assert_eq!(replica.apply(TargetKind::Entities, deletions).len(), 1_000);
        assert_eq!(replica.len(), 1_000);
        for i in 0..n {
            let hp = replica
                .state(&Felt::from(i), "ns-A")
                .map(|s| s.members[0].value.clone());
            let expected = (i % 2 == 1).then(|| Value::Primitive(Primitive::U32(i as u32 + 40)));
            assert_eq!(hp, expected, "entity {i}");
        }
        let mut scanned: Vec<Felt> = replica.states("ns-A").map(|(id, _)| *id).collect();
        scanned.sort();
        let odd: Vec<Felt> = (0..n).filter(|i| i % 2 == 1).map(Felt::from).collect();
        assert_eq!(scanned, odd);
        assert_eq!(replica.ids("ns-A").count(), 1_000);
    }

    #[test]
    fn restored_states_read_like_applied_ones_and_are_compared_when_rewritten() {
        let records: Vec<ModelRecord> = [upsert(1, "ns-A", 1), upsert(2, "ns-A", 2)]
            .into_iter()
            .map(|change| match change {
                StateChange::Upsert(record) => record,
                StateChange::Delete(_) => unreachable!(),
            })
            .collect();
        let deleted = [ModelKey {
            entity: Felt::from(2u128),
            model: "ns-A".into(),
        }];
        let segment =
            dojo_reactive_storage::encode_state_changes(TargetKind::Entities, &records, &[])
                .unwrap();
        // Unwanted changes are applied, not listed.
        let (target, changes) = dojo_reactive_storage::scan_state_changes(segment.clone()).unwrap();
        let mut unlisted = Replica::new();
        assert!(unlisted.restore(target, changes, |_| false).is_empty());
        assert_eq!(unlisted.len(), 2);
        let (target, changes) = dojo_reactive_storage::scan_state_changes(segment).unwrap();
        let mut replica = Replica::new();
        assert_eq!(replica.restore(target, changes, |m| m == "ns-A").len(), 2);
        assert_eq!(replica.len(), 2);
        assert_eq!(
            replica.state(&Felt::from(1u128), "ns-A"),
            Some(records[0].state.clone())
        );
        // Packed for scans: the same states, now read from the arena.
        assert_eq!(replica.packed_bytes(), 0);
        replica.pack_restored("ns-A");
        assert!(replica.packed_bytes() > 0);
        assert_eq!(
            replica.state(&Felt::from(1u128), "ns-A"),
            Some(records[0].state.clone())
        );
        let mut ids: Vec<_> = replica.states("ns-A").map(|(id, _)| *id).collect();
        ids.sort();
        assert_eq!(ids, vec![Felt::from(1u128), Felt::from(2u128)]);
        // An identical state written over a restored one (never read yet) is no change.
        assert!(replica
            .apply(TargetKind::Entities, vec![upsert(2, "ns-A", 2)])
            .is_empty());
        assert_eq!(
            replica
                .apply(TargetKind::Entities, vec![upsert(2, "ns-A", 3)])
                .len(),
            1
        );
        let deletion =
            dojo_reactive_storage::encode_state_changes(TargetKind::Entities, &[], &deleted)
                .unwrap();
        let (_, changes) = dojo_reactive_storage::scan_state_changes(deletion).unwrap();
        assert_eq!(
            replica
                .restore(TargetKind::Entities, changes, |_| true)
                .len(),
            1
        );
        assert_eq!(replica.len(), 1);
    }

    #[test]
    fn a_state_older_than_the_held_one_never_replaces_it() {
        let mut replica = Replica::new();
        let one = Felt::from(1u128);
        replica.apply(TargetKind::Entities, vec![upsert_at(1, "ns-A", 7, 10)]);
        // An older state (a restore read before the relayed one, an old leader's batch).
        assert!(replica
            .apply(TargetKind::Entities, vec![upsert_at(1, "ns-A", 1, 9)])
            .is_empty());
        let older = dojo_reactive_storage::encode_state_changes(
            TargetKind::Entities,
            &[match upsert_at(1, "ns-A", 2, 5) {
                StateChange::Upsert(record) => record,
                StateChange::Delete(_) => unreachable!(),
            }],
            &[],
        )
        .unwrap();
        let (target, changes) = dojo_reactive_storage::scan_state_changes(older).unwrap();
        assert!(replica.restore(target, changes, |_| true).is_empty());
        let hp = |replica: &Replica| match replica
            .state(&one, "ns-A")
            .map(|s| s.members[0].value.clone())
        {
            Some(Value::Primitive(Primitive::U32(hp))) => hp,
            other => panic!("{other:?}"),
        };
        assert_eq!(hp(&replica), 7);
        // Equal timestamps apply (Torii's order within a second), newer ones too.
        assert_eq!(
            replica
                .apply(TargetKind::Entities, vec![upsert_at(1, "ns-A", 8, 10)])
                .len(),
            1
        );
        assert_eq!(hp(&replica), 8);
        replica.apply(TargetKind::Entities, vec![upsert_at(1, "ns-A", 9, 11)]);
        assert_eq!(hp(&replica), 9);
    }
}
