//! Regression guard for the hot path: memory must not grow with the number of requests
//! (no sample lists, no message queued per request). Measured by request counts served,
//! not by wall-clock time, so a slow machine only makes it take longer. The baseline is
//! taken once the per-second snapshot ring (20 one-second snapshots) is full.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;

const FAST: &str = "[users.Fast]\nwait_time = \"constant(0)\"\n[[users.Fast.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n";

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_flat_over_four_hundred_thousand_requests() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fast.toml", FAST);
    let server = demo().await;
    let child = spawn_in(
        dir.path(),
        &[
            "--headless",
            "-f",
            "fast.toml",
            "-H",
            &server.base_url(),
            "-u",
            "16",
            "-r",
            "16",
            "-t",
            "300s",
            "--only-summary",
            "--csv",
            "m",
        ],
    );
    let pid = child.id().unwrap();
    // Warm-up: 22 history rows written means 22 one-second passes, the ring is full.
    let history = dir.path().join("m_stats_history.csv");
    for _ in 0..3000 {
        let rows = std::fs::read_to_string(&history).map_or(0, |h| h.lines().count());
        if rows >= 23 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Two stretches of 200,000 requests: a leak grows in both, while a one-off step of
    // the allocator (a new segment for a busy worker thread) shows in one at most.
    let start = server.counters().total;
    let before = rss_kb(pid);
    wait_served(&server, start + 200_000).await;
    let middle = rss_kb(pid);
    wait_served(&server, start + 400_000).await;
    let after = rss_kb(pid);
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // 200,000 more requests: a sample list of f64 alone would add 1.6 MB to each.
    assert!(
        middle <= before + 1024 || after <= middle + 1024,
        "RSS grew in both stretches of 200,000 requests: {before} KB, {middle} KB, {after} KB"
    );
}
