//! The merged aggregate (Locust's RequestStats): entries in creation order, the
//! Aggregated total, errors and exceptions. Filled by draining a `Recorder` on a timer
//! (`absorb`) or by merging other aggregates (workers); owns the rate rules of §2.3.

use std::ops::AddAssign;

use hashbrown::HashMap;

use crate::entry::StatsEntry;
use crate::error::{ExceptionRecord, StatsError};
use crate::labels::LabelSet;
use crate::recorder::{PairRef, Recorder, LOCAL_NODE};

/// Which req/s and failures/s a table shows (§2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rates {
    /// Windowed rates of the periodic table (up to 10 s, skipping the last 2).
    Current,
    /// Whole-run rates of the final table: count ÷ (last request − start).
    Total,
}

/// All request statistics of a run.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Entries in creation order (the JSON order); `index` maps (method, name) to them.
    entries: Vec<StatsEntry>,
    index: HashMap<(String, String), usize>,
    /// The Aggregated entry (merged from deltas, never recomputed from the entries).
    total: StatsEntry,
    /// Errors in first-seen order (the console order); `error_index` maps SHA-256 keys.
    errors: Vec<StatsError>,
    error_index: HashMap<String, usize>,
    /// Task exceptions in first-seen order, indexed by traceback text.
    exceptions: Vec<ExceptionRecord>,
    exception_index: HashMap<String, usize>,
    /// Keep current-percentile snapshots for every entry, not only the total.
    full_history: bool,
    /// Response-header labels (cache, instance), by configured header index.
    labels: LabelSet,
}

impl Stats {
    /// Empty statistics started at `start_time` (epoch seconds). `full_history` keeps
    /// current-percentile snapshots per entry (for `--csv-full-history`).
    pub fn new(start_time: f64, full_history: bool) -> Self {
        let mut total = StatsEntry::new("Aggregated", "", start_time);
        total.keep_snapshots(true);
        Stats {
            entries: Vec::new(),
            index: HashMap::new(),
            total,
            errors: Vec::new(),
            error_index: HashMap::new(),
            exceptions: Vec::new(),
            exception_index: HashMap::new(),
            full_history,
            labels: LabelSet::default(),
        }
    }

    /// Drain every shard's deltas into these statistics (the shards are left reset).
    /// Entries and errors new in this pass are ordered by their first request.
    pub fn absorb(&mut self, recorder: &Recorder) {
        let first_new = self.entries.len();
        let mut errors = Vec::new();
        recorder.drain_each(|shard| {
            for delta in shard.entries.iter_mut().filter(|e| !e.is_empty()) {
                self.merge_entry(delta);
                delta.reset(0.0);
            }
            if !shard.total.is_empty() {
                self.merge_total(&shard.total);
                shard.total.reset(0.0);
            }
            shard.take_errors(&mut errors);
            for (msg, traceback) in shard.exceptions.drain(..) {
                self.log_exception(LOCAL_NODE, &msg, &traceback);
            }
            self.labels.drain_from(&mut shard.labels);
        });
        if self.entries.len() > first_new + 1 {
            self.entries[first_new..].sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
            for (i, e) in self.entries.iter().enumerate().skip(first_new) {
                self.index.insert((e.method.clone(), e.name.clone()), i);
            }
        }
        errors.sort_by(|a, b| {
            a.first_seen
                .unwrap_or(0.0)
                .total_cmp(&b.first_seen.unwrap_or(0.0))
        });
        for e in &errors {
            self.merge_error(e);
        }
    }

    /// Add one entry's delta (e.g. a worker's) to the entry of the same (name, method).
    /// The total is not touched: merge the sender's total with [`Stats::merge_total`].
    pub fn merge_entry(&mut self, delta: &StatsEntry) {
        let idx = match self.index.get(&PairRef(&delta.method, &delta.name)) {
            Some(&i) => i,
            None => {
                let mut e = StatsEntry::new(&delta.name, &delta.method, delta.start_time);
                e.keep_snapshots(self.full_history);
                self.entries.push(e);
                let i = self.entries.len() - 1;
                self.index
                    .insert((delta.method.clone(), delta.name.clone()), i);
                i
            }
        };
        self.entries[idx] += delta;
    }

    /// Add a delta to the Aggregated entry.
    pub fn merge_total(&mut self, delta: &StatsEntry) {
        self.total += delta;
    }

    /// Add occurrences of an error (merged by its SHA-256 key; new ones go last).
    pub fn merge_error(&mut self, error: &StatsError) {
        let key = error.key();
        match self.error_index.get(&key) {
            Some(&i) => self.errors[i].merge(error),
            None => {
                self.errors.push(error.clone());
                self.error_index.insert(key, self.errors.len() - 1);
            }
        }
    }

    /// Count a task exception raised on `node` (grouped by traceback text).
    pub fn log_exception(&mut self, node: &str, msg: &str, traceback: &str) {
        self.merge_exception(&ExceptionRecord {
            count: 1,
            msg: msg.to_owned(),
            traceback: traceback.to_owned(),
            nodes: vec![node.to_owned()],
        });
    }

    fn merge_exception(&mut self, exc: &ExceptionRecord) {
        match self.exception_index.get(&exc.traceback) {
            Some(&i) => {
                let row = &mut self.exceptions[i];
                row.count += exc.count;
                for node in &exc.nodes {
                    if !row.nodes.contains(node) {
                        row.nodes.push(node.clone());
                    }
                }
            }
            None => {
                self.exceptions.push(exc.clone());
                self.exception_index
                    .insert(exc.traceback.clone(), self.exceptions.len() - 1);
            }
        }
    }

    /// Locust's `reset_all` for `--reset-stats`: entries stay (zeroed), errors go,
    /// the start time becomes `now`. Exceptions are kept (see [`Stats::clear_exceptions`]).
    pub fn reset(&mut self, now: f64) {
        for e in &mut self.entries {
            e.reset(now);
        }
        self.total.reset(now);
        self.errors.clear();
        self.error_index.clear();
        self.labels.clear();
    }

    /// Forget the task exceptions (the web UI's reset does this).
    pub fn clear_exceptions(&mut self) {
        self.exceptions.clear();
        self.exception_index.clear();
    }

    /// Take this second's current-percentile snapshot; call once per second.
    pub fn tick(&mut self, now: f64) {
        self.total.snapshot(now);
        if self.full_history {
            for e in &mut self.entries {
                e.snapshot(now);
            }
        }
    }

    /// Whether every entry keeps current-percentile snapshots.
    pub fn full_history(&self) -> bool {
        self.full_history
    }

    /// When the statistics were created or last reset (epoch seconds).
    pub fn start_time(&self) -> f64 {
        self.total.start_time
    }

    /// End time of the latest request (epoch seconds).
    pub fn last_request_timestamp(&self) -> Option<f64> {
        self.total.last_request_timestamp
    }

    /// Entries in creation order.
    pub fn entries(&self) -> &[StatsEntry] {
        &self.entries
    }

    /// Entries sorted by (name, method), the order of every table and CSV file.
    pub fn sorted_entries(&self) -> Vec<&StatsEntry> {
        let mut sorted: Vec<&StatsEntry> = self.entries.iter().collect();
        sorted.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
        sorted
    }

    /// The entry of (method, name), if any request was recorded for it.
    pub fn entry(&self, method: &str, name: &str) -> Option<&StatsEntry> {
        self.index
            .get(&PairRef(method, name))
            .and_then(|&i| self.entries.get(i))
    }

    /// The Aggregated entry.
    pub fn total(&self) -> &StatsEntry {
        &self.total
    }

    /// Errors in the order they were first seen (the console order).
    pub fn errors(&self) -> &[StatsError] {
        &self.errors
    }

    /// Errors with their SHA-256 keys, sorted by key (the `_failures.csv` order).
    pub fn errors_by_key(&self) -> Vec<(String, &StatsError)> {
        let mut keyed: Vec<(String, &StatsError)> =
            self.errors.iter().map(|e| (e.key(), e)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed
    }

    /// Adds a peer's labels (a worker's report).
    pub fn merge_labels(&mut self, other: &LabelSet) {
        self.labels.merge(other);
    }

    /// Response-header labels, by configured header index.
    pub fn labels(&self) -> &LabelSet {
        &self.labels
    }

    /// Task exceptions in first-seen order.
    pub fn exceptions(&self) -> &[ExceptionRecord] {
        &self.exceptions
    }

    /// (req/s, failures/s) of `entry` under the given rule.
    pub fn rates(&self, entry: &StatsEntry, rates: Rates) -> (f64, f64) {
        match rates {
            Rates::Current => (self.current_rps(entry), self.current_fail_per_sec(entry)),
            Rates::Total => (self.total_rps(entry), self.total_fail_per_sec(entry)),
        }
    }

    /// Current req/s: the mean of the per-second counts over the whole seconds from
    /// `max(last−12, start)` up to but not including `last−2` (times of the total).
    pub fn current_rps(&self, entry: &StatsEntry) -> f64 {
        self.current_rate(&entry.num_reqs_per_sec)
    }

    /// Current failures/s (same window as [`Stats::current_rps`]).
    pub fn current_fail_per_sec(&self, entry: &StatsEntry) -> f64 {
        self.current_rate(&entry.num_fail_per_sec)
    }

    /// Total req/s: requests ÷ (last request − start) of the total; 0 when undefined.
    pub fn total_rps(&self, entry: &StatsEntry) -> f64 {
        self.total_rate(entry.num_requests)
    }

    /// Total failures/s.
    pub fn total_fail_per_sec(&self, entry: &StatsEntry) -> f64 {
        self.total_rate(entry.num_failures)
    }

    fn current_rate(&self, per_sec: &std::collections::BTreeMap<i64, u64>) -> f64 {
        let Some(last) = self.total.last_request_timestamp else {
            return 0.0;
        };
        // Python's int() truncates toward zero.
        let last = last.trunc() as i64;
        let from = (last - 12).max(self.total.start_time.trunc() as i64);
        let to = last - 2;
        if to <= from {
            return 0.0;
        }
        let sum: u64 = per_sec.range(from..to).map(|(_, n)| n).sum();
        sum as f64 / (to - from) as f64
    }

    fn total_rate(&self, count: u64) -> f64 {
        let start = self.total.start_time;
        match self.total.last_request_timestamp {
            Some(last) if last != 0.0 && start != 0.0 && last != start => {
                count as f64 / (last - start)
            }
            _ => 0.0,
        }
    }
}

impl AddAssign<&Stats> for Stats {
    /// Merge another aggregate: entries by (name, method), total into total, errors
    /// by key, exceptions by traceback.
    fn add_assign(&mut self, other: &Stats) {
        for e in &other.entries {
            self.merge_entry(e);
        }
        self.merge_total(&other.total);
        for e in &other.errors {
            self.merge_error(e);
        }
        for e in &other.exceptions {
            self.merge_exception(e);
        }
        self.labels.merge(&other.labels);
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
