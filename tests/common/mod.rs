//! Shared helpers for the end-to-end tests: the real binary, a demo target on
//! 127.0.0.1, and scenario files written into a temporary folder. `locust` holds the
//! side-by-side machinery of the real-Locust interoperability tests, `hostile` a
//! scriptable misbehaving HTTP server, TLS fixtures and a recording proxy for the HTTP
//! client's hardening tests; `browser` headless Chromium over WebDriver (`web_ui`: the
//! web UI with it, for tests/web_ui_*.rs); `examples`,
//! `error_cases`, `hostile_cases` and `tls_runs` the fixtures that the split test files
//! of Locust's examples, its error texts, the hostile server and TLS/proxies share.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod convert;
pub mod distributed;
pub mod error_cases;
pub mod examples;
pub mod headless;
pub mod hostile;
pub mod hostile_cases;
pub mod locust;
pub mod tls_runs;
pub mod web;
pub mod web_ui;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use locust_demo_target::{DemoConfig, DemoServer, Mode};

pub const BIN: &str = env!("CARGO_BIN_EXE_locust-rs");

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenarios_dir() -> PathBuf {
    repo_root().join("scenarios")
}

/// A demo target with no artificial delays, on a free loopback port.
pub async fn demo() -> DemoServer {
    demo_with(DemoConfig::instant()).await
}

pub async fn demo_with(config: DemoConfig) -> DemoServer {
    locust_demo_target::start("127.0.0.1:0".parse().unwrap(), config, Mode::Gateway)
        .await
        .expect("demo target starts")
}

/// Runs the binary in `cwd` (an empty temp dir unless given) and waits for it.
pub async fn run_in(cwd: &Path, args: &[&str]) -> Output {
    run_with_env(cwd, args, &[]).await
}

/// `--headless -f <locustfile> -H <host>` followed by `args`, run in `cwd`.
pub async fn run_headless(cwd: &Path, locustfile: &str, host: &str, args: &[&str]) -> Output {
    let base = ["--headless", "-f", locustfile, "-H", host];
    run_in(cwd, &[&base[..], args].concat()).await
}

/// As `run_in`, with only the given `LOCUST_*` variables set.
pub async fn run_with_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command.args(args).current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("LOCUST_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("the run ends within 120 s")
    .expect("output is read")
}

/// Starts the binary in `cwd` without waiting; output is piped and the process is
/// killed if the test drops it.
pub fn spawn_in(cwd: &Path, args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts")
}

/// Waits (bounded: up to 2 minutes) until the demo target has served `count` requests.
pub async fn wait_served(server: &DemoServer, count: u64) {
    for _ in 0..6000 {
        if server.counters().total >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the run never reached {count} requests");
}

pub fn run_sync(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, body).unwrap();
    path
}

/// Parses a CSV file written by the tool (CRLF, Python csv quoting).
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The scenario for cache and load-balancer figures: user class `class` creates one id
/// on start and reads it again and again (weight 3: cache hits), creates and reads
/// fresh ones (misses), and asks the load balancer for /health (weight
/// `health_weight`: spread over app1-3).
pub fn cache_mix_scenario(class: &str, health_weight: u32) -> String {
    let who = class.to_lowercase();
    format!(
        r#"
[users.{class}]
wait_time = "constant(0.02)"

[[users.{class}.on_start]]
method = "POST"
path = "/users"
json = {{ name = "{who}", email = "{who}@example.com" }}
success_status = [201]
extract = [{{ var = "id", json = "/id" }}]

[[users.{class}.tasks]]
name = "read"
weight = 3
request = {{ path = "/users/{{{{ id }}}}", name = "/users/[id]" }}

[[users.{class}.tasks]]
name = "fresh"
[[users.{class}.tasks.requests]]
method = "POST"
path = "/users"
name = "/users"
json = {{ name = "f", email = "f@example.com" }}
success_status = [201]
extract = [{{ var = "temp", json = "/id" }}]
[[users.{class}.tasks.requests]]
path = "/users/{{{{ temp }}}}"
name = "/users/[id]"

[[users.{class}.tasks]]
name = "health"
weight = {health_weight}
request = {{ path = "/health" }}
"#
    )
}
