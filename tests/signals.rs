//! A run interrupted by a real signal (SIGINT as Ctrl-C sends it, SIGTERM as a CI
//! runner does) still prints the final tables and writes every CSV file, and the HTML
//! report and JSON result, marked as interrupted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;

const HEALTH: &str = "[users.H]\nwait_time = \"constant(0.01)\"\n[[users.H.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n";

async fn interrupted_run(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "h.toml", HEALTH);
    let server = demo().await;
    let child = spawn_in(
        dir.path(),
        &[
            "--headless",
            "-f",
            "h.toml",
            "-H",
            &server.base_url(),
            "-u",
            "3",
            "-r",
            "3",
            "-t",
            "60s",
            "--csv",
            "int",
            "--html",
            "int.html",
            "--report-json",
            "int.json",
            "--criterion",
            "error_rate == 0",
        ],
    );
    let pid = child.id().unwrap().to_string();
    // Wait (bounded) until the run is really sending load.
    wait_served(&server, 20).await;
    let status = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the run stops within 30 s of the signal")
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Response time percentiles (approximated)"),
        "{stderr}"
    );
    assert!(stderr.contains("Aggregated"), "{stderr}");
    let rows = csv_rows(&dir.path().join("int_stats.csv"));
    let total: u64 = rows.last().unwrap()[2].parse().unwrap();
    assert_eq!(
        total,
        server.counters().total,
        "the final CSV holds every request"
    );
    for suffix in ["stats_history", "failures", "exceptions"] {
        assert!(dir.path().join(format!("int_{suffix}.csv")).is_file());
    }
    let name = if signal == "-INT" {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    let html = std::fs::read_to_string(dir.path().join("int.html")).unwrap();
    assert!(html.contains(r#"data-interrupted="true""#), "{html}");
    assert!(html.contains(&format!("Interrupted by {name}")));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("int.json")).unwrap())
            .unwrap();
    assert_eq!(json["run"]["interrupted"], true);
    assert_eq!(json["run"]["stop_reason"], name);
    assert_eq!(json["verdict"]["status"], "pass");
    assert_eq!(
        json["requests"].as_array().unwrap().last().unwrap()["num_requests"],
        total
    );
}

#[tokio::test]
async fn sigint_still_prints_and_writes_everything() {
    interrupted_run("-INT").await;
}

#[tokio::test]
async fn sigterm_still_prints_and_writes_everything() {
    interrupted_run("-TERM").await;
}
