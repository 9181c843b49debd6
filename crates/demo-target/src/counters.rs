//! Counts of what the demo target served, for tests and `GET /__demo/stats`: total,
//! per route label (`GET /users/{id}`), per instance and per status. One short lock per
//! answer; keys come from route templates and configured names, so the maps stay small.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Route label of answers that matched no route (unknown paths).
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// A copy of the counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersSnapshot {
    /// Answers served (control routes under `/__demo/` are not counted).
    pub total: u64,
    /// Answers per route label: method, space, route template (`GET /users/{id}`,
    /// `GET /{instance}/health`), or `(unmatched)`.
    pub by_route: BTreeMap<String, u64>,
    /// Answers per `X-Instance-ID` they carried; gateway answers are not in it.
    pub by_instance: BTreeMap<String, u64>,
    /// Answers per HTTP status code (as strings in JSON).
    pub by_status: BTreeMap<u16, u64>,
}

impl CountersSnapshot {
    /// Count for a route label such as `"GET /health"`; 0 when never seen.
    #[must_use]
    pub fn route(&self, label: &str) -> u64 {
        self.by_route.get(label).copied().unwrap_or(0)
    }

    /// Count for an instance name; 0 when never seen.
    #[must_use]
    pub fn instance(&self, name: &str) -> u64 {
        self.by_instance.get(name).copied().unwrap_or(0)
    }

    /// Count for a status code; 0 when never seen.
    #[must_use]
    pub fn status(&self, code: u16) -> u64 {
        self.by_status.get(&code).copied().unwrap_or(0)
    }
}

/// The live counters of one demo target.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    inner: Mutex<CountersSnapshot>,
}

impl Counters {
    /// Counts one answer.
    pub fn record(&self, route: &str, instance: Option<&str>, status: u16) {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        c.total += 1;
        bump(&mut c.by_route, route);
        if let Some(name) = instance {
            bump(&mut c.by_instance, name);
        }
        *c.by_status.entry(status).or_insert(0) += 1;
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Adds one to `key`, allocating the key only the first time it is seen.
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_every_dimension() {
        let counters = Counters::default();
        counters.record("GET /health", Some("app1"), 200);
        counters.record("GET /health", Some("app2"), 200);
        counters.record("GET /gateway-health", None, 200);
        counters.record(UNMATCHED_ROUTE, None, 404);
        let s = counters.snapshot();
        assert_eq!(s.total, 4);
        assert_eq!(s.route("GET /health"), 2);
        assert_eq!(s.route(UNMATCHED_ROUTE), 1);
        assert_eq!(s.route("GET /nope"), 0);
        assert_eq!((s.instance("app1"), s.instance("app2")), (1, 1));
        assert_eq!(s.by_instance.len(), 2);
        assert_eq!((s.status(200), s.status(404), s.status(500)), (3, 1, 0));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["by_status"]["200"], 3);
        let back: CountersSnapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}
