//! locust-scenario: declarative TOML user classes compiled into a validated plan.
//! Everything a user wrote is parsed, checked and compiled here before the first
//! request; the engine only renders steps and evaluates responses. No I/O beyond
//! reading the scenario files; no HTTP client, no async runtime.

// ScenarioError is large (it carries file, line, key and suggestions) but it is built at
// most once per load, never on the request path; StepError, the run-time error, is small.
#![allow(
    clippy::result_large_err,
    reason = "load-time errors are cold; their detail matters more than their size"
)]

mod action;
mod action_compile;
mod barrier;
mod body;
mod chain;
mod check;
mod class;
mod clock;
mod compile;
mod cookie;
mod entry_error;
mod error;
mod extract;
mod feeder;
mod feeder_file;
#[doc(hidden)]
pub mod fuzz;
#[cfg(test)]
mod fuzz_tests;
mod introspect;
mod key_path;
mod measure;
mod model;
mod raise;
mod request;
mod response;
mod response_template;
mod select;
mod source;
mod step;
mod template;
mod template_check;
mod template_funcs;
mod template_scan;
mod vars;
mod wait;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use action::{Action, Branch, Condition, Items, Repeat, Rounds, SetVars, MAX_ROUNDS};
pub use barrier::Barrier;
pub use chain::Transition;
pub use class::{RunSteps, Scenarios, Task, UserClass};
pub use cookie::{CookieToSet, SetCookie};
pub use error::{Location, ScenarioError, StepError};
pub use feeder::{reset_feeders, Feed, Feeder, Order, Take, WhenEmpty};
pub use feeder_file::MAX_FEEDER_BYTES;
pub use measure::{Group, Metric, GROUP_TYPE, METRIC_TYPE};
pub use raise::{Fail, MAX_FAIL_MESSAGE};
pub use response::{catch_response_error, http_error, Outcome, ResponseView};
pub use source::closest;
pub use step::{RenderedRequest, SendOptions, Step};
pub use vars::{UserVars, DEFAULT_LIST_MAX};
pub use wait::WaitTime;

/// Loads scenario files and/or directories (searched recursively for `*.toml`,
/// skipping names starting with `_`), compiles every user class, and returns them
/// sorted by name. Fails on the first problem found.
pub fn load(paths: &[PathBuf]) -> Result<Scenarios, ScenarioError> {
    load_with(paths, &LoadOptions::default())
}

/// What a load takes besides the files.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var KEY=VALUE`: every template reads them as `{{ vars.KEY }}` (text); a template
    /// reading a key not given here is a load-time error.
    pub vars: BTreeMap<String, String>,
}

/// [`load`] with options (the command line's `--var`s).
pub fn load_with(paths: &[PathBuf], options: &LoadOptions) -> Result<Scenarios, ScenarioError> {
    let files = source::read_all(paths)?;
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut classes = Vec::new();
    let mut run_steps = Vec::new();
    for file in &files {
        let (compiled, run) = compile::compile_file(file, options)?;
        if !run.is_empty() && !run_steps.iter().any(|r: &RunSteps| r.source == run.source) {
            run_steps.push(run);
        }
        for class in compiled {
            if let Some(first) = seen.get(&class.name) {
                if *first != class.source {
                    return Err(ScenarioError::DuplicateClass {
                        name: class.name,
                        first: first.clone(),
                        second: class.source,
                    });
                }
                continue; // the same file given twice
            }
            seen.insert(class.name.clone(), class.source.clone());
            let order = classes.len();
            classes.push(UserClass { order, ..class });
        }
    }
    if classes.is_empty() {
        return Err(ScenarioError::NoUserClass);
    }
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Scenarios { classes, run_steps })
}

/// Compiles scenario text as if read from `path` (for tests and `--config`-style use).
pub fn load_str(path: impl Into<PathBuf>, text: &str) -> Result<Scenarios, ScenarioError> {
    load_str_with(path, text, &LoadOptions::default())
}

/// [`load_str`] with options.
pub fn load_str_with(
    path: impl Into<PathBuf>,
    text: &str,
    options: &LoadOptions,
) -> Result<Scenarios, ScenarioError> {
    let file = source::parse(path.into(), text.to_string())?;
    let (compiled, run) = compile::compile_file(&file, options)?;
    let run_steps = if run.is_empty() {
        Vec::new()
    } else {
        vec![run]
    };
    let mut classes: Vec<UserClass> = compiled
        .into_iter()
        .enumerate()
        .map(|(order, class)| UserClass { order, ..class })
        .collect();
    if classes.is_empty() {
        return Err(ScenarioError::NoUserClass);
    }
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Scenarios { classes, run_steps })
}
