//! Running the translations of Locust's `examples/` folder for `tests/locust_examples*.rs`:
//! `example(...)` reads a scenario of `examples/`, `replace` changes an exact piece of
//! its text, `with_file` copies a data file next to it, and `run` runs it headless in a
//! fresh folder with a clean environment; then small readers of what the test server
//! received (bodies, JSON, a tally per target) and of the recorded errors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::headless::Run;
use super::hostile::*;
use super::{repo_root, text, write, BIN};

pub fn examples_dir() -> PathBuf {
    repo_root().join("examples")
}

/// A scenario of `examples/` (its path under that folder), read as text.
pub struct Example {
    pub rel: &'static str,
    pub text: String,
    /// Files of `examples/` copied next to the scenario (data it reads).
    companions: Vec<&'static str>,
}

/// The scenario `examples/<rel>`.
pub fn example(rel: &'static str) -> Example {
    let path = examples_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Example {
        rel,
        text,
        companions: Vec::new(),
    }
}

/// The absolute path of another file of `examples/` (a profile file, a data file).
pub fn example_file(rel: &'static str) -> String {
    let path = examples_dir().join(rel);
    assert!(path.is_file(), "{} is missing", path.display());
    path.display().to_string()
}

impl Example {
    /// Every occurrence of `from` (which must occur) becomes `to`.
    pub fn replace(mut self, from: &str, to: &str) -> Example {
        assert!(
            self.text.contains(from),
            "examples/{}: {from:?} is not in the file",
            self.rel
        );
        self.text = self.text.replace(from, to);
        self
    }

    /// Copies `examples/<rel>` next to the scenario when it runs.
    pub fn with_file(mut self, rel: &'static str) -> Example {
        example_file(rel);
        self.companions.push(rel);
        self
    }

    pub async fn run(&self, host: &str, args: &[&str]) -> Run {
        self.run_env(host, args, &[]).await
    }

    /// Writes the scenario into a fresh folder under its own file name and runs
    /// `--headless -f <name> -H host --csv out` followed by `args` there, with no
    /// `LOCUST_*`, proxy or example variable from the test's environment, only `env`.
    /// Killed (and the test failed) after 60 s.
    pub async fn run_env(&self, host: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let name = Path::new(self.rel)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        write(dir.path(), &name, &self.text);
        for rel in &self.companions {
            let file = Path::new(rel).file_name().unwrap();
            std::fs::copy(examples_dir().join(rel), dir.path().join(file)).unwrap();
        }
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(["--headless", "-f", &name, "-H", host, "--csv", "out"])
            .args(args)
            .current_dir(dir.path());
        for (key, _) in std::env::vars() {
            let lower = key.to_ascii_lowercase();
            if key.starts_with("LOCUST_")
                || lower.ends_with("_proxy")
                || ["API_HOST", "OPENAI_API_KEY"].contains(&key.as_str())
            {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().copied());
        let started = Instant::now();
        let child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("binary starts");
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("examples/{}: the run did not end within 60 s", self.rel))
            .unwrap();
        Run {
            dir,
            code: output.status.code(),
            stdout: text(&output.stdout),
            stderr: text(&output.stderr),
            wall: started.elapsed(),
            peak_rss_kb: 0,
        }
    }
}

pub fn page() -> Behaviour {
    html("<html><body>a page</body></html>")
}

/// How many requests went to each target.
pub fn tally(server: &HostileServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in server.requests() {
        *counts.entry(request.target).or_insert(0) += 1;
    }
    counts
}

pub fn body(request: &ReceivedRequest) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

pub fn body_json(request: &ReceivedRequest) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|e| {
        panic!(
            "{} {}: {e}: {}",
            request.method,
            request.target,
            body(request)
        )
    })
}

/// The error texts recorded for `method name`, without their counts.
pub fn error_texts(run: &Run, method: &str, name: &str) -> BTreeSet<String> {
    run.errors(method, name)
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
