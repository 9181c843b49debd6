//! Distributed-mode pieces for `tests/distributed_*.rs`: a free port for a master, a
//! locust-rs worker joining one, and the scenario every worker runs (a healthy task, a
//! 404 task and a task that raises).

use std::path::Path;
use std::process::Output;

use super::run_in;

/// One class, three tasks: /health, a 404 (a failure) and an exception.
pub const READER: &str = r#"
[users.Reader]
wait_time = "constant(0.05)"
[[users.Reader.tasks]]
name = "health"
request = { path = "/health" }
[[users.Reader.tasks]]
name = "missing"
request = { path = "/nothing-here" }
[[users.Reader.tasks]]
name = "boom"
weight = 1
steps = [{ fail = "out of stock" }]
"#;

/// A port nobody listens on right now (for a master to bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A locust-rs worker in `dir` running `s.toml` against `host`, joining the master at
/// 127.0.0.1:`port`; waits for it to end.
pub async fn worker(dir: &Path, host: &str, port: u16) -> Output {
    let port = port.to_string();
    run_in(
        dir,
        &[
            "--worker",
            "-f",
            "s.toml",
            "-H",
            host,
            "--master-port",
            &port,
        ],
    )
    .await
}

/// A headless locust-rs master's arguments: `s.toml` against `host`, listening on
/// 127.0.0.1:`port`, writing `m_*.csv`, then `extra` (users, rate, run time, ...).
pub fn master_args<'a>(host: &'a str, port: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let base = [
        "--master",
        "--headless",
        "-f",
        "s.toml",
        "-H",
        host,
        "--master-bind-port",
        port,
        "--csv",
        "m",
    ];
    [&base[..], extra].concat()
}

/// A master's `/stats/requests` as JSON; None while its web server is not up yet.
pub async fn web_stats(client: &reqwest::Client, web: &str) -> Option<serde_json::Value> {
    let url = format!("{web}/stats/requests");
    client.get(url).send().await.ok()?.json().await.ok()
}

/// Polls a master's `/stats/requests` (at most 30 s) until `done` holds.
pub async fn until_stats(
    client: &reqwest::Client,
    web: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..300 {
        if let Some(stats) = web_stats(client, web).await.filter(|s| done(s)) {
            return stats;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: {:?}", web_stats(client, web).await);
}
