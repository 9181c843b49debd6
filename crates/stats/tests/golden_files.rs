//! Golden tests of the CSV files (§3.2, §3.3, §3.5, §3.6) and `--json` (§4.2) against
//! the literal samples of locust-compat.md, plus the CsvWriter's files on disk.

use locust_stats::report::csv::{
    exceptions_csv, failures_csv, history_rows, stats_csv, CsvWriter, HISTORY_HEADER, STATS_HEADER,
};
use locust_stats::report::json::entries_json;
use locust_stats::{Recorder, Stats, StatsEntry};

fn crlf(text: &str) -> String {
    text.lines().map(|l| format!("{l}\r\n")).collect()
}

fn repeat(v: f64, n: usize) -> Vec<f64> {
    vec![v; n]
}

/// An entry whose histogram holds `samples` and whose exact fields are the given ones.
fn entry(
    name: &str,
    method: &str,
    samples: &[f64],
    fails: u64,
    total_rt: f64,
    content: u64,
) -> StatsEntry {
    let mut e = StatsEntry::new(name, method, 1795716764.5);
    for &ms in samples {
        e.log(Some(ms), 0, 1795716765.0);
    }
    for _ in 0..fails {
        e.log_error(1795716765.0);
    }
    e.total_response_time = total_rt;
    e.total_content_length = content;
    e
}

#[test]
fn headers_are_byte_identical() {
    assert_eq!(
        format!("{STATS_HEADER}\n"),
        include_str!("golden/stats_csv_header.txt")
    );
    assert_eq!(
        format!("{HISTORY_HEADER}\n"),
        include_str!("golden/history_header.txt")
    );
}

#[test]
fn stats_csv_matches_section_3_2() {
    let (min, max) = (1.051888000006329, 27.501953000012236);
    let get = [
        vec![min],
        repeat(2.0, 30),
        repeat(3.0, 11),
        repeat(4.0, 3),
        vec![max],
    ]
    .concat();
    let post = [1.7587490000039452, 2.6, 2.7, 2.8, 2.85, 2.8622229999939464];
    let total = [
        vec![0.6526189999931375],
        repeat(2.0, 58),
        repeat(3.0, 21),
        repeat(4.0, 6),
        vec![24.0, max],
    ]
    .concat();
    let mut stats = Stats::new(1795716764.5, false);
    stats.merge_entry(&entry("/", "GET", &get, 19, 123.85267699997371, 276));
    stats.merge_entry(&entry("/", "POST", &post, 6, 13.824566000010917, 2142));
    let mut total = entry("Aggregated", "", &total, 50, 254.13264600004482, 7509);
    total.last_request_timestamp = Some(1795716768.3825767);
    stats.merge_total(&total);
    let want = format!(
        "{STATS_HEADER}\r\n{}",
        crlf(include_str!("golden/stats_csv_rows.txt"))
    );
    assert_eq!(stats_csv(&stats), want);
}

#[test]
fn failures_csv_matches_section_3_5_and_sorts_by_key() {
    let r = Recorder::new(2);
    let t0 = 1795716764.2; // 2026-11-26T18:12:44Z
    for i in 0..19 {
        let t = t0 + i as f64 * 0.22;
        r.handle(0).record_at(
            "GET",
            "/",
            Some(1.0),
            0,
            Some("CatchResponseError('Got wrong response')"),
            t,
        );
    }
    for i in 0..10 {
        let t = t0 + 1.0 + i as f64 * 0.33;
        r.handle(1).record_at(
            "GET",
            "/nothing",
            Some(1.0),
            0,
            Some("ConnectionRefusedError(111, 'Connection refused')"),
            t,
        );
    }
    let mut stats = Stats::new(t0, false);
    stats.absorb(&r);
    // First-seen order is / then /nothing; the key order puts /nothing first.
    assert_eq!(stats.errors()[0].name, "/");
    let want = format!(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\r\n{}",
        crlf(include_str!("golden/failures_rows.txt"))
    );
    assert_eq!(failures_csv(&stats), want);
}

#[test]
fn exceptions_csv_quotes_multiline_tracebacks() {
    let mut stats = Stats::new(0.0, false);
    let tb = "Traceback (most recent call last):\n  File \"x.py\", line 3, in task\nZeroDivisionError: division by zero\n";
    stats.log_exception("local", "division by zero", tb);
    stats.log_exception("worker_a", "division by zero", tb);
    let want = "Count,Message,Traceback,Nodes\r\n2,division by zero,\"Traceback (most recent call last):\n  File \"\"x.py\"\", line 3, in task\nZeroDivisionError: division by zero\n\",\"local, worker_a\"\r\n";
    assert_eq!(exceptions_csv(&stats), want);
}

#[test]
fn history_rows_follow_section_3_3() {
    let na = ["N/A"; 11].join(",");
    let empty = Stats::new(1795716764.3, false);
    assert_eq!(
        history_rows(&empty, 0, 1795716764.9, false),
        format!("1795716764,0,,Aggregated,0.000000,0.000000,{na},0,0,0,0.0,0,0,0\r\n")
    );
    let r = Recorder::new(1);
    for s in 0..6 {
        for _ in 0..8 {
            r.handle(0)
                .record_at("GET", "/", Some(2.0), 5, None, 100.5 + s as f64);
        }
    }
    let mut stats = Stats::new(100.0, true);
    stats.absorb(&r);
    let text = history_rows(&stats, 3, 106.2, true);
    let lines: Vec<&str> = text.split("\r\n").collect();
    // Full history: the entry, then Aggregated; current percentiles are 0 without a
    // snapshot, cumulative columns as in _stats.csv.
    let zeros = ["0"; 11].join(",");
    assert_eq!(
        lines[0],
        format!("106,3,GET,/,8.000000,0.000000,{zeros},48,0,2,2.0,2.0,2.0,5.0")
    );
    assert_eq!(
        lines[1],
        format!("106,3,,Aggregated,8.000000,0.000000,{zeros},48,0,2,2.0,2.0,2.0,5.0")
    );
    let cumulative = ["2"; 11].join(",");
    assert!(history_rows(&stats, 3, 106.2, false).contains(&format!(",{cumulative},48,")));
}

#[test]
fn writer_creates_folders_and_all_four_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = dir.path().join("out/run").to_string_lossy().into_owned();
    let mut w = CsvWriter::create(&prefix, false, 1795716764.9).expect("create");
    let read = |suffix: &str| std::fs::read_to_string(format!("{prefix}{suffix}")).expect("read");
    let na = ["N/A"; 11].join(",");
    assert_eq!(
        read("_stats.csv"),
        format!("{STATS_HEADER}\r\n,Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,{na}\r\n")
    );
    assert_eq!(
        read("_stats_history.csv"),
        format!("{HISTORY_HEADER}\r\n1795716764,0,,Aggregated,0.000000,0.000000,{na},0,0,0,0.0,0,0,0\r\n")
    );
    assert_eq!(
        read("_failures.csv"),
        "Method,Name,Error,Occurrences,First Seen,Last Seen\r\n"
    );
    assert_eq!(read("_exceptions.csv"), "Count,Message,Traceback,Nodes\r\n");
    let r = Recorder::new(1);
    r.handle(0)
        .record_at("GET", "/", Some(3.0), 2, Some("boom"), 1795716765.5);
    let mut stats = Stats::new(1795716764.9, false);
    stats.absorb(&r);
    w.write(&stats, 1, 1795716766.0).expect("write");
    assert_eq!(read("_stats_history.csv").lines().count(), 3);
    assert!(read("_stats.csv").contains("\r\nGET,/,1,1,3,3.0,3.0,3.0,2.0,"));
    assert!(read("_failures.csv")
        .contains("GET,/,boom,1,2026-11-26T18:12:45Z,2026-11-26T18:12:45Z\r\n"));
}

#[test]
fn json_matches_python_json_dumps() {
    let mut stats = Stats::new(1795717464.0, false);
    let mut e = StatsEntry::new("/", "GET", 1795717464.4048662);
    let samples = [
        1.3438359999327076,
        1.4,
        1.45,
        2.0,
        2.1,
        1.9,
        2.2,
        2.3,
        3.0,
        2.9,
        3.1,
        2.8,
        3.1274909999865486,
    ];
    let times = [
        64.5, 64.6, 64.7, 65.1, 65.2, 65.3, 65.4, 65.5, 65.6, 66.1, 66.2, 66.3, 66.9182928,
    ];
    for (&ms, &t) in samples.iter().zip(&times) {
        e.log(Some(ms), 6, 1795717400.0 + t);
    }
    e.last_request_timestamp = Some(1795717466.9182928);
    e.total_response_time = 27.682512000069437;
    stats.merge_entry(&e);
    let r = Recorder::new(1);
    r.handle(0)
        .record_at("GET", "/missing é", Some(2.0), 0, Some("x"), 1795717465.25);
    r.handle(0)
        .record_at("GET", "/missing é", Some(2.5), 0, Some("x"), 1795717465.5);
    stats.absorb(&r);
    assert_eq!(entries_json(&stats), include_str!("golden/entries.json"));
    // After a reset the entries stay but, being empty, are left out.
    stats.reset(1795717470.0);
    assert_eq!(entries_json(&stats), "[]");
}

#[test]
fn a_second_pass_in_the_same_second_replaces_the_history_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = dir.path().join("run").to_string_lossy().into_owned();
    let mut w = CsvWriter::create(&prefix, false, 1795716764.1).expect("create");
    let r = Recorder::new(1);
    let mut stats = Stats::new(1795716764.1, false);
    r.handle(0)
        .record_at("GET", "/", Some(3.0), 2, None, 1795716765.2);
    stats.absorb(&r);
    w.write(&stats, 1, 1795716766.1).expect("tick");
    r.handle(0)
        .record_at("GET", "/", Some(3.0), 2, None, 1795716766.5);
    stats.absorb(&r);
    w.write(&stats, 1, 1795716766.9).expect("final write");
    let history = std::fs::read_to_string(format!("{prefix}_stats_history.csv")).expect("read");
    let rows: Vec<&str> = history.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{history}");
    assert!(
        rows[1].starts_with("1795716766,1,,Aggregated,"),
        "{history}"
    );
    assert!(
        rows[1].contains(",2,0,"),
        "the replacing row has the final count: {history}"
    );
}
