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
}

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
];

/// The named shorthand and what it stands for.
pub const HIT_FASTER_ALIAS: (&str, &str) = ("cache_hit_faster_than_miss", "cache.speedup > 1.1");

/// Parses one criterion.
pub fn parse(text: &str) -> Result<Criterion, String> {
    let trimmed = text.trim();
    if trimmed == HIT_FASTER_ALIAS.0 {
        let mut criterion = parse(HIT_FASTER_ALIAS.1)?;
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
    if corrected && metric.kind() != Kind::Time {
        return Err(format!(
            "`{CORRECTED_PREFIX}` applies to latencies (avg, median, min, max, pN), not {metric}"
        ));
    }
    rest = after.trim_start();
    let mut scope = take_scope(&mut rest)?;
    let op = take_op(&mut rest)?;
    let (value, unit) = split_number(rest)?;
    let mut tail = unit.1;
    let bound = apply_unit(metric, value, unit.0)?;
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
        assert!(err("corrected.error_rate < 1%").contains("applies to latencies"));
        assert!(err("corrected.p95x < 5").contains("unknown metric `p95x`"));
        let corrected = parse("corrected.p95 for \"/h\" < 500ms").unwrap();
        assert!(corrected.corrected);
        assert_eq!(corrected.metric, Metric::Percentile(95.0));
        assert!(!parse("p95 < 500").unwrap().corrected);
    }
}
