//! locust-rs: parse the command line, build one validated plan (scenarios, criteria),
//! check the target is reachable, run it, and map the outcome to the exit codes of
//! `exit.rs`. Every step is a named function below; errors are
//! printed once as `locust-rs: error: ...` without a backtrace.

mod app;
mod config;
mod criteria;
mod demo;
mod exit;
mod log_buffer;
mod logging;
mod outcome;
mod plan;
mod probe;
mod report;
mod session;
mod sinks;
mod task_ratio;
mod verdict;
mod web;

use std::process::ExitCode;

/// mimalloc: faster than glibc's malloc on the request path, and it hands freed pages
/// back instead of letting the heap creep up over a long run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use crate::config::cli::Cli;
use crate::logging::MAIN;
use crate::plan::PlanError;

/// An error and the exit code it maps to.
struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    fn new(code: i32, message: impl std::fmt::Display) -> Self {
        Failure {
            code,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let code = match Cli::try_parse() {
        Err(error) => config::cli_errors::report(error),
        Ok(cli) => match real_main(cli) {
            Ok(code) => code,
            Err(failure) => {
                if !failure.message.is_empty() {
                    eprintln!("locust-rs: error: {}", failure.message);
                }
                failure.code
            }
        },
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn real_main(cli: Cli) -> Result<i32, Failure> {
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
    if let Some(names) = settings.phases.clone() {
        return run_phases(&cli, &cwd, settings, &names);
    }
    check_runnable(&settings, &plan)?;
    let judge = verdict::Judge::prepare(&settings, &plan, verdict::command_line())
        .map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    if !settings.headless {
        return run_web(settings, plan, judge, cli, cwd);
    }
    run_headless(settings, plan, judge, &cli).map(|o| o.exit_code)
}

/// Interactive mode: the web UI (with the demo target first when asked).
fn run_web(
    mut settings: config::Settings,
    plan: plan::Plan,
    judge: verdict::Judge,
    cli: Cli,
    cwd: std::path::PathBuf,
) -> Result<i32, Failure> {
    let runtime = runtime()?;
    runtime.block_on(async move {
        tracing::info!(target: MAIN, "Starting locust-rs {}", env!("CARGO_PKG_VERSION"));
        let demo = start_demo(&mut settings, &cli).await?;
        let code = web::serve(settings, cli, cwd, plan, judge)
            .await
            .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")))?;
        if let Some(server) = demo {
            server.shutdown().await;
        }
        Ok(code)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("cannot start the runtime: {e}")))
}

/// `--demo`: the built-in target on a free 127.0.0.1 port becomes the host.
async fn start_demo(
    settings: &mut config::Settings,
    cli: &Cli,
) -> Result<Option<locust_demo_target::DemoServer>, Failure> {
    if !settings.demo {
        return Ok(None);
    }
    let server = demo::start_in_process(cli)
        .await
        .map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
    tracing::info!(target: MAIN, "Demo target listening at {}", server.base_url());
    settings.host = Some(server.base_url());
    Ok(Some(server))
}

/// What cannot run as configured, refused before any request.
fn check_runnable(settings: &config::Settings, plan: &plan::Plan) -> Result<(), Failure> {
    if let Some(stages) = &settings.stages {
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
    if !settings.headless {
        let headless_only = if settings.stages.is_some() {
            Some("stages (a load shape)")
        } else if settings.arrival.is_some() {
            Some("an arrival rate (the open model)")
        } else {
            None
        };
        if let Some(what) = headless_only {
            return Err(Failure::new(
                exit::USAGE_ERROR,
                format!(
                    "profile `{}` runs {what}, which runs headless only: add --headless \
                     (the web UI starts tests with a user count and a spawn rate)",
                    settings.profile.as_deref().unwrap_or("?")
                ),
            ));
        }
    }
    Ok(())
}

/// `all`: every phase is resolved, planned and judged first (bad input in any phase
/// stops the run before a request), then run in turn; the index links their reports.
fn run_phases(
    cli: &Cli,
    cwd: &std::path::Path,
    parent: config::Settings,
    names: &[String],
) -> Result<i32, Failure> {
    let mut prepared = Vec::new();
    for name in names {
        let mut phase_cli = cli.clone();
        phase_cli.profile = Some(name.clone());
        let resolved =
            config::resolve(phase_cli, cwd).map_err(|e| Failure::new(e.exit_code(), e))?;
        let settings = sinks::index::for_phase(&parent, name, resolved);
        let plan = plan::build(&settings).map_err(plan_failure)?;
        check_runnable(&settings, &plan)?;
        let judge = verdict::Judge::prepare(&settings, &plan, verdict::command_line())
            .map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
        prepared.push((name.clone(), settings, plan, judge));
    }
    let mut results = Vec::new();
    let count = prepared.len();
    for (index, (name, settings, plan, judge)) in prepared.into_iter().enumerate() {
        tracing::info!(target: MAIN, "Phase {}/{count}: {name}", index + 1);
        let (html, json, csv) = (
            settings.html.as_deref().map(|t| {
                report::substitute(
                    t,
                    settings.users,
                    settings.spawn_rate,
                    settings.run_time.map(|d| d.as_secs()),
                )
            }),
            settings.report_json.clone(),
            settings.csv_prefix.clone(),
        );
        let description = settings.profile_description.clone();
        let outcome = run_headless(settings, plan, judge, cli)?;
        tracing::info!(
            target: MAIN,
            "Phase {name} finished with exit code {}",
            outcome.exit_code
        );
        let interrupted = matches!(
            outcome.reason,
            outcome::StopReason::Interrupt | outcome::StopReason::Terminate
        );
        results.push(sinks::index::PhaseResult {
            name,
            description,
            exit_code: outcome.exit_code,
            summary: outcome.summary,
            html,
            json,
            csv,
        });
        if interrupted {
            tracing::info!(target: MAIN, "Interrupted: the remaining phases are skipped");
            break;
        }
    }
    sinks::index::write_index(&parent, &results)
        .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")))?;
    let code = sinks::index::worst(&results);
    let verdicts: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.name,
                if r.exit_code == 0 { "PASS" } else { "FAIL" }
            )
        })
        .collect();
    tracing::info!(target: MAIN, "All phases done: {} (exit code {code})", verdicts.join(", "));
    Ok(code)
}

/// Locust logs an unknown class as an ERROR line (a format tools grep for); the list of
/// classes that do exist follows as a hint.
fn plan_failure(error: PlanError) -> Failure {
    if let PlanError::UnknownUsers { names, hint } = &error {
        tracing::error!(target: MAIN, "Unknown User(s): {names}");
        tracing::info!(target: MAIN, "{}", hint.trim());
        return Failure::new(error.exit_code(), "");
    }
    Failure::new(error.exit_code(), error)
}

fn run_headless(
    mut settings: config::Settings,
    plan: plan::Plan,
    judge: verdict::Judge,
    cli: &Cli,
) -> Result<app::headless::RunOutcome, Failure> {
    let runtime = runtime()?;
    runtime.block_on(async move {
        tracing::info!(target: MAIN, "Starting locust-rs {}", env!("CARGO_PKG_VERSION"));
        if let (Some(profile), Some(description)) = (&settings.profile, &settings.profile_description) {
            tracing::info!(target: MAIN, "Profile {profile}: {description}");
        }
        let demo = start_demo(&mut settings, cli).await?;
        plan.check_host(settings.host.as_deref())
            .map_err(|e| Failure::new(e.exit_code(), e))?;
        let hosts: Vec<String> = match &settings.host {
            Some(host) => vec![host.clone()],
            None => plan.classes.iter().filter_map(|c| c.host.clone()).collect(),
        };
        let proxies = &settings.http.proxies;
        let proxy_for = |tls: bool, host: &str, port: u16| {
            proxies.for_target(tls, host, port).map(|p| (p.host.clone(), p.port))
        };
        probe::check(&hosts, proxy_for)
            .await
            .map_err(|e| Failure::new(exit::UNREACHABLE, e))?;
        if settings.spawn_rate > 100.0 {
            tracing::warn!(target: MAIN, "Your selected spawn rate is very high (>100), and this is known to sometimes cause issues. Do you really need to ramp up that fast?");
        }
        let outcome = app::headless::headless(&settings, plan.classes, &judge)
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
