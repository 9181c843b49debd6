//! `locust-rs convert`, part 1: the converted file of each test locustfile (written in the
//! style of Locust's `examples/`: TaskSets of functions, `@task(n)`, `tasks = {...}`,
//! SequentialTaskSet, FastHttpUser, a shape, the seed's three classes) loads, and its
//! task ratios equal real Locust 2.47's `--show-task-ratio-json` on the Python file,
//! side by side (TaskSets flattened to their leaf tasks, with and without `-u`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::convert::*;
use common::locust::{describe, locust_in};
use common::*;

/// (file, files it reads, exit code of its conversion: 1 when TODOs are left).
const FIXTURES: &[(&str, &[&str], i32)] = &[
    ("taskset_functions.py", &[], 0),
    ("quickstart.py", &[], 0),
    ("fast_client.py", &[], 0),
    ("sequence.py", &[], 0),
    ("stages_shape.py", &[], 0),
    ("crud_api.py", &[], 0),
    ("csv_feeder.py", &["accounts.csv"], 0),
    ("command_option.py", &[], 0),
    ("events_listeners.py", &[], 1),
    ("x_forwarded.py", &[], 0),
    ("demo_flow.py", &[], 0),
    ("seed_locustfile.py", &[], 0),
];

async fn same_ratios_as_locust(name: &str, companions: &[&str], code: i32) {
    let dir = folder_with(name, companions);
    converted(dir.path(), name, code).await;
    let toml = name.replace(".py", ".toml");
    for extra in [&[][..], &["-u", "4"][..]] {
        let mut py_args = vec!["-f", name, "--show-task-ratio-json"];
        py_args.extend_from_slice(extra);
        let mut rs_args = vec!["-f", toml.as_str(), "--show-task-ratio-json"];
        rs_args.extend_from_slice(extra);
        let (py, rs) = tokio::join!(
            locust_in(dir.path(), &py_args),
            run_in(dir.path(), &rs_args)
        );
        assert_eq!(py.status.code(), Some(0), "{}", describe("locust", &py));
        assert_eq!(rs.status.code(), Some(0), "{}", describe("locust-rs", &rs));
        assert_same_ratios(
            &format!("{name} {extra:?}"),
            &flat_per_class(&py.stdout),
            &flat_per_class(&rs.stdout),
        );
    }
}

#[tokio::test]
async fn converted_locustfiles_have_locusts_task_ratios() {
    for (name, companions, code) in FIXTURES {
        same_ratios_as_locust(name, companions, *code).await;
    }
}

/// The flattening itself: a TaskSet of weight-3 and weight-1 functions beside a
/// weight-2 method is three tasks 3:1:2 in one class, as Locust's nested tree says.
#[tokio::test]
async fn a_nested_taskset_is_flattened_with_its_weights() {
    let dir = folder_with("taskset_functions.py", &[]);
    let toml = converted(dir.path(), "taskset_functions.py", 0).await;
    for (task, weight) in [("home", "weight = 3"), ("missing", "weight = 2")] {
        let at = toml.find(&format!("name = \"{task}\"")).expect(task);
        assert!(
            toml[at..].lines().nth(1).unwrap().contains(weight),
            "{toml}"
        );
    }
    let out = run_in(
        dir.path(),
        &["-f", "taskset_functions.toml", "--show-task-ratio-json"],
    )
    .await;
    let rs = flat_per_class(&out.stdout);
    let shares = &rs["Visitor"].tasks;
    assert!((shares["home"] - 0.5).abs() < 1e-12, "{shares:?}");
    assert!((shares["health"] - 1.0 / 6.0).abs() < 1e-12, "{shares:?}");
}
