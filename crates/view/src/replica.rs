//! The main thread's replica of synced model states, fed only by DELTAs: per model tag, entity
//! id → the state and Torii's timestamps (hashed: queries sort what they return, so holding
//! states in id order would only make every insert dearer). Applying a DELTA costs time
//! proportional to it. Every state is held [`Packed`] (one buffer, read in place by filters) and
//! decoded only for what a caller reads; states restored at start-up stay in their segment's
//! encoding until something reads or scans them, and are packed then.

use std::cell::{Cell, OnceCell};
use std::collections::HashMap;

use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{EntityId, FastMap, Name, Struct};
use dojo_reactive_storage::{EncodedChange, EncodedState, StateChange};

use crate::packed::{Packed, PackedState};

/// One synced model state with Torii's timestamps.
pub struct Held {
    /// Entities or event messages.
    pub target: TargetKind,
    /// When Torii first indexed the entity (Unix seconds).
    pub created_at: u64,
    /// When Torii indexed this state (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of this state (Unix seconds).
    pub executed_at: u64,
    /// The packed state (`None` if a restored encoding could not be read).
    packed: OnceCell<Option<Packed>>,
    /// A restored state's segment encoding, until it is first read.
    stored: Cell<Option<EncodedState>>,
}

impl Held {
    /// A synced state, packed now.
    fn synced(target: TargetKind, record: &ModelRecord) -> Held {
        Held {
            target,
            created_at: record.created_at,
            updated_at: record.updated_at,
            executed_at: record.executed_at,
            packed: OnceCell::from(Some(Packed::pack(&record.state))),
            stored: Cell::new(None),
        }
    }

    /// A restored state, packed when first read.
    fn stored(target: TargetKind, times: [u64; 3], state: EncodedState) -> Held {
        let [created_at, updated_at, executed_at] = times;
        Held {
            target,
            created_at,
            updated_at,
            executed_at,
            packed: OnceCell::new(),
            stored: Cell::new(Some(state)),
        }
    }

    /// The packed state, packed on first read when restored. `None` only when a restored
    /// encoding could not be decoded (its segment's checksum held, so never in practice); the
    /// state then reads as absent until Torii sends it again.
    pub fn packed(&self) -> Option<&Packed> {
        self.packed
            .get_or_init(|| {
                let state = self.stored.take()?.decode().ok()?;
                Some(Packed::pack(&state))
            })
            .as_ref()
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("target", &self.target)
            .field("updated_at", &self.updated_at)
            .field("packed", &self.packed.get())
            .finish_non_exhaustive()
    }
}

/// A model state that changed: the entity and the model tag.
pub type Changed = (EntityId, Name);

/// Synced model states by model tag and entity id.
#[derive(Debug, Default)]
pub struct Replica {
    models: HashMap<Name, FastMap<EntityId, Held>>,
    /// Models held per entity (an entity with none is not held).
    entities: FastMap<EntityId, u32>,
}

impl Replica {
    /// An empty replica.
    pub fn new() -> Self {
        Replica::default()
    }

    /// Number of entities with at least one model state.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Whether a state with these Torii timestamps is older than the one held for (entity,
    /// model): such a state is never applied, so the view never goes back (a restore read
    /// after a relayed DELTA, a new leader's first batches; see `docs/tabs.md`). Equal
    /// timestamps apply: within one second, arrival order is Torii's order.
    fn older_than_held(&self, entity: &EntityId, model: &str, times: (u64, u64)) -> bool {
        self.get(entity, model)
            .is_some_and(|held| times < (held.executed_at, held.updated_at))
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
                    let held = Held::synced(target, &record);
                    if let Some(previous) = self.insert(entity, &name, held) {
                        let same = self
                            .get(&entity, &name)
                            .is_some_and(|now| now.packed() == previous.packed());
                        if same {
                            continue;
                        }
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
    /// states left encoded until read; returns the
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
                    if self.older_than_held(&entity, &model, (executed_at, updated_at)) {
                        continue;
                    }
                    let times = [created_at, updated_at, executed_at];
                    self.insert(entity, &model, Held::stored(target, times, state));
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

    /// Holds `held` as the state of (entity, model); returns the state it replaced.
    fn insert(&mut self, entity: EntityId, tag: &Name, held: Held) -> Option<Held> {
        let model = match self.models.get_mut(tag.as_str()) {
            Some(model) => model,
            None => self.models.entry(tag.clone()).or_default(),
        };
        let previous = model.insert(entity, held);
        if previous.is_none() {
            *self.entities.entry(entity).or_insert(0) += 1;
        }
        previous
    }

    fn delete(&mut self, entity: &EntityId, model: &str) -> bool {
        let removed = self
            .models
            .get_mut(model)
            .and_then(|states| states.remove(entity))
            .is_some();
        if removed {
            if let Some(count) = self.entities.get_mut(entity) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.entities.remove(entity);
                }
            }
        }
        removed
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
        let (id, held) = states.get_key_value(entity)?;
        Some((
            id,
            PackedState {
                model: tag,
                packed: held.packed()?,
            },
        ))
    }

    /// The synced state of one (entity, model), decoded.
    pub fn state(&self, entity: &EntityId, model: &str) -> Option<Struct> {
        let (tag, states) = self.models.get_key_value(model)?;
        states.get(entity)?.packed()?.unpack(tag)
    }

    /// Every held model state of an entity, decoded, by model tag.
    pub fn entity(&self, entity: &EntityId) -> Vec<Struct> {
        if !self.entities.contains_key(entity) {
            return Vec::new();
        }
        let mut held: Vec<Struct> = self
            .models
            .iter()
            .filter_map(|(tag, states)| states.get(entity)?.packed()?.unpack(tag))
            .collect();
        held.sort_by(|a, b| a.name.cmp(&b.name));
        held
    }

    /// The ids of every entity holding a state of one model, in no particular order.
    pub fn ids<'a>(&'a self, model: &str) -> impl Iterator<Item = &'a EntityId> {
        self.models
            .get(model)
            .into_iter()
            .flat_map(|states| states.keys())
    }

    /// Every `(entity id, packed state)` of one model, in no particular order (restored states
    /// are packed as they are reached).
    pub fn states<'a>(
        &'a self,
        model: &str,
    ) -> impl Iterator<Item = (&'a EntityId, PackedState<'a>)> {
        self.models
            .get_key_value(model)
            .into_iter()
            .flat_map(|(tag, states)| {
                states.iter().filter_map(move |(id, held)| {
                    Some((
                        id,
                        PackedState {
                            model: tag,
                            packed: held.packed()?,
                        },
                    ))
                })
            })
    }

    /// Bytes of packed states held (their buffers), for the memory figures.
    pub fn packed_bytes(&self) -> usize {
        self.models
            .values()
            .flat_map(|states| states.values())
            .filter_map(|held| held.packed.get()?.as_ref())
            .map(Packed::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::ModelKey;
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
