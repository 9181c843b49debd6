//! The open model (`--arrival-rate`, `--max-pool`) end to end against the demo target:
//! the rate holds while the target stalls mid-run, the latency from the intended start
//! shows the stall that the time from the actual send hides, and bad input exits 2
//! before any request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use locust_demo_target::DemoConfig;

const SCENARIO: &str = r#"
[users.Reader]
wait_time = "constant(0)"

[[users.Reader.tasks]]
name = "health"
request = { method = "GET", path = "/health" }
"#;

fn aggregated(path: &std::path::Path, column: &str) -> f64 {
    let rows = csv_rows(path);
    let index = rows[0].iter().position(|h| h == column).unwrap();
    let row = rows
        .iter()
        .find(|r| r.iter().any(|c| c == "Aggregated"))
        .unwrap();
    row[index].parse().unwrap()
}

#[tokio::test]
async fn the_rate_holds_while_the_target_stalls_and_the_corrected_latency_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo_with(DemoConfig {
        service_time: Duration::from_millis(5),
        concurrency: Some(50),
        ..DemoConfig::instant()
    })
    .await;
    let url = server.base_url();
    let state = server.state().clone();
    // 50 iterations/s for 6 s from at most 10 users; from 2 s to 3 s every answer takes
    // 300 ms, so 10 users serve only ~33/s: starts wait for a free user (late).
    let stall = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2000)).await;
        state.set_service_time(Duration::from_millis(300));
        tokio::time::sleep(Duration::from_millis(1000)).await;
        state.set_service_time(Duration::from_millis(5));
    });
    let output = run_headless(
        dir.path(),
        "s.toml",
        &url,
        &[
            "--arrival-rate",
            "50",
            "--max-pool",
            "10",
            "-t",
            "6s",
            "--csv",
            "out",
            "--only-summary",
        ],
    )
    .await;
    stall.await.unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Arrival schedule completed"), "{stderr}");
    assert!(
        stderr.contains(
            "Response times from the intended start (corrected for coordinated omission)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("300 started"), "{stderr}");
    assert!(stderr.contains(" 0 dropped"), "{stderr}");
    assert!(
        stderr.contains("the pool of 10 users was exhausted"),
        "{stderr}"
    );

    let stats = dir.path().join("out_stats.csv");
    let corrected = dir.path().join("out_stats_corrected.csv");
    let served = aggregated(&stats, "Request Count");
    assert!(
        (served - 300.0).abs() <= 6.0,
        "served {served}, expected 300 ± 2 %"
    );
    assert_eq!(aggregated(&corrected, "Request Count"), served);
    let (p95, p95_corrected) = (aggregated(&stats, "95%"), aggregated(&corrected, "95%"));
    let max = aggregated(&stats, "Max Response Time");
    let max_corrected = aggregated(&corrected, "Max Response Time");
    assert!(max >= 250.0, "the stall shows in the send time too: {max}");
    assert!(
        max_corrected >= max + 150.0,
        "corrected max {max_corrected} vs {max}"
    );
    assert!(
        p95_corrected >= p95 + 100.0,
        "corrected p95 {p95_corrected} vs {p95}"
    );
    assert_eq!(server.counters().total, served as u64);
    // The user-count column shows the pool (the stall made it grow to its limit).
    let history = csv_rows(&dir.path().join("out_stats_history.csv"));
    let column = history[0].iter().position(|c| c == "User Count").unwrap();
    let peak = history[1..]
        .iter()
        .map(|row| row[column].parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(peak, 10, "the pool's users appear in the history");
}

#[tokio::test]
async fn iterations_end_an_open_model_run_early() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo().await;
    let started = std::time::Instant::now();
    let output = run_headless(
        dir.path(),
        "s.toml",
        &server.base_url(),
        &[
            "--arrival-rate",
            "50",
            "-t",
            "60s",
            "-i",
            "25",
            "--only-summary",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(server.counters().total, 25, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "-i ends the run long before -t 60s: {stderr}"
    );
}

#[tokio::test]
async fn iterations_stuck_at_the_end_are_stopped_as_stop_timeout_says() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    // Every answer takes 40 s: without a stop, the run would wait for them.
    let server = demo_with(DemoConfig {
        service_time: Duration::from_secs(40),
        ..DemoConfig::instant()
    })
    .await;
    let started = std::time::Instant::now();
    let output = run_headless(
        dir.path(),
        "s.toml",
        &server.base_url(),
        &[
            "--arrival-rate",
            "5",
            "-t",
            "2s",
            "-s",
            "1",
            "--only-summary",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "2 s schedule + 1 s stop timeout, not the 40 s answers: took {took:?}; {stderr}"
    );
    assert!(stderr.contains("Arrival schedule completed"), "{stderr}");
}

#[tokio::test]
async fn criteria_can_judge_the_corrected_latency() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo().await;
    let url = server.base_url();
    let output = run_headless(
        dir.path(),
        "s.toml",
        &url,
        &[
            "--arrival-rate",
            "20",
            "-t",
            "2s",
            "--only-summary",
            "--criterion",
            "corrected.p95 < 10s",
            "--criterion",
            "corrected.max < 0.001",
            "--report-json",
            "r.json",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let verdicts = result["verdict"]["criteria"].as_array().unwrap();
    assert_eq!(verdicts[0]["passed"], true, "{verdicts:?}");
    assert_eq!(verdicts[1]["passed"], false, "{verdicts:?}");
    assert!(verdicts[0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("from the intended start"));

    // In a closed run there is no corrected latency: a configuration error, before any
    // request.
    let output = run_headless(
        dir.path(),
        "s.toml",
        &url,
        &["-t", "2s", "--criterion", "corrected.p95 < 500"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exist only in open-model runs"), "{stderr}");
}

#[tokio::test]
async fn bad_open_model_input_exits_2_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo().await;
    let url = server.base_url();
    for (args, needle) in [
        (vec!["--arrival-rate", "-5", "-t", "2s"], "--arrival-rate"),
        (
            vec!["--arrival-rate", "10", "--max-pool", "0", "-t", "2s"],
            "at least 1 user",
        ),
        (vec!["--arrival-rate", "10"], "needs -t/--run-time"),
        (
            vec!["--max-pool", "5", "-t", "2s"],
            "only applies with --arrival-rate",
        ),
    ] {
        let output = run_headless(dir.path(), "s.toml", &url, &args).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    for (profile, line, key) in [
        (
            "arrival-rate = 10\nmax-pool = 0\n",
            "locust.toml:8",
            "max-pool",
        ),
        ("arrival-rate = -1\n", "locust.toml:7", "arrival-rate"),
    ] {
        let project = "[tool.locust]\nlocustfile = \"s.toml\"\nheadless = true\n\n[profiles.open]\nrun-time = \"2s\"\n";
        write(dir.path(), "locust.toml", &format!("{project}{profile}"));
        let output = run_in(dir.path(), &["--profile", "open", "-H", &url]).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(line), "{stderr}");
        assert!(stderr.contains(key), "{stderr}");
    }
    assert_eq!(server.counters().total, 0);
}

#[tokio::test]
async fn a_ramping_profile_follows_its_arrival_stages() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    // 0 -> 20/s over 1 s (10 starts), then 20/s for 1 s (20 starts).
    write(
        dir.path(),
        "locust.toml",
        "[tool.locust]\nlocustfile = \"s.toml\"\nheadless = true\n\n[profiles.ramp]\nmax-pool = 5\n[[profiles.ramp.arrival]]\nduration = \"1s\"\ntarget = 20\n[[profiles.ramp.arrival]]\nduration = \"1s\"\ntarget = 20\n",
    );
    let server = demo().await;
    let url = server.base_url();
    let output = run_in(
        dir.path(),
        &[
            "--profile",
            "ramp",
            "-H",
            &url,
            "--report-json",
            "r.json",
            "--html",
            "r.html",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("30 started, 0 started late, 0 dropped"),
        "{stderr}"
    );
    assert_eq!(server.counters().total, 30);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let open = &doc["open_model"];
    assert_eq!(open["started"], 30);
    assert_eq!(open["dropped"], 0);
    assert_eq!(open["max_pool"], 5);
    let rows = open["corrected_requests"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["num_requests"], 30);
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("Open model: response times from the intended start (corrected)"));
    assert!(html.contains("30 started, 0 started late, 0 dropped"));
}

#[tokio::test]
async fn bad_arrival_stages_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo().await;
    let url = server.base_url();
    for (stage, line, needle) in [
        (
            "duration = \"1s\"\ntarget = -3\n",
            7,
            "profiles.ramp.arrival[0].target",
        ),
        (
            "duration = \"0s\"\ntarget = 3\n",
            6,
            "profiles.ramp.arrival[0].duration",
        ),
        ("target = 3\n", 5, "needs `duration`"),
        (
            "duration = \"1s\"\nrate = 3\n",
            7,
            "profiles.ramp.arrival[0].rate",
        ),
    ] {
        write(
            dir.path(),
            "locust.toml",
            &format!("[tool.locust]\nlocustfile = \"s.toml\"\nheadless = true\n\n[[profiles.ramp.arrival]]\n{stage}"),
        );
        let output = run_in(dir.path(), &["--profile", "ramp", "-H", &url]).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stage}: {stderr}");
        assert!(
            stderr.contains(&format!("locust.toml:{line}")),
            "{stage}: {stderr}"
        );
        assert!(stderr.contains(needle), "{stage}: {stderr}");
    }
    assert_eq!(server.counters().total, 0);
}

#[tokio::test]
async fn dropped_starts_are_failures_of_the_corrected_view() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    // Every answer takes 1 s and the pool holds 4 users: at 40 starts/s most starts
    // find the pool full and the backlog of waiting starts too, and are dropped.
    let server = demo_with(DemoConfig {
        service_time: Duration::from_millis(1000),
        ..DemoConfig::instant()
    })
    .await;
    let output = run_headless(
        dir.path(),
        "s.toml",
        &server.base_url(),
        &[
            "--arrival-rate",
            "40",
            "--max-pool",
            "4",
            "-t",
            "3s",
            "--csv",
            "out",
            "--report-json",
            "out.json",
            "--criterion",
            "error_rate == 0%",
            "--criterion",
            "corrected.error_rate < 1%",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    // The ordinary view had no failure; the corrected one fails on the dropped starts.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.json")).unwrap())
            .unwrap();
    let criteria = json["verdict"]["criteria"].as_array().unwrap();
    assert_eq!(criteria[0]["passed"], true, "{criteria:?}");
    assert_eq!(criteria[1]["passed"], false, "{criteria:?}");
    let open = &json["open_model"];
    let (started, dropped) = (
        open["started"].as_u64().unwrap(),
        open["dropped"].as_u64().unwrap(),
    );
    assert!(dropped > 0, "{open}");
    assert_eq!(open["intended"].as_u64().unwrap(), started + dropped);
    let coverage = format!(
        "The corrected table covers all {} intended starts: {started} ran",
        started + dropped
    );
    assert!(
        open["coverage"].as_str().unwrap().starts_with(&coverage),
        "{open}"
    );
    assert!(stderr.contains(&coverage), "{stderr}");
    assert!(
        stderr.contains("DroppedStart('all 4 users of the pool were busy"),
        "{stderr}"
    );

    let rows = csv_rows(&dir.path().join("out_stats_corrected.csv"));
    let row = rows
        .iter()
        .find(|r| r[0] == "ITERATION" && r[1] == "dropped start")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(row[2], dropped.to_string(), "Request Count");
    assert_eq!(row[3], dropped.to_string(), "Failure Count");
    let served = aggregated(&dir.path().join("out_stats.csv"), "Request Count");
    let corrected = dir.path().join("out_stats_corrected.csv");
    assert_eq!(
        aggregated(&corrected, "Request Count"),
        served + dropped as f64
    );
    assert_eq!(aggregated(&corrected, "Failure Count"), dropped as f64);
    let ordinary = std::fs::read_to_string(dir.path().join("out_stats.csv")).unwrap();
    assert!(!ordinary.contains("dropped start"), "{ordinary}");
}
