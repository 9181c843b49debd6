//! One test started from the web UI: the `Session` that runs it, with the settings,
//! criteria and report context of that test (the form's numbers, a profile's criteria),
//! ended once, whoever asks first: the Stop button, its run time, the iteration limit,
//! a failed `abort` criterion, the end of its stages or arrival schedule, or the
//! process quitting. It keeps what the page shows about it: the users and spawn rate
//! it heads for (after an Edit too), its planned load, and its phase of a sequence.

use std::sync::{Arc, Mutex};

use locust_scenario::{RunSteps, UserClass};
use locust_stats::{epoch_now, lock, History, Stats};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::judge::Judge;
use crate::master::Master;
use crate::outcome::{Finished, StopReason};
use crate::session::{Command, Outputs, Session};
use crate::sinks::console::Console;
use crate::sinks::report::ReportContext;
use crate::sinks::{self, Periodic};
use locust_engine::RunState;

use super::shape_plan::PlannedLoad;

/// Which phase of a profile's `phases` a test is (1-based `index` of `count`).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseTag {
    pub index: usize,
    pub count: usize,
    pub name: String,
    /// The profile whose `phases` these are (e.g. `all`).
    pub parent: String,
}

pub struct TestRun {
    /// The session's settings with this test's users, rate, host, run time and classes.
    pub settings: Settings,
    pub judge: Judge,
    pub report: ReportContext,
    pub classes: Vec<Arc<UserClass>>,
    session: Arc<Session>,
    /// Cancelled once the test has fully stopped.
    pub done: CancellationToken,
    /// The users and spawn rate the test heads for: the form's, then each Edit's.
    target: Mutex<(u64, f64)>,
    /// Its stages or arrival schedule on paper; None for a plain ramp to -u at -r.
    pub plan: Option<PlannedLoad>,
    phase: Mutex<Option<PhaseTag>>,
}

impl TestRun {
    /// Starts the users toward `settings.spec.users` at `settings.spec.spawn_rate`.
    pub async fn start(
        settings: Settings,
        judge: Judge,
        report: ReportContext,
        classes: Vec<Arc<UserClass>>,
        run_steps: Vec<RunSteps>,
        master: Option<Arc<Master>>,
    ) -> anyhow::Result<Arc<TestRun>> {
        let csv = sinks::csv_writer(&settings.output, epoch_now())?;
        let abort = judge.abort_watch(&settings);
        // A shape or schedule ends by itself as `-i` or an abort criterion may.
        let may_end_by_itself = settings.spec.iterations.is_some()
            || abort.is_some()
            || settings.spec.stages.is_some()
            || settings.spec.arrival.is_some();
        let plan = (settings.spec.stages.is_some() || settings.spec.arrival.is_some())
            .then(|| PlannedLoad::of(&settings.spec))
            .flatten();
        let target = Mutex::new((settings.spec.users, settings.spec.spawn_rate));
        let outputs = Outputs {
            periodic: Periodic::new(Console::new(&settings), csv),
            cache: judge.cache_role.clone(),
            full_history: settings.output.csv_full_history,
            abort,
        };
        let session = match &master {
            None => {
                Session::start(
                    settings.spec.clone(),
                    classes.clone(),
                    &run_steps,
                    outputs.periodic,
                    outputs.cache,
                    outputs.full_history,
                    outputs.abort,
                )
                .await?
            }
            Some(master) => {
                let attach = |session: &Arc<Session>| master.attach(session.clone());
                Session::start_on_workers(
                    master.workers(),
                    settings.spec.clone(),
                    classes.clone(),
                    outputs,
                    attach,
                )
                .await?
            }
        };
        let test = Arc::new(TestRun {
            done: session.done.clone(),
            target,
            plan,
            phase: Mutex::new(None),
            settings,
            judge,
            report,
            classes,
            session,
        });
        if may_end_by_itself {
            let watcher = test.clone();
            tokio::spawn(async move {
                tokio::select! {
                    reason = watcher.session.ended_by_itself() => watcher.stop(reason).await,
                    _ = watcher.done.cancelled() => {}
                }
            });
        }
        Ok(test)
    }

    /// Changes the user count and spawn rate of the running test (the UI's Edit).
    pub async fn ramp_to(&self, users: u64, rate: f64) {
        *lock(&self.target) = (users, rate);
        self.session.apply(Command::Ramp { users, rate }).await;
    }

    /// The users and spawn rate the test heads for (what Edit starts from).
    pub fn target(&self) -> (u64, f64) {
        *lock(&self.target)
    }

    /// Whether its stages or arrival schedule drive the load (Edit cannot).
    pub fn is_shaped(&self) -> bool {
        self.plan.is_some()
    }

    pub fn set_phase(&self, phase: PhaseTag) {
        *lock(&self.phase) = Some(phase);
    }

    pub fn phase(&self) -> Option<PhaseTag> {
        lock(&self.phase).clone()
    }

    pub fn is_running(&self) -> bool {
        self.session.status().running
    }

    /// Locust's state names.
    pub fn state(&self) -> &'static str {
        let status = self.session.status();
        match status.state {
            // The open model starts iterations without the runner's ramp: it still runs.
            RunState::Ready if status.running => "running",
            RunState::Ready => "ready",
            RunState::Spawning => "spawning",
            RunState::Running => "running",
            RunState::Stopping => "stopping",
            RunState::Stopped => "stopped",
        }
    }

    pub fn user_count(&self) -> u64 {
        self.session.status().user_count
    }

    pub fn started(&self) -> f64 {
        self.session.started()
    }

    /// Runs `read` on figures that include every request answered so far.
    pub fn with_stats<R>(&self, read: impl FnOnce(&Stats) -> R) -> R {
        self.session.with_stats(read)
    }

    pub fn history(&self) -> History {
        self.session.history()
    }

    /// When and why it ended; None while it runs.
    pub fn ending(&self) -> Option<(f64, StopReason)> {
        self.session.finished().map(|f| (f.end, f.reason))
    }

    /// `/stats/reset`: the figures and exceptions start again from now.
    pub fn reset(&self) {
        self.session.reset();
    }

    /// Stops the users (per `--stop-timeout`), then takes the last figures and writes the
    /// final CSV rows. Later calls wait for the first to finish and change nothing.
    pub async fn stop(&self, reason: StopReason) {
        self.session.finish(reason).await;
    }

    /// The finished test (finishing it now, as `reason`, if it still runs).
    pub async fn finish(&self, reason: StopReason) -> Arc<Finished> {
        self.session.finish(reason).await
    }
}
