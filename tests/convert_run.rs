//! `locust-rs convert`, part 2: a converted locustfile and its Python original, run
//! against the built-in demo target (127.0.0.1) for a few seconds, send the same
//! requests: the same (method, name) rows in `_stats.csv`, and no failure in either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::convert::*;
use common::locust::{describe, locust_in};
use common::*;

/// Locust's run-time timer uses gevent's clock of import time: refreshed at `init`
/// (as the interop tests do), so a slow start does not cut the run short.
const FRESH_CLOCK: &str = "import gevent\nfrom locust import events\n\n\n\
@events.init.add_listener\ndef _fresh_clock(**_kwargs):\n    gevent.get_hub().loop.update_now()\n\n\n";

/// (method, name) of every row of `out_stats.csv` but `Aggregated`, and the failures.
fn rows(dir: &Path) -> (BTreeSet<(String, String)>, u64) {
    let rows = csv_rows(&dir.join("out_stats.csv"));
    let header = &rows[0];
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (ty, name, fails) = (col("Type"), col("Name"), col("Failure Count"));
    let mut names = BTreeSet::new();
    let mut failures = 0;
    for r in &rows[1..] {
        if r[name] == "Aggregated" {
            continue;
        }
        names.insert((r[ty].clone(), r[name].clone()));
        failures += r[fails].parse::<u64>().unwrap();
    }
    (names, failures)
}

#[tokio::test]
async fn converted_and_original_send_the_same_requests() {
    for name in ["demo_flow.py", "command_option.py", "x_forwarded.py"] {
        same_requests(name).await;
    }
}

async fn same_requests(name: &str) {
    let rs_dir = folder_with(name, &[]);
    converted(rs_dir.path(), name, 0).await;
    let py_dir = tempfile::tempdir().unwrap();
    write(
        py_dir.path(),
        name,
        &format!("{FRESH_CLOCK}{}", fixture(name)),
    );
    let server = demo().await;
    let host = server.base_url();
    let common = [
        "--headless",
        "-H",
        &host,
        "-u",
        "2",
        "-r",
        "2",
        "-t",
        "4s",
        "--csv",
        "out",
    ];
    let py_args: Vec<&str> = ["-f", name].iter().chain(&common).copied().collect();
    let toml = name.replace(".py", ".toml");
    let rs_args: Vec<&str> = ["-f", toml.as_str()]
        .iter()
        .chain(&common)
        .copied()
        .collect();
    let (py, rs) = tokio::join!(
        locust_in(py_dir.path(), &py_args),
        run_in(rs_dir.path(), &rs_args)
    );
    assert_eq!(py.status.code(), Some(0), "{}", describe("locust", &py));
    assert_eq!(rs.status.code(), Some(0), "{}", describe("locust-rs", &rs));
    let (py_rows, py_failures) = rows(py_dir.path());
    let (rs_rows, rs_failures) = rows(rs_dir.path());
    assert_eq!(py_failures, 0, "{}", describe("locust", &py));
    assert_eq!(rs_failures, 0, "{}", describe("locust-rs", &rs));
    if name == "demo_flow.py" {
        assert!(py_rows.len() >= 8, "{py_rows:?}");
    }
    assert!(!py_rows.is_empty(), "{name}: Locust sent nothing");
    assert_eq!(py_rows, rs_rows, "{name}: the same (method, name) rows");
}
