//! The hot path: a sharded recorder that request tasks write into directly (no message
//! per request). Each shard is a briefly-locked mutex holding *deltas* since the last
//! drain; `Stats::absorb` drains them. Repeat records allocate nothing.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::sync::lock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hashbrown::{Equivalent, HashMap};

use crate::entry::StatsEntry;
use crate::error::{max_opt, min_opt, StatsError};
use crate::labels::LabelSet;

/// Node name of exceptions recorded in this process (Locust's standalone `local`).
pub const LOCAL_NODE: &str = "local";

/// Seconds since the Unix epoch as a float, like Python's `time.time()`.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Borrowed (method, name) key: hashes like `(String, String)` without allocating.
/// (Deliberately not `Eq`, so it can implement `Equivalent` itself.)
pub(crate) struct PairRef<'a>(pub(crate) &'a str, pub(crate) &'a str);

impl Hash for PairRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl Equivalent<(String, String)> for PairRef<'_> {
    fn equivalent(&self, key: &(String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// Borrowed (method, name, error) key for the shard's error counts.
struct TripleRef<'a>(&'a str, &'a str, &'a str);

impl Hash for TripleRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
        self.1.hash(state);
        self.2.hash(state);
    }
}

impl Equivalent<(String, String, String)> for TripleRef<'_> {
    fn equivalent(&self, key: &(String, String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

/// Error occurrences since the last drain (the key stays to keep repeats allocation-free).
#[derive(Clone, Copy, Debug, Default)]
struct ErrorDelta {
    occurrences: u64,
    first_seen: Option<f64>,
    last_seen: Option<f64>,
}

/// Deltas recorded by one shard since its last drain.
#[derive(Debug)]
pub(crate) struct ShardData {
    index: HashMap<(String, String), usize>,
    pub(crate) entries: Vec<StatsEntry>,
    pub(crate) total: StatsEntry,
    errors: HashMap<(String, String, String), ErrorDelta>,
    pub(crate) exceptions: Vec<(String, String)>,
    /// Response-header labels since the last drain (values kept, counts zeroed).
    pub(crate) labels: LabelSet,
}

impl ShardData {
    fn new() -> Self {
        ShardData {
            index: HashMap::new(),
            entries: Vec::new(),
            total: StatsEntry::new("Aggregated", "", 0.0),
            errors: HashMap::new(),
            exceptions: Vec::new(),
            labels: LabelSet::default(),
        }
    }

    fn entry_index(&mut self, method: &str, name: &str, now: f64) -> usize {
        match self.index.get(&PairRef(method, name)) {
            Some(&i) => i,
            None => {
                self.entries.push(StatsEntry::new(name, method, now));
                let i = self.entries.len() - 1;
                self.index.insert((method.to_owned(), name.to_owned()), i);
                i
            }
        }
    }

    fn record(
        &mut self,
        method: &str,
        name: &str,
        rt: Option<f64>,
        len: u64,
        err: Option<&str>,
        now: f64,
    ) {
        let idx = self.entry_index(method, name, now);
        log_into(&mut self.entries[idx], rt, len, err.is_some(), now);
        log_into(&mut self.total, rt, len, err.is_some(), now);
        if let Some(error) = err {
            let delta = match self.errors.get_mut(&TripleRef(method, name, error)) {
                Some(d) => d,
                None => self
                    .errors
                    .entry((method.to_owned(), name.to_owned(), error.to_owned()))
                    .or_default(),
            };
            delta.occurrences += 1;
            delta.first_seen = min_opt(delta.first_seen, Some(now));
            delta.last_seen = max_opt(delta.last_seen, Some(now));
        }
    }

    /// Take the error deltas out (zeroing them, keeping their keys).
    pub(crate) fn take_errors(&mut self, out: &mut Vec<StatsError>) {
        for ((method, name, error), delta) in self.errors.iter_mut() {
            if delta.occurrences == 0 {
                continue;
            }
            out.push(StatsError {
                method: method.clone(),
                name: name.clone(),
                error: error.clone(),
                occurrences: delta.occurrences,
                first_seen: delta.first_seen,
                last_seen: delta.last_seen,
            });
            *delta = ErrorDelta::default();
        }
    }

    fn clear(&mut self) {
        for e in &mut self.entries {
            e.reset(0.0);
        }
        self.total.reset(0.0);
        for d in self.errors.values_mut() {
            *d = ErrorDelta::default();
        }
        self.exceptions.clear();
        self.labels.zero();
    }
}

fn log_into(e: &mut StatsEntry, rt: Option<f64>, len: u64, failed: bool, now: f64) {
    if e.is_empty() {
        // A fresh delta starts at its first request (merge keeps the earliest).
        e.start_time = now;
    }
    e.log(rt, len, now);
    if failed {
        e.log_error(now);
    }
}

/// Sharded request recorder: cheap to clone, shared by every request task.
#[derive(Clone, Debug)]
pub struct Recorder {
    shards: Arc<[Mutex<ShardData>]>,
}

impl Recorder {
    /// A recorder with `shards` independently locked shards (at least 1).
    pub fn new(shards: usize) -> Self {
        let shards: Vec<Mutex<ShardData>> = (0..shards.max(1))
            .map(|_| Mutex::new(ShardData::new()))
            .collect();
        Recorder {
            shards: shards.into(),
        }
    }

    /// A handle writing into shard `index % shards` (give each worker/user its own index).
    pub fn handle(&self, index: usize) -> RecordHandle {
        RecordHandle {
            shards: Arc::clone(&self.shards),
            shard: index % self.shards.len(),
        }
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Drop every undrained delta (for `--reset-stats`, together with `Stats::reset`).
    pub fn reset(&self) {
        for shard in self.shards.iter() {
            lock(shard).clear();
        }
    }

    /// Lock each shard in turn and hand its deltas to `f` (which must leave them reset).
    pub(crate) fn drain_each(&self, mut f: impl FnMut(&mut ShardData)) {
        for shard in self.shards.iter() {
            f(&mut lock(shard));
        }
    }
}

/// A writer into one shard of a [`Recorder`]; cheap to clone, `Send + Sync`.
#[derive(Clone, Debug)]
pub struct RecordHandle {
    shards: Arc<[Mutex<ShardData>]>,
    shard: usize,
}

impl RecordHandle {
    /// Record a request that ended now. `error` is Locust's error string (§6.6); a
    /// failed request still counts as a request and records its time.
    pub fn record(
        &self,
        method: &str,
        name: &str,
        response_time: Duration,
        content_length: u64,
        error: Option<&str>,
    ) {
        let ms = response_time.as_nanos() as f64 / 1e6;
        self.record_at(method, name, Some(ms), content_length, error, epoch_now());
    }

    /// Record a request with an explicit response time (ms; None = not timed) and end
    /// time (epoch seconds).
    pub fn record_at(
        &self,
        method: &str,
        name: &str,
        response_time_ms: Option<f64>,
        content_length: u64,
        error: Option<&str>,
        now: f64,
    ) {
        if let Some(shard) = self.shards.get(self.shard) {
            lock(shard).record(method, name, response_time_ms, content_length, error, now);
        }
    }

    /// Record the labelled response headers of one answered request: `(header index,
    /// value)` pairs, each counted with the response time. One lock for all of them;
    /// repeats of known values allocate nothing.
    pub fn record_labels<'a>(
        &self,
        labels: impl IntoIterator<Item = (usize, &'a str)>,
        response_time: Duration,
    ) {
        let ms = response_time.as_nanos() as f64 / 1e6;
        self.record_labels_at(labels, ms, epoch_now());
    }

    /// As [`RecordHandle::record_labels`], with the time (ms) and end time given.
    pub fn record_labels_at<'a>(
        &self,
        labels: impl IntoIterator<Item = (usize, &'a str)>,
        response_time_ms: f64,
        now: f64,
    ) {
        let mut labels = labels.into_iter().peekable();
        if labels.peek().is_none() {
            return;
        }
        if let Some(shard) = self.shards.get(self.shard) {
            let mut shard = lock(shard);
            for (header, value) in labels {
                shard.labels.record(header, value, response_time_ms, now);
            }
        }
    }

    /// Record an exception raised by a task (§3.6), node `local`.
    pub fn record_exception(&self, message: &str, traceback: &str) {
        if let Some(shard) = self.shards.get(self.shard) {
            lock(shard)
                .exceptions
                .push((message.to_owned(), traceback.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_and_handles_are_shareable() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Recorder>();
        shareable::<RecordHandle>();
    }

    #[test]
    fn handles_pick_shards_modulo() {
        let r = Recorder::new(3);
        assert_eq!(r.handle(4).shard, 1);
        assert_eq!(Recorder::new(0).shard_count(), 1);
    }

    #[test]
    fn repeat_records_reuse_the_entry_and_histogram() {
        let r = Recorder::new(1);
        let h = r.handle(0);
        for i in 0..1000 {
            h.record_at("GET", "/a", Some((i % 50) as f64), 1, Some("boom"), 100.5);
        }
        let before = {
            let s = lock(&r.shards[0]);
            (
                s.entries.len(),
                s.entries[0].histogram.distinct_values(),
                s.errors.len(),
            )
        };
        for i in 0..100_000 {
            h.record_at("GET", "/a", Some((i % 50) as f64), 1, Some("boom"), 100.5);
        }
        let s = lock(&r.shards[0]);
        assert_eq!(
            (
                s.entries.len(),
                s.entries[0].histogram.distinct_values(),
                s.errors.len()
            ),
            before
        );
        assert_eq!(s.entries[0].num_requests, 101_000);
        assert_eq!(s.total.num_failures, 101_000);
        assert_eq!(s.entries[0].num_reqs_per_sec.len(), 1);
    }
}
