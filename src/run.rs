//! A headless run from start to exit code: ramp the users, print and write stats on
//! Locust's timers, stop on run time, Ctrl-C, SIGTERM or the iteration limit, then
//! write every final output. An interrupted run loses nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use locust_scenario::UserClass;
use locust_stats::report::csv::CsvWriter;
use locust_stats::{Recorder, Stats};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::{self, RunState, RunnerStatus, Shared};
use crate::http::ClientFactory;
use crate::logging::MAIN;
use crate::output::Console;
use crate::settings::Settings;

/// Locust's console table interval.
const CONSOLE_INTERVAL_TICKS: u64 = 2;
/// Locust's CSV writer and stats-snapshot interval.
const TICK: Duration = Duration::from_secs(1);

pub fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    RunTime,
    Interrupt,
    Terminate,
    Iterations,
}

pub struct RunOutcome {
    pub exit_code: i32,
}

/// Runs the test headless and returns the process exit code.
pub async fn headless(
    settings: &Settings,
    classes: Vec<Arc<UserClass>>,
) -> anyhow::Result<RunOutcome> {
    let recorder = Recorder::new(worker_shards());
    let stats = Arc::new(Mutex::new(Stats::new(
        now_epoch(),
        settings.csv_full_history,
    )));
    let mut csv = match &settings.csv_prefix {
        Some(prefix) => Some(
            CsvWriter::create(prefix, settings.csv_full_history, now_epoch())
                .map_err(|e| anyhow::anyhow!("--csv {prefix}: {e}"))?,
        ),
        None => None,
    };
    let shared = Arc::new(Shared::new(
        recorder.clone(),
        ClientFactory::new(settings.request_timeout),
        settings.host.clone(),
        settings.iterations,
    ));
    let runner = engine::start(classes, shared.clone(), settings.stop_timeout);
    let console = Console::new(settings);

    match settings.run_time {
        Some(limit) => {
            tracing::info!(target: MAIN, "Run time limit set to {} seconds", limit.as_secs())
        }
        None => tracing::info!(target: MAIN, "No run time limit set, use CTRL+C to interrupt"),
    }
    if !settings.only_summary {
        console.periodic(&lock(&stats));
    }
    runner.ramp_to(settings.users, settings.spawn_rate).await;

    let status = runner.status();
    let stop_ticker = CancellationToken::new();
    let ticker = tokio::spawn(tick_loop(
        stop_ticker.clone(),
        recorder.clone(),
        stats.clone(),
        csv.take(),
        status.clone(),
        console.clone(),
        settings.reset_stats,
    ));

    let reason = wait_for_end(settings.run_time, &shared).await;
    match reason {
        StopReason::RunTime => {
            tracing::info!(target: MAIN, "--run-time limit reached, shutting down")
        }
        StopReason::Terminate => tracing::info!(target: MAIN, "Got SIGTERM signal"),
        StopReason::Interrupt | StopReason::Iterations => {}
    }
    runner.stop().await;
    stop_ticker.cancel();
    let mut csv = ticker.await.ok().flatten();

    let users_now = status.borrow().user_count;
    let mut stats = lock(&stats).clone();
    stats.absorb(&recorder);
    let exit_code = if !stats.errors().is_empty() || !stats.exceptions().is_empty() {
        settings.exit_code_on_error
    } else {
        crate::exit::OK
    };
    tracing::info!(target: MAIN, "Shutting down (exit code {exit_code})");
    console.final_summary(&stats, settings)?;
    if let Some(writer) = csv.as_mut() {
        writer.write(&stats, users_now, now_epoch())?;
    }
    Ok(RunOutcome { exit_code })
}

fn worker_shards() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

fn lock(stats: &Mutex<Stats>) -> std::sync::MutexGuard<'_, Stats> {
    stats.lock().unwrap_or_else(|e| e.into_inner())
}

/// Once a second: drain the recorder, snapshot for current percentiles, write CSV;
/// every two seconds print the table. Returns the CSV writer when it ends.
async fn tick_loop(
    stop: CancellationToken,
    recorder: Recorder,
    stats: Arc<Mutex<Stats>>,
    mut csv: Option<CsvWriter>,
    mut status: watch::Receiver<RunnerStatus>,
    console: Console,
    reset_stats: bool,
) -> Option<CsvWriter> {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    let mut ticks: u64 = 0;
    let mut seen_ramps = 0;
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => return csv,
            _ = interval.tick() => {}
            changed = status.changed() => {
                if changed.is_err() {
                    return csv;
                }
                let current = status.borrow().clone();
                if reset_stats && current.state == RunState::Running && current.ramps_completed > seen_ramps {
                    seen_ramps = current.ramps_completed;
                    tracing::info!(target: MAIN, "Resetting stats");
                    recorder.reset();
                    lock(&stats).reset(now_epoch());
                }
                continue;
            }
        }
        ticks += 1;
        let now = now_epoch();
        let users = status.borrow().user_count;
        let mut guard = lock(&stats);
        guard.absorb(&recorder);
        guard.tick(now);
        if let Some(writer) = csv.as_mut() {
            if let Err(e) = writer.write(&guard, users, now) {
                tracing::error!(target: MAIN, "writing CSV files failed: {e}");
            }
        }
        if ticks.is_multiple_of(CONSOLE_INTERVAL_TICKS) {
            console.periodic(&guard);
        }
    }
}

async fn wait_for_end(run_time: Option<Duration>, shared: &Shared) -> StopReason {
    let run_time = async {
        match run_time {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = run_time => StopReason::RunTime,
        _ = tokio::signal::ctrl_c() => StopReason::Interrupt,
        _ = sigterm() => StopReason::Terminate,
        _ = shared.iterations_done.notified() => StopReason::Iterations,
    }
}

#[cfg(unix)]
async fn sigterm() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut stream) => {
            stream.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending().await
}
