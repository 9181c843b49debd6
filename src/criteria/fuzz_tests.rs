//! The `fuzz_criteria` test: seeded mutations of success criteria as users write them
//! parse to a criterion with finite bounds or to an error naming where it was written,
//! never a panic or a hang; `make fuzz` runs more cases.

use locust_scenario::fuzz::{cases, mutate, run_case, Rng, Watchdog, HOSTILE_NUMBERS};

use super::{parse_all, Source};

/// Criteria of `locust.toml`, the examples and the grammar's tests.
const CRITERIA: &[&str] = &[
    "avg < 200ms",
    "error_rate == 0",
    "cache_hit_faster_than_miss",
    "p95 < 500ms",
    "error_rate < 1%",
    "balance.max_deviation < 10%",
    "cache.hit_ratio > 0.5",
    "cache.speedup > 2x",
    "error_rate <= 20% abort",
    "p(99.9) < 800",
    "median < 50 ms for '/health'",
    "avg < 1s abort after 500ms",
    "error_rate < 5% abort after 10 s and 1 request",
    "error_rate < 5% abort after 1.5m",
    "failures >= 1 abort",
    "rps >= 10",
    "max <= 2000 for \"/users\"",
    "corrected.p95 < 5",
    "requests > 100 abort after 100 requests",
    "min != 0",
];

/// Pieces of the grammar and hostile values to insert.
const SNIPPETS: &[&str] = &[
    " abort",
    " after ",
    " and ",
    " requests",
    " for \"",
    "'",
    "\"",
    "p(",
    ")",
    "<",
    "<=",
    ">=",
    "==",
    "!=",
    "%",
    "ms",
    "s",
    "m",
    "h",
    "x",
    "corrected.",
    "cache.",
    "balance.",
    "1e308",
    "1e308s",
    "1e308h",
    "99999999999999999999",
    "-0",
    "nan",
    "inf",
    "-inf",
    "18446744073709551616 requests",
    "p(nan)",
    "p(inf)",
    "p0",
    "p100",
    "p(100.0000001)",
];

#[test]
fn fuzz_criteria() {
    let seeds: Vec<&[u8]> = CRITERIA.iter().map(|c| c.as_bytes()).collect();
    let snippets: Vec<&str> = SNIPPETS.iter().chain(HOSTILE_NUMBERS).copied().collect();
    let mut rng = Rng(0x9e6c_63d0_676a_9a99);
    let watchdog = Watchdog::start("fuzz_criteria");
    let (mut parsed, mut refused) = (0u64, 0u64);
    for case in 0..cases(20_000, 1) {
        watchdog.case(case);
        let mut data = rng.pick(&seeds).to_vec();
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut data, &seeds, &snippets);
        }
        data.truncate(4096);
        // Criteria come from TOML strings and command-line values: text by then.
        let text = String::from_utf8_lossy(&data).into_owned();
        let source = Source {
            text: text.clone(),
            origin: "locust.toml:31".into(),
            key: "criteria[2]".into(),
        };
        let result = run_case("fuzz_criteria", case, text.as_bytes(), || {
            parse_all(std::slice::from_ref(&source))
        });
        match result {
            Ok(criteria) => {
                parsed += 1;
                let (criterion, _) = &criteria[0];
                assert!(criterion.bound.is_finite(), "case {case}: {text:?}");
                if let super::parse::Metric::Percentile(p) = criterion.metric {
                    assert!(p > 0.0 && p <= 100.0, "case {case}: {text:?}");
                }
                if let Some(abort) = &criterion.abort {
                    assert!(
                        abort.after_secs.is_finite() && abort.after_secs >= 0.0,
                        "case {case}: {text:?}"
                    );
                }
            }
            Err(e) => {
                refused += 1;
                let message = e.to_string();
                assert!(
                    message.starts_with("locust.toml:31: key `criteria[2]`: criterion")
                        && !e.message.trim().is_empty(),
                    "case {case}: {message}"
                );
            }
        }
    }
    eprintln!("fuzz_criteria: {parsed} parsed, {refused} refused");
    assert!(parsed > 0 && refused > 0);
}

/// Numbers past f64 once a unit multiplies them are refused, not infinite bounds.
#[test]
fn fuzz_criteria_huge_numbers() {
    let huge = format!("1{}", "0".repeat(307));
    for text in [
        format!("avg < {huge}s"),
        format!("error_rate < 5% abort after {huge}h"),
        format!("avg < {huge}0"),
        "avg < 1e308s".into(),
        "requests > 99999999999999999999999999999999".into(),
        "failures >= 1 abort after 18446744073709551616 requests".into(),
    ] {
        let source = Source {
            text: text.clone(),
            origin: "--criterion".into(),
            key: "criteria[0]".into(),
        };
        match parse_all(&[source]) {
            Ok(c) => {
                let criterion = &c[0].0;
                assert!(criterion.bound.is_finite(), "{text}");
                assert!(
                    (criterion.abort.as_ref()).is_none_or(|a| a.after_secs.is_finite()),
                    "{text}"
                );
            }
            Err(e) => assert!(e.to_string().starts_with("--criterion: "), "{e}"),
        }
    }
}
