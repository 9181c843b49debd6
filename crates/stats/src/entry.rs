//! One row of statistics (a (name, method) entry, or the Aggregated total): exact float
//! ms total/min/max like Locust, an HDR histogram for percentiles, and per-second
//! request/failure counters. Also the merge (`+=`) used for shards and workers.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use hdrhistogram::Histogram;

use crate::percentile::{
    locust_percentile, new_histogram, percentile_ms, record_ms, response_times_map, Extremes,
};
use crate::ring::SnapshotRing;

/// Most recent epoch seconds kept in `num_reqs_per_sec` / `num_fail_per_sec`: an hour
/// of history bounds memory on long runs (the current-rate window needs only 12 s).
pub const MAX_PER_SECOND_HISTORY: usize = 3600;

/// A median as Locust computes it: a bucket (printed as an int), or the exact min/max
/// float when the bucket fell outside [min, max] and was clamped (printed as a float).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Median {
    /// An integral bucket value in ms.
    Bucket(u64),
    /// The exact min or max response time it was clamped to.
    Exact(f64),
}

impl Median {
    /// The value in ms.
    pub fn as_f64(self) -> f64 {
        match self {
            Median::Bucket(b) => b as f64,
            Median::Exact(x) => x,
        }
    }
}

/// Statistics of one (name, method) entry or of the total. Field names follow Locust's
/// StatsEntry wire form (§9.3); times are ms floats, timestamps epoch-second floats.
#[derive(Clone, Debug)]
pub struct StatsEntry {
    /// Request name (`Aggregated` for the total).
    pub name: String,
    /// Request method (empty for the total).
    pub method: String,
    /// Requests, failed ones included.
    pub num_requests: u64,
    /// Requests reported without a response time.
    pub num_none_requests: u64,
    /// Failed requests.
    pub num_failures: u64,
    /// Exact sum of response times (ms).
    pub total_response_time: f64,
    /// Exact smallest response time (ms), None before the first timed sample.
    pub min_response_time: Option<f64>,
    /// Exact largest response time (ms), 0 before the first timed sample.
    pub max_response_time: f64,
    /// Sum of response body sizes in bytes.
    pub total_content_length: u64,
    /// Response times in microseconds (auto-resizing, 3 significant figures).
    pub histogram: Histogram<u64>,
    /// Requests per epoch second (request end), at most [`MAX_PER_SECOND_HISTORY`] keys.
    pub num_reqs_per_sec: BTreeMap<i64, u64>,
    /// Failures per epoch second, at most [`MAX_PER_SECOND_HISTORY`] keys.
    pub num_fail_per_sec: BTreeMap<i64, u64>,
    /// When the entry was created or reset (epoch seconds).
    pub start_time: f64,
    /// End time of the latest request (epoch seconds).
    pub last_request_timestamp: Option<f64>,
    /// Snapshots for current percentiles; only where the owner enabled them.
    pub(crate) ring: Option<SnapshotRing>,
}

impl StatsEntry {
    /// An empty entry created at `start_time`.
    pub fn new(name: &str, method: &str, start_time: f64) -> Self {
        StatsEntry {
            name: name.to_owned(),
            method: method.to_owned(),
            num_requests: 0,
            num_none_requests: 0,
            num_failures: 0,
            total_response_time: 0.0,
            min_response_time: None,
            max_response_time: 0.0,
            total_content_length: 0,
            histogram: new_histogram(),
            num_reqs_per_sec: BTreeMap::new(),
            num_fail_per_sec: BTreeMap::new(),
            start_time,
            last_request_timestamp: None,
            ring: None,
        }
    }

    /// Count one request that ended at `now` (Locust's `StatsEntry.log`); `None` as the
    /// time counts it in `num_none_requests` only.
    pub fn log(&mut self, response_time_ms: Option<f64>, content_length: u64, now: f64) {
        self.num_requests += 1;
        bump_second(&mut self.num_reqs_per_sec, now);
        self.last_request_timestamp = Some(match self.last_request_timestamp {
            Some(t) if t > now => t,
            _ => now,
        });
        match response_time_ms {
            None => self.num_none_requests += 1,
            Some(ms) => {
                self.total_response_time += ms;
                self.min_response_time = Some(self.min_response_time.map_or(ms, |m| m.min(ms)));
                self.max_response_time = self.max_response_time.max(ms);
                record_ms(&mut self.histogram, ms);
            }
        }
        self.total_content_length += content_length;
    }

    /// Count one failure at `now` (Locust's `log_error`); the request is logged apart.
    pub fn log_error(&mut self, now: f64) {
        self.num_failures += 1;
        bump_second(&mut self.num_fail_per_sec, now);
    }

    /// True when nothing was logged since creation or the last reset.
    pub fn is_empty(&self) -> bool {
        self.num_requests == 0 && self.num_failures == 0
    }

    /// Zero every counter (keeping the histogram's memory) and restart at `start_time`.
    pub fn reset(&mut self, start_time: f64) {
        self.num_requests = 0;
        self.num_none_requests = 0;
        self.num_failures = 0;
        self.total_response_time = 0.0;
        self.min_response_time = None;
        self.max_response_time = 0.0;
        self.total_content_length = 0;
        self.histogram.reset();
        self.num_reqs_per_sec.clear();
        self.num_fail_per_sec.clear();
        self.start_time = start_time;
        self.last_request_timestamp = None;
        if let Some(ring) = &mut self.ring {
            ring.clear();
        }
    }

    /// Samples that carry a response time.
    pub fn num_timed(&self) -> u64 {
        self.histogram.len()
    }

    /// Locust's fail ratio: failures / requests, 1.0 with failures and no requests.
    pub fn fail_ratio(&self) -> f64 {
        if self.num_requests == 0 {
            if self.num_failures > 0 {
                1.0
            } else {
                0.0
            }
        } else {
            self.num_failures as f64 / self.num_requests as f64
        }
    }

    /// Average response time (ms) over timed requests; 0.0 without any.
    pub fn avg_response_time(&self) -> f64 {
        let timed = self.num_requests.saturating_sub(self.num_none_requests);
        if timed == 0 {
            0.0
        } else {
            self.total_response_time / timed as f64
        }
    }

    /// Average content size in bytes; None without requests (Locust prints int 0).
    pub fn avg_content_length(&self) -> Option<f64> {
        if self.num_requests == 0 {
            None
        } else {
            Some(self.total_content_length as f64 / self.num_requests as f64)
        }
    }

    /// Locust's median: the 50% bucket clamped to the exact [min, max]; 0 when empty.
    pub fn median(&self) -> Median {
        if self.histogram.is_empty() {
            return Median::Bucket(0);
        }
        let bucket = self.locust_percentile(0.5);
        let value = bucket as f64;
        if value > self.max_response_time {
            Median::Exact(self.max_response_time)
        } else if let Some(min) = self.min_response_time.filter(|&m| value < m) {
            Median::Exact(min)
        } else {
            Median::Bucket(bucket)
        }
    }

    /// Percentile `p` (0..=1) bucketed as Locust prints it (whole ms).
    pub fn locust_percentile(&self, p: f64) -> u64 {
        locust_percentile(&self.histogram, p, self.extremes())
    }

    /// The exact min/max, which refine the histogram's end buckets.
    fn extremes(&self) -> Option<Extremes> {
        self.min_response_time.map(|min| Extremes {
            min,
            max: self.max_response_time,
        })
    }

    /// Percentile `p` (0..=1) in ms, unrounded (HDR precision).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.histogram, p, self.extremes())
    }

    /// The interval (ms) that holds the true percentile `p`: see
    /// [`crate::percentile::percentile_bounds_ms`].
    pub fn percentile_bounds_ms(&self, p: f64) -> (f64, f64) {
        crate::percentile::percentile_bounds_ms(&self.histogram, p, self.extremes())
    }

    /// Locust's `response_times`: bucket ms → count.
    pub fn response_times(&self) -> BTreeMap<u64, u64> {
        response_times_map(&self.histogram, self.extremes())
    }

    /// Percentile `p` over the last ~10 s (§3.4), or None without a fitting snapshot
    /// (or when this entry keeps no snapshots).
    pub fn current_percentile(&self, p: f64, now: f64) -> Option<u64> {
        self.ring
            .as_ref()?
            .current_percentile(&self.histogram, p, now)
    }

    /// Percentile `p` over the last ~10 s in ms at HDR precision, for charts that show
    /// the truth rather than Locust's buckets.
    pub fn current_percentile_ms(&self, p: f64, now: f64) -> Option<f64> {
        self.ring
            .as_ref()?
            .current_percentile_ms(&self.histogram, p, now)
    }

    /// Take this second's snapshot for current percentiles (no-op without a ring).
    pub(crate) fn snapshot(&mut self, now: f64) {
        if let Some(ring) = &mut self.ring {
            ring.push(now, &self.histogram);
        }
    }

    /// Turn current-percentile snapshots on or off.
    pub(crate) fn keep_snapshots(&mut self, on: bool) {
        if on && self.ring.is_none() {
            self.ring = Some(SnapshotRing::default());
        } else if !on {
            self.ring = None;
        }
    }
}

impl AddAssign<&StatsEntry> for StatsEntry {
    /// Locust's `extend`: counts and maps add, min/max merge, start_time takes the
    /// minimum and last_request_timestamp the maximum.
    fn add_assign(&mut self, other: &StatsEntry) {
        self.start_time = self.start_time.min(other.start_time);
        self.last_request_timestamp =
            match (self.last_request_timestamp, other.last_request_timestamp) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        self.num_requests += other.num_requests;
        self.num_none_requests += other.num_none_requests;
        self.num_failures += other.num_failures;
        self.total_response_time += other.total_response_time;
        self.min_response_time = match (self.min_response_time, other.min_response_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_response_time = self.max_response_time.max(other.max_response_time);
        self.total_content_length += other.total_content_length;
        // Auto-resizing histograms: `add` cannot fail.
        let _ = self.histogram.add(&other.histogram);
        add_seconds(&mut self.num_reqs_per_sec, &other.num_reqs_per_sec);
        add_seconds(&mut self.num_fail_per_sec, &other.num_fail_per_sec);
    }
}

/// Count one event in the epoch second of `now`, dropping seconds beyond the bound.
fn bump_second(map: &mut BTreeMap<i64, u64>, now: f64) {
    *map.entry(now.floor() as i64).or_insert(0) += 1;
    trim(map);
}

fn add_seconds(into: &mut BTreeMap<i64, u64>, from: &BTreeMap<i64, u64>) {
    for (&sec, &n) in from {
        *into.entry(sec).or_insert(0) += n;
    }
    trim(into);
}

fn trim(map: &mut BTreeMap<i64, u64>) {
    while map.len() > MAX_PER_SECOND_HISTORY {
        map.pop_first();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(samples: &[f64]) -> StatsEntry {
        let mut e = StatsEntry::new("/", "GET", 100.0);
        for (i, &s) in samples.iter().enumerate() {
            e.log(Some(s), 10, 100.0 + i as f64 * 0.25);
        }
        e
    }

    #[test]
    fn median_is_clamped_to_exact_min_and_max() {
        // Bucket 3 is above max 2.86: the median becomes the exact max (CSV sample POST /).
        let e = entry(&[1.7587490000039452, 2.6, 2.7, 2.8622229999939464]);
        assert_eq!(e.median(), Median::Exact(2.8622229999939464));
        // Bucket 1 below min 1.2 → the exact min.
        let e = entry(&[1.2, 1.3]);
        assert_eq!(e.median(), Median::Exact(1.2));
        let e = entry(&[1.0, 2.2, 3.0]);
        assert_eq!(e.median(), Median::Bucket(2));
        assert_eq!(StatsEntry::new("/", "GET", 0.0).median(), Median::Bucket(0));
    }

    #[test]
    fn averages_and_ratios() {
        let mut e = entry(&[1.0, 2.0, 6.0]);
        e.log(None, 0, 101.0);
        e.log_error(101.0);
        assert_eq!(e.avg_response_time(), 3.0);
        assert_eq!(e.avg_content_length(), Some(7.5));
        assert_eq!(e.fail_ratio(), 0.25);
        let mut only_fail = StatsEntry::new("/", "GET", 0.0);
        only_fail.log_error(1.0);
        assert_eq!(only_fail.fail_ratio(), 1.0);
        assert_eq!(only_fail.avg_content_length(), None);
    }

    #[test]
    fn merge_adds_counts_and_merges_extremes() {
        let mut a = entry(&[1.0, 5.0]);
        let mut b = StatsEntry::new("/", "GET", 90.0);
        b.log(Some(0.5), 3, 200.0);
        b.log_error(200.0);
        a += &b;
        assert_eq!(a.num_requests, 3);
        assert_eq!(a.num_failures, 1);
        assert_eq!(a.min_response_time, Some(0.5));
        assert_eq!(a.max_response_time, 5.0);
        assert_eq!(a.total_response_time, 6.5);
        assert_eq!(a.total_content_length, 23);
        assert_eq!(a.start_time, 90.0);
        assert_eq!(a.last_request_timestamp, Some(200.0));
        assert_eq!(a.histogram.len(), 3);
        assert_eq!(a.num_reqs_per_sec.get(&100), Some(&2));
        assert_eq!(a.num_fail_per_sec.get(&200), Some(&1));
    }

    #[test]
    fn per_second_maps_are_bounded() {
        let mut e = StatsEntry::new("/", "GET", 0.0);
        for s in 0..(MAX_PER_SECOND_HISTORY as i64 + 500) {
            e.log(Some(1.0), 0, s as f64 + 0.5);
            e.log_error(s as f64 + 0.5);
        }
        assert_eq!(e.num_reqs_per_sec.len(), MAX_PER_SECOND_HISTORY);
        assert_eq!(e.num_fail_per_sec.len(), MAX_PER_SECOND_HISTORY);
        assert_eq!(e.num_reqs_per_sec.keys().next(), Some(&500));
    }

    #[test]
    fn reset_zeroes_everything() {
        let mut e = entry(&[1.0, 2.0]);
        e.log_error(100.0);
        e.reset(500.0);
        assert!(e.is_empty());
        assert_eq!(e.histogram.len(), 0);
        assert_eq!(e.start_time, 500.0);
        assert_eq!(e.last_request_timestamp, None);
        assert!(e.num_reqs_per_sec.is_empty());
    }
}
