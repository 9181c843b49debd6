//! `-t/--run-time` ends a run on time with hundreds of users under load: users asleep in
//! a long wait and users waiting for a slow answer are stopped at the limit, not when
//! their wait or request ends. The real binary against the demo target on 127.0.0.1;
//! the bounds leave room for a slow machine but not for a user finishing its wait.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use chrono::TimeZone;
use common::*;
use locust_demo_target::DemoConfig;

const RUN_TIME: f64 = 3.0;

/// A minute: what a user would still wait or be waited for if stopping were broken.
const LONG: Duration = Duration::from_secs(60);

const MIX: &str = r#"
# The load: short waits on a route the demo target answers at once.
[users.Busy]
weight = 2
wait_time = "constant(0.1)"
[[users.Busy.tasks]]
name = "gateway"
request = { path = "/gateway-health" }

# Asleep at the limit: one request at the start, the next one a minute later.
[users.Sleepy]
wait_time = "constant_pacing(60)"
[[users.Sleepy.tasks]]
name = "gateway"
request = { path = "/gateway-health", name = "sleepy" }

# In the middle of a request at the limit: every app answer takes a minute.
[users.Slow]
[[users.Slow.tasks]]
name = "health"
request = { path = "/health" }
"#;

/// Epoch seconds of the first log line containing `message`.
fn logged_at(stderr: &str, message: &str) -> f64 {
    let line = stderr
        .lines()
        .find(|l| l.contains(message))
        .unwrap_or_else(|| panic!("{message:?} is not logged:\n{stderr}"));
    let stamp = line
        .strip_prefix('[')
        .and_then(|l| l.split_once(']'))
        .map(|(stamp, _)| stamp)
        .unwrap();
    let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S,%3f").unwrap();
    let local = chrono::Local
        .from_local_datetime(&naive)
        .earliest()
        .unwrap();
    local.timestamp_millis() as f64 / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_time_stops_sleeping_and_waiting_users_on_time() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mix.toml", MIX);
    let server = demo_with(DemoConfig {
        service_time: LONG,
        ..DemoConfig::instant()
    })
    .await;
    let started = Instant::now();
    let output = run_headless(
        dir.path(),
        "mix.toml",
        &server.base_url(),
        &[
            "-u",
            "500",
            "-r",
            "500",
            "-t",
            "3s",
            "--json",
            "--only-summary",
        ],
    )
    .await;
    let wall = started.elapsed().as_secs_f64();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(r#"All users spawned: {"Busy": 250, "Sleepy": 125, "Slow": 125}"#),
        "{stderr}"
    );

    let limit_set = logged_at(&stderr, "Run time limit set to 3 seconds");
    let limit_reached = logged_at(&stderr, "--run-time limit reached, shutting down");
    let shutting_down = logged_at(&stderr, "Shutting down (exit code 0)");
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    let count = |name: &str| {
        entries
            .iter()
            .find(|e| e["name"] == name)
            .map_or(0, |e| e["num_requests"].as_u64().unwrap())
    };
    let last_request = entries
        .iter()
        .filter_map(|e| e["last_request_timestamp"].as_f64())
        .fold(f64::MIN, f64::max);
    eprintln!(
        "limit reached after {:.3} s, stopped {:.3} s later, last request at {:.3} s, \
         process {wall:.3} s, {} requests",
        limit_reached - limit_set,
        shutting_down - limit_reached,
        last_request - limit_set,
        count("/gateway-health"),
    );

    // Every sleepy user sent its one request and was asleep at the limit; every slow
    // one was still waiting for its answer (none is counted).
    assert_eq!(count("sleepy"), 125);
    assert_eq!(count("/health"), 0);
    assert!(count("/gateway-health") > 1000, "too little load to tell");
    // Stopping waits for no sleep and for no answer beyond a short grace: a second
    // here is ten times what it takes, and a minute short of a broken stop.
    assert!(
        shutting_down - limit_reached < 1.0,
        "stopping took {:.3} s",
        shutting_down - limit_reached
    );
    assert!(
        last_request <= limit_set + RUN_TIME + 0.5,
        "a request ended {:.3} s after the start",
        last_request - limit_set
    );
    assert!(
        wall < RUN_TIME + 2.0,
        "the process took {wall:.3} s for a {RUN_TIME} s run"
    );
}
