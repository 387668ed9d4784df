//! Entities as Torii delivers them: an id, some model states and Torii's timestamps.

use crate::bytes32::Felt;
use crate::value::Struct;

/// An entity id: Torii's `hashed_keys`, the Poseidon hash of the entity's keys.
pub type EntityId = Felt;

/// An entity (or event message) as received: whole from a snapshot page, or with just the one
/// model that changed from a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// The entity id.
    pub id: EntityId,
    /// Model states; a state with no members is a model deletion.
    pub models: Vec<Struct>,
    /// When Torii first indexed the entity (Unix seconds).
    pub created_at: u64,
    /// When Torii last indexed a change to it (Unix seconds).
    pub updated_at: u64,
    /// Block timestamp of the last change (Unix seconds).
    pub executed_at: u64,
    /// The world the entity belongs to.
    pub world_address: Felt,
}

impl Struct {
    /// Whether this model state is a deletion (Torii sends a deleted model with no members).
    pub fn is_deletion(&self) -> bool {
        self.members.is_empty()
    }
}

impl Entity {
    /// The state of one model, by tag.
    pub fn model(&self, tag: &str) -> Option<&Struct> {
        self.models.iter().find(|m| m.name == tag)
    }
}
