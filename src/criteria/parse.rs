//! The criteria grammar: `p95 < 500`, `avg for "/users/[id]" < 200ms`, `error_rate < 1%`,
//! `cache.speedup > 2`, `balance.max_deviation < 10%`, `cache_hit_faster_than_miss`, and
//! for the open model `corrected.p95 < 500` (latency from the intended start).
//! Text to a typed `Criterion`, or an error that says what was expected (with a
//! did-you-mean for metric names). No evaluation here.

use std::fmt;

/// What a criterion measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    Avg,
    Median,
    Min,
    Max,
    /// A percentile, 0 < p <= 100.
    Percentile(f64),
    ErrorRate,
    Failures,
    Requests,
    Rps,
    CacheHitRatio,
    CacheSpeedup,
    BalanceMaxDeviation,
}

/// How a metric's values are written and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Milliseconds (`ms` or `s` accepted).
    Time,
    /// A fraction (`%` accepted).
    Ratio,
    /// A count.
    Count,
    /// Requests per second.
    Rate,
    /// A factor (`x` accepted).
    Factor,
}

impl Metric {
    pub fn kind(self) -> Kind {
        match self {
            Metric::Avg | Metric::Median | Metric::Min | Metric::Max | Metric::Percentile(_) => {
                Kind::Time
            }
            Metric::ErrorRate | Metric::CacheHitRatio | Metric::BalanceMaxDeviation => Kind::Ratio,
            Metric::Failures | Metric::Requests => Kind::Count,
            Metric::Rps => Kind::Rate,
            Metric::CacheSpeedup => Kind::Factor,
        }
    }

    /// Whether `for "name"` may narrow it to one request name.
    pub fn scopable(self) -> bool {
        !matches!(
            self,
            Metric::CacheHitRatio | Metric::CacheSpeedup | Metric::BalanceMaxDeviation
        )
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Avg => write!(f, "avg"),
            Metric::Median => write!(f, "median"),
            Metric::Min => write!(f, "min"),
            Metric::Max => write!(f, "max"),
            Metric::Percentile(p) => write!(f, "p({p})"),
            Metric::ErrorRate => write!(f, "error_rate"),
            Metric::Failures => write!(f, "failures"),
            Metric::Requests => write!(f, "requests"),
            Metric::Rps => write!(f, "rps"),
            Metric::CacheHitRatio => write!(f, "cache.hit_ratio"),
            Metric::CacheSpeedup => write!(f, "cache.speedup"),
            Metric::BalanceMaxDeviation => write!(f, "balance.max_deviation"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn holds(self, measured: f64, bound: f64) -> bool {
        match self {
            Op::Lt => measured < bound,
            Op::Le => measured <= bound,
            Op::Gt => measured > bound,
            Op::Ge => measured >= bound,
            Op::Eq => measured == bound,
            Op::Ne => measured != bound,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// One parsed criterion; `bound` is in the metric's base unit (ms, fraction, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    pub text: String,
    pub metric: Metric,
    pub scope: Option<String>,
    pub op: Op,
    pub bound: f64,
    /// `corrected.`: measured on the latency from the intended start (open model).
    pub corrected: bool,
    /// `... abort [after ...]`: the run stops as soon as it fails while it goes.
    pub abort: Option<Abort>,
}

/// When an `abort` criterion may stop the run (k6's `abortOnFail` and
/// `delayAbortEval`): it is judged every second on the figures so far, once both
/// delays are over, and stops the run the first time it fails on measured figures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Abort {
    /// Not judged before this many seconds into the run.
    pub after_secs: f64,
    /// Not judged before this many requests (of the criterion's request name, if any).
    pub after_requests: u64,
}

/// The suffix that makes a criterion stop the run, and its forms for messages.
pub const ABORT_WORD: &str = "abort";
const ABORT_FORMS: &str =
    "write `abort`, `abort after 10s`, `abort after 100 requests` or `abort after 10s and 100 requests`";

/// The prefix that moves a latency criterion to the corrected figures.
pub const CORRECTED_PREFIX: &str = "corrected.";

/// Metric names accepted, for messages and did-you-mean.
pub const METRIC_NAMES: &[&str] = &[
    "avg",
    "median",
    "min",
    "max",
    "p50",
    "p90",
    "p95",
    "p99",
    "p(99.9)",
    "error_rate",
    "failures",
    "requests",
    "rps",
    "cache.hit_ratio",
    "cache.speedup",
    "balance.max_deviation",
    "cache_hit_faster_than_miss",
    "corrected.p95",
    "corrected.error_rate",
];

/// The named shorthand and what it stands for.
pub const HIT_FASTER_ALIAS: (&str, &str) = ("cache_hit_faster_than_miss", "cache.speedup > 1.1");

/// Parses one criterion, with its `abort [after ...]` suffix if any.
pub fn parse(text: &str) -> Result<Criterion, String> {
    let trimmed = text.trim();
    let (head, suffix) = split_abort(trimmed);
    let mut criterion = parse_measure(head.trim_end())?;
    criterion.text = trimmed.to_string();
    if let Some(suffix) = suffix {
        check_abortable(&criterion)?;
        criterion.abort = Some(parse_abort(suffix)?);
    }
    Ok(criterion)
}

/// The criterion before a standalone word `abort` (outside quotes), and what follows it.
fn split_abort(text: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if previous.is_whitespace() => {
                let word = text[i..].get(..ABORT_WORD.len());
                if word.is_some_and(|w| w.eq_ignore_ascii_case(ABORT_WORD)) {
                    let after = &text[i + ABORT_WORD.len()..];
                    if after.chars().next().is_none_or(char::is_whitespace) {
                        return (&text[..i], Some(after));
                    }
                }
            }
            None => {}
        }
        previous = c;
    }
    (text, None)
}

/// `[after DURATION | after N requests | after DURATION and N requests]`.
fn parse_abort(suffix: &str) -> Result<Abort, String> {
    let mut rule = Abort::default();
    let rest = suffix.trim();
    if rest.is_empty() {
        return Ok(rule);
    }
    let conditions = rest
        .strip_prefix("after")
        .filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
        .ok_or_else(|| format!("unexpected `{rest}` after `abort` ({ABORT_FORMS})"))?;
    if conditions.trim().is_empty() {
        return Err(format!(
            "expected a duration or a request count after `abort after` ({ABORT_FORMS})"
        ));
    }
    let (mut time, mut requests) = (false, false);
    for part in conditions.split(" and ").map(str::trim) {
        let count = part
            .strip_suffix("requests")
            .or_else(|| part.strip_suffix("request"));
        if let Some(count) = count {
            let count = count.trim();
            rule.after_requests = count.parse().map_err(|_| {
                format!("expected a whole number of requests after `abort after`, found `{count}` ({ABORT_FORMS})")
            })?;
            if std::mem::replace(&mut requests, true) {
                return Err(format!(
                    "`abort after` gives a request count twice ({ABORT_FORMS})"
                ));
            }
        } else {
            rule.after_secs = seconds(part)?;
            if std::mem::replace(&mut time, true) {
                return Err(format!(
                    "`abort after` gives a duration twice ({ABORT_FORMS})"
                ));
            }
        }
    }
    Ok(rule)
}

/// `10s`, `500ms`, `1.5m`, `1h` as seconds.
fn seconds(text: &str) -> Result<f64, String> {
    let (value, (unit, tail)) = split_number(text)
        .map_err(|_| format!("expected a duration or a request count after `abort after`, found `{text}` ({ABORT_FORMS})"))?;
    let factor = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "" => {
            return Err(format!(
                "`abort after {text}` needs a unit: `{text}s` or `{text} requests`"
            ))
        }
        other => {
            return Err(format!(
                "unknown unit `{other}` in `abort after {text}` (ms, s, m or h; or `requests`)"
            ))
        }
    };
    if !tail.trim().is_empty() || value < 0.0 {
        return Err(format!(
            "unexpected `{text}` after `abort after` ({ABORT_FORMS})"
        ));
    }
    Some(value * factor)
        .filter(|s| s.is_finite())
        .ok_or_else(|| format!("`abort after {text}` is too long"))
}

/// What can stop a run while it goes: figures known during the run that a failure
/// cannot be outgrown by the mere passing of time.
fn check_abortable(criterion: &Criterion) -> Result<(), String> {
    if criterion.corrected {
        return Err(format!(
            "`{ABORT_WORD}` cannot watch `{CORRECTED_PREFIX}` latencies: they are known only when the \
             open model's schedule ends"
        ));
    }
    let upper_bound = matches!(criterion.op, Op::Lt | Op::Le)
        || (criterion.op == Op::Eq && criterion.bound == 0.0);
    if criterion.metric.kind() == Kind::Count && !upper_bound {
        return Err(format!(
            "{} only grows during a run: `{ABORT_WORD}` needs an upper bound on it (<, <= or == 0), \
             or it would stop the run at its start",
            criterion.metric
        ));
    }
    Ok(())
}

/// Parses one criterion without its `abort` suffix.
fn parse_measure(trimmed: &str) -> Result<Criterion, String> {
    if trimmed == HIT_FASTER_ALIAS.0 {
        let mut criterion = parse_measure(HIT_FASTER_ALIAS.1)?;
        criterion.text = trimmed.to_string();
        return Ok(criterion);
    }
    let mut rest = trimmed;
    let word_end = rest
        .find(|c: char| c.is_whitespace() || "<>=!".contains(c))
        .unwrap_or(rest.len());
    let (word, after) = rest.split_at(word_end);
    let (corrected, word) = match word.strip_prefix(CORRECTED_PREFIX) {
        Some(inner) => (true, inner),
        None => (false, word),
    };
    let metric = metric(word)?;
    // The corrected view holds latencies from the intended start and, for every start
    // the pool dropped, a failed request: its counts and error rate are meaningful too.
    let corrected_counts = matches!(
        metric,
        Metric::ErrorRate | Metric::Failures | Metric::Requests
    );
    if corrected && metric.kind() != Kind::Time && !corrected_counts {
        return Err(format!(
            "`{CORRECTED_PREFIX}` applies to latencies (avg, median, min, max, pN), error_rate, \
             failures and requests, not {metric}"
        ));
    }
    rest = after.trim_start();
    let mut scope = take_scope(&mut rest)?;
    let op = take_op(&mut rest)?;
    let (value, unit) = split_number(rest)?;
    let mut tail = unit.1;
    let bound = apply_unit(metric, value, unit.0)?;
    if !bound.is_finite() {
        // 1e308s is finite as written but not in milliseconds.
        return Err("the value must be a finite number".into());
    }
    if let Some(late) = take_scope(&mut tail)? {
        if scope.is_some() {
            return Err("`for \"...\"` is given twice".into());
        }
        scope = Some(late);
    }
    if !tail.trim().is_empty() {
        return Err(format!("unexpected `{}` after the value", tail.trim()));
    }
    if scope.is_some() && !metric.scopable() {
        return Err(format!(
            "{metric} covers every response carrying its header; `for \"...\"` does not apply"
        ));
    }
    Ok(Criterion {
        text: trimmed.to_string(),
        metric,
        scope,
        op,
        bound,
        corrected,
        abort: None,
    })
}

fn metric(word: &str) -> Result<Metric, String> {
    let lower = word.to_ascii_lowercase();
    let metric = match lower.as_str() {
        "avg" | "average" | "avg_response_time" => Metric::Avg,
        "median" | "med" => Metric::Median,
        "min" => Metric::Min,
        "max" => Metric::Max,
        "error_rate" | "fail_ratio" => Metric::ErrorRate,
        "failures" => Metric::Failures,
        "requests" => Metric::Requests,
        "rps" => Metric::Rps,
        "cache.hit_ratio" => Metric::CacheHitRatio,
        "cache.speedup" => Metric::CacheSpeedup,
        "balance.max_deviation" => Metric::BalanceMaxDeviation,
        "" => return Err(format!("expected a metric ({})", METRIC_NAMES.join(", "))),
        other => return percentile(other).ok_or_else(|| unknown_metric(word)),
    };
    Ok(metric)
}

fn percentile(word: &str) -> Option<Metric> {
    let number = word
        .strip_prefix("p(")
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| word.strip_prefix('p'))?;
    let p: f64 = number.parse().ok()?;
    (p > 0.0 && p <= 100.0).then_some(Metric::Percentile(p))
}

fn unknown_metric(word: &str) -> String {
    let hint = locust_scenario::closest(word, METRIC_NAMES.iter().copied())
        .map(|m| format!("; did you mean `{m}`?"))
        .unwrap_or_default();
    format!(
        "unknown metric `{word}`{hint} (expected one of: {}; percentiles as pN or p(N), 0 < N <= 100)",
        METRIC_NAMES.join(", ")
    )
}

/// `for "name"` (double or single quotes), if `rest` starts with it.
fn take_scope(rest: &mut &str) -> Result<Option<String>, String> {
    let text = rest.trim_start();
    let Some(after) = text.strip_prefix("for") else {
        return Ok(None);
    };
    if !after.starts_with(char::is_whitespace) {
        return Ok(None);
    }
    let after = after.trim_start();
    let quote = after
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')
        .ok_or("expected a quoted request name after `for`, e.g. for \"/users/[id]\"")?;
    let body = &after[1..];
    let end = body
        .find(quote)
        .ok_or("the request name after `for` has no closing quote")?;
    *rest = &body[end + 1..];
    Ok(Some(body[..end].to_string()))
}

fn take_op(rest: &mut &str) -> Result<Op, String> {
    let text = rest.trim_start();
    let ops = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    for (symbol, op) in ops {
        if let Some(after) = text.strip_prefix(symbol) {
            *rest = after;
            return Ok(op);
        }
    }
    let found = text.split_whitespace().next().unwrap_or("nothing");
    Err(format!(
        "expected a comparison (<, <=, >, >=, ==, !=), found `{found}`"
    ))
}

/// The number and the rest: (value, (unit, after the unit)).
fn split_number(rest: &str) -> Result<(f64, (&str, &str)), String> {
    let text = rest.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, after) = text.split_at(end);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a number, found `{}`", text.trim()))?;
    if !value.is_finite() {
        return Err("the value must be a finite number".into());
    }
    let after = after.trim_start();
    let unit_end = after
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '%'))
        .unwrap_or(after.len());
    let (unit, tail) = after.split_at(unit_end);
    // `for` directly after the number is a scope, not a unit.
    if unit == "for" {
        return Ok((value, ("", after)));
    }
    Ok((value, (unit, tail)))
}

fn apply_unit(metric: Metric, value: f64, unit: &str) -> Result<f64, String> {
    let kind = metric.kind();
    match (kind, unit) {
        (_, "") => Ok(value),
        (Kind::Time, "ms") => Ok(value),
        (Kind::Time, "s") => Ok(value * 1000.0),
        (Kind::Ratio, "%") => Ok(value / 100.0),
        (Kind::Factor, "x") => Ok(value),
        (_, unit) => Err(format!(
            "unit `{unit}` does not apply to {metric} ({})",
            match kind {
                Kind::Time => "a time: write 200, 200ms or 0.2s",
                Kind::Ratio => "a fraction: write 0.01 or 1%",
                Kind::Count => "a count: write a plain number",
                Kind::Rate => "requests per second: write a plain number",
                Kind::Factor => "a factor: write 2 or 2x",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (Metric, Option<String>, Op, f64) {
        let c = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (c.metric, c.scope, c.op, c.bound)
    }

    #[test]
    fn golden_grammar() {
        assert_eq!(
            ok("p95 < 500"),
            (Metric::Percentile(95.0), None, Op::Lt, 500.0)
        );
        assert_eq!(ok("avg<200ms"), (Metric::Avg, None, Op::Lt, 200.0));
        assert_eq!(
            ok("avg_response_time < 0.2s"),
            (Metric::Avg, None, Op::Lt, 200.0)
        );
        assert_eq!(
            ok("error_rate < 1%"),
            (Metric::ErrorRate, None, Op::Lt, 0.01)
        );
        assert_eq!(
            ok("error_rate == 0"),
            (Metric::ErrorRate, None, Op::Eq, 0.0)
        );
        assert_eq!(ok("rps >= 10"), (Metric::Rps, None, Op::Ge, 10.0));
        assert_eq!(ok("max <= 2000"), (Metric::Max, None, Op::Le, 2000.0));
        assert_eq!(
            ok("p(99.9) < 800"),
            (Metric::Percentile(99.9), None, Op::Lt, 800.0)
        );
        assert_eq!(
            ok("p95 for \"/users/[id]\" < 300"),
            (
                Metric::Percentile(95.0),
                Some("/users/[id]".into()),
                Op::Lt,
                300.0
            )
        );
        assert_eq!(
            ok("median < 50 ms for '/health'"),
            (Metric::Median, Some("/health".into()), Op::Lt, 50.0)
        );
        assert_eq!(
            ok("cache.hit_ratio > 0.5"),
            (Metric::CacheHitRatio, None, Op::Gt, 0.5)
        );
        assert_eq!(
            ok("cache.speedup > 2x"),
            (Metric::CacheSpeedup, None, Op::Gt, 2.0)
        );
        assert_eq!(
            ok("balance.max_deviation < 10%"),
            (Metric::BalanceMaxDeviation, None, Op::Lt, 0.1)
        );
        assert_eq!(
            ok("cache_hit_faster_than_miss"),
            (Metric::CacheSpeedup, None, Op::Gt, 1.1)
        );
        assert_eq!(ok("failures != 3"), (Metric::Failures, None, Op::Ne, 3.0));
    }

    #[test]
    fn golden_errors() {
        let err = |text: &str| parse(text).unwrap_err();
        assert!(
            err("p95x < 5").contains("unknown metric `p95x`"),
            "{}",
            err("p95x < 5")
        );
        assert!(
            err("avrg < 5").contains("did you mean `avg`?"),
            "{}",
            err("avrg < 5")
        );
        assert!(err("p0 < 5").contains("unknown metric"));
        assert!(err("p101 < 5").contains("unknown metric"));
        assert!(err("avg 5").contains("expected a comparison"));
        assert!(err("avg < fast").contains("expected a number"));
        assert!(err("avg < 5%").contains("unit `%` does not apply to avg"));
        assert!(err("error_rate < 1ms").contains("a fraction"));
        assert!(err("avg < 5 banana").contains("unit `banana`"));
        assert!(err("avg for /x < 5").contains("quoted request name"));
        assert!(err("cache.speedup for \"/x\" > 2").contains("does not apply"));
        assert!(err("avg < 5 ms extra").contains("unexpected `extra`"));
        assert!(err("corrected.rps > 1").contains("applies to latencies"));
        assert!(parse("corrected.error_rate < 1%").unwrap().corrected);
        assert!(err("corrected.p95x < 5").contains("unknown metric `p95x`"));
        let corrected = parse("corrected.p95 for \"/h\" < 500ms").unwrap();
        assert!(corrected.corrected);
        assert_eq!(corrected.metric, Metric::Percentile(95.0));
        assert!(!parse("p95 < 500").unwrap().corrected);
    }

    #[test]
    fn abort_suffix() {
        let abort = |text: &str| parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).abort;
        let rule = |after_secs, after_requests| {
            Some(Abort {
                after_secs,
                after_requests,
            })
        };
        assert_eq!(abort("error_rate < 5%"), None);
        assert_eq!(abort("error_rate < 5% abort"), rule(0.0, 0));
        assert_eq!(abort("p95 < 500 abort"), rule(0.0, 0));
        assert_eq!(abort("p95<500 ABORT after 10s"), rule(10.0, 0));
        assert_eq!(abort("avg < 1s abort after 500ms"), rule(0.5, 0));
        assert_eq!(abort("error_rate < 5% abort after 1.5m"), rule(90.0, 0));
        assert_eq!(
            abort("error_rate < 5% abort after 100 requests"),
            rule(0.0, 100)
        );
        assert_eq!(
            abort("error_rate < 5% abort after 10 s and 1 request"),
            rule(10.0, 1)
        );
        assert_eq!(abort("failures == 0 abort"), rule(0.0, 0));
        assert_eq!(
            abort("cache_hit_faster_than_miss abort after 5s"),
            rule(5.0, 0)
        );
        let scoped = parse("p95 for \"/abort now\" < 300 abort after 2s").unwrap();
        assert_eq!(scoped.scope.as_deref(), Some("/abort now"));
        assert_eq!(scoped.bound, 300.0);
        assert_eq!(scoped.abort, rule(2.0, 0));
        assert_eq!(scoped.text, "p95 for \"/abort now\" < 300 abort after 2s");
        let late = parse("median < 50 ms for '/h' abort").unwrap();
        assert_eq!(late.scope.as_deref(), Some("/h"));
        assert!(late.abort.is_some());
        // A request name that merely contains the word is no suffix.
        assert_eq!(parse("avg for \"/x abort\" < 5").unwrap().abort, None);
    }

    #[test]
    fn abort_errors() {
        let err = |text: &str| parse(text).unwrap_err();
        assert!(err("error_rate < 5% abort now").contains("unexpected `now` after `abort`"));
        assert!(err("error_rate < 5% abort after").contains("expected a duration"));
        assert!(err("error_rate < 5% abort after 10").contains("needs a unit"));
        assert!(err("error_rate < 5% abort after 10 days").contains("unknown unit `days`"));
        assert!(err("error_rate < 5% abort after many requests").contains("whole number"));
        assert!(err("error_rate < 5% abort after 1s and 2s").contains("duration twice"));
        assert!(err("error_rate < 5% abort after 1 requests and 2 requests")
            .contains("request count twice"));
        assert!(err("requests > 100 abort").contains("only grows during a run"));
        assert!(err("failures >= 1 abort").contains("only grows during a run"));
        assert!(err("corrected.p95 < 5 abort").contains("cannot watch `corrected.`"));
        assert!(err("abort").contains("expected a metric"));
        assert!(err("avg < 5 aborts").contains("unit `aborts`"));
    }
}
