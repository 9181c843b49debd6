//! deploy/docker-compose.distributed.yml says what it runs: its master's command line
//! and its workers' environment, taken from the file, run here on 127.0.0.1 (the
//! compose network's `master` and `target` become loopback, `*` becomes 127.0.0.1, the
//! image's /scenarios and /reports become the repo's scenarios and a temp dir), and the
//! master writes the reports the file promises, with its workers joined.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::distributed::free_port;
use common::*;

const COMPOSE: &str = "deploy/docker-compose.distributed.yml";

/// The lines of `service`'s block (indented under it) in the compose file.
fn service_block<'a>(text: &'a str, service: &str) -> Vec<&'a str> {
    let header = format!("  {service}:");
    let mut lines = text.lines().skip_while(|l| *l != header).skip(1);
    let mut block = Vec::new();
    for line in lines.by_ref() {
        if !line.is_empty() && !line.starts_with("    ") {
            break;
        }
        block.push(line);
    }
    assert!(!block.is_empty(), "no service {service} in {COMPOSE}");
    block
}

/// `${NAME:-default}` with the test's values, else the default.
fn expand(value: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = value.to_string();
    while let Some(start) = out.find("${") {
        let end = start + out[start..].find('}').unwrap();
        let inner = &out[start + 2..end];
        let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
        let value = vars
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string());
        out.replace_range(start..=end, &value);
    }
    out
}

/// The compose world on this machine: image paths and service names.
fn localize(value: &str, reports: &str) -> String {
    let scenarios = scenarios_dir().display().to_string();
    value
        .replace("/reports", reports)
        .replace("/scenarios", &scenarios)
        .replace("--master-bind-host=*", "--master-bind-host=127.0.0.1")
}

fn unquote(value: &str) -> &str {
    value.trim().trim_matches('"')
}

#[tokio::test]
async fn the_compose_files_master_and_workers_run_as_written() {
    let compose = std::fs::read_to_string(repo_root().join(COMPOSE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The image's working directory holds locust.toml, as the Dockerfile copies it.
    std::fs::copy(
        repo_root().join("locust.toml"),
        dir.path().join("locust.toml"),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let reports = reports.display().to_string();
    let server = demo().await;
    let port = free_port().to_string();
    let vars: BTreeMap<&str, String> = [
        ("WORKERS", "2".to_string()),
        ("TARGET", server.base_url()),
        ("USERS", "4".to_string()),
        ("RATE", "4".to_string()),
        ("RUN_TIME", "4s".to_string()),
    ]
    .into_iter()
    .collect();

    let master_block = service_block(&compose, "master");
    let mut master_args: Vec<String> = master_block
        .iter()
        .skip_while(|l| l.trim() != "command:")
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .map(|arg| localize(&expand(unquote(arg), &vars), &reports))
        .collect();
    assert!(
        master_args.contains(&"--master".to_string()),
        "{master_args:?}"
    );
    master_args.push(format!("--master-bind-port={port}"));

    let worker_block = service_block(&compose, "worker");
    let mut worker_env: Vec<(String, String)> = worker_block
        .iter()
        .skip_while(|l| l.trim() != "environment:")
        .skip(1)
        .map_while(|l| l.trim().split_once(": "))
        .map(|(k, v)| {
            let v = localize(unquote(v), &reports);
            let v = if k == "LOCUST_MASTER_NODE_HOST" {
                "127.0.0.1".to_string()
            } else {
                v
            };
            (k.to_string(), v)
        })
        .collect();
    assert!(
        worker_env
            .iter()
            .any(|(k, v)| k == "LOCUST_MODE_WORKER" && v == "true"),
        "{worker_env:?}"
    );
    worker_env.push(("LOCUST_MASTER_NODE_PORT".into(), port.clone()));

    let master_refs: Vec<&str> = master_args.iter().map(String::as_str).collect();
    let env_refs: Vec<(&str, &str)> = worker_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (m, one, two) = tokio::join!(
        run_in(dir.path(), &master_refs),
        run_with_env(dir.path(), &[], &env_refs),
        run_with_env(dir.path(), &[], &env_refs)
    );
    let log = text(&m.stderr);
    assert_eq!(m.status.code(), Some(0), "{master_args:?}\n{log}");
    assert!(log.contains("2 workers connected"), "{log}");
    for w in [&one, &two] {
        assert_eq!(w.status.code(), Some(0), "{}", text(&w.stderr));
    }
    for file in [
        "distributed_stats.csv",
        "distributed_stats_history.csv",
        "distributed_failures.csv",
        "distributed.html",
        "distributed.json",
    ] {
        assert!(
            std::path::Path::new(&reports).join(file).exists(),
            "{file} in {reports}: {log}"
        );
    }
    let rows = csv_rows(&std::path::Path::new(&reports).join("distributed_stats.csv"));
    let aggregated = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    assert_eq!(aggregated[2], server.counters().total.to_string(), "{log}");
}
