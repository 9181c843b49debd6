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

mod body;
mod check;
mod class;
mod compile;
mod error;
mod extract;
mod introspect;
mod model;
mod request;
mod response;
mod source;
mod step;
mod template;
mod vars;
mod wait;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use class::{Scenarios, Task, UserClass};
pub use error::{Location, ScenarioError, StepError};
pub use response::{catch_response_error, http_error, Outcome, ResponseView};
pub use source::closest;
pub use step::{RenderedRequest, SendOptions, Step};
pub use vars::{UserVars, DEFAULT_LIST_MAX};
pub use wait::WaitTime;

/// Loads scenario files and/or directories (searched recursively for `*.toml`,
/// skipping names starting with `_`), compiles every user class, and returns them
/// sorted by name. Fails on the first problem found.
pub fn load(paths: &[PathBuf]) -> Result<Scenarios, ScenarioError> {
    let files = source::read_all(paths)?;
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut classes = Vec::new();
    for file in &files {
        for class in compile::compile_file(file)? {
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
    Ok(Scenarios { classes })
}

/// Compiles scenario text as if read from `path` (for tests and `--config`-style use).
pub fn load_str(path: impl Into<PathBuf>, text: &str) -> Result<Scenarios, ScenarioError> {
    let file = source::parse(path.into(), text.to_string())?;
    let mut classes: Vec<UserClass> = compile::compile_file(&file)?
        .into_iter()
        .enumerate()
        .map(|(order, class)| UserClass { order, ..class })
        .collect();
    if classes.is_empty() {
        return Err(ScenarioError::NoUserClass);
    }
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Scenarios { classes })
}
