//! The single-writer record of a database: which tab's worker may write, under which epoch.
//!
//! Tabs of one game share one database and elect one writer (see `docs/tabs.md`). The winner
//! claims the `writer` metadata record in one read-write transaction, raising its epoch; from
//! then on every write transaction of its [`Backend`] first reads that record and aborts with
//! [`StoreError::LostLeadership`] unless the record still names its epoch. So a writer that was
//! frozen while another tab took over cannot write when it wakes up: one writer at any instant,
//! whatever the election saw.
//!
//! The record also carries the writer's cross-tab protocol version, the hash of the manifest it
//! writes under and, for the lease fallback (no Web Locks), its owner id and the time it last
//! renewed its claim. A claim under another manifest than the recorded one is refused unless
//! the claimant was judged current by Torii ([`WriterId::switching`], see
//! [`crate::schema_switch`]): once newer code claimed the database, older code never does.

use serde::{Deserialize, Serialize};

use crate::backend::{Backend, RawValue, RecordKey};
use crate::error::StoreError;

/// Metadata key of the writer record (JSON, see [`WriterRecord`]).
pub const META_WRITER: &str = "writer";

/// Who holds the right to write, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriterRecord {
    /// Raised by every claim; a write commits only under the newest one.
    pub epoch: u64,
    /// The cross-tab protocol version of the writer's code.
    pub protocol: u32,
    /// The writer's id (unique per worker).
    pub owner: String,
    /// When the writer claimed or last renewed (milliseconds since the epoch).
    pub renewed_at: f64,
    /// The manifest hash the writer writes under (`None` in records of code before it).
    #[serde(default)]
    pub manifest: Option<String>,
}

/// Who asks to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterId {
    /// Unique per worker.
    pub owner: String,
    /// The cross-tab protocol version of this code.
    pub protocol: u32,
    /// The hash of this code's manifest.
    pub manifest: String,
    /// Torii judged this manifest current over the recorded writer's (see
    /// [`crate::schema_switch::judge`]): the claim may replace a writer of another manifest.
    pub switching: bool,
}

/// How a claim treats a writer already recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClaimRule {
    /// Take over whoever writes (the caller holds the database's Web Lock).
    Always,
    /// Take over only when the recorded writer is this one, older code, another manifest
    /// this claimant is switching from, or has not renewed for `stale_ms` (the lease
    /// fallback).
    IfStale {
        /// How long a writer may stay silent before it is presumed gone.
        stale_ms: f64,
    },
}

/// What a claim got.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This worker writes now, under this epoch (its writes are fenced on it).
    Won(u64),
    /// Another writer holds the record (its record).
    Held(WriterRecord),
}

/// The writer record read back; `None` when absent or unreadable (a claim then replaces it).
pub(crate) fn read_record(raw: Option<&RawValue>) -> Option<WriterRecord> {
    let bytes = raw?.as_ref().ok()?;
    serde_json::from_slice(bytes).ok()
}

/// The error of a write refused because `stored` no longer names `epoch`.
pub(crate) fn lost(epoch: u64, stored: Option<&WriterRecord>) -> StoreError {
    StoreError::LostLeadership {
        epoch,
        holder: stored.map_or_else(
            || "nobody".to_owned(),
            |r| format!("epoch {} of {}", r.epoch, r.owner),
        ),
    }
}

/// Whether a write fenced on `epoch` may commit, given the record read in its transaction.
pub(crate) fn check_fence(epoch: u64, raw: Option<&RawValue>) -> Result<(), StoreError> {
    let stored = read_record(raw);
    match &stored {
        Some(record) if record.epoch == epoch => Ok(()),
        _ => Err(lost(epoch, stored.as_ref())),
    }
}

fn encode(record: &WriterRecord) -> Option<Vec<u8>> {
    serde_json::to_vec(record).ok()
}

/// Claims the right to write `backend`'s database (see [`ClaimRule`]) in one read-write
/// transaction; a writer recorded under another manifest is replaced only when `me` is
/// [`WriterId::switching`]. On [`Claim::Won`], every later write through `backend` (and its
/// clones) is fenced on the new epoch.
pub async fn claim_writer<B: Backend>(
    backend: &B,
    me: &WriterId,
    rule: ClaimRule,
    now: f64,
) -> Result<Claim, StoreError> {
    backend.open().await?;
    let mut outcome = None;
    backend
        .update(RecordKey::Meta(META_WRITER), &mut |raw| {
            let stored = read_record(raw.as_ref());
            let other_manifest = stored
                .as_ref()
                .and_then(|held| held.manifest.as_deref())
                .is_some_and(|manifest| manifest != me.manifest);
            let take = match (&stored, rule) {
                _ if other_manifest => me.switching,
                (None, _) | (_, ClaimRule::Always) => true,
                (Some(held), ClaimRule::IfStale { stale_ms }) => {
                    held.owner == me.owner
                        || held.protocol < me.protocol
                        || now - held.renewed_at > stale_ms
                        || held.renewed_at > now + stale_ms
                }
            };
            if !take {
                outcome = stored.map(Claim::Held);
                return None;
            }
            let record = WriterRecord {
                epoch: stored.map_or(0, |r| r.epoch).saturating_add(1),
                protocol: me.protocol,
                owner: me.owner.clone(),
                renewed_at: now,
                manifest: Some(me.manifest.clone()),
            };
            let bytes = encode(&record)?;
            outcome = Some(Claim::Won(record.epoch));
            Some(bytes)
        })
        .await?;
    let outcome =
        outcome.ok_or_else(|| StoreError::Io("the writer record could not be encoded".into()))?;
    if let Claim::Won(epoch) = outcome {
        backend.fence(Some(epoch));
    }
    Ok(outcome)
}

/// Renews the lease of the writer fenced on `epoch` (the lease fallback); fails with
/// [`StoreError::LostLeadership`] when another writer claimed since.
pub async fn renew_writer<B: Backend>(backend: &B, epoch: u64, now: f64) -> Result<(), StoreError> {
    let mut result = Ok(());
    backend
        .update(
            RecordKey::Meta(META_WRITER),
            &mut |raw| match read_record(raw.as_ref()) {
                Some(mut record) if record.epoch == epoch => {
                    record.renewed_at = now;
                    encode(&record)
                }
                other => {
                    result = Err(lost(epoch, other.as_ref()));
                    None
                }
            },
        )
        .await?;
    result
}

/// Stops writing: later writes through `backend` fail with [`StoreError::LostLeadership`] until
/// a new claim.
pub fn resign_writer<B: Backend>(backend: &B) {
    backend.fence(Some(0));
}
