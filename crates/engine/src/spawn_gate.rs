//! What a `{ barrier = "spawned" }` step waits on: the runner's published state. A
//! user at the barrier goes on once no ramp is in progress (Locust's
//! `spawning_complete`), so the users of a ramp start their real work together. Each new
//! ramp (a stage, the web UI's Edit) closes the gate until that ramp is complete; outside
//! a ramp, and in the open model, which spawns nothing, the gate is open.

use std::sync::OnceLock;

use tokio::sync::watch;

use crate::runner::{RunState, RunnerStatus};

/// The gate of one run, shared by its users; opened and closed by the runner's state.
#[derive(Default)]
pub struct SpawnGate {
    /// The runner's status, given once the runner exists (users start only after).
    status: OnceLock<watch::Receiver<RunnerStatus>>,
}

impl SpawnGate {
    /// Connects the gate to the runner whose ramps it follows.
    pub(crate) fn attach(&self, status: watch::Receiver<RunnerStatus>) {
        let _ = self.status.set(status);
    }

    /// Whether a ramp is in progress now.
    pub fn spawning(&self) -> bool {
        self.status
            .get()
            .is_some_and(|status| status.borrow().state == RunState::Spawning)
    }

    /// Resolves once no ramp is in progress: at once outside a ramp, else when the ramp
    /// completes (true), or when the run stops instead or the runner is gone (false: the
    /// waiting user leaves rather than start work while the run ends; never a wait
    /// forever on a runner that cannot publish any more).
    pub async fn spawned(&self) -> bool {
        let Some(status) = self.status.get() else {
            return true;
        };
        let mut status = status.clone();
        let opened = status
            .wait_for(|status| status.state != RunState::Spawning)
            .await
            .map(|status| status.state);
        matches!(opened, Ok(RunState::Running | RunState::Ready))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    fn status(state: RunState) -> RunnerStatus {
        RunnerStatus {
            state,
            user_count: 0,
            class_counts: BTreeMap::new(),
            ramps_completed: 0,
            next_step: None,
            last_step: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_when_the_ramp_completes() {
        let gate = SpawnGate::default();
        // No runner yet: open.
        assert!(gate.spawned().await);
        let (tx, rx) = watch::channel(status(RunState::Spawning));
        gate.attach(rx);
        assert!(gate.spawning());
        let waiting = tokio::time::timeout(Duration::from_secs(5), gate.spawned()).await;
        assert!(waiting.is_err(), "closed while spawning");
        tx.send_modify(|s| s.state = RunState::Running);
        assert!(gate.spawned().await);
        assert!(!gate.spawning());
        // A new ramp closes it again; a stop opens it, as a stop (false).
        tx.send_modify(|s| s.state = RunState::Spawning);
        assert!(gate.spawning());
        tx.send_modify(|s| s.state = RunState::Stopping);
        assert!(!gate.spawned().await);
        // A runner that is gone opens it for good, as a stop.
        tx.send_modify(|s| s.state = RunState::Spawning);
        drop(tx);
        assert!(!gate.spawned().await);
    }
}
