//! Interactive mode end to end: the real binary serves Locust's REST API on 127.0.0.1,
//! and a client drives it as Locust's API users do — swarm, watch the figures, download
//! the CSV files and the report, reset, stop, start again — against the demo target,
//! whose own counters the figures must match. Bad input gets Locust's messages and
//! never takes the server down; quitting still writes every output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::web::WebUi;
use common::*;
use serde_json::Value;

const SCENARIO: &str = r#"
[users.Reader]
wait_time = "constant(0.01)"
[[users.Reader.tasks]]
name = "health"
weight = 3
request = { path = "/health" }
[[users.Reader.tasks]]
name = "missing"
request = { path = "/nope" }

[users.Other]
wait_time = "constant(0.01)"
[[users.Other.tasks]]
name = "gateway"
request = { path = "/gateway-health" }
"#;

/// Locust's `to_dict` keys, sorted as Flask writes them.
const ENTRY_KEYS: [&str; 15] = [
    "avg_content_length",
    "avg_response_time",
    "current_fail_per_sec",
    "current_rps",
    "max_response_time",
    "median_response_time",
    "method",
    "min_response_time",
    "name",
    "num_failures",
    "num_requests",
    "response_time_percentile_0.95",
    "response_time_percentile_0.99",
    "total_fail_per_sec",
    "total_rps",
];

/// The scenario in a temp dir, a demo target, and the UI pointed at it.
struct Fixture {
    dir: tempfile::TempDir,
    server: locust_demo_target::DemoServer,
    host: String,
    ui: WebUi,
}

async fn start(extra: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo().await;
    let host = server.base_url();
    let mut args = vec!["-f", "s.toml", "-H", host.as_str()];
    args.extend_from_slice(extra);
    let ui = WebUi::start(dir.path(), &args).await;
    Fixture {
        dir,
        server,
        host,
        ui,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn get(url: impl reqwest::IntoUrl) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

/// GET as user `ops` with `password`.
async fn authed(url: &str, password: &str) -> reqwest::Response {
    client()
        .get(url)
        .basic_auth("ops", Some(password))
        .send()
        .await
        .unwrap()
}

async fn get_text(url: &str) -> String {
    get(url).await.text().await.unwrap()
}

async fn get_json(url: &str) -> Value {
    let response = get(url).await;
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{url}"
    );
    response.json().await.unwrap()
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> Value {
    let response = client().post(url).form(form).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

/// Polls `/stats/requests` (bounded: 60 s) until `done` holds.
async fn wait_stats(ui: &WebUi, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let stats = get_json(&format!("{}/stats/requests", ui.url)).await;
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("/stats/requests never got there; stderr:\n{}", ui.stderr());
}

fn aggregated(stats: &Value) -> &Value {
    let rows = stats["stats"].as_array().unwrap();
    let last = rows.last().unwrap();
    assert_eq!(last["name"], "Aggregated");
    last
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[tokio::test]
async fn swarm_watch_download_stop_against_the_demo_target() {
    let Fixture {
        dir: _dir,
        server,
        host,
        ui,
    } = start(&["-u", "7"]).await;
    assert!(ui.url.starts_with("http://127.0.0.1:"), "{}", ui.url);

    let page = get_text(&ui.url).await;
    assert!(page.contains("window.templateArgs = {"), "{page}");
    assert!(
        page.contains("\"num_users\":7"),
        "the form is pre-filled from -u"
    );
    let ready = get_json(&format!("{}/stats/requests", ui.url)).await;
    assert_eq!(ready["state"], "ready");
    assert_eq!(aggregated(&ready)["num_requests"], 0);

    let started = post_form(
        &format!("{}/swarm", ui.url),
        &[
            ("user_count", "4"),
            ("spawn_rate", "4"),
            ("host", &host),
            ("user_classes", "Reader"),
        ],
    )
    .await;
    assert_eq!(started["success"], true, "{started}");
    assert_eq!(started["message"], "Swarming started");
    assert_eq!(started["host"], host.as_str());
    assert_eq!(started["user_classes"], serde_json::json!(["Reader"]));
    wait_served(&server, 100).await;
    let running = wait_stats(&ui, |s| s["user_count"] == 4 && s["state"] == "running").await;
    let names: Vec<&str> = running["stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["/health", "/nope", "Aggregated"],
        "only Reader runs"
    );
    for entry in running["stats"].as_array().unwrap() {
        let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
        assert_eq!(keys, ENTRY_KEYS, "{entry}");
    }
    let error = &running["errors"][0];
    assert_eq!(error["name"], "/nope");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("HTTPError('404 Client Error: Not Found for url: "),
        "{error}"
    );
    let tasks = get_json(&format!("{}/tasks", ui.url)).await;
    assert_eq!(
        tasks["per_class"]["Reader"]["tasks"]["health"]["ratio"],
        0.75
    );
    assert!(tasks["total"].get("Other").is_none(), "{tasks}");
    let logs = get_json(&format!("{}/logs", ui.url)).await;
    assert!(logs["master"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().contains("Ramping to 4 users")));
    assert_eq!(
        get_json(&format!("{}/worker-count", ui.url)).await["worker_count"],
        0
    );

    // Edit while running: the same test, more users.
    let edited = post_form(
        &format!("{}/swarm", ui.url),
        &[("user_count", "6"), ("spawn_rate", "10")],
    )
    .await;
    assert_eq!(edited["success"], true, "{edited}");
    wait_stats(&ui, |s| s["user_count"] == 6).await;

    let stopped = post_form(&format!("{}/stop", ui.url), &[]).await;
    assert_eq!(
        stopped,
        serde_json::json!({"message": "Test stopped", "success": true})
    );
    let after = get_json(&format!("{}/stats/requests", ui.url)).await;
    assert_eq!(after["state"], "stopped");
    assert_eq!(after["user_count"], 0);
    let served = server.counters().total;
    assert_eq!(
        aggregated(&after)["num_requests"].as_u64().unwrap(),
        served,
        "every request the target answered is counted, no more"
    );

    let csv = get(format!("{}/stats/requests/csv", ui.url)).await;
    assert_eq!(csv.headers()["content-type"], "text/csv");
    let disposition = csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;filename=Locust_")
            && disposition.ends_with(&format!("_s.toml_{host}_requests.csv")),
        "{disposition}"
    );
    let body = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows.last().unwrap()[1], "Aggregated");
    assert_eq!(rows.last().unwrap()[2].parse::<u64>().unwrap(), served);
    let failures = get_text(&format!("{}/stats/failures/csv", ui.url)).await;
    assert!(
        failures.starts_with("Method,Name,Error,Occurrences"),
        "{failures}"
    );
    assert!(failures.contains("/nope"));
    let history = get(format!("{}/stats/requests_full_history/csv", ui.url)).await;
    assert_eq!(history.status(), 404);
    assert_eq!(
        history.text().await.unwrap(),
        "Error: Server was not started with option to generate full history."
    );
    let report = get(format!("{}/stats/report?download=1", ui.url)).await;
    assert!(report.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .ends_with(".html"));
    let report = report.text().await.unwrap();
    assert!(report.contains("nope") && report.contains("Request Statistics"));
    let exceptions = get_json(&format!("{}/exceptions", ui.url)).await;
    assert_eq!(exceptions, serde_json::json!({"exceptions": []}));
}

#[tokio::test]
async fn bad_requests_get_locust_messages_and_never_crash_the_server() {
    let Fixture {
        dir: _dir,
        server,
        host,
        ui,
    } = start(&[]).await;
    let swarm = format!("{}/swarm", ui.url);
    let cases: [(&[(&str, &str)], &str); 7] = [
        (
            &[("spawn_rate", "1")],
            "Missing or invalid user_count or spawn_rate from /swarm request",
        ),
        (
            &[("user_count", "abc"), ("spawn_rate", "1")],
            "Invalid user_count value: 'abc' (must be an integer)",
        ),
        (
            &[("user_count", "1"), ("spawn_rate", "x")],
            "Invalid spawn_rate value: 'x' (must be a number)",
        ),
        (
            &[
                ("user_count", "1"),
                ("spawn_rate", "1"),
                ("run_time", "soon"),
            ],
            "Valid run_time formats are : 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.",
        ),
        (
            &[("user_count", "1"), ("spawn_rate", "0")],
            "Missing or invalid user_count or spawn_rate from /swarm request",
        ),
        (
            &[
                ("user_count", "1"),
                ("spawn_rate", "1"),
                ("user_classes", "Nobody"),
            ],
            "Unknown User(s): Nobody",
        ),
        (
            &[
                ("user_count", "1"),
                ("spawn_rate", "1"),
                ("host", "ftp://x"),
            ],
            "Invalid host 'ftp://x': it must start with http:// or https://",
        ),
    ];
    for (form, message) in cases {
        let answer = post_form(&swarm, form).await;
        assert_eq!(answer["success"], false, "{form:?}");
        assert_eq!(answer["message"], message, "{form:?}");
    }
    // Not a form at all, and raw bytes: still Locust's answer, never a crash.
    for body in [
        &b"{\"user_count\": 1}"[..],
        &[0xff, 0x00, 0x26, 0x3d, 0xfe][..],
    ] {
        let response = client()
            .post(&swarm)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["success"], false);
    }
    let get_stop = get(format!("{}/stop", ui.url)).await;
    assert_eq!(get_stop.status(), 405);
    let missing = get(format!("{}/nothing/here", ui.url)).await;
    assert_eq!(missing.status(), 404);
    // No wildcard CORS unless --web-cors asks for it (tests/web_origin.rs).
    assert!(missing
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let ready = get_json(&format!("{}/stats/requests", ui.url)).await;
    assert_eq!(ready["state"], "ready", "no bad request started anything");
    assert_eq!(server.counters().total, 0);

    // A hostile host is stripped of < and > (as Locust does) and stays data in the page.
    let hostile = post_form(
        &swarm,
        &[
            ("user_count", "1"),
            ("spawn_rate", "1"),
            ("host", &format!("{host}/<script>alert(1)</script>")),
        ],
    )
    .await;
    assert_eq!(hostile["success"], true, "{hostile}");
    assert_eq!(
        hostile["host"],
        format!("{host}/scriptalert(1)/script").as_str()
    );
    let page = get_text(&ui.url).await;
    assert!(!page.contains("<script>alert"), "{page}");
}

#[tokio::test]
async fn stop_and_start_again_many_times_leaks_nothing() {
    let Fixture {
        dir: _dir,
        server,
        host: _host,
        ui,
    } = start(&[]).await;
    let swarm = format!("{}/swarm", ui.url);
    let stop = format!("{}/stop", ui.url);
    let form = [("user_count", "20"), ("spawn_rate", "100")];
    let served = || server.counters().total;
    // One warm-up cycle opens everything a cycle needs (runtime threads, pools).
    post_form(&swarm, &form).await;
    wait_stats(&ui, |s| s["user_count"] == 20).await;
    post_form(&stop, &[]).await;
    let fds_before = fd_count(ui.pid());
    for round in 0..12 {
        let answer = post_form(&swarm, &form).await;
        assert_eq!(answer["success"], true, "round {round}: {answer}");
        let running = wait_stats(&ui, |s| {
            s["user_count"] == 20 && aggregated(s)["num_requests"].as_u64().unwrap() > 0
        })
        .await;
        assert_eq!(running["state"], "running");
        if round % 3 == 0 {
            // Enough requests before the reset that keeping them would show: the figures
            // after it may hold only what the target served meanwhile, and what the 20
            // users had in flight.
            wait_stats(&ui, |s| {
                aggregated(s)["num_requests"].as_u64().unwrap() >= 1000
            })
            .await;
            let served_before = served();
            let reset = client()
                .post(format!("{}/stats/reset", ui.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(reset, "ok");
            let after = get_json(&format!("{}/stats/requests", ui.url)).await;
            let since_reset = served() - served_before + 20;
            let counted = aggregated(&after)["num_requests"].as_u64().unwrap();
            assert!(
                counted <= since_reset,
                "reset starts the figures again: {counted} counted, {since_reset} possible since the reset"
            );
        }
        post_form(&stop, &[]).await;
        let stopped = get_json(&format!("{}/stats/requests", ui.url)).await;
        assert_eq!(stopped["user_count"], 0, "round {round}");
        assert_eq!(stopped["state"], "stopped");
    }
    let fds_after = fd_count(ui.pid());
    // Each user's connection is closed with it: the open files do not grow per cycle.
    assert!(
        fds_after <= fds_before + 5,
        "open files grew from {fds_before} to {fds_after} over 12 start/stop cycles"
    );
}

#[tokio::test]
async fn quitting_writes_final_tables_csv_report_and_the_criteria_exit_code() {
    let Fixture {
        dir,
        server,
        host: _host,
        mut ui,
    } = start(&[
        "--csv",
        "out/web",
        "--html",
        "out/web.html",
        "--criterion",
        "error_rate < 1%",
    ])
    .await;
    post_form(
        &format!("{}/swarm", ui.url),
        &[("user_count", "3"), ("spawn_rate", "3")],
    )
    .await;
    // Tasks are picked at random: wait for a failed /nope rather than a request count.
    wait_stats(&ui, |s| aggregated(s)["num_failures"].as_u64().unwrap() > 0).await;
    let code = ui.signal_and_wait("INT").await;
    let stderr = ui.stderr();
    assert_eq!(
        code,
        Some(3),
        "failing /nope breaks the criterion: {stderr}"
    );
    assert!(
        stderr.contains("Response time percentiles (approximated)"),
        "{stderr}"
    );
    assert!(stderr.contains("error_rate < 1%"), "{stderr}");
    let rows = csv_rows(&dir.path().join("out/web_stats.csv"));
    let total = rows.last().unwrap();
    assert_eq!(total[1], "Aggregated");
    assert_eq!(total[2].parse::<u64>().unwrap(), server.counters().total);
    let report = std::fs::read_to_string(dir.path().join("out/web.html")).unwrap();
    assert!(
        report.contains("error_rate"),
        "the verdict is in the report"
    );
}

#[tokio::test]
async fn autostart_runs_the_test_and_autoquit_ends_the_process() {
    let Fixture {
        dir: _dir,
        server,
        host: _host,
        mut ui,
    } = start(&[
        "--autostart",
        "-u",
        "2",
        "-r",
        "2",
        "-t",
        "2s",
        "--autoquit",
        "1",
        "Other",
    ])
    .await;
    let code = ui.wait().await;
    let stderr = ui.stderr();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("--run-time limit reached, stopping test"),
        "{stderr}"
    );
    assert!(stderr.contains("/gateway-health"), "{stderr}");
    assert!(server.counters().total > 0);
}

#[tokio::test]
async fn basic_auth_and_base_path_guard_every_route() {
    let Fixture {
        dir: _dir,
        server,
        ui,
        ..
    } = start(&["--web-auth", "ops:s3cret", "--web-base-path", "/locust"]).await;
    assert!(ui.url.ends_with("/locust"), "{}", ui.url);
    let stats = format!("{}/stats/requests", ui.url);
    let anonymous = get(&stats).await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let wrong = authed(&stats, "nope").await;
    assert_eq!(wrong.status(), 401);
    let swarm = client()
        .post(format!("{}/swarm", ui.url))
        .form(&[("user_count", "1"), ("spawn_rate", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(swarm.status(), 401, "no test starts without the password");
    let good = authed(&stats, "s3cret").await;
    assert_eq!(good.status(), 200);
    let page = authed(&ui.url, "s3cret").await.text().await.unwrap();
    assert!(page.contains("locust/assets/web.js"), "{page}");
    let root = ui.url.trim_end_matches("/locust");
    let outside = authed(&format!("{root}/stats/requests"), "s3cret").await;
    assert_eq!(outside.status(), 404);
    assert!(
        !ui.stderr().contains("s3cret"),
        "the password is never logged"
    );
    assert_eq!(server.counters().total, 0);
}

#[tokio::test]
async fn a_python_requests_script_drives_a_run_as_against_locust() {
    let python = common::locust::venv_python();
    let Fixture {
        dir: _dir,
        server,
        host,
        ui,
    } = start(&[]).await;
    let script = repo_root().join("tests/scripts/drive_web_api.py");
    let output = tokio::process::Command::new(python)
        .arg(&script)
        .arg(&ui.url)
        .arg(&host)
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}\nserver:\n{}",
        text(&output.stdout),
        text(&output.stderr),
        ui.stderr()
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["state_after_stop"], "stopped");
    assert!(report["requests"].as_u64().unwrap() > 0);
    assert_eq!(
        report["requests"].as_u64().unwrap(),
        server.counters().total
    );
}
