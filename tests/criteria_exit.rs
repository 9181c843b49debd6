//! Success criteria end to end: the real binary against the demo target, with its
//! service time, miss penalty and error rate set so that each kind of criterion passes
//! and fails; the exit codes (0, 3, 2 for bad criteria) and the JSON result's verdicts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use locust_demo_target::DemoConfig;
use serde_json::Value;

/// Reads one id again and again (cache hits), creates and reads fresh ones (misses),
/// and asks the load balancer for /health (spread over app1-3).
fn mixed() -> String {
    cache_mix_scenario("C", 2)
}

/// Nearly every answer comes from app1: an uneven spread.
const PINNED: &str = r#"
[users.P]
wait_time = "constant(0.02)"
[[users.P.tasks]]
name = "app1"
weight = 9
request = { path = "/app1/health" }
[[users.P.tasks]]
name = "lb"
request = { path = "/health" }
"#;

struct Run {
    code: Option<i32>,
    stderr: String,
    result: Value,
}

impl Run {
    fn verdict(&self, criterion: &str) -> &Value {
        self.result["verdict"]["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["criterion"] == criterion)
            .unwrap_or_else(|| panic!("no verdict for {criterion}: {}", self.result["verdict"]))
    }

    fn passed(&self, criterion: &str) -> bool {
        self.verdict(criterion)["passed"].as_bool().unwrap()
    }
}

async fn run(config: DemoConfig, scenario: &str, criteria: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", scenario);
    let server = demo_with(config).await;
    let url = server.base_url();
    let mut args = vec![
        "-u",
        "4",
        "-r",
        "4",
        "-t",
        "3s",
        "--only-summary",
        "--report-json",
        "out/result.json",
    ];
    for c in criteria {
        args.extend(["--criterion", c]);
    }
    let output = run_headless(dir.path(), "s.toml", &url, &args).await;
    let stderr = text(&output.stderr);
    let json = std::fs::read_to_string(dir.path().join("out/result.json"))
        .unwrap_or_else(|e| panic!("no JSON result ({e}): {stderr}"));
    Run {
        code: output.status.code(),
        stderr,
        result: serde_json::from_str(&json).unwrap(),
    }
}

fn fast() -> DemoConfig {
    DemoConfig {
        service_time: Duration::from_millis(1),
        miss_penalty: Duration::from_millis(25),
        ..DemoConfig::default()
    }
}

#[tokio::test]
async fn every_kind_of_criterion_passes_on_a_healthy_target() {
    let criteria = [
        "avg < 200ms",
        "median < 100",
        "p95 < 500",
        "p(99.9) < 1s",
        "max < 2000",
        "min < 100",
        "error_rate == 0",
        "failures == 0",
        "rps > 5",
        "requests >= 20",
        "p95 for \"/users/[id]\" < 500",
        "cache.hit_ratio > 0.3",
        "cache.speedup > 2",
        "cache_hit_faster_than_miss",
        "balance.max_deviation < 25%",
    ];
    let run = run(fast(), &mixed(), &criteria).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.result["schema"], "locust-rs/result/v1");
    assert_eq!(run.result["verdict"]["status"], "pass");
    assert_eq!(run.result["verdict"]["exit_code"], 0);
    for c in criteria {
        assert!(run.passed(c), "{c}: {}", run.verdict(c));
    }
    assert!(
        run.stderr.contains(&format!(
            "Success criteria: {0} of {0} passed -> PASS (exit code 0)",
            criteria.len()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Shutting down (exit code 0)"),
        "{}",
        run.stderr
    );
    // The verdict block comes after Locust's tables.
    let tables = run.stderr.find("Response time percentiles").unwrap();
    assert!(run.stderr.find("Success criteria:").unwrap() > tables);
}

#[tokio::test]
async fn slow_answers_fail_the_latency_and_throughput_criteria_with_exit_3() {
    let slow = DemoConfig {
        service_time: Duration::from_millis(80),
        miss_penalty: Duration::ZERO,
        ..DemoConfig::default()
    };
    let criteria = [
        "avg < 50",
        "median < 50",
        "p95 < 50",
        "max < 50",
        "min < 50",
        "rps > 1000",
        "error_rate == 0",
    ];
    let run = run(slow, &mixed(), &criteria).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(run.result["verdict"]["status"], "fail");
    for c in &criteria[..6] {
        assert!(!run.passed(c), "{c} should fail: {}", run.verdict(c));
        assert!(run.verdict(c)["measured"].as_f64().is_some());
    }
    assert!(run.passed("error_rate == 0"));
    assert!(
        run.stderr.contains("-> FAIL (exit code 3)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("  FAIL  avg < 50"), "{}", run.stderr);
}

#[tokio::test]
async fn failing_requests_fail_the_error_criteria_with_exit_3_not_1() {
    let flaky = DemoConfig {
        error_rate: 0.5,
        ..DemoConfig::instant()
    };
    let criteria = ["error_rate < 1%", "failures == 0", "error_rate < 90%"];
    let run = run(flaky, &mixed(), &criteria).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(!run.passed("error_rate < 1%"));
    assert!(!run.passed("failures == 0"));
    assert!(run.passed("error_rate < 90%"));
    // With criteria, request failures are judged by them: all passing is exit 0.
    let lenient = DemoConfig {
        error_rate: 0.2,
        ..DemoConfig::instant()
    };
    let ok = run_lenient(lenient).await;
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
}

async fn run_lenient(config: DemoConfig) -> Run {
    run(config, &mixed(), &["error_rate < 90%"]).await
}

#[tokio::test]
async fn a_cache_that_does_not_help_and_an_uneven_spread_fail() {
    let no_penalty = DemoConfig {
        service_time: Duration::from_millis(2),
        miss_penalty: Duration::ZERO,
        ..DemoConfig::default()
    };
    let criteria = [
        "cache.speedup > 3",
        "cache.hit_ratio > 0.99",
        "balance.max_deviation < 10%",
    ];
    let mixed = run(no_penalty.clone(), &mixed(), &criteria).await;
    assert_eq!(mixed.code, Some(3), "{}", mixed.stderr);
    assert!(
        !mixed.passed("cache.speedup > 3"),
        "{}",
        mixed.verdict("cache.speedup > 3")
    );
    assert!(!mixed.passed("cache.hit_ratio > 0.99"));
    assert!(
        mixed.passed("balance.max_deviation < 10%"),
        "{}",
        mixed.verdict("balance.max_deviation < 10%")
    );

    let pinned = run(
        no_penalty,
        PINNED,
        &["balance.max_deviation < 10%", "cache.hit_ratio > 0"],
    )
    .await;
    assert_eq!(pinned.code, Some(3), "{}", pinned.stderr);
    let balance = pinned.verdict("balance.max_deviation < 10%");
    assert!(!balance["passed"].as_bool().unwrap());
    assert!(balance["measured"].as_f64().unwrap() > 0.5, "{balance}");
    // No X-Cache answer at all: "no data" fails, it never passes silently.
    let cache = pinned.verdict("cache.hit_ratio > 0");
    assert_eq!(cache["measured"], Value::Null);
    assert_eq!(cache["passed"], false);
    let ids: Vec<&str> = pinned.result["balance"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["app1", "app2", "app3"], "listed by id");
    let app1_share = pinned.result["balance"]["instances"][0]["share"]
        .as_f64()
        .unwrap();
    assert!(app1_share > 0.8, "{app1_share}");
}

#[tokio::test]
async fn bad_criteria_in_locust_toml_are_config_errors_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &mixed());
    write(
        dir.path(),
        "locust.toml",
        "[tool.locust]\nlocustfile = \"s.toml\"\nheadless = true\n\n[profiles.ci]\nrun-time = \"2s\"\ncriteria = [\n  \"avg < 200\",\n  \"p95 for \\\"/users/[di]\\\" < 500\",\n]\n\n[profiles.typo]\nrun-time = \"2s\"\ncriteria = [\"avrg < 200\"]\n",
    );
    let server = demo().await;
    let url = server.base_url();
    let output = run_in(dir.path(), &["--profile", "ci", "-H", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("locust.toml:9: key `criteria[1]`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean \"/users/[id]\"?"), "{stderr}");
    let output = run_in(dir.path(), &["--profile", "typo", "-H", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("locust.toml:14: key `criteria[0]`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown metric `avrg`; did you mean `avg`?"),
        "{stderr}"
    );
    assert_eq!(server.counters().total, 0, "nothing may be sent");
}

/// Criteria may name the rows of `[[setup]]` and `[[teardown]]` (a request, a group)
/// as they name a class's: accepted at load and judged on what those steps recorded.
#[tokio::test]
async fn criteria_may_name_setup_and_teardown_rows() {
    let scenario = r#"
[[setup]]
path = "/gateway-health"
name = "warm-up"

[[teardown]]
group = "final check"
steps = [{ path = "/health" }]

[users.H]
wait_time = "constant(0.05)"
[[users.H.tasks]]
name = "lb"
request = { path = "/health" }
"#;
    let criteria = [
        "requests for 'warm-up' == 1",
        "failures for 'warm-up' == 0",
        "requests for 'final check' == 1",
    ];
    let run = run(fast(), scenario, &criteria).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for c in criteria {
        assert!(run.passed(c), "{c}: {}", run.verdict(c));
    }
}
