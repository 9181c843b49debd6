//! A user at a `barrier` step: it waits there until the current ramp has started every
//! user, then goes on with its steps, together with the others that waited.

use locust_scenario::Barrier;

use super::{Interrupted, UserRun};

impl UserRun {
    /// Waits at a barrier. A user told to stop while it waits (a ramp down, the end of
    /// the run, Ctrl-C) leaves from there: it has started nothing a graceful stop should
    /// let it finish, and a run that ends before its ramp completes (a run-time limit
    /// shorter than the ramp) never hangs on its barriers.
    pub(super) async fn barrier(&mut self, barrier: Barrier) -> Result<(), Interrupted> {
        match barrier {
            Barrier::Spawned => {
                let gate = &self.shared.spawn_gate;
                let opened = tokio::select! {
                    biased;
                    _ = self.signals.kill.cancelled() => false,
                    _ = self.signals.graceful.cancelled() => false,
                    spawned = gate.spawned() => spawned,
                };
                if opened {
                    Ok(())
                } else {
                    Err(Interrupted::Killed)
                }
            }
        }
    }
}
