//! One test started from the web UI: its users, recorder, stats and history, the
//! ticker that keeps them current, and how it ends (once, whoever asks first: the Stop
//! button, its run time, the iteration limit, or the process quitting).

use std::sync::{Arc, Mutex};

use locust_scenario::UserClass;
use locust_stats::report::csv::CsvWriter;
use locust_stats::{History, HistoryPoint, Recorder, Stats};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::headless::{csv_writer, shared_state, worker_shards};
use crate::config::Settings;
use crate::outcome::StopReason;
use crate::outcome::INSTANCE_LABEL;
use crate::session::ticker::Ticker;
use crate::sinks::console::Console;
use crate::verdict::Judge;
use locust_engine::{self, RunState, RunnerHandle, RunnerStatus};
use locust_stats::epoch_now;
use locust_stats::lock;

pub struct TestRun {
    /// The session's settings with this test's users, rate, host, run time and classes.
    pub settings: Settings,
    pub judge: Judge,
    pub classes: Vec<Arc<UserClass>>,
    recorder: Recorder,
    stats: Arc<Mutex<Stats>>,
    history: Arc<Mutex<History>>,
    runner: RunnerHandle,
    status: watch::Receiver<RunnerStatus>,
    ticker_stop: CancellationToken,
    ticker: tokio::sync::Mutex<Option<JoinHandle<Option<CsvWriter>>>>,
    pub started: f64,
    end: Mutex<Option<(f64, StopReason)>>,
    /// Cancelled once the test has fully stopped.
    pub done: CancellationToken,
}

impl TestRun {
    /// Starts the users toward `settings.users` at `settings.spawn_rate`.
    pub async fn start(
        settings: Settings,
        judge: Judge,
        classes: Vec<Arc<UserClass>>,
    ) -> anyhow::Result<Arc<TestRun>> {
        let recorder = Recorder::new(worker_shards());
        let started = epoch_now();
        let stats = Arc::new(Mutex::new(Stats::new(started, settings.csv_full_history)));
        let history = Arc::new(Mutex::new(History::default()));
        let csv = csv_writer(&settings, started)?;
        let shared = shared_state(&settings, &recorder)?;
        let runner = locust_engine::start(classes.clone(), shared.clone(), settings.stop_timeout);
        let status = runner.status();
        let ticker_stop = CancellationToken::new();
        let ticker = tokio::spawn(
            Ticker {
                stop: ticker_stop.clone(),
                recorder: recorder.clone(),
                stats: stats.clone(),
                history: history.clone(),
                cache: judge.cache_role.clone(),
                status: status.clone(),
                pool: None,
                console: Console::new(&settings),
                reset_stats: settings.reset_stats,
            }
            .run(csv),
        );
        runner.ramp_to(settings.users, settings.spawn_rate).await;
        let test = Arc::new(TestRun {
            settings,
            judge,
            classes,
            recorder,
            stats,
            history,
            runner,
            status,
            ticker_stop,
            ticker: tokio::sync::Mutex::new(Some(ticker)),
            started,
            end: Mutex::new(None),
            done: CancellationToken::new(),
        });
        if test.settings.iterations.is_some() {
            let watcher = test.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = shared.iterations_done.notified() => watcher.stop(StopReason::Iterations).await,
                    _ = watcher.done.cancelled() => {}
                }
            });
        }
        Ok(test)
    }

    /// Changes the user count and spawn rate of the running test (the UI's Edit).
    pub async fn ramp_to(&self, users: u64, rate: f64) {
        self.runner.ramp_to(users, rate).await;
    }

    pub fn is_running(&self) -> bool {
        lock(&self.end).is_none()
    }

    /// Locust's state names.
    pub fn state(&self) -> &'static str {
        if !self.is_running() {
            return "stopped";
        }
        match self.status.borrow().state {
            RunState::Ready => "ready",
            RunState::Spawning => "spawning",
            RunState::Running => "running",
            RunState::Stopping => "stopping",
            RunState::Stopped => "stopped",
        }
    }

    pub fn user_count(&self) -> u64 {
        if self.is_running() {
            self.status.borrow().user_count
        } else {
            0
        }
    }

    /// Runs `read` on figures that include every request answered so far.
    pub fn with_stats<R>(&self, read: impl FnOnce(&Stats) -> R) -> R {
        let mut stats = lock(&self.stats);
        stats.absorb(&self.recorder);
        read(&stats)
    }

    pub fn history(&self) -> History {
        lock(&self.history).clone()
    }

    /// When and why it ended; None while it runs.
    pub fn ending(&self) -> Option<(f64, StopReason)> {
        *lock(&self.end)
    }

    /// `/stats/reset`: the figures and exceptions start again from now.
    pub fn reset(&self) {
        let mut stats = lock(&self.stats);
        self.recorder.reset();
        stats.reset(epoch_now());
        stats.clear_exceptions();
    }

    /// Stops the users (per `--stop-timeout`), then takes the last figures and writes the
    /// final CSV rows. Later calls wait for the first to finish and change nothing.
    pub async fn stop(&self, reason: StopReason) {
        let mut ticker = self.ticker.lock().await;
        let Some(task) = ticker.take() else {
            return;
        };
        self.runner.stop().await;
        self.ticker_stop.cancel();
        let csv = task.await.ok().flatten();
        let ended = epoch_now();
        {
            let mut stats = lock(&self.stats);
            stats.absorb(&self.recorder);
            let point = HistoryPoint::sample(
                &stats,
                0,
                ended,
                Some(&self.judge.cache_role),
                Some(INSTANCE_LABEL),
            );
            lock(&self.history).push(point);
            if let Some(mut writer) = csv {
                if let Err(e) = writer.write(&stats, 0, ended) {
                    tracing::error!(target: crate::logging::MAIN, "writing CSV files failed: {e}");
                }
            }
        }
        *lock(&self.end) = Some((ended, reason));
        self.done.cancel();
    }
}
