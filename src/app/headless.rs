//! A headless run from start to exit code: ramp the users, print and write stats on
//! Locust's timers (and sample the chart history), stop on run time, Ctrl-C, SIGTERM or
//! the iteration limit, then write every final output and hand over to `verdict`. An
//! interrupted run loses nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use locust_scenario::UserClass;
use locust_stats::report::csv::CsvWriter;
use locust_stats::{History, HistoryPoint, Recorder, Stats};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::logging::MAIN;
use crate::outcome::INSTANCE_LABEL;
use crate::outcome::{RunSummary, StopReason};
use crate::session::ticker::Ticker;
use crate::sinks::console::Console;
use crate::verdict::{Ending, Judge};
use locust_engine::http::ClientFactory;
use locust_engine::{self, LabelHeaders, Shared};
use locust_stats::epoch_now;
use locust_stats::lock;

pub struct RunOutcome {
    pub exit_code: i32,
    pub reason: StopReason,
    pub summary: RunSummary,
}

/// Runs the test headless and returns the process exit code.
pub async fn headless(
    settings: &Settings,
    classes: Vec<Arc<UserClass>>,
    judge: &Judge,
) -> anyhow::Result<RunOutcome> {
    let recorder = Recorder::new(worker_shards());
    let started = epoch_now();
    let stats = Arc::new(Mutex::new(Stats::new(started, settings.csv_full_history)));
    let history = Arc::new(Mutex::new(History::default()));
    let mut csv = csv_writer(settings, epoch_now())?;
    let shared = shared_state(settings, &recorder)?;
    let corrected = Recorder::new(worker_shards());
    let open_classes = classes.clone();
    let runner = locust_engine::start(classes, shared.clone(), settings.stop_timeout);
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
    let shape_done = CancellationToken::new();
    let arrival_stop = CancellationToken::new();
    let mut open_run = None;
    match &settings.stages {
        _ if settings.arrival.is_some() => {
            open_run = crate::session::open::spawn(
                settings,
                open_classes,
                shared.clone(),
                corrected.clone(),
                &arrival_stop,
                &shape_done,
            );
        }
        Some(stages) => {
            if settings.users_on_command_line {
                tracing::warn!(target: MAIN, "The profile defines stages (a load shape) but -u/--users or -r/--spawn-rate was given: ignoring them, the stages set the user count");
            }
            tokio::spawn(locust_engine::drive_shape(
                runner.clone(),
                stages.clone(),
                shape_done.clone(),
            ));
        }
        None => runner.ramp_to(settings.users, settings.spawn_rate).await,
    }

    let status = runner.status();
    let stop_ticker = CancellationToken::new();
    let ticker = tokio::spawn(
        Ticker {
            stop: stop_ticker.clone(),
            recorder: recorder.clone(),
            stats: stats.clone(),
            history: history.clone(),
            cache: judge.cache_role.clone(),
            status: status.clone(),
            pool: settings.arrival.is_some().then(|| shared.clone()),
            console: console.clone(),
            reset_stats: settings.reset_stats,
        }
        .run(csv.take()),
    );

    // The open model ends with its schedule (and the iterations still in flight).
    let run_time = settings.run_time.filter(|_| open_run.is_none());
    let reason = wait_for_end(run_time, &shared, &shape_done).await;
    match reason {
        StopReason::ShapeDone if open_run.is_some() => {
            tracing::info!(target: MAIN, "Arrival schedule completed, shutting down")
        }
        StopReason::ShapeDone => {
            tracing::info!(target: MAIN, "Shape test completed, shutting down")
        }
        StopReason::RunTime => {
            tracing::info!(target: MAIN, "--run-time limit reached, shutting down")
        }
        StopReason::Terminate => tracing::info!(target: MAIN, "Got SIGTERM signal"),
        StopReason::Interrupt
        | StopReason::Iterations
        | StopReason::Stopped
        | StopReason::StillRunning => {}
    }
    arrival_stop.cancel();
    let open = match open_run {
        Some(task) => task.await.ok(),
        None => None,
    };
    runner.stop().await;
    stop_ticker.cancel();
    let mut csv = ticker.await.ok().flatten();

    let users_now = status.borrow().user_count + shared.pool_size();
    let mut stats = lock(&stats).clone();
    stats.absorb(&recorder);
    let ended = epoch_now();
    let mut history = lock(&history).clone();
    history.push(HistoryPoint::sample(
        &stats,
        users_now,
        ended,
        Some(&judge.cache_role),
        Some(INSTANCE_LABEL),
    ));
    let open =
        open.map(|counts| crate::session::open::finish(settings, counts, &corrected, started));
    let judged =
        crate::verdict::judge(settings, judge, &stats, open.as_ref().map(|o| &o.corrected));
    let exit_code = judged.exit_code;
    tracing::info!(target: MAIN, "Shutting down (exit code {exit_code})");
    console.final_summary(&stats, settings)?;
    if let Some(writer) = csv.as_mut() {
        writer.write(&stats, users_now, epoch_now())?;
    }
    if let Some(open) = &open {
        crate::session::open::report(settings, &console, open)?;
    }
    let ending = Ending {
        open: open.as_ref(),
        stats: &stats,
        history: &history,
        reason,
        start: started,
        end: ended,
    };
    crate::verdict::conclude(settings, judge, judged, &ending)?;
    let total = stats.total();
    let summary = RunSummary {
        requests: total.num_requests,
        failures: total.num_failures,
        avg_ms: total.avg_response_time(),
        p95_ms: if total.num_requests > 0 {
            total.percentile_ms(0.95)
        } else {
            0.0
        },
        rps: stats.total_rps(total),
        seconds: ended - started,
    };
    Ok(RunOutcome {
        exit_code,
        reason,
        summary,
    })
}

/// `--csv`: the writer of the four files (created now, so a bad path fails early).
pub fn csv_writer(settings: &Settings, now: f64) -> anyhow::Result<Option<CsvWriter>> {
    settings
        .csv_prefix
        .as_ref()
        .map(|prefix| {
            CsvWriter::create(prefix, settings.csv_full_history, now)
                .map_err(|e| anyhow::anyhow!("--csv {prefix}: {e}"))
        })
        .transpose()
}

/// What every user of one test shares: recorder, clients, host, labels, `-i`.
pub fn shared_state(settings: &Settings, recorder: &Recorder) -> anyhow::Result<Arc<Shared>> {
    let mut shared = Shared::new(
        recorder.clone(),
        ClientFactory::new(settings.http.clone()).map_err(anyhow::Error::msg)?,
        settings.host.clone(),
        settings.iterations,
    );
    shared.labels = LabelHeaders::new(Judge::label_headers(settings));
    Ok(Arc::new(shared))
}

pub fn worker_shards() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

async fn wait_for_end(
    run_time: Option<Duration>,
    shared: &Shared,
    shape_done: &CancellationToken,
) -> StopReason {
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
        _ = shape_done.cancelled() => StopReason::ShapeDone,
    }
}

#[cfg(unix)]
pub async fn sigterm() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut stream) => {
            stream.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
pub async fn sigterm() {
    std::future::pending().await
}
