//! The optimistic overlay: the user's intent shown at once, merged over synced state, confirmed
//! against synced data (or by the caller), rolled back on timeout.
//!
//! The overlay is a separate layer that is merged at read time; it never writes into synced
//! state. Rolling back therefore restores exactly the synced state, including everything Torii
//! wrote meanwhile. It is volatile: nothing of it is persisted. Time is given by the caller
//! (milliseconds from any clock), so every path is deterministic in tests.
//!
//! A *transaction* is one game action: writes on several models and entities, shown, confirmed
//! and rolled back as one. Each write sets members (absolute) and/or changes integer members by
//! an amount (relative, [`Delta`]). A read of a model shows its synced state with every pending
//! transaction's write on it applied in submission order: relative writes are applied over each
//! newer synced state, so they stack and follow changes made by others.
//!
//! Confirmation rules, per write (a transaction is confirmed when all its writes are):
//! - With a guard, the guard alone decides, on each synced change of the model and at each poll.
//! - Without one, each member is confirmed on its own: an absolute member once a synced state
//!   of the model has the written value; a relative member once one synced change of the model
//!   moves the member by exactly its amount. Changes are matched to the pending relative writes
//!   on that member oldest first: a step equal to the sum of the oldest `n` amounts confirms
//!   those `n` (several transactions indexed together); otherwise a step equal to one amount
//!   confirms the oldest such write. A confirmed member is no longer applied (synced state has
//!   it). A step that mixes the write with another change (both in one synced update) confirms
//!   nothing: such a write waits for [`Overlay::ack`] or its deadline.
//! - [`Overlay::ack`] (the game has the transaction's receipt and knows Torii indexed it)
//!   confirms the whole transaction at once.
//! - At its deadline, what is left of a transaction is rolled back ([`OverlayEvent::TimedOut`]).
//!
//! A new transaction that sets every member a pending one still shows (same entities, models
//! and members, absolute only) replaces it ([`OverlayEvent::Replaced`]); otherwise both stay
//! pending and their writes stack.

use std::collections::HashMap;

use crate::entity::EntityId;
use crate::value::{Member, Struct};

#[path = "overlay_map.rs"]
mod map;
#[path = "overlay_write.rs"]
mod write;

use map::SortedMap;

pub use write::{Delta, DeltaError, OverlayEntry, WriteSubmission};

/// Default interval at which guards are re-checked without a synced change (time-based guards).
pub const DEFAULT_GUARD_POLL_INTERVAL_MS: u64 = 500;
/// Default time after which an unconfirmed overlay is rolled back.
pub const DEFAULT_OVERLAY_TIMEOUT_MS: u64 = 30_000;

/// Decides when synced data confirms an optimistic write on one model.
pub trait Guard {
    /// Whether the synced state of the model (`None` when absent or deleted) confirms the intent.
    fn confirmed(&self, synced: Option<&Struct>, now_ms: u64) -> bool;

    /// Whether this intent may be shown over the pending writes on the same entity and model,
    /// whose optimistic state is `pending`. Accepts by default.
    fn accepts_transition(&self, _pending: &Struct) -> bool {
        true
    }

    /// A short description for errors and logs.
    fn describe(&self) -> String;
}
/// One optimistic write on one model to submit (a transaction of one absolute write).
pub struct OverlaySubmission {
    /// The entity written.
    pub entity_id: EntityId,
    /// The model tag written.
    pub model: String,
    /// Members to show over the synced state (the rest of the model shows through).
    pub payload: Vec<Member>,
    /// The caller's id for this write (e.g. the transaction hash); unique among pending ones.
    pub transaction_id: String,
    /// What confirms it; `None` for the default rules.
    pub guard: Option<Box<dyn Guard>>,
    /// Time before rollback; `None` for the overlay's default.
    pub timeout_ms: Option<u64>,
}

/// One transaction to submit: writes on several models and entities, shown, confirmed and
/// rolled back as one.
pub struct TransactionSubmission {
    /// The caller's id (e.g. the transaction hash); unique among pending transactions.
    pub transaction_id: String,
    /// The writes, at most one per (entity, model).
    pub writes: Vec<WriteSubmission>,
    /// Time before rollback; `None` for the overlay's default.
    pub timeout_ms: Option<u64>,
}

impl From<OverlaySubmission> for TransactionSubmission {
    fn from(submission: OverlaySubmission) -> TransactionSubmission {
        TransactionSubmission {
            transaction_id: submission.transaction_id,
            writes: vec![WriteSubmission {
                entity_id: submission.entity_id,
                model: submission.model,
                payload: submission.payload,
                deltas: Vec::new(),
                guard: submission.guard,
            }],
            timeout_ms: submission.timeout_ms,
        }
    }
}

/// A transaction that was not confirmed in time and has been rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("optimistic write {transaction_id} on entity {entity_id} was not confirmed in time (waiting for: {guard_description}); it has been rolled back")]
pub struct OverlayTimeoutError {
    /// The transaction id.
    pub transaction_id: String,
    /// The entity of its first unconfirmed write.
    pub entity_id: String,
    /// What its unconfirmed writes were waiting for.
    pub guard_description: String,
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverlayError {
    /// Another pending transaction already uses this id.
    #[error("transaction id {transaction_id} is already pending; use a unique id per transaction (one transaction may write several models)")]
    DuplicateTransaction {
        /// The id.
        transaction_id: String,
    },
    /// A write's guard does not accept being shown over the pending writes on its model.
    #[error("write {transaction_id} cannot replace pending write {pending} on entity {entity_id} model {model}: its guard ({guard_description}) does not accept the transition")]
    TransitionRejected {
        /// The refused transaction.
        transaction_id: String,
        /// The latest pending transaction on that model.
        pending: String,
        /// The entity.
        entity_id: String,
        /// The model tag.
        model: String,
        /// The refusing guard's description.
        guard_description: String,
    },
    /// No pending transaction has this id.
    #[error("no pending optimistic write has transaction id {transaction_id}")]
    UnknownTransaction {
        /// The id.
        transaction_id: String,
    },
    /// The transaction writes nothing, or one of its writes sets and changes no member.
    #[error("transaction {transaction_id} has an empty write: give each write at least one member to set or change")]
    EmptyWrite {
        /// The id.
        transaction_id: String,
    },
    /// Two writes of one transaction are on the same entity and model.
    #[error("transaction {transaction_id} writes model {model} of entity {entity_id} twice: put both in one write")]
    RepeatedWrite {
        /// The id.
        transaction_id: String,
        /// The entity.
        entity_id: String,
        /// The model tag.
        model: String,
    },
}

/// What happened to a pending transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverlayEvent {
    /// Synced data (or an ack) confirmed every write; it was dropped.
    Confirmed {
        /// The transaction id.
        transaction_id: String,
        /// The entity of its first write.
        entity_id: EntityId,
        /// The model tag of its first write.
        model: String,
    },
    /// It timed out and was rolled back.
    TimedOut(OverlayTimeoutError),
    /// A newer transaction set everything it still showed.
    Replaced {
        /// The replaced transaction's id.
        transaction_id: String,
        /// The replacing transaction's id.
        by: String,
    },
    /// The caller rolled it back.
    RolledBack {
        /// The transaction id.
        transaction_id: String,
    },
}

/// A pending transaction: its writes, in the order given.
struct Transaction {
    id: String,
    writes: Vec<OverlayEntry>,
}

impl Transaction {
    fn confirmed_event(self) -> OverlayEvent {
        let first = self.writes.first();
        OverlayEvent::Confirmed {
            entity_id: first.map(|w| w.entity_id).unwrap_or_default(),
            model: first.map(|w| w.model.clone()).unwrap_or_default(),
            transaction_id: self.id,
        }
    }
}

/// An (entity, model) pair.
type Key = (EntityId, String);

/// The pending optimistic transactions.
pub struct Overlay {
    /// By submission order.
    transactions: SortedMap<u64, Transaction>,
    /// Transaction id → submission number.
    ids: HashMap<String, u64>,
    /// The transactions with an unconfirmed write on each (entity, model), oldest first.
    keys: SortedMap<Key, Vec<u64>>,
    next_seq: u64,
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
            transactions: SortedMap::default(),
            ids: HashMap::new(),
            keys: SortedMap::default(),
            next_seq: 0,
            poll_interval_ms: poll_interval_ms.max(1),
            default_timeout_ms,
            next_poll_ms: 0,
        }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.transactions.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
    }

    /// Adds a transaction of one write (see [`Overlay::submit_transaction`]); a transaction it
    /// replaces is reported.
    pub fn submit(
        &mut self,
        submission: OverlaySubmission,
        synced: Option<&Struct>,
        now_ms: u64,
    ) -> Result<Option<OverlayEvent>, OverlayError> {
        let replaced = self.submit_transaction(submission.into(), |_, _| synced, now_ms)?;
        Ok(replaced.into_iter().next())
    }

    /// Adds a transaction; `synced` looks up a model's synced state. Refused as a whole when its
    /// id is pending, a write is empty or repeated, or a write's guard does not accept the
    /// pending writes on its model. Returns the transactions it replaces (see the module
    /// documentation).
    pub fn submit_transaction<'a>(
        &mut self,
        submission: TransactionSubmission,
        synced: impl Fn(&EntityId, &str) -> Option<&'a Struct>,
        now_ms: u64,
    ) -> Result<Vec<OverlayEvent>, OverlayError> {
        let id = submission.transaction_id;
        if self.ids.contains_key(&id) {
            return Err(OverlayError::DuplicateTransaction { transaction_id: id });
        }
        if submission.writes.is_empty()
            || submission
                .writes
                .iter()
                .any(|w| w.payload.is_empty() && w.deltas.is_empty())
        {
            return Err(OverlayError::EmptyWrite { transaction_id: id });
        }
        for (i, write) in submission.writes.iter().enumerate() {
            let repeated = submission.writes[..i]
                .iter()
                .any(|w| w.entity_id == write.entity_id && w.model == write.model);
            if repeated {
                return Err(OverlayError::RepeatedWrite {
                    transaction_id: id,
                    entity_id: write.entity_id.to_hex(),
                    model: write.model.clone(),
                });
            }
            let (Some(guard), Some(latest)) = (
                &write.guard,
                self.keys
                    .get(&(write.entity_id, write.model.clone()))
                    .and_then(|seqs| seqs.last()),
            ) else {
                continue;
            };
            let pending = self
                .shown(
                    &write.entity_id,
                    &write.model,
                    synced(&write.entity_id, &write.model),
                )
                .unwrap_or_else(|| Struct {
                    name: write.model.clone().into(),
                    members: Vec::new(),
                });
            if !guard.accepts_transition(&pending) {
                return Err(OverlayError::TransitionRejected {
                    pending: self
                        .transactions
                        .get(latest)
                        .map(|t| t.id.clone())
                        .unwrap_or_default(),
                    entity_id: write.entity_id.to_hex(),
                    model: write.model.clone(),
                    guard_description: guard.describe(),
                    transaction_id: id,
                });
            }
        }
        let deadline =
            now_ms.saturating_add(submission.timeout_ms.unwrap_or(self.default_timeout_ms));
        let seq = self.next_seq;
        self.next_seq += 1;
        let writes: Vec<OverlayEntry> = submission
            .writes
            .into_iter()
            .map(|w| {
                let state = synced(&w.entity_id, &w.model);
                OverlayEntry::new(w, &id, state, now_ms, deadline)
            })
            .collect();
        // Older transactions whose every shown member this one sets.
        // Ascending, without repeats; placed one by one (a few), no sort instantiated.
        let mut older: Vec<u64> = Vec::new();
        for &seq in writes
            .iter()
            .filter_map(|w| self.keys.get(&(w.entity_id, w.model.clone())))
            .flatten()
        {
            let at = older.partition_point(|s| *s < seq);
            if older.get(at) != Some(&seq) {
                older.insert(at, seq);
            }
        }
        for write in &writes {
            self.keys
                .get_or_default((write.entity_id, write.model.clone()))
                .push(seq);
        }
        self.ids.insert(id.clone(), seq);
        let transaction = Transaction { id, writes };
        let mut replaced = Vec::new();
        for old in older {
            let shadowed = self.transactions.get(&old).is_some_and(|t| {
                t.writes.iter().all(|w| {
                    w.confirmed
                        || transaction.writes.iter().any(|n| {
                            n.entity_id == w.entity_id && n.model == w.model && w.shadowed_by(n)
                        })
                })
            });
            if shadowed {
                if let Some(t) = self.remove_seq(old) {
                    replaced.push(OverlayEvent::Replaced {
                        transaction_id: t.id,
                        by: transaction.id.clone(),
                    });
                }
            }
        }
        self.transactions.insert(seq, transaction);
        Ok(replaced)
    }

    /// The unconfirmed writes on an entity, by model, then oldest first.
    pub fn entries_for(&self, entity_id: &EntityId) -> impl Iterator<Item = &OverlayEntry> {
        let id = *entity_id;
        self.keys
            .range_from(&(id, String::new()))
            .take_while(move |((e, _), _)| *e == id)
            .flat_map(move |((_, model), seqs)| {
                seqs.iter()
                    .filter_map(move |seq| self.write(*seq, &id, model))
            })
    }

    /// The models of an entity with an unconfirmed write.
    pub fn models_of(&self, entity_id: &EntityId) -> impl Iterator<Item = &str> {
        let id = *entity_id;
        self.keys
            .range_from(&(id, String::new()))
            .take_while(move |((e, _), _)| *e == id)
            .map(|((_, model), _)| model.as_str())
    }

    /// Every (entity, model) with an unconfirmed write.
    pub fn pending_keys(&self) -> impl Iterator<Item = &(EntityId, String)> {
        self.keys.keys()
    }

    /// What a read shows for a model when a write on it is pending: each pending write applied
    /// over `synced`, oldest first; `None` when no write is pending on it.
    pub fn shown(
        &self,
        entity_id: &EntityId,
        model: &str,
        synced: Option<&Struct>,
    ) -> Option<Struct> {
        let seqs = self.keys.get(&(*entity_id, model.to_owned()))?;
        let mut state: Option<Struct> = synced.cloned();
        for seq in seqs {
            if let Some(write) = self.write(*seq, entity_id, model) {
                state = Some(write.apply_to(state.as_ref()));
            }
        }
        state
    }

    /// What a read shows for a model: the pending writes over `synced`, else `synced` itself.
    pub fn merged(
        &self,
        entity_id: &EntityId,
        model: &str,
        synced: Option<&Struct>,
    ) -> Option<Struct> {
        self.shown(entity_id, model, synced)
            .or_else(|| synced.cloned())
    }

    /// Confirms a transaction by hand (the host knows it settled); all its writes are dropped
    /// and returned.
    pub fn ack(&mut self, transaction_id: &str) -> Result<Vec<OverlayEntry>, OverlayError> {
        self.remove(transaction_id).map(|t| t.writes)
    }

    /// Rolls a transaction back by hand; reads show the synced state again.
    pub fn rollback(&mut self, transaction_id: &str) -> Result<OverlayEvent, OverlayError> {
        self.remove(transaction_id)
            .map(|t| OverlayEvent::RolledBack {
                transaction_id: t.id,
            })
    }

    /// Checks the writes on a model whose synced state just changed (see the module
    /// documentation for the rules); returns the transactions it confirms.
    pub fn on_synced_change(
        &mut self,
        entity_id: &EntityId,
        model: &str,
        synced: Option<&Struct>,
        now_ms: u64,
    ) -> Vec<OverlayEvent> {
        let key = (*entity_id, model.to_owned());
        let Some(seqs) = self.keys.get(&key).cloned() else {
            return Vec::new();
        };
        self.match_steps(&seqs, &key, synced);
        for seq in &seqs {
            if let Some(write) = self.write_mut(*seq, &key.0, &key.1) {
                write.check(synced, now_ms);
                write.record_synced(synced);
            }
        }
        self.settle_confirmed(&key, &seqs)
    }

    /// The relative rule: the step each member with open deltas took confirms the oldest
    /// deltas it equals (a prefix sum first, then a single amount).
    fn match_steps(&mut self, seqs: &[u64], key: &Key, synced: Option<&Struct>) {
        let mut names: Vec<String> = Vec::new();
        for seq in seqs {
            if let Some(write) = self.write(*seq, &key.0, &key.1) {
                for name in write.open_delta_names() {
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_owned());
                    }
                }
            }
        }
        for name in names {
            // Every open delta on the member, oldest first: (seq, index, amount, step).
            let mut open: Vec<(
                u64,
                usize,
                crate::numeric::BigInt,
                Option<crate::numeric::BigInt>,
            )> = Vec::new();
            for seq in seqs {
                let Some(w) = self.write(*seq, &key.0, &key.1) else {
                    continue;
                };
                for i in w.open_deltas(&name) {
                    if let Some((amount, last)) = w.delta_at(i) {
                        open.push((*seq, i, *amount, write::step(synced, &name, last)));
                    }
                }
            }
            let Some(step) = open.first().and_then(|(_, _, _, step)| *step) else {
                continue;
            };
            if step == crate::numeric::BigInt::ZERO {
                continue;
            }
            let mut sum = crate::numeric::BigInt::ZERO;
            let mut confirmed: Vec<(u64, usize)> = Vec::new();
            for (n, (_, _, amount, _)) in open.iter().enumerate() {
                let Ok(next) = sum.checked_add(amount) else {
                    break;
                };
                sum = next;
                if sum == step {
                    confirmed = open[..=n].iter().map(|(s, i, _, _)| (*s, *i)).collect();
                    break;
                }
            }
            if confirmed.is_empty() {
                if let Some((s, i, _, _)) = open.iter().find(|(_, _, amount, _)| *amount == step) {
                    confirmed.push((*s, *i));
                }
            }
            for (seq, index) in confirmed {
                if let Some(write) = self.write_mut(seq, &key.0, &key.1) {
                    write.confirm_delta(index);
                }
            }
        }
    }

    /// Drops the confirmed writes on `key` from the index; returns the transactions now
    /// confirmed as a whole (removed).
    fn settle_confirmed(&mut self, key: &Key, seqs: &[u64]) -> Vec<OverlayEvent> {
        let mut events = Vec::new();
        for seq in seqs {
            let confirmed = self
                .write(*seq, &key.0, &key.1)
                .is_some_and(|w| w.confirmed);
            if !confirmed {
                continue;
            }
            self.unindex(*seq, key);
            let done = self
                .transactions
                .get(seq)
                .is_some_and(|t| t.writes.iter().all(|w| w.confirmed));
            if done {
                if let Some(t) = self.remove_seq(*seq) {
                    events.push(t.confirmed_event());
                }
            }
        }
        events
    }

    /// The periodic check: every poll interval each unconfirmed write's guard (or absolute
    /// members) is re-checked against `synced` (for time-based guards), and transactions past
    /// their deadline are rolled back.
    pub fn poll<'a>(
        &mut self,
        now_ms: u64,
        synced: impl Fn(&EntityId, &str) -> Option<&'a Struct>,
    ) -> Vec<OverlayEvent> {
        let mut events = Vec::new();
        if now_ms >= self.next_poll_ms {
            self.next_poll_ms = now_ms.saturating_add(self.poll_interval_ms);
            let keys: Vec<(Key, Vec<u64>)> = self
                .keys
                .iter()
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect();
            for (key, seqs) in keys {
                let state = synced(&key.0, &key.1);
                for seq in &seqs {
                    if let Some(write) = self.write_mut(*seq, &key.0, &key.1) {
                        write.check(state, now_ms);
                    }
                }
                events.extend(self.settle_confirmed(&key, &seqs));
            }
        }
        let late: Vec<u64> = self
            .transactions
            .iter()
            .filter(|(_, t)| t.writes.first().is_some_and(|w| now_ms >= w.deadline_ms))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in late {
            if let Some(t) = self.remove_seq(seq) {
                let mut open: Vec<&OverlayEntry> = Vec::new();
                let mut guard_description = String::new();
                for w in t.writes.iter().filter(|w| !w.confirmed) {
                    if !open.is_empty() {
                        guard_description.push_str("; ");
                    }
                    guard_description.push_str(&w.model);
                    guard_description.push(' ');
                    guard_description.push_str(&w.guard_description());
                    open.push(w);
                }
                events.push(OverlayEvent::TimedOut(OverlayTimeoutError {
                    entity_id: open
                        .first()
                        .or(t.writes.first().as_ref())
                        .map(|w| w.entity_id.to_hex())
                        .unwrap_or_default(),
                    guard_description,
                    transaction_id: t.id,
                }));
            }
        }
        events
    }

    /// When [`Overlay::poll`] next has work: the next guard poll or the earliest deadline.
    pub fn next_wakeup_ms(&self) -> Option<u64> {
        let deadline = self
            .transactions
            .values()
            .filter_map(|t| t.writes.first().map(|w| w.deadline_ms))
            .min()?;
        Some(deadline.min(self.next_poll_ms))
    }

    /// The write of transaction `seq` on (entity, model).
    fn write(&self, seq: u64, entity_id: &EntityId, model: &str) -> Option<&OverlayEntry> {
        self.transactions
            .get(&seq)?
            .writes
            .iter()
            .find(|w| w.entity_id == *entity_id && w.model == model)
    }

    fn write_mut(
        &mut self,
        seq: u64,
        entity_id: &EntityId,
        model: &str,
    ) -> Option<&mut OverlayEntry> {
        self.transactions
            .get_mut(&seq)?
            .writes
            .iter_mut()
            .find(|w| w.entity_id == *entity_id && w.model == model)
    }

    /// Removes `seq` from the index of `key`.
    fn unindex(&mut self, seq: u64, key: &Key) {
        if let Some(seqs) = self.keys.get_mut(key) {
            seqs.retain(|s| *s != seq);
            if seqs.is_empty() {
                self.keys.remove(key);
            }
        }
    }

    /// Removes a transaction and its index entries.
    fn remove_seq(&mut self, seq: u64) -> Option<Transaction> {
        let transaction = self.transactions.remove(&seq)?;
        self.ids.remove(&transaction.id);
        for write in &transaction.writes {
            self.unindex(seq, &(write.entity_id, write.model.clone()));
        }
        Some(transaction)
    }

    fn remove(&mut self, transaction_id: &str) -> Result<Transaction, OverlayError> {
        self.ids
            .get(transaction_id)
            .copied()
            .and_then(|seq| self.remove_seq(seq))
            .ok_or_else(|| OverlayError::UnknownTransaction {
                transaction_id: transaction_id.to_owned(),
            })
    }
}

#[cfg(test)]
#[path = "overlay_tests.rs"]
mod tests;
