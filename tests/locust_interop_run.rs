//! Locust interoperability, part 3 of 3: short headless runs of the real Locust
//! 2.47.0 and of locust-rs side by side, comparing the `--json` entries and their key
//! order, the exit codes (clean run, failures, bad run time, unknown user class), the
//! log lines (`[time] host/LEVEL/logger: message`) and argparse-style argument errors.
//! The side-by-side machinery lives in `tests/common/locust.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::locust::*;
use common::*;

/// Key order of each `--json` object (StatsEntry's wire form).
const JSON_KEYS: [&str; 14] = [
    "name",
    "method",
    "last_request_timestamp",
    "start_time",
    "num_requests",
    "num_none_requests",
    "num_failures",
    "total_response_time",
    "max_response_time",
    "min_response_time",
    "total_content_length",
    "response_times",
    "num_reqs_per_sec",
    "num_fail_per_sec",
];

/// The `--json` array on stdout: per entry (name, method) and its keys in order.
fn json_entries(stdout: &[u8]) -> Vec<((String, String), Vec<String>)> {
    let value: serde_json::Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", text(stdout)));
    let mut entries: Vec<((String, String), Vec<String>)> = value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|entry| {
            let object = entry.as_object().expect("an object per entry");
            for key in ["response_times", "num_reqs_per_sec", "num_fail_per_sec"] {
                let map = object[key].as_object().expect("an object");
                assert!(map.keys().all(|k| is_python_int(k)), "{key}: {map:?}");
                assert!(
                    map.values().all(serde_json::Value::is_u64),
                    "{key}: {map:?}"
                );
            }
            (
                (
                    object["name"].as_str().unwrap().to_owned(),
                    object["method"].as_str().unwrap().to_owned(),
                ),
                object.keys().cloned().collect(),
            )
        })
        .collect();
    // Entries come in creation order, which depends on timing.
    entries.sort();
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_keys_match_locust() {
    let run = headless_both(&clean_reader(), "2s", &["--json", "--only-summary"]).await;
    run.assert_exit_codes(0);
    let (py, rs) = (&run.py, &run.rs);
    let py_entries = json_entries(&py.stdout);
    let names: Vec<&(String, String)> = py_entries.iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            &("/health".to_owned(), "GET".to_owned()),
            &("/users".to_owned(), "GET".to_owned())
        ]
    );
    for (_, keys) in &py_entries {
        assert_eq!(keys, &JSON_KEYS, "locust's keys");
    }
    assert_eq!(
        json_entries(&rs.stdout),
        py_entries,
        "--json entries and keys"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_match_locust() {
    let run = headless_both(&clean_reader(), "1s", &["--only-summary"]).await;
    run.assert_exit_codes(0);

    let run = headless_both(&reader_with_failures(), "1s", &["--only-summary"]).await;
    run.assert_exit_codes(1);

    let run = headless_both(&clean_reader(), "1x", &[]).await;
    run.assert_exit_codes(2);
    run.assert_stderr_contains(
        "Invalid time span format. Valid formats: 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.",
    );

    let run = headless_both(&clean_reader(), "1s", &["Nope"]).await;
    run.assert_exit_codes(1);
    run.assert_stderr_contains("Unknown User(s): Nope");
}

/// Locust's log lines, `[YYYY-MM-DD HH:MM:SS,mmm] host/LEVEL/logger: message`, as
/// (`host/LEVEL/logger`, message), without the start-up line that names the tool.
fn log_messages(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|line| {
            let b = line.as_bytes();
            let stamped = b.len() > 26
                && b[0] == b'['
                && b[24] == b']'
                && b[25] == b' '
                && line[1..24].bytes().enumerate().all(|(i, c)| match i {
                    4 | 7 => c == b'-',
                    10 => c == b' ',
                    13 | 16 => c == b':',
                    19 => c == b',',
                    _ => c.is_ascii_digit(),
                });
            if !stamped {
                return None;
            }
            let (source, message) = line[26..].split_once(": ")?;
            Some((source.to_owned(), message.to_owned()))
        })
        .filter(|(_, message)| !message.starts_with("Starting "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_log_lines_match_locust() {
    let run = headless_both(&reader_with_failures(), "2s", &["--only-summary"]).await;
    let py_log = log_messages(&text(&run.py.stderr));
    let messages: Vec<&str> = py_log.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Run time limit set to 2 seconds",
            "Ramping to 3 users at a rate of 3.00 per second",
            "All users spawned: {\"Reader\": 3} (3 total users)",
            "--run-time limit reached, shutting down",
            "Shutting down (exit code 1)",
        ],
        "{}",
        text(&run.py.stderr)
    );
    assert_eq!(
        log_messages(&text(&run.rs.stderr)),
        py_log,
        "{}",
        text(&run.rs.stderr)
    );
}

#[tokio::test]
async fn argument_errors_match_locust() {
    let dir = scenario_dir(&clean_reader());
    let (py, rs) = both(dir.path(), &["--headless", "-t", "1x"]).await;
    let expected = "error: argument -t/--run-time: Invalid time span format. Valid formats: \
                    20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.\n";
    assert_eq!(text(&py.stderr), format!("locust: {expected}"));
    assert_eq!(text(&rs.stderr), format!("locust-rs: {expected}"));

    let (py, rs) = both(dir.path(), &["--headless", "-t", "1s", "Nope"]).await;
    let py_log = log_messages(&text(&py.stderr));
    assert!(
        py_log
            .iter()
            .any(|(source, message)| source.ends_with("/ERROR/locust.main")
                && message == "Unknown User(s): Nope"),
        "{}",
        text(&py.stderr)
    );
    // The ERROR line is the same; locust-rs adds a line naming the classes that exist.
    let rs_log = log_messages(&text(&rs.stderr));
    for line in &py_log {
        assert!(
            rs_log.contains(line),
            "{line:?} missing: {}",
            text(&rs.stderr)
        );
    }
    assert!(
        rs_log
            .iter()
            .any(|(_, m)| m.contains("Available User classes: Reader")),
        "{}",
        text(&rs.stderr)
    );
}
