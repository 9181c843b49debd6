//! "Current" (last ~10 s) percentiles (§3.4): a ring of histogram snapshots, one per
//! second, and the diff of the live histogram against the snapshot of ~10 s ago.
//! Only the Aggregated entry keeps one unless full history is on. Snapshots are stored
//! sparse (the non-empty buckets only): a full copy would cost as much as the live
//! histogram, twenty times over, and grow with it whenever a slow outlier widens it.

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use crate::percentile::{locust_percentile, new_histogram, percentile_ms};

/// Snapshots kept (Locust keeps 20).
pub const MAX_SNAPSHOTS: usize = 20;
/// The "current" window in seconds (Locust's CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW).
pub const CURRENT_WINDOW_SECS: i64 = 10;

#[derive(Clone, Debug)]
struct Snapshot {
    /// Epoch second the snapshot stands for (Locust keys it `int(now) - 1`).
    second: i64,
    /// (a value of the bucket, count) for every non-empty bucket.
    buckets: Vec<(u64, u64)>,
}

impl Snapshot {
    fn fill(&mut self, hist: &Histogram<u64>) {
        self.buckets.clear();
        self.buckets.extend(
            hist.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value())),
        );
    }

    fn to_histogram(&self) -> Histogram<u64> {
        let mut hist = new_histogram();
        for &(value, count) in &self.buckets {
            let _ = hist.record_n(value, count);
        }
        hist
    }
}

/// Per-second copies of one histogram.
#[derive(Clone, Debug, Default)]
pub(crate) struct SnapshotRing {
    snaps: VecDeque<Snapshot>,
}

impl SnapshotRing {
    /// Store a copy of `hist` for epoch time `now` (replaces one for the same second).
    pub(crate) fn push(&mut self, now: f64, hist: &Histogram<u64>) {
        let second = now.floor() as i64 - 1;
        if let Some(last) = self.snaps.back_mut() {
            if last.second == second {
                last.fill(hist);
                return;
            }
        }
        // Reuse the oldest snapshot's allocation when the ring is full.
        let mut snap = if self.snaps.len() >= MAX_SNAPSHOTS {
            self.snaps.pop_front().unwrap_or(Snapshot {
                second,
                buckets: Vec::new(),
            })
        } else {
            Snapshot {
                second,
                buckets: Vec::new(),
            }
        };
        snap.second = second;
        snap.fill(hist);
        self.snaps.push_back(snap);
    }

    pub(crate) fn clear(&mut self) {
        self.snaps.clear();
    }

    /// Locust's preference order: t-10, then t-11, t-9, t-12, t-8 ... out to ±8 s.
    fn find(&self, now: f64) -> Option<&Snapshot> {
        let t = now.floor() as i64;
        let mut wanted = vec![t - CURRENT_WINDOW_SECS];
        for i in 1..9 {
            wanted.push(t - CURRENT_WINDOW_SECS - i);
            wanted.push(t - CURRENT_WINDOW_SECS + i);
        }
        wanted
            .into_iter()
            .find_map(|s| self.snaps.iter().find(|snap| snap.second == s))
    }

    /// `current` − the snapshot of ~10 s ago: the samples of the window, or None when
    /// no snapshot fits it.
    fn window(&self, current: &Histogram<u64>, now: f64) -> Option<Histogram<u64>> {
        let snap = self.find(now)?;
        let mut diff = current.clone();
        diff.subtract(snap.to_histogram()).ok()?;
        Some(diff)
    }

    /// The bucketed percentile `p` of the window (Locust's current percentile).
    pub(crate) fn current_percentile(
        &self,
        current: &Histogram<u64>,
        p: f64,
        now: f64,
    ) -> Option<u64> {
        Some(locust_percentile(&self.window(current, now)?, p, None))
    }

    /// Percentile `p` of the window in ms at HDR precision (no Locust rounding).
    pub(crate) fn current_percentile_ms(
        &self,
        current: &Histogram<u64>,
        p: f64,
        now: f64,
    ) -> Option<f64> {
        Some(percentile_ms(&self.window(current, now)?, p, None))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.snaps.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::percentile::record_ms;

    #[test]
    fn window_diff_and_preference_order() {
        let mut h = new_histogram();
        let mut ring = SnapshotRing::default();
        for _ in 0..100 {
            record_ms(&mut h, 500.0);
        }
        ring.push(1000.2, &h); // second 999
        for _ in 0..10 {
            record_ms(&mut h, 5.0);
        }
        // 10 s later: only the 10 new samples are in the window.
        assert_eq!(ring.current_percentile(&h, 0.5, 1009.5), Some(5));
        // 8 s late still finds the snapshot (t-10+8 = 999 when t = 1001)...
        assert_eq!(ring.current_percentile(&h, 1.0, 1001.0), Some(5));
        // ...but 9 s off does not.
        assert_eq!(ring.current_percentile(&h, 1.0, 1000.0), None);
        assert_eq!(ring.current_percentile(&h, 1.0, 1018.0), None);
    }

    #[test]
    fn exact_current_percentiles_keep_what_locust_rounds() {
        let mut h = new_histogram();
        let mut ring = SnapshotRing::default();
        ring.push(1000.2, &h);
        for _ in 0..10 {
            record_ms(&mut h, 1189.0);
        }
        assert_eq!(ring.current_percentile(&h, 0.5, 1009.5), Some(1200));
        let exact = ring.current_percentile_ms(&h, 0.5, 1009.5).unwrap();
        assert!((1188.0..=1189.0).contains(&exact), "{exact}");
    }

    #[test]
    fn keeps_at_most_twenty() {
        let h = new_histogram();
        let mut ring = SnapshotRing::default();
        for s in 0..50 {
            ring.push(2000.0 + s as f64, &h);
            ring.push(2000.5 + s as f64, &h); // same second: replaced
        }
        assert_eq!(ring.len(), MAX_SNAPSHOTS);
    }
}
