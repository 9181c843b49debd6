//! Cache and load-balancer figures derived from header labels: which header and values
//! mean hit/miss (`CacheRole`), the hit ratio and hit-vs-miss latency (`CacheSummary`),
//! and each instance's share of responses with its deviation from an even share
//! (`BalanceSummary`). Pure functions of a `HeaderLabels`; nothing is recorded here.

use serde::Serialize;

use crate::labels::{HeaderLabels, LabelValue};

/// How the cache header is read: its index among the labelled headers and the values
/// (compared without case) that mean a hit or a miss.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheRole {
    pub header: usize,
    pub hit: Vec<String>,
    pub miss: Vec<String>,
}

impl CacheRole {
    fn is_hit(&self, value: &str) -> bool {
        self.hit.iter().any(|h| h.eq_ignore_ascii_case(value))
    }

    fn is_miss(&self, value: &str) -> bool {
        self.miss.iter().any(|m| m.eq_ignore_ascii_case(value))
    }

    /// Hits and misses of one header's values, merged into two latency groups.
    pub fn summarize(&self, labels: Option<&HeaderLabels>) -> CacheSummary {
        let mut hit: Option<LabelValue> = None;
        let mut miss: Option<LabelValue> = None;
        for value in labels.into_iter().flat_map(HeaderLabels::values) {
            let group = if self.is_hit(&value.value) {
                &mut hit
            } else if self.is_miss(&value.value) {
                &mut miss
            } else {
                continue;
            };
            match group {
                Some(g) => {
                    g.count += value.count;
                    g.total_ms += value.total_ms;
                    let _ = g.histogram.add(&value.histogram);
                }
                None => *group = Some(value.clone()),
            }
        }
        let hits = hit.as_ref().map_or(0, |v| v.count);
        let misses = miss.as_ref().map_or(0, |v| v.count);
        let hit_median_ms = hit.as_ref().and_then(|v| v.percentile_ms(0.5));
        let miss_median_ms = miss.as_ref().and_then(|v| v.percentile_ms(0.5));
        CacheSummary {
            hits,
            misses,
            hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            hit_avg_ms: hit.as_ref().and_then(LabelValue::avg_ms),
            miss_avg_ms: miss.as_ref().and_then(LabelValue::avg_ms),
            hit_median_ms,
            miss_median_ms,
            speedup: speedup(miss_median_ms, hit_median_ms),
        }
    }

    /// (hit ratio, hit mean ms, miss mean ms) over the epoch seconds `from..to`.
    pub fn window(
        &self,
        labels: Option<&HeaderLabels>,
        from: i64,
        to: i64,
    ) -> (Option<f64>, Option<f64>, Option<f64>) {
        let (mut hits, mut hit_ms, mut misses, mut miss_ms) = (0u64, 0.0, 0u64, 0.0);
        for value in labels.into_iter().flat_map(HeaderLabels::values) {
            let w = value.window(from, to);
            if self.is_hit(&value.value) {
                hits += w.count;
                hit_ms += w.total_ms;
            } else if self.is_miss(&value.value) {
                misses += w.count;
                miss_ms += w.total_ms;
            }
        }
        let mean = |n: u64, ms: f64| (n > 0).then(|| ms / n as f64);
        let ratio = (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64);
        (ratio, mean(hits, hit_ms), mean(misses, miss_ms))
    }
}

/// Miss latency over hit latency; None unless both are known and the hit time is > 0.
fn speedup(miss: Option<f64>, hit: Option<f64>) -> Option<f64> {
    match (miss, hit) {
        (Some(m), Some(h)) if h > 0.0 => Some(m / h),
        (Some(m), Some(_)) if m > 0.0 => Some(f64::INFINITY),
        (Some(_), Some(_)) => Some(1.0),
        _ => None,
    }
}

/// The cache as the responses show it (serialized as the figures of the JSON result's
/// `cache` object).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CacheSummary {
    pub hits: u64,
    pub misses: u64,
    /// hits / (hits + misses); None when neither was seen.
    pub hit_ratio: Option<f64>,
    pub hit_avg_ms: Option<f64>,
    pub miss_avg_ms: Option<f64>,
    pub hit_median_ms: Option<f64>,
    pub miss_median_ms: Option<f64>,
    /// Median miss time / median hit time.
    pub speedup: Option<f64>,
}

/// One instance's part of the responses (serialized as an entry of the JSON result's
/// `balance.instances`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceShare {
    pub id: String,
    pub count: u64,
    /// count / all responses carrying the header.
    pub share: f64,
    /// |share − even share| / even share.
    pub deviation: f64,
}

/// The spread of responses over instances.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BalanceSummary {
    pub total: u64,
    /// Instances counted for the even share: those seen, or `expected` when larger.
    pub instances_expected: usize,
    pub instances: Vec<InstanceShare>,
    /// The largest deviation, counting an expected but unseen instance as 100 %.
    pub max_deviation: Option<f64>,
}

/// Shares per value of the instance header. `expected` (when given) is the number of
/// instances that should answer: missing ones count as a deviation of 100 %.
pub fn balance(labels: Option<&HeaderLabels>, expected: Option<usize>) -> BalanceSummary {
    let values: Vec<&LabelValue> = labels.into_iter().flat_map(HeaderLabels::values).collect();
    let total: u64 = values.iter().map(|v| v.count).sum();
    let seen = values.len();
    let n = expected.unwrap_or(0).max(seen);
    if total == 0 || n == 0 {
        return BalanceSummary {
            instances_expected: n,
            ..BalanceSummary::default()
        };
    }
    let even = 1.0 / n as f64;
    // Sorted by id, so reports and JSON list app1, app2, app3 whichever answered first.
    let mut instances: Vec<InstanceShare> = values
        .iter()
        .map(|v| {
            let share = v.count as f64 / total as f64;
            InstanceShare {
                id: v.value.clone(),
                count: v.count,
                share,
                deviation: (share - even).abs() / even,
            }
        })
        .collect();
    instances.sort_by(|a, b| a.id.cmp(&b.id));
    let mut max_deviation = instances.iter().map(|i| i.deviation).fold(0.0, f64::max);
    if seen < n {
        max_deviation = max_deviation.max(1.0);
    }
    BalanceSummary {
        total,
        instances_expected: n,
        instances,
        max_deviation: Some(max_deviation),
    }
}

/// Each value's share of the responses in the epoch seconds `from..to`.
pub fn window_shares(labels: Option<&HeaderLabels>, from: i64, to: i64) -> Vec<(String, f64)> {
    let counts: Vec<(String, u64)> = labels
        .into_iter()
        .flat_map(HeaderLabels::values)
        .map(|v| (v.value.clone(), v.window(from, to).count))
        .collect();
    let total: u64 = counts.iter().map(|c| c.1).sum();
    if total == 0 {
        return Vec::new();
    }
    counts
        .into_iter()
        .map(|(id, n)| (id, n as f64 / total as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(samples: &[(&str, f64)]) -> HeaderLabels {
        let mut l = HeaderLabels::default();
        for (i, (v, ms)) in samples.iter().enumerate() {
            l.record(v, *ms, 100.0 + i as f64 * 0.1);
        }
        l
    }

    #[test]
    fn cache_summary_compares_medians() {
        let role = CacheRole {
            header: 0,
            hit: vec!["HIT".into()],
            miss: vec!["MISS".into()],
        };
        let l = labels(&[("HIT", 1.0), ("hit", 1.0), ("MISS", 6.0), ("other", 50.0)]);
        let s = role.summarize(Some(&l));
        assert_eq!((s.hits, s.misses), (2, 1));
        assert_eq!(s.hit_ratio, Some(2.0 / 3.0));
        assert_eq!(s.speedup, Some(6.0));
        assert_eq!(role.window(Some(&l), 100, 101).0, Some(2.0 / 3.0));
        let none = role.summarize(None);
        assert_eq!((none.hit_ratio, none.speedup), (None, None));
    }

    #[test]
    fn balance_deviation_from_an_even_share() {
        let l = labels(&[("c", 1.0), ("a", 1.0), ("a", 1.0), ("b", 1.0)]);
        let b = balance(Some(&l), None);
        assert_eq!(b.total, 4);
        let ids: Vec<&str> = b.instances.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"], "by id, not first seen");
        assert_eq!(b.instances[0].share, 0.5);
        assert!((b.max_deviation.unwrap() - 0.5).abs() < 1e-9);
        // An expected instance that never answered is a 100 % deviation.
        let even = labels(&[("a", 1.0), ("b", 1.0)]);
        assert_eq!(balance(Some(&even), Some(3)).max_deviation, Some(1.0));
        assert_eq!(balance(Some(&even), None).max_deviation, Some(0.0));
        assert_eq!(balance(None, None).max_deviation, None);
        assert_eq!(window_shares(Some(&even), 100, 101).len(), 2);
    }
}
