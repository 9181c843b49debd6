//! `--master`: bind the master's socket (`start`, also for the web UI's master); a
//! headless master (`run`) waits for `--expect-workers` workers (at most
//! `--expect-workers-max-wait`), runs the test on them as a headless run (the same
//! sinks, criteria and exit code), then tells the workers to quit.

use std::sync::Arc;

use super::headless::{self, UsersAt};
use super::{runtime, start_demo, Failure};
use crate::config::cli::Cli;
use crate::config::distributed::MasterSettings;
use crate::config::Settings;
use crate::exit;
use crate::judge::Judge;
use crate::logging::MAIN;
use crate::master::Master;
use crate::plan::Plan;
use crate::sinks::report::ReportContext;

/// Binds the master's socket; `headless`: workers are told `quit` when the test ends
/// (else `stop`, and they wait for the web UI's next test).
pub(super) fn start(
    settings: &Settings,
    master: &MasterSettings,
    headless: bool,
) -> Result<Master, Failure> {
    Master::start(
        master,
        headless,
        settings.spec.host.clone(),
        settings.spec.stop_timeout,
    )
    .map_err(|e| {
        Failure::new(
            exit::USAGE_ERROR,
            format!("--master-bind-host/--master-bind-port: {e}"),
        )
    })
}

pub(super) fn run(
    mut settings: Settings,
    master_settings: MasterSettings,
    plan: Plan,
    judge: Judge,
    report: &ReportContext,
    cli: &Cli,
) -> Result<i32, Failure> {
    if settings.spec.arrival.is_some() {
        return Err(Failure::new(
            exit::USAGE_ERROR,
            "--master deals users over workers (a closed model, as Locust's master does); an \
             arrival-rate profile runs in one process: drop --master, or use users and stages",
        ));
    }
    runtime()?.block_on(async move {
        tracing::info!(target: MAIN, "Starting locust-rs {} as a master", env!("CARGO_PKG_VERSION"));
        if let (Some(profile), Some(description)) = (&settings.profile, &settings.profile_description) {
            tracing::info!(target: MAIN, "Profile {profile}: {description}");
        }
        let demo = start_demo(&mut settings, cli).await?;
        plan.check_host(settings.spec.host.as_deref())
            .map_err(|e| Failure::new(e.exit_code(), e))?;
        let master = start(&settings, &master_settings, true)?;
        let expected = master_settings.expect_workers;
        let waited = tokio::select! {
            ready = master.wait_for_workers(expected, master_settings.expect_workers_max_wait) => ready,
            _ = tokio::signal::ctrl_c() => false,
            _ = crate::signals::sigterm() => false,
        };
        if !waited {
            master.quit().await;
            return Ok(exit::SCENARIO_ERROR);
        }
        let classes: Vec<Arc<_>> = plan.classes.clone();
        let outcome = headless::headless(&settings, classes, UsersAt::Workers(&master), &judge, report)
            .await
            .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")));
        master.quit().await;
        if let Some(server) = demo {
            tracing::info!(target: MAIN, "Demo target served {} requests", server.counters().total);
            server.shutdown().await;
        }
        outcome.map(|o| o.exit_code)
    })
}
