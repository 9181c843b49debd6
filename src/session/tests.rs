//! A session against the built-in demo target on 127.0.0.1: commands change the users
//! as asked, deltas add up to the whole, and finishing is once.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Parser;
use locust_demo_target::{DemoConfig, Mode};

use super::*;
use crate::config::cli::Cli;
use crate::sinks::console::Console;

const SCENARIO: &str = r#"
[users.A]
wait_time = "constant(0.01)"
[[users.A.tasks]]
name = "health"
request = { path = "/health" }

[users.B]
wait_time = "constant(0.01)"
[[users.B.tasks]]
name = "gateway"
request = { path = "/gateway-health" }
"#;

async fn session(
    users: &str,
) -> (
    Arc<Session>,
    locust_demo_target::DemoServer,
    tempfile::TempDir,
) {
    let server = locust_demo_target::start(
        "127.0.0.1:0".parse().unwrap(),
        DemoConfig::instant(),
        Mode::Gateway,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    let file = dir.path().join("s.toml");
    let host = server.base_url();
    let cli = Cli::try_parse_from([
        "locust-rs",
        "--headless",
        "-f",
        file.to_str().unwrap(),
        "-H",
        &host,
        "-u",
        users,
        "-r",
        "1000",
    ])
    .unwrap();
    let settings = crate::config::resolve(cli, dir.path()).unwrap();
    let plan = crate::plan::build(&settings).unwrap();
    let session = Session::start(
        settings.spec.clone(),
        plan.classes,
        &plan.run_steps,
        Periodic::new(Console::new(&settings), None),
        CacheRole {
            header: 0,
            hit: Vec::new(),
            miss: Vec::new(),
        },
        false,
        None,
    )
    .await
    .unwrap();
    (session, server, dir)
}

/// Waits (at most 10 s) until the status satisfies `done`.
async fn until(session: &Session, done: impl Fn(&Status) -> bool) -> Status {
    for _ in 0..1000 {
        let status = session.status();
        if done(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the session never got there: {:?}", session.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_set_the_users_and_stop_finishes_once() {
    let (session, _server, _dir) = session("4").await;
    until(&session, |s| {
        s.user_count == 4 && s.state == RunState::Running
    })
    .await;
    let counts = BTreeMap::from([("A".to_string(), 1), ("B".to_string(), 3)]);
    session.apply(Command::SetCounts(counts.clone())).await;
    let status = until(&session, |s| s.class_counts == counts).await;
    assert_eq!(status.user_count, 4);
    session
        .apply(Command::Ramp {
            users: 2,
            rate: 1000.0,
        })
        .await;
    until(&session, |s| {
        s.user_count == 2 && s.state == RunState::Running
    })
    .await;
    session.apply(Command::Stop).await;
    let status = session.status();
    assert_eq!(
        (status.running, status.user_count, status.state),
        (false, 0, RunState::Stopped)
    );
    let finished = session.finished().expect("stopped means finished");
    assert_eq!(finished.reason, StopReason::Stopped);
    // A second finish changes nothing: the same run comes back.
    let again = session.finish(StopReason::Interrupt).await;
    assert!(Arc::ptr_eq(&finished, &again));
    assert!(finished.stats.total().num_requests > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_delta_is_kept_until_one_is_taken() {
    // A headless or web run never takes deltas: a second copy of the figures, its
    // per-second maps growing every second, would only cost memory (the soak's growth).
    let (session, server, _dir) = session("3").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    session.figures.drain();
    assert!(lock(&session.figures.delta).is_none());
    let first = session.take_delta();
    assert!(first.total().num_requests > 0);
    assert!(lock(&session.figures.delta).is_some());
    session.finish(StopReason::Stopped).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltas_add_up_to_the_whole_run() {
    let (session, server, _dir) = session("3").await;
    let mut summed = Stats::new(epoch_now(), false);
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        summed += &session.take_delta();
    }
    let finished = session.finish(StopReason::Stopped).await;
    summed += &session.take_delta();
    let whole = finished.stats.total().num_requests;
    assert!(whole > 0);
    assert_eq!(summed.total().num_requests, whole);
    for entry in finished.stats.entries() {
        let part = summed
            .entry(&entry.method, &entry.name)
            .expect("every entry is in a delta");
        assert_eq!(part.num_requests, entry.num_requests, "{}", entry.name);
    }
    // Every request the target answered was recorded once.
    assert_eq!(server.counters().total, whole);
}
