//! The user "database": users by id, ids from one counter, bounded in size.
//! Creating a user past `max_users` evicts the oldest (lowest id) and reports it, so
//! the caller can drop its cached copy. Knows nothing about HTTP, caching or time.

use std::collections::BTreeMap;

use serde::Serialize;

/// A stored user, as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

/// All users of one process (shared by every instance), ordered by id.
#[derive(Debug)]
pub(crate) struct UserStore {
    /// Ordered so listing pages are stable and the oldest user is the first entry.
    users: BTreeMap<u64, User>,
    /// The id the next created user gets; ids start at 1 and are never reused.
    next_id: u64,
    /// Most users kept at once (at least 1).
    max_users: usize,
}

impl UserStore {
    pub fn new(max_users: usize) -> Self {
        Self {
            users: BTreeMap::new(),
            next_id: 1,
            max_users: max_users.max(1),
        }
    }

    /// Stores a new user; returns it and the id of the user evicted to make room.
    pub fn create(&mut self, name: String, email: String) -> (User, Option<u64>) {
        let evicted = if self.users.len() >= self.max_users {
            self.users.pop_first().map(|(id, _)| id)
        } else {
            None
        };
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let user = User { id, name, email };
        self.users.insert(id, user.clone());
        (user, evicted)
    }

    pub fn get(&self, id: u64) -> Option<&User> {
        self.users.get(&id)
    }

    /// Up to `limit` users in id order, after skipping `skip`.
    pub fn list(&self, skip: usize, limit: usize) -> Vec<User> {
        self.users
            .values()
            .skip(skip)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Replaces name and email; `None` when there is no such user.
    pub fn update(&mut self, id: u64, name: String, email: String) -> Option<User> {
        let user = self.users.get_mut(&id)?;
        user.name = name;
        user.email = email;
        Some(user.clone())
    }

    /// True when a user was removed.
    pub fn delete(&mut self, id: u64) -> bool {
        self.users.remove(&id).is_some()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(store: &mut UserStore, name: &str) -> (User, Option<u64>) {
        store.create(name.into(), format!("{name}@example.com"))
    }

    #[test]
    fn crud_round_trip() {
        let mut store = UserStore::new(10);
        let (alice, _) = add(&mut store, "alice");
        let (bob, _) = add(&mut store, "bob");
        assert_eq!((alice.id, bob.id), (1, 2));
        assert_eq!(store.get(1), Some(&alice));
        let updated = store.update(2, "robert".into(), "r@x".into());
        assert_eq!(updated.map(|u| u.name), Some("robert".to_owned()));
        assert_eq!(store.update(99, "x".into(), "y".into()), None);
        assert!(store.delete(1));
        assert!(!store.delete(1));
        assert_eq!(store.get(1), None);
        let (carol, _) = add(&mut store, "carol");
        assert_eq!(carol.id, 3, "ids are never reused");
    }

    #[test]
    fn list_pages_in_id_order() {
        let mut store = UserStore::new(10);
        for name in ["a", "b", "c", "d"] {
            add(&mut store, name);
        }
        let ids = |v: Vec<User>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
        assert_eq!(ids(store.list(0, 2)), [1, 2]);
        assert_eq!(ids(store.list(2, 10)), [3, 4]);
        assert_eq!(ids(store.list(9, 10)), Vec::<u64>::new());
        assert_eq!(ids(store.list(0, 0)), Vec::<u64>::new());
    }

    #[test]
    fn full_store_evicts_the_oldest() {
        let mut store = UserStore::new(2);
        assert_eq!(add(&mut store, "a").1, None);
        assert_eq!(add(&mut store, "b").1, None);
        let (c, evicted) = add(&mut store, "c");
        assert_eq!((c.id, evicted), (3, Some(1)));
        assert_eq!(store.len(), 2);
        assert_eq!(store.get(1), None);
    }
}
