//! `all` end to end: a profile whose `phases` run four short profiles in sequence, each
//! with its own CSV/HTML/JSON outputs and verdict, an index linking them, and the worst
//! exit code; a phase that does not exist is refused before any request.
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

/// Four tiny phases (1-2 s each); `stress_criterion` decides stress's verdict.
fn project(stress_criterion: &str) -> String {
    format!(
        r#"
[tool.locust]
locustfile = "s.toml"
headless = true

[profiles.basic]
users = 2
spawn-rate = 10
run-time = "1s"
criteria = ["error_rate == 0"]

[profiles.stress]
users = 3
spawn-rate = 10
run-time = "1s"
criteria = ["{stress_criterion}"]

[profiles.cache]
users = 1
run-time = "1s"

[profiles.spike]
[[profiles.spike.stages]]
duration = "1s"
users = 1
spawn-rate = 10
[[profiles.spike.stages]]
duration = "1s"
users = 3
spawn-rate = 10

[profiles.all]
description = "everything"
phases = ["basic", "stress", "cache", "spike"]
"#
    )
}

async fn run_all(criterion: &str) -> (tempfile::TempDir, i32, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "locust.toml", &project(criterion));
    let server = demo().await;
    let output = run_in(
        dir.path(),
        &[
            "--profile",
            "all",
            "-H",
            &server.base_url(),
            "--csv",
            "r/all",
            "--html",
            "r/all.html",
            "--report-json",
            "r/all.json",
        ],
    )
    .await;
    assert!(server.counters().total > 0);
    let stderr = text(&output.stderr);
    (dir, output.status.code().unwrap_or(-1), stderr)
}

#[tokio::test]
async fn four_phase_reports_and_an_index() {
    let (dir, code, stderr) = run_all("error_rate < 1%").await;
    assert_eq!(code, 0, "{stderr}");
    let reports = dir.path().join("r");
    let index = std::fs::read_to_string(reports.join("all.html")).unwrap();
    for phase in ["basic", "stress", "cache", "spike"] {
        for suffix in [".html", ".json", "_stats.csv", "_stats_history.csv"] {
            let file = reports.join(format!("all_{phase}{suffix}"));
            assert!(file.is_file(), "{} missing; {stderr}", file.display());
        }
        assert!(
            index.contains(&format!("href=\"all_{phase}.html\"")),
            "{index}"
        );
    }
    assert!(stderr.contains("Phase 1/4: basic"), "{stderr}");
    assert!(stderr.contains("Phase 4/4: spike"), "{stderr}");
    assert!(
        stderr.contains("Shape test completed, shutting down"),
        "{stderr}"
    );
    assert!(index.contains("Overall: <strong>PASS</strong>"), "{index}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("all.json")).unwrap()).unwrap();
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["phases"].as_array().unwrap().len(), 4);
    assert!(
        json["phases"][0]["requests"].as_u64().unwrap() > 0,
        "{json}"
    );
}

#[tokio::test]
async fn one_failing_phase_fails_the_run() {
    let (dir, code, stderr) = run_all("error_rate > 50%").await;
    assert_eq!(code, 3, "{stderr}");
    // The later phases still ran and wrote their reports.
    assert!(dir.path().join("r/all_spike.html").is_file(), "{stderr}");
    let index = std::fs::read_to_string(dir.path().join("r/all.html")).unwrap();
    assert!(index.contains("Overall: <strong>FAIL</strong>"), "{index}");
    assert!(
        index.contains("<tr class=\"fail\"><td>stress</td>"),
        "{index}"
    );
}

#[tokio::test]
async fn sigterm_in_a_phase_skips_the_rest_and_still_writes_the_index() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "locust.toml", &project("error_rate < 1%"));
    let server = demo().await;
    let child = spawn_in(
        dir.path(),
        &[
            "--profile",
            "all",
            "-H",
            &server.base_url(),
            "-t",
            "60s",
            "--html",
            "r/all.html",
        ],
    );
    let pid = child.id().unwrap().to_string();
    wait_served(&server, 5).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the run stops after the signal")
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("the remaining phases are skipped"),
        "{stderr}"
    );
    assert!(!stderr.contains("Phase 2/4"), "{stderr}");
    let index = std::fs::read_to_string(dir.path().join("r/all.html")).unwrap();
    assert!(index.contains("all_basic.html"), "{index}");
    assert!(!index.contains("all_stress.html"), "{index}");
}
