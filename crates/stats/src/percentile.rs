//! The one histogram path: HDR histograms in microseconds, and every percentile, median
//! and Locust bucket map derived from them. Nothing else computes a percentile.
//! Locust's rank rule (§3.4) is kept: percentile p is the sample of rank floor(n*p)+1.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::rounding::locust_bucket;

/// Significant figures of every latency histogram (0.1% worst-case bucket error).
pub const SIGNIFICANT_FIGURES: u8 = 3;

/// The percentiles Locust reports in its console table and CSV files.
pub const PERCENTILES_TO_REPORT: [f64; 11] = [
    0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0,
];

/// An empty auto-resizing histogram of microseconds: its memory follows the largest
/// value recorded, never the number of samples.
pub fn new_histogram() -> Histogram<u64> {
    match Histogram::new(SIGNIFICANT_FIGURES) {
        Ok(h) => h,
        // Only fails for sigfig > 5; SIGNIFICANT_FIGURES is a constant 3.
        Err(e) => unreachable!("histogram with {SIGNIFICANT_FIGURES} sigfig: {e:?}"),
    }
}

/// Milliseconds (float) to whole microseconds, as recorded in the histograms.
pub fn ms_to_us(ms: f64) -> u64 {
    // `as` saturates: negative and NaN become 0, huge values u64::MAX.
    (ms * 1000.0).round() as u64
}

/// Record one sample (ms) into a histogram of microseconds.
pub fn record_ms(hist: &mut Histogram<u64>, ms: f64) {
    let us = ms_to_us(ms);
    if hist.record(us).is_err() {
        // Only when resizing would overflow usize: clamp instead of losing the sample.
        hist.saturating_record(us);
    }
}

/// Locust's 1-based rank for percentile `p` of `n` samples: `min(floor(n*p) + 1, n)`.
pub fn locust_rank(n: u64, p: f64) -> u64 {
    let k = (n as f64 * p).floor() as u64;
    k.saturating_add(1).min(n)
}

/// The exact smallest and largest samples (ms) of a histogram, when known. They refine
/// the two end buckets: a sample sharing the HDR bucket of the exact min or max is
/// reported as that exact value, so 100% is always Locust's bucket of the true max.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extremes {
    /// Exact minimum (ms).
    pub min: f64,
    /// Exact maximum (ms).
    pub max: f64,
}

/// The ms value standing for the HDR bucket that holds `us`: the exact min/max when that
/// bucket holds them, otherwise the bucket's lowest value (at most 0.1% below a sample,
/// which keeps exact ties such as 2.5 ms on their half-to-even side).
fn bucket_ms(hist: &Histogram<u64>, us: u64, extremes: Option<Extremes>) -> f64 {
    if let Some(x) = extremes {
        if hist.equivalent(us, ms_to_us(x.max)) {
            return x.max;
        }
        if hist.equivalent(us, ms_to_us(x.min)) {
            return x.min;
        }
    }
    hist.lowest_equivalent(us) as f64 / 1000.0
}

/// The sample (ms) of 1-based `rank`, or None when the histogram is empty.
fn value_at_rank_ms(hist: &Histogram<u64>, rank: u64, extremes: Option<Extremes>) -> Option<f64> {
    let mut seen = 0u64;
    let mut last = None;
    for v in hist.iter_recorded() {
        seen += v.count_at_value();
        last = Some(v.value_iterated_to());
        if seen >= rank {
            break;
        }
    }
    last.map(|us| bucket_ms(hist, us, extremes))
}

/// Percentile `p` (0..=1) in ms, before any Locust rounding; 0.0 when empty.
pub fn percentile_ms(hist: &Histogram<u64>, p: f64, extremes: Option<Extremes>) -> f64 {
    let n = hist.len();
    if n == 0 {
        return 0.0;
    }
    value_at_rank_ms(hist, locust_rank(n, p), extremes).unwrap_or(0.0)
}

/// The interval (ms) that holds the true sample of percentile `p`: its HDR bucket, from
/// lowest to highest equivalent value (at most 0.1 % wide), or a single point when the
/// sample is the exact min or max. (0, 0) when empty. Judging against both ends keeps
/// a verdict from passing on the bucket's rounding.
pub fn percentile_bounds_ms(
    hist: &Histogram<u64>,
    p: f64,
    extremes: Option<Extremes>,
) -> (f64, f64) {
    let n = hist.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mut seen = 0u64;
    let mut last = None;
    for v in hist.iter_recorded() {
        seen += v.count_at_value();
        last = Some(v.value_iterated_to());
        if seen >= locust_rank(n, p) {
            break;
        }
    }
    let Some(us) = last else {
        return (0.0, 0.0);
    };
    let low = bucket_ms(hist, us, extremes);
    let exact = extremes.is_some_and(|x| low == x.min || low == x.max);
    if exact {
        return (low, low);
    }
    let high = hist.highest_equivalent(us) as f64 / 1000.0;
    // The exact max caps the bucket: no sample lies above it.
    let high = extremes.map_or(high, |x| high.min(x.max));
    (low, high.max(low))
}

/// Percentile `p` as Locust prints it: the bucketed whole ms (§3.4); 0 when empty.
pub fn locust_percentile(hist: &Histogram<u64>, p: f64, extremes: Option<Extremes>) -> u64 {
    if hist.is_empty() {
        return 0;
    }
    locust_bucket(percentile_ms(hist, p, extremes))
}

/// Locust's wire/JSON `response_times`: bucket ms → count (§3.4, §9.3).
pub fn response_times_map(hist: &Histogram<u64>, extremes: Option<Extremes>) -> BTreeMap<u64, u64> {
    let mut map = BTreeMap::new();
    for v in hist.iter_recorded() {
        let ms = bucket_ms(hist, v.value_iterated_to(), extremes);
        *map.entry(locust_bucket(ms)).or_insert(0) += v.count_at_value();
    }
    map
}

/// Add Locust-style buckets (ms → count, e.g. from a Python worker) to a histogram.
pub fn add_response_times(hist: &mut Histogram<u64>, buckets: &BTreeMap<u64, u64>) {
    for (&ms, &count) in buckets {
        let us = ms.saturating_mul(1000);
        if hist.record_n(us, count).is_err() {
            hist.saturating_record_n(us, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist_of(samples: &[f64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for &s in samples {
            record_ms(&mut h, s);
        }
        h
    }

    #[test]
    fn rank_follows_locust_walk() {
        // Locust: k = int(n*p); the result is the sample of rank k+1, capped at n.
        assert_eq!(locust_rank(4, 0.5), 3);
        assert_eq!(locust_rank(4, 1.0), 4);
        assert_eq!(locust_rank(52, 0.66), 35);
        assert_eq!(locust_rank(85, 0.98), 84);
        assert_eq!(locust_rank(1, 0.5), 1);
    }

    #[test]
    fn percentiles_use_locust_rank_and_buckets() {
        let h = hist_of(&[2.0, 2.2, 3.0, 7.0]);
        assert_eq!(locust_percentile(&h, 0.5, None), 3);
        assert_eq!(locust_percentile(&h, 0.66, None), 3);
        assert_eq!(locust_percentile(&h, 0.75, None), 7);
        assert_eq!(locust_percentile(&h, 1.0, None), 7);
        assert_eq!(percentile_ms(&h, 0.25, None), 2.2);
        assert_eq!(locust_percentile(&new_histogram(), 0.5, None), 0);
        // Ties round half to even after the µs → ms conversion.
        assert_eq!(locust_percentile(&hist_of(&[2.5]), 0.5, None), 2);
        assert_eq!(locust_percentile(&hist_of(&[147.0]), 1.0, None), 150);
    }

    #[test]
    fn exact_extremes_refine_the_end_buckets() {
        // 27.501953 ms shares a 16 µs HDR bucket with 27.488: without the exact max the
        // bucket rounds to 27, Locust (exact sample) says 28.
        let max = 27.501953000012236;
        let h = hist_of(&[1.0, max]);
        assert_eq!(locust_percentile(&h, 1.0, None), 27);
        let x = Some(Extremes { min: 1.0, max });
        assert_eq!(locust_percentile(&h, 1.0, x), 28);
        assert_eq!(percentile_ms(&h, 1.0, x), max);
        assert_eq!(response_times_map(&h, x), [(1, 1), (28, 1)].into());
    }

    #[test]
    fn bucket_map_groups_like_locust() {
        let h = hist_of(&[1.2, 1.4, 2.6, 3.0, 147.0, 3432.0]);
        let map = response_times_map(&h, None);
        let want: BTreeMap<u64, u64> = [(1, 2), (3, 2), (150, 1), (3400, 1)].into();
        assert_eq!(map, want);
        let mut back = new_histogram();
        add_response_times(&mut back, &map);
        assert_eq!(response_times_map(&back, None), want);
    }
}
