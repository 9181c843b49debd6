//! A user's request step: rendered with its variables, sent through its client (a kill
//! abandons it after a short grace), the response evaluated (checks, extraction) and
//! recorded — in the stats, the open model's corrected figures, the open groups, and
//! the labels read from its headers.

use std::time::Duration;

use locust_scenario::{Outcome, ResponseView, Step, StepError};

use super::{Interrupted, UserRun};
use crate::http::Outgoing;

impl UserRun {
    /// Sends one request and records it; `Failed` when it failed (the caller decides
    /// whether that ends the task), `Exception` when it could not be built.
    pub(super) async fn run_step(&mut self, step: &Step) -> Result<(), Interrupted> {
        let rendered = match step.render(&mut self.vars, &mut self.rng) {
            Ok(rendered) => rendered,
            // A variable an earlier step failed to set: this step is skipped, as a
            // Python task guards a line with `if self.ids:`.
            Err(StepError::MissingVariable { .. }) => return Ok(()),
            Err(e) => {
                // A request that could not be built is a failure of that request, and
                // the task ends, as a Python task ends on an exception.
                let method = step.static_method().map_or("GET", |m| m.as_str());
                let name = step
                    .static_name()
                    .unwrap_or_else(|| step.label().to_string());
                let error = format!(
                    "TemplateError({})",
                    locust_stats::pyrepr::repr_str(&e.to_string())
                );
                self.stats
                    .record(method, &name, Duration::ZERO, 0, Some(&error));
                self.log_exception(&e);
                return Err(Interrupted::Exception);
            }
        };
        let method = rendered.method.as_str();
        let send = step.send_options();
        let request = Outgoing {
            method: &rendered.method,
            url: &rendered.url,
            headers: &rendered.headers,
            body: rendered.body.as_ref(),
            keep_body: step.reads_body(),
            follow_redirects: send.allow_redirects,
            timeouts: self
                .shared
                .clients
                .timeouts_with(send.connect_timeout, send.read_timeout),
            cookies: rendered.cookies.as_deref(),
        };
        // A kill lets the request in flight finish (briefly) so that a request the
        // target answered is also counted here; past the grace it is abandoned.
        let abandoned = self.signals.grace_over();
        let exchange = tokio::select! {
            // An answer that has arrived counts even when this user is polled only
            // after its grace ran out (thousands of users wake at once on a stop).
            biased;
            exchange = self.client.exchange(request) => exchange,
            _ = abandoned => return Err(Interrupted::Killed),
        };
        let error = match &exchange.result {
            Ok(received) => {
                let url = if step.inspects_response() {
                    self.client.final_url(&rendered.url, received)
                } else {
                    String::new()
                };
                let view = ResponseView {
                    status: received.status,
                    reason: &received.reason,
                    url: &url,
                    headers: &received.headers,
                    body: &received.body,
                };
                match step.evaluate(&view, &mut self.vars) {
                    Outcome::Success => None,
                    Outcome::Failure(error) => Some(error),
                }
            }
            Err(error) => Some(error.clone()),
        };
        let length = exchange.result.as_ref().map_or(0, |r| r.length);
        self.stats.record(
            method,
            &rendered.name,
            exchange.elapsed,
            length,
            error.as_deref(),
        );
        self.tally(length, error.as_deref());
        if let Some(corrected) = &self.corrected {
            corrected.record(
                method,
                &rendered.name,
                exchange.elapsed + self.lateness,
                length,
                error.as_deref(),
            );
        }
        self.shared.labels.record(
            &self.stats,
            exchange.result.as_ref().ok().map(|r| &r.headers),
            exchange.elapsed,
        );
        match error {
            Some(_) => Err(Interrupted::Failed),
            None => Ok(()),
        }
    }
}
