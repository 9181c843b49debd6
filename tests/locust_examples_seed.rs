//! `examples/seed_locustfile.py`, the seed's locustfile in Python (the worked example of
//! `locust-rs convert`): converted, it is the shipped `scenarios/scaling_system.toml` as
//! far as `--show-task-ratio-json` (with and without tag filters) can tell, and it runs
//! against the demo target without a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::examples::example_file;
use common::*;

#[tokio::test]
async fn the_converted_seed_has_the_shipped_scenarios_task_mix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example_file("seed_locustfile.py"),
        dir.path().join("seed.py"),
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["convert", "seed.py", "-o", "seed.toml", "--check"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let shipped = scenarios_dir().join("scaling_system.toml");
    let shipped = shipped.to_str().unwrap();
    for extra in [
        &[][..],
        &["-T", "cache"][..],
        &["-E", "crud", "-u", "6"][..],
    ] {
        let args = |file: &'static str| -> Vec<&str> {
            let mut a = vec!["-f", file, "--show-task-ratio-json"];
            a.extend_from_slice(extra);
            a
        };
        let converted = run_in(dir.path(), &args("seed.toml")).await;
        let mut shipped_args = vec!["-f", shipped, "--show-task-ratio-json"];
        shipped_args.extend_from_slice(extra);
        let reference = run_in(dir.path(), &shipped_args).await;
        assert_eq!(
            reference.status.code(),
            Some(0),
            "{}",
            text(&reference.stderr)
        );
        assert_eq!(
            text(&converted.stdout),
            text(&reference.stdout),
            "{extra:?}: {}",
            text(&converted.stderr)
        );
    }
    let server = demo().await;
    let run = run_in(
        dir.path(),
        &[
            "-f",
            "seed.toml",
            "--headless",
            "-H",
            &server.base_url(),
            "-u",
            "6",
            "-r",
            "6",
            "-t",
            "3s",
        ],
    )
    .await;
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
}
