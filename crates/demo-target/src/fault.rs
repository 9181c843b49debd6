//! Failure injection: decides which app answers become `500 injected failure`.
//! A seeded SplitMix64 sequence indexed by an atomic draw counter: no locks, no
//! external RNG, and the same seed and request order give the same failures.

use std::sync::atomic::{AtomicU64, Ordering};

/// Draws "fail or not" decisions for a given failure fraction.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    seed: u64,
    /// How many decisions were drawn at a rate strictly between 0 and 1.
    draws: AtomicU64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl FaultInjector {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            draws: AtomicU64::new(0),
        }
    }

    /// True when this answer should fail; `rate` is a clamped fraction in 0..=1.
    /// Rates 0 and 1 are exact (never and always).
    pub fn should_fail(&self, rate: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        if rate >= 1.0 {
            return true;
        }
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        unit(splitmix64(
            self.seed.wrapping_add(n.wrapping_mul(GOLDEN_GAMMA)),
        )) < rate
    }
}

/// One SplitMix64 output for `state`.
fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Maps 64 random bits to a float in 0..1 (53 bits of precision).
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_are_exact() {
        let f = FaultInjector::new(1);
        assert!((0..1000).all(|_| f.should_fail(1.0)));
        assert!((0..1000).all(|_| !f.should_fail(0.0)));
    }

    #[test]
    fn fraction_is_close_and_repeatable() {
        let run = |seed| {
            let f = FaultInjector::new(seed);
            (0..10_000).map(|_| f.should_fail(0.1)).collect::<Vec<_>>()
        };
        let a = run(42);
        assert_eq!(a, run(42), "same seed, same failures");
        let failures = a.iter().filter(|x| **x).count();
        assert!(
            (800..1200).contains(&failures),
            "{failures} of 10000 at 10%"
        );
        // Failures do not line up with a round-robin over 3 instances.
        for k in 0..3 {
            let on_k = a.iter().skip(k).step_by(3).filter(|x| **x).count();
            assert!((200..470).contains(&on_k), "instance {k}: {on_k}");
        }
    }
}
