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
