//! The master's runner (distributed mode): the same ramps, steps, class choices and
//! status as the local runner, but each step places users on workers instead of
//! starting them here. Every step deals the target distribution's users round-robin
//! over the workers in Locust's order (`dispatch::deal`, `dispatch::worker_order`) and
//! hands the master one `Placement::Spawn` with each worker's absolute counts; a worker
//! joining or leaving deals them again. The master's driver turns placements into
//! `spawn` and `stop` messages; this module knows no sockets.

use std::collections::BTreeMap;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::{
    log_all_spawned, python_json, sleep_until_opt, ActiveRamp, ClassWeight, Command, Distribution,
    Published, RunState, RunnerHandle, RunnerStatus,
};
use crate::dispatch::{deal, worker_order};
use crate::log_targets::RUNNERS;

/// What the master is to tell its workers.
#[derive(Debug)]
pub enum Placement {
    /// Each worker's absolute users per class (every class named, zeros included), in
    /// dispatch order: one `spawn` message each.
    Spawn(Vec<(String, BTreeMap<String, u64>)>),
    /// Stop every worker's users; answer once they have stopped (or the master gave up
    /// waiting).
    Stop(oneshot::Sender<()>),
}

struct RemoteRunner {
    plan: Distribution,
    /// Users placed (the target of the last step taken).
    count: u64,
    /// Workers able to take users, in dispatch order.
    workers: Vec<String>,
    placements: mpsc::UnboundedSender<Placement>,
    state: RunState,
    status: watch::Sender<RunnerStatus>,
    ramp: Option<ActiveRamp>,
    last_step: Option<(Instant, u64)>,
}

/// Starts a runner that places users on the workers `workers` names (the master's
/// ready workers, any order) through `placements`.
pub fn spawn_remote(
    weights: Vec<ClassWeight>,
    mut workers: watch::Receiver<Vec<String>>,
    placements: mpsc::UnboundedSender<Placement>,
) -> RunnerHandle {
    let (status_tx, status_rx) = watch::channel(RunnerStatus {
        state: RunState::Ready,
        user_count: 0,
        class_counts: weights.iter().map(|c| (c.name.clone(), 0)).collect(),
        ramps_completed: 0,
        next_step: None,
        last_step: None,
    });
    let (commands, inbox) = mpsc::channel(16);
    let runner = RemoteRunner {
        plan: Distribution::new(weights),
        count: 0,
        workers: worker_order(&workers.borrow_and_update()),
        placements,
        state: RunState::Ready,
        status: status_tx,
        ramp: None,
        last_step: None,
    };
    tokio::spawn(runner.run(inbox, workers));
    RunnerHandle {
        commands,
        status: status_rx,
    }
}

impl RemoteRunner {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Command>,
        mut workers: watch::Receiver<Vec<String>>,
    ) {
        let mut workers_open = true;
        loop {
            let deadline = self.next_step();
            tokio::select! {
                biased;
                command = inbox.recv() => match command {
                    Some(Command::Ramp { users, rate, classes }) => {
                        self.begin_ramp(users, rate, classes.as_deref());
                    }
                    Some(Command::SetCounts { counts }) => {
                        let json = python_json(&counts);
                        tracing::warn!(target: RUNNERS, "A master places users by ramps; ignored absolute counts {json}");
                    }
                    Some(Command::Stop { done }) => {
                        self.stop_all().await;
                        let _ = done.send(());
                    }
                    None => {
                        self.stop_all().await;
                        return;
                    }
                },
                changed = workers.changed(), if workers_open => {
                    if changed.is_err() {
                        workers_open = false;
                        continue;
                    }
                    let ids = worker_order(&workers.borrow_and_update());
                    self.workers_changed(ids);
                }
                _ = sleep_until_opt(deadline) => self.advance_ramp(),
            }
        }
    }

    fn next_step(&self) -> Option<Instant> {
        self.ramp.as_ref().and_then(ActiveRamp::next_due)
    }

    fn begin_ramp(&mut self, users: u64, rate: f64, classes: Option<&[String]>) {
        tracing::info!(
            target: RUNNERS,
            "Sending spawn jobs of {users} users at {rate:.2} spawn rate to {} ready workers",
            self.workers.len()
        );
        let switched = self.plan.switch(classes);
        let ramp = ActiveRamp::new(self.count, users, rate);
        if switched && ramp.steps.is_empty() {
            self.place();
        }
        self.ramp = Some(ramp);
        self.publish(RunState::Spawning, false);
        if self.ramp.as_ref().is_some_and(|r| r.steps.is_empty()) {
            self.finish_ramp();
        }
    }

    fn advance_ramp(&mut self) {
        let Some(step) = self.ramp.as_mut().and_then(ActiveRamp::take) else {
            return;
        };
        let before = self.count;
        self.count = step.count;
        self.place();
        self.last_step = step.due.map(|due| (due, before));
        if step.last {
            self.finish_ramp();
        } else {
            self.publish(RunState::Spawning, false);
        }
    }

    fn finish_ramp(&mut self) {
        self.ramp = None;
        let total = self.placed();
        log_all_spawned(&self.class_counts(), total);
        self.publish(RunState::Running, true);
    }

    /// Deals the first `count` users of the distribution over the workers and hands
    /// every worker its counts.
    fn place(&mut self) {
        let names: Vec<String> = self.plan.weights.iter().map(|w| w.name.clone()).collect();
        let sequence = self.plan.prefix(self.count as usize);
        let dealt = deal(sequence, names.len(), self.workers.len());
        let spawn = self
            .workers
            .iter()
            .zip(dealt)
            .map(|(id, counts)| {
                let counts = names.iter().cloned().zip(counts).collect();
                (id.clone(), counts)
            })
            .collect();
        let _ = self.placements.send(Placement::Spawn(spawn));
    }

    /// A worker joined or left: the users are dealt again over the workers there are.
    fn workers_changed(&mut self, ids: Vec<String>) {
        if ids == self.workers {
            return;
        }
        self.workers = ids;
        if matches!(self.state, RunState::Spawning | RunState::Running) && self.count > 0 {
            tracing::info!(
                target: RUNNERS,
                "Rebalancing {} users over {} workers",
                self.placed(),
                self.workers.len()
            );
            self.place();
            self.publish(self.state, false);
        }
    }

    async fn stop_all(&mut self) {
        // A runner that placed nothing since its last stop tells the workers nothing:
        // the workers may be running the next test by now (a finished test's runner is
        // dropped, and stops, after the next one began).
        if matches!(self.state, RunState::Ready | RunState::Stopped) {
            return;
        }
        self.ramp = None;
        self.publish(RunState::Stopping, false);
        let (done, wait) = oneshot::channel();
        if self.placements.send(Placement::Stop(done)).is_ok() {
            let _ = wait.await;
        }
        self.count = 0;
        self.publish(RunState::Stopped, false);
    }

    /// Users placed on workers (none while there are no workers to take them).
    fn placed(&mut self) -> u64 {
        if self.workers.is_empty() {
            return 0;
        }
        self.plan.prefix(self.count as usize).len() as u64
    }

    fn class_counts(&mut self) -> BTreeMap<String, u64> {
        let placed = self.placed() as usize;
        let counts = self.plan.counts(placed);
        self.plan
            .weights
            .iter()
            .map(|w| w.name.clone())
            .zip(counts)
            .collect()
    }

    fn publish(&mut self, state: RunState, ramp_completed: bool) {
        self.state = state;
        let now = Published {
            state,
            user_count: self.placed(),
            class_counts: self.class_counts(),
            next_step: self.next_step(),
            last_step: self.last_step,
        };
        now.send(&self.status, ramp_completed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::weighted;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// The next placement, within a bounded wait.
    async fn next(rx: &mut mpsc::UnboundedReceiver<Placement>) -> Placement {
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("a placement within 5 s")
            .expect("the runner is alive")
    }

    fn spawn_counts(p: Placement) -> Vec<(String, Vec<u64>)> {
        match p {
            Placement::Spawn(each) => each
                .into_iter()
                .map(|(id, counts)| (id, counts.into_values().collect()))
                .collect(),
            Placement::Stop(_) => panic!("expected a spawn, got a stop"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ramps_in_steps_deal_over_workers_and_rebalance() {
        let (workers_tx, workers_rx) = watch::channel(ids(&["h_b", "h_a", "g_a"]));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let runner = spawn_remote(weights(), workers_rx, tx);
        runner.ramp_to(8, 4.0).await;
        // Steps of 4 users each second: 4, then 8. Order: g_a, h_a, h_b.
        let first = spawn_counts(next(&mut rx).await);
        assert_eq!(first[0].0, "g_a");
        assert_eq!(first[1].0, "h_a");
        let totals: u64 = first.iter().flat_map(|(_, c)| c).sum();
        assert_eq!(totals, 4);
        let second = spawn_counts(next(&mut rx).await);
        assert_eq!(
            second,
            vec![
                ("g_a".to_string(), vec![3, 0]),
                ("h_a".to_string(), vec![2, 1]),
                ("h_b".to_string(), vec![1, 1]),
            ],
            "Locust's 3-worker deal of A3 B1, u=8"
        );
        let mut status = runner.status();
        let _ = status
            .wait_for(|s| s.state == RunState::Running)
            .await
            .unwrap();
        assert_eq!(status.borrow().user_count, 8);
        // One worker leaves: the 8 users are dealt over the two left.
        workers_tx.send(ids(&["h_a", "h_b"])).unwrap();
        let rebalanced = spawn_counts(next(&mut rx).await);
        assert_eq!(rebalanced.len(), 2);
        assert_eq!(rebalanced.iter().flat_map(|(_, c)| c).sum::<u64>(), 8);
        // Stop waits for the master's answer.
        let stopping = tokio::spawn({
            let runner = runner.clone();
            async move { runner.stop().await }
        });
        match next(&mut rx).await {
            Placement::Stop(done) => done.send(()).unwrap(),
            other => panic!("expected a stop, got {other:?}"),
        }
        stopping.await.unwrap();
        assert_eq!(runner.status().borrow().state, RunState::Stopped);
        assert_eq!(runner.status().borrow().user_count, 0);
        // A stopped runner, stopped again or dropped, tells the workers nothing more:
        // they may be running another session's test.
        let again = tokio::time::timeout(std::time::Duration::from_secs(5), runner.stop()).await;
        assert!(again.is_ok(), "a second stop waits for no worker");
        drop(runner);
        tokio::task::yield_now().await;
        assert!(
            matches!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected)),
            "no placement after the stop"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_workers_nothing_is_placed_until_one_comes() {
        let (workers_tx, workers_rx) = watch::channel(Vec::new());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let runner = spawn_remote(weights(), workers_rx, tx);
        runner.ramp_to(2, 10.0).await;
        let empty = spawn_counts(next(&mut rx).await);
        assert!(empty.is_empty());
        let mut status = runner.status();
        let _ = status
            .wait_for(|s| s.state == RunState::Running)
            .await
            .unwrap();
        assert_eq!(status.borrow().user_count, 0);
        workers_tx.send(ids(&["w_1"])).unwrap();
        let placed = spawn_counts(next(&mut rx).await);
        assert_eq!(placed, vec![("w_1".to_string(), vec![1, 1])]);
    }

    fn weights() -> Vec<ClassWeight> {
        weighted(&[("A", 3.0), ("B", 1.0)])
    }
}
