//! One test started from the web UI: the `Session` that runs it, with the settings,
//! criteria and report context of that test (the form's numbers, a profile's criteria),
//! ended once, whoever asks first: the Stop button, its run time, the iteration limit,
//! a failed `abort` criterion, or the process quitting.

use std::sync::Arc;

use locust_scenario::{RunSteps, UserClass};
use locust_stats::{epoch_now, History, Stats};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::judge::Judge;
use crate::outcome::{Finished, StopReason};
use crate::session::{Command, Session};
use crate::sinks::console::Console;
use crate::sinks::report::ReportContext;
use crate::sinks::{self, Periodic};
use locust_engine::RunState;

pub struct TestRun {
    /// The session's settings with this test's users, rate, host, run time and classes.
    pub settings: Settings,
    pub judge: Judge,
    pub report: ReportContext,
    pub classes: Vec<Arc<UserClass>>,
    session: Arc<Session>,
    /// Cancelled once the test has fully stopped.
    pub done: CancellationToken,
}

impl TestRun {
    /// Starts the users toward `settings.spec.users` at `settings.spec.spawn_rate`.
    pub async fn start(
        settings: Settings,
        judge: Judge,
        report: ReportContext,
        classes: Vec<Arc<UserClass>>,
        run_steps: Vec<RunSteps>,
    ) -> anyhow::Result<Arc<TestRun>> {
        let csv = sinks::csv_writer(&settings.output, epoch_now())?;
        let abort = judge.abort_watch(&settings);
        let may_end_by_itself = settings.spec.iterations.is_some() || abort.is_some();
        let session = Session::start(
            settings.spec.clone(),
            classes.clone(),
            &run_steps,
            Periodic::new(Console::new(&settings), csv),
            judge.cache_role.clone(),
            settings.output.csv_full_history,
            abort,
        )
        .await?;
        let test = Arc::new(TestRun {
            done: session.done.clone(),
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
        self.session.apply(Command::Ramp { users, rate }).await;
    }

    pub fn is_running(&self) -> bool {
        self.session.status().running
    }

    /// Locust's state names.
    pub fn state(&self) -> &'static str {
        match self.session.status().state {
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
