//! The load shape driver: a profile's stages (Locust's LoadTestShape, declared in
//! `locust.toml`) played against the runner. A stage holds a count (the runner is
//! retargeted at its start: `ramp_to` never blocks, so a long ramp cannot delay later
//! stages), ramps it linearly or smoothly (retargeted every second, as Locust ticks a
//! shape), steps it every so often, or computes it every second from the run time (a
//! [`Formula`], Locust's `double_wave.py`); it may first wait until the runner has its
//! users (Locust's `wait_user_count.py`), which delays every later stage by the wait.
//! The run ends after the last stage. The curves are pure functions of the time into
//! the stage ([`Curve::target_at`]), tested without clocks; the driver under tokio's
//! paused clock, through [`rehearse`] (idle users, nothing sent).

use std::f64::consts::PI;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::runner::{self, ClassWeight, Launcher, RunnerHandle, RunnerStatus};
use crate::log_targets::RUNNERS;
use crate::user::StopSignals;

/// How often a ramp's count is recomputed: Locust ticks a LoadTestShape every second.
pub const TICK: Duration = Duration::from_secs(1);

/// One stage: from the previous stage's end until `end` (since the shape started, plus
/// any time earlier stages waited for their users), move the user count as `curve`
/// says toward `users`, at `spawn_rate` users per second, of `user_classes` only when
/// set (Locust's shape tick returning classes).
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub end: Duration,
    /// The count the stage heads for: held, or reached by the ramp's or the steps' end.
    pub users: u64,
    pub spawn_rate: f64,
    pub user_classes: Option<StageClasses>,
    pub curve: Curve,
    /// The stage's time starts only when the runner has `users` (a `Hold` stage only).
    pub wait_for_users: bool,
}

impl Stage {
    /// A stage that heads for `users` at `spawn_rate` and holds them until `end`
    /// (every class, no waiting).
    pub fn hold(end: Duration, users: u64, spawn_rate: f64) -> Stage {
        Stage {
            end,
            users,
            spawn_rate,
            user_classes: None,
            curve: Curve::Hold,
            wait_for_users: false,
        }
    }
}

/// A stage's classes and where they were written (for errors about unknown names).
#[derive(Debug, Clone, PartialEq)]
pub struct StageClasses {
    pub names: Vec<String>,
    /// `locust.toml:42: key `profiles.spike.stages[1].user-classes``.
    pub origin: String,
}

/// How a stage moves the user count to its `users`.
#[derive(Debug, Clone, PartialEq)]
pub enum Curve {
    /// Head for `users` at the stage's start and hold them (Locust's `stages.py`).
    Hold,
    /// From `from` at the stage's start toward `users` at its end, the count
    /// recomputed every [`TICK`] and rounded to the nearest user.
    Ramp { from: u64, easing: Easing },
    /// `step` users more (or fewer, when `users` is below `from`) at the stage's start
    /// and again every `every`, never past `users` (Locust's `step_load.py`).
    Steps {
        from: u64,
        step: u64,
        every: Duration,
    },
    /// The count computed every [`TICK`] from the time (Locust's `tick()` computing
    /// it, as `double_wave.py`), rounded to the nearest user as Python's `round()`
    /// (halves to even); below 0, NaN or infinite is 0. The spawn rate is the stage's
    /// or, when given, `spawn_rate` computed at the same tick. The stage's `users` is
    /// where the formula stands at the stage's end (for a next stage's `from`).
    Formula {
        users: Formula,
        spawn_rate: Option<Formula>,
    },
}

/// A number computed from `t` (seconds since the shape started, as Locust's
/// `get_run_time()`), `stage_t` (seconds since the stage started) and, for a spawn
/// rate, `users` (the count the stage's formula gives at the same tick): a compiled
/// expression, handed over by whoever compiled it, with its text (which `Debug` shows
/// and `==` compares).
#[derive(Clone)]
pub struct Formula {
    source: Arc<str>,
    eval: FormulaFn,
}

type FormulaFn = Arc<dyn Fn(f64, f64, f64) -> Result<f64, String> + Send + Sync>;

impl Formula {
    pub fn new(
        source: impl Into<String>,
        eval: impl Fn(f64, f64, f64) -> Result<f64, String> + Send + Sync + 'static,
    ) -> Formula {
        Formula {
            source: Arc::from(source.into()),
            eval: Arc::new(eval),
        }
    }

    /// The expression's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The value at `t` s since the shape started, `stage_t` s since the stage did,
    /// with the stage's count at that tick `users` (0 for the count's own formula).
    pub fn eval(&self, t: f64, stage_t: f64, users: f64) -> Result<f64, String> {
        (self.eval)(t, stage_t, users)
    }

    /// The value as a user count: rounded as Python's `round()` (halves to even);
    /// below 0, NaN or infinite gives 0 and says why.
    pub fn count(&self, t: f64, stage_t: f64) -> Result<(u64, Option<String>), String> {
        let value = self.eval(t, stage_t, 0.0)?;
        let at = || format!("`users = \"{}\"` gives {value} at t = {t} s", self.source);
        if !value.is_finite() {
            return Ok((0, Some(format!("{}: not a number, 0 users instead", at()))));
        }
        let count = value.round_ties_even();
        if count < 0.0 {
            return Ok((0, Some(format!("{}: below 0, 0 users instead", at()))));
        }
        // `as` saturates: a count past u64::MAX is u64::MAX.
        Ok((count as u64, None))
    }
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Formula").field(&self.source).finish()
    }
}

impl PartialEq for Formula {
    fn eq(&self, other: &Formula) -> bool {
        self.source == other.source
    }
}

/// What a curve asks for at one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub users: u64,
    /// A formula's spawn rate at this tick; None: the stage's (or the formula's last
    /// one, when this one is not a number > 0: `warning` says so).
    pub spawn_rate: Option<f64>,
    /// Why a formula's value was not used as it is.
    pub warning: Option<String>,
}

impl Target {
    fn users(users: u64) -> Target {
        Target {
            users,
            spawn_rate: None,
            warning: None,
        }
    }
}

/// The form of a ramp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Easing {
    /// A straight line.
    Linear,
    /// Half a cosine wave: flat at both ends, steepest half-way (π/2 times a linear
    /// ramp's slope), so that a smooth ramp up then down makes a bell.
    Smooth,
}

impl Easing {
    /// The share of the way covered at `x` (0..=1) of the stage.
    fn at(self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        match self {
            Easing::Linear => x,
            Easing::Smooth => (1.0 - (PI * x).cos()) / 2.0,
        }
    }

    /// The largest slope relative to a linear ramp's.
    fn steepest(self) -> f64 {
        match self {
            Easing::Linear => 1.0,
            Easing::Smooth => PI / 2.0,
        }
    }
}

impl Curve {
    /// The count asked for at `offset` into a stage of `length` heading for `users`,
    /// which started `start` after the shape (a formula's `t` is `start + offset`).
    /// An error only from a formula that failed: the count stays as it was.
    pub fn target_at(
        &self,
        users: u64,
        length: Duration,
        start: Duration,
        offset: Duration,
    ) -> Result<Target, String> {
        let count = match self {
            Curve::Hold => users,
            Curve::Ramp { from, easing } => {
                if length.is_zero() {
                    return Ok(Target::users(users));
                }
                let x = offset.as_secs_f64() / length.as_secs_f64();
                let span = users as f64 - *from as f64;
                (*from as f64 + span * easing.at(x)).round().max(0.0) as u64
            }
            Curve::Steps { from, step, every } => {
                let (from, step) = (*from, *step);
                let steps = steps_by(offset, *every).saturating_add(1);
                let moved = steps.saturating_mul(step);
                if users >= from {
                    from.saturating_add(moved).min(users)
                } else {
                    from.saturating_sub(moved).max(users)
                }
            }
            Curve::Formula { users, spawn_rate } => {
                let t = (start + offset).as_secs_f64();
                let stage_t = offset.as_secs_f64();
                let (count, mut warning) = users.count(t, stage_t)?;
                let rate = match spawn_rate {
                    None => None,
                    Some(rate) => match rate.eval(t, stage_t, count as f64)? {
                        r if r.is_finite() && r > 0.0 => Some(r),
                        r => {
                            warning.get_or_insert(format!(
                                "`spawn-rate = \"{}\"` gives {r} at t = {t} s: not a number \
                                 > 0, the last spawn rate instead",
                                rate.source()
                            ));
                            None
                        }
                    },
                };
                return Ok(Target {
                    users: count,
                    spawn_rate: rate,
                    warning,
                });
            }
        };
        Ok(Target::users(count))
    }

    /// The next offset after `offset` at which the count may change, if any before the
    /// stage's `length` is up: the next tick of a ramp, the next step (none once the
    /// steps reached `users`), never for `Hold`.
    pub fn next_change(&self, users: u64, length: Duration, offset: Duration) -> Option<Duration> {
        let period = match self {
            Curve::Hold => return None,
            Curve::Ramp { from, .. } if *from == users => return None,
            Curve::Ramp { .. } | Curve::Formula { .. } => TICK,
            Curve::Steps { from, step, every } => {
                let moved = steps_by(offset, *every)
                    .saturating_add(1)
                    .saturating_mul(*step);
                if moved >= from.abs_diff(users) {
                    return None;
                }
                *every
            }
        };
        let k = steps_by(offset, period).saturating_add(1);
        let nanos = u128::from(k).checked_mul(period.as_nanos().max(1))?;
        let next = Duration::from_nanos(u64::try_from(nanos).ok()?);
        (next < length).then_some(next)
    }

    /// The spawn rate at which every change of the count happens at once (one step of
    /// the runner's ramp): the steepest change per tick of a ramp, rounded up, or a
    /// step's size. None for `Hold` and `Formula`, which need a spawn rate given.
    pub fn at_once_rate(&self, users: u64, length: Duration) -> Option<f64> {
        match self {
            Curve::Hold | Curve::Formula { .. } => None,
            Curve::Ramp { from, easing } => {
                let seconds = length.as_secs_f64().max(TICK.as_secs_f64());
                let slope = from.abs_diff(users) as f64 / seconds * easing.steepest();
                Some(slope.ceil().max(1.0))
            }
            Curve::Steps { step, .. } => Some((*step).max(1) as f64),
        }
    }
}

/// Whole `every`s in `offset` (`every` zero counts as one nanosecond).
fn steps_by(offset: Duration, every: Duration) -> u64 {
    let every = every.as_nanos().max(1);
    u64::try_from(offset.as_nanos() / every).unwrap_or(u64::MAX)
}

/// Plays `stages` on `runner` and cancels `done` after the last one ends. Stopping
/// the users is left to whoever waits on `done` (the run's normal shutdown).
pub async fn drive(runner: RunnerHandle, stages: Vec<Stage>, done: CancellationToken) {
    let started = Instant::now();
    let mut status = runner.status();
    tracing::info!(target: RUNNERS, "Shape test starting.");
    let mut previous_end = Duration::ZERO;
    // Time spent waiting for users: it shifts every later stage.
    let mut waited = Duration::ZERO;
    for stage in &stages {
        let start = previous_end + waited;
        let begin = started + start;
        let length = stage.end.saturating_sub(previous_end);
        let classes = stage.user_classes.as_ref().map(|c| c.names.clone());
        let ramps_before = status.borrow().ramps_completed;
        let mut offset = Duration::ZERO;
        let mut last = None;
        let mut rate = stage.spawn_rate;
        // A formula's problems are logged once a stage.
        let mut warned = false;
        loop {
            let mut warn = |message: String| {
                if !std::mem::replace(&mut warned, true) {
                    tracing::warn!(target: RUNNERS, "Shape test: {message}");
                }
            };
            match stage.curve.target_at(stage.users, length, start, offset) {
                Err(error) => warn(format!("{error}; the count stays as it was")),
                Ok(target) => {
                    if let Some(message) = target.warning {
                        warn(message);
                    }
                    rate = target.spawn_rate.unwrap_or(rate);
                    let count = target.users;
                    if last != Some((count, rate)) {
                        tracing::info!(
                            target: RUNNERS,
                            "Shape test updating to {count} users at {rate:.2} spawn rate"
                        );
                        runner.ramp_to_classes(count, rate, classes.clone()).await;
                        last = Some((count, rate));
                    }
                }
            }
            match stage.curve.next_change(stage.users, length, offset) {
                Some(next) => {
                    tokio::time::sleep_until(begin + next).await;
                    offset = next;
                }
                None => break,
            }
        }
        if stage.wait_for_users {
            reach(&mut status, ramps_before, stage.users).await;
            let wait = begin.elapsed();
            tracing::info!(
                target: RUNNERS,
                "Shape test reached {} users after {:.1} s",
                stage.users,
                wait.as_secs_f64()
            );
            waited += wait;
        }
        previous_end = stage.end;
        tokio::time::sleep_until(started + stage.end + waited).await;
    }
    tracing::info!(target: RUNNERS, "Shape test stopping");
    done.cancel();
}

/// Until the runner has finished a ramp begun after `ramps_before` (so a status from
/// before the stage's command cannot count) and has `users`. Returns at once if the
/// runner is gone: the run is ending anyway.
async fn reach(status: &mut watch::Receiver<RunnerStatus>, ramps_before: u64, users: u64) {
    let _ = status
        .wait_for(|s| s.ramps_completed > ramps_before && s.user_count == users)
        .await;
}

/// What a shape does to the user count, without a target: plays `stages` as [`drive`]
/// does on a runner of `classes` (name, weight) whose users do nothing, and returns its
/// status sampled at `first` and every `every` after while the shape runs, and how long
/// the shape ran. Under tokio's paused clock (`start_paused`) it takes no real time;
/// otherwise it takes the shape's own.
pub async fn rehearse(
    classes: &[(&str, f64)],
    stages: Vec<Stage>,
    first: Duration,
    every: Duration,
) -> (Vec<RunnerStatus>, Duration) {
    let weights = classes
        .iter()
        .map(|(name, weight)| ClassWeight {
            name: (*name).to_string(),
            weight: *weight,
            fixed_count: 0,
        })
        .collect();
    let idle: Launcher = Arc::new(|_, _, signals: StopSignals| {
        Box::pin(async move { signals.graceful.cancelled().await })
    });
    let handle = runner::spawn(weights, idle, Duration::ZERO);
    let done = CancellationToken::new();
    let started = Instant::now();
    let status = handle.status();
    tokio::spawn(drive(handle.clone(), stages, done.clone()));
    let mut samples = Vec::new();
    let mut at = started + first;
    loop {
        tokio::select! {
            biased;
            () = done.cancelled() => break,
            () = tokio::time::sleep_until(at) => {}
        }
        samples.push(status.borrow().clone());
        at += every.max(Duration::from_nanos(1));
    }
    let ran = started.elapsed();
    handle.stop().await;
    (samples, ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(end: u64, users: u64, spawn_rate: f64) -> Stage {
        Stage::hold(Duration::from_secs(end), users, spawn_rate)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// User count sampled every half second (just after each boundary, when the runner
    /// has acted) while the shape plays, and when it ended.
    async fn curve(stages: Vec<Stage>) -> (Vec<u64>, Duration) {
        curve_every(stages, Duration::from_millis(500)).await
    }

    async fn curve_every(stages: Vec<Stage>, every: Duration) -> (Vec<u64>, Duration) {
        let (samples, ended) =
            rehearse(&[("A", 1.0)], stages, Duration::from_millis(10), every).await;
        (samples.iter().map(|s| s.user_count).collect(), ended)
    }

    /// Every (offset, count) a stage asks for, in order.
    fn targets(curve: &Curve, users: u64, length: u64) -> Vec<(u64, u64)> {
        let length = secs(length);
        let mut offset = Duration::ZERO;
        let mut out = vec![(
            0,
            curve
                .target_at(users, length, Duration::ZERO, offset)
                .unwrap()
                .users,
        )];
        while let Some(next) = curve.next_change(users, length, offset) {
            assert!(next > offset && next < length, "{next:?} after {offset:?}");
            offset = next;
            out.push((
                offset.as_secs(),
                curve
                    .target_at(users, length, Duration::ZERO, offset)
                    .unwrap()
                    .users,
            ));
        }
        out
    }

    #[test]
    fn a_linear_ramp_is_a_rounded_straight_line_ticked_every_second() {
        let linear = |from| Curve::Ramp {
            from,
            easing: Easing::Linear,
        };
        let up: Vec<u64> = targets(&linear(0), 10, 10).iter().map(|t| t.1).collect();
        assert_eq!(up, (0..10).collect::<Vec<u64>>(), "0 -> 10 over 10 s");
        let down: Vec<u64> = targets(&linear(30), 0, 6).iter().map(|t| t.1).collect();
        assert_eq!(down, [30, 25, 20, 15, 10, 5]);
        // Slower than a user a second: each tick rounds to the nearest user.
        let slow: Vec<u64> = targets(&linear(0), 2, 8).iter().map(|t| t.1).collect();
        assert_eq!(slow, [0, 0, 1, 1, 1, 1, 2, 2]);
        // Nothing to move: one target.
        assert_eq!(targets(&linear(7), 7, 100), [(0, 7)]);
        assert_eq!(linear(0).at_once_rate(10, secs(10)), Some(1.0));
        assert_eq!(linear(0).at_once_rate(25, secs(10)), Some(3.0));
        assert_eq!(linear(5).at_once_rate(5, secs(10)), Some(1.0));
    }

    #[test]
    fn a_smooth_ramp_is_flat_at_both_ends_and_steepest_half_way() {
        let smooth = Curve::Ramp {
            from: 0,
            easing: Easing::Smooth,
        };
        let counts: Vec<u64> = targets(&smooth, 100, 20).iter().map(|t| t.1).collect();
        assert_eq!(counts.len(), 20);
        assert_eq!((counts[0], counts[10]), (0, 50), "{counts:?}");
        let changes: Vec<u64> = counts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            changes[0] < changes[9] && changes[18] < changes[9],
            "{changes:?}"
        );
        // The steepest change (7.8 a tick at the middle) fits one runner step.
        let rate = smooth.at_once_rate(100, secs(20));
        assert_eq!(rate, Some(8.0));
        assert!(changes.iter().all(|&c| c as f64 <= 8.0), "{changes:?}");
    }

    #[test]
    fn steps_add_their_users_at_once_and_every_period_up_to_the_cap() {
        let steps = Curve::Steps {
            from: 0,
            step: 10,
            every: secs(30),
        };
        assert_eq!(
            targets(&steps, 35, 600),
            [(0, 10), (30, 20), (60, 30), (90, 35)],
            "capped at 35"
        );
        assert_eq!(targets(&steps, 1000, 90), [(0, 10), (30, 20), (60, 30)]);
        let down = Curve::Steps {
            from: 50,
            step: 20,
            every: secs(5),
        };
        assert_eq!(targets(&down, 0, 60), [(0, 30), (5, 10), (10, 0)]);
        assert_eq!(steps.at_once_rate(35, secs(600)), Some(10.0));
        assert_eq!(Curve::Hold.at_once_rate(35, secs(600)), None);
        assert_eq!(targets(&Curve::Hold, 35, 600), [(0, 35)]);
    }

    /// Locust's examples/custom_shape/double_wave.py, `tick()` at `run_time` s: the
    /// count before rounding.
    fn double_wave(run_time: f64) -> f64 {
        let (min_users, peak_one, peak_two, time_limit) = (20.0, 60.0, 40.0, 600.0);
        let e = std::f64::consts::E;
        let run_time = run_time.round_ties_even();
        (peak_one - min_users)
            * e.powf(-((run_time / (time_limit / 10.0 * 2.0 / 3.0) - 5.0).powi(2)))
            + (peak_two - min_users)
                * e.powf(-((run_time / (time_limit / 10.0 * 2.0 / 3.0) - 10.0).powi(2)))
            + min_users
    }

    fn formula(users: fn(f64, f64) -> f64, spawn_rate: Option<fn(f64, f64) -> f64>) -> Curve {
        Curve::Formula {
            users: Formula::new("users", move |t, stage_t, _| Ok(users(t, stage_t))),
            spawn_rate: spawn_rate
                .map(|f| Formula::new("rate", move |t, stage_t, _| Ok(f(t, stage_t)))),
        }
    }

    #[test]
    fn a_formula_is_computed_every_tick_from_the_run_time_and_rounded_as_python() {
        // double_wave.py from 130 s to 600 s: t is the time since the shape started.
        let wave = formula(|t, _| double_wave(t), Some(|t, _| double_wave(t).round()));
        let (start, length) = (secs(130), secs(470));
        for offset in [0, 1, 35, 70, 140, 200, 270, 469] {
            let got = wave.target_at(20, length, start, secs(offset)).unwrap();
            let count = double_wave((130 + offset) as f64).round_ties_even();
            assert_eq!(got.users, count as u64, "at {} s", 130 + offset);
            assert_eq!(got.spawn_rate, Some(count), "at {} s", 130 + offset);
            assert_eq!(got.warning, None);
        }
        let peaks = |t: u64| {
            wave.target_at(20, length, start, secs(t - 130))
                .unwrap()
                .users
        };
        assert_eq!((peaks(200), peaks(400), peaks(599)), (60, 40, 20));
        // A tick every second, until the stage's end.
        let ticks =
            std::iter::successors(Some(Duration::ZERO), |&o| wave.next_change(20, length, o));
        assert_eq!(ticks.count(), 470);
        assert_eq!(wave.at_once_rate(20, length), None, "needs a spawn rate");

        // stage_t is the time into the stage; halves go to the even count.
        let at = |curve: &Curve, start: u64, offset: u64| {
            curve
                .target_at(0, secs(10), secs(start), secs(offset))
                .unwrap()
        };
        let stage_t = formula(|t, stage_t| t * 100.0 + stage_t, None);
        assert_eq!(at(&stage_t, 7, 2).users, 902);
        let halves = formula(|_, stage_t| stage_t + 0.5, None);
        let counts: Vec<u64> = (0..4).map(|o| at(&halves, 0, o).users).collect();
        assert_eq!(counts, [0, 2, 2, 4]);
    }

    #[test]
    fn a_formula_below_0_or_not_a_number_is_0_users_and_says_so() {
        let at = |curve: Curve, t: u64| curve.target_at(0, secs(10), secs(0), secs(t));
        let negative = at(formula(|_, _| -3.0, None), 1).unwrap();
        assert_eq!(negative.users, 0);
        let warning = negative.warning.unwrap();
        assert!(
            warning.contains("gives -3 at t = 1 s: below 0"),
            "{warning}"
        );
        // Rounds to 0: no warning.
        assert_eq!(at(formula(|_, _| -0.4, None), 1).unwrap().warning, None);
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let nan = Curve::Formula {
                users: Formula::new("x", move |_, _, _| Ok(value)),
                spawn_rate: None,
            };
            let got = at(nan, 2).unwrap();
            assert_eq!(got.users, 0);
            assert!(got.warning.unwrap().contains("not a number"));
        }
        // A spawn rate not > 0: the last one is kept.
        let slow = at(formula(|_, _| 5.0, Some(|_, _| 0.0)), 3).unwrap();
        assert_eq!((slow.users, slow.spawn_rate), (5, None));
        assert!(slow
            .warning
            .unwrap()
            .contains("`spawn-rate = \"rate\"` gives 0"));
        let failing = Curve::Formula {
            users: Formula::new("boom", |_, _, _| Err("no".into())),
            spawn_rate: None,
        };
        assert_eq!(at(failing, 0), Err("no".to_string()));
        assert_eq!(
            format!("{:?}", formula(|_, _| 1.0, None)),
            "Formula { users: Formula(\"users\"), spawn_rate: None }"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn formula_stages_retarget_the_runner_every_tick() {
        // 2 users for 2 s; then twice the run time at that many a second (at once)
        // until 6 s; then 10 - stage_t at 100/s for 3 s; then a negative count: 0.
        let stages = vec![
            stage(2, 2, 10.0),
            Stage {
                curve: formula(|t, _| 2.0 * t, Some(|t, _| 2.0 * t)),
                ..stage(6, 12, 1.0)
            },
            Stage {
                curve: formula(|_, stage_t| 10.0 - stage_t, None),
                ..stage(9, 7, 100.0)
            },
            Stage {
                curve: formula(|_, _| -1.0, None),
                ..stage(11, 0, 100.0)
            },
        ];
        let (samples, ended) = curve_every(stages, Duration::from_secs(1)).await;
        assert_eq!(samples, [2, 2, 4, 6, 8, 10, 10, 9, 8, 0, 0]);
        assert_eq!(ended, secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn user_curve_follows_the_stages_and_the_run_ends_after_the_last() {
        // 1 user for 2 s, ramp to 10 at 5/s (Locust's steps: 6 at once, 10 a second
        // later) and hold until 6 s, then drop to 1 at 10/s until 8 s.
        let (samples, ended) = curve(vec![
            stage(2, 1, 10.0),
            stage(6, 10, 5.0),
            stage(8, 1, 10.0),
        ])
        .await;
        assert_eq!(
            samples,
            vec![1, 1, 1, 1, 6, 6, 10, 10, 10, 10, 10, 10, 1, 1, 1, 1],
            "sampled every 0.5 s"
        );
        assert_eq!(ended.as_secs(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_ramp_does_not_delay_the_next_stage() {
        // The first stage asks for 100 users at 1/s but lasts only 3 s: the second stage
        // starts on time and ramps down from the 3 users reached so far.
        let (samples, ended) = curve(vec![stage(3, 100, 1.0), stage(5, 0, 100.0)]).await;
        assert_eq!(samples, vec![1, 1, 2, 2, 3, 3, 0, 0, 0, 0]);
        assert_eq!(ended.as_secs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn ramps_and_steps_move_the_runner_tick_by_tick() {
        let ramp = |end, from, users| Stage {
            curve: Curve::Ramp {
                from,
                easing: Easing::Linear,
            },
            ..stage(end, users, 1.0)
        };
        // Up from 0 to 4 over 4 s, down from 4 to 0 over 4 s, then steps of 2 every 2 s
        // up to 5 (1 s apart at the cap).
        let steps = Stage {
            curve: Curve::Steps {
                from: 0,
                step: 2,
                every: secs(2),
            },
            ..stage(16, 5, 2.0)
        };
        let (samples, ended) = curve_every(
            vec![ramp(4, 0, 4), ramp(8, 4, 0), steps],
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(
            samples,
            [0, 1, 2, 3, 4, 3, 2, 1, 2, 2, 4, 4, 5, 5, 5, 5],
            "one sample a second"
        );
        assert_eq!(ended, secs(16));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stage_that_waits_for_its_users_starts_its_time_when_they_are_there() {
        // 10 users at 2/s are there after 4 s (2 at once, 2 more each second), then
        // held 5 s; 20 users at 2/s after 4 more s, held 3 s; every later stage moves
        // by the waits: the last one, 2 s long, ends at 4 + 5 + 4 + 3 + 2 = 18 s.
        let waiting = |end, users| Stage {
            wait_for_users: true,
            ..stage(end, users, 2.0)
        };
        let (samples, ended) = curve_every(
            vec![waiting(5, 10), waiting(8, 20), stage(10, 0, 100.0)],
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(
            samples,
            [2, 4, 6, 8, 10, 10, 10, 10, 10, 12, 14, 16, 18, 20, 20, 20, 0, 0]
        );
        assert_eq!(ended, secs(18));
        // Already there: no wait at all.
        let (samples, ended) = curve_every(
            vec![stage(2, 3, 100.0), waiting(4, 3)],
            Duration::from_secs(1),
        )
        .await;
        assert_eq!((samples, ended), (vec![3, 3, 3, 3], secs(4)));
    }

    #[tokio::test(start_paused = true)]
    async fn stage_classes_are_applied_on_every_tick_of_a_ramp() {
        let (samples, _) = rehearse(
            &[("A", 1.0), ("B", 1.0)],
            vec![Stage {
                curve: Curve::Ramp {
                    from: 0,
                    easing: Easing::Linear,
                },
                user_classes: Some(StageClasses {
                    names: vec!["B".into()],
                    origin: String::new(),
                }),
                ..stage(4, 8, 2.0)
            }],
            Duration::from_millis(10),
            Duration::from_secs(1),
        )
        .await;
        let counts: Vec<(u64, u64)> = samples
            .iter()
            .map(|s| (s.class_counts["A"], s.class_counts["B"]))
            .collect();
        assert_eq!(counts, [(0, 0), (0, 2), (0, 4), (0, 6)]);
    }
}
