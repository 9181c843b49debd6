//! The run's time series for charts (Locust keeps a snapshot every 5 s): one point per
//! tick with users, current rates and percentiles, the cache hit ratio and each
//! instance's share. Bounded: at most [`MAX_HISTORY_POINTS`]; when full, adjacent
//! pairs merge and the resolution halves, so a day-long run costs the same memory.

use serde::{Serialize, Serializer};

use crate::analysis::{window_shares, CacheRole};
use crate::stats::Stats;

/// Most points kept.
pub const MAX_HISTORY_POINTS: usize = 2000;
/// Complete seconds the cache and instance figures of a point cover.
pub const LABEL_WINDOW_SECS: i64 = 3;

/// One moment of the run (or the mean of several when merged). Its serialized form is
/// a point of the JSON result's `history` (without `span`; `shares` as an object by
/// instance id).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Epoch seconds (the mean time of merged points).
    pub time: f64,
    pub user_count: f64,
    pub current_rps: f64,
    pub current_fail_per_sec: f64,
    /// Current (last ~10 s) median and 95th percentile, ms at HDR precision (not
    /// Locust's two-digit buckets: the web UI's REST API serves those).
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    /// Average response time of the whole run so far, ms.
    pub total_avg: f64,
    pub cache_hit_ratio: Option<f64>,
    pub cache_hit_ms: Option<f64>,
    pub cache_miss_ms: Option<f64>,
    /// Share of responses per instance in the last seconds.
    #[serde(serialize_with = "shares_by_id")]
    pub shares: Vec<(String, f64)>,
    /// Ticks this point stands for.
    #[serde(skip)]
    pub span: u32,
}

/// `shares` as a JSON object, ids in sorted order.
fn shares_by_id<S: Serializer>(shares: &[(String, f64)], serializer: S) -> Result<S::Ok, S::Error> {
    let sorted: std::collections::BTreeMap<&str, f64> = shares
        .iter()
        .map(|(id, share)| (id.as_str(), *share))
        .collect();
    sorted.serialize(serializer)
}

impl HistoryPoint {
    /// Samples the statistics at `now` (call right after `Stats::tick`).
    pub fn sample(
        stats: &Stats,
        user_count: u64,
        now: f64,
        cache: Option<&CacheRole>,
        instance_header: Option<usize>,
    ) -> Self {
        let total = stats.total();
        let to = now.floor() as i64;
        let from = to - LABEL_WINDOW_SECS;
        let (cache_hit_ratio, cache_hit_ms, cache_miss_ms) = match cache {
            Some(role) => role.window(stats.labels().header(role.header), from, to),
            None => (None, None, None),
        };
        let shares = instance_header
            .map(|h| window_shares(stats.labels().header(h), from, to))
            .unwrap_or_default();
        HistoryPoint {
            time: now,
            user_count: user_count as f64,
            current_rps: stats.current_rps(total),
            current_fail_per_sec: stats.current_fail_per_sec(total),
            p50: total.current_percentile_ms(0.5, now),
            p95: total.current_percentile_ms(0.95, now),
            total_avg: total.avg_response_time(),
            cache_hit_ratio,
            cache_hit_ms,
            cache_miss_ms,
            shares,
            span: 1,
        }
    }

    /// The share of responses instance `id` had at this point, if it answered.
    pub fn share(&self, id: &str) -> Option<f64> {
        self.shares.iter().find(|(i, _)| i == id).map(|(_, s)| *s)
    }

    /// The weighted mean of two points (`self` earlier).
    fn merged(&self, later: &HistoryPoint) -> HistoryPoint {
        let (a, b) = (f64::from(self.span), f64::from(later.span));
        let mean = |x: f64, y: f64| (x * a + y * b) / (a + b);
        let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => Some(mean(x, y)),
            (x, y) => x.or(y),
        };
        let mut shares = self.shares.clone();
        for (id, share) in &later.shares {
            match shares.iter_mut().find(|(i, _)| i == id) {
                Some(slot) => slot.1 = mean(slot.1, *share),
                None => shares.push((id.clone(), *share)),
            }
        }
        HistoryPoint {
            time: mean(self.time, later.time),
            user_count: mean(self.user_count, later.user_count),
            current_rps: mean(self.current_rps, later.current_rps),
            current_fail_per_sec: mean(self.current_fail_per_sec, later.current_fail_per_sec),
            p50: opt(self.p50, later.p50),
            p95: opt(self.p95, later.p95),
            total_avg: later.total_avg,
            cache_hit_ratio: opt(self.cache_hit_ratio, later.cache_hit_ratio),
            cache_hit_ms: opt(self.cache_hit_ms, later.cache_hit_ms),
            cache_miss_ms: opt(self.cache_miss_ms, later.cache_miss_ms),
            shares,
            span: self.span + later.span,
        }
    }
}

/// Points at a uniform resolution of `stride` ticks each.
#[derive(Clone, Debug)]
pub struct History {
    points: Vec<HistoryPoint>,
    /// Ticks merged into the point under construction.
    pending: Option<HistoryPoint>,
    stride: u32,
    max: usize,
}

impl Default for History {
    fn default() -> Self {
        History::with_capacity(MAX_HISTORY_POINTS)
    }
}

impl History {
    /// A history of at most `max` points (at least 2).
    pub fn with_capacity(max: usize) -> Self {
        History {
            points: Vec::new(),
            pending: None,
            stride: 1,
            max: max.max(2),
        }
    }

    /// Adds one tick's point.
    pub fn push(&mut self, point: HistoryPoint) {
        let point = match self.pending.take() {
            Some(p) => p.merged(&point),
            None => point,
        };
        if point.span < self.stride {
            self.pending = Some(point);
            return;
        }
        self.points.push(point);
        if self.points.len() >= self.max {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => a.merged(b),
                    [a] => a.clone(),
                    _ => HistoryPoint::default(),
                })
                .collect();
            self.stride *= 2;
        }
    }

    /// The points, oldest first, including a partly merged last one.
    pub fn points(&self) -> Vec<HistoryPoint> {
        let mut points = self.points.clone();
        points.extend(self.pending.clone());
        points
    }

    /// Seconds (ticks) each stored point covers.
    pub fn resolution(&self) -> u32 {
        self.stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: f64) -> HistoryPoint {
        HistoryPoint {
            time: t,
            user_count: t,
            current_rps: 2.0 * t,
            p50: (t > 1.0).then_some(t),
            shares: vec![("a".into(), 1.0)],
            span: 1,
            ..HistoryPoint::default()
        }
    }

    #[test]
    fn memory_is_bounded_and_resolution_halves() {
        let mut h = History::with_capacity(10);
        for t in 0..1000 {
            h.push(point(t as f64));
        }
        let points = h.points();
        assert!(points.len() <= 10, "{}", points.len());
        assert!(h.resolution() >= 100);
        // Uniform spans, ordered times, means preserved.
        assert!(points.windows(2).all(|w| w[0].time < w[1].time));
        let stored: u32 = points.iter().map(|p| p.span).sum();
        assert_eq!(stored, 1000);
        let first = &points[0];
        assert_eq!(first.user_count, first.time);
        assert_eq!(first.current_rps, 2.0 * first.time);
    }

    #[test]
    fn merging_keeps_known_values() {
        let merged = point(1.0).merged(&point(3.0));
        assert_eq!(merged.p50, Some(3.0));
        assert_eq!(merged.time, 2.0);
        assert_eq!(merged.shares, vec![("a".to_string(), 1.0)]);
    }
}
