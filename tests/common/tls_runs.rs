//! One-request runs of the real binary for the TLS and proxy tests (`tests/tls_proxy*.rs`):
//! a `Case` (host, arguments, environment, files) run headless in its own folder with a
//! clean environment (no `LOCUST_*`, proxy or CA-bundle variables), and the `Run` it
//! gives, read back from the console and the CSV files.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::hostile::*;
use super::{csv_rows, write, BIN};

/// The one request every run makes: `GET /x`, once. `-i 1` stops a user at the start of
/// its next task, after the wait: with `constant(0)` the run ends at once, one request
/// made (a long wait would hold the run until `-t`).
pub const SCENARIO: &str = r#"
[users.One]
fixed_count = 1
wait_time = "constant(0)"

[[users.One.tasks]]
name = "x"
request = { path = "/x" }
"#;

/// How long one run may take before the test fails (the child is killed).
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Environment variables a child must not inherit: they would change what is tested.
fn inherited_setting(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("LOCUST_")
        || upper.ends_with("_PROXY")
        || matches!(
            upper.as_str(),
            "REQUESTS_CA_BUNDLE"
                | "SSL_CERT_FILE"
                | "SSL_CERT_DIR"
                | "CURL_CA_BUNDLE"
                | "REQUEST_METHOD"
        )
}

/// One finished run: exit code, console output, and the folder of its files.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub dir: PathBuf,
}

impl Run {
    /// Everything the run printed, for messages.
    pub fn console(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// The Error column of `out_failures.csv`, one entry per row.
    pub fn errors(&self) -> Vec<String> {
        let rows = csv_rows(&self.dir.join("out_failures.csv"));
        assert_eq!(
            rows[0][..4],
            ["Method", "Name", "Error", "Occurrences"],
            "{}",
            self.console()
        );
        rows[1..].iter().map(|r| r[2].clone()).collect()
    }

    /// (Request Count, Failure Count) of the `GET x` row of `out_stats.csv`.
    pub fn counts(&self) -> (u64, u64) {
        let rows = csv_rows(&self.dir.join("out_stats.csv"));
        let column = |name: &str| {
            rows[0]
                .iter()
                .position(|c| c == name)
                .unwrap_or_else(|| panic!("no {name} column in {:?}", rows[0]))
        };
        let (requests, failures) = (column("Request Count"), column("Failure Count"));
        let row = rows
            .iter()
            .find(|r| r[0] == "GET" && r[1] == "/x")
            .unwrap_or_else(|| panic!("no GET /x row in {rows:?}\n{}", self.console()));
        (
            row[requests].parse().unwrap(),
            row[failures].parse().unwrap(),
        )
    }

    /// The run made its one request, which failed with exactly `error`; exit code 1.
    pub fn assert_failed_with(&self, error: &str) {
        if let Some(problem) = self.mismatch(error) {
            panic!("{problem}");
        }
    }

    /// Why the run is not one failed request recorded as `error` (exit code 1), if so.
    pub fn mismatch(&self, error: &str) -> Option<String> {
        self.assert_no_crash();
        let (errors, counts) = (self.errors(), self.counts());
        (errors != [error] || counts != (1, 1) || self.code != Some(1)).then(|| {
            format!(
                "run {}:\n  expected the error {error}\n  recorded {errors:?}; \
                 (requests, failures) = {counts:?}\n{}",
                self.name(),
                self.console()
            )
        })
    }

    /// The run made its one request, which succeeded; exit code 0.
    pub fn assert_succeeded(&self) {
        self.assert_no_crash();
        assert_eq!(self.errors(), Vec::<String>::new(), "{}", self.console());
        assert_eq!(self.counts(), (1, 0), "{}", self.console());
        assert_eq!(self.code, Some(0), "{}", self.console());
    }

    /// An argument error: exit code 2, nothing ran, and stderr contains every one of
    /// `needles`.
    pub fn assert_usage_error(&self, needles: &[&str]) {
        self.assert_no_crash();
        assert_eq!(self.code, Some(2), "{}", self.console());
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr should contain {needle:?}\n{}",
                self.console()
            );
        }
        assert!(
            !self.dir.join("out_stats.csv").exists(),
            "an argument error must stop before the run\n{}",
            self.console()
        );
    }

    /// The start-up check found the proxy (or target) closed: exit 4 before any user
    /// started, with `needle` in the one line that says so.
    pub fn assert_unreachable(&self, needle: &str) {
        self.assert_no_crash();
        assert_eq!(self.code, Some(4), "{}", self.console());
        assert!(
            self.stderr.contains(needle),
            "stderr should contain {needle:?}\n{}",
            self.console()
        );
    }

    /// The folder name: which case this was.
    pub fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    pub fn assert_no_crash(&self) {
        for sign in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(
                !self.stdout.contains(sign) && !self.stderr.contains(sign),
                "the binary crashed ({sign})\n{}",
                self.console()
            );
        }
    }

    /// Every place a secret could leak to: the console and every file the run wrote
    /// (CSV, log, HTML and JSON reports), as (where, text).
    fn outputs(&self) -> Vec<(String, String)> {
        let mut all = vec![
            ("stdout".to_string(), self.stdout.clone()),
            ("stderr".to_string(), self.stderr.clone()),
        ];
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".toml") || !path.is_file() {
                continue; // the scenario itself holds the header secrets
            }
            let bytes = std::fs::read(&path).unwrap();
            all.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
        all
    }

    pub fn assert_never_shows(&self, secrets: &[&str]) {
        let outputs = self.outputs();
        for (where_, text) in &outputs {
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{secret:?} leaked into {where_}:\n{text}"
                );
            }
        }
    }
}

/// One run to make: `--headless -f s.toml -H host -u 1 -r 1 -i 1 -t 20s --csv out`,
/// then `args`, in a fresh folder `name` holding the scenario and `files`, with a clean
/// environment plus `env`.
#[derive(Clone, Debug)]
pub struct Case {
    name: String,
    host: String,
    scenario: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    files: Vec<(String, String)>,
    iterations: u32,
}

pub fn case(name: &str, host: &str) -> Case {
    Case {
        name: name.to_string(),
        host: host.to_string(),
        scenario: SCENARIO,
        args: Vec::new(),
        env: Vec::new(),
        files: Vec::new(),
        iterations: 1,
    }
}

impl Case {
    pub fn args(mut self, args: &[&str]) -> Case {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Case {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn file(mut self, name: &str, body: &str) -> Case {
        self.files.push((name.to_string(), body.to_string()));
        self
    }

    /// `-i N` instead of `-i 1`: N requests.
    pub fn iterations(mut self, n: u32) -> Case {
        self.iterations = n;
        self
    }

    pub fn scenario(mut self, scenario: &'static str) -> Case {
        self.scenario = scenario;
        self
    }
}

/// Runs every case at once (each in its own folder under `parent`), in order.
pub async fn run_all<const N: usize>(parent: &Path, cases: [Case; N]) -> [Run; N] {
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|case| tokio::spawn(run_case(parent.to_path_buf(), case)))
        .collect();
    let mut runs = Vec::with_capacity(N);
    for task in tasks {
        runs.push(task.await.expect("the run's task ends"));
    }
    runs.try_into().unwrap()
}

async fn run_case(parent: PathBuf, case: Case) -> Run {
    let dir = parent.join(&case.name);
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "s.toml", case.scenario);
    for (file, body) in &case.files {
        write(&dir, file, body);
    }
    let iterations = case.iterations.to_string();
    #[rustfmt::skip]
    let base = [
        "--headless", "-f", "s.toml", "-H", &case.host, "-u", "1", "-r", "1",
        "-i", &iterations, "-t", "20s", "--csv", "out",
    ];
    let mut command = tokio::process::Command::new(BIN);
    command.args(base).args(&case.args).current_dir(&dir);
    for (key, _) in std::env::vars_os() {
        if inherited_setting(&key.to_string_lossy()) {
            command.env_remove(&key);
        }
    }
    command.envs(case.env.iter().map(|(k, v)| (k, v)));
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("run {} did not end within {RUN_LIMIT:?}", case.name))
        .expect("the output is read");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        dir,
    }
}

pub fn ok_routes() -> [(&'static str, Behaviour); 1] {
    [("/x", Behaviour::raw(response("HTTP/1.1 200 OK", &[], "hi")))]
}

pub async fn tls_server(fixtures: &TlsFixtures, cert: ServerCert) -> HostileServer {
    HostileServer::start_tls(ok_routes(), fixtures, cert, false).await
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}
