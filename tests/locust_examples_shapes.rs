//! Locust's `examples/` translated to TOML, load shapes and waits: the custom_shape
//! examples with their `locust.toml` profiles (the first seconds; the shapes themselves
//! are played in full by src/config/stages/locust_examples.rs), dispatch_test_scripts
//! and custom_wait_function.py.
//!
//! Each translation is run by the real binary, headless and bounded (`-i` and `-t`),
//! against a `HostileServer` on 127.0.0.1 scripted with the routes the example needs,
//! asserting what the server received. The runner and readers are in
//! `tests/common/examples.rs`; `locust_examples.rs` holds the coverage check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::examples::*;
use common::headless::Run;
use common::hostile::*;

/// A shape example: its users, its profile from `locust.toml`, the first 2 s only
/// (the shapes themselves are played in full by src/config/stages/locust_examples.rs).
async fn shape(scenario: Example, config: String, profile: &str) -> (Run, HostileServer) {
    let server = HostileServer::start([("/", page())]).await;
    let run = scenario
        .run(
            &server.url(),
            &["--config", &config, "--profile", profile, "-t", "2s"],
        )
        .await;
    run.assert_exit(0);
    assert!(
        run.stderr.contains("Shape test starting."),
        "{}",
        run.describe()
    );
    (run, server)
}

fn assert_only_root(run: &Run, server: &HostileServer) {
    assert!(!server.requests().is_empty(), "{}", run.describe());
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method == "GET" && r.target == "/"),
        "{:?}",
        targets(server)
    );
    assert_eq!(run.totals().1, 0, "{}", run.describe());
}

#[tokio::test]
async fn custom_shape_stages() {
    let (run, server) = shape(
        example("custom_shape/stages.toml"),
        example_file("custom_shape/locust.toml"),
        "stages",
    )
    .await;
    assert!(run
        .stderr
        .contains("Shape test updating to 10 users at 10.00 spawn rate"));
    assert!(run
        .stderr
        .contains(r#"All users spawned: {"WebsiteUser": 10} (10 total users)"#));
    assert_only_root(&run, &server);
}

#[tokio::test]
async fn custom_shape_staging_user_classes() {
    let (run, server) = shape(
        example("custom_shape/staging_user_classes.toml"),
        example_file("custom_shape/locust.toml"),
        "staging-user-classes",
    )
    .await;
    assert!(
        run.stderr.contains(
            r#"All users spawned: {"WebsiteUserA": 10, "WebsiteUserB": 0} (10 total users)"#
        ),
        "{}",
        run.describe()
    );
    assert_only_root(&run, &server);
}

#[tokio::test]
async fn custom_shape_step_load() {
    let (run, server) = shape(
        example("custom_shape/step_load.toml"),
        example_file("custom_shape/locust.toml"),
        "step-load",
    )
    .await;
    assert!(run
        .stderr
        .contains("Shape test updating to 10 users at 10.00 spawn rate"));
    assert_only_root(&run, &server);
}

#[tokio::test]
async fn custom_shape_double_wave() {
    let (run, server) = shape(
        example("custom_shape/double_wave.toml"),
        example_file("custom_shape/locust.toml"),
        "double-wave",
    )
    .await;
    assert!(run
        .stderr
        .contains("Shape test updating to 20 users at 20.00 spawn rate"));
    assert_only_root(&run, &server);
}

#[tokio::test]
async fn custom_shape_wait_user_count() {
    let (run, _server) = shape(
        example("custom_shape/wait_user_count.toml"),
        example_file("custom_shape/locust.toml"),
        "wait-user-count",
    )
    .await;
    assert!(run
        .stderr
        .contains("Shape test updating to 10 users at 100.00 spawn rate"));
    assert!(
        run.stderr.contains("Shape test reached 10 users after"),
        "{}",
        run.describe()
    );
}

/// dispatch_test_scripts/locustfile.py: the first stage is one user of the first
/// class, counted under its own name.
#[tokio::test]
async fn dispatch_test_scripts() {
    let (run, server) = shape(
        example("dispatch_test_scripts/locustfile.toml"),
        example_file("dispatch_test_scripts/locust.toml"),
        "ramp-up-then-down",
    )
    .await;
    assert!(
        run.stderr
            .contains(r#"All users spawned: {"UserA": 1, "UserB": 0, "UserC": 0} (1 total users)"#),
        "{}",
        run.describe()
    );
    assert_eq!(targets(&server), ["/"], "constant(600): one request");
    assert_eq!(run.counts("GET", "UserA"), (1, 0));
}

/// custom_wait_function.py: the index, the stats or a missing page, equally likely,
/// after exponential waits (WebsiteUser, their mean shortened to 1 ms) or strictExp
/// waits (StrictWebsiteUser, `exponential_between` shortened from 3-7 s to 3-7 ms);
/// each class run alone.
#[tokio::test]
async fn custom_wait_function() {
    for class in ["WebsiteUser", "StrictWebsiteUser"] {
        custom_wait_function_class(class, 60).await;
    }
}

async fn custom_wait_function_class(class: &str, iterations: usize) {
    let server =
        HostileServer::start([("/", page()), ("/stats/requests", json(r#"{"stats": []}"#))]).await;
    let limit = iterations.to_string();
    let run = example("custom_wait_function.toml")
        .replace("exponential(1)", "exponential(0.001)")
        .replace(
            "exponential_between(3, 7)",
            "exponential_between(0.003, 0.007)",
        )
        .run(
            &server.url(),
            &["-u", "1", "-i", &limit, "-t", "30s", class],
        )
        .await;
    run.assert_exit(1);
    assert!(
        run.stderr.contains(&format!(
            r#"All users spawned: {{"{class}": 1}} (1 total users)"#
        )),
        "{}",
        run.describe()
    );
    let seen = tally(&server);
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        set(&["/", "/stats/requests", "/does_not_exist"]),
        "{}",
        run.describe()
    );
    assert_eq!(seen.values().sum::<usize>(), iterations);
    assert!(server.requests().iter().all(|r| r.method == "GET"));
    let missing = seen["/does_not_exist"] as u64;
    assert_eq!(run.counts("GET", "/does_not_exist"), (missing, missing));
    assert_eq!(
        run.errors("GET", "/does_not_exist"),
        [(
            "HTTPError('404 Client Error: Not Found for url: /does_not_exist')".to_string(),
            missing
        )]
    );
    assert_eq!(run.counts("GET", "/"), (seen["/"] as u64, 0));
    assert_eq!(
        run.counts("GET", "/stats/requests"),
        (seen["/stats/requests"] as u64, 0)
    );
}
