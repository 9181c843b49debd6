//! Response-header labels (`X-Cache`, `X-Instance-ID`, ...): per configured header, the
//! responses counted per value, with an HDR latency histogram and per-second counts.
//! Bounded: at most [`MAX_LABEL_VALUES`] values per header (the rest go to
//! [`OTHER_LABEL`]), values cut to [`MAX_LABEL_LEN`] bytes; repeats allocate nothing.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::percentile::{new_histogram, percentile_ms, record_ms};

/// Distinct values kept per header; more go to [`OTHER_LABEL`].
pub const MAX_LABEL_VALUES: usize = 32;
/// Longest value kept (bytes, cut at a character boundary).
pub const MAX_LABEL_LEN: usize = 128;
/// Where values beyond [`MAX_LABEL_VALUES`] are counted.
pub const OTHER_LABEL: &str = "(other)";
/// Most recent epoch seconds kept per value: the run's history holds the long series.
pub const LABEL_SECONDS_KEPT: usize = 120;

/// Responses with one header value in one epoch second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SecondCount {
    pub count: u64,
    /// Sum of response times (ms) of those responses.
    pub total_ms: f64,
}

/// Responses that carried one value of a header.
#[derive(Clone, Debug)]
pub struct LabelValue {
    pub value: String,
    pub count: u64,
    /// Sum of response times (ms).
    pub total_ms: f64,
    /// Response times in microseconds.
    pub histogram: Histogram<u64>,
    /// Responses per epoch second (request end), the last [`LABEL_SECONDS_KEPT`].
    pub per_sec: BTreeMap<i64, SecondCount>,
}

impl LabelValue {
    /// A value with no responses yet (what a peer's report is read into).
    pub fn empty(value: &str) -> Self {
        Self::new(clip_label(value))
    }

    fn new(value: &str) -> Self {
        LabelValue {
            value: value.to_owned(),
            count: 0,
            total_ms: 0.0,
            histogram: new_histogram(),
            per_sec: BTreeMap::new(),
        }
    }

    fn record(&mut self, ms: f64, now: f64) {
        self.count += 1;
        self.total_ms += ms;
        record_ms(&mut self.histogram, ms);
        let slot = self.per_sec.entry(now.floor() as i64).or_default();
        slot.count += 1;
        slot.total_ms += ms;
        trim(&mut self.per_sec);
    }

    fn add(&mut self, other: &LabelValue) {
        self.count += other.count;
        self.total_ms += other.total_ms;
        // Auto-resizing histograms: `add` cannot fail.
        let _ = self.histogram.add(&other.histogram);
        for (&second, slot) in &other.per_sec {
            let into = self.per_sec.entry(second).or_default();
            into.count += slot.count;
            into.total_ms += slot.total_ms;
        }
        trim(&mut self.per_sec);
    }

    fn zero(&mut self) {
        self.count = 0;
        self.total_ms = 0.0;
        self.histogram.reset();
        self.per_sec.clear();
    }

    /// Mean response time (ms), None without responses.
    pub fn avg_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total_ms / self.count as f64)
    }

    /// Percentile `p` (0..=1) of the response times (ms), None without responses.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        (!self.histogram.is_empty()).then(|| percentile_ms(&self.histogram, p, None))
    }

    /// (responses, summed ms) over the epoch seconds `from..to`.
    pub fn window(&self, from: i64, to: i64) -> SecondCount {
        let mut sum = SecondCount::default();
        if from < to {
            for slot in self.per_sec.range(from..to).map(|(_, s)| s) {
                sum.count += slot.count;
                sum.total_ms += slot.total_ms;
            }
        }
        sum
    }
}

pub(crate) fn trim(map: &mut BTreeMap<i64, SecondCount>) {
    while map.len() > LABEL_SECONDS_KEPT {
        map.pop_first();
    }
}

/// A value as stored: cut to [`MAX_LABEL_LEN`] bytes at a character boundary.
pub fn clip_label(value: &str) -> &str {
    if value.len() <= MAX_LABEL_LEN {
        return value;
    }
    let mut end = MAX_LABEL_LEN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// The values seen for one header, in first-seen order.
#[derive(Clone, Debug, Default)]
pub struct HeaderLabels {
    values: Vec<LabelValue>,
}

impl HeaderLabels {
    /// The slot for `value` (already clipped): found, new, or [`OTHER_LABEL`] when full.
    fn slot(&mut self, value: &str) -> &mut LabelValue {
        let index = match self.values.iter().position(|v| v.value == value) {
            Some(i) => i,
            None if self.values.len() < MAX_LABEL_VALUES => {
                self.values.push(LabelValue::new(value));
                self.values.len() - 1
            }
            None => match self.values.iter().position(|v| v.value == OTHER_LABEL) {
                Some(i) => i,
                None => {
                    self.values.push(LabelValue::new(OTHER_LABEL));
                    self.values.len() - 1
                }
            },
        };
        &mut self.values[index]
    }

    /// Count one response carrying `value` that took `ms` and ended at `now`.
    pub fn record(&mut self, value: &str, ms: f64, now: f64) {
        self.slot(clip_label(value)).record(ms, now);
    }

    /// Add another set's counts (value by value, under the same cap).
    pub fn merge(&mut self, other: &HeaderLabels) {
        for value in other.values.iter().filter(|v| v.count > 0) {
            self.slot(&value.value).add(value);
        }
    }

    /// Zero every count, keeping the values (and their memory) for the next records.
    pub(crate) fn zero(&mut self) {
        for value in &mut self.values {
            value.zero();
        }
    }

    /// Values with at least one response, in first-seen order.
    pub fn values(&self) -> impl Iterator<Item = &LabelValue> {
        self.values.iter().filter(|v| v.count > 0)
    }

    /// The value `value`, if it was seen.
    pub fn get(&self, value: &str) -> Option<&LabelValue> {
        self.values().find(|v| v.value == value)
    }

    /// Responses that carried this header.
    pub fn total(&self) -> u64 {
        self.values.iter().map(|v| v.count).sum()
    }
}

/// Labels of every configured header, by the header's index in the configuration.
#[derive(Clone, Debug, Default)]
pub struct LabelSet {
    headers: Vec<HeaderLabels>,
}

impl LabelSet {
    /// Count one response whose header number `header` had `value`.
    pub fn record(&mut self, header: usize, value: &str, ms: f64, now: f64) {
        if header >= self.headers.len() {
            self.headers.resize_with(header + 1, HeaderLabels::default);
        }
        self.headers[header].record(value, ms, now);
    }

    /// Add `other`'s counts into these, then zero `other` (a shard's drain).
    pub(crate) fn drain_from(&mut self, other: &mut LabelSet) {
        for (index, labels) in other.headers.iter_mut().enumerate() {
            if labels.total() == 0 {
                continue;
            }
            if index >= self.headers.len() {
                self.headers.resize_with(index + 1, HeaderLabels::default);
            }
            self.headers[index].merge(labels);
            labels.zero();
        }
    }

    /// Add one value's counts to header number `header`.
    pub fn add_value(&mut self, header: usize, value: &LabelValue) {
        if header >= self.headers.len() {
            self.headers.resize_with(header + 1, HeaderLabels::default);
        }
        self.headers[header].slot(&value.value).add(value);
    }

    /// Add another set's counts.
    pub fn merge(&mut self, other: &LabelSet) {
        for (index, labels) in other.headers.iter().enumerate() {
            if index >= self.headers.len() {
                self.headers.resize_with(index + 1, HeaderLabels::default);
            }
            self.headers[index].merge(labels);
        }
    }

    /// Zero everything, keeping memory (shards) .
    pub(crate) fn zero(&mut self) {
        for labels in &mut self.headers {
            labels.zero();
        }
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.headers.clear();
    }

    /// The labels of header number `header` (empty when nothing was recorded).
    pub fn header(&self, header: usize) -> Option<&HeaderLabels> {
        self.headers.get(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_counted_with_latency_and_seconds() {
        let mut set = LabelSet::default();
        set.record(1, "HIT", 1.0, 100.2);
        set.record(1, "HIT", 3.0, 100.7);
        set.record(1, "MISS", 10.0, 101.1);
        let cache = set.header(1).unwrap();
        let hit = cache.get("HIT").unwrap();
        assert_eq!((hit.count, hit.avg_ms()), (2, Some(2.0)));
        assert_eq!(hit.per_sec[&100].count, 2);
        assert_eq!(cache.get("MISS").unwrap().percentile_ms(0.5), Some(10.0));
        assert_eq!(cache.total(), 3);
        assert_eq!(set.header(0).map(HeaderLabels::total), Some(0));
        assert_eq!(hit.window(100, 101).count, 2);
        assert_eq!(hit.window(101, 100).count, 0);
    }

    #[test]
    fn distinct_values_are_capped_and_long_values_clipped() {
        let mut labels = HeaderLabels::default();
        for i in 0..100 {
            labels.record(&format!("instance-{i}"), 1.0, 1.0);
        }
        assert_eq!(labels.values().count(), MAX_LABEL_VALUES + 1);
        assert_eq!(labels.get(OTHER_LABEL).unwrap().count, 100 - 32);
        let long = "é".repeat(200);
        assert!(clip_label(&long).len() <= MAX_LABEL_LEN);
        assert!(clip_label(&long).chars().all(|c| c == 'é'));
    }

    #[test]
    fn drain_moves_counts_and_keeps_shard_values() {
        let mut shard = LabelSet::default();
        shard.record(0, "app1", 2.0, 5.0);
        let mut total = LabelSet::default();
        total.drain_from(&mut shard);
        total.drain_from(&mut shard);
        assert_eq!(total.header(0).unwrap().get("app1").unwrap().count, 1);
        assert_eq!(shard.header(0).unwrap().total(), 0);
        assert_eq!(
            shard.headers[0].values.len(),
            1,
            "kept for allocation-free repeats"
        );
    }

    #[test]
    fn per_second_counts_are_bounded() {
        let mut labels = HeaderLabels::default();
        for s in 0..(LABEL_SECONDS_KEPT as i64 + 50) {
            labels.record("a", 1.0, s as f64);
        }
        let a = labels.get("a").unwrap();
        assert_eq!(a.per_sec.len(), LABEL_SECONDS_KEPT);
        assert_eq!(a.count, LABEL_SECONDS_KEPT as u64 + 50);
    }
}
