//! Exponential backoff with deterministic jitter.

use super::options::BackoffConfig;

/// SplitMix64: a tiny, well-distributed generator; deterministic for a given seed.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Delays after consecutive failures: `initial * 2^(n-1)`, capped at `max`, times a jitter
/// factor uniform in `[1 - j, 1 + j]`, and never above `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    rng: SplitMix64,
}

impl Backoff {
    /// A backoff with its own generator seeded from the configuration.
    pub fn new(config: BackoffConfig) -> Self {
        Backoff {
            config,
            rng: SplitMix64(config.seed),
        }
    }

    /// The delay before the next attempt after `failures` consecutive failures (at least 1).
    pub fn delay_ms(&mut self, failures: u32) -> u64 {
        let exponent = failures.saturating_sub(1).min(63);
        let raw = self
            .config
            .initial_ms
            .saturating_mul(1u64.checked_shl(exponent).unwrap_or(u64::MAX))
            .min(self.config.max_ms);
        let jitter = u64::from(self.config.jitter_permille.min(1_000));
        // A factor in per mille, uniform over [1000 - jitter, 1000 + jitter].
        let span = 2 * jitter + 1;
        let factor = 1_000 - jitter + self.rng.next() % span;
        let jittered = (u128::from(raw) * u128::from(factor) / 1_000) as u64;
        jittered.min(self.config.max_ms)
    }

    /// The bounds `[low, high]` of `delay_ms(failures)`.
    pub fn bounds(config: &BackoffConfig, failures: u32) -> (u64, u64) {
        let exponent = failures.saturating_sub(1).min(63);
        let raw = config
            .initial_ms
            .saturating_mul(1u64.checked_shl(exponent).unwrap_or(u64::MAX))
            .min(config.max_ms);
        let jitter = u64::from(config.jitter_permille.min(1_000));
        let low = (u128::from(raw) * u128::from(1_000 - jitter) / 1_000) as u64;
        let high = (u128::from(raw) * u128::from(1_000 + jitter) / 1_000) as u64;
        (low.min(config.max_ms), high.min(config.max_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_two_seconds_and_caps_at_a_minute_within_jitter() {
        let config = BackoffConfig::default();
        let mut backoff = Backoff::new(config);
        for failures in 1..=12 {
            let (low, high) = Backoff::bounds(&config, failures);
            for _ in 0..200 {
                let delay = backoff.delay_ms(failures);
                assert!(low <= delay && delay <= high, "{failures}: {delay}");
            }
        }
        assert_eq!(Backoff::bounds(&config, 1), (1_800, 2_200));
        assert_eq!(Backoff::bounds(&config, 2), (3_600, 4_400));
        assert_eq!(Backoff::bounds(&config, 6), (54_000, 60_000));
        assert_eq!(Backoff::bounds(&config, 40), (54_000, 60_000));
    }

    #[test]
    fn same_seed_same_delays() {
        let config = BackoffConfig::default();
        let mut a = Backoff::new(config);
        let mut b = Backoff::new(config);
        let xs: Vec<u64> = (1..10).map(|n| a.delay_ms(n)).collect();
        let ys: Vec<u64> = (1..10).map(|n| b.delay_ms(n)).collect();
        assert_eq!(xs, ys);
        let mut c = Backoff::new(BackoffConfig { seed: 1, ..config });
        let zs: Vec<u64> = (1..10).map(|n| c.delay_ms(n)).collect();
        assert_ne!(xs, zs);
    }
}
