//! A user's steps that record a row of their own: a `group` times its steps as one
//! transaction (type `GROUP`: wall time from its first step to the end of its last,
//! pauses inside included; length the sum of its responses'; failed with the first
//! error inside it), and a `metric` records a rendered number as a response time (type
//! `METRIC`). Requests and step errors inside open groups are tallied here.

use locust_scenario::{Group, Metric, StepError, GROUP_TYPE, METRIC_TYPE};
use locust_stats::pyrepr::repr_str;
use tokio::time::Instant;

use super::{Interrupted, UserRun};

/// What the steps of one open group have added up to so far.
#[derive(Default)]
pub(super) struct GroupTally {
    length: u64,
    /// The first error inside the group: the group row's error.
    error: Option<String>,
}

impl UserRun {
    /// Runs a group's steps and records its row, also when a failure or a step error
    /// ended them early (failed, with that error) or the user stopped itself inside it
    /// (failed with `StopUser()`, unless it had failed before: Locust's `manual_report`
    /// sees the StopUser exception pass through); a killed user's group is not recorded,
    /// as its request in flight is not.
    pub(super) async fn run_group(
        &mut self,
        group: &Group,
        stop_on_failure: bool,
    ) -> Result<(), Interrupted> {
        self.groups.push(GroupTally::default());
        let started = Instant::now();
        let result = Box::pin(self.run_steps(&group.body, stop_on_failure)).await;
        let elapsed = started.elapsed();
        let tally = self.groups.pop().unwrap_or_default();
        if let Err(Interrupted::Killed) = result {
            return result;
        }
        let mut error = tally.error;
        if let Err(Interrupted::Stopped) = result {
            error.get_or_insert_with(|| STOP_USER_REPR.to_string());
        }
        let error = error.as_deref();
        self.stats
            .record(GROUP_TYPE, &group.name, elapsed, tally.length, error);
        if let Some(corrected) = &self.corrected {
            corrected.record(
                GROUP_TYPE,
                &group.name,
                elapsed + self.lateness,
                tally.length,
                error,
            );
        }
        result
    }

    /// Records a metric's value; one that cannot be rendered or is no number is a
    /// failure of its row (with no value, so the row's figures stay the metric's) and,
    /// as any template error, ends the task.
    pub(super) fn run_metric(&mut self, metric: &Metric) -> Result<(), Interrupted> {
        match metric.value(&mut self.vars, &mut self.rng) {
            Ok(value) => {
                let now = locust_stats::epoch_now();
                self.stats
                    .record_at(METRIC_TYPE, &metric.name, Some(value), 0, None, now);
                Ok(())
            }
            // A variable not set yet skips the step, as it skips a request.
            Err(StepError::MissingVariable { .. }) => Ok(()),
            Err(e) => {
                let error = template_error(&e);
                let now = locust_stats::epoch_now();
                self.stats
                    .record_at(METRIC_TYPE, &metric.name, None, 0, Some(&error), now);
                self.log_exception(&e);
                Err(Interrupted::Exception)
            }
        }
    }

    /// Counts one recorded request (its length, its error if it failed) in every open
    /// group: a request inside nested groups belongs to each of them.
    pub(super) fn tally(&mut self, length: u64, error: Option<&str>) {
        for group in &mut self.groups {
            group.length = group.length.saturating_add(length);
            if group.error.is_none() {
                group.error = error.map(str::to_string);
            }
        }
    }

    /// Counts a step error in every open group, with the text its row would carry.
    pub(super) fn tally_exception(&mut self, error: &StepError) {
        if !self.groups.is_empty() {
            self.tally(0, Some(&template_error(error)));
        }
    }
}

/// `repr(StopUser())`: the failure of a group the user stopped itself inside.
const STOP_USER_REPR: &str = "StopUser()";

/// `TemplateError('<message>')`: how a step that could not run is recorded.
pub(super) fn template_error(error: &StepError) -> String {
    format!("TemplateError({})", repr_str(&error.to_string()))
}
