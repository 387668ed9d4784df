//! The optimistic overlay: the user's intent shown at once, merged over synced state, confirmed
//! by a guard against synced data, rolled back on timeout.
//!
//! The overlay is a separate layer that is merged at read time; it never writes into synced
//! state. Rolling back therefore restores exactly the synced state, including everything Torii
//! wrote meanwhile. It is volatile: nothing of it is persisted. Time is given by the caller
//! (milliseconds from any clock), so every path is deterministic in tests.

use std::collections::BTreeMap;
use std::fmt;

use crate::entity::EntityId;
use crate::value::{Member, Struct};

/// Default interval at which guards are re-checked without a synced change (time-based guards).
pub const DEFAULT_GUARD_POLL_INTERVAL_MS: u64 = 500;
/// Default time after which an unconfirmed overlay is rolled back.
pub const DEFAULT_OVERLAY_TIMEOUT_MS: u64 = 30_000;

/// Decides when synced data confirms an optimistic write.
pub trait Guard {
    /// Whether the synced state of the model (`None` when absent or deleted) confirms the intent.
    fn confirmed(&self, synced: Option<&Struct>, now_ms: u64) -> bool;

    /// Whether this intent may replace a pending one on the same entity and model, whose
    /// optimistic state is `pending`. Accepts by default.
    fn accepts_transition(&self, _pending: &Struct) -> bool {
        true
    }

    /// A short description for errors and logs.
    fn describe(&self) -> String;
}

/// The default guard: confirmed once the synced model has every member of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadApplied {
    members: Vec<Member>,
}

impl PayloadApplied {
    /// A guard waiting for these members to appear in synced state.
    pub fn new(members: Vec<Member>) -> Self {
        Self { members }
    }
}

impl Guard for PayloadApplied {
    fn confirmed(&self, synced: Option<&Struct>, _now_ms: u64) -> bool {
        synced.is_some_and(|state| {
            self.members
                .iter()
                .all(|m| state.member(&m.name).is_some_and(|s| s.value == m.value))
        })
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self.members.iter().map(|m| m.name.as_str()).collect();
        format!(
            "synced state has the written values of {}",
            names.join(", ")
        )
    }
}

/// One optimistic write to submit.
pub struct OverlaySubmission {
    /// The entity written.
    pub entity_id: EntityId,
    /// The model tag written.
    pub model: String,
    /// Members to show over the synced state (the rest of the model shows through).
    pub payload: Vec<Member>,
    /// The caller's id for this write (e.g. the transaction hash); unique among pending writes.
    pub transaction_id: String,
    /// What confirms it; `None` for [`PayloadApplied`] on the payload.
    pub guard: Option<Box<dyn Guard>>,
    /// Time before rollback; `None` for the overlay's default.
    pub timeout_ms: Option<u64>,
}

/// A pending optimistic write.
pub struct OverlayEntry {
    /// The entity written.
    pub entity_id: EntityId,
    /// The model tag written.
    pub model: String,
    /// Members shown over the synced state.
    pub payload: Vec<Member>,
    /// The caller's id for this write.
    pub transaction_id: String,
    /// When it was submitted (caller's clock, ms).
    pub submitted_at_ms: u64,
    /// When it is rolled back if unconfirmed.
    pub deadline_ms: u64,
    guard: Box<dyn Guard>,
}

impl fmt::Debug for OverlayEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverlayEntry")
            .field("entity_id", &self.entity_id)
            .field("model", &self.model)
            .field("transaction_id", &self.transaction_id)
            .field("deadline_ms", &self.deadline_ms)
            .field("guard", &self.guard.describe())
            .finish()
    }
}

impl OverlayEntry {
    /// The guard's description.
    pub fn guard_description(&self) -> String {
        self.guard.describe()
    }

    /// The model state this entry shows: the payload over `synced` (or the payload alone).
    pub fn apply_to(&self, synced: Option<&Struct>) -> Struct {
        let mut state = synced.cloned().unwrap_or_else(|| Struct {
            name: self.model.clone().into(),
            members: Vec::new(),
        });
        for member in &self.payload {
            match state.members.iter_mut().find(|m| m.name == member.name) {
                Some(existing) => existing.value = member.value.clone(),
                None => state.members.push(member.clone()),
            }
        }
        state
    }
}

/// An overlay that was not confirmed in time and has been rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("optimistic write {transaction_id} on entity {entity_id} was not confirmed in time (waiting for: {guard_description}); it has been rolled back")]
pub struct OverlayTimeoutError {
    /// The write's transaction id.
    pub transaction_id: String,
    /// The entity written.
    pub entity_id: String,
    /// What the guard was waiting for.
    pub guard_description: String,
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverlayError {
    /// Another pending write already uses this transaction id.
    #[error("transaction id {transaction_id} is already pending; use a unique id per write")]
    DuplicateTransaction {
        /// The id.
        transaction_id: String,
    },
    /// The new write's guard does not accept replacing the pending write on the same model.
    #[error("write {transaction_id} cannot replace pending write {pending} on entity {entity_id} model {model}: its guard ({guard_description}) does not accept the transition")]
    TransitionRejected {
        /// The refused write.
        transaction_id: String,
        /// The pending write it would have replaced.
        pending: String,
        /// The entity.
        entity_id: String,
        /// The model tag.
        model: String,
        /// The refusing guard's description.
        guard_description: String,
    },
    /// No pending write has this transaction id.
    #[error("no pending optimistic write has transaction id {transaction_id}")]
    UnknownTransaction {
        /// The id.
        transaction_id: String,
    },
}

/// What happened to a pending write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverlayEvent {
    /// Synced data confirmed it; it was dropped.
    Confirmed {
        /// The write's transaction id.
        transaction_id: String,
        /// The entity.
        entity_id: EntityId,
        /// The model tag.
        model: String,
    },
    /// It timed out and was rolled back.
    TimedOut(OverlayTimeoutError),
    /// A newer write on the same model replaced it.
    Replaced {
        /// The replaced write's transaction id.
        transaction_id: String,
        /// The replacing write's transaction id.
        by: String,
    },
    /// The caller rolled it back.
    RolledBack {
        /// The write's transaction id.
        transaction_id: String,
    },
}

/// The set of pending optimistic writes, at most one per (entity, model).
pub struct Overlay {
    entries: BTreeMap<(EntityId, String), OverlayEntry>,
    poll_interval_ms: u64,
    default_timeout_ms: u64,
    next_poll_ms: u64,
}

impl Default for Overlay {
    fn default() -> Self {
        Self::new(DEFAULT_GUARD_POLL_INTERVAL_MS, DEFAULT_OVERLAY_TIMEOUT_MS)
    }
}

impl Overlay {
    /// An empty overlay with this guard poll interval and default timeout.
    pub fn new(poll_interval_ms: u64, default_timeout_ms: u64) -> Self {
        Self {
            entries: BTreeMap::new(),
            poll_interval_ms: poll_interval_ms.max(1),
            default_timeout_ms,
            next_poll_ms: 0,
        }
    }

    /// Number of pending writes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a write. A pending write on the same entity and model is replaced only when the new
    /// guard accepts the transition from its optimistic state (given `synced`, the model's synced
    /// state); the replaced write is reported.
    pub fn submit(
        &mut self,
        submission: OverlaySubmission,
        synced: Option<&Struct>,
        now_ms: u64,
    ) -> Result<Option<OverlayEvent>, OverlayError> {
        if self.find(&submission.transaction_id).is_some() {
            return Err(OverlayError::DuplicateTransaction {
                transaction_id: submission.transaction_id,
            });
        }
        let guard = submission
            .guard
            .unwrap_or_else(|| Box::new(PayloadApplied::new(submission.payload.clone())));
        let key = (submission.entity_id, submission.model.clone());
        let replaced = match self.entries.get(&key) {
            Some(pending) if !guard.accepts_transition(&pending.apply_to(synced)) => {
                return Err(OverlayError::TransitionRejected {
                    transaction_id: submission.transaction_id,
                    pending: pending.transaction_id.clone(),
                    entity_id: submission.entity_id.to_hex(),
                    model: submission.model,
                    guard_description: guard.describe(),
                });
            }
            Some(pending) => Some(OverlayEvent::Replaced {
                transaction_id: pending.transaction_id.clone(),
                by: submission.transaction_id.clone(),
            }),
            None => None,
        };
        let timeout = submission.timeout_ms.unwrap_or(self.default_timeout_ms);
        self.entries.insert(
            key,
            OverlayEntry {
                entity_id: submission.entity_id,
                model: submission.model,
                payload: submission.payload,
                transaction_id: submission.transaction_id,
                submitted_at_ms: now_ms,
                deadline_ms: now_ms.saturating_add(timeout),
                guard,
            },
        );
        Ok(replaced)
    }

    /// Pending writes on an entity.
    pub fn entries_for(&self, entity_id: &EntityId) -> impl Iterator<Item = &OverlayEntry> {
        let id = *entity_id;
        self.entries
            .range((id, String::new())..)
            .take_while(move |((e, _), _)| *e == id)
            .map(|(_, entry)| entry)
    }

    /// The pending write on one model of an entity.
    pub fn entry(&self, entity_id: &EntityId, model: &str) -> Option<&OverlayEntry> {
        self.entries.get(&(*entity_id, model.to_owned()))
    }

    /// What a read shows for a model: the pending write over `synced`, else `synced` itself.
    pub fn merged(
        &self,
        entity_id: &EntityId,
        model: &str,
        synced: Option<&Struct>,
    ) -> Option<Struct> {
        match self.entry(entity_id, model) {
            Some(entry) => Some(entry.apply_to(synced)),
            None => synced.cloned(),
        }
    }

    /// Confirms a write by hand (the host knows its transaction settled); it is dropped.
    pub fn ack(&mut self, transaction_id: &str) -> Result<OverlayEntry, OverlayError> {
        self.remove(transaction_id)
    }

    /// Rolls a write back by hand; reads show the synced state again.
    pub fn rollback(&mut self, transaction_id: &str) -> Result<OverlayEvent, OverlayError> {
        self.remove(transaction_id)
            .map(|entry| OverlayEvent::RolledBack {
                transaction_id: entry.transaction_id,
            })
    }

    /// Re-checks the guard of the write on a model whose synced state just changed.
    pub fn on_synced_change(
        &mut self,
        entity_id: &EntityId,
        model: &str,
        synced: Option<&Struct>,
        now_ms: u64,
    ) -> Option<OverlayEvent> {
        let key = (*entity_id, model.to_owned());
        let confirmed = self.entries.get(&key)?.guard.confirmed(synced, now_ms);
        if !confirmed {
            return None;
        }
        self.entries
            .remove(&key)
            .map(|entry| OverlayEvent::Confirmed {
                transaction_id: entry.transaction_id,
                entity_id: entry.entity_id,
                model: entry.model,
            })
    }

    /// The periodic check: guards are re-evaluated every poll interval (for time-based guards)
    /// and writes past their deadline are rolled back. `synced` looks up a model's synced state.
    pub fn poll<'a>(
        &mut self,
        now_ms: u64,
        synced: impl Fn(&EntityId, &str) -> Option<&'a Struct>,
    ) -> Vec<OverlayEvent> {
        let mut events = Vec::new();
        let check_guards = now_ms >= self.next_poll_ms;
        if check_guards {
            self.next_poll_ms = now_ms.saturating_add(self.poll_interval_ms);
        }
        let keys: Vec<(EntityId, String)> = self.entries.keys().cloned().collect();
        for key in keys {
            let Some(entry) = self.entries.get(&key) else {
                continue;
            };
            if check_guards && entry.guard.confirmed(synced(&key.0, &key.1), now_ms) {
                if let Some(entry) = self.entries.remove(&key) {
                    events.push(OverlayEvent::Confirmed {
                        transaction_id: entry.transaction_id,
                        entity_id: entry.entity_id,
                        model: entry.model,
                    });
                }
            } else if now_ms >= entry.deadline_ms {
                if let Some(entry) = self.entries.remove(&key) {
                    events.push(OverlayEvent::TimedOut(OverlayTimeoutError {
                        guard_description: entry.guard.describe(),
                        transaction_id: entry.transaction_id,
                        entity_id: entry.entity_id.to_hex(),
                    }));
                }
            }
        }
        events
    }

    /// When [`Overlay::poll`] next has work: the next guard poll or the earliest deadline.
    pub fn next_wakeup_ms(&self) -> Option<u64> {
        let deadline = self.entries.values().map(|e| e.deadline_ms).min()?;
        Some(deadline.min(self.next_poll_ms))
    }

    fn find(&self, transaction_id: &str) -> Option<(EntityId, String)> {
        self.entries
            .iter()
            .find(|(_, e)| e.transaction_id == transaction_id)
            .map(|(key, _)| key.clone())
    }

    fn remove(&mut self, transaction_id: &str) -> Result<OverlayEntry, OverlayError> {
        self.find(transaction_id)
            .and_then(|key| self.entries.remove(&key))
            .ok_or_else(|| OverlayError::UnknownTransaction {
                transaction_id: transaction_id.to_owned(),
            })
    }
}

#[cfg(test)]
#[path = "overlay_tests.rs"]
mod tests;
