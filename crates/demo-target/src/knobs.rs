//! The settings that may change while serving (`POST /__demo/config`, `DemoState`
//! setters): service time, miss penalty and error rate, held in atomics so the hot
//! path reads them without a lock. Clamping happens here; parsing does not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::config::clamp_rate;

/// Live-adjustable knobs.
#[derive(Debug)]
pub(crate) struct Knobs {
    service_time_ns: AtomicU64,
    miss_penalty_ns: AtomicU64,
    /// `f64::to_bits` of the clamped error rate.
    error_rate_bits: AtomicU64,
}

impl Knobs {
    pub fn new(service_time: Duration, miss_penalty: Duration, error_rate: f64) -> Self {
        let knobs = Self {
            service_time_ns: AtomicU64::new(0),
            miss_penalty_ns: AtomicU64::new(0),
            error_rate_bits: AtomicU64::new(0),
        };
        knobs.set_service_time(service_time);
        knobs.set_miss_penalty(miss_penalty);
        knobs.set_error_rate(error_rate);
        knobs
    }

    pub fn service_time(&self) -> Duration {
        Duration::from_nanos(self.service_time_ns.load(Ordering::Relaxed))
    }

    pub fn miss_penalty(&self) -> Duration {
        Duration::from_nanos(self.miss_penalty_ns.load(Ordering::Relaxed))
    }

    pub fn error_rate(&self) -> f64 {
        f64::from_bits(self.error_rate_bits.load(Ordering::Relaxed))
    }

    pub fn set_service_time(&self, d: Duration) {
        self.service_time_ns.store(nanos(d), Ordering::Relaxed);
    }

    pub fn set_miss_penalty(&self, d: Duration) {
        self.miss_penalty_ns.store(nanos(d), Ordering::Relaxed);
    }

    pub fn set_error_rate(&self, rate: f64) {
        self.error_rate_bits
            .store(clamp_rate(rate).to_bits(), Ordering::Relaxed);
    }
}

/// Nanoseconds of `d`, saturating at about 584 years.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_clamps() {
        let k = Knobs::new(Duration::from_micros(1500), Duration::from_millis(5), 2.0);
        assert_eq!(k.service_time(), Duration::from_micros(1500));
        assert_eq!(k.miss_penalty(), Duration::from_millis(5));
        assert_eq!(k.error_rate(), 1.0);
        k.set_error_rate(0.25);
        assert_eq!(k.error_rate(), 0.25);
        k.set_service_time(Duration::MAX);
        assert_eq!(k.service_time(), Duration::from_nanos(u64::MAX));
    }
}
