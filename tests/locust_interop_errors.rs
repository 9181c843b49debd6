//! Locust interoperability of the HTTP client's failure texts: the real Locust 2.47.0
//! and locust-rs run side by side against ONE hostile server on 127.0.0.1 that answers
//! each route with exact, broken or odd bytes (reason phrases, status-line garbage,
//! bodies cut short, conflicting
//! lengths, closes and resets, header limits, read timeouts, corrupt and good
//! compressed bodies, redirect loops and redirects to broken answers, a 413 sent before
//! a large upload was read, a refused port, an unresolvable `.invalid` host).
//!
//! One table of cases is written as a Python locustfile and as the equivalent TOML
//! scenario: one user class per case (`fixed_count = 1`, `wait_time = constant(100)`,
//! one task of one request), so a `-u <cases> -t 4s` run sends each request exactly
//! once. The test proves that both tools recorded the same set of (Method, Name, Error)
//! rows in `_failures.csv`, and the same (Type, Name) rows with the same Request Count,
//! Failure Count and Average Content Size in `_stats.csv` (so successes in Locust are
//! successes in locust-rs, with the same decoded body length). It also checks the
//! table against Locust itself (each case recorded once, under the expected name, as a
//! failure or a success as measured in the research), so a broken case cannot pass
//! unnoticed.
//!
//! Deliberate differences, each marked in the table with the reason (`Ours`): a failed
//! redirect hop keeps the request's own name (Locust names it after the hop), and a
//! `103 Early Hints` is skipped like every 1xx but 101 (http.client takes it for the
//! answer and leaves the real one on the connection).
//!
//! Left out: cases where Locust raises into the task instead of recording a request
//! (an `ftp:` or non-UTF-8 `Location`, chunk size `-5`), connect timeouts (the
//! `ConnectTimeoutError` text holds a random address, and a connect timeout is hard to
//! provoke on loopback), `stream=True` and stale keep-alive sequences (two requests on
//! one connection), and TLS.
//!
//! The case table and its byte builders are in `tests/common/error_cases.rs` and
//! `tests/common/error_cases/table.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use common::error_cases::table::table;
use common::error_cases::{quote, Case, Ours, Table};
use common::hostile::HostileServer;
use common::locust::{both_in, describe};
use common::{csv_rows, text, write};

/// The run time: every request ends within about 0.6 s (the read timeouts are 0.5 s);
/// Locust writes its CSV files once a second and not at exit, so the run must last a
/// few writes longer than the slowest request.
const RUN_TIME: &str = "4s";

// ---------------------------------------------------------------------------------
// Both scenario files

fn class_name(i: usize) -> String {
    format!("C{i:03}")
}

fn locustfile(cases: &[Case]) -> String {
    let mut py = String::from("from locust import HttpUser, constant, task\n");
    for (i, case) in cases.iter().enumerate() {
        let _ = write!(
            py,
            "\n\nclass {}(HttpUser):\n    fixed_count = 1\n    wait_time = constant(100)\n\n    \
             @task\n    def t(self):\n        self.client.request({}, {}{})\n",
            class_name(i),
            quote(case.method),
            quote(&case.path),
            case.python_kwargs()
        );
    }
    py
}

fn scenario(cases: &[Case]) -> String {
    let mut toml = String::new();
    for (i, case) in cases.iter().enumerate() {
        let class = class_name(i);
        let _ = write!(
            toml,
            "[users.{class}]\nfixed_count = 1\nwait_time = \"constant(100)\"\n\n\
             [[users.{class}.tasks]]\nname = \"t\"\nrequest = {}\n\n",
            case.toml_request()
        );
    }
    toml
}

// ---------------------------------------------------------------------------------
// Reading the CSV files

type Key = (String, String);

/// `_failures.csv`: (Method, Name) → the Error cells.
fn failures(dir: &Path) -> BTreeMap<Key, BTreeSet<String>> {
    let rows = csv_rows(&dir.join("out_failures.csv"));
    assert_eq!(
        rows[0][..3],
        ["Method", "Name", "Error"],
        "{}",
        dir.display()
    );
    let mut out: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for row in &rows[1..] {
        out.entry((row[0].clone(), row[1].clone()))
            .or_default()
            .insert(row[2].clone());
    }
    out
}

/// `_stats.csv`: (Type, Name) → (Request Count, Failure Count, Average Content Size).
fn stats(dir: &Path) -> BTreeMap<Key, (String, String, String)> {
    let rows = csv_rows(&dir.join("out_stats.csv"));
    let column = |name: &str| {
        rows[0]
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", dir.display()))
    };
    let (count, fails, size) = (
        column("Request Count"),
        column("Failure Count"),
        column("Average Content Size"),
    );
    rows[1..]
        .iter()
        .map(|row| {
            let key = (row[0].clone(), row[1].clone());
            (
                key,
                (row[count].clone(), row[fails].clone(), row[size].clone()),
            )
        })
        .collect()
}

/// The data rows of `_exceptions.csv` (tasks that raised instead of recording).
fn exceptions(dir: &Path) -> Vec<Vec<String>> {
    csv_rows(&dir.join("out_exceptions.csv")).split_off(1)
}

/// Locust's rows as locust-rs writes them where it differs on purpose (`Ours`).
#[allow(clippy::type_complexity)]
fn with_our_differences(
    cases: &[Case],
    keys: &[Key],
    mut failures: BTreeMap<Key, BTreeSet<String>>,
    mut stats: BTreeMap<Key, (String, String, String)>,
) -> (
    BTreeMap<Key, BTreeSet<String>>,
    BTreeMap<Key, (String, String, String)>,
) {
    for (case, key) in cases.iter().zip(keys) {
        match case.ours {
            Some(Ours::Name(name)) => {
                let ours = (key.0.clone(), name.to_owned());
                if let Some(rows) = failures.remove(key) {
                    failures.insert(ours.clone(), rows);
                }
                if let Some(row) = stats.remove(key) {
                    stats.insert(ours, row);
                }
            }
            Some(Ours::Size(size)) => {
                if let Some(row) = stats.get_mut(key) {
                    row.2 = size.to_owned();
                }
            }
            None => {}
        }
    }
    if let Some(total) = stats.get_mut(&(String::new(), "Aggregated".into())) {
        total.2.clear();
    }
    (failures, stats)
}

fn show(errors: Option<&BTreeSet<String>>) -> String {
    match errors {
        None => "(no failure row)".to_owned(),
        Some(set) => set
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n               | "),
    }
}

// ---------------------------------------------------------------------------------
// The test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_texts_match_locust() {
    let started = Instant::now();
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let Table { routes, cases } = table(dead);
    let keys: Vec<Key> = cases.iter().map(Case::key).collect();
    let unique: BTreeSet<&Key> = keys.iter().collect();
    assert_eq!(
        unique.len(),
        keys.len(),
        "two cases share a (method, name): {keys:?}"
    );

    let server = HostileServer::start(routes).await;
    let py_dir = tempfile::tempdir().unwrap();
    let rs_dir = tempfile::tempdir().unwrap();
    for dir in [py_dir.path(), rs_dir.path()] {
        write(dir, "locustfile.py", &locustfile(&cases));
        write(dir, "scenario.toml", &scenario(&cases));
    }
    let users = cases.len().to_string();
    let host = server.url();
    let args = [
        "--headless",
        "-H",
        &host,
        "-u",
        &users,
        "-r",
        "1000",
        "-t",
        RUN_TIME,
        "--csv",
        "out",
    ];
    let (py, rs) = both_in(py_dir.path(), rs_dir.path(), &args).await;
    drop(server);
    let (py_dir, rs_dir) = (py_dir.path(), rs_dir.path());

    // The table against Locust itself: every case requested once, recorded under its
    // expected name as a failure or a success, and no task raised.
    assert_eq!(py.status.code(), Some(1), "{}", describe("locust", &py));
    let py_failures = failures(py_dir);
    let py_stats = stats(py_dir);
    let mut table_errors = String::new();
    if !exceptions(py_dir).is_empty() {
        let _ = writeln!(
            table_errors,
            "Locust's tasks raised: {:?}",
            exceptions(py_dir)
        );
    }
    for (i, (case, key)) in cases.iter().zip(&keys).enumerate() {
        let expected = (
            String::from("1"),
            String::from(if case.fails { "1" } else { "0" }),
        );
        let got = py_stats.get(key).map(|(n, f, _)| (n.clone(), f.clone()));
        if got.as_ref() != Some(&expected) || py_failures.contains_key(key) != case.fails {
            let _ = writeln!(
                table_errors,
                "{} {} {:?} (route {}): Locust recorded (requests, failures) {got:?}, failures {:?}; \
                 the table expects {expected:?}",
                class_name(i),
                key.0,
                key.1,
                case.route,
                py_failures.get(key)
            );
        }
    }
    let total = py_stats
        .get(&(String::new(), "Aggregated".into()))
        .map(|s| s.0.clone());
    if total != Some(cases.len().to_string()) {
        let _ = writeln!(
            table_errors,
            "Locust's Aggregated request count {total:?}, {} cases",
            cases.len()
        );
    }
    assert!(
        table_errors.is_empty(),
        "the case table does not describe what Locust does:\n{table_errors}\n{}",
        describe("locust", &py)
    );

    // locust-rs against Locust, after the deliberate differences.
    let (py_failures, py_stats) = with_our_differences(&cases, &keys, py_failures, py_stats);
    let rs_failures = failures(rs_dir);
    let mut rs_stats = stats(rs_dir);
    if let Some(total) = rs_stats.get_mut(&(String::new(), "Aggregated".into())) {
        // An average over every row: any size difference above shows here too.
        total.2.clear();
    }
    let case_of = |key: &Key| {
        keys.iter()
            .position(|k| k == key)
            .map_or("(no case)".to_owned(), |i| {
                format!("{} route {}", class_name(i), cases[i].route)
            })
    };
    let mut report = String::new();
    let failure_keys: BTreeSet<&Key> = py_failures.keys().chain(rs_failures.keys()).collect();
    for key in failure_keys {
        let (p, r) = (py_failures.get(key), rs_failures.get(key));
        if p != r {
            let _ = writeln!(
                report,
                "failures {} {:?} [{}]\n  locust:    | {}\n  locust-rs: | {}",
                key.0,
                key.1,
                case_of(key),
                show(p),
                show(r)
            );
        }
    }
    let stats_keys: BTreeSet<&Key> = py_stats.keys().chain(rs_stats.keys()).collect();
    for key in stats_keys {
        let (p, r) = (py_stats.get(key), rs_stats.get(key));
        if p != r {
            let _ = writeln!(
                report,
                "stats {} {:?} [{}] (requests, failures, average content size)\n  locust:    {p:?}\n  locust-rs: {r:?}",
                key.0,
                key.1,
                case_of(key)
            );
        }
    }
    if !exceptions(rs_dir).is_empty() {
        let _ = writeln!(
            report,
            "locust-rs's exceptions.csv: {:?}",
            exceptions(rs_dir)
        );
    }
    if rs.status.code() != py.status.code() {
        let _ = writeln!(
            report,
            "exit codes: locust {:?}, locust-rs {:?}",
            py.status.code(),
            rs.status.code()
        );
    }
    eprintln!(
        "{} cases, {} failure rows in Locust, run in {:.1} s",
        cases.len(),
        py_failures.values().map(BTreeSet::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        report.is_empty(),
        "locust-rs recorded differently from Locust {}:\n{report}\n{}",
        common::locust::LOCUST_VERSION,
        text(&rs.stderr)
    );
}
