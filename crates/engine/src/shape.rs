//! The load shape driver: a profile's stages (Locust's LoadTestShape, declared in
//! `locust.toml`) played against the runner. A stage holds a count (the runner is
//! retargeted at its start: `ramp_to` never blocks, so a long ramp cannot delay later
//! stages), ramps it linearly or smoothly (retargeted every second, as Locust ticks a
//! shape) or steps it every so often; it may first wait until the runner has its
//! users (Locust's `wait_user_count.py`), which delays every later stage by the wait.
//! The run ends after the last stage. The curves are pure functions of the time into
//! the stage ([`Curve::target_at`]), tested without clocks; the driver under tokio's
//! paused clock, through [`rehearse`] (idle users, nothing sent).

use std::f64::consts::PI;
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
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// The count asked for at `offset` into a stage of `length` heading for `users`.
    pub fn target_at(&self, users: u64, length: Duration, offset: Duration) -> u64 {
        match *self {
            Curve::Hold => users,
            Curve::Ramp { from, easing } => {
                if length.is_zero() {
                    return users;
                }
                let x = offset.as_secs_f64() / length.as_secs_f64();
                let span = users as f64 - from as f64;
                (from as f64 + span * easing.at(x)).round().max(0.0) as u64
            }
            Curve::Steps { from, step, every } => {
                let steps = steps_by(offset, every).saturating_add(1);
                let moved = steps.saturating_mul(step);
                if users >= from {
                    from.saturating_add(moved).min(users)
                } else {
                    from.saturating_sub(moved).max(users)
                }
            }
        }
    }

    /// The next offset after `offset` at which the count may change, if any before the
    /// stage's `length` is up: the next tick of a ramp, the next step (none once the
    /// steps reached `users`), never for `Hold`.
    pub fn next_change(&self, users: u64, length: Duration, offset: Duration) -> Option<Duration> {
        let period = match *self {
            Curve::Hold => return None,
            Curve::Ramp { from, .. } if from == users => return None,
            Curve::Ramp { .. } => TICK,
            Curve::Steps { .. } if self.target_at(users, length, offset) == users => return None,
            Curve::Steps { every, .. } => every,
        };
        let k = steps_by(offset, period).saturating_add(1);
        let nanos = u128::from(k).checked_mul(period.as_nanos().max(1))?;
        let next = Duration::from_nanos(u64::try_from(nanos).ok()?);
        (next < length).then_some(next)
    }

    /// The spawn rate at which every change of the count happens at once (one step of
    /// the runner's ramp): the steepest change per tick of a ramp, rounded up, or a
    /// step's size. None for `Hold`, which needs a spawn rate given.
    pub fn at_once_rate(&self, users: u64, length: Duration) -> Option<f64> {
        match *self {
            Curve::Hold => None,
            Curve::Ramp { from, easing } => {
                let seconds = length.as_secs_f64().max(TICK.as_secs_f64());
                let slope = from.abs_diff(users) as f64 / seconds * easing.steepest();
                Some(slope.ceil().max(1.0))
            }
            Curve::Steps { step, .. } => Some(step.max(1) as f64),
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
        let begin = started + previous_end + waited;
        let length = stage.end.saturating_sub(previous_end);
        let classes = stage.user_classes.as_ref().map(|c| c.names.clone());
        let ramps_before = status.borrow().ramps_completed;
        let mut offset = Duration::ZERO;
        let mut last = None;
        loop {
            let count = stage.curve.target_at(stage.users, length, offset);
            if last != Some(count) {
                tracing::info!(
                    target: RUNNERS,
                    "Shape test updating to {count} users at {:.2} spawn rate",
                    stage.spawn_rate
                );
                runner
                    .ramp_to_classes(count, stage.spawn_rate, classes.clone())
                    .await;
                last = Some(count);
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
    fn targets(curve: Curve, users: u64, length: u64) -> Vec<(u64, u64)> {
        let length = secs(length);
        let mut offset = Duration::ZERO;
        let mut out = vec![(0, curve.target_at(users, length, offset))];
        while let Some(next) = curve.next_change(users, length, offset) {
            assert!(next > offset && next < length, "{next:?} after {offset:?}");
            offset = next;
            out.push((offset.as_secs(), curve.target_at(users, length, offset)));
        }
        out
    }

    #[test]
    fn a_linear_ramp_is_a_rounded_straight_line_ticked_every_second() {
        let linear = |from| Curve::Ramp {
            from,
            easing: Easing::Linear,
        };
        let up: Vec<u64> = targets(linear(0), 10, 10).iter().map(|t| t.1).collect();
        assert_eq!(up, (0..10).collect::<Vec<u64>>(), "0 -> 10 over 10 s");
        let down: Vec<u64> = targets(linear(30), 0, 6).iter().map(|t| t.1).collect();
        assert_eq!(down, [30, 25, 20, 15, 10, 5]);
        // Slower than a user a second: each tick rounds to the nearest user.
        let slow: Vec<u64> = targets(linear(0), 2, 8).iter().map(|t| t.1).collect();
        assert_eq!(slow, [0, 0, 1, 1, 1, 1, 2, 2]);
        // Nothing to move: one target.
        assert_eq!(targets(linear(7), 7, 100), [(0, 7)]);
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
        let counts: Vec<u64> = targets(smooth, 100, 20).iter().map(|t| t.1).collect();
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
            targets(steps, 35, 600),
            [(0, 10), (30, 20), (60, 30), (90, 35)],
            "capped at 35"
        );
        assert_eq!(targets(steps, 1000, 90), [(0, 10), (30, 20), (60, 30)]);
        let down = Curve::Steps {
            from: 50,
            step: 20,
            every: secs(5),
        };
        assert_eq!(targets(down, 0, 60), [(0, 30), (5, 10), (10, 0)]);
        assert_eq!(steps.at_once_rate(35, secs(600)), Some(10.0));
        assert_eq!(Curve::Hold.at_once_rate(35, secs(600)), None);
        assert_eq!(targets(Curve::Hold, 35, 600), [(0, 35)]);
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
