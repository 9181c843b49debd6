//! Which users of which class run: the target distribution over the active classes
//! (`set_user_count`, `desired_counts`), a class switch, and absolute per-class counts.

use std::collections::BTreeMap;

use super::super::dispatch::Dispatcher;
use super::{python_json, ClassWeight, RunState, Runner};
use crate::log_targets::RUNNERS;

impl Runner {
    /// Restricts users to `classes` (None: all). Users of excluded classes stop now, and
    /// the target distribution starts again over the classes left. True if it changed.
    pub(super) fn switch_classes(&mut self, classes: Option<&[String]>) -> bool {
        let active: Vec<bool> = self
            .weights
            .iter()
            .map(|w| classes.is_none_or(|names| names.contains(&w.name)))
            .collect();
        if active == self.active {
            return false;
        }
        let users = std::mem::take(&mut self.users);
        for user in users {
            if active[user.class] {
                self.users.push(user);
            } else {
                self.stop_user(&user);
            }
        }
        let masked = self
            .weights
            .iter()
            .zip(&active)
            .map(|(w, on)| ClassWeight {
                weight: if *on { w.weight } else { 0.0 },
                fixed_count: if *on { w.fixed_count } else { 0 },
                name: w.name.clone(),
            })
            .collect();
        self.dispatcher = Dispatcher::new(masked);
        self.sequence.clear();
        self.active = active;
        true
    }

    /// Users per class among the first `target` of the target distribution (the
    /// dispatcher's sequence, generated as far as needed).
    fn desired_counts(&mut self, target: usize) -> Vec<u64> {
        while self.sequence.len() < target {
            let Some(class) = self.dispatcher.next_class() else {
                break;
            };
            self.sequence.push(class);
        }
        let mut counts = vec![0u64; self.weights.len()];
        for &class in self.sequence.iter().take(target) {
            counts[class] += 1;
        }
        counts
    }

    /// Moves to `target` users distributed as the sequence's first `target`: surplus
    /// users stop, the most recently started first (Locust's LIFO ramp-down); missing
    /// ones start in sequence order.
    pub(super) fn set_user_count(&mut self, target: u64) {
        let desired = self.desired_counts(target as usize);
        let mut counts = vec![0u64; self.weights.len()];
        for user in &self.users {
            counts[user.class] += 1;
        }
        let mut leaving = vec![false; self.users.len()];
        for (position, user) in self.users.iter().enumerate().rev() {
            if counts[user.class] > desired[user.class] {
                counts[user.class] -= 1;
                leaving[position] = true;
            }
        }
        if leaving.contains(&true) {
            let users = std::mem::take(&mut self.users);
            for (user, leaves) in users.into_iter().zip(leaving) {
                if leaves {
                    self.stop_user(&user);
                } else {
                    self.users.push(user);
                }
            }
        }
        let mut placed = vec![0u64; self.weights.len()];
        for position in 0..self.sequence.len().min(target as usize) {
            let class = self.sequence[position];
            placed[class] += 1;
            if placed[class] > counts[class] {
                counts[class] += 1;
                self.spawn_user(class);
            }
        }
    }

    /// Moves to `counts` users per class at once: surplus users stop (the most recently
    /// started first), missing ones start, classes taking turns.
    pub(super) fn set_counts(&mut self, counts: &BTreeMap<String, u64>) {
        self.ramp = None;
        let desired: Vec<u64> = self
            .weights
            .iter()
            .map(|w| counts.get(&w.name).copied().unwrap_or(0))
            .collect();
        let json = python_json(counts);
        tracing::info!(target: RUNNERS, "Setting users per class: {json}");
        let mut have = vec![0u64; self.weights.len()];
        for user in &self.users {
            have[user.class] += 1;
        }
        let users = std::mem::take(&mut self.users);
        for user in users.into_iter().rev() {
            if have[user.class] > desired[user.class] {
                have[user.class] -= 1;
                self.stop_user(&user);
            } else {
                self.users.push(user);
            }
        }
        self.users.reverse();
        while have.iter().zip(&desired).any(|(h, d)| h < d) {
            for class in 0..self.weights.len() {
                if have[class] < desired[class] {
                    have[class] += 1;
                    self.spawn_user(class);
                }
            }
        }
        self.publish(RunState::Running, true);
    }
}
