//! One simulated user: its `vars`, `on_start`, then weighted (or, for a sequential
//! class, in-order; for a chain, drawn from the last task's `next`) tasks separated by
//! its wait time, then `on_stop` — Locust's User lifecycle. A task's steps run in order:
//! requests (a failure does not end the task, as in Locust, unless `stop_on_failure`
//! says so), pauses, `set`, conditions, loops, groups and metrics (`measure`).
//! Pacing wait times follow a `Pacer`'s deadlines. Stopping follows `--stop-timeout`: a
//! sleeping user leaves at once, a busy one finishes its task unless it is killed. The
//! open model (`PooledUser`) runs the same tasks one iteration at a time; `run_alone`
//! runs a file's `[[setup]]` or `[[teardown]]` steps once, as a user of its own.
//!
//! This module owns the lifecycle (class `vars`, `on_start`, the task loop and its
//! waits, `on_stop`) and the stop signals; picking and running one task is in `task`,
//! running a sequence of steps in `steps`, a request step in `request`, and each other
//! kind of step in a module of its own (`barrier`, `feed`, `measure`, `raise`,
//! `set_cookie`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use locust_scenario::{Action, StepError, UserClass, UserVars};
use locust_stats::RecordHandle;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pacer::Pacer;
use super::shared::Shared;
use crate::http::UserClient;

mod barrier;
mod feed;
mod measure;
mod raise;
mod request;
mod set_cookie;
mod steps;
mod task;

use task::TaskEnd;

/// How long `on_stop` may take after a user was told to stop.
const ON_STOP_LIMIT: Duration = Duration::from_secs(10);
/// How long a killed user's request in flight may still take to be answered and counted.
/// Locust abandons it at once; a short grace keeps an answer already on its way counted
/// (on loopback that takes well under a millisecond) while a stop with thousands of users
/// stays within 100 ms even when the target is slow or saturated.
const KILL_GRACE: Duration = Duration::from_millis(50);

/// The two ways a user is told to stop.
#[derive(Clone)]
pub struct StopSignals {
    /// Finish the current task, then leave (skip the wait).
    pub graceful: CancellationToken,
    /// Leave now, even in the middle of a request. Given with `kill()`.
    pub kill: CancellationToken,
    /// When `kill()` was first called: users killed together share one grace deadline,
    /// however late each of them is polled.
    killed_at: Arc<OnceLock<Instant>>,
}

impl StopSignals {
    pub fn new() -> Self {
        StopSignals {
            graceful: CancellationToken::new(),
            kill: CancellationToken::new(),
            killed_at: Arc::new(OnceLock::new()),
        }
    }

    pub fn kill(&self) {
        let _ = self.killed_at.set(Instant::now());
        self.kill.cancel();
    }

    /// Ends `KILL_GRACE` after the kill: when a request still in flight is abandoned.
    async fn grace_over(&self) {
        self.kill.cancelled().await;
        let killed_at = self.killed_at.get().copied().unwrap_or_else(Instant::now);
        tokio::time::sleep_until(killed_at + KILL_GRACE).await;
    }
}

/// Why a sequence of steps ended early.
enum Interrupted {
    Killed,
    /// The user stops itself (`stop_user`, a feeder's `when_empty = "stop_user"`):
    /// Locust's `raise StopUser()`. Its on_stop runs and it is not started again.
    Stopped,
    /// A step could not run (template error); recorded, and the task ends.
    Exception,
    /// A request failed where a failure ends the task (`stop_on_failure`).
    Failed,
}

struct UserRun {
    class: Arc<UserClass>,
    shared: Arc<Shared>,
    client: UserClient,
    stats: RecordHandle,
    vars: UserVars,
    rng: SmallRng,
    signals: StopSignals,
    /// Open model: where latency from the intended start is recorded, and how late the
    /// current iteration started.
    corrected: Option<RecordHandle>,
    lateness: Duration,
    /// A sequential class's or a chain's next task.
    next_task: usize,
    /// The groups whose steps are running, innermost last.
    groups: Vec<measure::GroupTally>,
}

/// Runs one user until it is stopped (or the iteration limit is reached).
pub async fn run_user(
    index: u64,
    class: Arc<UserClass>,
    shared: Arc<Shared>,
    signals: StopSignals,
) {
    let Some(mut user) = UserRun::new(index, class, shared, signals) else {
        return;
    };
    user.lifecycle().await;
    user.shared.user_finished();
}

/// An open-model user: `on_start` once, then one task per `iteration`, `on_stop` at
/// `finish`.
pub struct PooledUser(UserRun);

impl PooledUser {
    /// Starts a user (counted live until `finish`) and runs its `on_start`; None if the
    /// host is bad or `on_start` raised.
    pub async fn start(
        index: u64,
        class: Arc<UserClass>,
        shared: Arc<Shared>,
        corrected: RecordHandle,
        signals: StopSignals,
    ) -> Option<PooledUser> {
        shared.user_started();
        let mut user = UserRun::new(index, class, shared, signals)?;
        user.corrected = Some(corrected);
        let on_start = user.class.clone();
        if !user.set_class_vars() {
            PooledUser(user).finish().await;
            return None;
        }
        match user.run_steps(&on_start.on_start, false).await {
            Ok(()) | Err(Interrupted::Failed) => Some(PooledUser(user)),
            Err(Interrupted::Exception | Interrupted::Killed | Interrupted::Stopped) => {
                PooledUser(user).finish().await;
                None
            }
        }
    }

    /// Runs one weighted task; its requests are also recorded from `intended`. False if
    /// the user stopped itself (`stop_user`): the iteration ended there, and the caller
    /// `finish`es the user rather than keeping it in the pool.
    pub async fn iteration(&mut self, intended: Instant) -> bool {
        let user = &mut self.0;
        let total_weight: u64 = user.class.tasks.iter().map(|t| u64::from(t.weight)).sum();
        if total_weight == 0 || !user.shared.take_iteration() {
            return true;
        }
        user.lateness = Instant::now().saturating_duration_since(intended);
        user.run_task(total_weight).await != TaskEnd::Stopped
    }

    pub async fn finish(mut self) {
        self.0.on_stop().await;
        self.0.shared.user_finished();
    }
}

impl UserRun {
    /// None (and the user counted as finished) if the host is bad.
    fn new(
        index: u64,
        class: Arc<UserClass>,
        shared: Arc<Shared>,
        signals: StopSignals,
    ) -> Option<UserRun> {
        let host = shared
            .host
            .clone()
            .or_else(|| class.host.clone())
            .unwrap_or_default();
        let client = match UserClient::new(shared.clients.clone(), &host) {
            Ok(client) => client,
            Err(e) => {
                shared
                    .recorder
                    .handle(index as usize)
                    .record_exception(&format!("bad host for class {}: {e}", class.name), "");
                shared.user_finished();
                return None;
            }
        };
        Some(UserRun {
            stats: shared.recorder.handle(index as usize),
            vars: UserVars::with_globals(index, shared.globals.clone()),
            rng: SmallRng::from_rng(&mut rand::rng()),
            class,
            shared,
            client,
            signals,
            corrected: None,
            lateness: Duration::ZERO,
            next_task: 0,
            groups: Vec::new(),
        })
    }
}

/// Runs a file's `[[setup]]` (or `[[teardown]]`) steps once, as a user of its own
/// (index `u64::MAX`, so its stats shard is shared with no user in particular), and
/// hands back the variables the steps set: a setup's become every user's globals.
pub async fn run_alone(
    name: &str,
    steps: Vec<Action>,
    host: Option<String>,
    shared: Arc<Shared>,
) -> std::collections::HashMap<String, minijinja::Value> {
    let class = Arc::new(UserClass {
        name: name.to_string(),
        weight: 0.0,
        fixed_count: 0,
        wait_time: locust_scenario::WaitTime::default(),
        host,
        tags: Vec::new(),
        tasks: Vec::new(),
        on_start: steps,
        on_stop: Vec::new(),
        vars: None,
        sequential: false,
        source: Default::default(),
        order: 0,
    });
    shared.user_started();
    let Some(mut user) = UserRun::new(u64::MAX, class.clone(), shared, StopSignals::new()) else {
        return Default::default();
    };
    let _ = user.run_steps(&class.on_start, false).await;
    user.shared.user_finished();
    user.vars.own()
}

impl UserRun {
    /// The class's `vars`, set before anything else; false (the user ends, as a Python
    /// user whose constructor raised) when they cannot be rendered.
    fn set_class_vars(&mut self) -> bool {
        let class = self.class.clone();
        let Some(vars) = &class.vars else {
            return true;
        };
        match vars.apply(&mut self.vars, &mut self.rng) {
            Ok(()) => true,
            Err(e) => {
                self.log_exception(&e);
                false
            }
        }
    }

    async fn lifecycle(&mut self) {
        let class = self.class.clone();
        // Locust starts the pacing clock when the user is created, before on_start.
        let pacer = class
            .wait_time
            .pacing_period()
            .map(|period| Pacer::new(period, Instant::now()));
        if !self.set_class_vars() {
            self.on_stop().await;
            return;
        }
        match self.run_steps(&class.on_start, false).await {
            Ok(()) | Err(Interrupted::Failed) => {}
            // Locust: an exception in on_start kills the user (on_stop still runs), and
            // so does a StopUser raised there.
            Err(Interrupted::Exception | Interrupted::Killed | Interrupted::Stopped) => {
                self.on_stop().await;
                return;
            }
        }
        self.task_loop(pacer).await;
        self.on_stop().await;
    }

    async fn task_loop(&mut self, mut pacer: Option<Pacer>) {
        let class = self.class.clone();
        let total_weight: u64 = class.tasks.iter().map(|t| u64::from(t.weight)).sum();
        if total_weight == 0 {
            return;
        }
        loop {
            if self.signals.graceful.is_cancelled() || !self.shared.take_iteration() {
                return;
            }
            // Killed or stopped (Locust's StopUser): on_stop, and the user is gone.
            if self.run_task(total_weight).await != TaskEnd::GoOn {
                return;
            }
            if !self.wait(pacer.as_mut()).await {
                return;
            }
        }
    }

    /// The wait after a task; false if the user was told to stop meanwhile.
    async fn wait(&mut self, pacer: Option<&mut Pacer>) -> bool {
        let sleep = match pacer {
            Some(pacer) => {
                let now = Instant::now();
                let next = pacer.next_start(now);
                (next > now).then(|| tokio::time::sleep_until(next))
            }
            None => {
                let wait = self.class.wait_time.next_wait(&mut self.rng);
                (!wait.is_zero()).then(|| tokio::time::sleep(wait))
            }
        };
        match sleep {
            // A zero sleep would still wait for the next timer tick (about 1 ms);
            // yielding keeps other users fair without that cost.
            None => tokio::task::yield_now().await,
            Some(sleep) => tokio::select! {
                biased;
                _ = self.signals.graceful.cancelled() => return false,
                _ = sleep => {}
            },
        }
        true
    }

    async fn on_stop(&mut self) {
        let class = self.class.clone();
        if class.on_stop.is_empty() {
            return;
        }
        // on_stop runs even for a killed user (Locust does too), but bounded in time.
        self.signals = StopSignals::new();
        let signals = self.signals.clone();
        let guard = tokio::spawn(async move {
            tokio::time::sleep(ON_STOP_LIMIT).await;
            signals.kill();
        });
        let _ = self.run_steps(&class.on_stop, false).await;
        guard.abort();
    }

    /// A step that could not run: Locust logs a task's exception as an ERROR line and
    /// counts it in the exceptions table.
    fn log_exception(&mut self, error: &StepError) {
        self.tally_exception(error);
        tracing::error!(target: "locust.user.task", "{error}");
        self.stats
            .record_exception(&error.to_string(), &format!("in class {}", self.class.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    use locust_scenario::{Task, WaitTime};
    use locust_stats::Recorder;

    use crate::http::{ClientFactory, HttpOptions};

    /// A user whose one task sends nothing (it has no steps), so that only the loop's
    /// timing is measured. The iteration budget counts its task starts.
    fn silent_user(wait_time: WaitTime) -> (Arc<Shared>, StopSignals, tokio::task::JoinHandle<()>) {
        let class = Arc::new(UserClass {
            name: "Silent".into(),
            weight: 1.0,
            fixed_count: 0,
            wait_time,
            host: Some("http://127.0.0.1:9".into()),
            tags: Vec::new(),
            tasks: vec![Task {
                name: "nothing".into(),
                weight: 1,
                tags: Vec::new(),
                steps: Vec::new(),
                requires: Vec::new(),
                stop_on_failure: false,
                next: Vec::new(),
            }],
            on_start: Vec::new(),
            on_stop: Vec::new(),
            vars: None,
            sequential: false,
            source: Default::default(),
            order: 0,
        });
        let shared = Arc::new(Shared::new(
            Recorder::new(1),
            ClientFactory::new(HttpOptions::with_timeout(Duration::from_secs(1))).unwrap(),
            None,
            Some(u64::MAX),
        ));
        shared.user_started();
        let signals = StopSignals::new();
        let user = tokio::spawn(run_user(0, class, shared.clone(), signals.clone()));
        (shared, signals, user)
    }

    fn tasks_started(shared: &Shared) -> u64 {
        shared.iterations_started.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_through_the_user_loop_does_not_drift() {
        // 1/3 s is no whole number of timer ticks (1 ms): every wake-up is up to 1 ms
        // late, and a wait measured from the wake-up would drift by that much each time
        // (about 2 s over these 3,000 periods).
        let origin = Instant::now();
        let (shared, signals, user) = silent_user(WaitTime::ConstantThroughput(3.0));
        let period = WaitTime::ConstantPacing(1.0 / 3.0).pacing_period().unwrap();
        for n in 1..=3000u32 {
            let due = origin + period * n;
            tokio::time::sleep_until(due - Duration::from_millis(1)).await;
            assert_eq!(tasks_started(&shared), u64::from(n), "before start {n}");
            tokio::time::sleep_until(due + Duration::from_millis(1)).await;
            assert_eq!(tasks_started(&shared), u64::from(n) + 1, "after start {n}");
        }
        signals.graceful.cancel();
        user.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn users_killed_together_share_one_grace_deadline() {
        let signals = StopSignals::new();
        let killed = Instant::now();
        signals.kill();
        // This user is polled late, as one of thousands woken by the same stop: its
        // grace is not restarted from there.
        tokio::time::sleep(Duration::from_millis(30)).await;
        signals.grace_over().await;
        assert_eq!(killed.elapsed(), KILL_GRACE);
        signals.grace_over().await;
        assert_eq!(killed.elapsed(), KILL_GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_sleeping_pacing_user_leaves_at_once_on_a_graceful_stop() {
        let (shared, signals, user) = silent_user(WaitTime::ConstantPacing(60.0));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(tasks_started(&shared), 1);
        let stopped = Instant::now();
        signals.graceful.cancel();
        user.await.unwrap();
        assert_eq!(stopped.elapsed(), Duration::ZERO);
        assert_eq!(tasks_started(&shared), 1);
    }
}
