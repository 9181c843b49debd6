//! What a finished run hands to everything after it: why it ended, its open-model
//! figures, the summary of an `all` phase, and which label index is which response
//! header. Plain data, below the session that produces it and the criteria, reports
//! and sinks that read it.

use locust_engine::ArrivalCounts;
use locust_stats::{History, Stats};

/// Label index of the cache header (the instance header is 1): see `label_headers`.
pub const CACHE_LABEL: usize = 0;
pub const INSTANCE_LABEL: usize = 1;

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    RunTime,
    Interrupt,
    Terminate,
    Iterations,
    /// The profile's last stage ended.
    ShapeDone,
    /// Stopped from the web UI (its Stop button, `/stop`, or its run time).
    Stopped,
    /// A master's last worker quit or went missing while the test ran.
    WorkersGone,
    /// Not ended: a report asked for while the test runs.
    StillRunning,
    /// An `abort` criterion (its index among the run's criteria) failed while the run
    /// went, this many whole seconds into it.
    Aborted {
        criterion: usize,
        after_secs: u64,
    },
}

/// The aggregated figures of a run, for the `all` index.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub requests: u64,
    pub failures: u64,
    pub avg_ms: f64,
    pub p95_ms: f64,
    pub rps: f64,
    pub seconds: f64,
}

/// The open model's figures for the summary, the JSON result and the HTML report.
pub struct OpenResult {
    pub arrival_rate: f64,
    pub max_pool: usize,
    pub counts: ArrivalCounts,
    /// Same request names as the main stats; times from the intended start.
    pub corrected: Stats,
}

impl OpenResult {
    /// What the corrected tables cover, said under them: every intended start, the
    /// dropped ones as untimed failures.
    pub fn coverage(&self) -> String {
        let ArrivalCounts {
            started, dropped, ..
        } = self.counts;
        if dropped == 0 {
            return format!(
                "The corrected table covers all {started} intended starts: none was dropped."
            );
        }
        format!(
            "The corrected table covers all {} intended starts: {started} ran and are timed from \
             their intended start; {dropped} were dropped and count as failures in the row \
             \"{} {}\", without a time, so its error rate includes them and its percentiles \
             cover the iterations that ran.",
            started + dropped,
            locust_engine::DROPPED_METHOD,
            locust_engine::DROPPED_NAME,
        )
    }
}

/// A run that ended: its final figures and chart history, the open model's figures,
/// why and when. Every output of a run is written from it.
pub struct Finished {
    pub stats: Stats,
    pub history: History,
    pub open: Option<OpenResult>,
    pub reason: StopReason,
    pub start: f64,
    pub end: f64,
}

impl Finished {
    /// The aggregated figures, for the index of `all`'s phases.
    pub fn summary(&self) -> RunSummary {
        let total = self.stats.total();
        RunSummary {
            requests: total.num_requests,
            failures: total.num_failures,
            avg_ms: total.avg_response_time(),
            p95_ms: if total.num_requests > 0 {
                total.percentile_ms(0.95)
            } else {
                0.0
            },
            rps: self.stats.total_rps(total),
            seconds: self.end - self.start,
        }
    }
}
