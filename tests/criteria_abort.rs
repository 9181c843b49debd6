//! Criteria that abort the run (`... abort [after ...]`, k6's `abortOnFail`): the real
//! binary headless against the demo target on 127.0.0.1 answering every request with a
//! 500. An abort criterion that fails ends a `-t 60s` run long before its limit, as the
//! run time would (final tables, CSV files, reports), with exit code 3 and the verdict
//! naming it; its delay keeps it from aborting early; one that holds lets the run end on
//! time; bad suffixes are configuration errors before any request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::headless::run;
use common::*;
use locust_demo_target::DemoConfig;
use serde_json::Value;

/// Two users, each at most 20 requests a second (a 50 ms wait): at most 2400 requests
/// in a minute, whatever the machine.
const HEALTH: &str = r#"
[users.H]
wait_time = "constant(0.05)"
[[users.H.tasks]]
name = "health"
request = { path = "/health" }
"#;

async fn target(error_rate: f64) -> locust_demo_target::DemoServer {
    demo_with(DemoConfig {
        service_time: Duration::from_millis(1),
        error_rate,
        ..DemoConfig::instant()
    })
    .await
}

fn result(run: &headless::Run) -> Value {
    let json = std::fs::read_to_string(run.dir.path().join("out/result.json"))
        .unwrap_or_else(|e| panic!("no JSON result ({e})\n{}", run.describe()));
    serde_json::from_str(&json).unwrap()
}

fn verdict<'a>(result: &'a Value, criterion: &str) -> &'a Value {
    result["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["criterion"] == criterion)
        .unwrap_or_else(|| panic!("no verdict for {criterion}: {}", result["verdict"]))
}

const REPORTS: [&str; 8] = [
    "-u",
    "2",
    "-r",
    "2",
    "--html",
    "out/report.html",
    "--report-json",
    "out/result.json",
];

#[tokio::test]
async fn a_failing_abort_criterion_ends_a_long_run_early_with_every_output() {
    let server = target(1.0).await;
    let abort = "error_rate < 5% abort after 2s";
    let holds = "p95 < 10s";
    let args = [
        &REPORTS[..],
        &["-t", "60s", "--criterion", abort, "--criterion", holds],
    ]
    .concat();
    let run = run(HEALTH, &server.base_url(), &args).await;
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(3), "{}", run.describe());
    // The abort is logged in Locust's format, then the run ends as a run time would.
    let logged = stderr
        .lines()
        .find(|l| l.contains("Aborting the run"))
        .unwrap_or_else(|| panic!("no abort logged\n{}", run.describe()));
    assert!(
        logged.contains(&format!(
            "ERROR/locust.main: Aborting the run: criterion '{abort}' failed (measured 100 %"
        )),
        "{logged}"
    );
    let at = |text: &str| {
        stderr
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} missing\n{}", run.describe()))
    };
    assert!(at("Response time percentiles") > at("Aborting the run"));
    assert!(
        at("Success criteria: 1 of 2 passed -> FAIL (exit code 3)")
            > at("Response time percentiles")
    );
    assert!(stderr.contains(&format!("The run was aborted by criterion '{abort}'")));
    // Ended long before the minute: far fewer requests than its users could make in it.
    let (requests, failures) = run.totals();
    assert!(requests > 0 && requests == failures, "{}", run.describe());
    assert!(
        requests < 1200,
        "{requests} requests: the run went on\n{}",
        run.describe()
    );
    assert!(run.wall < Duration::from_secs(45), "{}", run.describe());
    // Every CSV file is written, the final row included.
    for suffix in ["stats", "failures", "stats_history", "exceptions"] {
        assert!(
            run.dir.path().join(format!("out_{suffix}.csv")).is_file(),
            "out_{suffix}.csv\n{}",
            run.describe()
        );
    }
    // The reports say why it ended and which criterion did it.
    let result = result(&run);
    assert_eq!(result["run"]["stop_reason"], "aborted");
    assert_eq!(result["run"]["aborted_by"], abort);
    assert_eq!(result["verdict"]["status"], "fail");
    assert_eq!(result["verdict"]["exit_code"], 3);
    let aborted = verdict(&result, abort);
    assert_eq!(aborted["passed"], false);
    assert_eq!(aborted["aborted"], true);
    let detail = aborted["detail"].as_str().unwrap();
    let seconds: u64 = detail
        .strip_prefix("aborted the run ")
        .and_then(|d| d.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{detail}"));
    assert!(seconds >= 2, "judged before its delay: {detail}");
    assert_eq!(verdict(&result, holds)["passed"], true);
    assert_eq!(verdict(&result, holds)["aborted"], false);
    let total = result["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Aggregated")
        .unwrap();
    assert_eq!(
        total["num_requests"], requests,
        "the CSV and the report agree"
    );
    let html = std::fs::read_to_string(run.dir.path().join("out/report.html")).unwrap();
    assert!(html.contains("id=\"aborted\""), "no abort banner");
}

#[tokio::test]
async fn a_delay_not_yet_over_keeps_a_failing_criterion_from_aborting() {
    let server = target(1.0).await;
    let by_time = "error_rate < 5% abort after 10m";
    let by_count = "failures == 0 abort after 1000000 requests";
    let args = [
        &REPORTS[..],
        &["-t", "3s", "--criterion", by_time, "--criterion", by_count],
    ]
    .concat();
    let run = run(HEALTH, &server.base_url(), &args).await;
    assert_eq!(run.code, Some(3), "failed at the end\n{}", run.describe());
    assert!(
        !run.stderr.contains("Aborting the run"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr.contains("--run-time limit reached"),
        "{}",
        run.describe()
    );
    let result = result(&run);
    assert_eq!(result["run"]["stop_reason"], "run-time");
    assert_eq!(result["run"]["aborted_by"], Value::Null);
    for c in [by_time, by_count] {
        assert_eq!(verdict(&result, c)["passed"], false, "{c}");
        assert_eq!(verdict(&result, c)["aborted"], false, "{c}");
    }
    assert!(run.totals().0 > 0, "{}", run.describe());
}

#[tokio::test]
async fn abort_criteria_that_hold_let_the_run_end_on_time_with_exit_0() {
    let server = target(0.0).await;
    let criteria = [
        "error_rate < 5% abort",
        "failures == 0 abort",
        "p95 < 10s abort after 1s",
    ];
    let mut args = [&REPORTS[..], &["-t", "3s"]].concat();
    for c in criteria {
        args.extend(["--criterion", c]);
    }
    let run = run(HEALTH, &server.base_url(), &args).await;
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        !run.stderr.contains("Aborting the run"),
        "{}",
        run.describe()
    );
    let result = result(&run);
    assert_eq!(result["run"]["stop_reason"], "run-time");
    for c in criteria {
        assert_eq!(verdict(&result, c)["passed"], true, "{c}");
    }
    assert!(run.totals().0 > 0, "{}", run.describe());
}

#[tokio::test]
async fn bad_abort_suffixes_are_config_errors_before_any_request() {
    let server = target(1.0).await;
    let url = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", HEALTH);
    let output = run_headless(
        dir.path(),
        "s.toml",
        &url,
        &[
            "-t",
            "5s",
            "--criterion",
            "p95 < 500",
            "--criterion",
            "error_rate < 5% abort now",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "--criterion: key `criteria[1]`: criterion \"error_rate < 5% abort now\": unexpected `now` after `abort`"
        ),
        "{stderr}"
    );
    write(
        dir.path(),
        "locust.toml",
        "[tool.locust]\nlocustfile = \"s.toml\"\nheadless = true\n\n[profiles.ci]\nrun-time = \"5s\"\ncriteria = [\n  \"error_rate < 5% abort after 10\",\n  \"requests > 100 abort\",\n]\n\n[profiles.grows]\nrun-time = \"5s\"\ncriteria = [\"requests > 100 abort\"]\n",
    );
    let output = run_in(dir.path(), &["--profile", "ci", "-H", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("locust.toml:8: key `criteria[0]`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("needs a unit: `10s` or `10 requests`"),
        "{stderr}"
    );
    let output = run_in(dir.path(), &["--profile", "grows", "-H", &url]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("locust.toml:14: key `criteria[0]`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("requests only grows during a run"),
        "{stderr}"
    );
    assert_eq!(server.counters().total, 0, "nothing may be sent");
}

#[tokio::test]
async fn the_web_uis_test_is_aborted_too_and_the_process_exits_3() {
    let server = target(1.0).await;
    let url = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", HEALTH);
    let abort = "failures == 0 abort";
    let args = [
        "-f",
        "s.toml",
        "-H",
        &url,
        "--autostart",
        "-u",
        "2",
        "-r",
        "2",
        "-t",
        "60s",
        "--autoquit",
        "0",
        "--csv",
        "out",
        "--criterion",
        abort,
    ];
    let mut ui = common::web::WebUi::start(dir.path(), &args).await;
    let code = ui.wait().await;
    let stderr = ui.stderr();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("Aborting the run: criterion '{abort}' failed")),
        "{stderr}"
    );
    assert!(!stderr.contains("--run-time limit reached"), "{stderr}");
    assert!(stderr.contains("Response time percentiles"), "{stderr}");
    assert!(
        stderr.contains(&format!("The run was aborted by criterion '{abort}'")),
        "{stderr}"
    );
    let rows = csv_rows(&dir.path().join("out_stats.csv"));
    let total = rows.last().unwrap();
    assert_eq!(total[1], "Aggregated", "{rows:?}");
    let requests: u64 = total[2].parse().unwrap();
    assert!(
        requests > 0 && requests < 1200,
        "{requests} requests\n{stderr}"
    );
}
