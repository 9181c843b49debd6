//! `all`: every phase is resolved, planned and judged before the first request, then
//! run in turn as headless runs; the index links their reports and the exit code is
//! the worst of theirs.

use super::{check_runnable, plan_failure, run_headless, Failure};
use crate::config::cli::Cli;
use crate::config::{self, Settings};
use crate::judge::Judge;
use crate::logging::MAIN;
use crate::outcome::StopReason;
use crate::sinks::index::{self, PhaseResult};
use crate::sinks::report::ReportContext;
use crate::{exit, plan, report};

/// `all`: every phase is resolved, planned and judged first (bad input in any phase
/// stops the run before a request), then run in turn; the index links their reports.
pub(super) fn run(
    cli: &Cli,
    cwd: &std::path::Path,
    parent: Settings,
    names: &[String],
) -> Result<i32, Failure> {
    let mut prepared = Vec::new();
    for name in names {
        let mut phase_cli = cli.clone();
        phase_cli.profile = Some(name.clone());
        let resolved =
            config::resolve(phase_cli, cwd).map_err(|e| Failure::new(e.exit_code(), e))?;
        let settings = index::for_phase(&parent, name, resolved);
        let plan = plan::build(&settings).map_err(plan_failure)?;
        check_runnable(&settings, &plan)?;
        let judge =
            Judge::prepare(&settings, &plan).map_err(|e| Failure::new(exit::USAGE_ERROR, e))?;
        let report = ReportContext::prepare(&settings, &plan, config::command_line());
        prepared.push((name.clone(), settings, plan, judge, report));
    }
    let mut results = Vec::new();
    let count = prepared.len();
    for (index, (name, settings, plan, judge, report)) in prepared.into_iter().enumerate() {
        tracing::info!(target: MAIN, "Phase {}/{count}: {name}", index + 1);
        let (html, json, csv) = (
            settings.output.html.as_deref().map(|t| {
                report::substitute(
                    t,
                    settings.spec.users,
                    settings.spec.spawn_rate,
                    settings.spec.run_time.map(|d| d.as_secs()),
                )
            }),
            settings.output.report_json.clone(),
            settings.output.csv_prefix.clone(),
        );
        let description = settings.profile_description.clone();
        let outcome = run_headless(settings, plan, judge, &report, cli)?;
        tracing::info!(
            target: MAIN,
            "Phase {name} finished with exit code {}",
            outcome.exit_code
        );
        let interrupted = matches!(
            outcome.reason,
            StopReason::Interrupt | StopReason::Terminate
        );
        results.push(PhaseResult {
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
    index::write_index(&parent, &results)
        .map_err(|e| Failure::new(exit::USAGE_ERROR, format!("{e:#}")))?;
    let code = index::worst(&results);
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
