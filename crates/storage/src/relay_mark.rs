//! The relay mark of a target: which of the leader's relayed DELTAs the store already holds.
//!
//! The leader numbers the DELTAs it relays to other tabs by its writer epoch and a counter (see
//! `docs/tabs.md`). Each commit that stores the changes of relayed DELTAs also stores, in the
//! same transaction, the mark of the newest of them: the store holds that DELTA and every
//! earlier one of the target (a target's writes land in order). A follower's restore reads the
//! mark in the same transaction as the data it restores ([`crate::Storage::scan_raw_marked`])
//! and drops the relayed DELTAs the restore already contained, instead of
//! applying them a second time over newer data.

use serde::{Deserialize, Serialize};

use dojo_reactive_core::sync::TargetKind;

use crate::backend::{RawValue, RecordKey};

/// The newest relayed DELTA of a target whose changes are stored: writer epoch and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelayMark {
    /// The writer epoch the DELTA was relayed under.
    pub epoch: u64,
    /// Its number within the epoch (from 1, counted over every target).
    pub n: u64,
}

impl RelayMark {
    /// Whether the relayed DELTA `(epoch, n)` of this mark's target is stored, given that it
    /// was `persisted` when relayed: a DELTA of this epoch up to the mark's number, or a stored
    /// DELTA of an older epoch (every write of an older epoch committed before this one's
    /// writer claimed the database, which fences them).
    pub fn holds(&self, epoch: u64, n: u64, persisted: bool) -> bool {
        (epoch == self.epoch && n <= self.n) || (epoch < self.epoch && persisted)
    }
}

/// The metadata key of a target's relay mark.
pub fn relay_mark_key(target: TargetKind) -> RecordKey {
    RecordKey::Meta(match target {
        TargetKind::Entities => "relay:entities",
        TargetKind::EventMessages => "relay:eventMessages",
        TargetKind::Tokens => "relay:tokens",
        TargetKind::TokenBalances => "relay:tokenBalances",
        TargetKind::TokenContracts => "relay:tokenContracts",
    })
}

/// The stored form of a mark (JSON).
pub(crate) fn encode_relay_mark(mark: &RelayMark) -> Vec<u8> {
    // Two integers always serialise.
    serde_json::to_vec(mark).unwrap_or_default()
}

/// A mark read back; `None` when absent or unreadable (the follower then applies every
/// relayed DELTA, as the view's never-older rule allows).
pub(crate) fn decode_relay_mark(raw: Option<RawValue>) -> Option<RelayMark> {
    serde_json::from_slice(raw?.ok()?.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_holds_its_epochs_deltas_up_to_its_number_and_stored_older_ones() {
        let mark = RelayMark { epoch: 3, n: 10 };
        assert!(mark.holds(3, 1, true));
        assert!(mark.holds(3, 10, false), "written by a retry since");
        assert!(!mark.holds(3, 11, true), "above the mark: not stored yet");
        assert!(!mark.holds(4, 1, true), "a newer epoch: not stored yet");
        assert!(mark.holds(2, 99, true), "stored before epoch 3 claimed");
        assert!(
            !mark.holds(2, 99, false),
            "an older leader's unstored DELTA"
        );
    }

    #[test]
    fn marks_round_trip_and_garbage_reads_as_none() {
        let mark = RelayMark { epoch: 7, n: 42 };
        assert_eq!(
            decode_relay_mark(Some(Ok(encode_relay_mark(&mark)))),
            Some(mark)
        );
        assert_eq!(decode_relay_mark(Some(Ok(b"{".to_vec()))), None);
        assert_eq!(decode_relay_mark(Some(Err("a string".into()))), None);
        assert_eq!(decode_relay_mark(None), None);
    }
}
