//! The one poison-tolerant lock of the project: a mutex whose holder panicked still
//! holds valid figures (a panicking reader changed nothing, and writers only add whole
//! records), so every caller takes the guard instead of propagating the poison.

use std::sync::{Mutex, MutexGuard};

/// Locks `value`, poisoned or not.
pub fn lock<T>(value: &Mutex<T>) -> MutexGuard<'_, T> {
    value.lock().unwrap_or_else(|e| e.into_inner())
}
