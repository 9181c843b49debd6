//! `--master` with the web UI, on 127.0.0.1: `/swarm` before any worker is refused with
//! Locust's words; with a locust-rs worker connected, a test runs on it, `/stats/requests`
//! lists the worker as Locust's master does, Stop sends it back to ready, a second test
//! runs on it, and SIGTERM ends the master, which tells the worker to quit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::distributed::*;
use common::*;

#[tokio::test]
async fn a_masters_web_ui_runs_tests_on_its_workers() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", READER);
    let server = demo().await;
    let url = server.base_url();
    let (port, web_port) = (free_port(), free_port());
    let (port_text, web_text) = (port.to_string(), web_port.to_string());
    let master = spawn_in(
        dir.path(),
        &[
            "--master",
            "-f",
            "s.toml",
            "-H",
            &url,
            "--master-bind-port",
            &port_text,
            "--web-port",
            &web_text,
            "--stop-timeout",
            "1",
        ],
    );
    let web = format!("http://127.0.0.1:{web_port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let swarm = |users: &'static str| {
        client
            .post(format!("{web}/swarm"))
            .form(&[("user_count", users), ("spawn_rate", "10")])
            .send()
    };
    let first = until_stats(&client, &web, "the UI is up", |s| s["state"] == "ready").await;
    assert_eq!(first["worker_count"], 0, "{first}");
    let refused: serde_json::Value = swarm("2").await.unwrap().json().await.unwrap();
    assert_eq!(refused["success"], false, "{refused}");
    assert_eq!(
        refused["message"],
        "You can't start a distributed test before at least one worker processes has connected"
    );
    let worker = tokio::spawn({
        let dir = dir.path().to_path_buf();
        async move { worker(&dir, "http://127.0.0.1:9", port).await }
    });
    until_stats(&client, &web, "the worker joins", |s| {
        s["worker_count"] == 1 && s["workers"][0]["state"] == "ready"
    })
    .await;
    let started: serde_json::Value = swarm("2").await.unwrap().json().await.unwrap();
    assert_eq!(started["success"], true, "{started}");
    until_stats(&client, &web, "2 users run on the worker", |s| {
        s["state"] == "running" && s["workers"][0]["user_count"] == 2
    })
    .await;
    // The master's host went to the worker in its spawn (the worker's own -H points
    // nowhere), and its reports reach the UI.
    until_stats(&client, &web, "requests arrive", |s| {
        s["stats"]
            .as_array()
            .is_some_and(|rows| rows.iter().any(|r| r["num_requests"].as_u64() > Some(5)))
    })
    .await;
    let stopped = client.post(format!("{web}/stop")).send().await.unwrap();
    assert!(stopped.status().is_success());
    until_stats(&client, &web, "stopped, the worker ready again", |s| {
        s["state"] == "stopped" && s["workers"][0]["state"] == "ready"
    })
    .await;
    let again: serde_json::Value = swarm("3").await.unwrap().json().await.unwrap();
    assert_eq!(again["success"], true, "{again}");
    until_stats(&client, &web, "3 users run on the worker", |s| {
        s["state"] == "running" && s["workers"][0]["user_count"] == 3
    })
    .await;
    let pid = master.id().unwrap().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(term.unwrap().success());
    let out = tokio::time::timeout(Duration::from_secs(60), master.wait_with_output())
        .await
        .expect("the master ends")
        .unwrap();
    let log = text(&out.stderr);
    assert!(!log.contains("panicked"), "{log}");
    let w = tokio::time::timeout(Duration::from_secs(60), worker)
        .await
        .expect("the worker ends")
        .unwrap();
    let stderr = text(&w.stderr);
    assert_eq!(w.status.code(), Some(0), "{stderr}\n{log}");
    assert!(stderr.contains("Got quit message from master"), "{stderr}");
    assert_eq!(
        stderr
            .matches("Setting users per class: {\"Reader\": 3}")
            .count(),
        1,
        "{stderr}"
    );
    assert!(server.counters().total > 5);
}
