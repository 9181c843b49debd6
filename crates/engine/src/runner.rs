//! Run control: the running users, ramps toward a target count at a spawn rate,
//! absolute counts per class at once (`set_counts`, what a worker is sent), and stop.
//! Driven through `RunnerHandle` by the binary's session (headless runs and the web UI
//! alike) and observed through a `watch` of `RunnerStatus`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

pub use super::dispatch::ClassWeight;
use super::ramp;
use super::user::StopSignals;
use crate::log_targets::RUNNERS;

mod counts;
mod distribution;
pub mod remote;

use distribution::Distribution;

/// Starts one user: `(user index, class index, stop signals)` to the user's future.
/// Injected so that tests can drive the runner with users that send nothing.
pub type Launcher =
    Arc<dyn Fn(u64, usize, StopSignals) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Locust's runner states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Ready,
    Spawning,
    Running,
    Stopping,
    Stopped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunnerStatus {
    pub state: RunState,
    pub user_count: u64,
    pub class_counts: BTreeMap<String, u64>,
    /// Bumped each time a ramp completes (for `--reset-stats` and logs).
    pub ramps_completed: u64,
    /// When the ramp's next spawn step is due, if one is pending: a sampler that ticks
    /// at the same moment waits for the step before it counts users.
    pub next_step: Option<Instant>,
    /// When the last spawn step taken was due, and the user count before it.
    pub last_step: Option<(Instant, u64)>,
}

impl RunnerStatus {
    /// The users there were at `at` by the ramp's schedule: the count before the last
    /// step when that step was due after `at` (a sampler that woke late), else now's.
    pub fn user_count_at(&self, at: Instant) -> u64 {
        match self.last_step {
            Some((due, before)) if due > at => before,
            _ => self.user_count,
        }
    }
}

enum Command {
    Ramp {
        users: u64,
        rate: f64,
        /// Only these classes (a stage's `user-classes`); None: every class.
        classes: Option<Vec<String>>,
    },
    /// Exactly these users per class, at once (Locust's `spawn` message to a worker).
    SetCounts {
        counts: BTreeMap<String, u64>,
    },
    Stop {
        done: oneshot::Sender<()>,
    },
}

/// Tells a running test what to do.
#[derive(Clone)]
pub struct RunnerHandle {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<RunnerStatus>,
}

impl RunnerHandle {
    /// Start, or change the user count and spawn rate of a running test.
    pub async fn ramp_to(&self, users: u64, rate: f64) {
        self.ramp_to_classes(users, rate, None).await;
    }

    /// As `ramp_to`, with users of `classes` only (None: all). Users of other classes
    /// stop at once; the rest are rebalanced toward the classes' weights.
    pub async fn ramp_to_classes(&self, users: u64, rate: f64, classes: Option<Vec<String>>) {
        let _ = self
            .commands
            .send(Command::Ramp {
                users,
                rate,
                classes,
            })
            .await;
    }

    /// Exactly `counts` users per class (classes not named: none), started or stopped at
    /// once, as a Locust worker applies a `spawn` message. Unknown names are ignored:
    /// the caller checks them against the plan.
    pub async fn set_counts(&self, counts: BTreeMap<String, u64>) {
        let _ = self.commands.send(Command::SetCounts { counts }).await;
    }

    /// Stops every user (per `--stop-timeout`) and waits until they are gone.
    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Stop { done }).await.is_ok() {
            let _ = wait.await;
        }
    }

    pub fn status(&self) -> watch::Receiver<RunnerStatus> {
        self.status.clone()
    }
}

struct RunningUser {
    index: u64,
    class: usize,
    signals: StopSignals,
}

struct ActiveRamp {
    started: Instant,
    steps: ramp::Ramp,
    next: u64,
}

/// One step taken off a ramp.
struct TakenStep {
    /// Users the step heads for.
    count: u64,
    /// When it was due.
    due: Option<Instant>,
    /// The ramp's last step.
    last: bool,
}

impl ActiveRamp {
    /// A ramp from `from` to `to` users at `rate`, starting now.
    fn new(from: u64, to: u64, rate: f64) -> Self {
        ActiveRamp {
            started: Instant::now(),
            steps: ramp::Ramp::new(from, to, rate),
            next: 0,
        }
    }

    /// When its next step is due, if it has one.
    fn next_due(&self) -> Option<Instant> {
        self.steps
            .step(self.next)
            .and_then(|s| self.started.checked_add(s.offset))
    }

    fn take(&mut self) -> Option<TakenStep> {
        let step = self.steps.step(self.next)?;
        self.next += 1;
        Some(TakenStep {
            count: step.count,
            due: self.started.checked_add(step.offset),
            last: self.next == self.steps.len(),
        })
    }
}

struct Runner {
    /// Each user's task reports its index here when it ends.
    exited: mpsc::UnboundedSender<u64>,
    /// The state last published.
    state: RunState,
    /// Which class each user of the target count belongs to.
    plan: Distribution,
    users: Vec<RunningUser>,
    next_user_index: u64,
    launch: Launcher,
    tracker: TaskTracker,
    stop_timeout: Duration,
    status: watch::Sender<RunnerStatus>,
    ramp: Option<ActiveRamp>,
    /// See [`RunnerStatus::last_step`].
    last_step: Option<(Instant, u64)>,
}

/// Starts the runner task. Users are spawned only after `ramp_to`.
pub fn spawn(weights: Vec<ClassWeight>, launch: Launcher, stop_timeout: Duration) -> RunnerHandle {
    let (status_tx, status_rx) = watch::channel(RunnerStatus {
        state: RunState::Ready,
        user_count: 0,
        class_counts: weights.iter().map(|c| (c.name.clone(), 0)).collect(),
        ramps_completed: 0,
        next_step: None,
        last_step: None,
    });
    let (commands, inbox) = mpsc::channel(16);
    let (exited, exits) = mpsc::unbounded_channel();
    let runner = Runner {
        exited,
        state: RunState::Ready,
        plan: Distribution::new(weights),
        users: Vec::new(),
        next_user_index: 0,
        launch,
        tracker: TaskTracker::new(),
        stop_timeout,
        status: status_tx,
        ramp: None,
        last_step: None,
    };
    tokio::spawn(runner.run(inbox, exits));
    RunnerHandle {
        commands,
        status: status_rx,
    }
}

impl Runner {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Command>,
        mut exits: mpsc::UnboundedReceiver<u64>,
    ) {
        loop {
            let deadline = self.next_step();
            tokio::select! {
                biased;
                command = inbox.recv() => match command {
                    Some(Command::Ramp { users, rate, classes }) => {
                        self.begin_ramp(users, rate, classes.as_deref());
                    }
                    Some(Command::SetCounts { counts }) => self.set_counts(&counts),
                    Some(Command::Stop { done }) => {
                        self.stop_all().await;
                        let _ = done.send(());
                    }
                    None => {
                        self.stop_all().await;
                        return;
                    }
                },
                Some(index) = exits.recv() => self.user_left(index),
                _ = sleep_until_opt(deadline) => self.advance_ramp(),
            }
        }
    }

    /// When the ramp's next step is due, if a ramp is under way.
    fn next_step(&self) -> Option<Instant> {
        self.ramp.as_ref().and_then(ActiveRamp::next_due)
    }

    fn begin_ramp(&mut self, users: u64, rate: f64, classes: Option<&[String]>) {
        tracing::info!(
            target: RUNNERS,
            "Ramping to {users} users at a rate of {rate:.2} per second"
        );
        let switched = self.switch_classes(classes);
        let ramp = ActiveRamp::new(self.users.len() as u64, users, rate);
        if switched && ramp.steps.is_empty() {
            // Same count, other classes: rebalance now.
            self.set_user_count(users);
        }
        self.ramp = Some(ramp);
        self.publish(RunState::Spawning, false);
        // A ramp to the current count has no steps: it is complete at once.
        self.advance_ramp_if_empty();
    }

    fn advance_ramp_if_empty(&mut self) {
        if self.ramp.as_ref().is_some_and(|r| r.steps.is_empty()) {
            self.finish_ramp();
        }
    }

    fn advance_ramp(&mut self) {
        let Some(step) = self.ramp.as_mut().and_then(ActiveRamp::take) else {
            return;
        };
        let before = self.users.len() as u64;
        self.set_user_count(step.count);
        self.last_step = step.due.map(|due| (due, before));
        if step.last {
            self.finish_ramp();
        } else {
            self.publish(RunState::Spawning, false);
        }
    }

    fn finish_ramp(&mut self) {
        self.ramp = None;
        log_all_spawned(&self.class_counts(), self.users.len() as u64);
        self.publish(RunState::Running, true);
    }

    fn spawn_user(&mut self, class: usize) {
        let signals = StopSignals::new();
        let index = self.next_user_index;
        self.next_user_index += 1;
        let user = (self.launch)(index, class, signals.clone());
        let exited = self.exited.clone();
        self.tracker.spawn(async move {
            user.await;
            let _ = exited.send(index);
        });
        self.users.push(RunningUser {
            index,
            class,
            signals,
        });
    }

    /// A user that ended by itself (`-i` used up, `on_start` failed) no longer counts,
    /// as in Locust; users the runner stopped were removed already.
    fn user_left(&mut self, index: u64) {
        if let Some(position) = self.users.iter().rposition(|u| u.index == index) {
            self.users.remove(position);
            self.publish(self.state, false);
        }
    }

    fn stop_user(&self, user: &RunningUser) {
        user.signals.graceful.cancel();
        if self.stop_timeout.is_zero() {
            user.signals.kill();
        } else {
            let signals = user.signals.clone();
            let timeout = self.stop_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                signals.kill();
            });
        }
    }

    async fn stop_all(&mut self) {
        self.ramp = None;
        self.publish(RunState::Stopping, false);
        let users = std::mem::take(&mut self.users);
        for user in users.iter().rev() {
            self.stop_user(user);
        }
        self.tracker.close();
        let deadline = self.stop_timeout.saturating_add(Duration::from_secs(15));
        if !self.stop_timeout.is_zero() {
            let waited = tokio::time::timeout(self.stop_timeout, self.tracker.wait()).await;
            if waited.is_err() {
                tracing::info!(
                    target: RUNNERS,
                    "Not all users finished their tasks & terminated in {} seconds. Stopping them...",
                    self.stop_timeout.as_secs()
                );
            }
        }
        let _ = tokio::time::timeout(deadline, self.tracker.wait()).await;
        self.tracker = TaskTracker::new();
        self.publish(RunState::Stopped, false);
    }

    fn class_counts(&self) -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = self
            .plan
            .weights
            .iter()
            .map(|c| (c.name.clone(), 0))
            .collect();
        for user in &self.users {
            if let Some(count) = counts.get_mut(&self.plan.weights[user.class].name) {
                *count += 1;
            }
        }
        counts
    }

    fn publish(&mut self, state: RunState, ramp_completed: bool) {
        self.state = state;
        let now = Published {
            state,
            user_count: self.users.len() as u64,
            class_counts: self.class_counts(),
            next_step: self.next_step(),
            last_step: self.last_step,
        };
        now.send(&self.status, ramp_completed);
    }
}

/// What either runner publishes after a change.
struct Published {
    state: RunState,
    user_count: u64,
    class_counts: BTreeMap<String, u64>,
    next_step: Option<Instant>,
    last_step: Option<(Instant, u64)>,
}

impl Published {
    fn send(self, status: &watch::Sender<RunnerStatus>, ramp_completed: bool) {
        status.send_modify(|status| {
            status.last_step = self.last_step;
            status.state = self.state;
            status.user_count = self.user_count;
            status.class_counts = self.class_counts;
            status.next_step = self.next_step;
            if ramp_completed {
                status.ramps_completed += 1;
            }
        });
    }
}

/// Locust's line at the end of a ramp.
fn log_all_spawned(counts: &BTreeMap<String, u64>, total: u64) {
    let json = python_json(counts);
    tracing::info!(target: RUNNERS, "All users spawned: {json} ({total} total users)");
}

/// `json.dumps` of a str -> int map as Python prints it: `{"A": 1, "B": 2}`.
fn python_json(counts: &BTreeMap<String, u64>) -> String {
    let pairs: Vec<String> = counts
        .iter()
        .map(|(name, count)| {
            let key = serde_json::to_string(name).unwrap_or_default();
            format!("{key}: {count}")
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
