//! A user's `fail` step, Locust's `raise Exception("message")` in a task: the message
//! is rendered, the open groups fail with `Exception('message')` (the failure text
//! Locust's `manual_report` records from the exception), an ERROR line goes to
//! `locust.user.task` and a row to the exceptions table (Locust's `user_error`), and
//! the task ends. (`stop_user` needs no code of its own: it is `Interrupted::Stopped`.)

use locust_scenario::Fail;
use locust_stats::pyrepr::repr_str;

use super::{Interrupted, UserRun};

/// Locust's failure text for `raise Exception(message)` reaching `events.request.fire(
/// exception=e)`: `repr(e)`.
pub(super) fn exception_repr(message: &str) -> String {
    format!("Exception({})", repr_str(message))
}

impl UserRun {
    /// Raises the step's exception; a message that cannot be rendered raises a template
    /// error instead (recorded as any other). Always ends the task.
    pub(super) fn fail(&mut self, fail: &Fail) -> Result<(), Interrupted> {
        let message = match fail.message(&mut self.vars, &mut self.rng) {
            Ok(message) => message,
            Err(e) => {
                self.log_exception(&e);
                return Err(Interrupted::Exception);
            }
        };
        let error = exception_repr(&message);
        self.tally(0, Some(&error));
        // Locust: `logger.error("%s\n%s", e, traceback.format_exc())`, and the
        // exceptions table keyed by the traceback, which names where it was raised.
        let traceback = format!("in class {}, step {}", self.class.name, fail.label());
        tracing::error!(target: "locust.user.task", "{message}\n{traceback}");
        self.stats.record_exception(&message, &traceback);
        Err(Interrupted::Exception)
    }
}
