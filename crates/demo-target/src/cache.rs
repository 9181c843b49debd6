//! The "Redis" cache of users by id. It only holds copies the store handed out, and
//! its owner drops a copy whenever the user changes, is deleted or is evicted, so it
//! can never outgrow the store. Knows nothing about HTTP or time.

use std::collections::HashMap;

use crate::store::User;

/// Cached users by id.
#[derive(Debug, Default)]
pub(crate) struct UserCache {
    entries: HashMap<u64, User>,
}

impl UserCache {
    pub fn get(&self, id: u64) -> Option<&User> {
        self.entries.get(&id)
    }

    pub fn put(&mut self, user: User) {
        self.entries.insert(user.id, user);
    }

    pub fn invalidate(&mut self, id: u64) {
        self.entries.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_invalidate() {
        let mut cache = UserCache::default();
        let user = User {
            id: 7,
            name: "n".into(),
            email: "e".into(),
        };
        assert_eq!(cache.get(7), None);
        cache.put(user.clone());
        assert_eq!(cache.get(7), Some(&user));
        assert_eq!(cache.len(), 1);
        cache.invalidate(7);
        assert_eq!(cache.get(7), None);
        assert_eq!(cache.len(), 0);
    }
}
