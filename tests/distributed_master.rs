//! `--master` on 127.0.0.1: locust-rs workers (and a real Locust 2.47 Python worker)
//! run the users; the master's console, CSV files, JSON report and exit code show
//! exactly what the demo target served, with exact percentiles and the instance labels
//! carried across.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::distributed::*;
use common::locust::*;
use common::*;
use locust_demo_target::DemoConfig;

/// A headless locust-rs master in `dir` on 127.0.0.1:`port` running `s.toml` against
/// `host`, writing `m_*.csv` and `m.json`, with `load` (users, rate, run time, ...).
async fn master(
    dir: &std::path::Path,
    host: &str,
    port: u16,
    load: &[&str],
) -> std::process::Output {
    let port = port.to_string();
    let extra = [&["--report-json", "m.json"][..], load].concat();
    run_in(dir, &master_args(host, &port, &extra)).await
}

#[tokio::test]
async fn a_master_counts_exactly_what_three_workers_sent() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", READER);
    let server = demo().await;
    let url = server.base_url();
    let port = free_port();
    // --stop-timeout: users end their task, so no request is cut off in flight (the
    // target would count it, the workers could not).
    let load = [
        "-u",
        "6",
        "-r",
        "6",
        "-t",
        "5s",
        "--expect-workers",
        "3",
        "--stop-timeout",
        "2",
    ];
    let (m, one, two, three) = tokio::join!(
        master(dir.path(), &url, port, &load),
        worker(dir.path(), &url, port),
        worker(dir.path(), &url, port),
        worker(dir.path(), &url, port)
    );
    let log = text(&m.stderr);
    // The 404s are failures: exit code 1, as a local run (and Locust's master) gives.
    assert_eq!(m.status.code(), Some(1), "{log}");
    assert!(
        log.contains("reported as ready. 3 workers connected."),
        "{log}"
    );
    for w in [&one, &two, &three] {
        let stderr = text(&w.stderr);
        assert_eq!(w.status.code(), Some(0), "{stderr}");
        // Six users dealt round-robin over three workers: two each.
        assert!(
            stderr.contains("Setting users per class: {\"Reader\": 2}"),
            "{stderr}"
        );
        assert!(stderr.contains("Got quit message from master"), "{stderr}");
    }
    let rows = csv_rows(&dir.path().join("m_stats.csv"));
    let aggregated = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    let served = server.counters().total;
    assert!(served > 30, "{served}");
    assert_eq!(aggregated[2], served.to_string(), "every request: {log}");
    let missing = rows.iter().find(|r| r[1] == "/nothing-here").unwrap();
    assert_eq!(missing[2], missing[3], "every /nothing-here failed");
    let failures = std::fs::read_to_string(dir.path().join("m_failures.csv")).unwrap();
    assert!(
        failures.contains("HTTPError('404 Client Error: Not Found for url: /nothing-here')"),
        "{failures}"
    );
    let exceptions = csv_rows(&dir.path().join("m_exceptions.csv"));
    assert!(
        exceptions.iter().any(|r| r[1] == "out of stock"),
        "{exceptions:?}"
    );
    // The console's final table says the same.
    let console = format!("{}{}", text(&m.stdout), log);
    let last_row = console
        .lines()
        .filter(|l| l.trim_start().starts_with("Aggregated"))
        .nth_back(1)
        .unwrap_or_else(|| panic!("{console}"));
    assert_eq!(
        last_row.split_whitespace().nth(1),
        Some(served.to_string().as_str()),
        "{last_row}"
    );
}

#[tokio::test]
async fn a_masters_percentiles_are_exact_and_labels_cross_workers() {
    // Every answer takes a little over 1189 ms: Locust's rounded buckets say 1200.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.toml",
        "[users.Slow]\nwait_time = \"constant(0)\"\n[[users.Slow.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n",
    );
    let server = demo_with(DemoConfig {
        service_time: Duration::from_millis(1189),
        ..DemoConfig::default()
    })
    .await;
    let url = server.base_url();
    let port = free_port();
    let load = [
        "-u",
        "4",
        "-r",
        "4",
        "-t",
        "4s",
        "--expect-workers",
        "2",
        "--criterion",
        "balance.max_deviation < 50%",
        "--stop-timeout",
        "3",
    ];
    let (m, one, two) = tokio::join!(
        master(dir.path(), &url, port, &load),
        worker(dir.path(), &url, port),
        worker(dir.path(), &url, port)
    );
    let log = text(&m.stderr);
    assert_eq!(m.status.code(), Some(0), "{log}\n{}", text(&m.stdout));
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(two.status.code(), Some(0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m.json")).unwrap()).unwrap();
    let total = json["response_times"].as_array().unwrap().last().unwrap();
    assert_eq!(total["name"], "Aggregated");
    let rows = csv_rows(&dir.path().join("m_stats.csv"));
    let aggregated = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    assert_eq!(aggregated[2], server.counters().total.to_string(), "{log}");
    for key in ["0.5", "1"] {
        let exact = total["exact_ms"][key].as_f64().unwrap();
        assert!(
            exact >= 1189.0 && exact % 100.0 != 0.0,
            "exact, not rebuilt from Locust's buckets: {key}: {exact}"
        );
    }
    // /health is dealt round-robin over app1-3 whichever worker asks: the instance
    // label of every response reached the master.
    let balance = &json["balance"];
    assert_eq!(
        balance["total"].as_u64(),
        Some(server.counters().total),
        "{balance}"
    );
    assert_eq!(
        balance["instances"].as_array().unwrap().len(),
        3,
        "{balance}"
    );
}

/// The Python worker's locustfile: the same class name and requests as `READER`.
const PY_READER: &str = r#"
from locust import HttpUser, task, constant


class Reader(HttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")

    @task
    def missing(self):
        self.client.get("/nothing-here")
"#;

#[tokio::test]
async fn a_master_takes_a_python_locust_worker_beside_a_locust_rs_one() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", READER);
    write(dir.path(), "py.py", PY_READER);
    let server = demo().await;
    let url = server.base_url();
    let port = free_port();
    let port_text = port.to_string();
    let load = [
        "-u",
        "4",
        "-r",
        "4",
        "-t",
        "6s",
        "--expect-workers",
        "2",
        "--stop-timeout",
        "2",
    ];
    let py_args = [
        "-f",
        "py.py",
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        &port_text,
    ];
    let python = locust_in(dir.path(), &py_args);
    let (m, rs, py) = tokio::join!(
        master(dir.path(), &url, port, &load),
        worker(dir.path(), &url, port),
        python
    );
    let log = text(&m.stderr);
    assert_eq!(m.status.code(), Some(1), "{log}");
    assert_eq!(rs.status.code(), Some(0), "{}", text(&rs.stderr));
    let py_log = describe("python worker", &py);
    assert!(
        py_log.contains("Got quit message from master, shutting down"),
        "{py_log}"
    );
    let rows = csv_rows(&dir.path().join("m_stats.csv"));
    let aggregated = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    assert_eq!(
        aggregated[2],
        server.counters().total.to_string(),
        "both workers' requests, Python's bucketed times merged in: {log}"
    );
    // Both workers ran users: the Python one's rows carry its requests too.
    let health = rows.iter().find(|r| r[1] == "/health").unwrap();
    assert!(health[2].parse::<u64>().unwrap() > 10, "{health:?}");
    assert!(
        !log.contains("running a different version"),
        "the Python worker is 2.47: {log}"
    );
    assert!(log.contains("2 workers connected"), "{log}");
    let rs_log = text(&rs.stderr);
    assert!(
        rs_log.contains("Setting users per class: {\"Reader\": 2}"),
        "{rs_log}"
    );
}
