//! The verdict of a run: the success criteria, parsed and checked against the plan
//! before the first request (`Judge::prepare`), evaluated on the final figures and the
//! open model's corrected ones (`judge`), with the cache and load-balancer summaries they
//! read, and the exit code. Only judging: the verdict block and the reports are sinks.

use locust_stats::analysis::{balance, CacheRole};
use locust_stats::{BalanceSummary, CacheSummary, Stats};

use crate::config::Settings;
use crate::criteria::{
    check_names, check_no_corrected, evaluate, parse_all, CriteriaError, Criterion,
};
use crate::criteria::{Figures, Source, Verdict};
use crate::outcome::{CACHE_LABEL, INSTANCE_LABEL};
use crate::plan::Plan;

/// The criteria of a run and how to read the cache header, decided before it starts.
#[derive(Clone)]
pub struct Judge {
    pub criteria: Vec<(Criterion, Source)>,
    pub cache_role: CacheRole,
}

impl Judge {
    /// Parses the criteria and checks their request names against the plan: both are
    /// configuration errors, found before any request.
    pub fn prepare(settings: &Settings, plan: &Plan) -> Result<Self, CriteriaError> {
        let parsed = parse_all(&settings.criteria)?;
        if settings.spec.arrival.is_none() {
            check_no_corrected(&parsed)?;
        }
        let mut names: Vec<String> = plan
            .classes
            .iter()
            .flat_map(|class| class.requests())
            .filter_map(|step| step.static_name())
            .collect();
        names.sort();
        names.dedup();
        check_names(&parsed, &names)?;
        Ok(Judge {
            criteria: parsed,
            cache_role: CacheRole {
                header: CACHE_LABEL,
                hit: settings.labels.cache_hit.clone(),
                miss: settings.labels.cache_miss.clone(),
            },
        })
    }
}

/// The verdicts of a finished run and the exit code they give.
pub struct Judged {
    pub verdicts: Vec<Verdict>,
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
    let verdicts = evaluate(
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
