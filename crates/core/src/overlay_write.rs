//! One write of an optimistic transaction: the members it sets (absolute) and the integer
//! members it changes by an amount (relative), how it shows over a synced state, and which of
//! its members synced data has confirmed.

use crate::entity::EntityId;
use crate::name::Name;
use crate::numeric::{integer_range, BigInt};
use crate::schema::PrimitiveType;
use crate::value::{Member, Primitive, Struct, Value};

use super::Guard;

/// A relative write of one integer member (`balance - 10`): shown as the member's latest synced
/// value plus `amount` (an absent model or member counts as 0), exactly for every integer type
/// up to `u256`/`i128`, clamped to the type's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    name: Name,
    ty: PrimitiveType,
    amount: BigInt,
}

/// Why a relative write cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    /// The member is not an integer.
    #[error("{member} is a {ty}, not an integer: only u8-u256 and i8-i128 members take a relative write")]
    NotInteger {
        /// The member.
        member: String,
        /// Its Cairo type.
        ty: &'static str,
    },
    /// The amount is not an integer text.
    #[error("the amount {} for {member} is not an integer (decimal, optionally negative, or 0x hex, below 2^256)", crate::Quoted(.text))]
    BadAmount {
        /// The member.
        member: String,
        /// The text given.
        text: String,
    },
}

impl Delta {
    /// A change of the member `name` (of type `ty`) by `amount` (decimal, optionally negative,
    /// or `0x` hex).
    pub fn new(name: Name, ty: PrimitiveType, amount: &str) -> Result<Delta, DeltaError> {
        if integer_range(ty).is_none() {
            return Err(DeltaError::NotInteger {
                member: name.as_str().to_owned(),
                ty: ty.name(),
            });
        }
        let amount = BigInt::parse(amount).ok_or_else(|| DeltaError::BadAmount {
            member: name.as_str().to_owned(),
            text: amount.chars().take(80).collect(),
        })?;
        Ok(Delta { name, ty, amount })
    }

    /// The member changed.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The amount, in decimal (`-10`).
    pub fn amount(&self) -> String {
        self.amount.to_decimal()
    }

    /// The member's value with this change applied over `current` (absent: 0).
    fn apply(&self, current: Option<&Value>) -> Option<Value> {
        let primitive = match integer_of(current).checked_add(&self.amount) {
            Ok(sum) => sum.fit_clamped(self.ty),
            Err(negative) => {
                let (low, high) = integer_range(self.ty)?;
                (if negative { low } else { high }).fit(self.ty).ok()
            }
        };
        primitive.map(Value::Primitive)
    }
}

/// The integer a member holds; 0 when absent or not an integer.
fn integer_of(value: Option<&Value>) -> BigInt {
    value
        .and_then(Value::as_primitive)
        .and_then(Primitive::as_bigint)
        .unwrap_or(BigInt::ZERO)
}

/// One model write of a transaction to submit.
pub struct WriteSubmission {
    /// The entity written.
    pub entity_id: EntityId,
    /// The model tag written.
    pub model: String,
    /// Members shown as given over the synced state (absolute writes).
    pub payload: Vec<Member>,
    /// Integer members shown changed by an amount over the synced state (relative writes).
    pub deltas: Vec<Delta>,
    /// What confirms this write instead of the default rules (see the module documentation of
    /// the overlay).
    pub guard: Option<Box<dyn Guard>>,
}

/// A pending write of a transaction on one model of one entity.
pub struct OverlayEntry {
    /// The entity written.
    pub entity_id: EntityId,
    /// The model tag written.
    pub model: String,
    /// Members shown as given over the synced state.
    pub payload: Vec<Member>,
    /// Integer members shown changed by an amount over the synced state.
    pub deltas: Vec<Delta>,
    /// The transaction's id.
    pub transaction_id: String,
    /// When the transaction was submitted (caller's clock, ms).
    pub submitted_at_ms: u64,
    /// When the transaction is rolled back if unconfirmed.
    pub deadline_ms: u64,
    guard: Option<Box<dyn Guard>>,
    /// Which payload members synced data showed (default rules only).
    payload_seen: Vec<bool>,
    /// Which deltas a synced change confirmed (default rules only).
    delta_seen: Vec<bool>,
    /// Each delta's member as the latest synced state had it.
    last_synced: Vec<BigInt>,
    /// Whether synced data (or the guard) confirmed the whole write.
    pub(super) confirmed: bool,
}

impl std::fmt::Debug for OverlayEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OverlayEntry")
            .field("entity_id", &self.entity_id)
            .field("model", &self.model)
            .field("transaction_id", &self.transaction_id)
            .field("deadline_ms", &self.deadline_ms)
            .field("guard", &self.guard_description())
            .finish()
    }
}

impl OverlayEntry {
    /// A pending write of `submission`, its deltas counted from `synced`.
    pub(super) fn new(
        submission: WriteSubmission,
        transaction_id: &str,
        synced: Option<&Struct>,
        submitted_at_ms: u64,
        deadline_ms: u64,
    ) -> OverlayEntry {
        let last_synced = submission
            .deltas
            .iter()
            .map(|d| {
                integer_of(
                    synced
                        .and_then(|s| s.member(d.name.as_str()))
                        .map(|m| &m.value),
                )
            })
            .collect();
        OverlayEntry {
            payload_seen: vec![false; submission.payload.len()],
            delta_seen: vec![false; submission.deltas.len()],
            last_synced,
            entity_id: submission.entity_id,
            model: submission.model,
            payload: submission.payload,
            deltas: submission.deltas,
            transaction_id: transaction_id.to_owned(),
            submitted_at_ms,
            deadline_ms,
            guard: submission.guard,
            confirmed: false,
        }
    }

    /// The relative writes not yet confirmed (all of them under a guard, which confirms the
    /// write as a whole).
    pub fn unconfirmed_deltas(&self) -> impl Iterator<Item = &Delta> {
        self.deltas
            .iter()
            .zip(&self.delta_seen)
            .filter(|(_, seen)| !**seen)
            .map(|(delta, _)| delta)
    }

    /// What confirms this write (for errors and logs).
    pub fn guard_description(&self) -> String {
        if let Some(guard) = &self.guard {
            return guard.describe();
        }
        let mut parts = Vec::new();
        if !self.payload.is_empty() {
            let names: Vec<&str> = self.payload.iter().map(|m| m.name.as_str()).collect();
            parts.push(format!(
                "synced state has the written values of {}",
                names.join(", ")
            ));
        }
        for delta in &self.deltas {
            parts.push(format!(
                "a synced change moves {} by {}",
                delta.name.as_str(),
                delta.amount()
            ));
        }
        parts.join("; ")
    }

    /// The model state this write shows over `below` (the synced state with older pending
    /// writes applied; `None`: absent): its members not yet confirmed, set or changed.
    pub fn apply_to(&self, below: Option<&Struct>) -> Struct {
        let mut state = below.cloned().unwrap_or_else(|| Struct {
            name: self.model.clone().into(),
            members: Vec::new(),
        });
        for (member, seen) in self.payload.iter().zip(&self.payload_seen) {
            if !seen {
                set_member(&mut state, &member.name, member.key, member.value.clone());
            }
        }
        for (delta, seen) in self.deltas.iter().zip(&self.delta_seen) {
            if *seen {
                continue;
            }
            if let Some(value) = delta.apply(state.member(delta.name.as_str()).map(|m| &m.value)) {
                set_member(&mut state, &delta.name, false, value);
            }
        }
        state
    }

    /// Checks the absolute part (or the guard) against the synced state; returns whether the
    /// whole write is confirmed now.
    pub(super) fn check(&mut self, synced: Option<&Struct>, now_ms: u64) -> bool {
        if let Some(guard) = &self.guard {
            self.confirmed = guard.confirmed(synced, now_ms);
            return self.confirmed;
        }
        if let Some(state) = synced {
            for (member, seen) in self.payload.iter().zip(self.payload_seen.iter_mut()) {
                if state
                    .member(member.name.as_str())
                    .is_some_and(|s| s.value == member.value)
                {
                    *seen = true;
                }
            }
        }
        self.confirmed = self.payload_seen.iter().chain(&self.delta_seen).all(|s| *s);
        self.confirmed
    }

    /// Whether a new synced value of a member can confirm a delta of this write (default rules
    /// and not yet confirmed).
    pub(super) fn open_deltas<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        let open = self.guard.is_none();
        self.deltas
            .iter()
            .enumerate()
            .filter(move |(i, d)| {
                open && !self.delta_seen.get(*i).copied().unwrap_or(true) && d.name.as_str() == name
            })
            .map(|(i, _)| i)
    }

    /// The distinct members changed by this write's open deltas.
    pub(super) fn open_delta_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (delta, seen) in self.deltas.iter().zip(&self.delta_seen) {
            if self.guard.is_none() && !seen && !names.contains(&delta.name.as_str()) {
                names.push(delta.name.as_str());
            }
        }
        names
    }

    /// The delta at `index`'s amount and the member's value at the previous synced change.
    pub(super) fn delta_at(&self, index: usize) -> Option<(&BigInt, &BigInt)> {
        Some((
            &self.deltas.get(index)?.amount,
            self.last_synced.get(index)?,
        ))
    }

    /// Marks the delta at `index` confirmed.
    pub(super) fn confirm_delta(&mut self, index: usize) {
        if let Some(seen) = self.delta_seen.get_mut(index) {
            *seen = true;
        }
    }

    /// Records the members' values in a new synced state (for the next change's step).
    pub(super) fn record_synced(&mut self, synced: Option<&Struct>) {
        for (delta, last) in self.deltas.iter().zip(self.last_synced.iter_mut()) {
            *last = integer_of(
                synced
                    .and_then(|s| s.member(delta.name.as_str()))
                    .map(|m| &m.value),
            );
        }
    }

    /// Whether every member this write shows is also set (absolute) by `other`, so it can no
    /// longer show anything of its own under it.
    pub(super) fn shadowed_by(&self, other: &OverlayEntry) -> bool {
        self.deltas
            .iter()
            .zip(&self.delta_seen)
            .all(|(_, seen)| *seen)
            && self
                .payload
                .iter()
                .zip(&self.payload_seen)
                .all(|(m, seen)| *seen || other.payload.iter().any(|o| o.name == m.name))
    }
}

/// The step a member's synced value took: `new - old`, when it fits 256 bits.
pub(super) fn step(new: Option<&Struct>, name: &str, old: &BigInt) -> Option<BigInt> {
    integer_of(new.and_then(|s| s.member(name)).map(|m| &m.value))
        .checked_add(&old.negated())
        .ok()
}

/// Sets a member of `state` (appended when absent).
fn set_member(state: &mut Struct, name: &Name, key: bool, value: Value) {
    match state.members.iter_mut().find(|m| m.name == *name) {
        Some(existing) => existing.value = value,
        None => state.members.push(Member {
            name: name.clone(),
            key,
            value,
        }),
    }
}
