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
