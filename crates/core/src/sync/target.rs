//! What one synchronizer syncs: entities or event messages, optionally narrowed to some models
//! and a clause.

use serde::{Deserialize, Serialize};

use crate::bytes32::Felt;
use crate::clause::Clause;

/// Which of Torii's stores a target reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetKind {
    /// World entities (`RetrieveEntities` / `SubscribeEntities`).
    Entities,
    /// Event messages (`RetrieveEventMessages` / `SubscribeEventMessages`).
    EventMessages,
}

impl TargetKind {
    /// The camelCase name used in ticks and logs.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Entities => "entities",
            TargetKind::EventMessages => "eventMessages",
        }
    }
}

/// One sync target: each has its own ledger, cursor and state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTarget {
    /// Entities or event messages.
    pub kind: TargetKind,
    /// Model tags to sync (`Query.models`); empty: every model.
    pub models: Vec<String>,
    /// Torii clause narrowing the synced entities; `None`: all of them.
    pub clause: Option<Clause>,
    /// Worlds to read; empty: every world Torii indexes.
    pub world_addresses: Vec<Felt>,
}

impl SyncTarget {
    /// Every entity of every model.
    pub fn entities() -> Self {
        SyncTarget {
            kind: TargetKind::Entities,
            models: Vec::new(),
            clause: None,
            world_addresses: Vec::new(),
        }
    }

    /// Every event message.
    pub fn event_messages() -> Self {
        SyncTarget {
            kind: TargetKind::EventMessages,
            ..SyncTarget::entities()
        }
    }

    /// The same target restricted to these model tags.
    pub fn with_models<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.models = models.into_iter().map(Into::into).collect();
        self
    }

    /// Whether a model tag belongs to this target.
    pub fn includes_model(&self, tag: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == tag)
    }
}
