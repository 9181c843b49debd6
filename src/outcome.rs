//! What a finished run hands to everything after it: why it ended, its open-model
//! figures, the summary of an `all` phase, and which label index is which response
//! header. Plain data, below the session that produces it and the criteria, reports
//! and sinks that read it.

use locust_engine::ArrivalCounts;
use locust_stats::Stats;

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
    /// Not ended: a report asked for while the test runs.
    StillRunning,
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
