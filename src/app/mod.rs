//! The run modes the command line chooses between, in the order `run` tries them:
//! serving the demo target, listing classes and task ratios, the phases of `all`
//! (`phases`), the web UI, and a headless run (`headless`). Each resolves the settings,
//! builds the plan and prepares the criteria and report context before any request.

pub mod headless;
mod master;
mod phases;

use std::path::PathBuf;

use crate::config::cli::Cli;
use crate::config::distributed::{MasterSettings, Role};
use crate::config::{self, Settings};
use crate::judge::Judge;
use crate::logging::MAIN;
use crate::plan::{self, Plan, PlanError};
use crate::sinks::report::ReportContext;
use crate::{demo, exit, fd_limit, logging, probe, task_ratio, web, worker};

/// An error and the exit code it maps to.
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    fn new(code: i32, message: impl std::fmt::Display) -> Self {
        Failure {
            code,
            message: message.to_string(),
        }
    }
}

/// Runs what the command line asks for; the exit code, or the error to print.
pub fn run(cli: Cli) -> Result<i32, Failure> {
    if let Some(addr) = cli.serve_demo.clone() {
        return demo::serve_standalone(&cli, &addr).map_err(|e| Failure::new(exit::USAGE_ERROR, e));
    }
    let cwd = std::env::current_dir().map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    let settings =
        config::resolve(cli.clone(), &cwd).map_err(|e| Failure::new(e.exit_code(), e))?;
    logging::init(&settings.loglevel, settings.logfile.as_deref())
        .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("--logfile: {e}")))?;
    let plan = plan::build(&settings).map_err(plan_failure)?;

    if settings.list {
        print!("{}", task_ratio::list(&plan.class_refs()));
        return Ok(exit::OK);
    }
    if settings.show_task_ratio {
        print!("{}", task_ratio::table(&plan.class_refs(), cli.users));
        return Ok(exit::OK);
    }
    if settings.show_task_ratio_json {
        println!("{}", task_ratio::json(&plan.class_refs(), cli.users));
        return Ok(exit::OK);
    }
    if let Role::Worker {
        master_host,
        master_port,
    } = &settings.role
    {
        let master = worker::MasterAddr {
            host: master_host.clone(),
            port: *master_port,
        };
        return run_worker(settings, plan, master);
    }
    if let Some(names) = settings.phases.clone() {
        return phases::run(&cli, &cwd, settings, &names);
    }
    check_runnable(&settings, &plan)?;
    open_files_for(&settings);
    let (judge, report) = prepare(&settings, &plan)?;
    let master = match &settings.role {
        Role::Master(master) => Some(master.clone()),
        _ => None,
    };
    if !settings.headless {
        return run_web(settings, plan, (judge, report), cli, cwd, master);
    }
    if let Some(master) = master {
        return master::run(settings, master, plan, judge, &report, &cli);
    }
    run_headless(settings, plan, judge, &report, &cli).map(|o| o.exit_code)
}

/// Raises the open-files limit (a DEBUG line says so) and warns, once and before the
/// run, when the most users the run will have cannot each have a socket within it.
fn open_files_for(settings: &Settings) {
    let limits = fd_limit::raise();
    if let Some(line) = fd_limit::describe(&limits) {
        tracing::debug!(target: MAIN, "{line}");
    }
    let spec = &settings.spec;
    let staged = spec.stages.iter().flatten().map(|stage| stage.users).max();
    let pooled = spec.arrival.as_ref().map(|a| a.pool.size as u64);
    let users = [Some(spec.users), staged, pooled]
        .into_iter()
        .flatten()
        .max();
    if let Some(warning) = users.and_then(|users| fd_limit::shortfall(&limits, users)) {
        tracing::warn!(target: MAIN, "{warning}");
    }
}

/// The criteria (checked against the plan) and what the reports need, before any request.
fn prepare(settings: &Settings, plan: &Plan) -> Result<(Judge, ReportContext), Failure> {
    let judge = Judge::prepare(settings, plan).map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    let report = ReportContext::prepare(settings, plan, config::command_line());
    Ok((judge, report))
}

/// Interactive mode: the web UI (with the demo target first when asked); with
/// `--master`, its tests run on the workers that connect.
fn run_web(
    mut settings: Settings,
    plan: Plan,
    (judge, report): (Judge, ReportContext),
    cli: Cli,
    cwd: PathBuf,
    master: Option<MasterSettings>,
) -> Result<i32, Failure> {
    let runtime = runtime()?;
    runtime.block_on(async move {
        tracing::info!(target: MAIN, "Starting locust-rs {}", env!("CARGO_PKG_VERSION"));
        let demo = start_demo(&mut settings, &cli).await?;
        let master = match master {
            Some(master) => Some(std::sync::Arc::new(master::start(
                &settings, &master, false,
            )?)),
            None => None,
        };
        let code = web::serve(settings, cli, cwd, plan, judge, report, master.clone())
            .await
            .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")));
        if let Some(master) = master {
            master.quit().await;
        }
        let code = code?;
        if let Some(server) = demo {
            server.shutdown().await;
        }
        Ok(code)
    })
}

/// `--worker`: serve a Locust master until it says quit.
fn run_worker(settings: Settings, plan: Plan, master: worker::MasterAddr) -> Result<i32, Failure> {
    let judge = Judge::prepare(&settings, &plan).map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    let plan = worker::WorkerPlan {
        settings,
        classes: plan.classes,
        run_steps: plan.run_steps,
        cache: judge.cache_role.clone(),
    };
    runtime()?.block_on(async move {
        tracing::info!(target: MAIN, "Starting locust-rs {} as a worker of {}:{}", env!("CARGO_PKG_VERSION"), master.host, master.port);
        worker::run(plan, &master)
            .await
            .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")))
    })
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("cannot start the runtime: {e}")))
}

/// `--demo`: the built-in target on a free 127.0.0.1 port becomes the host.
pub(super) async fn start_demo(
    settings: &mut Settings,
    cli: &Cli,
) -> Result<Option<locust_demo_target::DemoServer>, Failure> {
    if !settings.demo {
        return Ok(None);
    }
    let server = demo::start_in_process(cli)
        .await
        .map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    tracing::info!(target: MAIN, "Demo target listening at {}", server.base_url());
    settings.spec.host = Some(server.base_url());
    Ok(Some(server))
}

/// What cannot run as configured, refused before any request.
pub(super) fn check_runnable(settings: &Settings, plan: &Plan) -> Result<(), Failure> {
    if let Some(stages) = &settings.spec.stages {
        plan.check_stage_classes(stages)
            .map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    }
    if let Some((shape, origin)) = &settings.load_shape {
        return Err(Failure::new(
            exit::USAGE_ERROR,
            format!(
                "{origin}: profile `{}` uses load-shape = \"{shape}\", which this build does not \
                 know: describe the shape as [[profiles.NAME.stages]] tables (duration or until, \
                 users, spawn-rate), or run profiles in sequence with phases = [\"basic\", ...] \
                 (see LOAD_TESTING.md)",
                settings.profile.as_deref().unwrap_or("?")
            ),
        ));
    }
    Ok(())
}

/// Locust logs an unknown class as an ERROR line (a format tools grep for); the list of
/// classes that do exist follows as a hint.
pub(super) fn plan_failure(error: PlanError) -> Failure {
    if let PlanError::UnknownUsers { names, hint } = &error {
        tracing::error!(target: MAIN, "Unknown User(s): {names}");
        tracing::info!(target: MAIN, "{}", hint.trim());
        return Failure::new(error.exit_code(), "");
    }
    Failure::new(error.exit_code(), error)
}

/// A headless run (with the demo target first when asked), after the start-up check.
pub(super) fn run_headless(
    mut settings: Settings,
    plan: Plan,
    judge: Judge,
    report: &ReportContext,
    cli: &Cli,
) -> Result<headless::RunOutcome, Failure> {
    let runtime = runtime()?;
    runtime.block_on(async move {
        tracing::info!(target: MAIN, "Starting locust-rs {}", env!("CARGO_PKG_VERSION"));
        if let (Some(profile), Some(description)) = (&settings.profile, &settings.profile_description) {
            tracing::info!(target: MAIN, "Profile {profile}: {description}");
        }
        let demo = start_demo(&mut settings, cli).await?;
        plan.check_host(settings.spec.host.as_deref())
            .map_err(|e| Failure::new(e.exit_code(), e))?;
        let hosts: Vec<String> = match &settings.spec.host {
            Some(host) => vec![host.clone()],
            None => plan.classes.iter().filter_map(|c| c.host.clone()).collect(),
        };
        let proxies = &settings.spec.http.proxies;
        let proxy_for = |tls: bool, host: &str, port: u16| {
            proxies.for_target(tls, host, port).map(|p| (p.host.clone(), p.port))
        };
        probe::check(&hosts, proxy_for)
            .await
            .map_err(|e| Failure::new(exit::UNREACHABLE, e))?;
        if settings.spec.spawn_rate > 100.0 {
            tracing::warn!(target: MAIN, "Your selected spawn rate is very high (>100), and this is known to sometimes cause issues. Do you really need to ramp up that fast?");
        }
        let users = headless::UsersAt::Here(&plan.run_steps);
        let outcome = headless::headless(&settings, plan.classes, users, &judge, report)
            .await
            .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")))?;
        if let Some(server) = demo {
            tracing::info!(
                target: MAIN,
                "Demo target served {} requests",
                server.counters().total
            );
            server.shutdown().await;
        }
        Ok(outcome)
    })
}
