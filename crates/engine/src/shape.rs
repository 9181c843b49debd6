//! The load shape driver: a profile's stages (Locust's LoadTestShape, declared in
//! `locust.toml`) played against the runner. Each stage boundary retargets the runner
//! at once (`ramp_to` never blocks, so a long ramp cannot delay later stages) and the
//! run ends after the last stage.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::runner::RunnerHandle;
use crate::log_targets::RUNNERS;

/// One stage: from the previous stage's end until `end` (since the shape started),
/// head for `users` at `spawn_rate` users per second, of `user_classes` only when set
/// (Locust's shape tick returning classes).
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub end: Duration,
    pub users: u64,
    pub spawn_rate: f64,
    pub user_classes: Option<StageClasses>,
}

/// A stage's classes and where they were written (for errors about unknown names).
#[derive(Debug, Clone, PartialEq)]
pub struct StageClasses {
    pub names: Vec<String>,
    /// `locust.toml:42: key `profiles.spike.stages[1].user-classes``.
    pub origin: String,
}

/// Plays `stages` on `runner` and cancels `done` after the last one ends. Stopping
/// the users is left to whoever waits on `done` (the run's normal shutdown).
pub async fn drive(runner: RunnerHandle, stages: Vec<Stage>, done: CancellationToken) {
    let started = Instant::now();
    tracing::info!(target: RUNNERS, "Shape test starting.");
    for stage in &stages {
        tracing::info!(
            target: RUNNERS,
            "Shape test updating to {} users at {:.2} spawn rate",
            stage.users,
            stage.spawn_rate
        );
        let classes = stage.user_classes.as_ref().map(|c| c.names.clone());
        runner
            .ramp_to_classes(stage.users, stage.spawn_rate, classes)
            .await;
        tokio::time::sleep_until(started + stage.end).await;
    }
    tracing::info!(target: RUNNERS, "Shape test stopping");
    done.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{spawn, ClassWeight, Launcher};
    use crate::user::StopSignals;
    use std::sync::Arc;

    fn idle_users() -> Launcher {
        Arc::new(|_, _, signals: StopSignals| {
            Box::pin(async move { signals.graceful.cancelled().await })
        })
    }

    fn stage(end: u64, users: u64, spawn_rate: f64) -> Stage {
        Stage {
            end: Duration::from_secs(end),
            users,
            spawn_rate,
            user_classes: None,
        }
    }

    /// User count sampled every half second while the shape plays.
    async fn curve(stages: Vec<Stage>) -> (Vec<u64>, Duration) {
        let weights = vec![ClassWeight {
            name: "A".into(),
            weight: 1.0,
            fixed_count: 0,
        }];
        let handle = spawn(weights, idle_users(), Duration::ZERO);
        let done = CancellationToken::new();
        let started = Instant::now();
        tokio::spawn(drive(handle.clone(), stages, done.clone()));
        let status = handle.status();
        let mut samples = Vec::new();
        // Sample just after each half-second boundary, when the runner has acted.
        tokio::time::sleep(Duration::from_millis(10)).await;
        while !done.is_cancelled() {
            samples.push(status.borrow().user_count);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let ended = started.elapsed();
        handle.stop().await;
        (samples, ended)
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
}
