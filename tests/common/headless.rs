//! Headless runs of the real binary in a temporary folder, for the end-to-end tests
//! that read what the run left behind: exit code, output, `_stats.csv` rows and
//! `_failures.csv` errors, wall time and peak memory.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::{csv_rows, text, write, BIN};

/// The longest any run may take before the test kills it and fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A finished run of the binary and what it left in its temporary folder.
pub struct Run {
    pub dir: tempfile::TempDir,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// From start to exit.
    pub wall: Duration,
    /// The highest VmHWM (peak resident set, KiB) read while the process ran.
    pub peak_rss_kb: u64,
}

/// One row of `_stats.csv`.
#[derive(Debug)]
pub struct Row {
    pub requests: u64,
    pub failures: u64,
    pub avg_size: f64,
}

impl Run {
    pub fn csv(&self, suffix: &str) -> Vec<Vec<String>> {
        csv_rows(&self.dir.path().join(format!("out_{suffix}.csv")))
    }

    /// The stats row of `method name` (None when the tool never recorded it).
    pub fn row(&self, method: &str, name: &str) -> Option<Row> {
        let rows = self.csv("stats");
        let header = &rows[0];
        let col = |n: &str| header.iter().position(|h| h == n).unwrap();
        let (ty, nm) = (col("Type"), col("Name"));
        let (rc, fc, sz) = (
            col("Request Count"),
            col("Failure Count"),
            col("Average Content Size"),
        );
        rows[1..]
            .iter()
            .find(|r| r[ty] == method && r[nm] == name)
            .map(|r| Row {
                requests: r[rc].parse().unwrap(),
                failures: r[fc].parse().unwrap(),
                avg_size: r[sz].parse().unwrap(),
            })
    }

    /// Request and failure counts of `method name`; (0, 0) when it has no row.
    pub fn counts(&self, method: &str, name: &str) -> (u64, u64) {
        self.row(method, name)
            .map_or((0, 0), |r| (r.requests, r.failures))
    }

    /// The `Aggregated` row's request and failure counts.
    pub fn totals(&self) -> (u64, u64) {
        self.counts("", "Aggregated")
    }

    /// Error texts (with occurrences) recorded for `method name`.
    pub fn errors(&self, method: &str, name: &str) -> Vec<(String, u64)> {
        let rows = self.csv("failures");
        let header = &rows[0];
        let col = |n: &str| header.iter().position(|h| h == n).unwrap();
        let (m, n, e, o) = (col("Method"), col("Name"), col("Error"), col("Occurrences"));
        rows[1..]
            .iter()
            .filter(|r| r[m] == method && r[n] == name)
            .map(|r| (r[e].clone(), r[o].parse().unwrap()))
            .collect()
    }

    /// `method name` was recorded exactly once, as a failure with exactly `error`.
    pub fn assert_failed_once(&self, method: &str, name: &str, error: &str) {
        assert_eq!(
            self.counts(method, name),
            (1, 1),
            "{method} {name}: one request, one failure\n{}",
            self.describe()
        );
        assert_eq!(
            self.errors(method, name),
            [(error.to_string(), 1)],
            "{method} {name}\n{}",
            self.describe()
        );
    }

    /// `method name` was recorded exactly once, as a success.
    pub fn assert_succeeded_once(&self, method: &str, name: &str) {
        assert_eq!(
            self.counts(method, name),
            (1, 0),
            "{method} {name}: one request, no failure\n{}",
            self.describe()
        );
    }

    /// Exited by itself with `code` (a panic's 101 or a signal never is), no panic.
    pub fn assert_exit(&self, code: i32) {
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked\n{}",
            self.describe()
        );
        assert_eq!(self.code, Some(code), "exit code\n{}", self.describe());
    }

    /// Exited by itself with 0 or 1 (Locust's codes for a run with or without failed
    /// requests): not 101 (a panic), not killed by a signal (an abort), no panic message.
    pub fn assert_survived(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked\n{}",
            self.describe()
        );
        assert!(
            matches!(self.code, Some(0 | 1)),
            "exit code\n{}",
            self.describe()
        );
    }

    pub fn describe(&self) -> String {
        let read = |s| std::fs::read_to_string(self.dir.path().join(s)).unwrap_or_default();
        format!(
            "exit {:?} after {:?}, peak RSS {} KiB\n--- _stats.csv\n{}--- _failures.csv\n{}--- stderr (tail)\n{}--- stdout (tail)\n{}",
            self.code,
            self.wall,
            self.peak_rss_kb,
            read("out_stats.csv"),
            read("out_failures.csv"),
            tail(&self.stderr),
            tail(&self.stdout),
        )
    }
}

pub fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(3000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

/// VmHWM of a live process, in KiB (0 once it is gone).
fn vm_hwm_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Writes `scenario` as `s.toml` into a fresh folder and runs `--headless -f s.toml -H
/// host --csv out` followed by `args` there, with no `LOCUST_*` or proxy variable from
/// the test's environment. Polls the peak RSS while it runs; killed after 60 s.
pub async fn run(scenario: &str, host: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", scenario);
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["--headless", "-f", "s.toml", "-H", host, "--csv", "out"])
        .args(args)
        .current_dir(dir.path());
    for (key, _) in std::env::vars() {
        let lower = key.to_ascii_lowercase();
        if key.starts_with("LOCUST_") || lower.ends_with("_proxy") {
            command.env_remove(key);
        }
    }
    let started = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let pid = child.id().unwrap();
    let stdout = tokio::spawn(read_all(child.stdout.take().unwrap()));
    let stderr = tokio::spawn(read_all(child.stderr.take().unwrap()));
    let mut peak_rss_kb = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak_rss_kb = peak_rss_kb.max(vm_hwm_kb(pid));
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill().await;
            panic!("the run did not end within {RUN_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed();
    Run {
        code: status.code(),
        stdout: text(&stdout.await.unwrap()),
        stderr: text(&stderr.await.unwrap()),
        wall,
        peak_rss_kb,
        dir,
    }
}

/// Everything a pipe yields until it closes.
async fn read_all(mut pipe: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = pipe.read_to_end(&mut out).await;
    out
}
