//! The once-a-second bookkeeping of a running session: drain what the users recorded
//! into the figures, snapshot them for the current percentiles, sample the chart
//! history, feed the periodic sinks (CSV every second, the console table every two),
//! judge the `abort` criteria, and apply `--reset-stats` when a ramp completes.

use std::sync::Arc;
use std::time::Duration;

use locust_engine::{RunState, RunnerStatus, Shared};
use locust_stats::{epoch_now, lock};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Aborted, Figures};
use crate::judge::AbortWatch;
use crate::logging::MAIN;
use crate::sinks::Periodic;

/// Locust's CSV writer and stats-snapshot interval.
const TICK: Duration = Duration::from_secs(1);

pub(super) struct Ticker {
    pub stop: CancellationToken,
    pub figures: Arc<Figures>,
    pub status: watch::Receiver<RunnerStatus>,
    /// Users the runner does not count (the open model's pool); None for closed runs.
    pub pool: Option<Arc<Shared>>,
    pub reset_stats: bool,
    pub periodic: Periodic,
    /// The `abort` criteria and where to say one failed; None once one has.
    pub abort: Option<(AbortWatch, Arc<Aborted>)>,
    /// When the session started (epoch seconds), for the criteria's `after` delays.
    pub started: f64,
}

/// Runs until stopped; hands the periodic sinks back for their last rows.
pub(super) async fn run(mut ticker: Ticker) -> Periodic {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    let mut seen_ramps = 0;
    loop {
        tokio::select! {
            biased;
            _ = ticker.stop.cancelled() => return ticker.periodic,
            _ = interval.tick() => {}
            changed = ticker.status.changed() => {
                if changed.is_err() {
                    return ticker.periodic;
                }
                let current = ticker.status.borrow().clone();
                if ticker.reset_stats && current.state == RunState::Running && current.ramps_completed > seen_ramps {
                    seen_ramps = current.ramps_completed;
                    tracing::info!(target: MAIN, "Resetting stats");
                    ticker.figures.recorder.reset();
                    lock(&ticker.figures.stats).reset(epoch_now());
                }
                continue;
            }
        }
        let now = epoch_now();
        let users = ticker.status.borrow().user_count
            + ticker.pool.as_ref().map_or(0, |shared| shared.pool_size());
        ticker.figures.drain();
        let mut stats = lock(&ticker.figures.stats);
        stats.tick(now);
        ticker.figures.sample_history(&stats, users, now);
        ticker.periodic.tick(&stats, users, now);
        let failed = ticker.abort.as_ref().and_then(|(watch, aborted)| {
            let (reason, verdict) = watch.check(&stats, now - ticker.started)?;
            Some((reason, verdict, aborted.clone()))
        });
        if let Some((reason, verdict, aborted)) = failed {
            tracing::error!(
                target: MAIN,
                "Aborting the run: criterion '{}' failed (measured {}; {})",
                verdict.criterion,
                verdict.measured_text,
                verdict.detail
            );
            *lock(&aborted.reason) = Some(reason);
            aborted.fired.cancel();
            ticker.abort = None;
        }
    }
}
