//! The open model of a session (`--arrival-rate`): starts the arrival schedule on a
//! pool of users, and at the end collects its start counts (started, late, dropped) and
//! the latency measured from each iteration's intended start (wrk2's coordinated-
//! omission correction), kept in a `Stats` of its own so that the ordinary figures keep
//! the time from the actual send.

use std::sync::Arc;

use locust_engine::{ArrivalCounts, Shared};
use locust_scenario::UserClass;
use locust_stats::{Recorder, Stats};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::arrival::Arrival;
use crate::logging::MAIN;
use crate::outcome::OpenResult;

/// A running arrival schedule.
pub struct OpenModel {
    stop: CancellationToken,
    task: JoinHandle<ArrivalCounts>,
    /// Latency from the intended start, recorded beside the ordinary figures.
    corrected: Recorder,
    arrival_rate: f64,
    max_pool: usize,
}

/// Starts the schedule; `done` is cancelled once it is over and every iteration ended.
pub fn start(
    arrival: &Arrival,
    stop_timeout: std::time::Duration,
    classes: Vec<Arc<UserClass>>,
    shared: Arc<Shared>,
    done: &CancellationToken,
) -> OpenModel {
    tracing::info!(target: MAIN, "Open model: {} iterations/s, at most {} users in the pool", arrival.rate, arrival.pool.size);
    let stop = CancellationToken::new();
    let corrected = Recorder::new(super::worker_shards());
    let (schedule, pool) = (arrival.schedule.clone(), arrival.pool);
    let (task_stop, task_done, recorder) = (stop.clone(), done.clone(), corrected.clone());
    let task = tokio::spawn(async move {
        let counts = locust_engine::run_open(
            classes,
            shared,
            recorder,
            schedule,
            pool,
            task_stop,
            stop_timeout,
        )
        .await;
        task_done.cancel();
        counts
    });
    OpenModel {
        stop,
        task,
        corrected,
        arrival_rate: arrival.rate,
        max_pool: arrival.pool.size,
    }
}

impl OpenModel {
    /// Ends the schedule (iterations in flight get `--stop-timeout`) and collects its
    /// figures.
    pub async fn stop(self, started: f64) -> OpenResult {
        self.stop.cancel();
        let counts = self.task.await.unwrap_or_default();
        let mut corrected = Stats::new(started, false);
        corrected.absorb(&self.corrected);
        OpenResult {
            arrival_rate: self.arrival_rate,
            max_pool: self.max_pool,
            counts,
            corrected,
        }
    }
}
