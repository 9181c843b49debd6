//! `scripts/soak.sh`'s growth rule on canned samples (`--judge FILE`): the real soak
//! takes 30 minutes (`make soak`), so the suite checks only its verdict, which is what
//! decides pass or fail: a baseline past the warm-up against the last sample, growth
//! being RSS > 10 % and > 8 MiB, fds > 16, threads > 8, tasks > the run's users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

const HEADER: &str = "second\tminute\trss_kib\tfds\tthreads\ttasks\trequests\tfailures\n";

/// Samples at minutes 1..=n: (rss KiB, fds, threads, tasks).
fn samples(rows: &[(u64, u64, u64, &str)]) -> String {
    let mut text = HEADER.to_string();
    for (i, (rss, fds, threads, tasks)) in rows.iter().enumerate() {
        let second = (i as u64 + 1) * 60;
        text.push_str(&format!(
            "{second}\t{}.0\t{rss}\t{fds}\t{threads}\t{tasks}\t{}\t0\n",
            i + 1,
            second * 100
        ));
    }
    text
}

/// Runs `soak.sh --judge` on `rows` with 50 users: (exit code, stdout).
fn judge(rows: &[(u64, u64, u64, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("samples.tsv");
    std::fs::write(&file, samples(rows)).unwrap();
    let output = std::process::Command::new(repo_root().join("scripts/soak.sh"))
        .args(["--judge", file.to_str().unwrap(), "--users", "50"])
        .output()
        .unwrap();
    (output.status.code(), text(&output.stdout))
}

/// 30 steady minutes around 40 MiB, 60 fds, 3 threads, 55 tasks.
fn steady() -> Vec<(u64, u64, u64, &'static str)> {
    (0..30)
        .map(|i| (40_000 + (i % 3) * 500, 60 + i % 2, 3, "55"))
        .collect()
}

#[test]
fn a_steady_run_passes_and_warm_up_growth_is_not_counted() {
    let mut rows = steady();
    // Minute 1 is warm-up: far lower figures there are not growth.
    rows[0] = (10_000, 20, 2, "5");
    let (code, out) = judge(&rows);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("verdict: no growth (baseline at 120 s"),
        "{out}"
    );
}

#[test]
fn each_kind_of_growth_fails_the_soak() {
    type Row = (u64, u64, u64, &'static str);
    type Grow = fn(&mut Row);
    let cases: [(&str, Grow); 4] = [
        ("RSS", |r| r.0 += 9_000),
        ("fds", |r| r.1 += 17),
        ("threads", |r| r.2 += 9),
        ("tasks", |r| r.3 = "106"),
    ];
    for (kind, grow) in cases {
        let mut rows = steady();
        grow(rows.last_mut().unwrap());
        let (code, out) = judge(&rows);
        assert_eq!(code, Some(1), "{kind}: {out}");
        assert!(out.contains(&format!("GROWTH: {kind}")), "{kind}: {out}");
        assert!(out.contains("verdict: GROWTH"), "{kind}: {out}");
    }
}

#[test]
fn growth_at_the_limits_is_not_a_leak() {
    let mut rows = steady();
    let last = rows.last_mut().unwrap();
    // Baseline 40,500 KiB: +8,000 KiB is over 10 % but not over 8 MiB.
    *last = (48_500, 76, 11, "105");
    let (code, out) = judge(&rows);
    assert_eq!(code, Some(0), "{out}");
    // A big heap: +9 MiB is over 8 MiB but not over 10 %.
    let big: Vec<_> = steady()
        .into_iter()
        .map(|(rss, fds, threads, tasks)| (rss + 100_000, fds, threads, tasks))
        .collect();
    let mut rows = big;
    rows.last_mut().unwrap().0 += 9_216;
    let (code, out) = judge(&rows);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn too_few_samples_or_no_task_count_are_said_so() {
    let (code, out) = judge(&steady()[..1]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no growth verdict"), "{out}");
    let rows: Vec<_> = steady()
        .into_iter()
        .map(|(rss, fds, threads, _)| (rss, fds, threads, "-"))
        .collect();
    let (code, out) = judge(&rows);
    assert_eq!(code, Some(1), "an unmeasured figure is not a pass: {out}");
    assert!(out.contains("tasks    not measured"), "{out}");
}
