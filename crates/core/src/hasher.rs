//! A fast seeded hasher for maps keyed by felts (entity ids are already uniformly distributed
//! Poseidon hashes, so SipHash's strength buys nothing but time on the hot path).

use std::hash::{BuildHasher, Hasher, RandomState};

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// Builds [`FastHasher`]s with a per-map random seed, so colliding keys cannot be precomputed.
#[derive(Debug, Clone, Copy)]
pub struct FastHashBuilder {
    seed: u64,
}

impl Default for FastHashBuilder {
    fn default() -> Self {
        Self {
            seed: RandomState::new().hash_one(0x5eed_u64) | 1,
        }
    }
}

impl BuildHasher for FastHashBuilder {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher { state: self.seed }
    }
}

/// Multiply-rotate word hasher with a final avalanche.
#[derive(Debug, Clone, Copy)]
pub struct FastHasher {
    state: u64,
}

impl FastHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(23) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut x = self.state;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

/// A `HashMap` using [`FastHashBuilder`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastHashBuilder>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Felt;

    #[test]
    fn equal_keys_hash_equal_and_different_keys_spread() {
        let builder = FastHashBuilder::default();
        let a = builder.hash_one(Felt::from(1u128));
        assert_eq!(a, builder.hash_one(Felt::from(1u128)));
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u128 {
            seen.insert(builder.hash_one(Felt::from(i)) >> 57);
        }
        // The top 7 bits (hashbrown's control byte) must take many values for sequential ids.
        assert!(seen.len() > 100, "{}", seen.len());
    }
}
