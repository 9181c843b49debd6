//! A headless run from start to exit code, as a driver of one `Session`: start it with
//! the periodic sinks, wait for the run time, Ctrl-C, SIGTERM, `-i`, the end of the
//! load shape or a failed `abort` criterion, finish it, judge the finished run and write every final output. An
//! interrupted run loses nothing.

use std::sync::Arc;
use std::time::Duration;

use locust_scenario::{RunSteps, UserClass};
use locust_stats::{epoch_now, Stats};

use crate::config::Settings;
use crate::judge::{self, Judge};
use crate::logging::MAIN;
use crate::master::Master;
use crate::outcome::{RunSummary, StopReason};
use crate::session::{Outputs, Session};
use crate::sinks::console::Console;
use crate::sinks::report::{self, ReportContext};
use crate::sinks::{self, open_model, Periodic};

/// Where the users of a headless run run.
pub enum UsersAt<'a> {
    /// In this process (with the scenario files' setup and teardown steps).
    Here(&'a [RunSteps]),
    /// On the workers of this master.
    Workers(&'a Master),
}

pub struct RunOutcome {
    pub exit_code: i32,
    pub reason: StopReason,
    pub summary: RunSummary,
}

/// Runs the test headless and returns its outcome (the exit code among it).
pub async fn headless(
    settings: &Settings,
    classes: Vec<Arc<UserClass>>,
    users: UsersAt<'_>,
    judge: &Judge,
    context: &ReportContext,
) -> anyhow::Result<RunOutcome> {
    let console = Console::new(settings);
    let csv = sinks::csv_writer(&settings.output, epoch_now())?;
    match settings.spec.run_time {
        Some(limit) => {
            tracing::info!(target: MAIN, "Run time limit set to {} seconds", limit.as_secs())
        }
        None => tracing::info!(target: MAIN, "No run time limit set, use CTRL+C to interrupt"),
    }
    if !settings.output.only_summary {
        console.periodic(&Stats::new(epoch_now(), settings.output.csv_full_history));
    }
    if settings.spec.stages.is_some() && settings.users_on_command_line {
        tracing::warn!(target: MAIN, "The profile defines stages (a load shape) but -u/--users or -r/--spawn-rate was given: ignoring them, the stages set the user count");
    }
    let outputs = Outputs {
        periodic: Periodic::new(console.clone(), csv),
        cache: judge.cache_role.clone(),
        full_history: settings.output.csv_full_history,
        abort: judge.abort_watch(settings),
    };
    let session = match users {
        UsersAt::Here(run_steps) => {
            Session::start(
                settings.spec.clone(),
                classes,
                run_steps,
                outputs.periodic,
                outputs.cache,
                outputs.full_history,
                outputs.abort,
            )
            .await?
        }
        UsersAt::Workers(master) => {
            let attach = |session: &Arc<Session>| master.attach(session.clone());
            Session::start_on_workers(
                master.workers(),
                settings.spec.clone(),
                classes,
                outputs,
                attach,
            )
            .await?
        }
    };

    // The open model ends with its schedule (and the iterations still in flight).
    let run_time = settings.spec.run_time.filter(|_| !session.is_open_model());
    let reason = wait_for_end(run_time, &session).await;
    log_end(reason, session.is_open_model());
    let finished = session.finish(reason).await;

    let corrected = finished.open.as_ref().map(|o| &o.corrected);
    let run_secs = finished.end - finished.start;
    let judged = judge::judge(
        settings,
        judge,
        &finished.stats,
        corrected,
        reason,
        run_secs,
    );
    let exit_code = judged.exit_code;
    tracing::info!(target: MAIN, "Shutting down (exit code {exit_code})");
    console.final_summary(&finished.stats, &settings.output)?;
    if let Some(open) = &finished.open {
        open_model::write(&settings.output, &console, open)?;
    }
    report::conclude(settings, context, judged, &finished)?;
    Ok(RunOutcome {
        exit_code,
        reason,
        summary: finished.summary(),
    })
}

fn log_end(reason: StopReason, open_model: bool) {
    match reason {
        StopReason::ShapeDone if open_model => {
            tracing::info!(target: MAIN, "Arrival schedule completed, shutting down")
        }
        StopReason::ShapeDone => {
            tracing::info!(target: MAIN, "Shape test completed, shutting down")
        }
        StopReason::RunTime => {
            tracing::info!(target: MAIN, "--run-time limit reached, shutting down")
        }
        StopReason::Terminate => tracing::info!(target: MAIN, "Got SIGTERM signal"),
        StopReason::Interrupt
        | StopReason::Iterations
        | StopReason::Stopped
        | StopReason::WorkersGone
        | StopReason::StillRunning
        | StopReason::Aborted { .. } => {}
    }
}

async fn wait_for_end(run_time: Option<Duration>, session: &Session) -> StopReason {
    let run_time = async {
        match run_time {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = run_time => StopReason::RunTime,
        _ = tokio::signal::ctrl_c() => StopReason::Interrupt,
        _ = crate::signals::sigterm() => StopReason::Terminate,
        reason = session.ended_by_itself() => reason,
    }
}
