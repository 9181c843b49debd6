//! The open-files limit through the binary, started by a shell that lowered it
//! (`ulimit`): a low soft limit under a higher hard one is raised at start (the DEBUG
//! line says so, and the users get their sockets); a hard limit the users cannot fit in
//! gives one warning before the run, with the numbers and the fix, and the sockets
//! that fail are recorded as failures, not a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;
use std::time::Duration;

use common::*;
use locust_demo_target::DemoConfig;

const SCENARIO: &str = r#"
[users.Idle]
wait_time = "constant(0.5)"
[[users.Idle.tasks]]
name = "health"
request = { path = "/gateway-health" }
"#;

/// Runs the binary under `sh -c "ulimit <limits>; exec ..."` against a demo target.
async fn run_limited(limits: &str, users: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo_with(DemoConfig {
        service_time: Duration::ZERO,
        ..DemoConfig::default()
    })
    .await;
    let script = format!(
        "ulimit {limits} && exec \"$0\" --headless -f s.toml -H {} -u {users} -r 1000 -t 2s \
         --only-summary --loglevel DEBUG",
        server.base_url()
    );
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("sh")
            .args(["-c", &script, BIN])
            .current_dir(dir.path())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the run ends")
    .unwrap();
    let stderr = text(&output.stderr);
    (output, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_soft_limit_is_raised_to_the_hard_one() {
    let (output, stderr) = run_limited("-Sn 256 && ulimit -Hn 4096", "400").await;
    assert!(
        stderr.contains("Raised the open files limit from 256 to 4096 (the hard limit)"),
        "{stderr}"
    );
    assert!(!stderr.contains("Too many open files"), "{stderr}");
    assert!(!stderr.contains("The open files limit is"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_that_cannot_fit_are_warned_about_once_and_fail_as_requests() {
    let (output, stderr) = run_limited("-n 256", "400").await;
    let warning = "The open files limit is 256 (hard limit 256), but 400 users need about 500";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert!(stderr.contains("`ulimit -n 500`"), "{stderr}");
    let warned = stderr.find(warning).unwrap();
    let ramp = stderr.find("Ramping to 400 users").unwrap();
    assert!(warned < ramp, "the warning comes before the run\n{stderr}");
    assert!(stderr.contains("Too many open files"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
}
