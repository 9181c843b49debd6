//! Locust interoperability, part 1 of 3: `--show-task-ratio`, `--show-task-ratio-json`
//! and `--list` print byte-identical stdout (and the same exit code) as the real Locust
//! 2.47.0 for the same user classes, and `LOCUST_BIN` is that pinned version. The
//! side-by-side machinery lives in `tests/common/locust.rs`; the headless-run
//! comparisons are in `locust_interop_csv.rs` and `locust_interop_run.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::locust::*;
use common::*;

/// Three classes: a fixed_count one and two weighted ones, one with a 1/16 task
/// (6.25 %, a tie for `%.1f`).
fn fixed_and_weighted() -> Vec<Class> {
    vec![
        Class {
            fixed_count: 1,
            ..class("Admin", None, &[get("stats", 1, "/health")])
        },
        class(
            "Mobile",
            Some("2"),
            &[get("browse", 15, "/users"), get("rare", 1, "/health")],
        ),
        class(
            "Web",
            Some("3"),
            &[get("home", 1, "/health"), get("list_users", 3, "/users")],
        ),
    ]
}

/// Weights 1, 1, 2: `-u 2` and `-u 6` give halves that Python rounds to even.
fn half_even_rounding() -> Vec<Class> {
    vec![
        class(
            "Alpha",
            None,
            &[get("a_one", 1, "/health"), get("a_two", 2, "/users")],
        ),
        class("Beta", Some("1"), &[get("b_only", 1, "/health")]),
        class(
            "Gamma",
            Some("2"),
            &[
                get("g_seven", 7, "/users"),
                get("g_five", 5, "/health"),
                get("g_three", 3, "/users"),
            ],
        ),
    ]
}

/// Float weights (their sum is the default user count) and names longer than the
/// 50-character column.
fn float_weights_long_names() -> Vec<Class> {
    vec![
        class(
            "Fast",
            Some("1.5"),
            &[
                get("y", 2, "/users"),
                get(
                    "a_task_name_that_is_much_longer_than_the_fifty_character_column",
                    1,
                    "/health",
                ),
            ],
        ),
        class("Slow", Some("0.5"), &[get("x", 1, "/health")]),
        class(
            "UserClassWithAVeryLongNameThatOverflowsTheNameColumnOfTheTable",
            Some("2"),
            &[get("z", 3, "/users"), get("w", 1, "/health")],
        ),
    ]
}

/// Classes written out of alphabetical order: Locust lists them as written.
fn written_out_of_order() -> Vec<Class> {
    vec![
        class("Zeta", Some("3"), &[get("z_task", 1, "/health")]),
        class(
            "Alpha",
            Some("1"),
            &[get("second", 1, "/users"), get("first", 2, "/health")],
        ),
        class("Mid", None, &[get("m", 1, "/health")]),
    ]
}

// ---------------------------------------------------------------------------------
// Task ratio and --list: byte-identical stdout

/// Runs `args` through both tools for `classes` and asserts the same exit code and
/// byte-identical stdout.
async fn assert_same_stdout(classes: &[Class], cases: &[&[&str]]) {
    let dir = scenario_dir(classes);
    for args in cases {
        let (py, rs) = both(dir.path(), args).await;
        assert_eq!(
            py.status.code(),
            Some(0),
            "locust {args:?} failed\n{}",
            describe("locust", &py)
        );
        assert_eq!(
            rs.status.code(),
            py.status.code(),
            "exit code of {args:?}\n{}",
            describe("locust-rs", &rs)
        );
        assert!(
            py.stdout == rs.stdout,
            "stdout of {args:?} differs\n--- locust:\n{}\n--- locust-rs:\n{}",
            text(&py.stdout),
            text(&rs.stdout)
        );
    }
}

const RATIO_CASES: &[&[&str]] = &[
    &["--show-task-ratio"],
    &["--show-task-ratio-json"],
    &["--show-task-ratio", "-u", "1"],
    &["--show-task-ratio-json", "-u", "1"],
    &["--show-task-ratio", "-u", "2"],
    &["--show-task-ratio-json", "-u", "2"],
    &["--show-task-ratio", "-u", "6"],
    &["--show-task-ratio-json", "-u", "6"],
    &["--show-task-ratio", "-u", "10"],
    &["--show-task-ratio-json", "-u", "10"],
];

#[tokio::test]
async fn locust_bin_is_the_pinned_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = locust_in(dir.path(), &["--version"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe("locust", &out));
    let version = text(&out.stdout);
    assert!(
        version.starts_with(&format!("locust {LOCUST_VERSION} ")),
        "LOCUST_BIN is not Locust {LOCUST_VERSION}: {version}"
    );
}

#[tokio::test]
async fn task_ratio_with_fixed_count_matches_locust() {
    assert_same_stdout(&fixed_and_weighted(), RATIO_CASES).await;
    assert_same_stdout(
        &fixed_and_weighted(),
        &[
            &["--show-task-ratio", "Web"],
            &["--show-task-ratio-json", "-u", "5", "Mobile"],
            &["--show-task-ratio", "-u", "5", "Admin"],
        ],
    )
    .await;
}

// Deliberate difference: Locust accepts `-u 0` (`--show-task-ratio -u 0` prints the
// tables for the default count); locust-rs rejects a zero user count everywhere (issue 2:
// "-u zero is bad input"), so there is no side-by-side test for it.

#[tokio::test]
async fn task_ratio_of_classes_written_out_of_order_matches_locust() {
    assert_same_stdout(&written_out_of_order(), RATIO_CASES).await;
}

#[tokio::test]
async fn task_ratio_with_half_even_rounding_matches_locust() {
    assert_same_stdout(&half_even_rounding(), RATIO_CASES).await;
}

#[tokio::test]
async fn task_ratio_with_float_weights_and_long_names_matches_locust() {
    assert_same_stdout(&float_weights_long_names(), RATIO_CASES).await;
}

#[tokio::test]
async fn list_matches_locust() {
    for classes in [
        fixed_and_weighted(),
        half_even_rounding(),
        float_weights_long_names(),
        written_out_of_order(),
    ] {
        assert_same_stdout(&classes, &[&["--list"], &["-l"]]).await;
    }
}

// ---------------------------------------------------------------------------------
// Markov chains (`next`): Locust's MarkovTaskSet

/// A chain a → {b: 2, c: 1}, b → {c: 1}, c → {a: 1, b: 1} beside a plain class, as
/// a Python `MarkovTaskSet` and as TOML `next` tables.
const CHAIN_PY: &str = r#"from locust import HttpUser, MarkovTaskSet, constant, task, transition, transitions


class ShopChain(MarkovTaskSet):
    @transitions({"b": 2, "c": 1})
    def a(self):
        self.client.get("/a")

    @transition("c")
    def b(self):
        self.client.get("/b")

    @transitions({"a": 1, "b": 1})
    def c(self):
        self.client.get("/c")


class Shop(HttpUser):
    wait_time = constant(0)
    tasks = [ShopChain]


class Other(HttpUser):
    weight = 3
    wait_time = constant(0)

    @task
    def x(self):
        self.client.get("/x")
"#;

const CHAIN_TOML: &str = r#"[users.Shop]
[[users.Shop.tasks]]
name = "a"
next = { b = 2, c = 1 }
request = { path = "/a" }
[[users.Shop.tasks]]
name = "b"
next = { c = 1 }
request = { path = "/b" }
[[users.Shop.tasks]]
name = "c"
next = { a = 1, b = 1 }
request = { path = "/c" }

[users.Other]
weight = 3
[[users.Other.tasks]]
name = "x"
request = { path = "/x" }
"#;

/// How often real Locust's `MarkovTaskSet.get_next_task` runs each task of `ShopChain`
/// over 400,000 draws from its start (seeded).
const CHAIN_COUNT_PY: &str = r#"import collections, json, random
random.seed(2047)
import locustfile
chain = locustfile.ShopChain.__new__(locustfile.ShopChain)
n = 400000
counts = collections.Counter(chain.get_next_task().__name__ for _ in range(n))
print(json.dumps({k: counts[k] / n for k in sorted(counts)}))
"#;

/// Deliberate difference: Locust's task ratio shows a MarkovTaskSet as one opaque
/// TaskSet (`"ShopChain": {"ratio": 1.0, "tasks": {}}`), since its tasks are no
/// `@task`s; a TOML chain has no TaskSet name, and locust-rs shows each task's long-run
/// share instead. Those shares are what real Locust runs: the frequencies of its
/// `get_next_task` over many draws. The class ratios and every other class are the same.
#[tokio::test]
async fn a_markov_chain_shows_the_shares_real_locust_runs_its_tasks_in() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "locustfile.py", CHAIN_PY);
    write(dir.path(), "scenario.toml", CHAIN_TOML);
    write(dir.path(), "count.py", CHAIN_COUNT_PY);
    let (py, rs) = both(dir.path(), &["--show-task-ratio-json"]).await;
    assert_eq!(py.status.code(), Some(0), "{}", describe("locust", &py));
    assert_eq!(rs.status.code(), Some(0), "{}", describe("locust-rs", &rs));
    let py: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    let rs: serde_json::Value = serde_json::from_slice(&rs.stdout).unwrap();
    for tree in ["per_class", "total"] {
        assert_eq!(py[tree]["Other"], rs[tree]["Other"], "{tree}");
        assert_eq!(
            py[tree]["Shop"]["ratio"], rs[tree]["Shop"]["ratio"],
            "{tree}"
        );
        let whole = if tree == "total" { 0.25 } else { 1.0 };
        let opaque = serde_json::json!({"ShopChain": {"ratio": whole, "tasks": {}}});
        assert_eq!(
            py[tree]["Shop"]["tasks"], opaque,
            "{tree}: Locust's view of the chain"
        );
    }
    let out = tokio::process::Command::new(venv_python())
        .arg("count.py")
        .current_dir(dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), out)
        .await
        .expect("count.py ends")
        .unwrap();
    assert!(out.status.success(), "{}", describe("count.py", &out));
    let ran: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Exactly 3/14, 5/14 and 6/14.
    let exact = [("a", 3.0 / 14.0), ("b", 5.0 / 14.0), ("c", 6.0 / 14.0)];
    let shown = &rs["per_class"]["Shop"]["tasks"];
    let shown_total = &rs["total"]["Shop"]["tasks"];
    for (task, share) in exact {
        let printed = shown[task]["ratio"].as_f64().unwrap();
        let locust = ran[task].as_f64().unwrap();
        assert!(
            (printed - share).abs() < 1e-12,
            "{task}: {printed} vs {share}"
        );
        assert!(
            (printed - locust).abs() < 0.005,
            "{task}: locust-rs shows {printed}, real Locust ran it {locust} of the time"
        );
        let total = shown_total[task]["ratio"].as_f64().unwrap();
        assert!(
            (total - share * 0.25).abs() < 1e-12,
            "{task}: total {total}"
        );
    }
}
