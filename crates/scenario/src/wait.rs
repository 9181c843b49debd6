//! `wait_time` in Locust's words: strict parsing of `between(a, b)`, `constant(x)`,
//! `constant_pacing(x)`, `constant_throughput(r)`, the next wait of the first two and
//! the period of the pacing pair (locust-compat §6.1). No clocks or sleeping here: the
//! engine schedules pacing against deadlines, so timer overshoot cannot accumulate.

use std::time::Duration;

use rand::Rng;

/// How long a user waits after each task. All values are seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitTime {
    /// `constant(x)`: always x. `constant(0)` is the default.
    Constant(f64),
    /// `between(a, b)`: uniform in [a, b).
    Between(f64, f64),
    /// `constant_pacing(x)`: one task start every x seconds, `max(0, x - run_time)`.
    ConstantPacing(f64),
    /// `constant_throughput(r)`: `constant_pacing(1/r)`.
    ConstantThroughput(f64),
}

impl Default for WaitTime {
    fn default() -> Self {
        WaitTime::Constant(0.0)
    }
}

/// The accepted function names, for messages and suggestions.
pub(crate) const WAIT_FUNCTIONS: &[&str] = &[
    "between",
    "constant",
    "constant_pacing",
    "constant_throughput",
];

const EXPECTED: &str = "expected between(min, max), constant(x), constant_pacing(x), or constant_throughput(r), in seconds";

/// Why a wait_time text was rejected, plus a suggested function name when one is close.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaitTimeError {
    pub reason: String,
    pub suggestion: Option<String>,
}

impl WaitTime {
    /// Parses the wait_time string strictly (whitespace around tokens is allowed).
    pub fn parse(text: &str) -> Result<WaitTime, String> {
        Self::parse_detailed(text).map_err(|e| e.reason)
    }

    pub(crate) fn parse_detailed(text: &str) -> Result<WaitTime, WaitTimeError> {
        let err = |reason: String| WaitTimeError {
            reason,
            suggestion: None,
        };
        let t = text.trim();
        let (func, rest) = t.split_once('(').ok_or_else(|| err(EXPECTED.to_string()))?;
        let func = func.trim();
        let inner = rest
            .strip_suffix(')')
            .ok_or_else(|| err(format!("missing closing parenthesis; {EXPECTED}")))?;
        let args = inner
            .split(',')
            .map(|a| {
                let a = a.trim();
                a.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| err(format!("{a:?} is not a number; {EXPECTED}")))
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(err(format!(
                    "{func} takes {n} argument{}, got {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                )))
            }
        };
        let non_negative = |v: f64| {
            if v >= 0.0 {
                Ok(v)
            } else {
                Err(err(format!("{func} needs values >= 0, got {v}")))
            }
        };
        let positive = |v: f64| {
            if v > 0.0 {
                Ok(v)
            } else {
                Err(err(format!("{func} needs a value > 0, got {v}")))
            }
        };
        match func {
            "between" => {
                arity(2)?;
                let (a, b) = (non_negative(args[0])?, non_negative(args[1])?);
                if a > b {
                    return Err(err(format!(
                        "between(min, max) needs min <= max, got {a} > {b}"
                    )));
                }
                Ok(WaitTime::Between(a, b))
            }
            "constant" => {
                arity(1)?;
                Ok(WaitTime::Constant(non_negative(args[0])?))
            }
            "constant_pacing" => {
                arity(1)?;
                Ok(WaitTime::ConstantPacing(non_negative(args[0])?))
            }
            "constant_throughput" => {
                arity(1)?;
                Ok(WaitTime::ConstantThroughput(positive(args[0])?))
            }
            other => Err(WaitTimeError {
                reason: format!("unknown function `{other}`; {EXPECTED}"),
                suggestion: crate::source::suggest(other, WAIT_FUNCTIONS.iter().copied()),
            }),
        }
    }

    /// The time between task starts of `constant_pacing(x)` (x) and
    /// `constant_throughput(r)` (1/r); None for the other functions. The caller keeps
    /// the schedule: each start is one period after the previous scheduled start, or at
    /// once when a task overran (no catch-up), which is what Locust's `max(0, x -
    /// run_time)` amounts to since its run_time counts from the intended end of the wait.
    pub fn pacing_period(&self) -> Option<Duration> {
        match *self {
            WaitTime::ConstantPacing(x) => Some(seconds(x)),
            WaitTime::ConstantThroughput(r) => Some(seconds(1.0 / r)),
            WaitTime::Constant(_) | WaitTime::Between(..) => None,
        }
    }

    /// The wait after a task, counted from the task's end. For the pacing functions
    /// this is their whole period, i.e. right only after an instant task: schedule them
    /// with `pacing_period` instead.
    pub fn next_wait(&self, rng: &mut impl Rng) -> Duration {
        match *self {
            WaitTime::Constant(x) => seconds(x),
            WaitTime::Between(a, b) => seconds(a + rng.random::<f64>() * (b - a)),
            WaitTime::ConstantPacing(_) | WaitTime::ConstantThroughput(_) => {
                self.pacing_period().unwrap_or(Duration::ZERO)
            }
        }
    }
}

/// Seconds as a Duration; a value too large for one (`constant(1e300)`) waits "forever"
/// rather than not at all.
fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX)
}

impl std::fmt::Display for WaitTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitTime::Constant(x) => write!(f, "constant({x})"),
            WaitTime::Between(a, b) => write!(f, "between({a}, {b})"),
            WaitTime::ConstantPacing(x) => write!(f, "constant_pacing({x})"),
            WaitTime::ConstantThroughput(r) => write!(f, "constant_throughput({r})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_all_forms() {
        assert_eq!(
            WaitTime::parse("between(1, 3)"),
            Ok(WaitTime::Between(1.0, 3.0))
        );
        assert_eq!(
            WaitTime::parse(" constant( 0.5 ) "),
            Ok(WaitTime::Constant(0.5))
        );
        assert_eq!(
            WaitTime::parse("constant_pacing(2)"),
            Ok(WaitTime::ConstantPacing(2.0))
        );
        assert_eq!(
            WaitTime::parse("constant_throughput(10)"),
            Ok(WaitTime::ConstantThroughput(10.0))
        );
        assert!(WaitTime::parse("poisson(4)").is_err());
        assert_eq!(WaitTime::default(), WaitTime::Constant(0.0));
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "between(1)",
            "between(3, 1)",
            "between(1, 3",
            "constant(-1)",
            "constant(x)",
            "constant_throughput(0)",
            "1.5",
            "",
            "constant(nan)",
        ] {
            assert!(WaitTime::parse(bad).is_err(), "{bad} should fail");
        }
        let e = WaitTime::parse_detailed("betwen(1, 2)").unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("between"));
    }

    #[test]
    fn between_is_uniform_in_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let w = WaitTime::Between(1.0, 3.0);
        let samples: Vec<f64> = (0..2000)
            .map(|_| w.next_wait(&mut rng).as_secs_f64())
            .collect();
        assert!(samples.iter().all(|s| (1.0..3.0).contains(s)));
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        assert!((mean - 2.0).abs() < 0.1, "{mean}");
    }

    #[test]
    fn pacing_has_a_period_and_throughput_is_its_inverse() {
        assert_eq!(
            WaitTime::ConstantPacing(2.0).pacing_period(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            WaitTime::ConstantThroughput(4.0).pacing_period(),
            Some(Duration::from_millis(250))
        );
        for r in [0.5, 3.0, 7.0, 1000.0, 1e-3] {
            assert_eq!(
                WaitTime::ConstantThroughput(r).pacing_period(),
                WaitTime::ConstantPacing(1.0 / r).pacing_period(),
                "constant_throughput({r})"
            );
        }
        assert_eq!(WaitTime::Constant(1.0).pacing_period(), None);
        assert_eq!(WaitTime::Between(1.0, 2.0).pacing_period(), None);
    }

    #[test]
    fn constant_waits_its_value_and_huge_values_saturate() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(
            WaitTime::Constant(0.5).next_wait(&mut rng),
            Duration::from_millis(500)
        );
        assert_eq!(WaitTime::Constant(0.0).next_wait(&mut rng), Duration::ZERO);
        assert_eq!(WaitTime::Constant(1e300).next_wait(&mut rng), Duration::MAX);
        assert_eq!(
            WaitTime::ConstantPacing(1e300).pacing_period(),
            Some(Duration::MAX)
        );
    }
}
