//! What every user of a run shares: the stats recorder, the client factory, the host
//! override, the labelled response headers and the iteration budget (`-i`). Only the
//! recorder locks per request: a briefly held shard mutex, users spread over shards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use locust_stats::Recorder;
use tokio::sync::Notify;

use super::labels::LabelHeaders;
use super::spawn_gate::SpawnGate;
use crate::http::ClientFactory;

pub struct Shared {
    pub recorder: Recorder,
    pub clients: Arc<ClientFactory>,
    /// `-H/--host`: overrides every class's own host.
    pub host: Option<String>,
    /// Response headers whose values are counted (cache hit/miss, instance id).
    pub labels: LabelHeaders,
    /// `-i/--iterations`: task starts allowed in this process.
    pub iterations: Option<u64>,
    pub iterations_started: AtomicU64,
    live_users: AtomicU64,
    /// Open model: users in the pool (busy or idle), which no runner counts.
    pub pool_users: AtomicU64,
    /// Woken when the last user of an iteration-limited run has left.
    pub iterations_done: Notify,
    /// What the run's `[[setup]]` set: every user reads it.
    pub globals: Arc<std::collections::HashMap<String, minijinja::Value>>,
    /// Where `barrier = "spawned"` steps wait for the current ramp to complete.
    pub spawn_gate: SpawnGate,
}

impl Shared {
    pub fn new(
        recorder: Recorder,
        clients: Arc<ClientFactory>,
        host: Option<String>,
        iterations: Option<u64>,
    ) -> Self {
        Shared {
            recorder,
            clients,
            host,
            labels: LabelHeaders::default(),
            iterations,
            iterations_started: AtomicU64::new(0),
            live_users: AtomicU64::new(0),
            pool_users: AtomicU64::new(0),
            iterations_done: Notify::new(),
            globals: Arc::default(),
            spawn_gate: SpawnGate::default(),
        }
    }

    /// Counts a task start against `-i`; false once the limit is used up.
    pub fn take_iteration(&self) -> bool {
        let Some(limit) = self.iterations else {
            return true;
        };
        let taken = self.iterations_started.fetch_add(1, Ordering::Relaxed);
        if taken == limit {
            tracing::info!(
                target: crate::log_targets::ROOT,
                "Iteration limit reached ({limit}), stopping Users at the start of their next task run"
            );
        }
        taken < limit
    }

    /// True once `-i` iterations have all been started.
    pub fn iterations_exhausted(&self) -> bool {
        self.iterations
            .is_some_and(|limit| self.iterations_started.load(Ordering::Relaxed) >= limit)
    }

    /// Users in the open model's pool.
    pub fn pool_size(&self) -> u64 {
        self.pool_users.load(Ordering::Relaxed)
    }

    pub fn user_started(&self) {
        self.live_users.fetch_add(1, Ordering::SeqCst);
    }

    pub fn user_finished(&self) {
        let left = self.live_users.fetch_sub(1, Ordering::SeqCst) - 1;
        let exhausted = self
            .iterations
            .is_some_and(|limit| self.iterations_started.load(Ordering::SeqCst) >= limit);
        if left == 0 && exhausted {
            tracing::info!(target: crate::log_targets::ROOT, "Last user stopped, quitting runner");
            self.iterations_done.notify_one();
        }
    }
}
