//! The compiled plan the engine runs: `Scenarios` (all user classes, sorted by name),
//! `UserClass`, `Task`; Locust's tag filtering (§6.3), the task-ratio helper for
//! `--show-task-ratio`, and the skip-while-absent rule for tasks.

use std::path::PathBuf;

use crate::step::Step;
use crate::vars::UserVars;
use crate::wait::WaitTime;

/// Every user class of the loaded files.
#[derive(Debug, Clone)]
pub struct Scenarios {
    /// Sorted by name.
    pub classes: Vec<UserClass>,
}

impl Scenarios {
    /// A class by its name (as given on the command line).
    pub fn get(&self, name: &str) -> Option<&UserClass> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// The class names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.classes.iter().map(|c| c.name.as_str()).collect()
    }
}

/// One user class (Locust's `HttpUser` subclass).
#[derive(Debug, Clone)]
pub struct UserClass {
    pub name: String,
    /// Relative weight (default 1); ignored when `fixed_count > 0`.
    pub weight: f64,
    pub fixed_count: u32,
    pub wait_time: WaitTime,
    /// Base URL from the file; `--host` overrides it.
    pub host: Option<String>,
    /// Class tags (already merged into each task's tags).
    pub tags: Vec<String>,
    pub tasks: Vec<Task>,
    pub on_start: Vec<Step>,
    pub on_stop: Vec<Step>,
    /// The file that defines the class.
    pub source: PathBuf,
    /// Position in definition order (files in load order, classes in file order): how
    /// Locust lists classes in `--list` and `--show-task-ratio`.
    pub order: usize,
}

/// One task: a weighted sequence of requests.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    /// Picked with probability weight / sum of the class's weights.
    pub weight: u32,
    /// Class tags plus the task's own, deduplicated.
    pub tags: Vec<String>,
    pub steps: Vec<Step>,
    /// Variables extracted by other tasks (or on_start) that this task reads.
    pub requires: Vec<String>,
}

impl Task {
    /// False while a variable the task reads (and does not extract itself first) is
    /// absent or an empty list, like Locust's `if self.ids:` guard. Skip the task then.
    pub fn runnable(&self, vars: &UserVars) -> bool {
        self.requires.iter().all(|v| vars.is_ready(v))
    }
}

impl UserClass {
    /// Locust's `--tags` / `--exclude-tags`: with `include`, keep tasks having at least
    /// one listed tag (untagged tasks are dropped); with `exclude`, drop tasks having any
    /// listed tag. An empty `tasks` afterwards means "had no tasks left after filtering".
    pub fn filter_tags(&self, include: Option<&[String]>, exclude: Option<&[String]>) -> UserClass {
        let keep = |t: &Task| {
            let included = include.is_none_or(|inc| t.tags.iter().any(|tag| inc.contains(tag)));
            let excluded = exclude.is_some_and(|exc| t.tags.iter().any(|tag| exc.contains(tag)));
            included && !excluded
        };
        UserClass {
            tasks: self.tasks.iter().filter(|t| keep(t)).cloned().collect(),
            ..self.clone()
        }
    }

    /// Each task's share of this class's picks: weight / sum of weights, in file order.
    pub fn task_ratios(&self) -> Vec<(String, f64)> {
        let total: u64 = self.tasks.iter().map(|t| u64::from(t.weight)).sum();
        self.tasks
            .iter()
            .map(|t| {
                let ratio = if total == 0 {
                    0.0
                } else {
                    f64::from(t.weight) / total as f64
                };
                (t.name.clone(), ratio)
            })
            .collect()
    }

    /// The expanded task list Locust picks from uniformly: task index `i` appears
    /// `weight` times.
    pub fn task_indices(&self) -> Vec<usize> {
        self.tasks
            .iter()
            .enumerate()
            .flat_map(|(i, t)| std::iter::repeat_n(i, t.weight as usize))
            .collect()
    }
}
