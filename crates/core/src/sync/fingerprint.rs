//! What the synchronizer keeps of a stored model state: a fingerprint, enough to tell whether an
//! incoming state is the same, not the state (the view and storage have it). Storage makes them
//! while it replays a start-up's segments, so that no segment outlives its replay.

use std::hash::BuildHasher;

use super::storage::ModelRecord;
use crate::hasher::FastHashBuilder;
use crate::value::Struct;

/// A fingerprint of a model state with its timestamps: two 64-bit hashes of the whole state
/// (every member, name and value) with the two seeds of a [`Fingerprinter`]. States with equal
/// fingerprints are taken as equal (a change mistaken for none would be stored with the next
/// change of that state). The hash is fast, not cryptographic: the random seeds keep colliding
/// states from being computed in advance, and two states collide by chance with odds near
/// 2⁻¹²⁸. One value, [`Fingerprint::UNDECODABLE`], is no state's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u64; 2]);

impl Fingerprint {
    /// What a stored state that cannot be decoded is held as: no state's fingerprint equals it.
    pub const UNDECODABLE: Fingerprint = Fingerprint([0, 0]);

    /// The fingerprint of two hashes, moved off [`Self::UNDECODABLE`].
    fn of_hashes(hashes: [u64; 2]) -> Self {
        match hashes {
            [0, 0] => Fingerprint([0, 1]),
            hashes => Fingerprint(hashes),
        }
    }
}

/// A fingerprint function: two seeds drawn at random when it is made (one per synchronizer
/// start-up); fingerprints made by different ones do not compare.
#[derive(Debug, Clone, Default)]
pub struct Fingerprinter([FastHashBuilder; 2]);

impl Fingerprinter {
    /// The fingerprint of `state` with its timestamps.
    pub fn of(&self, state: &Struct, executed_at: u64, updated_at: u64) -> Fingerprint {
        let what = (state, executed_at, updated_at);
        Fingerprint::of_hashes([self.0[0].hash_one(what), self.0[1].hash_one(what)])
    }

    /// The fingerprint of a record's state with its timestamps.
    pub fn of_record(&self, record: &ModelRecord) -> Fingerprint {
        self.of(&record.state, record.executed_at, record.updated_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_state_fingerprints_as_an_undecodable_one() {
        assert_eq!(Fingerprint::of_hashes([0, 0]), Fingerprint([0, 1]));
        assert_ne!(Fingerprint::of_hashes([0, 0]), Fingerprint::UNDECODABLE);
        assert_eq!(Fingerprint::of_hashes([3, 0]), Fingerprint([3, 0]));
    }
}
