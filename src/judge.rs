//! The verdict of a run: the success criteria, parsed and checked against the plan
//! before the first request (`Judge::prepare`), evaluated on the final figures and the
//! open model's corrected ones (`judge`), with the cache and load-balancer summaries they
//! read, and the exit code. Only judging: the verdict block and the reports are sinks.

use locust_stats::analysis::{balance, CacheRole};
use locust_stats::{BalanceSummary, CacheSummary, Stats};

use crate::config::Settings;
use crate::criteria::{
    check_abort, check_names, check_no_corrected, evaluate, parse_all, CriteriaError, Criterion,
};
use crate::criteria::{Figures, Source, Verdict};
use crate::outcome::{StopReason, CACHE_LABEL, INSTANCE_LABEL};
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
        let run_steps = plan.run_steps.iter();
        let mut names: Vec<String> = plan
            .classes
            .iter()
            .flat_map(|class| class.requests())
            .chain(run_steps.clone().flat_map(|steps| steps.requests()))
            .filter_map(|step| step.static_name())
            .collect();
        // Group and metric rows can be judged as any request's.
        let measured = (plan.classes.iter().flat_map(|class| class.measure_names()))
            .chain(run_steps.flat_map(|steps| steps.measure_names()));
        names.extend(measured.map(str::to_string));
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

impl Judge {
    /// The `abort` criteria, for the session to judge every second while the run goes;
    /// None when there is none.
    pub fn abort_watch(&self, settings: &Settings) -> Option<AbortWatch> {
        let criteria: Vec<(usize, Criterion)> = self
            .criteria
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.abort.is_some())
            .map(|(index, (c, _))| (index, c.clone()))
            .collect();
        (!criteria.is_empty()).then(|| AbortWatch {
            criteria,
            cache_role: self.cache_role.clone(),
            expected_instances: settings.labels.expected_instances,
            cache_header: settings.labels.cache_header.clone(),
            instance_header: settings.labels.instance_header.clone(),
        })
    }
}

/// The `abort` criteria of a run (with their index among all its criteria) and what
/// measuring them needs.
pub struct AbortWatch {
    criteria: Vec<(usize, Criterion)>,
    cache_role: CacheRole,
    expected_instances: Option<usize>,
    cache_header: String,
    instance_header: String,
}

impl AbortWatch {
    /// The first `abort` criterion that fails on the figures so far, `elapsed` seconds
    /// into the run: why the run stops, and its verdict for the log.
    pub fn check(&self, stats: &Stats, elapsed: f64) -> Option<(StopReason, Verdict)> {
        let cache = self
            .cache_role
            .summarize(stats.labels().header(CACHE_LABEL));
        let balance = balance(
            stats.labels().header(INSTANCE_LABEL),
            self.expected_instances,
        );
        let figures = Figures {
            stats,
            corrected: None,
            run_secs: Some(elapsed),
            cache: &cache,
            balance: &balance,
            cache_header: &self.cache_header,
            instance_header: &self.instance_header,
        };
        self.criteria.iter().find_map(|(index, criterion)| {
            let verdict = check_abort(criterion, &figures, elapsed)?;
            let reason = StopReason::Aborted {
                criterion: *index,
                after_secs: elapsed.max(0.0) as u64,
            };
            Some((reason, verdict))
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
/// and decides the exit code; the criterion that aborted the run (`reason`) fails,
/// whatever the final figures say.
pub fn judge(
    settings: &Settings,
    judge: &Judge,
    stats: &Stats,
    corrected: Option<&Stats>,
    reason: StopReason,
    run_secs: f64,
) -> Judged {
    let cache = judge
        .cache_role
        .summarize(stats.labels().header(CACHE_LABEL));
    let balance = balance(
        stats.labels().header(INSTANCE_LABEL),
        settings.labels.expected_instances,
    );
    let criteria: Vec<Criterion> = judge.criteria.iter().map(|(c, _)| c.clone()).collect();
    let mut verdicts = evaluate(
        &criteria,
        &Figures {
            stats,
            corrected,
            run_secs: Some(run_secs),
            cache: &cache,
            balance: &balance,
            cache_header: &settings.labels.cache_header,
            instance_header: &settings.labels.instance_header,
        },
    );
    if let StopReason::Aborted {
        criterion,
        after_secs,
    } = reason
    {
        if let Some(v) = verdicts.get_mut(criterion) {
            v.passed = false;
            v.aborted = true;
            v.detail = format!("aborted the run {after_secs} s in; {}", v.detail);
        }
    }
    let had_failures = !stats.errors().is_empty() || !stats.exceptions().is_empty();
    let passed = (!verdicts.is_empty()).then(|| verdicts.iter().all(|v| v.passed));
    Judged {
        exit_code: crate::exit::decide(passed, had_failures, settings.exit_code_on_error),
        verdicts,
        cache,
        balance,
    }
}
