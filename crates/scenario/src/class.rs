//! The compiled plan the engine runs: `Scenarios` (all user classes, sorted by name, and
//! each file's `[[setup]]`/`[[teardown]]` steps), `UserClass`, `Task`; Locust's tag
//! filtering (§6.3), the task-ratio helper for `--show-task-ratio`, and the
//! skip-while-absent rule for tasks.

use std::path::PathBuf;

use crate::action::{Action, SetVars};
use crate::vars::UserVars;
use crate::wait::WaitTime;

/// Every user class of the loaded files.
#[derive(Debug, Clone)]
pub struct Scenarios {
    /// Sorted by name.
    pub classes: Vec<UserClass>,
    /// Each file's run steps, in load order (files without any are left out).
    pub run_steps: Vec<RunSteps>,
}

/// A file's `[[setup]]` (run once before any user starts) and `[[teardown]]` (once after
/// the last user stopped), and the variables setup leaves for every user.
#[derive(Debug, Clone)]
pub struct RunSteps {
    pub source: PathBuf,
    pub setup: Vec<Action>,
    pub teardown: Vec<Action>,
    /// What setup extracts or sets: read-only globals of every user.
    pub globals: Vec<String>,
}

impl RunSteps {
    pub fn is_empty(&self) -> bool {
        self.setup.is_empty() && self.teardown.is_empty()
    }
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
    pub on_start: Vec<Action>,
    pub on_stop: Vec<Action>,
    /// `vars`: set once per user, before `on_start`.
    pub vars: Option<SetVars>,
    /// Tasks run in written order, one after the other (Locust's SequentialTaskSet).
    pub sequential: bool,
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
    pub steps: Vec<Action>,
    /// Variables extracted by other tasks (or on_start) that this task reads.
    pub requires: Vec<String>,
    /// A failed request ends the task (by default the task goes on, as in Locust).
    pub stop_on_failure: bool,
    /// In a Markov chain (`next = { ... }`), the tasks that may follow this one; empty
    /// for a task of a class that is no chain.
    pub next: Vec<crate::chain::Transition>,
}

impl Task {
    /// False while a variable the task reads (and does not extract itself first) is
    /// absent or an empty list, like Locust's `if self.ids:` guard. Skip the task then.
    pub fn runnable(&self, vars: &UserVars) -> bool {
        self.requires.iter().all(|v| vars.is_ready(v))
    }
}

impl UserClass {
    /// Every request step of the class: on_start, on_stop and the tasks', nested ones too.
    pub fn requests(&self) -> Vec<&crate::step::Step> {
        let mut all = Action::requests(&self.on_start);
        all.extend(Action::requests(&self.on_stop));
        for task in &self.tasks {
            all.extend(Action::requests(&task.steps));
        }
        all
    }

    /// Locust's `--tags` / `--exclude-tags`: with `include`, keep tasks having at least
    /// one listed tag (untagged tasks are dropped); with `exclude`, drop tasks having any
    /// listed tag. An empty `tasks` afterwards means "had no tasks left after filtering".
    pub fn filter_tags(&self, include: Option<&[String]>, exclude: Option<&[String]>) -> UserClass {
        let keep = |t: &Task| {
            let included = include.is_none_or(|inc| t.tags.iter().any(|tag| inc.contains(tag)));
            let excluded = exclude.is_some_and(|exc| t.tags.iter().any(|tag| exc.contains(tag)));
            included && !excluded
        };
        let mut tasks: Vec<Task> = self.tasks.iter().filter(|t| keep(t)).cloned().collect();
        // A chain's transitions point at task positions: it is kept whole or not at all
        // (its tasks have the class's tags only, so this is what `keep` says anyway).
        if self.is_chain() && tasks.len() != self.tasks.len() {
            tasks.clear();
        }
        UserClass {
            tasks,
            ..self.clone()
        }
    }

    /// Each task's share of this class's picks: weight / sum of weights, in file order.
    /// For a chain, each task's long-run share of the task runs (see `chain.rs`).
    pub fn task_ratios(&self) -> Vec<(String, f64)> {
        if self.is_chain() {
            let names = self.tasks.iter().map(|t| t.name.clone());
            return names
                .zip(crate::chain::long_run_shares(&self.tasks))
                .collect();
        }
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
