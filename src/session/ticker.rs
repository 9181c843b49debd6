//! The once-a-second bookkeeping of a running test: drain the recorder into the stats,
//! sample the chart history, write the CSV files, print the periodic table every two
//! seconds, and apply `--reset-stats` when a ramp completes. Shared by the headless run
//! and the web UI.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use locust_stats::report::csv::CsvWriter;
use locust_stats::{lock, CacheRole, History, HistoryPoint, Recorder, Stats};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::logging::MAIN;
use crate::outcome::INSTANCE_LABEL;
use crate::sinks::console::Console;
use locust_engine::{RunState, RunnerStatus, Shared};
use locust_stats::epoch_now;

/// Locust's console table interval.
const CONSOLE_INTERVAL_TICKS: u64 = 2;
/// Locust's CSV writer and stats-snapshot interval.
const TICK: Duration = Duration::from_secs(1);

/// Once a second: drain the recorder, snapshot for current percentiles, sample the
/// chart history, write CSV; every two seconds print the table.
pub struct Ticker {
    pub stop: CancellationToken,
    pub recorder: Recorder,
    pub stats: Arc<Mutex<Stats>>,
    pub history: Arc<Mutex<History>>,
    pub cache: CacheRole,
    pub status: watch::Receiver<RunnerStatus>,
    /// Users the runner does not count (the open model's pool); None for closed runs.
    pub pool: Option<Arc<Shared>>,
    pub console: Console,
    pub reset_stats: bool,
}

impl Ticker {
    /// Runs until stopped; returns the CSV writer.
    pub async fn run(mut self, mut csv: Option<CsvWriter>) -> Option<CsvWriter> {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        let mut ticks: u64 = 0;
        let mut seen_ramps = 0;
        loop {
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => return csv,
                _ = interval.tick() => {}
                changed = self.status.changed() => {
                    if changed.is_err() {
                        return csv;
                    }
                    let current = self.status.borrow().clone();
                    if self.reset_stats && current.state == RunState::Running && current.ramps_completed > seen_ramps {
                        seen_ramps = current.ramps_completed;
                        tracing::info!(target: MAIN, "Resetting stats");
                        self.recorder.reset();
                        lock(&self.stats).reset(epoch_now());
                    }
                    continue;
                }
            }
            ticks += 1;
            let now = epoch_now();
            let users = self.status.borrow().user_count
                + self.pool.as_ref().map_or(0, |shared| shared.pool_size());
            let mut guard = lock(&self.stats);
            guard.absorb(&self.recorder);
            guard.tick(now);
            let point =
                HistoryPoint::sample(&guard, users, now, Some(&self.cache), Some(INSTANCE_LABEL));
            lock(&self.history).push(point);
            if let Some(writer) = csv.as_mut() {
                if let Err(e) = writer.write(&guard, users, now) {
                    tracing::error!(target: MAIN, "writing CSV files failed: {e}");
                }
            }
            if ticks.is_multiple_of(CONSOLE_INTERVAL_TICKS) {
                self.console.periodic(&guard);
            }
        }
    }
}
