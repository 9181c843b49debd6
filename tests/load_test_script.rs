//! `./load_test.sh` as a CI step would run it: a health check first (one clear line and
//! exit 4 when the system is down), then the profile with its criteria, the HTML report,
//! JSON result and CSV files, and the run's exit code (3 when criteria fail).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

async fn load_test(host: &str, reports: &std::path::Path, args: &[&str]) -> std::process::Output {
    let script = repo_root().join("load_test.sh");
    let child = tokio::process::Command::new(script)
        .args(args)
        .env("HOST", host)
        .env("LOCUST_RS", BIN)
        .env("REPORTS", reports)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("load_test.sh ends")
    .unwrap()
}

#[tokio::test]
async fn a_system_that_is_down_stops_the_script_before_any_run() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reports = tempfile::tempdir().unwrap();
    let output = load_test(
        &format!("http://127.0.0.1:{port}"),
        reports.path(),
        &["basic"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(
        stderr.contains("not running") && stderr.contains("docker-compose"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(reports.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn basic_runs_the_profile_and_writes_reports() {
    // The default demo target: 1 ms per answer, 5 ms per cache miss (the cache helps).
    let server = demo_with(locust_demo_target::DemoConfig::default()).await;
    let reports = tempfile::tempdir().unwrap();
    let output = load_test(
        &server.base_url(),
        reports.path(),
        &["basic", "-t", "4s", "-r", "10"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Profile basic"), "{stderr}");
    assert!(
        stderr.contains("Ramping to 10 users at a rate of 10.00 per second"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Success criteria: 3 of 3 passed -> PASS"),
        "{stderr}"
    );
    let names: Vec<String> = std::fs::read_dir(reports.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for suffix in [
        "_stats.csv",
        "_stats_history.csv",
        "_failures.csv",
        "_exceptions.csv",
        ".html",
        ".json",
    ] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("basic_") && n.ends_with(suffix)),
            "{suffix} missing in {names:?}"
        );
    }
    let last = stderr.lines().last().unwrap();
    assert!(
        last.contains("exit code 0; report: ")
            && last.contains("basic_")
            && last.ends_with(".csv)"),
        "{last}"
    );
    assert!(server.counters().total > 0);
}

#[tokio::test]
async fn failing_requests_fail_the_script_through_the_criteria() {
    let server = demo_with(locust_demo_target::DemoConfig {
        error_rate: 1.0,
        ..locust_demo_target::DemoConfig::instant()
    })
    .await;
    let reports = tempfile::tempdir().unwrap();
    let output = load_test(&server.base_url(), reports.path(), &["basic", "-t", "2s"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("FAIL  error_rate == 0"), "{stderr}");
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("exit code 3; report: "),
        "{stderr}"
    );
}

#[tokio::test]
async fn spike_runs_its_stages() {
    let server = demo().await;
    let reports = tempfile::tempdir().unwrap();
    // -t cuts the 90 s shape short inside its first stage; the stages still drive it.
    let output = load_test(&server.base_url(), reports.path(), &["spike", "-t", "2s"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Shape test updating to 1 users at 1.00 spawn rate"),
        "{stderr}"
    );
    assert!(stderr.contains("exit code 0; report: "), "{stderr}");
}

#[tokio::test]
async fn interactive_serves_the_web_ui_and_writes_the_reports_on_ctrl_c() {
    let server = demo().await;
    let reports = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(repo_root().join("load_test.sh"));
    command
        .arg("interactive")
        .env("HOST", server.base_url())
        .env("LOCUST_RS", BIN)
        .env("REPORTS", reports.path())
        .env("WEB_PORT", "0");
    let mut ui = common::web::WebUi::start_command(command).await;
    assert!(ui
        .stderr()
        .contains("load_test.sh: web UI at http://localhost:"));
    let swarm = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/swarm", ui.url))
        .form(&[("user_count", "2"), ("spawn_rate", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(swarm.status(), 200);
    wait_served(&server, 20).await;
    let code = ui.signal_and_wait("INT").await;
    let stderr = ui.stderr();
    assert_eq!(code, Some(0), "{stderr}");
    let names: Vec<String> = std::fs::read_dir(reports.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for suffix in [".html", ".json", "_stats.csv"] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("interactive_") && n.ends_with(suffix)),
            "{suffix} missing in {names:?}; {stderr}"
        );
    }
}

#[tokio::test]
async fn all_runs_every_phase_and_writes_an_index() {
    let server = demo_with(locust_demo_target::DemoConfig::default()).await;
    let reports = tempfile::tempdir().unwrap();
    // -t applies to every phase: four 1 s phases.
    let output = load_test(&server.base_url(), reports.path(), &["all", "-t", "1s"]).await;
    let stderr = text(&output.stderr);
    let names: Vec<String> = std::fs::read_dir(reports.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for phase in ["basic", "stress", "cache", "spike"] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("all_") && n.ends_with(&format!("_{phase}.html"))),
            "{phase} report missing in {names:?}; {stderr}"
        );
    }
    let index = names
        .iter()
        .find(|n| n.starts_with("all_") && n.ends_with(".json") && n.matches('_').count() == 2)
        .unwrap_or_else(|| panic!("index JSON missing in {names:?}"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.path().join(index)).unwrap())
            .unwrap();
    let worst = json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["exit_code"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(json["exit_code"].as_i64(), Some(worst));
    assert_eq!(output.status.code().map(i64::from), Some(worst), "{stderr}");
}
