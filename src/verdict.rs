//! After the run: the success criteria evaluated on the final figures, the verdict
//! block after Locust's tables, the HTML and JSON reports, and the exit code. Also what
//! the reports need to know from before the run (`Judge`): criteria, secrets, ratios.

use locust_stats::analysis::{balance, CacheRole};
use locust_stats::{BalanceSummary, CacheSummary, History, Stats};

use crate::config::Settings;
use crate::criteria::{self, Criterion, Figures, Source};
use crate::outcome::StopReason;
use crate::outcome::{CACHE_LABEL, INSTANCE_LABEL};
use crate::plan::Plan;
use crate::report::{self, Redactor, RunFacts};
use crate::task_ratio::{self, ClassShare};

/// Everything decided before the first request that the end of the run needs.
#[derive(Clone)]
pub struct Judge {
    pub criteria: Vec<(Criterion, Source)>,
    pub redactor: Redactor,
    pub tasks: Vec<ClassShare>,
    pub classes: Vec<String>,
    pub command_line: String,
    pub cache_role: CacheRole,
}

impl Judge {
    /// Parses the criteria and checks their request names against the plan (both are
    /// configuration errors, before any request), and collects the secret values.
    pub fn prepare(
        settings: &Settings,
        plan: &Plan,
        command_line: String,
    ) -> Result<Self, criteria::CriteriaError> {
        let parsed = criteria::parse_all(&settings.criteria)?;
        if settings.arrival.is_none() {
            criteria::check_no_corrected(&parsed)?;
        }
        let mut names = Vec::new();
        let mut secrets = Vec::new();
        let secret = |name: &http::HeaderName| {
            settings
                .labels
                .secret_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name.as_str()))
        };
        for class in &plan.classes {
            let steps = class
                .on_start
                .iter()
                .chain(&class.on_stop)
                .chain(class.tasks.iter().flat_map(|t| &t.steps));
            for step in steps {
                names.extend(step.static_name());
                secrets.extend(step.secret_header_values(secret));
            }
        }
        names.sort();
        names.dedup();
        criteria::check_names(&parsed, &names)?;
        Ok(Judge {
            criteria: parsed,
            redactor: Redactor::new(secrets),
            tasks: task_ratio::shares(&plan.class_refs(), Some(settings.users)),
            classes: plan.classes.iter().map(|c| c.name.clone()).collect(),
            command_line,
            cache_role: CacheRole {
                header: CACHE_LABEL,
                hit: settings.labels.cache_hit.clone(),
                miss: settings.labels.cache_miss.clone(),
            },
        })
    }

    /// The labelled response headers, in label-index order.
    pub fn label_headers(settings: &Settings) -> [&str; 2] {
        [
            settings.labels.cache_header.as_str(),
            settings.labels.instance_header.as_str(),
        ]
    }
}

/// How the run ended.
pub struct Ending<'a> {
    pub stats: &'a Stats,
    /// The open model's start counts and corrected figures.
    pub open: Option<&'a crate::outcome::OpenResult>,
    pub history: &'a History,
    pub reason: StopReason,
    pub start: f64,
    pub end: f64,
}

/// The verdicts of a finished run and the exit code they give.
pub struct Judged {
    pub verdicts: Vec<criteria::Verdict>,
    pub cache: CacheSummary,
    pub balance: BalanceSummary,
    pub exit_code: i32,
}

/// Evaluates the criteria on the final figures (and the open model's corrected ones)
/// and decides the exit code.
pub fn judge(
    settings: &Settings,
    judge: &Judge,
    stats: &Stats,
    corrected: Option<&Stats>,
) -> Judged {
    let cache = judge
        .cache_role
        .summarize(stats.labels().header(CACHE_LABEL));
    let balance = balance(
        stats.labels().header(INSTANCE_LABEL),
        settings.labels.expected_instances,
    );
    let criteria: Vec<Criterion> = judge.criteria.iter().map(|(c, _)| c.clone()).collect();
    let verdicts = criteria::evaluate(
        &criteria,
        &Figures {
            stats,
            corrected,
            cache: &cache,
            balance: &balance,
            cache_header: &settings.labels.cache_header,
            instance_header: &settings.labels.instance_header,
        },
    );
    let had_failures = !stats.errors().is_empty() || !stats.exceptions().is_empty();
    let passed = (!verdicts.is_empty()).then(|| verdicts.iter().all(|v| v.passed));
    Judged {
        exit_code: crate::exit::decide(passed, had_failures, settings.exit_code_on_error),
        verdicts,
        cache,
        balance,
    }
}

/// Prints the verdict block (after Locust's tables) and writes the reports.
pub fn conclude(
    settings: &Settings,
    judge: &Judge,
    judged: Judged,
    ending: &Ending<'_>,
) -> anyhow::Result<()> {
    let block = criteria::console_block(&judged.verdicts, judged.exit_code);
    if !block.is_empty() {
        eprint!("\n{}", judge.redactor.text(&block));
    }
    if settings.html.is_none() && settings.report_json.is_none() {
        return Ok(());
    }
    let doc = document(settings, judge, judged, ending);
    let run_time = settings.run_time.map(|d| d.as_secs());
    let html = settings
        .html
        .as_deref()
        .map(|t| report::substitute(t, settings.users, settings.spawn_rate, run_time));
    for path in report::write(
        &doc,
        ending.start,
        &judge.redactor,
        html.as_deref(),
        settings.report_json.as_deref(),
    )? {
        tracing::info!(target: crate::logging::MAIN, "Report written to {path}");
    }
    Ok(())
}

/// The report document of a run (finished, or still going for the web UI's
/// `/stats/report`).
pub fn document(
    settings: &Settings,
    judge: &Judge,
    judged: Judged,
    ending: &Ending<'_>,
) -> report::ResultDoc {
    let Judged {
        verdicts,
        cache,
        balance,
        exit_code,
    } = judged;
    let (stop_reason, interrupted) = match ending.reason {
        StopReason::RunTime => ("run-time", false),
        StopReason::Iterations => ("iterations", false),
        StopReason::ShapeDone => ("shape-completed", false),
        StopReason::Interrupt => ("SIGINT", true),
        StopReason::Terminate => ("SIGTERM", true),
        StopReason::Stopped => ("stopped", false),
        StopReason::StillRunning => ("running", false),
    };
    let facts = RunFacts {
        profile: settings.profile.clone(),
        description: settings.profile_description.clone(),
        host: settings
            .host
            .clone()
            .unwrap_or_else(|| "(each class's own host)".into()),
        locustfiles: settings
            .locustfiles
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        classes: judge.classes.clone(),
        users: settings.users,
        spawn_rate: settings.spawn_rate,
        run_time_limit: settings.run_time.map(|d| d.as_secs()),
        start: ending.start,
        end: ending.end,
        command_line: judge.command_line.clone(),
        stop_reason,
        interrupted,
        exit_code,
        cache_header: settings.labels.cache_header.clone(),
        cache_hit: settings.labels.cache_hit.clone(),
        cache_miss: settings.labels.cache_miss.clone(),
        instance_header: settings.labels.instance_header.clone(),
    };
    let mut doc = report::build(
        &facts,
        ending.stats,
        ending.history,
        verdicts,
        &cache,
        &balance,
        judge.tasks.clone(),
    );
    doc.open_model = ending.open.map(report::open_model_doc);
    doc
}

/// The command line as typed, quoted where needed, for the report.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
