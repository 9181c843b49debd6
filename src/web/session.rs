//! The web UI's session: what the page and the API act on. It holds the scenario
//! classes and settings the process started with, the current (or last) test, and the
//! run-time timer; `/swarm` starts a test or changes the running one, `/stop` ends it.
//! A new test after a stop starts from fresh figures, as Locust's does. Any profile of
//! locust.toml can be picked: its stages or arrival rate drive the load (the form's
//! numbers are then unused), and a profile with `phases` runs them in turn (`phases`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use locust_scenario::UserClass;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::profiles::{self, ProfileInfo};
use super::swarm_form::SwarmRequest;
use super::test_run::TestRun;
use crate::config::cli::Cli;
use crate::config::{self, Settings};
use crate::judge::Judge;
use crate::logging::MAIN;
use crate::master::Master;
use crate::outcome::StopReason;
use crate::plan::{self, Plan};
use crate::sinks::report::ReportContext;
use locust_stats::{epoch_now, lock};

pub struct Session {
    /// The settings the process started with (the form's defaults).
    pub base: Settings,
    cli: Cli,
    cwd: PathBuf,
    /// Every class of the scenario files, after `--tags`/`--exclude-tags`.
    pub classes: Vec<Arc<UserClass>>,
    /// The scenario files' `[[setup]]` and `[[teardown]]` steps.
    run_steps: Vec<locust_scenario::RunSteps>,
    judge: Judge,
    report: ReportContext,
    /// Every profile of locust.toml, with what the form fills in when it is picked.
    pub profiles: Vec<ProfileInfo>,
    current: Mutex<Option<Arc<TestRun>>>,
    timer: Mutex<Option<tokio::task::AbortHandle>>,
    /// Cancelled to end a running sequence of phases (Stop, a new test).
    phases: Mutex<Option<CancellationToken>>,
    /// Swarm and stop wait for each other, so two clicks never start two tests.
    control: tokio::sync::Mutex<()>,
    /// With `--master`: the workers that run every test's users.
    pub master: Option<Arc<Master>>,
}

/// What a new test is started with: the form applied to the session's settings.
struct NewTest {
    settings: Settings,
    judge: Judge,
    report: ReportContext,
    classes: Vec<Arc<UserClass>>,
    run_steps: Vec<locust_scenario::RunSteps>,
}

/// What a successful `/swarm` answers.
pub struct Swarmed {
    pub host: String,
    pub run_time: Option<u64>,
    pub user_classes: Option<Vec<String>>,
}

impl Session {
    pub fn new(
        base: Settings,
        cli: Cli,
        cwd: PathBuf,
        plan: Plan,
        judge: Judge,
        report: ReportContext,
    ) -> Self {
        let profiles = profiles::all(&cli, &cwd);
        Session {
            base,
            cli,
            cwd,
            classes: plan.classes,
            run_steps: plan.run_steps,
            judge,
            report,
            profiles,
            current: Mutex::new(None),
            timer: Mutex::new(None),
            phases: Mutex::new(None),
            control: tokio::sync::Mutex::new(()),
            master: None,
        }
    }

    pub fn current(&self) -> Option<Arc<TestRun>> {
        lock(&self.current).clone()
    }

    pub fn base_judge(&self) -> (Judge, ReportContext) {
        (self.judge.clone(), self.report.clone())
    }

    pub fn judge_cache_role(&self) -> locust_stats::CacheRole {
        self.judge.cache_role.clone()
    }

    /// The host the form shows: the running test's, else the one given at start.
    pub fn host(&self) -> String {
        self.current()
            .and_then(|t| t.settings.spec.host.clone())
            .or_else(|| self.base.spec.host.clone())
            .unwrap_or_default()
    }

    pub fn state(&self) -> &'static str {
        self.current().map_or("ready", |t| t.state())
    }

    pub fn user_count(&self) -> u64 {
        self.current().map_or(0, |t| t.user_count())
    }

    /// `/swarm`: a new test, or new numbers for the running one.
    pub async fn swarm(self: &Arc<Self>, request: SwarmRequest) -> Result<Swarmed, String> {
        let _control = self.control.lock().await;
        let running = self.current().filter(|t| t.is_running());
        // A refused change leaves the running test as it was, its run-time timer too.
        if let Some(test) = &running {
            self.check_unchanged(test, &request)?;
            if test.is_shaped() || test.phase().is_some() {
                return Err(format!(
                    "The running test follows profile '{}': stop it to change the load",
                    test.phase()
                        .map(|p| p.parent)
                        .or_else(|| test.settings.profile.clone())
                        .unwrap_or_default()
                ));
            }
        }
        self.cancel_timer();
        let mut timed = request.run_time;
        let test = match running {
            Some(test) => {
                test.ramp_to(request.user_count, request.spawn_rate).await;
                test
            }
            None => {
                self.cancel_phases();
                match self.phases_of(&request)? {
                    Some(names) => {
                        // Each phase keeps its own run time (the form's, when given).
                        timed = None;
                        super::phases::start(self.clone(), names, request.clone()).await?
                    }
                    None => self.start_test(&request).await?,
                }
            }
        };
        if let Some(seconds) = timed {
            let session = self.clone();
            let timer = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                tracing::info!(target: MAIN, "--run-time limit reached, stopping test");
                session.stop_current(StopReason::RunTime).await;
            });
            *lock(&self.timer) = Some(timer.abort_handle());
        }
        Ok(Swarmed {
            host: test.settings.spec.host.clone().unwrap_or_default(),
            run_time: request.run_time,
            user_classes: (!request.user_classes.is_empty())
                .then(|| test.classes.iter().map(|c| c.name.clone()).collect()),
        })
    }

    /// A new test from the form (one phase of a sequence too), made the current one.
    pub(super) async fn start_test(&self, request: &SwarmRequest) -> Result<Arc<TestRun>, String> {
        if self.master.is_some() && self.worker_count() == 0 {
            // Locust's words, and nothing started.
            return Err("You can't start a distributed test before at least one worker processes has connected".into());
        }
        let new = self.prepare(request)?;
        if self.master.is_some() && new.settings.spec.arrival.is_some() {
            return Err("an arrival-rate profile runs in one process: a master deals users over workers (pick a profile with users or stages)".into());
        }
        let test = TestRun::start(
            new.settings,
            new.judge,
            new.report,
            new.classes,
            new.run_steps,
            self.master.clone(),
        )
        .await
        .map_err(|e| format!("{e:#}"))?;
        *lock(&self.current) = Some(test.clone());
        Ok(test)
    }

    /// `/stop` (and quitting): ends the running test, if any, and its sequence.
    pub async fn stop(&self, reason: StopReason) {
        let _control = self.control.lock().await;
        self.cancel_timer();
        self.cancel_phases();
        self.stop_current(reason).await;
    }

    /// The phases of the profile asked for, when it is a sequence.
    fn phases_of(&self, request: &SwarmRequest) -> Result<Option<Vec<String>>, String> {
        let Some(name) = &request.profile else {
            return Ok(None);
        };
        if Some(name) == self.base.profile.as_ref() {
            return Ok(self.base.phases.clone());
        }
        self.check_profile(name)?;
        let info = self.profiles.iter().find(|p| &p.name == name);
        Ok(info.and_then(|p| serde_json::from_value(p.details["phases"].clone()).ok()))
    }

    /// Registers the token that ends a new sequence of phases.
    pub(super) fn phases_token(&self) -> CancellationToken {
        let token = CancellationToken::new();
        *lock(&self.phases) = Some(token.clone());
        token
    }

    fn cancel_phases(&self) {
        if let Some(token) = lock(&self.phases).take() {
            token.cancel();
        }
    }

    /// The control lock, for a sequence moving to its next phase.
    pub(super) async fn control(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.control.lock().await
    }

    async fn stop_current(&self, reason: StopReason) {
        if let Some(test) = self.current() {
            if test.is_running() {
                test.stop(reason).await;
            }
        }
    }

    fn cancel_timer(&self) {
        if let Some(timer) = lock(&self.timer).take() {
            timer.abort();
        }
    }

    /// A running test keeps its host and classes: only the numbers change.
    fn check_unchanged(&self, test: &TestRun, request: &SwarmRequest) -> Result<(), String> {
        if let (Some(asked), Some(running)) = (&request.host, &test.settings.spec.host) {
            if asked.trim_end_matches('/') != running {
                return Err(format!(
                    "A test is running against {running}: stop it before changing the host"
                ));
            }
        }
        let running: Vec<&str> = test.classes.iter().map(|c| c.name.as_str()).collect();
        if !request.user_classes.is_empty() && request.user_classes != running {
            return Err(format!(
                "A test is running with {}: stop it before changing the user classes",
                running.join(", ")
            ));
        }
        Ok(())
    }

    /// The settings, criteria, report context and classes of a new test from the form.
    fn prepare(&self, request: &SwarmRequest) -> Result<NewTest, String> {
        let (mut settings, judge_source) = match &request.profile {
            Some(name) if Some(name) != self.base.profile.as_ref() => {
                let (settings, plan) = self.for_profile(name)?;
                (settings, Some(plan))
            }
            _ => (self.base.clone(), None),
        };
        let classes = judge_source
            .as_ref()
            .map_or_else(|| self.classes.clone(), |plan| plan.classes.clone());
        let run_steps = judge_source
            .as_ref()
            .map_or_else(|| self.run_steps.clone(), |plan| plan.run_steps.clone());
        let classes = pick_classes(classes, &request.user_classes)?;
        check_stage_classes(&settings, &classes)?;
        let host = request
            .host
            .clone()
            .or_else(|| self.base.spec.host.clone())
            .map(|h| h.trim_end_matches('/').to_string());
        match &host {
            Some(h) if !(h.starts_with("http://") || h.starts_with("https://")) => {
                return Err(format!(
                    "Invalid host '{h}': it must start with http:// or https://"
                ))
            }
            None if classes.iter().any(|c| c.host.is_none()) => {
                return Err("You must specify the base host (e.g. http://localhost:8080)".into())
            }
            _ => {}
        }
        settings.spec.host = host;
        settings.spec.users = request.user_count;
        settings.spec.spawn_rate = request.spawn_rate;
        settings.spec.run_time = request.run_time.map(Duration::from_secs);
        settings.user_classes = classes.iter().map(|c| c.name.clone()).collect();
        let (judge, mut report) = match judge_source {
            Some(plan) => (
                Judge::prepare(&settings, &plan).map_err(|e| e.to_string())?,
                ReportContext::prepare(&settings, &plan, crate::config::command_line()),
            ),
            None => (self.judge.clone(), self.report.clone()),
        };
        report.classes = settings.user_classes.clone();
        report.tasks = crate::task_ratio::shares(
            &classes.iter().map(|c| c.as_ref()).collect::<Vec<_>>(),
            Some(settings.spec.users),
        );
        Ok(NewTest {
            settings,
            judge,
            report,
            classes,
            run_steps,
        })
    }

    fn check_profile(&self, name: &str) -> Result<(), String> {
        if self.profiles.iter().any(|p| p.name == name) {
            return Ok(());
        }
        let names: Vec<&str> = self.profiles.iter().map(|p| p.name.as_str()).collect();
        Err(format!(
            "Unknown profile '{name}' (profiles of locust.toml: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
    }

    /// A profile picked in the form: its criteria, labels and description, the classes
    /// of its scenario files, and its stages or arrival rate; the form's numbers win
    /// over its users, spawn rate and run time.
    pub(super) fn for_profile(&self, name: &str) -> Result<(Settings, Plan), String> {
        self.check_profile(name)?;
        let mut cli = self.cli.clone();
        cli.profile = Some(name.to_string());
        let mut resolved = config::resolve(cli, &self.cwd).map_err(|e| e.to_string())?;
        if resolved.phases.is_some() {
            return Err(format!(
                "Profile '{name}' is a sequence of phases: it cannot be one of them"
            ));
        }
        resolved.headless = false;
        resolved.web = self.base.web.clone();
        let plan = plan::build(&resolved).map_err(|e| e.to_string())?;
        if let Some(stages) = &resolved.spec.stages {
            plan.check_stage_classes(stages)?;
        }
        Ok((resolved, plan))
    }

    /// Locust's `window.templateArgs` subset the page needs.
    pub fn template_args(&self) -> Value {
        let current = self.current();
        let (history, profile) = match &current {
            Some(test) => (test.history().points(), test.settings.profile.clone()),
            None => (Vec::new(), self.base.profile.clone()),
        };
        let details: serde_json::Map<String, Value> = self
            .profiles
            .iter()
            .map(|p| (p.name.clone(), p.details.clone()))
            .collect();
        json!({
            "available_profiles": self.profiles.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "last_test": super::test_json::describe(self, epoch_now()),
            "profiles": details,
            "available_user_classes": self.classes.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "history": history,
            "host": self.host(),
            "is_distributed": self.master.is_some(),
            "locustfile": self.locustfile_label(),
            "num_users": self.base.spec.users,
            "percentiles_to_chart": [0.5, 0.95],
            "profile": profile,
            "run_time": self.base.spec.run_time.map(|d| format!("{}s", d.as_secs())),
            "spawn_rate": self.base.spec.spawn_rate,
            "state": self.state(),
            "stats_history_enabled": self.base.output.csv_full_history,
            "user_count": self.user_count(),
            "version": env!("CARGO_PKG_VERSION"),
            "worker_count": self.worker_count(),
        })
    }

    /// Workers connected to this master (0 without `--master`).
    pub fn worker_count(&self) -> usize {
        self.master.as_ref().map_or(0, |m| m.ready_count())
    }

    /// The scenario file (or folder) name, as Locust names downloads after it.
    pub fn locustfile_label(&self) -> String {
        self.base
            .locustfiles
            .first()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "locustfile".into())
    }
}

/// A stage may only name classes the test runs (the picker may have left some out).
fn check_stage_classes(settings: &Settings, classes: &[Arc<UserClass>]) -> Result<(), String> {
    let stages = settings.spec.stages.iter().flatten();
    for name in stages
        .filter_map(|s| s.user_classes.as_ref())
        .flat_map(|c| &c.names)
    {
        if !classes.iter().any(|c| &c.name == name) {
            return Err(format!(
                "A stage of profile '{}' runs {name}: pick that user class too",
                settings.profile.as_deref().unwrap_or("?")
            ));
        }
    }
    Ok(())
}

fn pick_classes(
    classes: Vec<Arc<UserClass>>,
    names: &[String],
) -> Result<Vec<Arc<UserClass>>, String> {
    if names.is_empty() {
        return Ok(classes);
    }
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !classes.iter().any(|c| &c.name == *n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!("Unknown User(s): {}", unknown.join(", ")));
    }
    Ok(classes
        .into_iter()
        .filter(|c| names.contains(&c.name))
        .collect())
}
