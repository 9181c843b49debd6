//! Headless runs of the real binary against the demo target on 127.0.0.1: nothing
//! lost or counted twice, Locust's exact headers, the exit codes, extraction flows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::*;
use locust_demo_target::{DemoConfig, DemoServer};

const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n";
const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size\r\n";
const TABLE_HEADER: &str = "Type     Name                                                                          # reqs      # fails |    Avg     Min     Max    Med |   req/s  failures/s";
const TABLE_SEPARATOR: &str = "--------|----------------------------------------------------------------------------|-------|-------------|-------|-------|-------|-------|--------|-----------";
const PERCENTILE_HEADER: &str = "Type     Name                                                                                  50%    66%    75%    80%    90%    95%    98%    99%  99.9% 99.99%   100% # reqs";

const CRUD: &str = r#"
[users.Crud]
wait_time = "constant(0.01)"

[[users.Crud.on_start]]
method = "GET"
path = "/gateway-health"

[[users.Crud.tasks]]
name = "create"
weight = 1
request = { method = "POST", path = "/users", name = "/users [create]", json = { name = "u{{ uuid() }}", email = "{{ uuid() }}@example.com" }, success_status = [201], extract = [{ var = "ids", json = "/id", append = true }] }

[[users.Crud.tasks]]
name = "read"
weight = 3
request = { method = "GET", path = "/users/{{ ids | random }}", name = "/users/[id]" }

[[users.Crud.tasks]]
name = "health"
weight = 1
request = { method = "GET", path = "/health" }
"#;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A temp folder holding `crud.toml` ([`CRUD`]).
fn crud_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "crud.toml", CRUD);
    dir
}

/// `crud.toml` run headless with `args` against a fresh demo target: (its folder, the
/// target, the output).
async fn crud_run(args: &[&str]) -> (tempfile::TempDir, DemoServer, Output) {
    let dir = crud_dir();
    let server = demo().await;
    let output = run_headless(dir.path(), "crud.toml", &server.base_url(), args).await;
    (dir, server, output)
}

#[tokio::test]
async fn request_counts_match_what_the_target_served() {
    let (dir, server, output) =
        crud_run(&["-u", "5", "-r", "5", "-t", "3s", "--csv", "out/run"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    let stats_text = read(&dir.path().join("out/run_stats.csv"));
    assert!(stats_text.starts_with(STATS_HEADER), "{stats_text}");
    let rows = csv_rows(&dir.path().join("out/run_stats.csv"));
    let aggregated = rows.last().unwrap();
    assert_eq!(aggregated[1], "Aggregated");
    let total: u64 = aggregated[2].parse().unwrap();
    let served = server.counters().total;
    assert_eq!(
        total, served,
        "the CSV counted {total}, the target served {served}"
    );
    let sum: u64 = rows[1..rows.len() - 1]
        .iter()
        .map(|r| r[2].parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, total, "rows add up to the Aggregated row");
    assert_eq!(aggregated[3], "0", "no failures expected: {stderr}");
    // The create-then-read flow used ids it extracted: reads happened, none missed.
    let counters = server.counters();
    assert!(counters.route("GET /users/{id}") > 0, "{counters:?}");
    assert_eq!(counters.status(404), 0, "{counters:?}");
    assert!(rows.iter().any(|r| r[1] == "/users/[id]"));

    assert!(read(&dir.path().join("out/run_stats_history.csv")).starts_with(HISTORY_HEADER));
    assert_eq!(
        read(&dir.path().join("out/run_failures.csv")),
        "Method,Name,Error,Occurrences,First Seen,Last Seen\r\n"
    );
    assert_eq!(
        read(&dir.path().join("out/run_exceptions.csv")),
        "Count,Message,Traceback,Nodes\r\n"
    );

    assert!(stderr.contains(TABLE_HEADER), "{stderr}");
    assert!(stderr.contains(TABLE_SEPARATOR), "{stderr}");
    assert!(
        stderr.contains("Response time percentiles (approximated)"),
        "{stderr}"
    );
    assert!(stderr.contains(PERCENTILE_HEADER), "{stderr}");
    assert!(
        stderr.contains("All users spawned: {\"Crud\": 5} (5 total users)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--run-time limit reached, shutting down"),
        "{stderr}"
    );
    assert!(stderr.contains("Shutting down (exit code 0)"), "{stderr}");
}

#[tokio::test]
async fn server_errors_are_failures_with_locust_error_strings() {
    let dir = crud_dir();
    let server = demo_with(DemoConfig {
        error_rate: 1.0,
        ..DemoConfig::instant()
    })
    .await;
    let url = server.base_url();
    let base = ["-u", "2", "-r", "2", "-t", "2s"];
    let output = run_headless(
        dir.path(),
        "crud.toml",
        &url,
        &[&base[..], &["--csv", "fail"]].concat(),
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let failures = read(&dir.path().join("fail_failures.csv"));
    assert!(
        failures.contains(
            "GET,/health,HTTPError('500 Server Error: Internal Server Error for url: /health')"
        ),
        "{failures}"
    );
    assert!(stderr.contains("Error report"), "{stderr}");

    let custom = run_headless(
        dir.path(),
        "crud.toml",
        &url,
        &[&base[..], &["--exit-code-on-error", "7"]].concat(),
    )
    .await;
    assert_eq!(custom.status.code(), Some(7));
}

#[tokio::test]
async fn a_target_that_goes_away_mid_run_is_a_failure_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "h.toml",
        "[users.H]\nwait_time = \"constant(0.05)\"\n[[users.H.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n",
    );
    let server = demo().await;
    let host = server.base_url();
    let run = tokio::spawn({
        let dir = dir.path().to_path_buf();
        async move {
            run_headless(
                &dir,
                "h.toml",
                &host,
                &["-u", "2", "-r", "2", "-t", "4s", "--csv", "down"],
            )
            .await
        }
    });
    // Let the run get going, then take the target away.
    for _ in 0..100 {
        if server.counters().total >= 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(server.counters().total >= 10, "the run never got going");
    server.shutdown().await;
    let output = run.await.unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let failures = read(&dir.path().join("down_failures.csv"));
    assert!(
        failures.contains("\"ConnectionRefusedError(111, 'Connection refused')\""),
        "{failures}"
    );
}

#[tokio::test]
async fn an_unreachable_target_at_start_exits_4_without_running() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "h.toml",
        "[users.H]\n[[users.H.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n",
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let output = run_headless(
        dir.path(),
        "h.toml",
        &host,
        &["-t", "5s", "--csv", "down", "--html", "r.html"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("locust-rs: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(&format!(
            "the target {host} is not reachable (connection refused"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("Ramping"), "no user may start: {stderr}");
    assert!(!dir.path().join("down_stats.csv").exists());
    assert!(!dir.path().join("r.html").exists());
}

#[tokio::test]
async fn json_output_and_list_and_task_ratio() {
    let (dir, server, output) = crud_run(&["-u", "1", "-t", "1s", "--json"]).await;
    let stdout = text(&output.stdout);
    let entries: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    let served: u64 = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["num_requests"].as_u64().unwrap())
        .sum();
    assert_eq!(served, server.counters().total);

    let list = run_in(dir.path(), &["-f", "crud.toml", "--list"]).await;
    assert_eq!(text(&list.stdout), "Available Users:\n    Crud\n");
    let ratio = run_in(dir.path(), &["-f", "crud.toml", "--show-task-ratio"]).await;
    let ratio = text(&ratio.stdout);
    assert!(ratio.contains(" Task ratio per User class"), "{ratio}");
    assert!(ratio.contains("60.0"), "read has weight 3 of 5: {ratio}");
}

#[tokio::test]
async fn iterations_stop_the_run() {
    let (_dir, server, output) = crud_run(&["-u", "2", "-r", "2", "-i", "20", "-t", "60s"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // locust-plugins logs both lines with Python's root logger.
    assert!(
        stderr.contains("/INFO/root: Iteration limit reached (20), stopping Users at the start of their next task run"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/INFO/root: Last user stopped, quitting runner"),
        "{stderr}"
    );
    // 2 on_start requests + at most 20 task requests (skipped reads send nothing).
    let served = server.counters().total;
    assert!(served <= 22 && served > 2, "served {served}");
}

#[tokio::test]
async fn environment_variables_and_logfile_work_like_locust() {
    let dir = crud_dir();
    let server = demo().await;
    let url = server.base_url();
    let env = [
        ("LOCUST_LOCUSTFILE", "crud.toml"),
        ("LOCUST_HOST", url.as_str()),
        ("LOCUST_USERS", "3"),
        ("LOCUST_SPAWN_RATE", "3"),
        ("LOCUST_RUN_TIME", "1s"),
        ("LOCUST_HEADLESS", "true"),
    ];
    let output = run_with_env(dir.path(), &["--logfile", "logs/run.log"], &env).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // Log lines go to the file; the stats tables stay on stderr, as in Locust.
    let log = read(&dir.path().join("logs/run.log"));
    assert!(
        log.contains("/INFO/locust.runners: All users spawned: {\"Crud\": 3} (3 total users)"),
        "{log}"
    );
    assert!(!stderr.contains("All users spawned"), "{stderr}");
    assert!(stderr.contains(TABLE_HEADER), "{stderr}");
    // The command line beats the environment.
    let cli_wins = run_with_env(dir.path(), &["-u", "2", "--only-summary"], &env).await;
    let stderr = text(&cli_wins.stderr);
    assert!(stderr.contains("(2 total users)"), "{stderr}");
    assert_eq!(
        stderr.matches(TABLE_HEADER).count(),
        1,
        "--only-summary: one final table: {stderr}"
    );
}

#[tokio::test]
async fn full_history_writes_a_row_per_entry() {
    let (dir, _server, output) = crud_run(&[
        "-u",
        "2",
        "-r",
        "2",
        "-t",
        "3s",
        "--csv",
        "h",
        "--csv-full-history",
        "--only-summary",
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let rows = csv_rows(&dir.path().join("h_stats_history.csv"));
    assert!(
        rows.iter().any(|r| r[3] == "/health" && r[2] == "GET"),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r[3] == "Aggregated" && r[2].is_empty()));
    // Every pass ends with its Aggregated row.
    assert_eq!(rows.last().unwrap()[3], "Aggregated");
}

#[tokio::test]
async fn a_ramps_history_counts_every_spawn_step() {
    // 10 users a second to 50: a step every second, as the history ticks. Each row
    // must hold the step of its own second, never the one before or two at once.
    let (dir, _server, output) =
        crud_run(&["-u", "50", "-r", "10", "-t", "7s", "--csv", "ramp"]).await;
    assert!(
        output.status.success() || output.status.code() == Some(1),
        "{output:?}"
    );
    let history = read(&dir.path().join("ramp_stats_history.csv"));
    let counts: Vec<u64> = history
        .lines()
        .skip(1)
        .filter(|row| row.contains(",Aggregated,"))
        .map(|row| row.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    // Rows before the ramp began read 0, and so does the row written after the stop.
    let counts = &counts[counts.iter().position(|&c| c > 0).unwrap()..counts.len() - 1];
    let ramp: Vec<u64> = counts.iter().copied().take_while(|&c| c < 50).collect();
    assert_eq!(ramp[0], 10, "{counts:?}");
    assert!(
        ramp.windows(2).all(|w| w[1] == w[0] + 10),
        "the ramp's rows skip or repeat a step: {counts:?}"
    );
    assert!(ramp.len() >= 3, "{counts:?}");
    assert!(counts[ramp.len()..].iter().all(|&c| c == 50), "{counts:?}");
}
