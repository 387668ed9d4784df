//! The server side of the scripted transport: a world of entities with Torii's ordering.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::bytes32::Felt;
use crate::entity::{Entity, EntityId};
use crate::sync::{PageRequest, SyncTarget, TransportError};
use crate::value::Struct;

/// One model state on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerModel {
    /// The state.
    pub state: Struct,
    /// Block timestamp (s).
    pub executed_at: u64,
    /// Indexing timestamp (s).
    pub updated_at: u64,
}

/// One entity on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntity {
    /// Model states by tag.
    pub models: BTreeMap<String, ServerModel>,
    /// First write (s).
    pub created_at: u64,
    /// Sequence of the last write (Torii's `event_id` order).
    pub last_seq: u64,
}

impl ServerEntity {
    fn newest(&self) -> (u64, u64) {
        self.models
            .values()
            .map(|m| (m.executed_at, m.updated_at))
            .max()
            .unwrap_or((self.created_at, self.created_at))
    }
}

/// A world of entities (or event messages), paged newest write first with a keyset cursor.
#[derive(Debug, Clone, Default)]
pub struct ServerWorld {
    /// Entities by id.
    pub entities: BTreeMap<EntityId, ServerEntity>,
    /// Entity of each last-write sequence.
    by_seq: BTreeMap<u64, EntityId>,
}

/// The world address every scripted entity carries.
pub const WORLD_ADDRESS: Felt = Felt([7; 32]);

impl ServerWorld {
    /// Writes (or, with no members, deletes) one model of an entity at sequence `seq` and the
    /// given timestamp; returns the update message a subscriber gets, and the entity's models
    /// before the write (for clause checks).
    pub fn write(
        &mut self,
        id: EntityId,
        state: Struct,
        seq: u64,
        at: u64,
    ) -> (Entity, Vec<Struct>) {
        let before: Vec<Struct> = self
            .entities
            .get(&id)
            .map(|e| e.models.values().map(|m| m.state.clone()).collect())
            .unwrap_or_default();
        let entity = self.entities.entry(id).or_insert_with(|| ServerEntity {
            models: BTreeMap::new(),
            created_at: at,
            last_seq: 0,
        });
        self.by_seq.remove(&entity.last_seq);
        entity.last_seq = seq;
        let created_at = entity.created_at;
        if state.is_deletion() {
            entity.models.remove(state.name.as_str());
        } else {
            entity.models.insert(
                state.name.to_string(),
                ServerModel {
                    state: state.clone(),
                    executed_at: at,
                    updated_at: at,
                },
            );
        }
        if entity.models.is_empty() {
            self.entities.remove(&id);
        } else {
            self.by_seq.insert(seq, id);
        }
        let message = Entity {
            id,
            models: vec![state],
            created_at,
            updated_at: at,
            executed_at: at,
            world_address: WORLD_ADDRESS,
        };
        (message, before)
    }

    /// The entity as a page row, restricted to the target's models (`None` when it has none).
    pub fn row(&self, id: &EntityId, target: &SyncTarget) -> Option<Entity> {
        let entity = self.entities.get(id)?;
        let models: Vec<Struct> = entity
            .models
            .values()
            .filter(|m| target.includes_model(&m.state.name))
            .map(|m| m.state.clone())
            .collect();
        if models.is_empty() {
            return None;
        }
        if let Some(clause) = &target.clause {
            if !clause.matches(id, &models) {
                return None;
            }
        }
        let (executed_at, updated_at) = entity.newest();
        Some(Entity {
            id: *id,
            models,
            created_at: entity.created_at,
            updated_at,
            executed_at,
            world_address: WORLD_ADDRESS,
        })
    }

    /// One page, newest write first; the cursor is `s<seq>` of the last row.
    pub fn page(
        &self,
        target: &SyncTarget,
        request: &PageRequest,
    ) -> Result<(Vec<Entity>, Option<String>), TransportError> {
        let below = match &request.cursor {
            None => u64::MAX,
            Some(cursor) => cursor
                .strip_prefix('s')
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| TransportError::permanent(format!("invalid cursor {cursor:?}")))?,
        };
        let limit = if request.limit == 0 {
            10_000
        } else {
            request.limit as usize
        };
        let mut rows = Vec::new();
        let mut last = None;
        let mut more = false;
        for (seq, id) in self.by_seq.range(..below).rev() {
            if !request.entity_ids.is_empty() && !request.entity_ids.contains(id) {
                continue;
            }
            let Some(row) = self.row(id, target) else {
                continue;
            };
            if rows.len() == limit {
                more = true;
                break;
            }
            rows.push(row);
            last = Some(*seq);
        }
        let next = if more {
            last.map(|seq| format!("s{seq}"))
        } else {
            None
        };
        Ok((rows, next))
    }

    /// The world as `{"entities": [{"entityId", "models": {tag: members}}]}`, sorted by id,
    /// restricted to the target's models.
    pub fn world_json(&self, target: &SyncTarget) -> Json {
        let mut entities = BTreeMap::new();
        for id in self.entities.keys() {
            if let Some(row) = self.row(id, target) {
                let models: serde_json::Map<String, Json> = row
                    .models
                    .iter()
                    .map(|m| (m.name.to_string(), m.members_json()))
                    .collect();
                entities.insert(*id, models);
            }
        }
        super::storage::world_json(entities)
    }
}
