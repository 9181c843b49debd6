//! A user's `set_cookie` step: the cookie rendered with its variables and stored in its
//! own jar, as a Python task's `self.client.cookies.set(name, value)`.

use locust_scenario::{SetCookie, StepError};

use super::{Interrupted, UserRun};

impl UserRun {
    /// Stores the cookie. A variable it reads that is not set yet skips the step (as it
    /// skips a request); a value that cannot be rendered or stored is an exception of the
    /// task, logged and counted, and ends the task.
    pub(super) fn set_cookie(&mut self, set: &SetCookie) -> Result<(), Interrupted> {
        let cookie = match set.render(&mut self.vars, &mut self.rng) {
            Ok(cookie) => cookie,
            Err(StepError::MissingVariable { .. }) => return Ok(()),
            Err(e) => {
                self.log_exception(&e);
                return Err(Interrupted::Exception);
            }
        };
        let stored = self.client.set_cookie(
            &cookie.name,
            &cookie.value,
            cookie.domain.as_deref(),
            &cookie.path,
        );
        if let Err(message) = stored {
            self.log_exception(&StepError::Invalid {
                step: set.label().to_string(),
                message,
            });
            return Err(Interrupted::Exception);
        }
        Ok(())
    }
}
