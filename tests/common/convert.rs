//! Fixtures of the `locust-rs convert` tests (`tests/convert_*.rs`): the Python
//! locustfiles of `tests/convert/` (written for these tests in the style of Locust's
//! `examples/`) and `examples/seed_locustfile.py`, copied into a temp folder and
//! converted there by the real binary; and Locust's `--show-task-ratio-json` tree
//! flattened to leaf tasks, as the converter flattens TaskSets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::{repo_root, run_in, text};

/// `tests/convert/<name>`, or `examples/<name>` for the seed's locustfile.
pub fn fixture_path(name: &str) -> PathBuf {
    let tests = repo_root().join("tests/convert").join(name);
    if tests.is_file() {
        return tests;
    }
    let example = repo_root().join("examples").join(name);
    assert!(
        example.is_file(),
        "{name} is neither in tests/convert nor in examples"
    );
    example
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

/// A temp folder holding the fixture `name` (and `companions`).
pub fn folder_with(name: &str, companions: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in std::iter::once(&name).chain(companions) {
        std::fs::copy(fixture_path(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// `locust-rs convert <args>` in `dir`.
pub async fn convert_in(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["convert"];
    all.extend_from_slice(args);
    run_in(dir, &all).await
}

/// Converts the fixture `name` (x.py → x.toml) in `dir`; asserts no panic and exit
/// `code`; returns the scenario text.
pub async fn converted(dir: &Path, name: &str, code: i32) -> String {
    let out = convert_in(dir, &[name]).await;
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(code), "convert {name}\n{stderr}");
    let toml = Path::new(name).with_extension("toml");
    std::fs::read_to_string(dir.join(toml)).unwrap()
}

/// One class of a task-ratio tree: its ratio and its leaf tasks' shares in it.
#[derive(Debug)]
pub struct FlatClass {
    pub ratio: f64,
    pub tasks: BTreeMap<String, f64>,
}

/// The `per_class` tree of `--show-task-ratio-json` output with nested TaskSets
/// multiplied out to their leaf tasks (a same-named leaf adds up, as Locust's do).
pub fn flat_per_class(json: &[u8]) -> BTreeMap<String, FlatClass> {
    let v: serde_json::Value =
        serde_json::from_slice(json).unwrap_or_else(|e| panic!("{e}: {}", text(json)));
    let mut out = BTreeMap::new();
    for (class, node) in v["per_class"].as_object().unwrap() {
        let mut tasks = BTreeMap::new();
        leaves(&node["tasks"], 1.0, &mut tasks);
        out.insert(
            class.clone(),
            FlatClass {
                ratio: node["ratio"].as_f64().unwrap(),
                tasks,
            },
        );
    }
    out
}

fn leaves(tasks: &serde_json::Value, share: f64, out: &mut BTreeMap<String, f64>) {
    for (name, node) in tasks.as_object().unwrap() {
        let ratio = node["ratio"].as_f64().unwrap() * share;
        match node.get("tasks").and_then(|t| t.as_object()) {
            Some(inner) if !inner.is_empty() => leaves(&node["tasks"], ratio, out),
            _ => *out.entry(name.clone()).or_insert(0.0) += ratio,
        }
    }
}

/// Asserts two flattened trees are the same (shares within 1e-9).
pub fn assert_same_ratios(
    what: &str,
    py: &BTreeMap<String, FlatClass>,
    rs: &BTreeMap<String, FlatClass>,
) {
    assert_eq!(
        py.keys().collect::<Vec<_>>(),
        rs.keys().collect::<Vec<_>>(),
        "{what}: classes"
    );
    for (class, p) in py {
        let r = &rs[class];
        assert!(
            (p.ratio - r.ratio).abs() < 1e-9,
            "{what}: {class} ratio {} vs {}",
            p.ratio,
            r.ratio
        );
        assert_eq!(
            p.tasks.keys().collect::<Vec<_>>(),
            r.tasks.keys().collect::<Vec<_>>(),
            "{what}: tasks of {class}"
        );
        for (task, share) in &p.tasks {
            let other = r.tasks[task];
            assert!(
                (share - other).abs() < 1e-9,
                "{what}: {class}.{task}: Locust {share}, converted {other}"
            );
        }
    }
}
