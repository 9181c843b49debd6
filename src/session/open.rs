//! A headless run's open-model part (`--arrival-rate`): starts the schedule, then
//! reports its start counts (started, late, dropped) and the latency measured from
//! each iteration's intended start (wrk2's coordinated-omission correction), kept in a
//! `Stats` of its own so that the ordinary tables keep the time from the actual send.
//! Console: a second table, titled; CSV: `PREFIX_stats_corrected.csv`.

use std::sync::Arc;

use locust_scenario::UserClass;
use locust_stats::report::{console, csv};
use locust_stats::{Recorder, Stats};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::logging::MAIN;
use crate::outcome::OpenResult;
use crate::sinks::console::Console;
use locust_engine::{self, ArrivalCounts, Shared};

/// The console title of the corrected table.
pub const CORRECTED_TITLE: &str =
    "Response times from the intended start (corrected for coordinated omission)";

/// Starts the schedule; `done` is cancelled once it is over and every iteration ended.
pub fn spawn(
    settings: &Settings,
    classes: Vec<Arc<UserClass>>,
    shared: Arc<Shared>,
    corrected: Recorder,
    stop: &CancellationToken,
    done: &CancellationToken,
) -> Option<JoinHandle<ArrivalCounts>> {
    let arrival = settings.arrival.clone()?;
    tracing::info!(target: MAIN, "Open model: {} iterations/s, at most {} users in the pool", arrival.rate, arrival.pool.size);
    let (stop, done) = (stop.clone(), done.clone());
    let stop_timeout = settings.stop_timeout;
    Some(tokio::spawn(async move {
        let counts = locust_engine::run_open(
            classes,
            shared,
            corrected,
            arrival.schedule,
            arrival.pool,
            stop,
            stop_timeout,
        )
        .await;
        done.cancel();
        counts
    }))
}

/// Collects the corrected figures once the run is over.
pub fn finish(
    settings: &Settings,
    counts: ArrivalCounts,
    corrected: &Recorder,
    started: f64,
) -> OpenResult {
    let mut stats = Stats::new(started, false);
    stats.absorb(corrected);
    let (arrival_rate, max_pool) = settings
        .arrival
        .as_ref()
        .map_or((0.0, 0), |a| (a.rate, a.pool.size));
    OpenResult {
        arrival_rate,
        max_pool,
        counts,
        corrected: stats,
    }
}

/// Prints the corrected table and the start counts; writes the corrected CSV.
pub fn report(settings: &Settings, out: &Console, open: &OpenResult) -> anyhow::Result<()> {
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
    if late > 0 || dropped > 0 {
        tracing::warn!(target: MAIN, "{late} iteration starts were late and {dropped} were dropped: the pool of {} users was exhausted", open.max_pool);
    }
    if let Some(prefix) = &settings.csv_prefix {
        let path = format!("{prefix}_stats_corrected.csv");
        std::fs::write(&path, csv::stats_csv(&open.corrected))
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    }
    Ok(())
}
