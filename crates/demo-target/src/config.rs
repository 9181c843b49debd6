//! The demo target's settings: `DemoConfig` (knobs with documented defaults), `Mode`
//! (gateway or single instance) and their validation. Pure data: nothing here serves,
//! sleeps or locks; `settings()` turns a config into the clamped values the server uses.

use std::time::Duration;

/// Instance names used when none are configured, as in the seed's docker-compose.
pub const DEFAULT_INSTANCES: [&str; 3] = ["app1", "app2", "app3"];

/// Path segments an instance may not be named after: `/users/health` and
/// `/__demo/health` would be routed to other handlers, never to the instance.
const RESERVED_NAMES: [&str; 2] = ["users", "__demo"];

/// Longest accepted instance name.
const MAX_NAME_LEN: usize = 64;

/// How the demo target behaves. `Default` gives a system that looks real (1 ms per
/// answer, 5 ms per cache miss) but never fails and never queues.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoConfig {
    /// Time every app-instance answer spends "in service" (held while the concurrency
    /// permit is held). Default 1 ms. Not applied to `/gateway-health` or `/__demo/*`.
    pub service_time: Duration,
    /// Extra time a `GET /users/{id}` cache MISS (or a 404, which is a miss too) spends
    /// reading the "database", on top of `service_time`. Default 5 ms.
    pub miss_penalty: Duration,
    /// Most app answers in service at once, process-wide (all instances share it);
    /// the rest queue in arrival order, so latency grows under load. `None` (default)
    /// means unlimited.
    pub concurrency: Option<usize>,
    /// Fraction (0.0..=1.0) of app answers replaced by `500 {"detail":"injected failure"}`.
    /// Default 0.0.
    pub error_rate: f64,
    /// Fraction (0.0..=1.0) of app answers that take `slow_time` longer (after the
    /// service time, while the concurrency permit is held). Default 0.0.
    pub slow_rate: f64,
    /// Extra time of a slow answer (see `slow_rate`). Default 1 s.
    pub slow_time: Duration,
    /// Fraction (0.0..=1.0) of app answers whose connection is dropped: the answer's
    /// body fails, and the server closes the connection without a complete answer
    /// (in practice without any byte of it: the client sees the connection closed).
    /// The counters still count it as the `200` it was built as. Default 0.0.
    pub drop_rate: f64,
    /// Seed of the failure-injection sequence; the same seed and request order give
    /// the same failures. Default a fixed constant.
    pub fault_seed: u64,
    /// App instance names used in gateway mode (round-robin for `/health` and `/users*`,
    /// pinned for `/{name}/health`). Default `app1`, `app2`, `app3`. Ignored in
    /// `Mode::Instance`, which names the one instance itself.
    pub instances: Vec<String>,
    /// Most users kept in the store; creating one more evicts the oldest (lowest id)
    /// and its cached copy. Default 100,000.
    pub max_users: usize,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            service_time: Duration::from_millis(1),
            miss_penalty: Duration::from_millis(5),
            concurrency: None,
            error_rate: 0.0,
            slow_rate: 0.0,
            slow_time: Duration::from_secs(1),
            drop_rate: 0.0,
            fault_seed: 0x5eed_1ab5_c0ff_ee00,
            instances: DEFAULT_INSTANCES.iter().map(|s| (*s).to_owned()).collect(),
            max_users: 100_000,
        }
    }
}

/// Which part of the scaling system one server plays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The whole system behind one address: gateway, load balancer and every
    /// configured instance (what `--demo` runs).
    Gateway,
    /// One app instance with this id, to sit behind a real load balancer. It also
    /// answers `/gateway-health` (without `X-Instance-ID`) so it can be probed alone.
    Instance(String),
}

/// A setting the demo target cannot run with.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("error rate must be between 0.0 and 1.0, got {0}")]
    ErrorRate(f64),
    /// `slow_rate` or `drop_rate` (named) out of 0.0..=1.0.
    #[error("{0} must be between 0.0 and 1.0, got {1}")]
    FaultRate(&'static str, f64),
    #[error("concurrency must be at least 1 (leave it unset for no limit)")]
    ZeroConcurrency,
    #[error("max users must be at least 1")]
    ZeroMaxUsers,
    #[error("at least one instance name is needed")]
    NoInstances,
    #[error(
        "instance name {0:?} is not usable: expected 1-64 characters of A-Z a-z 0-9 _ . -, \
         and not \"users\" or \"__demo\""
    )]
    BadInstanceName(String),
    #[error("instance name {0:?} is given twice")]
    DuplicateInstance(String),
}

/// The values the server actually runs with, after clamping (see `DemoConfig::settings`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Settings {
    pub service_time: Duration,
    pub miss_penalty: Duration,
    pub concurrency: Option<usize>,
    pub error_rate: f64,
    pub slow_rate: f64,
    pub slow_time: Duration,
    pub drop_rate: f64,
    pub fault_seed: u64,
    pub instances: Vec<String>,
    pub max_users: usize,
}

impl DemoConfig {
    /// A config with no delays at all (service time and miss penalty zero), for
    /// throughput tests of the load generator itself.
    #[must_use]
    pub fn instant() -> Self {
        Self {
            service_time: Duration::ZERO,
            miss_penalty: Duration::ZERO,
            ..Self::default()
        }
    }

    /// Checks every setting for `mode`; `start` and `serve_until` call this and refuse
    /// to serve an invalid config. `app` does not: it clamps instead.
    pub fn validate(&self, mode: &Mode) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(ConfigError::ErrorRate(self.error_rate));
        }
        for (name, rate) in [("slow rate", self.slow_rate), ("drop rate", self.drop_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ConfigError::FaultRate(name, rate));
            }
        }
        if self.concurrency == Some(0) {
            return Err(ConfigError::ZeroConcurrency);
        }
        if self.max_users == 0 {
            return Err(ConfigError::ZeroMaxUsers);
        }
        let names: &[String] = match mode {
            Mode::Gateway => &self.instances,
            Mode::Instance(id) => std::slice::from_ref(id),
        };
        if names.is_empty() {
            return Err(ConfigError::NoInstances);
        }
        for (i, name) in names.iter().enumerate() {
            if !is_valid_name(name) {
                return Err(ConfigError::BadInstanceName(name.clone()));
            }
            if names[..i].contains(name) {
                return Err(ConfigError::DuplicateInstance(name.clone()));
            }
        }
        Ok(())
    }

    /// The clamped settings `app` runs with: an out-of-range or NaN error rate is
    /// clamped into 0..=1 (NaN is 0), a zero concurrency or max-users becomes 1,
    /// unusable or repeated instance names are dropped, and an empty list falls back to
    /// the defaults (`app1` alone in instance mode).
    pub(crate) fn settings(&self, mode: &Mode) -> Settings {
        let wanted: Vec<String> = match mode {
            Mode::Gateway => self.instances.clone(),
            Mode::Instance(id) => vec![id.clone()],
        };
        let mut instances: Vec<String> = Vec::with_capacity(wanted.len());
        for name in wanted {
            if is_valid_name(&name) && !instances.contains(&name) {
                instances.push(name);
            }
        }
        if instances.is_empty() {
            instances = match mode {
                Mode::Gateway => DEFAULT_INSTANCES.iter().map(|s| (*s).to_owned()).collect(),
                Mode::Instance(_) => vec![DEFAULT_INSTANCES[0].to_owned()],
            };
        }
        Settings {
            service_time: self.service_time,
            miss_penalty: self.miss_penalty,
            concurrency: self.concurrency.map(|n| n.max(1)),
            error_rate: clamp_rate(self.error_rate),
            slow_rate: clamp_rate(self.slow_rate),
            slow_time: self.slow_time,
            drop_rate: clamp_rate(self.drop_rate),
            fault_seed: self.fault_seed,
            instances,
            max_users: self.max_users.max(1),
        }
    }
}

/// Clamps a failure fraction into 0..=1; NaN becomes 0.
pub(crate) fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// True when `name` can be both a path segment and an `X-Instance-ID` value.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !RESERVED_NAMES.contains(&name)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_in_both_modes() {
        let config = DemoConfig::default();
        assert_eq!(config.validate(&Mode::Gateway), Ok(()));
        assert_eq!(config.validate(&Mode::Instance("app7".into())), Ok(()));
        assert_eq!(config.settings(&Mode::Gateway).instances, DEFAULT_INSTANCES);
    }

    #[test]
    fn validate_names_the_bad_setting() {
        let mode = Mode::Gateway;
        let bad = |f: fn(&mut DemoConfig)| {
            let mut c = DemoConfig::default();
            f(&mut c);
            c.validate(&mode)
        };
        assert_eq!(
            bad(|c| c.error_rate = 1.5),
            Err(ConfigError::ErrorRate(1.5))
        );
        assert!(matches!(
            bad(|c| c.error_rate = f64::NAN),
            Err(ConfigError::ErrorRate(_))
        ));
        assert_eq!(
            bad(|c| c.concurrency = Some(0)),
            Err(ConfigError::ZeroConcurrency)
        );
        assert_eq!(bad(|c| c.max_users = 0), Err(ConfigError::ZeroMaxUsers));
        assert_eq!(
            bad(|c| c.drop_rate = -0.1),
            Err(ConfigError::FaultRate("drop rate", -0.1))
        );
        assert!(matches!(
            bad(|c| c.slow_rate = f64::NAN),
            Err(ConfigError::FaultRate("slow rate", _))
        ));
        assert_eq!(bad(|c| c.instances.clear()), Err(ConfigError::NoInstances));
        assert_eq!(
            bad(|c| c.instances.push("app1".into())),
            Err(ConfigError::DuplicateInstance("app1".into()))
        );
        for name in ["", "users", "__demo", "a b", "a/b", "é"] {
            let c = DemoConfig {
                instances: vec![name.into()],
                ..DemoConfig::default()
            };
            assert_eq!(
                c.validate(&mode),
                Err(ConfigError::BadInstanceName(name.into()))
            );
        }
        let err = DemoConfig::default().validate(&Mode::Instance("x y".into()));
        assert_eq!(err, Err(ConfigError::BadInstanceName("x y".into())));
    }

    #[test]
    fn settings_clamp_instead_of_failing() {
        let config = DemoConfig {
            error_rate: f64::NAN,
            concurrency: Some(0),
            max_users: 0,
            instances: vec!["a b".into(), "x".into(), "x".into()],
            ..DemoConfig::default()
        };
        let s = config.settings(&Mode::Gateway);
        assert_eq!(s.error_rate, 0.0);
        assert_eq!(s.concurrency, Some(1));
        assert_eq!(s.max_users, 1);
        assert_eq!(s.instances, ["x"]);
        assert_eq!(clamp_rate(7.0), 1.0);
        assert_eq!(clamp_rate(-1.0), 0.0);
        let s = DemoConfig::default().settings(&Mode::Instance("bad name".into()));
        assert_eq!(s.instances, ["app1"]);
        let s = DemoConfig::default().settings(&Mode::Instance("app9".into()));
        assert_eq!(s.instances, ["app9"]);
    }
}
