//! The profiles of `locust.toml` as the start form offers them: every one, resolved
//! once at start with the command line (so `-u` on it still wins, as in a headless
//! run), with what choosing it fills in (users, spawn rate, run time) and what drives
//! its load (a ramp, stages, an arrival rate or phases), and its planned load to draw.
//! A profile that does not resolve is offered with its error, which a start shows.

use std::path::Path;

use serde_json::{json, Value};

use super::shape_plan::PlannedLoad;
use crate::config::cli::Cli;
use crate::config::{self, file, Settings, PROJECT_FILE};

/// One profile as the form shows it.
#[derive(Debug, Clone)]
pub struct ProfileInfo {
    pub name: String,
    pub details: Value,
}

/// Every profile of the project file in `cwd`, by name.
pub fn all(cli: &Cli, cwd: &Path) -> Vec<ProfileInfo> {
    let Ok(project) = file::read_project_toml(&cwd.join(PROJECT_FILE)) else {
        return Vec::new();
    };
    project
        .profiles
        .keys()
        .map(|name| {
            let mut cli = cli.clone();
            cli.profile = Some(name.clone());
            let details = match config::resolve(cli, cwd) {
                Ok(settings) => details(&settings),
                Err(e) => json!({"error": e.to_string(), "kind": "error"}),
            };
            ProfileInfo {
                name: name.clone(),
                details,
            }
        })
        .collect()
}

/// What drives a run of these settings.
pub fn kind(settings: &Settings) -> &'static str {
    if settings.phases.is_some() {
        "phases"
    } else if settings.spec.arrival.is_some() {
        "arrival"
    } else if settings.spec.stages.is_some() {
        "stages"
    } else {
        "users"
    }
}

/// The form's view of a resolved profile.
pub fn details(settings: &Settings) -> Value {
    let spec = &settings.spec;
    let plan = PlannedLoad::of(spec).map(|p| p.to_json());
    json!({
        "description": settings.profile_description,
        "kind": kind(settings),
        "phases": settings.phases,
        "plan": plan,
        "run_time": spec.run_time.map(|d| format!("{}s", d.as_secs())),
        "spawn_rate": spec.spawn_rate,
        "user_classes": settings.user_classes,
        "users": spec.users,
    })
}
