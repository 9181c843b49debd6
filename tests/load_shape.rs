//! Stages in a profile (a declarative LoadTestShape) end to end against the demo target:
//! the history CSV's User Count follows the stages up and down, the run ends after the
//! last stage with Locust's log lines, -u/-r are ignored with a warning and -t still
//! bounds the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

const SCENARIO: &str = r#"
[users.Reader]
wait_time = "constant(0.05)"

[[users.Reader.tasks]]
name = "health"
request = { method = "GET", path = "/health" }
"#;

/// 1 user until 2 s, 6 users (at once) until 4 s, back to 1 until 6 s.
const PROJECT: &str = r#"
[tool.locust]
locustfile = "s.toml"
headless = true

[profiles.mini-spike]
description = "three short stages"
[[profiles.mini-spike.stages]]
until = "2s"
users = 1
spawn-rate = 10
[[profiles.mini-spike.stages]]
until = "4s"
users = 6
spawn-rate = 100
[[profiles.mini-spike.stages]]
until = "6s"
users = 1
spawn-rate = 100
"#;

fn user_counts(history: &std::path::Path) -> Vec<u64> {
    let rows = csv_rows(history);
    let column = rows[0].iter().position(|h| h == "User Count").unwrap();
    rows[1..]
        .iter()
        .filter(|r| r.iter().any(|c| c == "Aggregated"))
        .map(|r| r[column].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn the_user_curve_in_the_history_csv_follows_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "locust.toml", PROJECT);
    let server = demo().await;
    let url = server.base_url();
    let started = std::time::Instant::now();
    let output = run_in(
        dir.path(),
        &[
            "--profile",
            "mini-spike",
            "-H",
            &url,
            "-u",
            "40",
            "--csv",
            "out",
        ],
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for line in [
        "-u/--users or -r/--spawn-rate was given: ignoring them",
        "Shape test starting.",
        "Shape test updating to 1 users at 10.00 spawn rate",
        "Shape test updating to 6 users at 100.00 spawn rate",
        "Shape test updating to 1 users at 100.00 spawn rate",
        "Shape test stopping",
        "Shape test completed, shutting down",
    ] {
        assert!(stderr.contains(line), "{line:?} missing: {stderr}");
    }
    assert!(
        (5.5..20.0).contains(&elapsed),
        "ends after the last stage: {elapsed} s"
    );
    // Rows before the first spawn and after the final stop show 0 users (as in Locust).
    let all = user_counts(&dir.path().join("out_stats_history.csv"));
    let counts: Vec<u64> = all
        .iter()
        .copied()
        .skip_while(|&c| c == 0)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip_while(|&c| c == 0)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(counts.len() >= 4, "{all:?}");
    let peak = counts.iter().position(|&c| c == 6);
    assert_eq!(counts.first(), Some(&1), "{counts:?}");
    assert_eq!(
        counts.iter().max(),
        Some(&6),
        "-u 40 is ignored: {counts:?}"
    );
    let peak = peak.unwrap_or_else(|| panic!("never reached 6: {counts:?}"));
    assert!(
        counts[peak..].last() == Some(&1),
        "back down to 1 after the peak: {counts:?}"
    );
    assert!(server.counters().total > 0);
}

#[tokio::test]
async fn run_time_still_bounds_a_shaped_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "locust.toml", PROJECT);
    let server = demo().await;
    let output = run_in(
        dir.path(),
        &[
            "--profile",
            "mini-spike",
            "-H",
            &server.base_url(),
            "-t",
            "1s",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("--run-time limit reached, shutting down"),
        "{stderr}"
    );
    assert!(!stderr.contains("Shape test stopping"), "{stderr}");
}

const TWO_CLASSES: &str = r#"
[users.Reader]
wait_time = "constant(0.05)"
[[users.Reader.tasks]]
name = "health"
request = { path = "/health" }

[users.Gateway]
wait_time = "constant(0.05)"
[[users.Gateway.tasks]]
name = "gateway"
request = { path = "/gateway-health" }
"#;

/// Stage classes: Reader only, then Gateway only, then both.
const CLASS_STAGES: &str = r#"
[tool.locust]
locustfile = "s.toml"
headless = true

[profiles.switch]
[[profiles.switch.stages]]
until = "2s"
users = 4
spawn-rate = 100
user-classes = ["Reader"]
[[profiles.switch.stages]]
until = "4s"
users = 4
spawn-rate = 100
user-classes = ["Gateway"]
[[profiles.switch.stages]]
until = "6s"
users = 4
spawn-rate = 100

[profiles.typo]
[[profiles.typo.stages]]
until = "2s"
users = 1
spawn-rate = 1
user-classes = ["Gateway", "Raeder"]
"#;

#[tokio::test]
async fn each_stage_runs_only_its_user_classes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", TWO_CLASSES);
    write(dir.path(), "locust.toml", CLASS_STAGES);
    let server = demo().await;
    let url = server.base_url();
    let output = run_in(dir.path(), &["--profile", "switch", "-H", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let spawned: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split("All users spawned: ").nth(1))
        .collect();
    assert_eq!(
        spawned,
        [
            "{\"Gateway\": 0, \"Reader\": 4} (4 total users)",
            "{\"Gateway\": 4, \"Reader\": 0} (4 total users)",
            "{\"Gateway\": 2, \"Reader\": 2} (4 total users)",
        ],
        "{stderr}"
    );

    let output = run_in(dir.path(), &["--profile", "typo", "-H", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "locust.toml:27: key `profiles.typo.stages[0].user-classes`: unknown user class `Raeder` (did you mean `Reader`?)"
        ),
        "{stderr}"
    );
}
