//! Which users of which class run: users started and stopped toward the target
//! distribution (`set_user_count`), a class switch, and absolute per-class counts.

use std::collections::BTreeMap;

use super::{python_json, RunState, Runner};
use crate::log_targets::RUNNERS;

impl Runner {
    /// Restricts users to `classes` (None: all). Users of excluded classes stop now, and
    /// the target distribution starts again over the classes left. True if it changed.
    pub(super) fn switch_classes(&mut self, classes: Option<&[String]>) -> bool {
        if !self.plan.switch(classes) {
            return false;
        }
        let users = std::mem::take(&mut self.users);
        for user in users {
            if self.plan.active[user.class] {
                self.users.push(user);
            } else {
                self.stop_user(&user);
            }
        }
        true
    }

    /// Moves to `target` users distributed as the sequence's first `target`: surplus
    /// users stop, the most recently started first (Locust's LIFO ramp-down); missing
    /// ones start in sequence order.
    pub(super) fn set_user_count(&mut self, target: u64) {
        let desired = self.plan.counts(target as usize);
        let mut counts = vec![0u64; self.plan.weights.len()];
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
        let mut placed = vec![0u64; self.plan.weights.len()];
        let sequence = self.plan.prefix(target as usize).to_vec();
        for class in sequence {
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
            .plan
            .weights
            .iter()
            .map(|w| counts.get(&w.name).copied().unwrap_or(0))
            .collect();
        let json = python_json(counts);
        tracing::info!(target: RUNNERS, "Setting users per class: {json}");
        let mut have = vec![0u64; self.plan.weights.len()];
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
            for class in 0..self.plan.weights.len() {
                if have[class] < desired[class] {
                    have[class] += 1;
                    self.spawn_user(class);
                }
            }
        }
        self.publish(RunState::Running, true);
    }
}
