//! The verdict block after Locust's tables, and the HTML and JSON reports of a run
//! (finished, or still going for the web UI's `/stats/report`), built from the `Finished`
//! run, its `Judged` verdicts and what the reports need to know from before the run
//! (`ReportContext`: secret values to mask, task ratios, classes, the command line).

use crate::config::Settings;
use crate::criteria;
use crate::judge::Judged;
use crate::outcome::{Finished, StopReason};
use crate::plan::Plan;
use crate::report::{self, Redactor, RunFacts};
use crate::task_ratio::{self, ClassShare};

/// What the reports need that is decided before the first request.
#[derive(Clone)]
pub struct ReportContext {
    pub redactor: Redactor,
    pub tasks: Vec<ClassShare>,
    pub classes: Vec<String>,
    pub command_line: String,
}

impl ReportContext {
    /// The classes and task ratios of the plan, and the values of its secret headers.
    pub fn prepare(settings: &Settings, plan: &Plan, command_line: String) -> Self {
        let secret = |name: &http::HeaderName| {
            settings
                .labels
                .secret_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name.as_str()))
        };
        let secrets: Vec<String> = plan
            .classes
            .iter()
            .flat_map(|class| class.requests())
            .flat_map(|step| step.secret_header_values(secret))
            .collect();
        ReportContext {
            redactor: Redactor::new(secrets),
            tasks: task_ratio::shares(&plan.class_refs(), Some(settings.spec.users)),
            classes: plan.classes.iter().map(|c| c.name.clone()).collect(),
            command_line,
        }
    }
}

/// Prints the verdict block (after Locust's tables) and writes the reports.
pub fn conclude(
    settings: &Settings,
    context: &ReportContext,
    judged: Judged,
    finished: &Finished,
) -> anyhow::Result<()> {
    let block = criteria::console_block(&judged.verdicts, judged.exit_code);
    if !block.is_empty() {
        eprint!("\n{}", context.redactor.text(&block));
    }
    if settings.output.html.is_none() && settings.output.report_json.is_none() {
        return Ok(());
    }
    let doc = document(settings, context, judged, finished);
    let run_time = settings.spec.run_time.map(|d| d.as_secs());
    let html =
        settings.output.html.as_deref().map(|t| {
            report::substitute(t, settings.spec.users, settings.spec.spawn_rate, run_time)
        });
    for path in report::write(
        &doc,
        finished.start,
        &context.redactor,
        html.as_deref(),
        settings.output.report_json.as_deref(),
    )? {
        tracing::info!(target: crate::logging::MAIN, "Report written to {path}");
    }
    Ok(())
}

/// The report document of a run (finished, or still going for the web UI's
/// `/stats/report`).
pub fn document(
    settings: &Settings,
    context: &ReportContext,
    judged: Judged,
    finished: &Finished,
) -> report::ResultDoc {
    let Judged {
        verdicts,
        cache,
        balance,
        exit_code,
    } = judged;
    let (stop_reason, interrupted) = match finished.reason {
        StopReason::RunTime => ("run-time", false),
        StopReason::Iterations => ("iterations", false),
        StopReason::ShapeDone => ("shape-completed", false),
        StopReason::Interrupt => ("SIGINT", true),
        StopReason::Terminate => ("SIGTERM", true),
        StopReason::Stopped => ("stopped", false),
        StopReason::WorkersGone => ("workers-gone", true),
        StopReason::StillRunning => ("running", false),
        StopReason::Aborted { .. } => ("aborted", false),
    };
    let aborted_by = verdicts
        .iter()
        .find(|v| v.aborted)
        .map(|v| v.criterion.clone());
    let facts = RunFacts {
        profile: settings.profile.clone(),
        description: settings.profile_description.clone(),
        host: settings
            .spec
            .host
            .clone()
            .unwrap_or_else(|| "(each class's own host)".into()),
        locustfiles: settings
            .locustfiles
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        classes: context.classes.clone(),
        users: settings.spec.users,
        spawn_rate: settings.spec.spawn_rate,
        run_time_limit: settings.spec.run_time.map(|d| d.as_secs()),
        start: finished.start,
        end: finished.end,
        command_line: context.command_line.clone(),
        stop_reason,
        aborted_by,
        interrupted,
        exit_code,
        cache_header: settings.labels.cache_header.clone(),
        cache_hit: settings.labels.cache_hit.clone(),
        cache_miss: settings.labels.cache_miss.clone(),
        instance_header: settings.labels.instance_header.clone(),
    };
    let mut doc = report::build(
        &facts,
        &finished.stats,
        &finished.history,
        verdicts,
        &cache,
        &balance,
        context.tasks.clone(),
    );
    doc.open_model = finished.open.as_ref().map(report::open_model_doc);
    doc
}
