//! Locust's headless console tables (§2.3–2.5): the stats table, the percentile table
//! and the error report. Each function returns its block *including* the empty line
//! Locust prints after it, so `eprint!("{}", block)` reproduces Locust's stderr exactly.

use std::fmt::Write as _;

use crate::percentile::PERCENTILES_TO_REPORT;
use crate::pyrepr::repr_float;
use crate::stats::{Rates, Stats};
use crate::StatsEntry;

/// Width of the Type column (Locust's STATS_TYPE_WIDTH).
pub const STATS_TYPE_WIDTH: usize = 8;
/// Locust's STATS_NAME_WIDTH when stdout is not a terminal.
pub const DEFAULT_NAME_WIDTH: usize = 80;

/// STATS_NAME_WIDTH for a terminal of `columns` columns: `clamp(columns - 80, 0, 80)`.
pub fn name_width_for_terminal(columns: usize) -> usize {
    columns.saturating_sub(80).min(80)
}

/// Name column of the main table: `STATS_NAME_WIDTH - 8 + 4` (Python's `%--4s` for a
/// negative width is a width of 4, hence the absolute value).
fn main_name_width(name_width: usize) -> usize {
    (name_width as i64 - STATS_TYPE_WIDTH as i64 + 4).unsigned_abs() as usize
}

/// Python's `"%d" % x` for a float: truncation toward zero.
fn trunc(x: f64) -> i64 {
    x.trunc() as i64
}

/// The main stats table: header, separator, entries sorted by (name, method),
/// separator, Aggregated row, empty line. Long names overflow, never truncated.
pub fn stats_table(stats: &Stats, rates: Rates, name_width: usize) -> String {
    let w = main_name_width(name_width);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<w$} {:>7} {:>12} |{:>7} {:>7} {:>7}{:>7} | {:>7} {:>11}",
        "Type", "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s"
    );
    let separator = format!(
        "{}|{}|-------|-------------|-------|-------|-------|-------|--------|-----------",
        "-".repeat(STATS_TYPE_WIDTH),
        "-".repeat(w)
    );
    let _ = writeln!(out, "{separator}");
    for entry in stats.sorted_entries() {
        stats_row(&mut out, stats, entry, rates, w);
    }
    let _ = writeln!(out, "{separator}");
    stats_row(&mut out, stats, stats.total(), rates, w);
    out.push('\n');
    out
}

fn stats_row(out: &mut String, stats: &Stats, e: &StatsEntry, rates: Rates, w: usize) {
    let method = if e.method.is_empty() {
        String::new()
    } else {
        format!("{} ", e.method)
    };
    let fails = format!("{}({:.2}%)", e.num_failures, e.fail_ratio() * 100.0);
    let (rps, fps) = stats.rates(e, rates);
    let _ = writeln!(
        out,
        "{:<8} {:<w$} {:>7} {:>12} |{:>7} {:>7} {:>7}{:>7} | {:>7.2} {:>11.2}",
        method,
        e.name,
        e.num_requests,
        fails,
        trunc(e.avg_response_time()),
        trunc(e.min_response_time.unwrap_or(0.0)),
        trunc(e.max_response_time),
        trunc(e.median().as_f64()),
        rps,
        fps,
    );
}

/// `50%` ... `99.9%`, `99.99%`, `100%`: whole numbers without decimals, otherwise
/// rounded to 6 decimals.
pub fn percentile_label(p: f64) -> String {
    let pct = p * 100.0;
    if pct.fract() == 0.0 {
        format!("{}%", pct as i64)
    } else {
        format!("{}%", repr_float((pct * 1e6).round() / 1e6))
    }
}

/// The final percentile table (§2.4), empty line included. Only entries with timed
/// samples get a row.
pub fn percentile_table(stats: &Stats, name_width: usize) -> String {
    let mut out = String::from("Response time percentiles (approximated)\n");
    let labels: Vec<String> = PERCENTILES_TO_REPORT
        .iter()
        .map(|&p| percentile_label(p))
        .collect();
    let _ = write!(
        out,
        "{:<8} {:<name_width$} {:>8} ",
        "Type", "Name", labels[0]
    );
    let rest: Vec<String> = labels[1..]
        .iter()
        .map(String::as_str)
        .chain(["# reqs"])
        .map(|l| format!("{l:>6}"))
        .collect();
    let _ = writeln!(out, "{}", rest.join(" "));
    let separator = format!(
        "{}|{}|{}|{}",
        "-".repeat(STATS_TYPE_WIDTH),
        "-".repeat(name_width),
        "-".repeat(8),
        vec!["-".repeat(6); PERCENTILES_TO_REPORT.len()].join("|")
    );
    let _ = writeln!(out, "{separator}");
    for entry in stats.sorted_entries() {
        if !entry.histogram.is_empty() {
            percentile_row(&mut out, entry, name_width);
        }
    }
    let _ = writeln!(out, "{separator}");
    if !stats.total().histogram.is_empty() {
        percentile_row(&mut out, stats.total(), name_width);
    }
    out.push('\n');
    out
}

fn percentile_row(out: &mut String, e: &StatsEntry, name_width: usize) {
    let values: Vec<u64> = PERCENTILES_TO_REPORT
        .iter()
        .map(|&p| e.locust_percentile(p))
        .collect();
    let _ = write!(
        out,
        "{:<8} {:<name_width$} {:>8} ",
        e.method, e.name, values[0]
    );
    let rest: Vec<String> = values[1..]
        .iter()
        .chain([&e.num_requests])
        .map(|v| format!("{v:>6}"))
        .collect();
    let _ = writeln!(out, "{}", rest.join(" "));
}

/// The error report (§2.5) in first-seen order, empty line included; None without
/// failures. A `CatchResponseError('x')` shows as `x`.
pub fn error_report(stats: &Stats, name_width: usize) -> Option<String> {
    if stats.errors().is_empty() {
        return None;
    }
    let mut out = String::from("Error report\n");
    let _ = writeln!(out, "{:<18} {:<100}", "# occurrences", "Error");
    let separator = format!(
        "{}|{}",
        "-".repeat(18),
        "-".repeat((80 + name_width).saturating_sub(19))
    );
    let _ = writeln!(out, "{separator}");
    for e in stats.errors() {
        let _ = writeln!(out, "{:<18} {:<100}", e.occurrences, e.console_name());
    }
    let _ = writeln!(out, "{separator}");
    out.push('\n');
    Some(out)
}

/// The final summary Locust prints at shutdown: the stats table with total rates, the
/// percentile table and, with failures, the error report (each with its empty line).
pub fn final_summary(stats: &Stats, name_width: usize) -> String {
    let mut out = stats_table(stats, Rates::Total, name_width);
    out.push_str(&percentile_table(stats, name_width));
    if let Some(errors) = error_report(stats, name_width) {
        out.push_str(&errors);
    }
    out
}
