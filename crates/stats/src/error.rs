//! Request failures grouped by (method, name, error string) with Locust's SHA-256 key
//! (§6.6), and task exceptions grouped by traceback (§3.6). Pure data and merge rules.

use sha2::{Digest, Sha256};

use crate::pyrepr::{repr_str, unrepr_str};

/// Occurrences of one error string on one (method, name).
#[derive(Clone, Debug, PartialEq)]
pub struct StatsError {
    /// Request method.
    pub method: String,
    /// Request name.
    pub name: String,
    /// Locust's error string, e.g. `HTTPError('404 Client Error: ...')`.
    pub error: String,
    /// How many times it happened.
    pub occurrences: u64,
    /// Epoch seconds of the first occurrence.
    pub first_seen: Option<f64>,
    /// Epoch seconds of the latest occurrence.
    pub last_seen: Option<f64>,
}

impl StatsError {
    /// Locust's key: SHA-256 hex of `<method>.<name>.<repr(error)>`.
    pub fn key(&self) -> String {
        error_key(&self.method, &self.name, &self.error)
    }

    /// The console form `METHOD NAME: ERROR`, a `CatchResponseError('x')` shown as `x`.
    pub fn console_name(&self) -> String {
        format!(
            "{} {}: {}",
            self.method,
            self.name,
            console_error(&self.error)
        )
    }

    /// Add another report of the same error: occurrences add, first_seen takes the
    /// minimum and last_seen the maximum.
    pub fn merge(&mut self, other: &StatsError) {
        self.occurrences += other.occurrences;
        self.first_seen = min_opt(self.first_seen, other.first_seen);
        self.last_seen = max_opt(self.last_seen, other.last_seen);
    }
}

/// Locust's error key (§6.6): lowercase hex SHA-256 of `<method>.<name>.<repr(error)>`.
pub fn error_key(method: &str, name: &str, error: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b".");
    hasher.update(name.as_bytes());
    hasher.update(b".");
    hasher.update(repr_str(error).as_bytes());
    hex::encode(hasher.finalize())
}

/// The console shows the message of a `CatchResponseError('...')`; others as they are.
pub fn console_error(error: &str) -> String {
    error
        .strip_prefix("CatchResponseError(")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(unrepr_str)
        .unwrap_or_else(|| error.to_owned())
}

/// A distinct task exception (keyed by its traceback text).
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionRecord {
    /// How many times it was raised.
    pub count: u64,
    /// `str(exception)`.
    pub msg: String,
    /// The formatted traceback (may span lines).
    pub traceback: String,
    /// Nodes that raised it, first-seen order (`local` standalone, worker ids otherwise).
    pub nodes: Vec<String>,
}

pub(crate) fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

pub(crate) fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_matches_observed_vector() {
        assert_eq!(
            error_key(
                "GET",
                "/missing",
                "HTTPError('404 Client Error: File not found for url: /missing')"
            ),
            "5826a91b7d0ff46e41e7f8a11f154fe110e8b3925f1588b810a931744d2adf43"
        );
    }

    #[test]
    fn console_unwraps_catch_response_errors_only() {
        assert_eq!(
            console_error("CatchResponseError('Got wrong response')"),
            "Got wrong response"
        );
        assert_eq!(
            console_error("CatchResponseError(\"it's bad\")"),
            "it's bad"
        );
        assert_eq!(
            console_error("ConnectionRefusedError(111, 'Connection refused')"),
            "ConnectionRefusedError(111, 'Connection refused')"
        );
        assert_eq!(console_error("plain text"), "plain text");
    }

    #[test]
    fn merge_keeps_extremes() {
        let mut a = StatsError {
            method: "GET".into(),
            name: "/".into(),
            error: "x".into(),
            occurrences: 2,
            first_seen: Some(10.0),
            last_seen: Some(12.0),
        };
        let b = StatsError {
            occurrences: 3,
            first_seen: Some(9.0),
            last_seen: Some(11.0),
            ..a.clone()
        };
        a.merge(&b);
        assert_eq!(
            (a.occurrences, a.first_seen, a.last_seen),
            (5, Some(9.0), Some(12.0))
        );
    }
}
