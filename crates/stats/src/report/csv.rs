//! Locust's four CSV files (§3): `_stats.csv`, `_stats_history.csv`, `_failures.csv`
//! and `_exceptions.csv`, Python-csv style (QUOTE_MINIMAL, CRLF) with Python number
//! formatting. The writer rewrites three files per pass and appends history rows.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::DateTime;
use csv::{QuoteStyle, Terminator, WriterBuilder};

use crate::entry::{Median, StatsEntry};
use crate::percentile::PERCENTILES_TO_REPORT;
use crate::pyrepr::repr_float;
use crate::stats::Stats;

/// Header of `_stats.csv` (§3.2).
pub const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
/// Header of `_stats_history.csv` (§3.3).
pub const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";
/// Header of `_failures.csv` (§3.5).
pub const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences,First Seen,Last Seen";
/// Header of `_exceptions.csv` (§3.6).
pub const EXCEPTIONS_HEADER: &str = "Count,Message,Traceback,Nodes";

/// A CSV file that could not be written, naming it.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Creating or writing a file failed.
    #[error("cannot write csv file {path}: {source}")]
    Io {
        /// The file (or folder) concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Python `str()` of a float column.
fn py_float(x: f64) -> String {
    repr_float(x)
}

/// Locust writes `min or 0` and an int 0 max before any sample: `0`, else the float.
fn zero_or_float(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        repr_float(x)
    }
}

fn median_text(m: Median) -> String {
    match m {
        Median::Bucket(b) => b.to_string(),
        Median::Exact(x) => repr_float(x),
    }
}

fn avg_content_text(e: &StatsEntry) -> String {
    e.avg_content_length()
        .map_or_else(|| "0".into(), repr_float)
}

/// The 11 percentile columns: `N/A` without requests, else the given values.
fn percentile_fields(e: &StatsEntry, value: impl Fn(f64) -> u64) -> Vec<String> {
    PERCENTILES_TO_REPORT
        .iter()
        .map(|&p| {
            if e.num_requests == 0 {
                "N/A".to_owned()
            } else {
                value(p).to_string()
            }
        })
        .collect()
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ`, empty when unknown.
fn utc_text(t: Option<f64>) -> String {
    t.and_then(|t| DateTime::from_timestamp(t.floor() as i64, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Rows to CSV text: comma, minimal quoting, embedded quotes doubled, CRLF.
fn csv_rows(rows: &[Vec<String>]) -> String {
    let mut w = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::Necessary)
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        // Writing into a Vec cannot fail.
        let _ = w.write_record(row);
    }
    w.into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// A header line and its rows.
fn to_csv(header: &str, rows: &[Vec<String>]) -> String {
    format!("{header}\r\n{}", csv_rows(rows))
}

/// `_stats.csv`: one row per entry sorted by (name, method), then Aggregated.
pub fn stats_csv(stats: &Stats) -> String {
    let rows: Vec<Vec<String>> = stats
        .sorted_entries()
        .into_iter()
        .chain([stats.total()])
        .map(|e| {
            let mut row = vec![
                e.method.clone(),
                e.name.clone(),
                e.num_requests.to_string(),
                e.num_failures.to_string(),
                median_text(e.median()),
                py_float(e.avg_response_time()),
                zero_or_float(e.min_response_time.unwrap_or(0.0)),
                zero_or_float(e.max_response_time),
                avg_content_text(e),
                py_float(stats.total_rps(e)),
                py_float(stats.total_fail_per_sec(e)),
            ];
            row.extend(percentile_fields(e, |p| e.locust_percentile(p)));
            row
        })
        .collect();
    to_csv(STATS_HEADER, &rows)
}

/// `_stats_history.csv` rows for one pass at `now` (no header): Aggregated only, or
/// every entry then Aggregated with `full_history` (then percentiles are current ones).
pub fn history_rows(stats: &Stats, user_count: u64, now: f64, full_history: bool) -> String {
    let entries = if full_history {
        stats.sorted_entries()
    } else {
        Vec::new()
    };
    let rows: Vec<Vec<String>> = entries
        .into_iter()
        .chain([stats.total()])
        .map(|e| {
            let mut row = vec![
                (now.trunc() as i64).to_string(),
                user_count.to_string(),
                e.method.clone(),
                e.name.clone(),
                format!("{:.6}", stats.current_rps(e)),
                format!("{:.6}", stats.current_fail_per_sec(e)),
            ];
            row.extend(percentile_fields(e, |p| {
                if full_history {
                    e.current_percentile(p, now).unwrap_or(0)
                } else {
                    e.locust_percentile(p)
                }
            }));
            row.extend([
                e.num_requests.to_string(),
                e.num_failures.to_string(),
                median_text(e.median()),
                py_float(e.avg_response_time()),
                zero_or_float(e.min_response_time.unwrap_or(0.0)),
                zero_or_float(e.max_response_time),
                avg_content_text(e),
            ]);
            row
        })
        .collect();
    csv_rows(&rows)
}

/// `_failures.csv`: errors sorted by their SHA-256 key, CatchResponseError kept.
pub fn failures_csv(stats: &Stats) -> String {
    let rows: Vec<Vec<String>> = stats
        .errors_by_key()
        .into_iter()
        .map(|(_, e)| {
            vec![
                e.method.clone(),
                e.name.clone(),
                e.error.clone(),
                e.occurrences.to_string(),
                utc_text(e.first_seen),
                utc_text(e.last_seen),
            ]
        })
        .collect();
    to_csv(FAILURES_HEADER, &rows)
}

/// `_exceptions.csv`: one row per distinct traceback, nodes joined by `, `.
pub fn exceptions_csv(stats: &Stats) -> String {
    let rows: Vec<Vec<String>> = stats
        .exceptions()
        .iter()
        .map(|x| {
            vec![
                x.count.to_string(),
                x.msg.clone(),
                x.traceback.clone(),
                x.nodes.join(", "),
            ]
        })
        .collect();
    to_csv(EXCEPTIONS_HEADER, &rows)
}

/// Writes the four files of `--csv PREFIX`.
#[derive(Debug)]
pub struct CsvWriter {
    prefix: String,
    full_history: bool,
    history: File,
    /// The second and file offset of the last history pass: a second pass within the
    /// same second (the final write at exit) replaces it instead of repeating it.
    last_pass: Option<(i64, u64)>,
}

impl CsvWriter {
    /// Create missing folders and all four files, write their headers and a first pass
    /// for empty statistics started at `now` (Locust's start-up row, user count 0).
    pub fn create(prefix: &str, full_history: bool, now: f64) -> Result<CsvWriter, CsvError> {
        let history_path = PathBuf::from(format!("{prefix}_stats_history.csv"));
        if let Some(dir) = history_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|source| CsvError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut history = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&history_path)
            .map_err(|source| CsvError::Io {
                path: history_path.clone(),
                source,
            })?;
        write_all(
            &mut history,
            &history_path,
            format!("{HISTORY_HEADER}\r\n").as_bytes(),
        )?;
        let mut writer = CsvWriter {
            prefix: prefix.to_owned(),
            full_history,
            history,
            last_pass: None,
        };
        writer.write(&Stats::new(now, full_history), 0, now)?;
        Ok(writer)
    }

    /// One pass: rewrite `_stats.csv`, `_failures.csv` and `_exceptions.csv`, append
    /// history rows. Call every second and once more at exit for a final snapshot.
    pub fn write(&mut self, stats: &Stats, user_count: u64, now: f64) -> Result<(), CsvError> {
        self.rewrite("_stats.csv", &stats_csv(stats))?;
        self.rewrite("_failures.csv", &failures_csv(stats))?;
        self.rewrite("_exceptions.csv", &exceptions_csv(stats))?;
        let rows = history_rows(stats, user_count, now, self.full_history);
        let path = self.path("_stats_history.csv");
        let io = |source| CsvError::Io {
            path: path.clone(),
            source,
        };
        let second = now.floor() as i64;
        let offset = match self.last_pass {
            Some((last, offset)) if last == second => {
                self.history.set_len(offset).map_err(io)?;
                self.history.seek(SeekFrom::Start(offset)).map_err(io)?;
                offset
            }
            _ => self.history.stream_position().map_err(io)?,
        };
        write_all(&mut self.history, &path, rows.as_bytes())?;
        self.last_pass = Some((second, offset));
        self.history.flush().map_err(io)
    }

    fn path(&self, suffix: &str) -> PathBuf {
        PathBuf::from(format!("{}{suffix}", self.prefix))
    }

    fn rewrite(&self, suffix: &str, text: &str) -> Result<(), CsvError> {
        let path = self.path(suffix);
        fs::write(&path, text).map_err(|source| CsvError::Io { path, source })
    }
}

fn write_all(file: &mut File, path: &Path, bytes: &[u8]) -> Result<(), CsvError> {
    file.write_all(bytes).map_err(|source| CsvError::Io {
        path: path.to_path_buf(),
        source,
    })
}
