//! The main thread's replica of synced model states, fed only by DELTAs: per model tag, entity
//! id (ordered, so queries scan in id order and growth never rehashes 100,000 entries in one
//! task) → the state and Torii's timestamps. Applying a DELTA costs time proportional to it.

use std::collections::{BTreeMap, HashMap};

use dojo_reactive_core::sync::{ModelRecord, TargetKind};
use dojo_reactive_core::{EntityId, FastMap, Name, Struct};
use dojo_reactive_storage::StateChange;

/// One synced model state with Torii's timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The state (its `name` is the model tag).
    pub state: Struct,
    /// Entities or event messages.
    pub target: TargetKind,
    /// When Torii first indexed the entity (Unix seconds).
    pub created_at: u64,
    /// When Torii indexed this state (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of this state (Unix seconds).
    pub executed_at: u64,
}

/// A model state that changed: the entity and the model tag.
pub type Changed = (EntityId, Name);

/// Synced model states by model tag and entity id.
#[derive(Debug, Default)]
pub struct Replica {
    models: HashMap<String, BTreeMap<EntityId, Held>>,
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

    /// Applies changes in order; returns the (entity, model) pairs whose state changed (a
    /// rewrite of an identical state or a deletion of an absent one is not a change).
    pub fn apply(&mut self, target: TargetKind, changes: Vec<StateChange>) -> Vec<Changed> {
        let mut changed = Vec::with_capacity(changes.len());
        for change in changes {
            match change {
                StateChange::Upsert(record) => {
                    if let Some(key) = self.upsert(target, record) {
                        changed.push(key);
                    }
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

    fn upsert(&mut self, target: TargetKind, record: ModelRecord) -> Option<Changed> {
        let ModelRecord {
            entity,
            state,
            created_at,
            updated_at,
            executed_at,
            ..
        } = record;
        let name = state.name.clone();
        let tag: &str = &name;
        let held = Held {
            target,
            created_at,
            updated_at,
            executed_at,
            state,
        };
        let model = match self.models.get_mut(tag) {
            Some(model) => model,
            None => self.models.entry(tag.to_owned()).or_default(),
        };
        match model.insert(entity, held) {
            Some(previous) => {
                let same = model
                    .get(&entity)
                    .is_some_and(|now| now.state == previous.state);
                (!same).then(|| (entity, name.clone()))
            }
            None => {
                *self.entities.entry(entity).or_insert(0) += 1;
                Some((entity, name))
            }
        }
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

    /// The synced state of one (entity, model).
    pub fn get(&self, entity: &EntityId, model: &str) -> Option<&Held> {
        self.models.get(model)?.get(entity)
    }

    /// Every held model state of an entity, by model tag.
    pub fn entity(&self, entity: &EntityId) -> Vec<&Held> {
        if !self.entities.contains_key(entity) {
            return Vec::new();
        }
        let mut held: Vec<&Held> = self
            .models
            .values()
            .filter_map(|states| states.get(entity))
            .collect();
        held.sort_by(|a, b| a.state.name.cmp(&b.state.name));
        held
    }

    /// Every `(entity id, state)` of one model, in no particular order.
    pub fn states<'a>(&'a self, model: &str) -> impl Iterator<Item = (&'a EntityId, &'a Struct)> {
        self.models
            .get(model)
            .into_iter()
            .flat_map(|states| states.iter().map(|(id, held)| (id, &held.state)))
    }
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::ModelKey;
    use dojo_reactive_core::{Felt, Member, Primitive, Value};

    use super::*;

    fn upsert(id: u128, model: &str, hp: u32) -> StateChange {
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
            updated_at: 2,
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
        assert!(replica.get(&Felt::from(1u128), "ns-A").is_none());
        assert_eq!(replica.states("ns-A").count(), 1);
        assert_eq!(
            replica
                .get(&Felt::from(2u128), "ns-A")
                .map(|h| h.updated_at),
            Some(2)
        );
    }
}
