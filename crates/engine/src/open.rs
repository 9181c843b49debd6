//! The open model wired to users: `arrival` decides when iterations start, each one
//! borrows an idle user from the pool (starting a new one, with its `on_start`, when
//! none is idle) and runs one task. Users are kept until the end, then `on_stop` runs.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use locust_scenario::UserClass;
use locust_stats::lock;
use locust_stats::Recorder;
use rand::Rng;
use tokio_util::sync::CancellationToken;

pub use super::arrival::{ArrivalCounts, Pool, RateStage, Schedule};
use super::shared::Shared;
use super::user::{PooledUser, StopSignals};

/// The corrected view's row for starts the pool could not take: each counts as a
/// request that failed without a response time, so the corrected error rate and
/// request count cover every intended start.
pub const DROPPED_METHOD: &str = "ITERATION";
pub const DROPPED_NAME: &str = "dropped start";

/// The error a dropped start is recorded with (Locust's `Exception('message')` form).
pub fn dropped_error(pool: Pool) -> String {
    format!(
        "DroppedStart('all {} users of the pool were busy and {} starts were already waiting: raise --max-pool or lower the rate')",
        pool.size, pool.backlog
    )
}

/// Idle users and the number started so far.
#[derive(Default)]
struct Idle {
    users: Vec<PooledUser>,
    started: u64,
}

/// Runs `schedule` with users of `classes` (picked by weight); latency from the intended
/// start goes to `corrected`. Returns the start counts once every user has left.
/// Iterations still running when the schedule ends (or `stop` comes) get
/// `stop_timeout`, then their users are killed, as `--stop-timeout` does for -t.
pub async fn run(
    classes: Vec<Arc<UserClass>>,
    shared: Arc<Shared>,
    corrected: Recorder,
    schedule: Schedule,
    pool: Pool,
    stop: CancellationToken,
    stop_timeout: std::time::Duration,
) -> ArrivalCounts {
    let signals = StopSignals::new();
    let killer = {
        let (signals, stop) = (signals.clone(), stop.clone());
        let end = schedule.duration();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(end) => {}
            }
            tokio::time::sleep(stop_timeout).await;
            signals.kill();
        })
    };
    let idle = Arc::new(Mutex::new(Idle::default()));
    let classes = Arc::new(classes);
    let total_weight: f64 = classes.iter().map(|c| c.weight.max(0.0)).sum();
    let (drops, drop_error) = (corrected.handle(0), dropped_error(pool));
    let record_drop = move |_intended| {
        drops.record_at(
            DROPPED_METHOD,
            DROPPED_NAME,
            None,
            0,
            Some(&drop_error),
            locust_stats::epoch_now(),
        );
    };
    let counts = super::arrival::run(
        &schedule,
        pool,
        &stop,
        |intended| {
            let (idle, classes, shared, corrected, stop, signals) = (
                idle.clone(),
                classes.clone(),
                shared.clone(),
                corrected.clone(),
                stop.clone(),
                signals.clone(),
            );
            async move {
                // `-i`: the schedule ends with the last allowed iteration, not at -t.
                if shared.iterations_exhausted() {
                    stop.cancel();
                    return;
                }
                let reused = lock(&idle).users.pop();
                let user = match reused {
                    Some(user) => Some(user),
                    None => {
                        let index = {
                            let mut idle = lock(&idle);
                            idle.started += 1;
                            idle.started - 1
                        };
                        shared.pool_users.fetch_add(1, Ordering::Relaxed);
                        let class = pick_class(&classes, total_weight);
                        match class {
                            Some(class) => {
                                let handle = corrected.handle(index as usize);
                                PooledUser::start(index, class, shared.clone(), handle, signals)
                                    .await
                            }
                            None => None,
                        }
                    }
                };
                if let Some(mut user) = user {
                    if user.iteration(intended).await {
                        lock(&idle).users.push(user);
                    } else {
                        // It stopped itself (`stop_user`): on_stop, and out of the pool; a
                        // later arrival that finds no idle user starts a new one.
                        user.finish().await;
                        shared.pool_users.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
        },
        record_drop,
    )
    .await;
    killer.abort();
    let users = std::mem::take(&mut lock(&idle).users);
    for user in users {
        user.finish().await;
        shared.pool_users.fetch_sub(1, Ordering::Relaxed);
    }
    counts
}

fn pick_class(classes: &[Arc<UserClass>], total_weight: f64) -> Option<Arc<UserClass>> {
    if total_weight <= 0.0 {
        return classes.first().cloned();
    }
    let mut roll = rand::rng().random_range(0.0..total_weight);
    for class in classes {
        let weight = class.weight.max(0.0);
        if roll < weight {
            return Some(class.clone());
        }
        roll -= weight;
    }
    classes.last().cloned()
}
