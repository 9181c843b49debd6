//! `--worker` against the real Locust 2.47.0 master on 127.0.0.1: two locust-rs
//! workers run the load and the master's console, CSV and exit code show exactly what
//! the demo target served; a class the master asks for that the worker's scenarios do
//! not define is an error on both sides.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::distributed::*;
use common::locust::*;
use common::*;

const SCENARIO: &str = READER;

/// The master only needs the class names (and weights): the workers run the scenario.
const NAMES_ONLY: &str = "from locust import User, task\n\n\nclass Reader(User):\n    @task\n    def t(self):\n        pass\n";

/// A headless Locust master on 127.0.0.1:`port` reading master.py, writing `m_*.csv`.
fn headless_master<'a>(port: &'a str, load: &[&'a str]) -> Vec<&'a str> {
    let base = ["-f", "master.py", "--master", "--headless", "--csv", "m"];
    let bind = [
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        port,
    ];
    [&base[..], load, &bind[..]].concat()
}

#[tokio::test]
async fn a_locust_master_counts_exactly_what_two_workers_sent() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "master.py", NAMES_ONLY);
    let server = demo().await;
    let url = server.base_url();
    let port = free_port();
    let port_text = port.to_string();
    let args = headless_master(
        &port_text,
        &["-u", "6", "-r", "3", "-t", "6s", "--expect-workers", "2"],
    );
    let master = locust_in(dir.path(), &args);
    let (master, one, two) = tokio::join!(
        master,
        worker(dir.path(), &url, port),
        worker(dir.path(), &url, port)
    );
    let log = describe("master", &master);
    assert_eq!(one.status.code(), Some(0), "{}", describe("worker", &one));
    assert_eq!(two.status.code(), Some(0), "{}", describe("worker", &two));
    // The 404s are failures: Locust's exit code for a run with failures.
    assert_eq!(master.status.code(), Some(1), "{log}");
    assert!(log.contains("2 workers connected"), "{log}");
    let rows = csv_rows(&dir.path().join("m_stats.csv"));
    let aggregated = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    let served = server.counters().total;
    assert!(served > 20, "{served}");
    assert_eq!(
        aggregated[2],
        served.to_string(),
        "every request reached the master: {log}"
    );
    let missing = rows.iter().find(|r| r[1] == "/nothing-here").unwrap();
    assert_eq!(missing[2], missing[3], "every /nothing-here failed");
    let failures = std::fs::read_to_string(dir.path().join("m_failures.csv")).unwrap();
    assert!(
        failures.contains("HTTPError('404 Client Error: Not Found for url: /nothing-here')"),
        "{failures}"
    );
    // Task exceptions travel as `exception` messages, one per occurrence.
    let exceptions = csv_rows(&dir.path().join("m_exceptions.csv"));
    let boom = exceptions
        .iter()
        .find(|r| r[1] == "out of stock")
        .unwrap_or_else(|| panic!("{exceptions:?}"));
    assert!(boom[0].parse::<u64>().unwrap() > 0, "{boom:?}");
    for w in [&one, &two] {
        let stderr = text(&w.stderr);
        assert!(
            stderr.contains("Got quit message from master, shutting down..."),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn a_class_the_worker_does_not_define_is_an_error_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(
        dir.path(),
        "master.py",
        &NAMES_ONLY.replace("class Reader", "class Writer"),
    );
    let server = demo().await;
    let port = free_port();
    let port_text = port.to_string();
    let args = headless_master(
        &port_text,
        &["-u", "2", "-r", "2", "-t", "3s", "--expect-workers", "1"],
    );
    let master = locust_in(dir.path(), &args);
    let url = server.base_url();
    let (master, one) = tokio::join!(master, worker(dir.path(), &url, port));
    let stderr = text(&one.stderr);
    assert!(
        stderr.contains("ERROR/locust.main: The master asked for 2 users of class \"Writer\", which this worker's scenarios do not define (they define Reader)"),
        "{stderr}"
    );
    let log = describe("master", &master);
    // The master lists it among the exceptions (its CSV, web UI and report).
    let exceptions = std::fs::read_to_string(dir.path().join("m_exceptions.csv")).unwrap();
    assert!(
        exceptions.contains("which this worker's scenarios do not define (they define Reader)"),
        "{exceptions}\n{log}"
    );
    assert_eq!(server.counters().total, 0, "no user ran");
}

#[tokio::test]
async fn a_worker_stops_and_starts_again_with_the_masters_web_ui() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(dir.path(), "master.py", NAMES_ONLY);
    let server = demo().await;
    let url = server.base_url();
    let (port, web_port) = (free_port(), free_port());
    let (port_text, web_text) = (port.to_string(), web_port.to_string());
    let args = [
        "-f",
        "master.py",
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        &port_text,
        "--web-host",
        "127.0.0.1",
        "--web-port",
        &web_text,
    ];
    // Spawned here rather than with `locust_in`: Locust 2.47's UI has no quit, so the
    // test ends the master with SIGTERM, after which it sends `quit` to its workers.
    let mut master = tokio::process::Command::new(venv_python().with_file_name("locust"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("LOCUST_")) {
        master.env_remove(key);
    }
    let master = master
        .args(args)
        .current_dir(dir.path())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = master.id().unwrap().to_string();
    let master = async {
        tokio::time::timeout(
            std::time::Duration::from_secs(90),
            master.wait_with_output(),
        )
        .await
        .expect("the master ends")
        .unwrap()
    };
    let web = format!("http://127.0.0.1:{web_port}");
    let drive = async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        until_stats(&client, &web, "the worker joins", |s| {
            s["workers"].as_array().is_some_and(|w| w.len() == 1)
        })
        .await;
        let swarm = |users: &'static str| {
            client
                .post(format!("{web}/swarm"))
                .form(&[
                    ("user_count", users),
                    ("spawn_rate", "10"),
                    ("host", url.as_str()),
                ])
                .send()
        };
        assert!(swarm("2").await.unwrap().status().is_success());
        until_stats(&client, &web, "2 users run", |s| {
            s["state"] == "running" && s["user_count"] == 2
        })
        .await;
        until_stats(&client, &web, "requests arrive", |s| {
            s["stats"][0]["num_requests"].as_u64() > Some(5)
        })
        .await;
        let stopped = client.post(format!("{web}/stop")).send().await.unwrap();
        assert!(stopped.status().is_success());
        // stop → client_stopped → client_ready: the worker is back, ready and empty.
        until_stats(&client, &web, "stopped", |s| {
            s["state"] == "stopped" && s["workers"][0]["state"] == "ready"
        })
        .await;
        assert!(swarm("3").await.unwrap().status().is_success());
        let again = until_stats(&client, &web, "3 users run", |s| {
            s["state"] == "running" && s["workers"][0]["user_count"] == 3
        })
        .await;
        assert_eq!(again["workers"][0]["state"], "running", "{again}");
        until_stats(&client, &web, "requests arrive again", |s| {
            s["stats"][0]["num_requests"].as_u64() > Some(5)
        })
        .await;
        let term = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(term.unwrap().success());
    };
    let (master, one, ()) = tokio::join!(master, worker(dir.path(), &url, port), drive);
    let stderr = text(&one.stderr);
    assert_eq!(
        one.status.code(),
        Some(0),
        "{stderr}\n{}",
        describe("master", &master)
    );
    assert_eq!(
        stderr
            .matches("Setting users per class: {\"Reader\": 2}")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("Setting users per class: {\"Reader\": 3}")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("Got quit message from master, shutting down..."),
        "{stderr}"
    );
}
