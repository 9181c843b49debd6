//! Golden tests of the console tables against the literal samples of locust-compat.md
//! §2.3, §2.5 and §2.6 (copied verbatim into tests/golden/), built from recorded data.

use locust_stats::report::console::{
    error_report, final_summary, percentile_table, stats_table, DEFAULT_NAME_WIDTH,
};
use locust_stats::{Rates, Recorder, Stats, StatsEntry};

const LONG: &str = "/a_very_long_request_name_yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy";

/// How many of an entry's requests fail, fall in the current-rate window (seconds
/// 1000/1001) and fail in that window; the rest end at 1004.5.
struct Plan {
    fails: usize,
    in_window: usize,
    fails_in_window: usize,
}

/// Record `samples` for one entry following `plan`.
fn record(r: &Recorder, shard: usize, (method, name): (&str, &str), samples: &[f64], plan: Plan) {
    let Plan {
        fails,
        in_window,
        fails_in_window,
    } = plan;
    let h = r.handle(shard);
    let outside_fails = fails - fails_in_window;
    for (i, &ms) in samples.iter().enumerate() {
        let (now, failed) = if i < in_window {
            (1000.5 + (i % 2) as f64, i < fails_in_window)
        } else {
            (1004.5, i - in_window < outside_fails)
        };
        h.record_at(method, name, Some(ms), 0, failed.then_some("x"), now);
    }
}

fn repeat(v: f64, n: usize) -> Vec<f64> {
    vec![v; n]
}

fn cat(parts: &[Vec<f64>]) -> Vec<f64> {
    parts.concat()
}

#[test]
fn periodic_stats_table_matches_section_2_3() {
    let r = Recorder::new(3);
    let get = cat(&[
        repeat(1.05, 10),
        repeat(2.0, 30),
        repeat(3.0, 5),
        vec![27.5],
    ]);
    record(
        &r,
        0,
        ("GET", "/"),
        &get,
        Plan {
            fails: 19,
            in_window: 15,
            fails_in_window: 8,
        },
    );
    let post = cat(&[vec![1.76], repeat(2.0, 4), vec![2.86]]);
    record(
        &r,
        1,
        ("POST", "/"),
        &post,
        Plan {
            fails: 6,
            in_window: 3,
            fails_in_window: 3,
        },
    );
    let long = cat(&[
        vec![1.2],
        repeat(2.0, 2),
        repeat(3.0, 4),
        repeat(4.0, 2),
        vec![5.0, 22.3],
    ]);
    record(
        &r,
        2,
        ("GET", LONG),
        &long,
        Plan {
            fails: 0,
            in_window: 3,
            fails_in_window: 0,
        },
    );
    let missing = cat(&[vec![1.3], repeat(2.0, 9), repeat(3.0, 4), vec![23.2]]);
    record(
        &r,
        0,
        ("GET", "/missing?id=[id]"),
        &missing,
        Plan {
            fails: 15,
            in_window: 5,
            fails_in_window: 5,
        },
    );
    let nothing = cat(&[vec![0.4], repeat(1.1, 8), vec![1.9]]);
    record(
        &r,
        1,
        ("GET", "/nothing"),
        &nothing,
        Plan {
            fails: 10,
            in_window: 6,
            fails_in_window: 6,
        },
    );
    // The last request ends at 1004.5: the current window is seconds 1000 and 1001.
    let mut stats = Stats::new(1000.0, false);
    stats.absorb(&r);
    assert_eq!(stats.last_request_timestamp(), Some(1004.5));
    let want = include_str!("golden/stats_table_periodic.txt");
    assert_eq!(
        stats_table(&stats, Rates::Current, DEFAULT_NAME_WIDTH),
        want
    );
}

fn entry(name: &str, method: &str, samples: &[f64], fails: u64, at: f64) -> StatsEntry {
    let mut e = StatsEntry::new(name, method, at);
    for &ms in samples {
        e.log(Some(ms), 0, at);
    }
    for _ in 0..fails {
        e.log_error(at);
    }
    e
}

#[test]
fn final_tables_match_section_2_6() {
    let start = 1795716774.0;
    let last = start + 3.688;
    let mut stats = Stats::new(start, false);
    let get = cat(&[
        repeat(1.2, 10),
        repeat(2.2, 16),
        repeat(3.0, 8),
        repeat(4.0, 12),
        repeat(5.0, 3),
        vec![6.0],
        repeat(15.0, 2),
    ]);
    let post = cat(&[
        vec![1.0],
        repeat(2.0, 6),
        repeat(3.0, 3),
        vec![5.0, 6.0, 17.0, 18.7],
    ]);
    let missing = [2.0, 2.2, 3.0, 7.0];
    let nothing = cat(&[vec![0.3], repeat(0.4, 3), repeat(1.6, 2), vec![2.6, 4.0]]);
    stats.merge_entry(&entry("/", "GET", &get, 12, last));
    stats.merge_entry(&entry("/", "POST", &post, 14, last));
    stats.merge_entry(&entry("/missing?id=[id]", "GET", &missing, 4, last));
    stats.merge_entry(&entry("/nothing", "GET", &nothing, 8, last));
    // Locust's sample has 85 requests in the total (the master merges totals itself).
    let total = cat(&[
        vec![0.4],
        repeat(2.0, 41),
        repeat(3.0, 15),
        repeat(4.0, 19),
        repeat(6.0, 4),
        repeat(7.0, 3),
        vec![17.0, 18.7],
    ]);
    stats.merge_total(&entry("Aggregated", "", &total, 38, last));
    let want = include_str!("golden/final_summary_tables.txt");
    assert_eq!(final_summary(&stats, DEFAULT_NAME_WIDTH), want);
    let (table, rest) = want.split_at(want.find("Response time").expect("percentile table"));
    assert_eq!(stats_table(&stats, Rates::Total, DEFAULT_NAME_WIDTH), table);
    assert_eq!(percentile_table(&stats, DEFAULT_NAME_WIDTH), rest);
}

#[test]
fn error_report_matches_section_2_5() {
    let r = Recorder::new(4);
    let errors: [(&str, &str, &str, usize); 4] = [
        (
            "POST",
            "/",
            "HTTPError(\"501 Server Error: Unsupported method ('POST') for url: /\")",
            14,
        ),
        ("GET", "/", "CatchResponseError('Got wrong response')", 12),
        (
            "GET",
            "/missing?id=[id]",
            "HTTPError('404 Client Error: File not found for url: /missing?id=[id]')",
            4,
        ),
        (
            "GET",
            "/nothing",
            "ConnectionRefusedError(111, 'Connection refused')",
            8,
        ),
    ];
    // Each error on its own shard, first seen in the listed order.
    for (i, (method, name, error, n)) in errors.iter().enumerate() {
        for k in 0..*n {
            r.handle(3 - i).record_at(
                method,
                name,
                Some(1.0),
                0,
                Some(error),
                100.0 + i as f64 + k as f64 * 0.01,
            );
        }
    }
    let mut stats = Stats::new(99.0, false);
    assert_eq!(error_report(&stats, DEFAULT_NAME_WIDTH), None);
    stats.absorb(&r);
    let want = include_str!("golden/error_report.txt");
    assert_eq!(
        error_report(&stats, DEFAULT_NAME_WIDTH).as_deref(),
        Some(want)
    );
}

#[test]
fn empty_periodic_table_has_only_separators_and_aggregated() {
    let stats = Stats::new(5.0, false);
    let table = stats_table(&stats, Rates::Current, DEFAULT_NAME_WIDTH);
    let lines: Vec<&str> = table.split('\n').collect();
    assert_eq!(lines.len(), 6); // header, sep, sep, Aggregated, empty line, ""
    assert!(lines[3].starts_with("         Aggregated "));
    assert!(lines[3]
        .ends_with("      0     0(0.00%) |      0       0       0      0 |    0.00        0.00"));
}
