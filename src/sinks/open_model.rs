//! The open model's own outputs after the run: the table of latency from the intended
//! start (titled, beside Locust's tables), the start counts (started, late, dropped),
//! and `PREFIX_stats_corrected.csv`.

use locust_engine::ArrivalCounts;
use locust_stats::report::{console, csv};

use super::console::Console;
use crate::config::OutputSettings;
use crate::logging::MAIN;
use crate::outcome::OpenResult;

/// The console title of the corrected table.
pub const CORRECTED_TITLE: &str =
    "Response times from the intended start (corrected for coordinated omission)";

/// Prints the corrected table and the start counts; writes the corrected CSV.
pub fn write(output: &OutputSettings, out: &Console, open: &OpenResult) -> anyhow::Result<()> {
    let width = out.name_width();
    eprintln!("\n{CORRECTED_TITLE}:");
    eprint!("{}", console::final_summary(&open.corrected, width));
    let ArrivalCounts {
        started,
        late,
        dropped,
    } = open.counts;
    eprintln!(
        "\nOpen model: {} iterations/s, pool {}: {started} started, {late} started late, {dropped} dropped",
        open.arrival_rate, open.max_pool
    );
    eprintln!("{}", open.coverage());
    if late > 0 || dropped > 0 {
        tracing::warn!(target: MAIN, "{late} iteration starts were late and {dropped} were dropped: the pool of {} users was exhausted", open.max_pool);
    }
    if let Some(prefix) = &output.csv_prefix {
        let path = format!("{prefix}_stats_corrected.csv");
        std::fs::write(&path, csv::stats_csv(&open.corrected))
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    }
    Ok(())
}
