//! The typed run specification: everything the load itself needs — host, users and
//! rate (or stages, or an arrival rate), run time, stop timeout, iterations, the HTTP
//! client's options and the labelled headers — and nothing about outputs or the command
//! line. A session starts from it; a master could send it to a worker.

use std::time::Duration;

use locust_engine::http::HttpOptions;
use locust_engine::Stage;

use super::arrival::Arrival;

#[derive(Debug, Clone)]
pub struct RunSpec {
    /// `-H`; None: each class's own host.
    pub host: Option<String>,
    pub users: u64,
    pub spawn_rate: f64,
    /// A profile's `[[profiles.NAME.stages]]`: the run follows them instead of -u/-r.
    pub stages: Option<Vec<Stage>>,
    /// `--arrival-rate`/`--max-pool`: the open model instead of -u/-r.
    pub arrival: Option<Arrival>,
    pub run_time: Option<Duration>,
    pub stop_timeout: Duration,
    /// `-i`: task iterations in all, then the run ends.
    pub iterations: Option<u64>,
    /// `--reset-stats`: the figures start again when a ramp completes.
    pub reset_stats: bool,
    pub http: HttpOptions,
    /// The response headers counted as labels, in label-index order (cache, instance).
    pub label_headers: [String; 2],
}

/// Where and how the figures are written: console, CSV, `--json`, reports.
#[derive(Debug, Clone, Default)]
pub struct OutputSettings {
    pub csv_prefix: Option<String>,
    pub csv_full_history: bool,
    pub only_summary: bool,
    /// Periodic tables in UI mode (`--print-stats`).
    pub print_stats: bool,
    pub json: bool,
    pub json_file: Option<String>,
    /// `--html FILE` ({u}, {r}, {t} not yet substituted).
    pub html: Option<String>,
    /// `--report-json FILE`: the versioned result.
    pub report_json: Option<String>,
}
