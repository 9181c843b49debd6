//! `wait_time` in Locust's words: strict parsing of `between(a, b)`, `constant(x)`,
//! `constant_pacing(x)`, `constant_throughput(r)`, the next wait of the first two and
//! the period of the pacing pair (locust-compat §6.1). Beyond Locust's four, the wait
//! functions people write by hand: `exponential(mean)` (optionally capped,
//! `exponential(mean, max)`: think times whose task starts form a Poisson process) and
//! `normal(mean, stddev)` (clamped at 0), and `exponential_between(min, max[, mean])`
//! (min plus an exponential draw, redrawn until below max: Locust's `strictExp` of
//! `examples/custom_wait_function.py`), drawn with `rand_distr`. No clocks or sleeping
//! here: the engine schedules pacing against deadlines, so timer overshoot cannot
//! accumulate.

use std::time::Duration;

use rand::Rng;
use rand_distr::{Exp1, StandardNormal};

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
    /// `exponential(mean)`, `exponential(mean, max)`: exponentially distributed with that
    /// mean (> 0), so a user's task starts are a Poisson process when its tasks are
    /// short; with `max`, a longer draw waits `max` (which lowers the mean to
    /// `mean * (1 - e^(-max/mean))`).
    Exponential { mean: f64, max: Option<f64> },
    /// `normal(mean, stddev)`: normally distributed, a negative draw waits 0.
    Normal { mean: f64, stddev: f64 },
    /// `exponential_between(min, max)`, `exponential_between(min, max, mean)`: `min` plus
    /// an exponential draw with mean `mean` (default `(max - min) / 6`), redrawn while
    /// the result is `max` or more (Locust's `strictExp(min, max)`). `mean` is None when
    /// not written, so that it prints back as written.
    ExponentialBetween {
        min: f64,
        max: f64,
        mean: Option<f64>,
    },
}

/// At most this many draws of `exponential_between` before it falls back to a uniform
/// wait in [min, max): every draw is bounded. With the default mean a draw is rejected
/// with probability e^-6 (0.25%), so the fallback is for means far above max - min.
const MAX_DRAWS: usize = 1000;

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
    "exponential",
    "exponential_between",
    "normal",
];

const EXPECTED: &str = "expected between(min, max), constant(x), constant_pacing(x), constant_throughput(r), exponential(mean), exponential(mean, max), exponential_between(min, max), exponential_between(min, max, mean), or normal(mean, stddev), in seconds";

/// Names people reach for that mean one of ours (suggested instead of the closest
/// spelling).
const ALIASES: &[(&str, &str)] = &[
    ("poisson", "exponential"),
    ("gauss", "normal"),
    ("gaussian", "normal"),
    ("uniform", "between"),
];

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
            "exponential" => {
                if !(1..=2).contains(&args.len()) {
                    return Err(err(format!(
                        "exponential takes 1 or 2 arguments (mean, or mean and max), got {}",
                        args.len()
                    )));
                }
                let mean = positive(args[0])?;
                let max = args.get(1).map(|&m| positive(m)).transpose()?;
                Ok(WaitTime::Exponential { mean, max })
            }
            "exponential_between" => {
                if !(2..=3).contains(&args.len()) {
                    return Err(err(format!(
                        "exponential_between takes 2 or 3 arguments (min and max, or min, max and mean), got {}",
                        args.len()
                    )));
                }
                let (min, max) = (non_negative(args[0])?, non_negative(args[1])?);
                if min >= max {
                    return Err(err(format!(
                        "exponential_between(min, max) needs min < max, got {min} >= {max}"
                    )));
                }
                let mean = args.get(2).map(|&m| positive(m)).transpose()?;
                Ok(WaitTime::ExponentialBetween { min, max, mean })
            }
            "normal" => {
                arity(2)?;
                Ok(WaitTime::Normal {
                    mean: non_negative(args[0])?,
                    stddev: non_negative(args[1])?,
                })
            }
            other => {
                let alias = ALIASES.iter().find(|(name, _)| *name == other);
                let note = if other == "poisson" {
                    " (exponential waits with mean m make Poisson task starts, 1/m per second)"
                } else {
                    ""
                };
                Err(WaitTimeError {
                    reason: format!("unknown function `{other}`{note}; {EXPECTED}"),
                    suggestion: match alias {
                        Some((_, meant)) => Some((*meant).to_string()),
                        None => crate::source::suggest(other, WAIT_FUNCTIONS.iter().copied()),
                    },
                })
            }
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
            WaitTime::Constant(_)
            | WaitTime::Between(..)
            | WaitTime::Exponential { .. }
            | WaitTime::ExponentialBetween { .. }
            | WaitTime::Normal { .. } => None,
        }
    }

    /// The wait after a task, counted from the task's end. For the pacing functions
    /// this is their whole period, i.e. right only after an instant task: schedule them
    /// with `pacing_period` instead.
    pub fn next_wait(&self, rng: &mut impl Rng) -> Duration {
        match *self {
            WaitTime::Constant(x) => seconds(x),
            WaitTime::Between(a, b) => seconds(a + rng.random::<f64>() * (b - a)),
            WaitTime::Exponential { mean, max } => {
                let draw = mean * rng.sample::<f64, _>(Exp1);
                seconds(max.map_or(draw, |m| draw.min(m)))
            }
            WaitTime::Normal { mean, stddev } => {
                // A negative draw is clamped to 0 by `seconds`.
                seconds(mean + stddev * rng.sample::<f64, _>(StandardNormal))
            }
            WaitTime::ExponentialBetween { min, max, mean } => {
                let mean = mean.unwrap_or((max - min) / 6.0);
                for _ in 0..MAX_DRAWS {
                    let wait = min + mean * rng.sample::<f64, _>(Exp1);
                    if wait < max {
                        return seconds(wait);
                    }
                }
                seconds(min + rng.random::<f64>() * (max - min))
            }
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
            WaitTime::Exponential { mean, max: None } => write!(f, "exponential({mean})"),
            WaitTime::Exponential {
                mean,
                max: Some(max),
            } => write!(f, "exponential({mean}, {max})"),
            WaitTime::Normal { mean, stddev } => write!(f, "normal({mean}, {stddev})"),
            WaitTime::ExponentialBetween {
                min,
                max,
                mean: None,
            } => write!(f, "exponential_between({min}, {max})"),
            WaitTime::ExponentialBetween {
                min,
                max,
                mean: Some(mean),
            } => write!(f, "exponential_between({min}, {max}, {mean})"),
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
    fn parses_exponential_and_normal_and_prints_them_back() {
        let cases = [
            (
                "exponential(2)",
                WaitTime::Exponential {
                    mean: 2.0,
                    max: None,
                },
            ),
            (
                "exponential( 0.5 , 3 )",
                WaitTime::Exponential {
                    mean: 0.5,
                    max: Some(3.0),
                },
            ),
            (
                "normal(1, 0.25)",
                WaitTime::Normal {
                    mean: 1.0,
                    stddev: 0.25,
                },
            ),
            (
                "normal(0, 0)",
                WaitTime::Normal {
                    mean: 0.0,
                    stddev: 0.0,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(WaitTime::parse(text), Ok(want), "{text}");
            assert_eq!(WaitTime::parse(&want.to_string()), Ok(want), "{want}");
            assert_eq!(want.pacing_period(), None, "{want} does not pace");
        }
        for bad in [
            "exponential()",
            "exponential(0)",
            "exponential(-1)",
            "exponential(1, 0)",
            "exponential(1, 2, 3)",
            "normal(1)",
            "normal(-1, 1)",
            "normal(1, -1)",
            "normal(1, inf)",
        ] {
            assert!(WaitTime::parse(bad).is_err(), "{bad} should fail");
        }
        let e = WaitTime::parse_detailed("exponential(1, 2, 3)").unwrap_err();
        assert!(e.reason.contains("1 or 2 arguments"), "{}", e.reason);
        for (typo, meant) in [
            ("exponental(1)", "exponential"),
            ("poisson(4)", "exponential"),
            ("gaussian(1, 1)", "normal"),
            ("norml(1, 1)", "normal"),
            ("uniform(1, 2)", "between"),
        ] {
            let e = WaitTime::parse_detailed(typo).unwrap_err();
            assert_eq!(e.suggestion.as_deref(), Some(meant), "{typo}");
            assert!(e.reason.contains("normal(mean, stddev)"), "{}", e.reason);
        }
        let e = WaitTime::parse_detailed("poisson(4)").unwrap_err();
        assert!(e.reason.contains("Poisson task starts"), "{}", e.reason);
    }

    /// `n` seeded draws, in seconds.
    fn draws(w: WaitTime, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| w.next_wait(&mut rng).as_secs_f64())
            .collect()
    }

    fn mean(samples: &[f64]) -> f64 {
        samples.iter().sum::<f64>() / samples.len() as f64
    }

    fn share(samples: &[f64], pred: impl Fn(f64) -> bool) -> f64 {
        samples.iter().filter(|&&s| pred(s)).count() as f64 / samples.len() as f64
    }

    /// Four standard errors of a mean of `n` draws with standard deviation `sd`: a
    /// correct sampler is outside it once in ~16,000 seeds, a wrong mean or scale is far
    /// outside it.
    fn tolerance(sd: f64, n: usize) -> f64 {
        4.0 * sd / (n as f64).sqrt()
    }

    const N: usize = 20_000;

    #[test]
    fn exponential_has_its_mean_and_its_shape() {
        for (m, seed) in [(2.0, 1), (0.1, 2), (30.0, 3)] {
            let samples = draws(WaitTime::Exponential { mean: m, max: None }, N, seed);
            assert!(samples.iter().all(|&s| s >= 0.0));
            // An exponential's standard deviation is its mean.
            let got = mean(&samples);
            assert!(
                (got - m).abs() < tolerance(m, N),
                "exponential({m}): mean {got}"
            );
            // Memoryless shape: P(X > m) = 1/e, P(X > 2m) = 1/e^2 (binomial errors).
            for (k, p) in [(1.0, (-1.0f64).exp()), (2.0, (-2.0f64).exp())] {
                let got = share(&samples, |s| s > k * m);
                let sd = (p * (1.0 - p)).sqrt();
                assert!(
                    (got - p).abs() < tolerance(sd, N),
                    "P(X > {k}m) = {got}, want {p}"
                );
            }
        }
    }

    #[test]
    fn a_capped_exponential_never_waits_longer_than_its_cap() {
        let (m, cap) = (2.0, 3.0);
        let samples = draws(
            WaitTime::Exponential {
                mean: m,
                max: Some(cap),
            },
            N,
            4,
        );
        assert!(samples.iter().all(|&s| (0.0..=cap).contains(&s)));
        // E[min(X, c)] = m (1 - e^(-c/m)); P(X >= c) = e^(-c/m) of the draws wait c.
        let want = m * (1.0 - (-cap / m).exp());
        let got = mean(&samples);
        assert!(
            (got - want).abs() < tolerance(m, N),
            "mean {got}, want {want}"
        );
        let p = (-cap / m).exp();
        let got = share(&samples, |s| s == cap);
        assert!(
            (got - p).abs() < tolerance((p * (1.0 - p)).sqrt(), N),
            "{got} at the cap"
        );
    }

    #[test]
    fn normal_has_its_mean_and_spread_and_is_clamped_at_zero() {
        let (m, sd) = (1.0, 0.25);
        let samples = draws(
            WaitTime::Normal {
                mean: m,
                stddev: sd,
            },
            N,
            5,
        );
        let got = mean(&samples);
        assert!((got - m).abs() < tolerance(sd, N), "mean {got}");
        // 68.27% within one standard deviation.
        let p = 0.6827;
        let got = share(&samples, |s| (s - m).abs() < sd);
        assert!(
            (got - p).abs() < tolerance((p * (1.0f64 - p)).sqrt(), N),
            "{got} within 1 sd"
        );

        // normal(0, 1): half the draws are negative and wait 0; the mean of max(0, Z)
        // is 1/sqrt(2 pi), its standard deviation sqrt(1/2 - 1/(2 pi)).
        let samples = draws(
            WaitTime::Normal {
                mean: 0.0,
                stddev: 1.0,
            },
            N,
            6,
        );
        assert!(samples.iter().all(|&s| s >= 0.0));
        let got = share(&samples, |s| s == 0.0);
        assert!((got - 0.5).abs() < tolerance(0.5, N), "{got} clamped");
        let want = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let spread = (0.5 - 1.0 / (2.0 * std::f64::consts::PI)).sqrt();
        let got = mean(&samples);
        assert!(
            (got - want).abs() < tolerance(spread, N),
            "mean {got}, want {want}"
        );

        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let fixed = WaitTime::Normal {
            mean: 0.5,
            stddev: 0.0,
        };
        assert_eq!(fixed.next_wait(&mut rng), Duration::from_millis(500));
    }

    #[test]
    fn exponential_between_parses_prints_back_and_explains_its_errors() {
        let cases = [
            (
                "exponential_between(3, 7)",
                WaitTime::ExponentialBetween {
                    min: 3.0,
                    max: 7.0,
                    mean: None,
                },
            ),
            (
                " exponential_between( 0 , 2.5 , 0.5 ) ",
                WaitTime::ExponentialBetween {
                    min: 0.0,
                    max: 2.5,
                    mean: Some(0.5),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(WaitTime::parse(text), Ok(want), "{text}");
            assert_eq!(WaitTime::parse(&want.to_string()), Ok(want), "{want}");
            assert_eq!(want.pacing_period(), None, "{want} does not pace");
        }
        assert_eq!(
            WaitTime::parse("exponential_between(3, 7)")
                .unwrap()
                .to_string(),
            "exponential_between(3, 7)"
        );
        for (bad, says) in [
            ("exponential_between(1)", "2 or 3 arguments"),
            ("exponential_between(1, 2, 3, 4)", "2 or 3 arguments"),
            ("exponential_between(3, 3)", "min < max, got 3 >= 3"),
            ("exponential_between(7, 3)", "min < max"),
            ("exponential_between(-1, 3)", "values >= 0"),
            ("exponential_between(1, 3, 0)", "a value > 0"),
            ("exponential_between(1, 3, -2)", "a value > 0"),
            ("exponential_between(1, inf)", "not a number"),
        ] {
            let e = WaitTime::parse_detailed(bad).unwrap_err();
            assert!(e.reason.contains(says), "{bad}: {}", e.reason);
        }
        for typo in [
            "exponential_betwen(1, 2)",
            "exponentialbetween(1, 2)",
            "exponential_between (1, 2",
        ] {
            let e = WaitTime::parse_detailed(typo).unwrap_err();
            if typo.ends_with(')') {
                assert_eq!(
                    e.suggestion.as_deref(),
                    Some("exponential_between"),
                    "{typo}"
                );
            }
            assert!(
                e.reason.contains("exponential_between(min, max)"),
                "{}",
                e.reason
            );
        }
    }

    #[test]
    fn exponential_between_stays_in_bounds_with_locusts_mean() {
        // strictExp(3, 7): 3 + Exp with mean 4/6, truncated below 7. The truncation at
        // 6 means removes e^-6 of the mass: the mean is min + m (1 - 6 e^-6 / (1 - e^-6)).
        let (min, max) = (3.0, 7.0);
        let m = (max - min) / 6.0;
        let samples = draws(
            WaitTime::ExponentialBetween {
                min,
                max,
                mean: None,
            },
            N,
            8,
        );
        assert!(samples.iter().all(|&s| (min..max).contains(&s)));
        let cut = (-6.0f64).exp();
        let want = min + m * (1.0 - 6.0 * cut / (1.0 - cut));
        let got = mean(&samples);
        assert!(
            (got - want).abs() < tolerance(m, N),
            "mean {got}, want {want}"
        );
        // Memoryless above min: P(X > min + m) = 1/e (truncation changes it by < 0.3%).
        let p = (-1.0f64).exp();
        let got = share(&samples, |s| s > min + m);
        assert!(
            (got - p).abs() < tolerance((p * (1.0 - p)).sqrt(), N) + 0.003,
            "P(X > min + mean) = {got}"
        );
    }

    #[test]
    fn exponential_between_with_a_mean_truncates_and_stays_bounded() {
        // mean 1 over [0, 2): the density e^-x / (1 - e^-2) on [0, 2), whose mean is
        // (1 - 3 e^-2) / (1 - e^-2).
        let e2 = (-2.0f64).exp();
        let samples = draws(
            WaitTime::ExponentialBetween {
                min: 0.0,
                max: 2.0,
                mean: Some(1.0),
            },
            N,
            9,
        );
        assert!(samples.iter().all(|&s| (0.0..2.0).contains(&s)));
        let want = (1.0 - 3.0 * e2) / (1.0 - e2);
        let got = mean(&samples);
        assert!(
            (got - want).abs() < tolerance(1.0, N),
            "mean {got}, want {want}"
        );
        // A mean so large that nearly every draw is rejected still returns, in bounds
        // (the uniform fallback after MAX_DRAWS draws).
        let samples = draws(
            WaitTime::ExponentialBetween {
                min: 1.0,
                max: 1.001,
                mean: Some(1e9),
            },
            200,
            10,
        );
        assert!(samples.iter().all(|&s| (1.0..1.001).contains(&s)));
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
