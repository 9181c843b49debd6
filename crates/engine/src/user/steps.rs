//! Running a sequence of a user's steps in order — requests, pauses (`think`), `set`,
//! conditions, loops, groups, metrics, `fail`, `stop_user`, barriers, cookies and feeds —
//! and what ends the sequence early ([`Interrupted`]).

use locust_scenario::{Action, Rounds, StepError, WaitTime};

use super::{Interrupted, UserRun};

impl UserRun {
    /// Runs steps in order. A failed request ends them only when its own
    /// `stop_on_failure` says so, or, where it says nothing, the task's; a step whose variable is not set yet is
    /// skipped; a template error or a kill ends them.
    pub(super) async fn run_steps(
        &mut self,
        steps: &[Action],
        stop_on_failure: bool,
    ) -> Result<(), Interrupted> {
        for action in steps {
            if self.signals.kill.is_cancelled() {
                return Err(Interrupted::Killed);
            }
            match action {
                Action::Request(step) => match self.run_step(step).await {
                    Err(Interrupted::Failed)
                        if !step.stop_on_failure().unwrap_or(stop_on_failure) => {}
                    other => other?,
                },
                Action::Think(wait) => self.think(wait).await?,
                Action::Set(set) => match set.apply(&mut self.vars, &mut self.rng) {
                    Ok(()) | Err(StepError::MissingVariable { .. }) => {}
                    Err(e) => {
                        self.log_exception(&e);
                        return Err(Interrupted::Exception);
                    }
                },
                Action::If(branch) => {
                    let holds = match branch.condition.holds(&mut self.vars, &mut self.rng) {
                        Ok(holds) => holds,
                        Err(e) => {
                            self.log_exception(&e);
                            return Err(Interrupted::Exception);
                        }
                    };
                    let chosen = if holds {
                        &branch.then
                    } else {
                        &branch.otherwise
                    };
                    Box::pin(self.run_steps(chosen, stop_on_failure)).await?;
                }
                Action::Repeat(repeat) => match &repeat.rounds {
                    Rounds::Count(n) => {
                        for _ in 0..*n {
                            Box::pin(self.run_steps(&repeat.body, stop_on_failure)).await?;
                        }
                    }
                    Rounds::Each { var, items } => {
                        let values = match items.values(&mut self.vars, &mut self.rng) {
                            Ok(values) => values,
                            Err(e) => {
                                self.log_exception(&e);
                                return Err(Interrupted::Exception);
                            }
                        };
                        for value in values {
                            self.vars.set(var, value);
                            Box::pin(self.run_steps(&repeat.body, stop_on_failure)).await?;
                        }
                    }
                },
                Action::Group(group) => self.run_group(group, stop_on_failure).await?,
                Action::Metric(metric) => self.run_metric(metric)?,
                Action::Fail(fail) => self.fail(fail)?,
                Action::StopUser => return Err(Interrupted::Stopped),
                Action::Barrier(barrier) => self.barrier(*barrier).await?,
                Action::SetCookie(set) => self.set_cookie(set)?,
                // A feed that failed on a dry pool is a failed step: the task goes on
                // unless it stops on failure.
                Action::Feed(feed) => match self.feed(feed) {
                    Err(Interrupted::Failed) if !stop_on_failure => {}
                    other => other?,
                },
            }
        }
        Ok(())
    }

    /// A pause inside a task (a kill ends it; a graceful stop lets the task finish).
    async fn think(&mut self, wait: &WaitTime) -> Result<(), Interrupted> {
        let pause = wait.next_wait(&mut self.rng);
        if pause.is_zero() {
            return Ok(());
        }
        tokio::select! {
            biased;
            _ = self.signals.kill.cancelled() => Err(Interrupted::Killed),
            _ = tokio::time::sleep(pause) => Ok(()),
        }
    }
}
