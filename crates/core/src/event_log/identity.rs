//! The identity of a historical event message, which Torii does not send.
//!
//! Torii keeps every event message in a table without a key it publishes: a historical row on
//! the wire is an entity id, one model's state, and Unix-second timestamps. Two rows that agree
//! on all of that may still be two real events (a game that emits the same event twice in one
//! block), while one event may reach a client several times (a reconnect's catch-up re-reads
//! what the stream delivered, a replay, a reload's catch-up, another tab relaying it).
//!
//! The rule: an event is `(entity id, model tag, executed_at, content hash, occurrence)`, where
//! the content hash is SHA-256 (first 16 bytes) of the model's members in their canonical JSON
//! form, and the occurrence counts the earlier rows with the same first four parts **within one
//! delivery** — one stream session (from subscribing until the stream ends) or one walk of
//! historical pages (all its pages). A delivery never carries one event twice, so twins in one
//! delivery stay apart, and the same event seen in two deliveries gets the same identity.
//!
//! Limits: twins (same entity, model, second and content) seen in *different* deliveries
//! before any delivery showed them together are merged until a walk covering that second shows
//! them together (a full walk, such as a reconcile, always does); a walk that starts or ends
//! between twins gives the one it saw occurrence 0, which merges it with the first twin held.
//! Nothing is ever duplicated: a delivery carries each event once, so the occurrences held for
//! one content never exceed the events Torii has of it.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::{EntityId, Name, Struct};

/// Bytes of the content hash kept in an identity.
const CONTENT_HASH_BYTES: usize = 16;

/// What identifies an event apart from its occurrence in a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventContent {
    /// The entity the event message belongs to (Torii's hashed keys).
    pub entity: EntityId,
    /// The model tag `namespace-Model`.
    pub model: Name,
    /// Block timestamp of the event (Unix seconds).
    pub executed_at: u64,
    /// First 16 bytes of SHA-256 over the model tag and members in canonical JSON.
    pub hash: [u8; CONTENT_HASH_BYTES],
}

impl EventContent {
    /// The content part of the identity of `state`, the model state of an event of `entity`.
    pub fn of(entity: EntityId, state: &Struct, executed_at: u64) -> Self {
        let mut digest = Sha256::new();
        digest.update(state.name.as_bytes());
        digest.update([0]);
        digest.update(state.members_json().to_string().as_bytes());
        let full = digest.finalize();
        let mut hash = [0u8; CONTENT_HASH_BYTES];
        hash.copy_from_slice(&full[..CONTENT_HASH_BYTES]);
        Self {
            entity,
            model: state.name.clone(),
            executed_at,
            hash,
        }
    }
}

/// The identity of one event: its content and its occurrence among identical rows of one
/// delivery (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventIdentity {
    /// Entity, model, second and content.
    pub content: EventContent,
    /// How many rows with the same content came earlier in the same delivery.
    pub occurrence: u32,
}

impl EventIdentity {
    /// A stable text form (`entity:model:executed_at:hash:occurrence`), for keys in storage
    /// and in JavaScript.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.content.entity.to_hex(),
            self.content.model,
            self.content.executed_at,
            hex::encode(self.content.hash),
            self.occurrence
        )
    }
}

/// Numbers identical rows within one delivery: start one per stream session and per walk of
/// historical pages, and pass every row of that delivery through it in the order it came.
#[derive(Debug, Default)]
pub struct Delivery {
    seen: HashMap<EventContent, u32>,
    /// The log order of this delivery's previous row (held or added): where a walk places
    /// the next new row of the same second.
    pub(crate) anchor: Option<(u64, i64)>,
}

impl Delivery {
    /// A new delivery (nothing seen yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// The identity of the next row of this delivery.
    pub fn identify(&mut self, content: EventContent) -> EventIdentity {
        let count = self.seen.entry(content.clone()).or_insert(0);
        let occurrence = *count;
        *count = count.saturating_add(1);
        EventIdentity {
            content,
            occurrence,
        }
    }
}
