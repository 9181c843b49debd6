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

/// The longest a tick waits for a spawn step that was due before it (a runner that
/// lags; one that is gone).
const STEP_WAIT: Duration = Duration::from_millis(500);

/// Every this many ticks, a DEBUG line counts the runtime's live tasks (users, the
/// ticker, the web UI's connections, ...): what `scripts/soak.sh` watches for leaks.
const TASKS_EVERY: u64 = 10;

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
    /// The instant the tick grid counts from: taken before the load begins.
    pub origin: tokio::time::Instant,
}

/// Runs until stopped; hands the periodic sinks back for their last rows.
pub(super) async fn run(mut ticker: Ticker) -> Periodic {
    // The grid starts where the session does, before its load: a ramp begun after it
    // has its steps fall just after the ticks, so tick k holds steps 0..k-1 (10, 20,
    // 30 ...) whichever task the runtime happens to run first.
    let mut interval = tokio::time::interval_at(ticker.origin + TICK, TICK);
    // Skip keeps the ticks on their grid: a late tick does not shift the ones after it
    // against the ramp's steps (`await_due_step`).
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut seen_ramps = 0;
    let mut ticks: u64 = 0;
    loop {
        let tick = tokio::select! {
            biased;
            _ = ticker.stop.cancelled() => return ticker.periodic,
            at = interval.tick() => at,
            changed = ticker.status.changed() => {
                if changed.is_err() {
                    return ticker.periodic;
                }
                reset_when_ramped(&ticker, &mut seen_ramps);
                continue;
            }
        };
        await_due_step(&mut ticker.status, tick).await;
        reset_when_ramped(&ticker, &mut seen_ramps);
        let now = epoch_now();
        let users = ticker.status.borrow().user_count_at(tick)
            + ticker.pool.as_ref().map_or(0, |shared| shared.pool_size());
        ticks += 1;
        if ticks.is_multiple_of(TASKS_EVERY) {
            let tasks = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            tracing::debug!(target: MAIN, "Runtime: {tasks} tasks alive, {users} users");
        }
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

/// `--reset-stats`: zero the figures once each time a ramp completes.
fn reset_when_ramped(ticker: &Ticker, seen_ramps: &mut u64) {
    let current = ticker.status.borrow().clone();
    if ticker.reset_stats
        && current.state == RunState::Running
        && current.ramps_completed > *seen_ramps
    {
        *seen_ramps = current.ramps_completed;
        tracing::info!(target: MAIN, "Resetting stats");
        ticker.figures.recorder.reset();
        lock(&ticker.figures.stats).reset(epoch_now());
    }
}

/// Waits (at most [`STEP_WAIT`]) until every spawn step scheduled up to the tick's own
/// scheduled instant `tick` has been taken. Both are schedules, not the moments the
/// tasks happened to wake, so with a step and a tick each second every sample holds
/// exactly one step more than the one before (10, 20, 30 ...), never 0, 20, 20, 40.
async fn await_due_step(status: &mut watch::Receiver<RunnerStatus>, tick: tokio::time::Instant) {
    let give_up = tokio::time::Instant::now() + STEP_WAIT;
    loop {
        let due = status.borrow_and_update().next_step;
        if due.is_none_or(|at| at > tick) {
            return;
        }
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep_until(give_up) => return,
        }
    }
}
