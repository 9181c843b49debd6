//! Evaluating criteria on a finished run's figures: each criterion gets its measured
//! value (or "no data", which fails: a criterion never passes silently), its bound and
//! pass/fail, with the value formatted in the metric's unit for people.

use locust_engine::{DROPPED_METHOD, DROPPED_NAME};
use locust_stats::{BalanceSummary, CacheSummary, Stats, StatsEntry};

use super::parse::{Criterion, Kind, Metric};

/// The figures criteria are measured on.
pub struct Figures<'a> {
    pub stats: &'a Stats,
    /// The open model's latency from the intended start; None for closed runs.
    pub corrected: Option<&'a Stats>,
    pub cache: &'a CacheSummary,
    pub balance: &'a BalanceSummary,
    /// The run's length so far (s), which `rps` divides by; None: up to the last
    /// request, as Locust's tables do.
    pub run_secs: Option<f64>,
    /// The cache and instance headers, for "no data" notes.
    pub cache_header: &'a str,
    pub instance_header: &'a str,
}

/// One criterion's verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub criterion: String,
    pub metric: String,
    pub scope: Option<String>,
    pub op: &'static str,
    pub bound: f64,
    /// None when there was nothing to measure (which fails). For a percentile or
    /// median, the lower end of the HDR bucket that holds the true value.
    pub measured: Option<f64>,
    /// A percentile's or median's upper end of that bucket (at most 0.1 % above
    /// `measured`), when the value is not exact: the criterion must hold for both ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_upper: Option<f64>,
    pub unit: &'static str,
    pub passed: bool,
    /// The value and bound as people read them: `12.3 ms`, `0.8 %`, `5.9x`.
    pub measured_text: String,
    pub bound_text: String,
    /// Context: sample sizes, or why nothing was measured.
    pub detail: String,
    /// This `abort` criterion failed while the run went, and stopped it.
    pub aborted: bool,
}

/// Evaluates every criterion, in order.
pub fn evaluate(criteria: &[Criterion], figures: &Figures<'_>) -> Vec<Verdict> {
    criteria.iter().map(|c| evaluate_one(c, figures)).collect()
}

fn evaluate_one(criterion: &Criterion, figures: &Figures<'_>) -> Verdict {
    let (measured, detail) = measure(criterion, figures);
    let upper = measured.and(upper_bound(criterion, figures));
    let measured_upper = upper.filter(|u| measured.is_some_and(|m| *u > m));
    let holds = |v: f64| criterion.op.holds(v, criterion.bound);
    let kind = criterion.metric.kind();
    let measured_text = match (measured, measured_upper) {
        (None, _) => "no data".to_string(),
        (Some(m), None) => format_value(m, kind),
        (Some(m), Some(u)) => range_text(m, u, kind),
    };
    Verdict {
        criterion: criterion.text.clone(),
        metric: criterion.metric.to_string(),
        scope: criterion.scope.clone(),
        op: criterion.op.symbol(),
        bound: criterion.bound,
        measured,
        measured_upper,
        unit: unit(kind),
        passed: measured.is_some_and(holds) && measured_upper.is_none_or(holds),
        measured_text,
        bound_text: format_value(criterion.bound, kind),
        detail,
        aborted: false,
    }
}

/// An `abort` criterion judged on the figures so far, `elapsed` seconds into the run:
/// its failed verdict once its delays are over and it fails on measured figures (no
/// data yet is no reason to stop); None otherwise, and for other criteria.
pub fn check_abort(criterion: &Criterion, figures: &Figures<'_>, elapsed: f64) -> Option<Verdict> {
    let rule = criterion.abort?;
    if elapsed < rule.after_secs
        || requests_in_scope(criterion, figures.stats) < rule.after_requests
    {
        return None;
    }
    let verdict = evaluate_one(criterion, figures);
    (verdict.measured.is_some() && !verdict.passed).then_some(verdict)
}

/// The requests a criterion's figures rest on: its request name's, else all of them.
fn requests_in_scope(criterion: &Criterion, stats: &Stats) -> u64 {
    match &criterion.scope {
        None => stats.total().num_requests,
        Some(name) => stats
            .entries()
            .iter()
            .filter(|e| &e.name == name)
            .map(|e| e.num_requests)
            .sum(),
    }
}

fn unit(kind: Kind) -> &'static str {
    match kind {
        Kind::Time => "ms",
        Kind::Ratio => "ratio",
        Kind::Count => "count",
        Kind::Rate => "req/s",
        Kind::Factor => "factor",
    }
}

/// A value in its metric's unit, for people.
pub fn format_value(value: f64, kind: Kind) -> String {
    match kind {
        Kind::Time => format!("{} ms", trim_float(value, 1)),
        Kind::Ratio => format!("{} %", trim_float(value * 100.0, 2)),
        Kind::Count => format!("{value}"),
        Kind::Rate => format!("{} req/s", trim_float(value, 2)),
        Kind::Factor if value.is_infinite() => "∞x".to_string(),
        Kind::Factor => format!("{}x", trim_float(value, 2)),
    }
}

/// A bucket's two ends, with as many decimals (up to 3) as it takes to tell them apart.
fn range_text(low: f64, high: f64, kind: Kind) -> String {
    let unit = format_value(0.0, kind).replacen('0', "", 1);
    (1..=3)
        .map(|d| (trim_float(low, d), trim_float(high, d)))
        .find(|(l, h)| l != h)
        .map_or_else(
            || format_value(low, kind),
            |(l, h)| format!("{l}..{h}{unit}"),
        )
}

fn trim_float(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn measure(criterion: &Criterion, figures: &Figures<'_>) -> (Option<f64>, String) {
    match criterion.metric {
        Metric::CacheHitRatio => {
            let c = figures.cache;
            let detail = if c.hits + c.misses == 0 {
                format!(
                    "no response carried {} with a hit or miss value",
                    figures.cache_header
                )
            } else {
                format!("{} hits, {} misses", c.hits, c.misses)
            };
            (c.hit_ratio, detail)
        }
        Metric::CacheSpeedup => {
            let c = figures.cache;
            let detail = match (c.miss_median_ms, c.hit_median_ms) {
                (Some(m), Some(h)) => format!(
                    "median miss {} / median hit {} ({} hits, {} misses)",
                    format_value(m, Kind::Time),
                    format_value(h, Kind::Time),
                    c.hits,
                    c.misses
                ),
                _ => format!(
                    "needs both hits and misses in {} (saw {} hits, {} misses)",
                    figures.cache_header, c.hits, c.misses
                ),
            };
            (c.speedup, detail)
        }
        Metric::BalanceMaxDeviation => {
            let b = figures.balance;
            let detail = if b.total == 0 {
                format!("no response carried {}", figures.instance_header)
            } else {
                let shares: Vec<String> = b
                    .instances
                    .iter()
                    .map(|i| format!("{} {}", i.id, format_value(i.share, Kind::Ratio)))
                    .collect();
                format!(
                    "{} responses over {} instances: {}",
                    b.total,
                    b.instances_expected,
                    shares.join(", ")
                )
            };
            (b.max_deviation, detail)
        }
        _ if criterion.corrected => match figures.corrected {
            Some(stats) => {
                let (value, detail) = measure_requests(criterion, stats, figures.run_secs);
                let dropped = dropped_starts(stats);
                let untimed = if dropped > 0 && criterion.scope.is_none() && is_time(criterion) {
                    format!(" ({dropped} dropped starts among them, untimed)")
                } else {
                    String::new()
                };
                (value, format!("from the intended start; {detail}{untimed}"))
            }
            None => (
                None,
                "corrected latency exists only in open-model runs (--arrival-rate)".into(),
            ),
        },
        _ => measure_requests(criterion, figures.stats, figures.run_secs),
    }
}

/// Starts the open model's pool could not take: failures of the corrected view's own
/// row, which carry no time.
fn dropped_starts(corrected: &Stats) -> u64 {
    corrected
        .entries()
        .iter()
        .find(|e| e.name == DROPPED_NAME && e.method == DROPPED_METHOD)
        .map_or(0, |e| e.num_requests)
}

fn is_time(criterion: &Criterion) -> bool {
    matches!(
        criterion.metric,
        Metric::Avg | Metric::Median | Metric::Min | Metric::Max | Metric::Percentile(_)
    )
}

/// The entry a criterion reads: all requests, or those of its request name merged.
fn scoped_entry<'a>(criterion: &Criterion, stats: &'a Stats) -> std::borrow::Cow<'a, StatsEntry> {
    match &criterion.scope {
        None => std::borrow::Cow::Borrowed(stats.total()),
        Some(name) => {
            let mut sum = StatsEntry::new(name, "", stats.start_time());
            for e in stats.entries().iter().filter(|e| &e.name == name) {
                sum += e;
            }
            std::borrow::Cow::Owned(sum)
        }
    }
}

/// A percentile's or median's upper end of the HDR bucket holding the true value (the
/// lower end is what `measure` gives); None for every other metric.
fn upper_bound(criterion: &Criterion, figures: &Figures<'_>) -> Option<f64> {
    let p = match criterion.metric {
        Metric::Percentile(p) => p / 100.0,
        Metric::Median => 0.5,
        _ => return None,
    };
    let stats = if criterion.corrected {
        figures.corrected?
    } else {
        figures.stats
    };
    let entry = scoped_entry(criterion, stats);
    (entry.num_timed() > 0).then(|| entry.percentile_bounds_ms(p).1)
}

fn measure_requests(
    criterion: &Criterion,
    stats: &Stats,
    run_secs: Option<f64>,
) -> (Option<f64>, String) {
    let entry = scoped_entry(criterion, stats);
    let entry: &StatsEntry = &entry;
    let scope = criterion.scope.as_deref().map_or_else(
        || "all requests".to_string(),
        |n| format!("requests named \"{n}\""),
    );
    if entry.num_requests == 0 {
        let detail = format!("{scope}: none was made");
        // Counts of nothing are still counts: `failures == 0` holds on an idle name.
        return match criterion.metric {
            Metric::Failures | Metric::Requests => (Some(0.0), detail),
            _ => (None, detail),
        };
    }
    let timed = entry.num_timed() > 0;
    let time = |v: f64| timed.then_some(v);
    let value = match criterion.metric {
        Metric::Avg => time(entry.avg_response_time()),
        // The true value, not Locust's two-digit bucket (which the console shows).
        Metric::Median => time(entry.percentile_bounds_ms(0.5).0),
        Metric::Min => entry.min_response_time,
        Metric::Max => time(entry.max_response_time),
        Metric::Percentile(p) => time(entry.percentile_bounds_ms(p / 100.0).0),
        Metric::ErrorRate => Some(entry.fail_ratio()),
        Metric::Failures => Some(entry.num_failures as f64),
        Metric::Requests => Some(entry.num_requests as f64),
        // The run's length, not Locust's time to the last request, which overstates a
        // paced run (its last request comes a wait before the end).
        Metric::Rps => Some(match run_secs.filter(|s| *s > 0.0) {
            Some(secs) => entry.num_requests as f64 / secs,
            None => stats.total_rps(entry),
        }),
        Metric::CacheHitRatio | Metric::CacheSpeedup | Metric::BalanceMaxDeviation => None,
    };
    let detail = format!(
        "{scope}: {} requests, {} failures",
        entry.num_requests, entry.num_failures
    );
    (value, detail)
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;
    use locust_stats::analysis::{balance, CacheRole};
    use locust_stats::Recorder;

    /// A fixed result: 100 requests to /users/[id] (10 failed), 50 to /health; cache
    /// hits at 2 ms and misses at 10 ms; instances a/b/c at 50/30/20 responses.
    fn fixed() -> Stats {
        let recorder = Recorder::new(1);
        let h = recorder.handle(0);
        for i in 0..100 {
            let err = (i % 10 == 0).then_some("HTTPError('500')");
            h.record_at(
                "GET",
                "/users/[id]",
                Some(f64::from(i)),
                10,
                err,
                1000.0 + f64::from(i) * 0.1,
            );
            let (cache, ms) = if i % 4 == 0 {
                ("MISS", 10.0)
            } else {
                ("HIT", 2.0)
            };
            let instance = match i {
                0..50 => "a",
                50..80 => "b",
                _ => "c",
            };
            h.record_labels_at([(0, cache), (1, instance)], ms, 1000.0);
        }
        for _ in 0..50 {
            h.record_at("GET", "/health", Some(1.0), 2, None, 1010.0);
        }
        let mut stats = Stats::new(1000.0, false);
        stats.absorb(&recorder);
        stats
    }

    /// The fixed result with its cache (HIT/MISS) and instance summaries.
    fn fixed_with_labels() -> (Stats, CacheSummary, BalanceSummary) {
        let stats = fixed();
        let role = CacheRole {
            header: 0,
            hit: vec!["HIT".into()],
            miss: vec!["MISS".into()],
        };
        let cache = role.summarize(stats.labels().header(0));
        let balance = balance(stats.labels().header(1), None);
        (stats, cache, balance)
    }

    fn verdicts(texts: &[&str]) -> Vec<Verdict> {
        verdicts_with(texts, None)
    }

    fn verdicts_with(texts: &[&str], corrected: Option<&Stats>) -> Vec<Verdict> {
        let (stats, cache, balance) = fixed_with_labels();
        let criteria: Vec<Criterion> = texts.iter().map(|t| parse(t).unwrap()).collect();
        evaluate(
            &criteria,
            &Figures {
                stats: &stats,
                corrected,
                run_secs: None,
                cache: &cache,
                balance: &balance,
                cache_header: "X-Cache",
                instance_header: "X-Instance-ID",
            },
        )
    }

    fn golden(text: &str) -> (bool, String) {
        let v = verdicts(&[text]).remove(0);
        (v.passed, v.measured_text)
    }

    #[test]
    fn golden_evaluation_on_a_fixed_result() {
        assert_eq!(golden("avg < 50"), (true, "33.3 ms".into()));
        assert_eq!(
            golden("avg for \"/users/[id]\" < 50"),
            (true, "49.5 ms".into())
        );
        assert_eq!(
            golden("avg for \"/users/[id]\" < 40"),
            (false, "49.5 ms".into())
        );
        assert_eq!(
            golden("p95 for \"/users/[id]\" < 100"),
            // The HDR bucket that holds the true 95 ms.
            (true, "94.98..95.04 ms".into())
        );
        assert_eq!(
            golden("p(99.9) for \"/users/[id]\" <= 99"),
            (true, "99 ms".into())
        );
        assert_eq!(golden("median < 30"), (true, "24.99..25.01 ms".into()));
        assert_eq!(golden("max < 99"), (false, "99 ms".into()));
        assert_eq!(golden("min < 1"), (true, "0 ms".into()));
        assert_eq!(golden("error_rate < 5%"), (false, "6.67 %".into()));
        assert_eq!(
            golden("error_rate for \"/health\" == 0"),
            (true, "0 %".into())
        );
        assert_eq!(golden("failures == 10"), (true, "10".into()));
        assert_eq!(golden("requests >= 150"), (true, "150".into()));
        assert_eq!(golden("rps > 10"), (true, "15 req/s".into()));
        assert_eq!(golden("cache.hit_ratio > 0.5"), (true, "75 %".into()));
        assert_eq!(golden("cache.speedup > 4"), (true, "5x".into()));
        assert_eq!(golden("cache_hit_faster_than_miss"), (true, "5x".into()));
        assert_eq!(
            golden("balance.max_deviation < 10%"),
            (false, "50 %".into())
        );
        assert_eq!(golden("balance.max_deviation < 60%"), (true, "50 %".into()));
    }

    /// A percentile just above the bound fails, though Locust's two-digit bucket and
    /// the HDR bucket's lower end both read as the bound itself.
    #[test]
    fn percentiles_are_judged_on_the_true_value_never_its_rounding() {
        let recorder = Recorder::new(1);
        let h = recorder.handle(0);
        for i in 0..1000 {
            let ms = if i < 990 { 10.0 } else { 1000.5 };
            h.record_at("GET", "/slow", Some(ms), 2, None, 1010.0);
        }
        let mut stats = Stats::new(1000.0, false);
        stats.absorb(&recorder);
        let role = CacheRole {
            header: 0,
            hit: vec!["HIT".into()],
            miss: vec!["MISS".into()],
        };
        let cache = role.summarize(stats.labels().header(0));
        let balance = balance(stats.labels().header(1), None);
        let criteria: Vec<Criterion> = ["p(99.9) <= 1000", "p(99.9) <= 1001", "median < 10.5"]
            .iter()
            .map(|t| parse(t).unwrap())
            .collect();
        let v = evaluate(
            &criteria,
            &Figures {
                stats: &stats,
                corrected: None,
                run_secs: None,
                cache: &cache,
                balance: &balance,
                cache_header: "X-Cache",
                instance_header: "X-Instance-ID",
            },
        );
        // Locust's bucket of 1000.5 is 1000: `<= 1000` passed on it before.
        assert_eq!(stats.total().locust_percentile(0.999), 1000);
        assert!(!v[0].passed, "{:?}", v[0]);
        assert_eq!(v[0].measured_text, "1000.5 ms");
        assert!(v[1].passed, "{:?}", v[1]);
        assert!(v[2].passed, "{:?}", v[2]);
        assert_eq!(v[2].measured_text, "10 ms");
    }

    /// `rps` divides by the run's length when it is known, not by the time to the last
    /// request (Locust's tables), which overstates a paced run.
    #[test]
    fn rps_is_judged_over_the_runs_length() {
        let (stats, cache, balance) = fixed_with_labels();
        let over = |run_secs: Option<f64>| {
            let figures = Figures {
                stats: &stats,
                corrected: None,
                run_secs,
                cache: &cache,
                balance: &balance,
                cache_header: "X-Cache",
                instance_header: "X-Instance-ID",
            };
            evaluate(&[parse("rps >= 15").unwrap()], &figures).remove(0)
        };
        // 150 requests, the last 10 s after the start: 15/s to the last request.
        assert!(over(None).passed);
        let whole = over(Some(12.5));
        assert!(!whole.passed, "{whole:?}");
        assert_eq!(whole.measured_text, "12 req/s");
    }

    #[test]
    fn corrected_criteria_measure_the_corrected_figures() {
        // The corrected figures: every request 100 ms later than its send time.
        let recorder = Recorder::new(1);
        let h = recorder.handle(0);
        for _ in 0..10 {
            h.record_at("GET", "/health", Some(101.0), 2, None, 1010.0);
        }
        let mut corrected = Stats::new(1000.0, false);
        corrected.absorb(&recorder);
        let v = verdicts_with(&["p95 < 100", "corrected.p95 < 100"], Some(&corrected));
        assert!(v[0].passed);
        assert!(!v[1].passed);
        // The true 101 ms, not Locust's bucket of it (100), which passed `< 100`'s text.
        assert_eq!(v[1].measured_text, "101 ms");
        assert!(
            v[1].detail.starts_with("from the intended start"),
            "{}",
            v[1].detail
        );
        // Two starts the pool dropped: failures of the corrected view, without a time.
        let error = locust_engine::dropped_error(locust_engine::Pool {
            size: 20,
            backlog: 100,
        });
        for _ in 0..2 {
            h.record_at(DROPPED_METHOD, DROPPED_NAME, None, 0, Some(&error), 1010.0);
        }
        corrected.absorb(&recorder);
        let v = verdicts_with(
            &[
                "error_rate < 11%",
                "corrected.error_rate < 10%",
                "corrected.p95 < 200",
            ],
            Some(&corrected),
        );
        assert!(
            v[0].passed,
            "the ordinary view (10 % errors) has no dropped start"
        );
        assert!(!v[1].passed, "2 of 12 starts dropped: {:?}", v[1]);
        assert_eq!(v[1].measured_text, "16.67 %");
        assert!(v[2].passed);
        assert!(
            v[2].detail
                .contains("12 requests, 2 failures (2 dropped starts among them, untimed)"),
            "{}",
            v[2].detail
        );
        let closed = verdicts(&["corrected.avg < 5"]).remove(0);
        assert!(!closed.passed);
        assert!(
            closed.detail.contains("--arrival-rate"),
            "{}",
            closed.detail
        );
    }

    #[test]
    fn nothing_to_measure_fails_with_a_reason() {
        let v = verdicts(&["avg for \"/never\" < 5"]).remove(0);
        assert!(!v.passed);
        assert_eq!(v.measured_text, "no data");
        assert!(
            v.detail
                .contains("requests named \"/never\": none was made"),
            "{}",
            v.detail
        );
        let v = verdicts(&["failures for \"/never\" == 0"]).remove(0);
        assert!(v.passed);
    }

    #[test]
    fn abort_criteria_wait_for_their_delays_and_for_data() {
        let (stats, cache, balance) = fixed_with_labels();
        let figures = Figures {
            stats: &stats,
            corrected: None,
            run_secs: None,
            cache: &cache,
            balance: &balance,
            cache_header: "X-Cache",
            instance_header: "X-Instance-ID",
        };
        let check =
            |text: &str, elapsed: f64| check_abort(&parse(text).unwrap(), &figures, elapsed);
        // 6.67 % of the 150 requests failed; 10 % of the 100 to /users/[id].
        assert!(
            check("error_rate < 5%", 9.0).is_none(),
            "not an abort criterion"
        );
        let v = check("error_rate < 5% abort", 0.0).unwrap();
        assert!(!v.passed);
        assert_eq!(v.measured_text, "6.67 %");
        assert!(check("error_rate < 10% abort", 9.0).is_none(), "it holds");
        assert!(check("error_rate < 5% abort after 10s", 9.0).is_none());
        assert!(check("error_rate < 5% abort after 10s", 10.0).is_some());
        assert!(check("error_rate < 5% abort after 151 requests", 99.0).is_none());
        assert!(check("error_rate < 5% abort after 150 requests", 0.0).is_some());
        let scoped = "error_rate for \"/users/[id]\" < 5% abort after 101 requests";
        assert!(check(scoped, 99.0).is_none(), "counts the name's requests");
        assert!(
            check("avg for \"/never\" < 5 abort", 99.0).is_none(),
            "no data yet"
        );
    }
}
