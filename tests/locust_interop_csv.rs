//! Locust interoperability, part 2 of 3: a short headless `--csv --only-summary` run
//! of the real Locust 2.47.0 and of locust-rs side by side, comparing what Locust's
//! formats fix: the four CSV files' header lines (CRLF included), their row structure
//! and value kinds, the failure rows and their order, and the final console tables'
//! header, separator and title lines. Values that depend on timing are not compared.
//! The side-by-side machinery lives in `tests/common/locust.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::locust::*;
use common::*;

const STATS_HEADER_START: &str = "Type     Name    ";
const PERCENTILE_TITLE: &str = "Response time percentiles (approximated)";
const ERROR_TITLE: &str = "Error report";

/// The final summary (the lines after `Shutting down (exit code N)`), reduced to what
/// Locust's format fixes: header, separator and title lines and empty lines as they
/// are; for a stats row its Type and Name columns and where its `|` columns sit; for
/// a percentile row its Type and Name columns and its length; for an error row its
/// text after the count. Error rows come in first-seen order, so they are sorted.
fn summary_shape(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| l.contains("Shutting down (exit code "))
        .map_or(0, |i| i + 1);
    let mut section = "stats";
    let mut shape = Vec::new();
    let mut error_rows = Vec::new();
    for line in &lines[start..] {
        let literal = line.is_empty()
            || line.starts_with("Type ")
            || line.starts_with('-')
            || line.starts_with("# occurrences")
            || *line == PERCENTILE_TITLE
            || *line == ERROR_TITLE;
        if *line == PERCENTILE_TITLE {
            section = "percentiles";
        } else if *line == ERROR_TITLE {
            section = "errors";
        }
        if literal {
            shape.push((*line).to_owned());
            continue;
        }
        match section {
            "stats" => {
                let pipes: Vec<usize> = line.match_indices('|').map(|(i, _)| i).collect();
                shape.push(format!(
                    "stats row {:?} len {} pipes at {pipes:?}",
                    line.get(..85).unwrap_or(line),
                    line.len()
                ));
            }
            "percentiles" => shape.push(format!(
                "percentile row {:?} len {}",
                line.get(..89).unwrap_or(line),
                line.len()
            )),
            _ => {
                let (count, rest) = line.split_at(line.len().min(19));
                assert!(
                    count.trim().parse::<u64>().is_ok(),
                    "error row without a count: {line:?}"
                );
                error_rows.push(format!("error row {rest:?} len {}", line.len()));
            }
        }
    }
    error_rows.sort();
    // Error rows sit between the error report's second separator and its end.
    if let Some(at) = shape
        .iter()
        .rposition(|l| l.starts_with("------------------|"))
    {
        shape.splice(at..at, error_rows);
    } else {
        shape.extend(error_rows);
    }
    shape
}

fn count_stats_headers(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with(STATS_HEADER_START) && l.contains("# fails"))
        .count()
}

fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first line of a file, CRLF included.
fn header_line(path: &Path) -> String {
    let bytes = read_bytes(path);
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(bytes.len(), |i| i + 2);
    text(&bytes[..end])
}

fn is_python_float(s: &str) -> bool {
    s.parse::<f64>().is_ok() && (s.contains('.') || s.contains('e'))
}

fn is_utc_second(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// What a `_stats.csv` row must look like whatever the timing: Type and Name, the
/// field count, which failure pattern (none / all), the average content size of a
/// request row (fixed per route here), and Python's int/float kinds per column.
fn stats_row_shape(row: &[String]) -> String {
    let failures = match (row[3].as_str(), row[3] == row[2]) {
        ("0", _) => "no failures",
        (_, true) => "all failed",
        _ => "some failed",
    };
    let content = if row[1] == "Aggregated" {
        String::new()
    } else {
        row[8].clone()
    };
    let ints = [2, 3]
        .iter()
        .chain(&[11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    let floats = [5, 8, 9, 10];
    for &i in ints {
        assert!(is_python_int(&row[i]), "column {i} is not an int: {row:?}");
    }
    for i in floats {
        assert!(
            is_python_float(&row[i]),
            "column {i} is not a float: {row:?}"
        );
    }
    for i in [4, 6, 7] {
        assert!(
            is_python_int(&row[i]) || is_python_float(&row[i]),
            "column {i} is not a number: {row:?}"
        );
    }
    format!(
        "{:?} {:?} {} fields, {failures}, content {content}",
        row[0],
        row[1],
        row.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_csv_files_and_console_tables_match_locust() {
    let run = headless_both(
        &reader_with_failures(),
        "3s",
        &["--csv", "out/run", "--only-summary"],
    )
    .await;
    run.assert_exit_codes(1);
    let (py, rs) = (&run.py, &run.rs);
    let (py_err, rs_err) = (text(&py.stderr), text(&rs.stderr));
    let both_err = format!("--- locust:\n{py_err}\n--- locust-rs:\n{rs_err}");

    // Console: with --only-summary the stats table is printed once, at the end.
    assert_eq!(count_stats_headers(&py_err), 1, "{both_err}");
    assert_eq!(
        count_stats_headers(&rs_err),
        count_stats_headers(&py_err),
        "the stats table is printed a different number of times\n{both_err}"
    );
    let py_shape = summary_shape(&py_err);
    let rs_shape = summary_shape(&rs_err);
    assert!(py_shape.iter().any(|l| l == PERCENTILE_TITLE), "{both_err}");
    assert!(py_shape.iter().any(|l| l == ERROR_TITLE), "{both_err}");
    assert_eq!(
        rs_shape.join("\n"),
        py_shape.join("\n"),
        "final summary layout\n{both_err}"
    );

    let file =
        |dir: &tempfile::TempDir, suffix: &str| dir.path().join(format!("out/run_{suffix}.csv"));
    // All four files: byte-identical header lines (CRLF included).
    for suffix in ["stats", "stats_history", "failures", "exceptions"] {
        assert_eq!(
            header_line(&file(&run.rs_dir, suffix)),
            header_line(&file(&run.py_dir, suffix)),
            "header of _{suffix}.csv"
        );
    }

    // _stats.csv: the same rows in the same order, Aggregated last, same kinds.
    let py_rows = csv_rows(&file(&run.py_dir, "stats"));
    let rs_rows = csv_rows(&file(&run.rs_dir, "stats"));
    let shape = |rows: &[Vec<String>]| -> Vec<String> {
        rows[1..].iter().map(|r| stats_row_shape(r)).collect()
    };
    let py_stats = shape(&py_rows);
    assert_eq!(py_stats.len(), 5, "locust's _stats.csv: {py_rows:?}");
    assert!(
        py_stats[4].starts_with("\"\" \"Aggregated\""),
        "{py_stats:?}"
    );
    assert_eq!(shape(&rs_rows), py_stats, "_stats.csv rows");

    // _stats_history.csv: only Aggregated rows (no --csv-full-history) of the same
    // width; the start-up row is the same apart from its timestamp.
    let history = |dir: &tempfile::TempDir| -> Vec<Vec<String>> {
        let rows = csv_rows(&file(dir, "stats_history"));
        for row in &rows[1..] {
            assert_eq!(row.len(), 24, "{row:?}");
            assert_eq!(
                (row[2].as_str(), row[3].as_str()),
                ("", "Aggregated"),
                "{row:?}"
            );
            assert!(is_python_int(&row[0]) && is_python_int(&row[1]), "{row:?}");
            for rate in &row[4..6] {
                let (whole, decimals) = rate.split_once('.').unwrap_or((rate, ""));
                assert!(is_python_int(whole) && decimals.len() == 6, "{row:?}");
            }
        }
        rows
    };
    let py_history = history(&run.py_dir);
    let rs_history = history(&run.rs_dir);
    assert!(py_history.len() >= 3, "{py_history:?}");
    assert_eq!(
        rs_history[1][1..],
        py_history[1][1..],
        "the start-up history row"
    );

    // _failures.csv: the same (method, name, error) rows in the same (key) order.
    let failures = |dir: &tempfile::TempDir| -> Vec<(String, String, String)> {
        csv_rows(&file(dir, "failures"))[1..]
            .iter()
            .map(|row| {
                assert_eq!(row.len(), 6, "{row:?}");
                assert!(is_python_int(&row[3]) && row[3] != "0", "{row:?}");
                assert!(is_utc_second(&row[4]) && is_utc_second(&row[5]), "{row:?}");
                (row[0].clone(), row[1].clone(), row[2].clone())
            })
            .collect()
    };
    let py_failures = failures(&run.py_dir);
    let expected_404 = (
        "GET".to_owned(),
        "/users/[missing]".to_owned(),
        "HTTPError('404 Client Error: Not Found for url: /users/[missing]')".to_owned(),
    );
    assert!(py_failures.contains(&expected_404), "{py_failures:?}");
    assert_eq!(py_failures.len(), 2, "{py_failures:?}");
    assert_eq!(failures(&run.rs_dir), py_failures, "_failures.csv rows");

    // _exceptions.csv: nothing raised.
    assert_eq!(csv_rows(&file(&run.py_dir, "exceptions")).len(), 1);
    assert_eq!(csv_rows(&file(&run.rs_dir, "exceptions")).len(), 1);
}
