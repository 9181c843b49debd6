//! Per-user variables: values extracted from responses or set by `set` steps (scalars
//! and bounded lists), the user's id and its `counter()`, and the run's globals (what
//! `[[setup]]` extracted, read-only and shared by every user). Stored behind an `Arc` so
//! a render can read them without copying; writes happen between renders, when the `Arc`
//! is unique (no clone). A generation number tells what was rendered from them is stale.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::Value;

/// Default bound of a list variable filled with `append = true`.
pub const DEFAULT_LIST_MAX: usize = 100;

/// The variables of one simulated user.
#[derive(Debug, Clone)]
pub struct UserVars {
    pub(crate) store: Arc<Store>,
    /// Last value handed out by `counter()`.
    pub(crate) counter: u64,
    /// Stats name of the request this user rendered last, for `Step::evaluate`'s
    /// `HTTPError` text (a reused buffer: no allocation per request once warm).
    pub(crate) last_name: String,
    /// Bumped by every write; what was rendered at an older generation is stale.
    pub(crate) generation: u64,
    /// The class headers rendered for this user, and the generation they were made at.
    pub(crate) class_headers: Option<(u64, http::HeaderMap)>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    pub user_id: u64,
    pub scalars: HashMap<String, Value>,
    pub lists: HashMap<String, Arc<BoundedList>>,
    /// What `[[setup]]` extracted: every user reads the same map.
    pub globals: Arc<HashMap<String, Value>>,
}

impl Store {
    /// A variable as templates see it: the user's own, else the run's global.
    pub fn lookup(&self, key: &str) -> Option<Value> {
        self.scalars
            .get(key)
            .cloned()
            .or_else(|| {
                self.lists
                    .get(key)
                    .map(|l| Value::from_dyn_object(l.clone()))
            })
            .or_else(|| self.globals.get(key).cloned())
    }
}

/// A list variable; the oldest item is dropped when it is full.
#[derive(Debug, Clone, Default)]
pub(crate) struct BoundedList {
    pub items: VecDeque<Value>,
}

impl Object for BoundedList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let idx = i64::try_from(key.clone()).ok()?;
        let len = self.items.len() as i64;
        let idx = if idx < 0 { len + idx } else { idx };
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.items.get(i))
            .cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }
}

impl UserVars {
    /// Empty variables for the user with this index (`user_id` in templates).
    pub fn new(user_id: u64) -> Self {
        Self::with_globals(user_id, Arc::default())
    }

    /// Variables for a user of a run whose `[[setup]]` extracted `globals`.
    pub fn with_globals(user_id: u64, globals: Arc<HashMap<String, Value>>) -> Self {
        UserVars {
            store: Arc::new(Store {
                user_id,
                globals,
                ..Store::default()
            }),
            counter: 0,
            last_name: String::new(),
            generation: 0,
            class_headers: None,
        }
    }

    /// The user's own variables (not the globals): what a setup run hands to the users.
    pub fn own(&self) -> HashMap<String, Value> {
        let mut all = self.store.scalars.clone();
        for (name, list) in &self.store.lists {
            all.insert(name.clone(), Value::from_dyn_object(list.clone()));
        }
        all
    }

    pub fn user_id(&self) -> u64 {
        self.store.user_id
    }

    /// The value of a variable (a list variable comes back as a sequence).
    pub fn get(&self, name: &str) -> Option<Value> {
        self.store.lookup(name)
    }

    /// Length of a list variable (0 when absent).
    pub fn list_len(&self, name: &str) -> usize {
        self.store.lists.get(name).map_or(0, |l| l.items.len())
    }

    /// True when the variable is set and, for a list, not empty (Locust's `if self.ids:`).
    pub fn is_ready(&self, name: &str) -> bool {
        self.store.scalars.contains_key(name)
            || self.list_len(name) > 0
            || self.store.globals.contains_key(name)
    }

    /// Sets a scalar variable.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.generation += 1;
        let store = Arc::make_mut(&mut self.store);
        store.scalars.insert(name.to_string(), value.into());
    }

    /// Appends to a list variable, dropping the oldest items beyond `max`.
    pub fn push(&mut self, name: &str, value: impl Into<Value>, max: usize) {
        self.generation += 1;
        let store = Arc::make_mut(&mut self.store);
        let list = store.lists.entry(name.to_string()).or_default();
        let list = Arc::make_mut(list);
        list.items.push_back(value.into());
        while list.items.len() > max.max(1) {
            list.items.pop_front();
        }
    }

    /// Removes a variable (scalar or list).
    pub fn remove(&mut self, name: &str) {
        self.generation += 1;
        let store = Arc::make_mut(&mut self.store);
        store.scalars.remove(name);
        store.lists.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_bounded_and_ready_only_when_non_empty() {
        let mut v = UserVars::new(4);
        assert_eq!(v.user_id(), 4);
        assert!(!v.is_ready("ids"));
        for i in 0..5 {
            v.push("ids", i, 3);
        }
        assert!(v.is_ready("ids"));
        assert_eq!(v.list_len("ids"), 3);
        assert_eq!(v.get("ids").unwrap().to_string(), "[2, 3, 4]");
        v.set("x", "a");
        assert!(v.is_ready("x"));
        v.remove("x");
        assert!(!v.is_ready("x"));
    }

    #[test]
    fn writes_do_not_copy_when_unique() {
        let mut v = UserVars::new(0);
        v.push("ids", 1, 10);
        let before = Arc::as_ptr(&v.store);
        v.push("ids", 2, 10);
        assert_eq!(before, Arc::as_ptr(&v.store));
    }
}
