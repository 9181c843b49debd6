//! The run's result as one document (`locust-rs/result/v1`): metadata, verdicts, Locust's
//! tables, cache and load-balancer figures, task ratios and the chart history. Built
//! from the final `Stats` and summaries; the JSON file is this document and the HTML
//! report renders it, so both always show the same figures.

use std::collections::BTreeMap;

use locust_stats::{
    BalanceSummary, CacheSummary, History, HistoryPoint, InstanceShare, Rates, Stats, StatsEntry,
};
use serde::Serialize;

use crate::criteria::Verdict;
use crate::task_ratio::ClassShare;

/// The schema name and version of the JSON result.
pub const SCHEMA: &str = "locust-rs/result/v1";

/// Percentiles of the "Response Time Statistics" table (Locust's report columns).
pub const REPORT_PERCENTILES: [f64; 8] = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0];

/// Facts about the run that the statistics do not hold.
pub struct RunFacts {
    pub profile: Option<String>,
    pub description: Option<String>,
    pub host: String,
    pub locustfiles: Vec<String>,
    pub classes: Vec<String>,
    pub users: u64,
    pub spawn_rate: f64,
    pub run_time_limit: Option<u64>,
    pub start: f64,
    pub end: f64,
    pub command_line: String,
    /// `run-time`, `iterations`, `shape-completed`, `SIGINT`, `SIGTERM`, `stopped` (the
    /// web UI), `aborted` (by a criterion) or `running` (a report of a test still going).
    pub stop_reason: &'static str,
    /// The `abort` criterion that stopped the run, as written.
    pub aborted_by: Option<String>,
    pub interrupted: bool,
    pub exit_code: i32,
    pub cache_header: String,
    pub cache_hit: Vec<String>,
    pub cache_miss: Vec<String>,
    pub instance_header: String,
}

#[derive(Debug, Serialize)]
pub struct ResultDoc {
    pub schema: &'static str,
    pub tool: Tool,
    pub run: RunMeta,
    pub verdict: VerdictDoc,
    pub requests: Vec<RequestRow>,
    pub response_times: Vec<PercentileRow>,
    pub failures: Vec<FailureRow>,
    pub exceptions: Vec<ExceptionRow>,
    pub cache: CacheDoc,
    pub balance: BalanceDoc,
    pub tasks: Vec<ClassShare>,
    pub history: HistoryDoc,
    /// `--arrival-rate` runs only: start counts and the corrected latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_model: Option<OpenModelDoc>,
}

/// The open model: `requests` and `response_times` above are timed from the actual
/// send; `corrected_*` hold the same requests timed from each iteration's intended
/// start (wrk2's coordinated-omission correction).
#[derive(Debug, Serialize)]
pub struct OpenModelDoc {
    pub arrival_rate: f64,
    pub max_pool: usize,
    pub started: u64,
    /// Started after waiting for a free user in the pool.
    pub late: u64,
    pub dropped: u64,
    /// Every start the schedule asked for (`started` + `dropped`); the corrected tables
    /// hold each dropped one as a failure of the `ITERATION dropped start` row.
    pub intended: u64,
    /// What the corrected tables cover, in words.
    pub coverage: String,
    pub corrected_requests: Vec<RequestRow>,
    pub corrected_response_times: Vec<PercentileRow>,
}

/// The open-model section of the result.
pub fn open_model_doc(open: &crate::outcome::OpenResult) -> OpenModelDoc {
    let stats = &open.corrected;
    let (requests, response_times) = tables(stats);
    OpenModelDoc {
        arrival_rate: open.arrival_rate,
        max_pool: open.max_pool,
        started: open.counts.started,
        late: open.counts.late,
        dropped: open.counts.dropped,
        intended: open.counts.started + open.counts.dropped,
        coverage: open.coverage(),
        corrected_requests: requests,
        corrected_response_times: response_times,
    }
}

/// Locust's two tables, each with the Aggregated row last.
fn tables(stats: &Stats) -> (Vec<RequestRow>, Vec<PercentileRow>) {
    let entries = stats.sorted_entries();
    let mut requests: Vec<RequestRow> = entries.iter().map(|e| request_row(stats, e)).collect();
    requests.push(request_row(stats, stats.total()));
    let mut response_times: Vec<PercentileRow> =
        entries.iter().map(|e| percentile_row(e)).collect();
    response_times.push(percentile_row(stats.total()));
    (requests, response_times)
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct RunMeta {
    pub profile: Option<String>,
    pub description: Option<String>,
    pub host: String,
    pub locustfiles: Vec<String>,
    pub user_classes: Vec<String>,
    pub users: u64,
    pub spawn_rate: f64,
    pub run_time_limit_s: Option<u64>,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start_time: String,
    pub end_time: String,
    pub duration_s: f64,
    pub duration: String,
    pub command_line: String,
    pub stop_reason: &'static str,
    /// The `abort` criterion that stopped the run (stop_reason `aborted`).
    pub aborted_by: Option<String>,
    pub interrupted: bool,
}

#[derive(Debug, Serialize)]
pub struct VerdictDoc {
    /// `pass`, `fail`, or `none` (no criteria: the exit code follows request failures).
    pub status: &'static str,
    pub exit_code: i32,
    pub passed: usize,
    pub failed: usize,
    pub criteria: Vec<Verdict>,
}

#[derive(Debug, Serialize)]
pub struct RequestRow {
    pub method: String,
    pub name: String,
    pub num_requests: u64,
    pub num_failures: u64,
    pub avg_response_time: f64,
    pub min_response_time: f64,
    pub max_response_time: f64,
    pub median_response_time: f64,
    pub avg_content_length: f64,
    pub rps: f64,
    pub fail_per_sec: f64,
}

#[derive(Debug, Serialize)]
pub struct PercentileRow {
    pub method: String,
    pub name: String,
    /// Percentile (`0.5` ... `1.0`, as text keys) to Locust's bucketed ms, as Locust's
    /// own report has them.
    pub percentiles: BTreeMap<String, u64>,
    /// The same percentiles at HDR precision (ms to the microsecond, within 0.1 % of
    /// the true sample): what the HTML report shows and criteria judge.
    pub exact_ms: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize)]
pub struct FailureRow {
    pub method: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExceptionRow {
    pub count: u64,
    pub message: String,
    pub traceback: String,
    pub nodes: String,
}

/// The cache header and values of the run, then the figures `locust_stats` computed.
#[derive(Debug, Serialize)]
pub struct CacheDoc {
    pub header: String,
    pub hit_values: Vec<String>,
    pub miss_values: Vec<String>,
    /// `speedup` is left out (null) when it is not finite.
    #[serde(flatten)]
    pub summary: CacheSummary,
}

#[derive(Debug, Serialize)]
pub struct BalanceDoc {
    pub header: String,
    pub total: u64,
    pub instances_expected: usize,
    pub max_deviation: Option<f64>,
    pub instances: Vec<InstanceShare>,
}

#[derive(Debug, Serialize)]
pub struct HistoryDoc {
    /// Seconds each point covers (1 until the history had to halve its resolution).
    pub resolution_s: u32,
    /// As `locust_stats` keeps them (see [`HistoryPoint`] for the serialized form).
    pub points: Vec<HistoryPoint>,
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ` of an epoch time.
pub fn iso_utc(epoch: f64) -> String {
    chrono::DateTime::from_timestamp(epoch.floor() as i64, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Locust's duration text: `4 seconds`, `1 minute and 5 seconds`.
pub fn duration_text(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let parts: Vec<String> = [
        (total / 3600, "hour"),
        (total / 60 % 60, "minute"),
        (total % 60, "second"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
    .collect();
    match parts.as_slice() {
        [] => "0 seconds".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn request_row(stats: &Stats, e: &StatsEntry) -> RequestRow {
    let (rps, fail_per_sec) = stats.rates(e, Rates::Total);
    RequestRow {
        method: e.method.clone(),
        name: e.name.clone(),
        num_requests: e.num_requests,
        num_failures: e.num_failures,
        avg_response_time: e.avg_response_time(),
        min_response_time: e.min_response_time.unwrap_or(0.0),
        max_response_time: e.max_response_time,
        median_response_time: e.median().as_f64(),
        avg_content_length: e.avg_content_length().unwrap_or(0.0),
        rps,
        fail_per_sec,
    }
}

fn percentile_row(e: &StatsEntry) -> PercentileRow {
    PercentileRow {
        method: e.method.clone(),
        name: e.name.clone(),
        percentiles: REPORT_PERCENTILES
            .iter()
            .map(|p| (format!("{p}"), e.locust_percentile(*p)))
            .collect(),
        exact_ms: REPORT_PERCENTILES
            .iter()
            .map(|p| {
                (
                    format!("{p}"),
                    (e.percentile_ms(*p) * 1000.0).round() / 1000.0,
                )
            })
            .collect(),
    }
}

/// Everything the reports show, in one document.
pub fn build(
    facts: &RunFacts,
    stats: &Stats,
    history: &History,
    verdicts: Vec<Verdict>,
    cache: &CacheSummary,
    balance: &BalanceSummary,
    tasks: Vec<ClassShare>,
) -> ResultDoc {
    let (requests, response_times) = tables(stats);
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let failed = verdicts.len() - passed;
    ResultDoc {
        schema: SCHEMA,
        tool: Tool {
            name: "locust-rs",
            version: env!("CARGO_PKG_VERSION"),
        },
        run: RunMeta {
            profile: facts.profile.clone(),
            description: facts.description.clone(),
            host: facts.host.clone(),
            locustfiles: facts.locustfiles.clone(),
            user_classes: facts.classes.clone(),
            users: facts.users,
            spawn_rate: facts.spawn_rate,
            run_time_limit_s: facts.run_time_limit,
            start_time: iso_utc(facts.start),
            end_time: iso_utc(facts.end),
            duration_s: (facts.end - facts.start).max(0.0),
            duration: duration_text(facts.end - facts.start),
            command_line: facts.command_line.clone(),
            stop_reason: facts.stop_reason,
            aborted_by: facts.aborted_by.clone(),
            interrupted: facts.interrupted,
        },
        verdict: VerdictDoc {
            status: match (verdicts.is_empty(), failed) {
                (true, _) => "none",
                (false, 0) => "pass",
                (false, _) => "fail",
            },
            exit_code: facts.exit_code,
            passed,
            failed,
            criteria: verdicts,
        },
        requests,
        response_times,
        failures: stats
            .errors()
            .iter()
            .map(|e| FailureRow {
                method: e.method.clone(),
                name: e.name.clone(),
                error: e.error.clone(),
                occurrences: e.occurrences,
                first_seen: e.first_seen.map(iso_utc),
                last_seen: e.last_seen.map(iso_utc),
            })
            .collect(),
        exceptions: stats
            .exceptions()
            .iter()
            .map(|e| ExceptionRow {
                count: e.count,
                message: e.msg.clone(),
                traceback: e.traceback.clone(),
                nodes: e.nodes.join(", "),
            })
            .collect(),
        cache: CacheDoc {
            header: facts.cache_header.clone(),
            hit_values: facts.cache_hit.clone(),
            miss_values: facts.cache_miss.clone(),
            summary: CacheSummary {
                speedup: cache.speedup.filter(|s| s.is_finite()),
                ..cache.clone()
            },
        },
        balance: BalanceDoc {
            header: facts.instance_header.clone(),
            total: balance.total,
            instances_expected: balance.instances_expected,
            max_deviation: balance.max_deviation,
            instances: balance.instances.clone(),
        },
        tasks,
        history: HistoryDoc {
            resolution_s: history.resolution(),
            points: history.points(),
        },
        open_model: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_locust() {
        assert_eq!(duration_text(4.2), "4 seconds");
        assert_eq!(duration_text(65.0), "1 minute and 5 seconds");
        assert_eq!(duration_text(7381.0), "2 hours, 3 minutes and 1 second");
        assert_eq!(duration_text(0.2), "0 seconds");
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00Z");
    }
}
