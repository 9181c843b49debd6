//! `DemoState`: everything one demo target shares between its instances and requests:
//! instance list and round-robin cursor, concurrency limiter, knobs, failure injector,
//! the store and cache (under one lock, so a read never re-caches a stale copy) and
//! the counters. Cheap to clone. Owns no routing and no sleeping.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::HeaderValue;
use tokio::sync::Semaphore;

use crate::cache::UserCache;
use crate::config::Settings;
use crate::counters::{Counters, CountersSnapshot};
use crate::fault::FaultInjector;
use crate::knobs::Knobs;
use crate::store::{User, UserStore};

/// Mixed into the fault seed for the slow-answer and dropped-connection sequences.
const SLOW_SEED: u64 = 0x736c_6f77_736c_6f77;
const DROP_SEED: u64 = 0x6472_6f70_6472_6f70;

/// Handle on one demo target's shared state; clones share it.
#[derive(Clone, Debug)]
pub struct DemoState {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// App instances, in round-robin order.
    instances: Vec<Instance>,
    /// Round-robin cursor for load-balanced routes.
    next_instance: AtomicUsize,
    /// Admission control for app answers; `None` is unlimited.
    limiter: Option<Semaphore>,
    knobs: Knobs,
    faults: FaultInjector,
    /// Slow answers and dropped connections: fixed rates, their own draw sequences (so
    /// switching them on leaves the sequence of injected 500s as it was).
    slow: (f64, Duration, FaultInjector),
    drops: (f64, FaultInjector),
    data: Mutex<Data>,
    counters: Counters,
}

/// Store and cache, locked together.
#[derive(Debug)]
struct Data {
    store: UserStore,
    cache: UserCache,
}

/// One app instance: its name and that name as a ready `X-Instance-ID` value.
#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub name: Arc<str>,
    pub header: HeaderValue,
}

/// Outcome of reading one user through the cache.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Hit(User),
    Miss(User),
    NotFound,
}

impl DemoState {
    pub(crate) fn new(settings: &Settings) -> Self {
        let instances = settings
            .instances
            .iter()
            .filter_map(|name| {
                let header = HeaderValue::from_str(name).ok()?;
                Some(Instance {
                    name: Arc::from(name.as_str()),
                    header,
                })
            })
            .collect();
        let limiter = settings
            .concurrency
            .map(|n| Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS)));
        Self {
            shared: Arc::new(Shared {
                instances,
                next_instance: AtomicUsize::new(0),
                limiter,
                knobs: Knobs::new(
                    settings.service_time,
                    settings.miss_penalty,
                    settings.error_rate,
                ),
                faults: FaultInjector::new(settings.fault_seed),
                slow: (
                    settings.slow_rate,
                    settings.slow_time,
                    FaultInjector::new(settings.fault_seed ^ SLOW_SEED),
                ),
                drops: (
                    settings.drop_rate,
                    FaultInjector::new(settings.fault_seed ^ DROP_SEED),
                ),
                data: Mutex::new(Data {
                    store: UserStore::new(settings.max_users),
                    cache: UserCache::default(),
                }),
                counters: Counters::default(),
            }),
        }
    }

    /// What was served so far.
    #[must_use]
    pub fn counters(&self) -> CountersSnapshot {
        self.shared.counters.snapshot()
    }

    /// Users in the store now.
    #[must_use]
    pub fn user_count(&self) -> usize {
        self.data().store.len()
    }

    /// Users in the cache now.
    #[must_use]
    pub fn cached_count(&self) -> usize {
        self.data().cache.len()
    }

    /// Names of the app instances, in round-robin order.
    #[must_use]
    pub fn instance_names(&self) -> Vec<String> {
        self.shared
            .instances
            .iter()
            .map(|i| i.name.to_string())
            .collect()
    }

    #[must_use]
    pub fn service_time(&self) -> Duration {
        self.shared.knobs.service_time()
    }

    #[must_use]
    pub fn miss_penalty(&self) -> Duration {
        self.shared.knobs.miss_penalty()
    }

    #[must_use]
    pub fn error_rate(&self) -> f64 {
        self.shared.knobs.error_rate()
    }

    /// Changes the service time of answers that start after this call.
    pub fn set_service_time(&self, d: Duration) {
        self.shared.knobs.set_service_time(d);
    }

    /// Changes the cache-miss penalty of reads that start after this call.
    pub fn set_miss_penalty(&self, d: Duration) {
        self.shared.knobs.set_miss_penalty(d);
    }

    /// Changes the failure fraction (clamped into 0..=1, NaN is 0).
    pub fn set_error_rate(&self, rate: f64) {
        self.shared.knobs.set_error_rate(rate);
    }

    pub(crate) fn record(&self, route: &str, instance: Option<&str>, status: u16) {
        self.shared.counters.record(route, instance, status);
    }

    /// The next instance in round-robin order (`None` only if none are configured,
    /// which `DemoConfig::settings` rules out).
    pub(crate) fn next_instance(&self) -> Option<&Instance> {
        let all = &self.shared.instances;
        if all.is_empty() {
            return None;
        }
        let i = self.shared.next_instance.fetch_add(1, Ordering::Relaxed);
        all.get(i % all.len())
    }

    pub(crate) fn instance_named(&self, name: &str) -> Option<&Instance> {
        self.shared.instances.iter().find(|i| &*i.name == name)
    }

    pub(crate) fn limiter(&self) -> Option<&Semaphore> {
        self.shared.limiter.as_ref()
    }

    pub(crate) fn should_fail(&self) -> bool {
        self.shared
            .faults
            .should_fail(self.shared.knobs.error_rate())
    }

    /// The extra time this answer takes: `slow_time` for a `slow_rate` fraction, else zero.
    pub(crate) fn slow_extra(&self) -> Duration {
        let (rate, time, faults) = &self.shared.slow;
        if faults.should_fail(*rate) {
            *time
        } else {
            Duration::ZERO
        }
    }

    /// True when this answer's connection should be dropped (a `drop_rate` fraction).
    pub(crate) fn should_drop(&self) -> bool {
        let (rate, faults) = &self.shared.drops;
        faults.should_fail(*rate)
    }

    pub(crate) fn create_user(&self, name: String, email: String) -> User {
        let mut data = self.data();
        let (user, evicted) = data.store.create(name, email);
        if let Some(id) = evicted {
            data.cache.invalidate(id);
        }
        user
    }

    pub(crate) fn list_users(&self, skip: usize, limit: usize) -> Vec<User> {
        self.data().store.list(skip, limit)
    }

    /// Reads through the cache, filling it on a miss.
    pub(crate) fn lookup_user(&self, id: u64) -> Lookup {
        let mut data = self.data();
        if let Some(user) = data.cache.get(id) {
            return Lookup::Hit(user.clone());
        }
        match data.store.get(id).cloned() {
            Some(user) => {
                data.cache.put(user.clone());
                Lookup::Miss(user)
            }
            None => Lookup::NotFound,
        }
    }

    pub(crate) fn update_user(&self, id: u64, name: String, email: String) -> Option<User> {
        let mut data = self.data();
        data.cache.invalidate(id);
        data.store.update(id, name, email)
    }

    pub(crate) fn delete_user(&self, id: u64) -> bool {
        let mut data = self.data();
        data.cache.invalidate(id);
        data.store.delete(id)
    }

    /// The store and cache; a poisoned lock is still usable (every update is one step).
    fn data(&self) -> MutexGuard<'_, Data> {
        self.shared.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DemoConfig, Mode};

    fn state(max_users: usize) -> DemoState {
        let config = DemoConfig {
            max_users,
            ..DemoConfig::default()
        };
        DemoState::new(&config.settings(&Mode::Gateway))
    }

    #[test]
    fn cache_follows_the_store() {
        let s = state(2);
        let a = s.create_user("a".into(), "a@x".into());
        assert_eq!(s.lookup_user(a.id), Lookup::Miss(a.clone()));
        assert_eq!(s.lookup_user(a.id), Lookup::Hit(a.clone()));
        assert_eq!(s.cached_count(), 1);
        s.create_user("b".into(), "b@x".into());
        s.create_user("c".into(), "c@x".into());
        assert_eq!(s.user_count(), 2);
        assert_eq!(s.cached_count(), 0, "evicting a user drops its cached copy");
        assert_eq!(s.lookup_user(a.id), Lookup::NotFound);
    }

    #[test]
    fn round_robin_cycles() {
        let s = state(1);
        let names: Vec<_> = (0..6)
            .filter_map(|_| s.next_instance().map(|i| i.name.to_string()))
            .collect();
        assert_eq!(names, ["app1", "app2", "app3", "app1", "app2", "app3"]);
        assert!(s.instance_named("app2").is_some());
        assert!(s.instance_named("app4").is_none());
    }
}
