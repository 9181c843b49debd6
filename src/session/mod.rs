//! The one test run every entry point uses (headless, the web UI, and later a worker):
//! started from a `RunSpec` and the plan's classes, steered by `Command`s (ramp to a
//! count, set absolute counts per class, stop), publishing its `Status`, handing out
//! the figures of the last interval (`take_delta`) and finishing into one `Finished`
//! that every output is written from. Its ticker (`ticker`) keeps the figures, the
//! chart history and the periodic sinks current; `open` runs the open model.

pub mod open;
mod ticker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use locust_engine::{LabelHeaders, Placement, RunState, RunnerHandle, RunnerStatus, Shared};
use locust_scenario::{Action, RunSteps, UserClass};
use locust_stats::report::wire_read::StatsReport;
use locust_stats::{epoch_now, lock, CacheRole, History, HistoryPoint, Recorder, Stats};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::RunSpec;
use crate::judge::AbortWatch;
use crate::logging::MAIN;
use crate::outcome::{Finished, StopReason, INSTANCE_LABEL};
use crate::sinks::Periodic;
use open::OpenModel;

/// What a session can be told while it runs. The web UI sends `Ramp`; `SetCounts` and
/// `Stop` are what a master's `spawn` and `stop` messages carry (their caller is the
/// worker of distributed mode; the tests below drive them).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(test), allow(dead_code))]
pub enum Command {
    /// Move to `users` at `rate` users per second (the UI's Edit, a profile's stage).
    Ramp { users: u64, rate: f64 },
    /// Exactly these users per class, at once (what Locust's `spawn` message carries).
    SetCounts(BTreeMap<String, u64>),
    /// Stop the users; the session finishes (as `StopReason::Stopped`).
    Stop,
}

/// Where a session's users run.
enum Users {
    /// In this process, as tokio tasks.
    Here,
    /// On a master's workers.
    On(Workers),
}

/// A master's workers, as its session's runner sees them: who is ready to take users
/// (the driver updates it as workers come and go), and where the runner's placements
/// (`spawn` per worker, `stop`) go.
pub struct Workers {
    pub ready: watch::Receiver<Vec<String>>,
    pub placements: mpsc::UnboundedSender<Placement>,
}

/// Where a session's figures go while it runs, and how it keeps them.
pub struct Outputs {
    /// Fed the figures every second (CSV rows, the console table).
    pub periodic: Periodic,
    pub cache: CacheRole,
    pub full_history: bool,
    /// `abort` criteria judged every second.
    pub abort: Option<AbortWatch>,
}

/// What a session publishes about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub state: RunState,
    /// Users running, the open model's pool included.
    pub user_count: u64,
    pub class_counts: BTreeMap<String, u64>,
    /// False once the session has finished.
    pub running: bool,
}

/// Set once, by the ticker, when an `abort` criterion fails.
#[derive(Default)]
struct Aborted {
    fired: CancellationToken,
    reason: Mutex<Option<StopReason>>,
}

/// The figures of a run, shared by the session, its ticker and its readers.
struct Figures {
    recorder: Recorder,
    stats: Mutex<Stats>,
    /// What was recorded since the last `take_delta`; None until the first call, so a
    /// run whose deltas nobody takes (all but a worker's) keeps no second full copy of
    /// the figures, whose per-second maps would grow all run long.
    delta: Mutex<Option<Stats>>,
    history: Mutex<History>,
    cache: CacheRole,
    full_history: bool,
}

impl Figures {
    /// Moves what the users recorded into the run's figures and the pending delta.
    fn drain(&self) {
        let mut fresh = Stats::new(epoch_now(), self.full_history);
        fresh.absorb(&self.recorder);
        // The delta's lock is held across both, so `take_delta` never counts twice.
        let mut delta = lock(&self.delta);
        *lock(&self.stats) += &fresh;
        if let Some(delta) = delta.as_mut() {
            *delta += &fresh;
        }
    }

    fn sample_history(&self, stats: &Stats, users: u64, now: f64) {
        let point =
            HistoryPoint::sample(stats, users, now, Some(&self.cache), Some(INSTANCE_LABEL));
        lock(&self.history).push(point);
    }
}

pub struct Session {
    spec: RunSpec,
    classes: Vec<Arc<UserClass>>,
    /// The scenario files' `[[teardown]]` steps, run once the users have stopped.
    teardown: Vec<(Vec<Action>, Option<String>)>,
    figures: Arc<Figures>,
    shared: Arc<Shared>,
    runner: RunnerHandle,
    status: watch::Receiver<RunnerStatus>,
    ticker_stop: CancellationToken,
    ticker: tokio::sync::Mutex<Option<JoinHandle<Periodic>>>,
    open: Mutex<Option<OpenModel>>,
    /// Cancelled when the load ends by itself: the last stage, or the arrival schedule.
    load_done: CancellationToken,
    aborted: Arc<Aborted>,
    started: f64,
    finished: Mutex<Option<Arc<Finished>>>,
    /// Cancelled once the session has finished.
    pub done: CancellationToken,
}

impl Session {
    /// Runs the scenario files' `[[setup]]` steps, then starts the ticker and the load
    /// the spec describes: a ramp to its users, its stages, or its arrival rate.
    /// `periodic` receives the figures every second; `abort`'s criteria are judged on
    /// them, and the first that fails ends the load (`ended_by_itself`).
    pub async fn start(
        spec: RunSpec,
        classes: Vec<Arc<UserClass>>,
        run_steps: &[RunSteps],
        periodic: Periodic,
        cache: CacheRole,
        full_history: bool,
        abort: Option<AbortWatch>,
    ) -> anyhow::Result<Arc<Session>> {
        let outputs = Outputs {
            periodic,
            cache,
            full_history,
            abort,
        };
        Self::begin(Users::Here, spec, classes, run_steps, outputs, |_| {}).await
    }

    /// A master's session: the users run on `workers`; the figures are what the
    /// master merges in with `absorb`. The workers run the scenarios' `[[setup]]` and
    /// `[[teardown]]` themselves.
    /// `attach` is handed the session before its load begins (so that the master
    /// merges the workers' first reports into it).
    pub async fn start_on_workers(
        workers: Workers,
        spec: RunSpec,
        classes: Vec<Arc<UserClass>>,
        outputs: Outputs,
        attach: impl FnOnce(&Arc<Session>),
    ) -> anyhow::Result<Arc<Session>> {
        Self::begin(Users::On(workers), spec, classes, &[], outputs, attach).await
    }

    async fn begin(
        users: Users,
        spec: RunSpec,
        classes: Vec<Arc<UserClass>>,
        run_steps: &[RunSteps],
        outputs: Outputs,
        attach: impl FnOnce(&Arc<Session>),
    ) -> anyhow::Result<Arc<Session>> {
        let Outputs {
            periodic,
            cache,
            full_history,
            abort,
        } = outputs;
        let started = epoch_now();
        let recorder = Recorder::new(worker_shards());
        let figures = Arc::new(Figures {
            recorder: recorder.clone(),
            stats: Mutex::new(Stats::new(started, full_history)),
            delta: Mutex::new(None),
            history: Mutex::new(History::default()),
            cache,
            full_history,
        });
        // The run's own host for setup and teardown: -H, else the first class's.
        let host = spec
            .host
            .clone()
            .or_else(|| classes.iter().find_map(|c| c.host.clone()));
        // Each test hands out its feeders' rows from the first, with full pools.
        locust_scenario::reset_feeders(classes.iter().map(|c| &**c), run_steps);
        let globals = run_setup(&spec, &recorder, run_steps, &host).await?;
        let shared = shared_state(&spec, &recorder, globals)?;
        let teardown = run_steps
            .iter()
            .filter(|r| !r.teardown.is_empty())
            .map(|r| (r.teardown.clone(), host.clone()))
            .collect();
        let runner = match users {
            Users::Here => locust_engine::start(classes.clone(), shared.clone(), spec.stop_timeout),
            Users::On(workers) => {
                locust_engine::start_on_workers(&classes, workers.ready, workers.placements)
            }
        };
        let status = runner.status();
        let ticker_stop = CancellationToken::new();
        let aborted = Arc::new(Aborted::default());
        let ticker = tokio::spawn(ticker::run(ticker::Ticker {
            abort: abort.map(|watch| (watch, aborted.clone())),
            started,
            origin: tokio::time::Instant::now(),
            stop: ticker_stop.clone(),
            figures: figures.clone(),
            status: status.clone(),
            pool: spec.arrival.is_some().then(|| shared.clone()),
            reset_stats: spec.reset_stats,
            periodic,
        }));
        let session = Arc::new(Session {
            spec,
            classes,
            teardown,
            figures,
            shared,
            runner,
            status,
            ticker_stop,
            ticker: tokio::sync::Mutex::new(Some(ticker)),
            open: Mutex::new(None),
            load_done: CancellationToken::new(),
            aborted,
            started,
            finished: Mutex::new(None),
            done: CancellationToken::new(),
        });
        attach(&session);
        session.begin_load().await;
        Ok(session)
    }

    async fn begin_load(&self) {
        if let Some(arrival) = &self.spec.arrival {
            let model = open::start(
                arrival,
                self.spec.stop_timeout,
                self.classes.clone(),
                self.shared.clone(),
                &self.load_done,
            );
            *lock(&self.open) = Some(model);
        } else if let Some(stages) = &self.spec.stages {
            tokio::spawn(locust_engine::drive_shape(
                self.runner.clone(),
                stages.clone(),
                self.load_done.clone(),
            ));
        } else {
            self.runner
                .ramp_to(self.spec.users, self.spec.spawn_rate)
                .await;
        }
    }

    /// When the session started (epoch seconds).
    pub fn started(&self) -> f64 {
        self.started
    }

    pub async fn apply(&self, command: Command) {
        match command {
            Command::Ramp { users, rate } => self.runner.ramp_to(users, rate).await,
            Command::SetCounts(counts) => self.runner.set_counts(counts).await,
            Command::Stop => {
                self.finish(StopReason::Stopped).await;
            }
        }
    }

    pub fn status(&self) -> Status {
        let running = !self.done.is_cancelled();
        let status = self.status.borrow();
        Status {
            state: if running {
                status.state
            } else {
                RunState::Stopped
            },
            user_count: if running {
                status.user_count + self.shared.pool_size()
            } else {
                0
            },
            class_counts: status.class_counts.clone(),
            running,
        }
    }

    /// Resolves when the load ends by itself: `-i` used up, the last stage over, the
    /// arrival schedule done, or an `abort` criterion failed.
    pub async fn ended_by_itself(&self) -> StopReason {
        tokio::select! {
            _ = self.shared.iterations_done.notified() => StopReason::Iterations,
            _ = self.load_done.cancelled() => StopReason::ShapeDone,
            _ = self.aborted.fired.cancelled() => {
                lock(&self.aborted.reason).unwrap_or(StopReason::Stopped)
            }
        }
    }

    /// Ends the load from outside its driver (a master whose workers are gone):
    /// `ended_by_itself` resolves with `reason`, unless the load ended already.
    pub fn end_load(&self, reason: StopReason) {
        let mut slot = lock(&self.aborted.reason);
        if !self.aborted.fired.is_cancelled() {
            *slot = Some(reason);
            self.aborted.fired.cancel();
        }
    }

    /// Whether the load is an open model (its run time is its schedule's).
    pub fn is_open_model(&self) -> bool {
        self.spec.arrival.is_some()
    }

    /// The figures recorded since the last call (what a worker reports every 3 s; its
    /// caller is the worker of distributed mode, the tests below drive it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn take_delta(&self) -> Stats {
        self.figures.drain();
        let fresh = Stats::new(epoch_now(), self.figures.full_history);
        let mut delta = lock(&self.figures.delta);
        // The first call hands out everything so far.
        match delta.replace(fresh) {
            Some(delta) => delta,
            None => lock(&self.figures.stats).clone(),
        }
    }

    /// Adds a worker's report to the figures (a master's session): its entries, its
    /// total to the total (as Locust's master does), its errors and labels.
    pub fn absorb(&self, report: &StatsReport) {
        let mut stats = lock(&self.figures.stats);
        for entry in &report.entries {
            stats.merge_entry(entry);
        }
        stats.merge_total(&report.total);
        for error in &report.errors {
            stats.merge_error(error);
        }
        stats.merge_labels(&report.labels);
    }

    /// A user's exception on a worker, kept as Locust's master keeps it.
    pub fn log_exception(&self, node: &str, msg: &str, traceback: &str) {
        lock(&self.figures.stats).log_exception(node, msg, traceback);
    }

    /// Runs `read` on figures that include every request answered so far.
    pub fn with_stats<R>(&self, read: impl FnOnce(&Stats) -> R) -> R {
        self.figures.drain();
        read(&lock(&self.figures.stats))
    }

    pub fn history(&self) -> History {
        lock(&self.figures.history).clone()
    }

    /// `/stats/reset`: the figures and exceptions start again from now.
    pub fn reset(&self) {
        self.figures.drain();
        let mut stats = lock(&self.figures.stats);
        stats.reset(epoch_now());
        stats.clear_exceptions();
    }

    /// The finished run, once it has finished.
    pub fn finished(&self) -> Option<Arc<Finished>> {
        lock(&self.finished).clone()
    }

    /// Stops the load (the open model's schedule, then the users per `--stop-timeout`),
    /// takes the last figures, writes the periodic sinks' last rows and returns the
    /// finished run. Later calls wait for the first and return the same run.
    pub async fn finish(&self, reason: StopReason) -> Arc<Finished> {
        let mut ticker = self.ticker.lock().await;
        if let Some(finished) = self.finished() {
            return finished;
        }
        let model = lock(&self.open).take();
        let open = match model {
            Some(model) => Some(model.stop(self.started).await),
            None => None,
        };
        self.runner.stop().await;
        for (steps, host) in &self.teardown {
            locust_engine::run_alone("teardown", steps.clone(), host.clone(), self.shared.clone())
                .await;
        }
        self.ticker_stop.cancel();
        let periodic = match ticker.take() {
            Some(task) => task.await.ok(),
            None => None,
        };
        self.figures.drain();
        let stats = lock(&self.figures.stats).clone();
        let users = self.status.borrow().user_count + self.shared.pool_size();
        let end = epoch_now();
        self.figures.sample_history(&stats, users, end);
        if let Some(mut periodic) = periodic {
            periodic.finish(&stats, users, end);
        }
        let finished = Arc::new(Finished {
            stats,
            history: self.history(),
            open,
            reason,
            start: self.started,
            end,
        });
        *lock(&self.finished) = Some(finished.clone());
        self.done.cancel();
        tracing::debug!(target: MAIN, "Test finished: {reason:?}");
        finished
    }
}

/// What every user of one test shares: recorder, clients, host, labels, `-i`, and the
/// globals `[[setup]]` left.
fn shared_state(
    spec: &RunSpec,
    recorder: &Recorder,
    globals: Globals,
) -> anyhow::Result<Arc<Shared>> {
    let clients =
        locust_engine::http::ClientFactory::new(spec.http.clone()).map_err(anyhow::Error::msg)?;
    let mut shared = Shared::new(
        recorder.clone(),
        clients,
        spec.host.clone(),
        spec.iterations,
    );
    shared.labels = LabelHeaders::new(spec.label_headers.iter().map(String::as_str));
    shared.globals = Arc::new(globals);
    Ok(Arc::new(shared))
}

type Globals = std::collections::HashMap<String, minijinja::Value>;

/// The files' `[[setup]]` steps, run once before any user starts, each file's as a user
/// of its own; what they set becomes every user's globals.
async fn run_setup(
    spec: &RunSpec,
    recorder: &Recorder,
    run_steps: &[RunSteps],
    host: &Option<String>,
) -> anyhow::Result<Globals> {
    let mut globals = Globals::new();
    for run in run_steps.iter().filter(|r| !r.setup.is_empty()) {
        tracing::info!(target: MAIN, "Running [[setup]] of {}", run.source.display());
        let shared = shared_state(spec, recorder, globals.clone())?;
        let set = locust_engine::run_alone("setup", run.setup.clone(), host.clone(), shared).await;
        globals.extend(
            set.into_iter()
                .filter(|(name, _)| run.globals.contains(name)),
        );
    }
    Ok(globals)
}

/// Recorder shards: two per core keeps the per-request lock uncontended.
pub(crate) fn worker_shards() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

#[cfg(test)]
mod tests;
