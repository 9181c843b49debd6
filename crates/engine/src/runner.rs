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
use super::dispatch::Dispatcher;
use super::ramp;
use super::user::StopSignals;
use crate::log_targets::RUNNERS;

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

struct Runner {
    /// Each user's task reports its index here when it ends.
    exited: mpsc::UnboundedSender<u64>,
    /// The state last published.
    state: RunState,
    weights: Vec<ClassWeight>,
    dispatcher: Dispatcher,
    /// Class of the n-th user of the target distribution, generated as far as needed.
    sequence: Vec<usize>,
    /// Classes users may currently belong to.
    active: Vec<bool>,
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
        dispatcher: Dispatcher::new(weights.clone()),
        active: vec![true; weights.len()],
        weights,
        sequence: Vec::new(),
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
        self.ramp.as_ref().and_then(|r| {
            r.steps
                .step(r.next)
                .and_then(|s| r.started.checked_add(s.offset))
        })
    }

    fn begin_ramp(&mut self, users: u64, rate: f64, classes: Option<&[String]>) {
        tracing::info!(
            target: RUNNERS,
            "Ramping to {users} users at a rate of {rate:.2} per second"
        );
        let switched = self.switch_classes(classes);
        let steps = ramp::Ramp::new(self.users.len() as u64, users, rate);
        if switched && steps.is_empty() {
            // Same count, other classes: rebalance now.
            self.set_user_count(users);
        }
        self.ramp = Some(ActiveRamp {
            started: Instant::now(),
            steps,
            next: 0,
        });
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
        let Some(ramp) = self.ramp.as_mut() else {
            return;
        };
        let Some(step) = ramp.steps.step(ramp.next) else {
            return;
        };
        let due = ramp.started.checked_add(step.offset);
        ramp.next += 1;
        let last = ramp.next == ramp.steps.len();
        let before = self.users.len() as u64;
        self.set_user_count(step.count);
        self.last_step = due.map(|due| (due, before));
        if last {
            self.finish_ramp();
        } else {
            self.publish(RunState::Spawning, false);
        }
    }

    fn finish_ramp(&mut self) {
        self.ramp = None;
        let json = python_json(&self.class_counts());
        tracing::info!(
            target: RUNNERS,
            "All users spawned: {json} ({} total users)",
            self.users.len()
        );
        self.publish(RunState::Running, true);
    }

    /// Restricts users to `classes` (None: all). Users of excluded classes stop now, and
    /// the target distribution starts again over the classes left. True if it changed.
    fn switch_classes(&mut self, classes: Option<&[String]>) -> bool {
        let active: Vec<bool> = self
            .weights
            .iter()
            .map(|w| classes.is_none_or(|names| names.contains(&w.name)))
            .collect();
        if active == self.active {
            return false;
        }
        let users = std::mem::take(&mut self.users);
        for user in users {
            if active[user.class] {
                self.users.push(user);
            } else {
                self.stop_user(&user);
            }
        }
        let masked = self
            .weights
            .iter()
            .zip(&active)
            .map(|(w, on)| ClassWeight {
                weight: if *on { w.weight } else { 0.0 },
                fixed_count: if *on { w.fixed_count } else { 0 },
                name: w.name.clone(),
            })
            .collect();
        self.dispatcher = Dispatcher::new(masked);
        self.sequence.clear();
        self.active = active;
        true
    }

    /// Users per class among the first `target` of the target distribution (the
    /// dispatcher's sequence, generated as far as needed).
    fn desired_counts(&mut self, target: usize) -> Vec<u64> {
        while self.sequence.len() < target {
            let Some(class) = self.dispatcher.next_class() else {
                break;
            };
            self.sequence.push(class);
        }
        let mut counts = vec![0u64; self.weights.len()];
        for &class in self.sequence.iter().take(target) {
            counts[class] += 1;
        }
        counts
    }

    /// Moves to `target` users distributed as the sequence's first `target`: surplus
    /// users stop, the most recently started first (Locust's LIFO ramp-down); missing
    /// ones start in sequence order.
    fn set_user_count(&mut self, target: u64) {
        let desired = self.desired_counts(target as usize);
        let mut counts = vec![0u64; self.weights.len()];
        for user in &self.users {
            counts[user.class] += 1;
        }
        let mut leaving = vec![false; self.users.len()];
        for (position, user) in self.users.iter().enumerate().rev() {
            if counts[user.class] > desired[user.class] {
                counts[user.class] -= 1;
                leaving[position] = true;
            }
        }
        if leaving.contains(&true) {
            let users = std::mem::take(&mut self.users);
            for (user, leaves) in users.into_iter().zip(leaving) {
                if leaves {
                    self.stop_user(&user);
                } else {
                    self.users.push(user);
                }
            }
        }
        let mut placed = vec![0u64; self.weights.len()];
        for position in 0..self.sequence.len().min(target as usize) {
            let class = self.sequence[position];
            placed[class] += 1;
            if placed[class] > counts[class] {
                counts[class] += 1;
                self.spawn_user(class);
            }
        }
    }

    /// Moves to `counts` users per class at once: surplus users stop (the most recently
    /// started first), missing ones start, classes taking turns.
    fn set_counts(&mut self, counts: &BTreeMap<String, u64>) {
        self.ramp = None;
        let desired: Vec<u64> = self
            .weights
            .iter()
            .map(|w| counts.get(&w.name).copied().unwrap_or(0))
            .collect();
        let json = python_json(counts);
        tracing::info!(target: RUNNERS, "Setting users per class: {json}");
        let mut have = vec![0u64; self.weights.len()];
        for user in &self.users {
            have[user.class] += 1;
        }
        let users = std::mem::take(&mut self.users);
        for user in users.into_iter().rev() {
            if have[user.class] > desired[user.class] {
                have[user.class] -= 1;
                self.stop_user(&user);
            } else {
                self.users.push(user);
            }
        }
        self.users.reverse();
        while have.iter().zip(&desired).any(|(h, d)| h < d) {
            for class in 0..self.weights.len() {
                if have[class] < desired[class] {
                    have[class] += 1;
                    self.spawn_user(class);
                }
            }
        }
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
        let mut counts: BTreeMap<String, u64> =
            self.weights.iter().map(|c| (c.name.clone(), 0)).collect();
        for user in &self.users {
            if let Some(count) = counts.get_mut(&self.weights[user.class].name) {
                *count += 1;
            }
        }
        counts
    }

    fn publish(&mut self, state: RunState, ramp_completed: bool) {
        self.state = state;
        let counts = self.class_counts();
        let user_count = self.users.len() as u64;
        let next_step = self.next_step();
        let last_step = self.last_step;
        self.status.send_modify(|status| {
            status.last_step = last_step;
            status.state = state;
            status.user_count = user_count;
            status.class_counts = counts;
            status.next_step = next_step;
            if ramp_completed {
                status.ramps_completed += 1;
            }
        });
    }
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
mod tests {
    use super::super::dispatch::weighted as classes;
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Users that send nothing and leave when told to.
    fn idle_users() -> Launcher {
        Arc::new(|_, _, signals: StopSignals| {
            Box::pin(async move { signals.graceful.cancelled().await })
        })
    }

    /// (seconds since the ramp started, user count) at each change until `Running`.
    async fn record_ramp(handle: &RunnerHandle, users: u64, rate: f64) -> Vec<(f64, u64)> {
        let mut status = handle.status();
        let started = Instant::now();
        handle.ramp_to(users, rate).await;
        let mut seen = Vec::new();
        loop {
            let current = status.borrow_and_update().clone();
            let point = (
                (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
                current.user_count,
            );
            if seen.last().map(|p: &(f64, u64)| p.1) != Some(point.1) && current.user_count > 0 {
                seen.push(point);
            }
            if current.state == RunState::Running && current.user_count == users {
                return seen;
            }
            status.changed().await.unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ramp_up_follows_locust_spawn_timing() {
        let handle = spawn(classes(&[("A", 1.0)]), idle_users(), Duration::ZERO);
        assert_eq!(
            record_ramp(&handle, 5, 2.0).await,
            vec![(0.0, 2), (1.0, 4), (2.0, 5)]
        );
        let slow = spawn(classes(&[("A", 1.0)]), idle_users(), Duration::ZERO);
        assert_eq!(
            record_ramp(&slow, 3, 0.5).await,
            vec![(0.0, 1), (2.0, 2), (4.0, 3)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn users_spread_over_classes_and_ramp_down_is_lifo() {
        let handle = spawn(
            classes(&[("A", 3.0), ("B", 1.0)]),
            idle_users(),
            Duration::ZERO,
        );
        record_ramp(&handle, 8, 100.0).await;
        let counts = handle.status().borrow().class_counts.clone();
        assert_eq!(counts["A"], 6);
        assert_eq!(counts["B"], 2);
        // Sequence ABAAABAA: dropping to 5 removes the last three (A, A, B).
        let mut status = handle.status();
        handle.ramp_to(5, 100.0).await;
        loop {
            let current = status.borrow_and_update().clone();
            if current.state == RunState::Running && current.user_count == 5 {
                assert_eq!(current.class_counts["A"], 4);
                assert_eq!(current.class_counts["B"], 1);
                break;
            }
            status.changed().await.unwrap();
        }
        handle.stop().await;
        let stopped = handle.status().borrow().clone();
        assert_eq!((stopped.state, stopped.user_count), (RunState::Stopped, 0));
    }

    /// Waits until the published counts are `want` (bounded by the paused clock).
    async fn counts_become(handle: &RunnerHandle, want: &[(&str, u64)]) -> RunnerStatus {
        let mut status = handle.status();
        loop {
            let current = status.borrow_and_update().clone();
            if want.iter().all(|(c, n)| current.class_counts[*c] == *n) {
                return current;
            }
            status.changed().await.unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn set_counts_applies_absolute_counts_per_class_at_once() {
        let handle = spawn(
            classes(&[("A", 3.0), ("B", 1.0), ("C", 1.0)]),
            idle_users(),
            Duration::ZERO,
        );
        let started = Instant::now();
        let counts = |a, b, c| {
            BTreeMap::from([
                ("A".to_string(), a),
                ("B".to_string(), b),
                ("C".to_string(), c),
            ])
        };
        handle.set_counts(counts(1, 4, 0)).await;
        let status = counts_become(&handle, &[("A", 1), ("B", 4), ("C", 0)]).await;
        assert_eq!((status.state, status.user_count), (RunState::Running, 5));
        // No spawn rate: the counts are reached without the clock moving.
        assert_eq!(started.elapsed(), Duration::ZERO);
        handle.set_counts(counts(2, 1, 3)).await;
        let status = counts_become(&handle, &[("A", 2), ("B", 1), ("C", 3)]).await;
        assert_eq!(status.user_count, 6);
        // A class left out has no users.
        handle
            .set_counts(BTreeMap::from([("C".to_string(), 1)]))
            .await;
        let status = counts_become(&handle, &[("A", 0), ("B", 0), ("C", 1)]).await;
        assert_eq!(status.user_count, 1);
        handle.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn stop_timeout_lets_busy_users_finish_then_kills_the_rest() {
        let finished = Arc::new(AtomicU64::new(0));
        let killed = Arc::new(AtomicU64::new(0));
        let (f, k) = (finished.clone(), killed.clone());
        // Even users finish a 2 s task after the graceful signal; odd ones never do.
        let launch: Launcher = Arc::new(move |index, _, signals: StopSignals| {
            let (f, k) = (f.clone(), k.clone());
            Box::pin(async move {
                signals.graceful.cancelled().await;
                let task = tokio::time::sleep(if index % 2 == 0 {
                    Duration::from_secs(2)
                } else {
                    Duration::from_secs(3600)
                });
                tokio::select! {
                    _ = task => { f.fetch_add(1, Ordering::SeqCst); }
                    _ = signals.kill.cancelled() => { k.fetch_add(1, Ordering::SeqCst); }
                }
            })
        });
        let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::from_secs(5));
        record_ramp(&handle, 4, 100.0).await;
        let started = Instant::now();
        handle.stop().await;
        assert_eq!(finished.load(Ordering::SeqCst), 2);
        assert_eq!(killed.load(Ordering::SeqCst), 2);
        assert_eq!(started.elapsed().as_secs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_target_while_ramping_starts_from_the_current_count() {
        let handle = spawn(classes(&[("A", 1.0)]), idle_users(), Duration::ZERO);
        let mut status = handle.status();
        handle.ramp_to(10, 1.0).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(status.borrow_and_update().user_count, 3);
        handle.ramp_to(2, 10.0).await;
        loop {
            let current = status.borrow_and_update().clone();
            if current.state == RunState::Running {
                assert_eq!(current.user_count, 2);
                break;
            }
            status.changed().await.unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn switching_classes_stops_the_excluded_and_rebalances() {
        let handle = spawn(
            classes(&[("A", 1.0), ("B", 1.0), ("C", 2.0)]),
            idle_users(),
            Duration::ZERO,
        );
        let running = |handle: &RunnerHandle| {
            let mut status = handle.status();
            async move {
                loop {
                    let current = status.borrow_and_update().clone();
                    if current.state == RunState::Running {
                        return current.class_counts;
                    }
                    status.changed().await.unwrap();
                }
            }
        };
        handle
            .ramp_to_classes(6, 100.0, Some(vec!["A".into(), "B".into()]))
            .await;
        let counts = running(&handle).await;
        assert_eq!((counts["A"], counts["B"], counts["C"]), (3, 3, 0));
        handle
            .ramp_to_classes(4, 100.0, Some(vec!["C".into()]))
            .await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let counts = running(&handle).await;
        assert_eq!((counts["A"], counts["B"], counts["C"]), (0, 0, 4));
        // All classes again at the same count: rebalanced to the weights 1:1:2.
        handle.ramp_to(4, 100.0).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let counts = running(&handle).await;
        assert_eq!((counts["A"], counts["B"], counts["C"]), (1, 1, 2));
        handle.ramp_to(8, 100.0).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let counts = running(&handle).await;
        assert_eq!((counts["A"], counts["B"], counts["C"]), (2, 2, 4));
    }

    /// Users as the real ones behave toward stopping: odd ones sleep in a long wait and
    /// leave on the graceful signal, even ones are forever in the middle of a request and
    /// leave only when killed. `ended` counts the users that left.
    fn sleeping_and_busy_users(ended: Arc<AtomicU64>) -> Launcher {
        Arc::new(move |index, _, signals: StopSignals| {
            let ended = ended.clone();
            Box::pin(async move {
                let leave = if index % 2 == 1 {
                    signals.graceful.clone()
                } else {
                    signals.kill.clone()
                };
                loop {
                    tokio::select! {
                        biased;
                        _ = leave.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                    }
                }
                ended.fetch_add(1, Ordering::SeqCst);
            })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn stop_with_thousands_of_users_takes_no_time_at_stop_timeout_zero() {
        let ended = Arc::new(AtomicU64::new(0));
        let handle = spawn(
            classes(&[("A", 1.0), ("B", 1.0)]),
            sleeping_and_busy_users(ended.clone()),
            Duration::ZERO,
        );
        record_ramp(&handle, 2500, 2500.0).await;
        tokio::time::sleep(Duration::from_secs(7)).await;
        let started = Instant::now();
        handle.stop().await;
        // Paused time moves only when every task waits on a timer, so any wait for a
        // sleeping user, a request or a timeout would show here.
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(ended.load(Ordering::SeqCst), 2500);
        let stopped = handle.status().borrow().clone();
        assert_eq!((stopped.state, stopped.user_count), (RunState::Stopped, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn sleeping_users_leave_at_once_even_with_a_stop_timeout() {
        let ended = Arc::new(AtomicU64::new(0));
        // Every user sleeps (odd indices only, as launched with 1, 3, 5, ...).
        let sleepers = sleeping_and_busy_users(ended.clone());
        let launch: Launcher =
            Arc::new(move |index, class, signals| (sleepers)(index * 2 + 1, class, signals));
        let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::from_secs(30));
        record_ramp(&handle, 2000, 2000.0).await;
        let started = Instant::now();
        handle.stop().await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(ended.load(Ordering::SeqCst), 2000);
    }

    #[tokio::test(start_paused = true)]
    async fn spawn_rate_is_kept_while_users_are_busy_with_slow_requests() {
        // Each user spends 5 s in its first request (as a slow on_start would) and then
        // sends 2 s requests back to back: nothing the ramp may wait for.
        let launch: Launcher = Arc::new(|_, _, signals: StopSignals| {
            Box::pin(async move {
                let mut request = Duration::from_secs(5);
                loop {
                    tokio::select! {
                        biased;
                        _ = signals.graceful.cancelled() => return,
                        _ = tokio::time::sleep(request) => request = Duration::from_secs(2),
                    }
                }
            })
        });
        let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::ZERO);
        let status = handle.status();
        let started = Instant::now();
        handle.ramp_to(2000, 100.0).await;
        // Steps of 100 users at 0 s, 1 s, ..., 19 s (Locust: the first at once).
        for second in 0..25u64 {
            let expected = (100 * (second + 1)).min(2000);
            for at in [1, 500, 999] {
                let when = started + Duration::from_secs(second) + Duration::from_millis(at);
                tokio::time::sleep_until(when).await;
                let current = status.borrow().clone();
                assert_eq!(current.user_count, expected, "at {second}.{at:03} s");
                let running = second >= 19;
                assert_eq!(current.state == RunState::Running, running, "at {second} s");
            }
        }
        handle.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn users_that_end_by_themselves_no_longer_count() {
        // Odd users leave after 1 s on their own (as -i does); even ones stay.
        let launch: Launcher = Arc::new(|index, _, signals: StopSignals| {
            Box::pin(async move {
                if index % 2 == 1 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                } else {
                    signals.graceful.cancelled().await;
                }
            })
        });
        let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::ZERO);
        record_ramp(&handle, 6, 100.0).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let status = handle.status().borrow().clone();
        assert_eq!((status.state, status.user_count), (RunState::Running, 3));
        assert_eq!(status.class_counts["A"], 3);
        handle.stop().await;
        assert_eq!(handle.status().borrow().user_count, 0);
    }
}
