//! From settings to the user classes a run will use: load and compile the scenario
//! files, pick the classes named on the command line, apply `--tags`/`--exclude-tags`,
//! and check that every class has a host. All before the first request.

use std::path::PathBuf;
use std::sync::Arc;

use locust_scenario::{ScenarioError, UserClass};

use crate::config::Settings;
use crate::exit;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("Could not find '{0}'. Ensure your locustfile ends with '.toml' or is a directory with locustfiles. See --help for available options.")]
    MissingLocustfile(PathBuf),
    #[error("{0}")]
    Scenario(Box<ScenarioError>),
    #[error("Unknown User(s): {names}{hint}")]
    UnknownUsers { names: String, hint: String },
    #[error("No User class found!")]
    NoUserClass,
    #[error("There are no users with weight > 0.")]
    NoWeight,
    #[error(
        "no task is left after filtering with --tags/--exclude-tags (the scenarios' tags: {known})"
    )]
    NoTasksAfterTags { known: String },
    #[error("You must specify the base host. Either in the host attribute in the User class, or on the command line using the --host option. (class {0})")]
    NoHost(String),
}

impl From<ScenarioError> for PlanError {
    fn from(error: ScenarioError) -> Self {
        PlanError::Scenario(Box::new(error))
    }
}

impl PlanError {
    pub fn exit_code(&self) -> i32 {
        exit::SCENARIO_ERROR
    }
}

/// The compiled classes of this run, sorted by name.
pub struct Plan {
    pub classes: Vec<Arc<UserClass>>,
    /// Each scenario file's `[[setup]]` and `[[teardown]]` steps.
    pub run_steps: Vec<locust_scenario::RunSteps>,
}

impl Plan {
    pub fn class_refs(&self) -> Vec<&UserClass> {
        self.classes.iter().map(|c| c.as_ref()).collect()
    }

    /// Each stage's `user-classes` must name classes this run has.
    pub fn check_stage_classes(&self, stages: &[locust_engine::Stage]) -> Result<(), String> {
        let known: Vec<&str> = self.classes.iter().map(|c| c.name.as_str()).collect();
        for classes in stages.iter().filter_map(|s| s.user_classes.as_ref()) {
            if let Some(name) = classes.names.iter().find(|n| !known.contains(&n.as_str())) {
                let hint = locust_scenario::closest(name, known.iter().copied())
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "{}: unknown user class `{name}`{hint}; this run has {}",
                    classes.origin,
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// HttpUser needs a host: from `-H`, or the class's own.
    pub fn check_host(&self, host: Option<&str>) -> Result<(), PlanError> {
        if host.is_some() {
            return Ok(());
        }
        match self.classes.iter().find(|c| c.host.is_none()) {
            Some(class) => Err(PlanError::NoHost(class.name.clone())),
            None => Ok(()),
        }
    }
}

pub fn build(settings: &Settings) -> Result<Plan, PlanError> {
    for path in &settings.locustfiles {
        if !path.exists() {
            return Err(PlanError::MissingLocustfile(path.clone()));
        }
    }
    let options = locust_scenario::LoadOptions {
        vars: settings.vars.clone(),
    };
    let scenarios = locust_scenario::load_with(&settings.locustfiles, &options)?;
    if scenarios.classes.is_empty() {
        return Err(PlanError::NoUserClass);
    }
    let run_steps = scenarios.run_steps;
    let selected = select(scenarios.classes, &settings.user_classes)?;
    let mut known_tags: Vec<&str> = selected
        .iter()
        .flat_map(|c| {
            c.tasks
                .iter()
                .flat_map(|t| t.tags.iter().map(String::as_str))
        })
        .collect();
    known_tags.sort_unstable();
    known_tags.dedup();
    let known_tags = known_tags.join(", ");
    let filtering = settings.tags.is_some() || settings.exclude_tags.is_some();
    let mut classes = Vec::new();
    for class in selected {
        let class = class.filter_tags(settings.tags.as_deref(), settings.exclude_tags.as_deref());
        if class.tasks.is_empty() {
            tracing::warn!(
                target: crate::logging::ROOT,
                "{} had no tasks left after filtering, instantiating it will fail!",
                class.name
            );
            continue;
        }
        let unreachable = class.unreachable_tasks();
        if !unreachable.is_empty() {
            // Locust's warning for a MarkovTaskSet, its names as a Python set.
            let names: Vec<String> = unreachable
                .iter()
                .map(|n| locust_stats::pyrepr::repr_str(n))
                .collect();
            tracing::warn!(
                target: crate::logging::ROOT,
                "The following markov tasks are unreachable in class {}: {{{}}}",
                class.name,
                names.join(", ")
            );
        }
        if class.fixed_count == 0 && class.weight <= 0.0 {
            continue;
        }
        classes.push(Arc::new(class));
    }
    if classes.is_empty() && filtering {
        return Err(PlanError::NoTasksAfterTags { known: known_tags });
    }
    if classes.is_empty() {
        return Err(PlanError::NoWeight);
    }
    Ok(Plan { classes, run_steps })
}

fn select(classes: Vec<UserClass>, names: &[String]) -> Result<Vec<UserClass>, PlanError> {
    if names.is_empty() {
        return Ok(classes);
    }
    let known: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| !known.contains(&n.as_str()))
        .collect();
    if let Some(first) = unknown.first() {
        let hint = locust_scenario::closest(first, known.iter().copied())
            .map(|k| {
                format!(
                    " Did you mean {k}? Available User classes: {}",
                    known.join(", ")
                )
            })
            .unwrap_or_else(|| format!(" Available User classes: {}", known.join(", ")));
        return Err(PlanError::UnknownUsers {
            names: unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            hint,
        });
    }
    Ok(classes
        .into_iter()
        .filter(|c| names.contains(&c.name))
        .collect())
}
