//! The side-by-side machinery of the Locust interoperability tests
//! (`tests/locust_interop_*.rs`): running the real Locust 2.47.0 from `LOCUST_BIN`
//! next to locust-rs, and writing one description of user classes as both a Python
//! locustfile and the equivalent TOML scenario.
//!
//! Each test writes both files into a temp folder (the Python task functions named
//! like the TOML tasks and the classes defined in name order, the order locust-rs
//! lists them in), runs the real `locust` and `locust-rs` with the same flags against
//! the built-in demo target on 127.0.0.1 (port 0), and compares what Locust's formats
//! fix. Values that depend on timing are not compared.
//!
//! The real Locust comes from `LOCUST_BIN`, which `scripts/test.sh` (`make test`) sets
//! after `scripts/locust-venv.sh` installed Locust 2.47.0 into `.venv-locust/`. Without
//! it every interop test fails, saying so: a skipped comparison must never look green.
//! Every child process is bounded in time and killed when its test ends.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use super::{demo, run_in, text, write};

/// The Locust version the formats are pinned to (docs/locust-compat.md).
pub const LOCUST_VERSION: &str = "2.47.0";
/// No single Locust invocation here should come close to this.
const LOCUST_TIMEOUT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------
// Running both tools

/// Path of the real `locust`, from `LOCUST_BIN`; panics (fails the test) without it.
fn locust_bin() -> PathBuf {
    let Some(path) = std::env::var_os("LOCUST_BIN").filter(|p| !p.is_empty()) else {
        panic!(
            "LOCUST_BIN is not set, so the comparison with the real Locust {LOCUST_VERSION} \
             cannot run: run `make test` (scripts/test.sh installs it into .venv-locust/ \
             and exports LOCUST_BIN), or set LOCUST_BIN=$(scripts/locust-venv.sh)"
        );
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "LOCUST_BIN={} is not a file: run `make test` or set LOCUST_BIN=$(scripts/locust-venv.sh)",
        path.display()
    );
    path
}

/// The Python of the Locust venv (it has `requests`, as Locust's API users do).
pub fn venv_python() -> PathBuf {
    let python = locust_bin().with_file_name("python");
    assert!(python.is_file(), "{} is missing", python.display());
    python
}

/// Runs the real Locust in `cwd` with no `LOCUST_*` settings from the environment, no
/// proxy (all traffic is to 127.0.0.1), killed after [`LOCUST_TIMEOUT`].
pub async fn locust_in(cwd: &Path, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(locust_bin());
    command.args(args).current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("LOCUST_") || key.to_ascii_lowercase().ends_with("_proxy") {
            command.env_remove(key);
        }
    }
    command
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("LOCUST_BIN starts");
    tokio::time::timeout(LOCUST_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("locust {args:?} did not end within {LOCUST_TIMEOUT:?}"))
        .expect("locust output is read")
}

/// The same command line for both tools (`-f` added: the .py file for Locust, the
/// .toml file for locust-rs), run at the same time, each in its own folder (so that
/// relative output paths do not collide); returns (locust, locust-rs).
pub async fn both_in(py_dir: &Path, rs_dir: &Path, args: &[&str]) -> (Output, Output) {
    let py_args: Vec<&str> = ["-f", "locustfile.py"]
        .iter()
        .chain(args)
        .copied()
        .collect();
    let rs_args: Vec<&str> = ["-f", "scenario.toml"]
        .iter()
        .chain(args)
        .copied()
        .collect();
    tokio::join!(locust_in(py_dir, &py_args), run_in(rs_dir, &rs_args))
}

/// [`both_in`] with one folder, for runs that write no files.
pub async fn both(dir: &Path, args: &[&str]) -> (Output, Output) {
    both_in(dir, dir, args).await
}

pub fn describe(tool: &str, output: &Output) -> String {
    format!(
        "--- {tool}: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

// ---------------------------------------------------------------------------------
// One description, two scenario files

#[derive(Clone, Copy)]
pub struct Task {
    /// Python function name and TOML task name.
    pub name: &'static str,
    pub weight: u32,
    pub method: &'static str,
    pub path: &'static str,
    /// `name=` of the request (stats name), if any.
    pub stats_name: Option<&'static str>,
}

pub const fn get(name: &'static str, weight: u32, path: &'static str) -> Task {
    Task {
        name,
        weight,
        method: "GET",
        path,
        stats_name: None,
    }
}

pub struct Class {
    pub name: &'static str,
    /// The weight as written in both languages (`3`, `0.5`); None = default.
    pub weight: Option<&'static str>,
    pub fixed_count: u32,
    pub tasks: Vec<Task>,
}

pub fn class(name: &'static str, weight: Option<&'static str>, tasks: &[Task]) -> Class {
    Class {
        name,
        weight,
        fixed_count: 0,
        tasks: tasks.to_vec(),
    }
}

impl Class {
    /// The `weight` and `fixed_count` lines (the same syntax in Python and TOML), each
    /// after `indent`; none for the defaults.
    fn attributes(&self, indent: &str) -> String {
        let mut lines = String::new();
        if let Some(weight) = self.weight {
            let _ = writeln!(lines, "{indent}weight = {weight}");
        }
        if self.fixed_count > 0 {
            let _ = writeln!(lines, "{indent}fixed_count = {}", self.fixed_count);
        }
        lines
    }
}

/// Locust's headless run time is a gevent timer, and gevent's libev loop keeps the
/// clock of its creation (at import) until it first runs: when Locust's start-up takes
/// over a second (a busy machine), a `-t 1s` timer armed against that clock fires at
/// once, and Locust sends nothing and exits 0 (seen in `exit_codes_match_locust`, and
/// shown by `spawn_later(1)` after a 1.5 s stall firing within 1 ms). Refreshing the
/// clock in `init`, which Locust fires just before it arms the timer, gives Locust its
/// whole run time.
const FRESH_CLOCK: &str = "import gevent\nfrom locust import events\n\n\n\
@events.init.add_listener\ndef _fresh_clock(**_kwargs):\n    gevent.get_hub().loop.update_now()\n";

/// The Python locustfile: `HttpUser` classes at `constant(0.1)`, `@task(n)` methods
/// sending one request each, classes in the given order as the TOML scenario writes
/// them (both tools list classes in definition order).
pub fn locustfile(classes: &[Class]) -> String {
    let mut py = String::from(FRESH_CLOCK);
    py.push_str("from locust import HttpUser, constant, task\n");
    for c in classes {
        let _ = writeln!(py, "\n\nclass {}(HttpUser):", c.name);
        py.push_str(&c.attributes("    "));
        let _ = writeln!(py, "    wait_time = constant(0.1)");
        for t in &c.tasks {
            let name = t
                .stats_name
                .map(|n| format!(", name={n:?}"))
                .unwrap_or_default();
            let _ = writeln!(
                py,
                "\n    @task({})\n    def {}(self):\n        self.client.request({:?}, {:?}{name})",
                t.weight, t.name, t.method, t.path
            );
        }
    }
    py
}

/// The equivalent TOML scenario.
pub fn scenario(classes: &[Class]) -> String {
    let mut toml = String::new();
    for c in classes {
        let _ = writeln!(toml, "[users.{}]", c.name);
        toml.push_str(&c.attributes(""));
        let _ = writeln!(toml, "wait_time = \"constant(0.1)\"\n");
        for t in &c.tasks {
            let name = t
                .stats_name
                .map(|n| format!(", name = {n:?}"))
                .unwrap_or_default();
            let _ = writeln!(
                toml,
                "[[users.{}.tasks]]\nname = {:?}\nweight = {}\nrequest = {{ method = {:?}, path = {:?}{name} }}\n",
                c.name, t.name, t.weight, t.method, t.path
            );
        }
    }
    toml
}

/// A temp folder holding `locustfile.py` and `scenario.toml` for `classes`.
pub fn scenario_dir(classes: &[Class]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "locustfile.py", &locustfile(classes));
    write(dir.path(), "scenario.toml", &scenario(classes));
    dir
}

// ---------------------------------------------------------------------------------
// A short headless run of both

/// One class with two plain GET tasks and two tasks that always fail: a 404 named
/// `/users/[missing]` and a 405 (POST to a GET-only route).
pub fn reader_with_failures() -> Vec<Class> {
    vec![class(
        "Reader",
        None,
        &[
            get("list_users", 2, "/users"),
            get("health", 1, "/health"),
            Task {
                stats_name: Some("/users/[missing]"),
                ..get("missing", 1, "/users/999999999")
            },
            Task {
                method: "POST",
                ..get("post_health", 1, "/health")
            },
        ],
    )]
}

/// One class whose requests all succeed.
pub fn clean_reader() -> Vec<Class> {
    vec![class(
        "Reader",
        None,
        &[get("list_users", 2, "/users"), get("health", 1, "/health")],
    )]
}

/// Where the two tools of a headless run worked, and what they did.
pub struct Headless {
    pub py_dir: tempfile::TempDir,
    pub rs_dir: tempfile::TempDir,
    pub py: Output,
    pub rs: Output,
}

/// `--headless -H <demo> -u 3 -r 3 -t <t>` plus `extra`, through both tools at once,
/// each in its own folder, against one demo target.
pub async fn headless_both(classes: &[Class], run_time: &str, extra: &[&str]) -> Headless {
    let py_dir = scenario_dir(classes);
    let rs_dir = scenario_dir(classes);
    let server = demo().await;
    let host = server.base_url();
    let mut args = vec![
        "--headless",
        "-H",
        &host,
        "-u",
        "3",
        "-r",
        "3",
        "-t",
        run_time,
    ];
    args.extend_from_slice(extra);
    let (py, rs) = both_in(py_dir.path(), rs_dir.path(), &args).await;
    Headless {
        py_dir,
        rs_dir,
        py,
        rs,
    }
}

impl Headless {
    /// Asserts that Locust and then locust-rs ended with `code`.
    pub fn assert_exit_codes(&self, code: i32) {
        assert_eq!(
            self.py.status.code(),
            Some(code),
            "{}",
            describe("locust", &self.py)
        );
        assert_eq!(
            self.rs.status.code(),
            Some(code),
            "{}",
            describe("locust-rs", &self.rs)
        );
    }

    /// Asserts that both tools wrote `needle` to stderr.
    pub fn assert_stderr_contains(&self, needle: &str) {
        for out in [&self.py, &self.rs] {
            assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
        }
    }
}

/// A whole number as Python's `str(int)` writes it.
pub fn is_python_int(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
