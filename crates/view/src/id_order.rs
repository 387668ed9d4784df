//! Each model's entity ids in ascending order, for queries with a small `limit`: they read
//! states in id order and stop after `limit + 1` matches instead of scanning the whole model.
//! Built at a model's first such query and kept until an entity the order does not list gains
//! a state of that model (deleted ids stay listed: reading them finds nothing).

use std::cell::{Ref, RefCell};
use std::collections::HashMap;

use dojo_reactive_core::EntityId;

use crate::replica::{Changed, Replica};

/// Sorted entity ids per model tag (see the module doc).
#[derive(Debug, Default)]
pub struct IdOrder {
    models: RefCell<HashMap<String, Vec<EntityId>>>,
}

impl IdOrder {
    /// Drops the order of every model that gained an entity it does not list.
    pub fn changed(&mut self, changed: &[Changed], replica: &Replica) {
        let models = self.models.get_mut();
        for (entity, model) in changed {
            let model = model.as_str();
            let unlisted = models
                .get(model)
                .is_some_and(|ids| ids.binary_search(entity).is_err());
            if unlisted && replica.get(entity, model).is_some() {
                models.remove(model);
            }
        }
    }

    /// Drops every order (a restore changes states it does not report).
    pub fn clear(&mut self) {
        self.models.get_mut().clear();
    }

    /// The model's entity ids in ascending order (built now if needed).
    pub fn ids<'a>(&'a self, model: &str, replica: &Replica) -> Ref<'a, [EntityId]> {
        if !self.models.borrow().contains_key(model) {
            let mut ids: Vec<EntityId> = replica.ids(model).copied().collect();
            ids.sort_unstable();
            self.models.borrow_mut().insert(model.to_owned(), ids);
        }
        Ref::map(self.models.borrow(), |models| {
            models.get(model).map_or(&[][..], Vec::as_slice)
        })
    }
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::sync::{ModelKey, ModelRecord, TargetKind};
    use dojo_reactive_core::{Felt, Struct};
    use dojo_reactive_storage::StateChange;

    use super::*;

    fn upsert(id: u128) -> StateChange {
        StateChange::Upsert(ModelRecord {
            entity: Felt::from(id),
            world_address: Felt::ZERO,
            state: Struct {
                name: "ns-A".into(),
                members: Vec::new(),
            },
            created_at: 1,
            updated_at: 2,
            executed_at: 3,
        })
    }

    fn ids(order: &IdOrder, replica: &Replica) -> Vec<u128> {
        let listed: Vec<EntityId> = order.ids("ns-A", replica).to_vec();
        listed
            .iter()
            .map(|id| u128::from_be_bytes(id.as_bytes()[16..].try_into().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn ids_are_sorted_and_rebuilt_only_when_an_entity_joins_the_model() {
        let mut replica = Replica::new();
        let mut order = IdOrder::default();
        let changed = replica.apply(TargetKind::Entities, vec![upsert(9), upsert(3), upsert(5)]);
        order.changed(&changed, &replica);
        assert_eq!(ids(&order, &replica), [3, 5, 9]);

        // An update of a listed entity and a deletion keep the order (a deleted id reads as
        // nothing); a new entity drops it, and the next read lists the new one.
        let deleted = StateChange::Delete(ModelKey {
            entity: Felt::from(5u128),
            model: "ns-A".into(),
        });
        let changed = replica.apply(TargetKind::Entities, vec![deleted]);
        order.changed(&changed, &replica);
        assert_eq!(ids(&order, &replica), [3, 5, 9]);
        let changed = replica.apply(TargetKind::Entities, vec![upsert(4)]);
        order.changed(&changed, &replica);
        assert_eq!(ids(&order, &replica), [3, 4, 9]);
        order.clear();
        assert_eq!(ids(&order, &replica), [3, 4, 9]);
        assert!(order.ids("ns-B", &replica).is_empty());
    }
}
