//! Locust's `examples/` translated to TOML, user classes and task sets:
//! debugging_advanced.py, manual_stats_reporting.py, markov_taskset.py,
//! nested_inline_tasksets.py, semaphore_wait.py, use_as_lib.py and the SDK's session
//! patching.
//!
//! Each translation is run by the real binary, headless and bounded (`-i` and `-t`),
//! against a `HostileServer` on 127.0.0.1 scripted with the routes the example needs,
//! asserting what the server received. The runner and readers are in
//! `tests/common/examples.rs`; `locust_examples.rs` holds the coverage check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::examples::*;
use common::headless::Run;
use common::hostile::*;

/// debugging_advanced.py: each class run alone, as `run_single_user` does; each user
/// sends its one GET, judged by the usual status rule, and stops itself (`raise
/// StopUser()`): three users send three GETs in all, however long the run (1 s here,
/// where users that did not stop would send thousands), and none is started again.
#[tokio::test]
async fn debugging_advanced() {
    let scenario = example("debugging_advanced.toml");
    for (class, path) in [("User1", "/hello1"), ("User2", "/hello2")] {
        let server = HostileServer::start([("/hello1", page()), ("/hello2", page())]).await;
        let run = scenario
            .run(&server.url(), &["-u", "3", "-r", "1000", "-t", "1s", class])
            .await;
        run.assert_exit(0);
        assert_eq!(targets(&server), [path; 3], "{}", run.describe());
        assert_eq!(run.counts("GET", path), (3, 0));
        assert_eq!(run.totals(), (3, 0));
        assert_eq!(run.csv("exceptions").len(), 1, "StopUser is no exception");
    }
    // The `catch_response` block decides nothing: a 500 still fails.
    let broken = response(
        "HTTP/1.1 500 Internal Server Error",
        &[("Content-Type", "text/plain")],
        "oops",
    );
    let server = HostileServer::start([("/hello2", Behaviour::raw(broken))]).await;
    let run = scenario
        .run(&server.url(), &["-u", "1", "-i", "1", "-t", "30s", "User2"])
        .await;
    run.assert_exit(1);
    assert_eq!(targets(&server), ["/hello2"]);
    assert_eq!(
        run.errors("GET", "/hello2"),
        [(
            "HTTPError('500 Server Error: Internal Server Error for url: /hello2')".to_string(),
            1
        )],
        "{}",
        run.describe()
    );
}

/// manual_stats_reporting.py: no request, three timed rows of type GROUP, one per
/// task, each run counted once (pauses shortened to at most 2 ms). As in Locust,
/// "failing_task" always fails with `Exception('Oh nooes!')` and "decorator_test" about
/// half of the time with `Exception('decorator_task failed')`; each raise is also an
/// ERROR line and a row of the exceptions table (one per `raise`, with its count).
#[tokio::test]
async fn manual_stats_reporting() {
    let server = HostileServer::start([("/", page())]).await;
    let run = example("manual_stats_reporting.toml")
        .replace("between(0, 1)", "between(0, 0.002)")
        .replace("constant(1)", "constant(0)")
        .run(&server.url(), &["-u", "1", "-i", "200", "-t", "30s"])
        .await;
    run.assert_exit(1);
    assert!(server.requests().is_empty(), "{}", run.describe());
    let mut total = 0;
    for name in ["successful_task", "decorator_test", "failing_task"] {
        let (count, _) = run.counts("GROUP", name);
        assert!(count > 0, "{name}\n{}", run.describe());
        total += count;
    }
    assert_eq!(total, 200, "{}", run.describe());
    assert_eq!(run.counts("GROUP", "successful_task").1, 0);
    let (failing, failed) = run.counts("GROUP", "failing_task");
    assert_eq!(failed, failing, "failing_task always fails");
    assert_eq!(
        run.errors("GROUP", "failing_task"),
        [("Exception('Oh nooes!')".to_string(), failing)]
    );
    let (decorated, decorated_failed) = run.counts("GROUP", "decorator_test");
    // About half: within 4 standard deviations of a binomial with p = 1/2.
    let sd = (decorated as f64 / 4.0).sqrt();
    assert!(
        (decorated_failed as f64 - decorated as f64 / 2.0).abs() <= 4.0 * sd + 1.0,
        "{decorated_failed} of {decorated} decorator_test runs failed"
    );
    assert_eq!(
        run.errors("GROUP", "decorator_test"),
        [(
            "Exception('decorator_task failed')".to_string(),
            decorated_failed
        )]
    );
    let mut exceptions: Vec<(String, String)> = run.csv("exceptions")[1..]
        .iter()
        .map(|r| (r[1].clone(), r[0].clone()))
        .collect();
    exceptions.sort();
    assert_eq!(
        exceptions,
        [
            ("Oh nooes!".to_string(), failing.to_string()),
            (
                "decorator_task failed".to_string(),
                decorated_failed.to_string()
            ),
        ]
    );
    let logged = run
        .stderr
        .lines()
        .filter(|l| l.contains("/ERROR/locust.user.task: "))
        .count() as u64;
    assert_eq!(logged, failing + decorated_failed, "{}", run.describe());
}

/// The transitions of markov_taskset.py, by task number: each task's successors.
fn markov_transitions() -> BTreeMap<u32, Vec<(u32, u32)>> {
    BTreeMap::from([
        (1, vec![(2, 1)]),
        (2, vec![(3, 2), (1, 1)]),
        (3, vec![(4, 3), (2, 1), (1, 1)]),
        (4, vec![(5, 1), (3, 1)]),
        (5, vec![(6, 4), (4, 1)]),
        (6, vec![(1, 2), (5, 1)]),
    ])
}

/// The share of each task of `markov_transitions` in the long run (the chain's
/// stationary distribution), by power iteration of the lazy chain.
fn markov_shares() -> BTreeMap<u32, f64> {
    let chain = markov_transitions();
    let mut p: BTreeMap<u32, f64> = chain.keys().map(|&k| (k, 1.0 / 6.0)).collect();
    for _ in 0..20_000 {
        let mut q: BTreeMap<u32, f64> = chain.keys().map(|&k| (k, p[&k] / 2.0)).collect();
        for (from, next) in &chain {
            let total: u32 = next.iter().map(|(_, w)| w).sum();
            for (to, weight) in next {
                *q.get_mut(to).unwrap() += p[from] / 2.0 * f64::from(*weight) / f64::from(total);
            }
        }
        p = q;
    }
    p
}

/// The `--show-task-ratio` shares (percent) of the first table, by class and task name.
fn printed_ratios(run: &Run) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in run
        .stdout
        .lines()
        .skip_while(|l| !l.contains("Task ratio per User class"))
    {
        if line.contains("Total task ratio") {
            break;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [share, name] = words[..] {
            if let Ok(share) = share.parse::<f64>() {
                out.insert(name.to_string(), share);
            }
        }
    }
    out
}

/// markov_taskset.py: the walk starts at method1 and only ever takes a transition the
/// Python decorators declare; `--show-task-ratio` prints the chain's long-run shares.
#[tokio::test]
async fn markov_taskset() {
    let routes: Vec<(String, Behaviour)> =
        (1..=6).map(|n| (format!("/method{n}"), page())).collect();
    let server = HostileServer::start(routes).await;
    let scenario = example("markov_taskset.toml").replace("constant(1)", "constant(0)");
    let run = scenario
        .run(&server.url(), &["-u", "1", "-i", "300", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let walk: Vec<u32> = targets(&server)
        .iter()
        .map(|t| t.strip_prefix("/method").unwrap().parse().unwrap())
        .collect();
    assert_eq!(walk.len(), 300, "{}", run.describe());
    assert_eq!(walk[0], 1, "a chain starts at its first task");
    let chain = markov_transitions();
    for pair in walk.windows(2) {
        assert!(
            chain[&pair[0]].iter().any(|(to, _)| *to == pair[1]),
            "method{} -> method{} is no transition: {walk:?}",
            pair[0],
            pair[1]
        );
    }
    // Every task is reached (the rarest, method6, has a long-run share near 9 %).
    assert_eq!(walk.iter().collect::<BTreeSet<_>>().len(), 6, "{walk:?}");
    for n in 1..=6u32 {
        let count = walk.iter().filter(|&&m| m == n).count() as u64;
        assert_eq!(run.counts("GET", &format!("/method{n}")), (count, 0));
    }

    let run = scenario.run(&server.url(), &["--show-task-ratio"]).await;
    run.assert_exit(0);
    let printed = printed_ratios(&run);
    let expected = markov_shares();
    assert_eq!(printed["TransitionsUser"], 100.0, "{}", run.stdout);
    assert_eq!(
        printed.len(),
        7,
        "the class and its six tasks\n{}",
        run.stdout
    );
    for (n, share) in expected {
        let shown = printed[&format!("method{n}")];
        assert!(
            (shown - share * 100.0).abs() < 0.051,
            "method{n}: printed {shown}, stationary {:.3}\n{}",
            share * 100.0,
            run.stdout
        );
    }
}

/// nested_inline_tasksets.py: the index, and now and then the stats, starting with the
/// index; in the long run the index 10 times in 11, as the nested TaskSets give.
#[tokio::test]
async fn nested_inline_tasksets() {
    let server =
        HostileServer::start([("/", page()), ("/stats/requests", json(r#"{"stats": []}"#))]).await;
    let scenario = example("nested_inline_tasksets.toml").replace("between(2, 5)", "constant(0)");
    let run = scenario
        .run(&server.url(), &["-u", "1", "-i", "400", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let seen = targets(&server);
    assert_eq!(seen.len(), 400, "{}", run.describe());
    assert_eq!(seen[0], "/");
    let seen_tally = tally(&server);
    assert_eq!(
        seen_tally.keys().cloned().collect::<BTreeSet<_>>(),
        set(&["/", "/stats/requests"]),
        "{seen:?}"
    );
    // About 36 stats in 400 (the index follows the index 20 times in 21); the bounds
    // are far in the tails.
    let stats = seen_tally["/stats/requests"];
    assert!((3..150).contains(&stats), "{stats} stats: {seen:?}");
    assert_eq!(run.counts("GET", "/"), (400 - stats as u64, 0));

    // Locust's nested TaskSets: outer choice index-TaskSet 1 : stats 1, inner index 10
    // : stop 1. Then p, the chance that the index follows the index, solves
    // p = 10/11 + 1/11 * p/2 (p = 20/21), and the index's long-run share is 10/11.
    let p = (10.0 / 11.0) / (1.0 - 1.0 / 22.0);
    assert!((p - 20.0 / 21.0_f64).abs() < 1e-12);
    let run = scenario.run(&server.url(), &["--show-task-ratio"]).await;
    run.assert_exit(0);
    let printed = printed_ratios(&run);
    assert_eq!(printed["index"], 90.9, "{}", run.stdout);
    assert_eq!(printed["stats"], 9.1, "{}", run.stdout);
}

/// semaphore_wait.py: no user starts its tasks before the ramp has started them all.
/// The ramp takes a second (3 users at 2 a second) and each answer 300 ms, so a user
/// that did not wait would send all three requests of the run by itself: with the
/// barrier, each user sends one, on its own connection.
#[tokio::test]
async fn semaphore_wait() {
    let slow = response("HTTP/1.1 200 OK", &[], "index");
    let server =
        HostileServer::start([("/", Behaviour::Delay(Duration::from_millis(300), slow))]).await;
    let run = example("semaphore_wait.toml")
        .run(
            &server.url(),
            &["-u", "3", "-r", "2", "-i", "3", "-t", "30s"],
        )
        .await;
    run.assert_exit(0);
    let requests = server.requests();
    assert_eq!(targets(&server), ["/", "/", "/"], "{}", run.describe());
    let connections: BTreeSet<u64> = requests.iter().map(|r| r.connection_id).collect();
    assert_eq!(connections.len(), 3, "{}", run.describe());
    assert!(
        run.stderr
            .contains(r#"All users spawned: {"WebsiteUser": 3} (3 total users)"#),
        "{}",
        run.describe()
    );
    assert_eq!(run.counts("GET", "/"), (3, 0));
}

/// use_as_lib.py: the user's part, GET / again and again (the library calls are
/// command-line flags).
#[tokio::test]
async fn use_as_lib() {
    let server = HostileServer::start([("/", page())]).await;
    let run = example("use_as_lib.toml")
        .run(
            &server.url(),
            &["-u", "1", "-r", "10", "-i", "3", "-t", "30s"],
        )
        .await;
    run.assert_exit(0);
    assert_eq!(targets(&server), ["/", "/", "/"], "{}", run.describe());
    assert!(server.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(run.counts("GET", "/"), (3, 0));
}

/// sdk_session_patching/session_patch_locustfile.py: what the SDK sends, asset after
/// asset, with the token (as read from a file, trailing newline and all).
#[tokio::test]
async fn sdk_session_patching() {
    let scenario = example("sdk_session_patching/session_patch_locustfile.toml");
    let asset = r#"{"identity": "assets/7f1c", "behaviours": ["Builtin"], "attributes": {"foo": "bar"}, "confirmation_status": "PENDING"}"#;
    let server = HostileServer::start([("/archivist/v2/assets", json(asset))]).await;
    let args = [
        "-u",
        "1",
        "-i",
        "3",
        "-t",
        "30s",
        "--var",
        "AUTH_TOKEN=tok-123\n",
    ];
    let run = scenario.run(&server.url(), &args).await;
    run.assert_exit(0);
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{}", run.describe());
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.target.as_str()),
            ("POST", "/archivist/v2/assets")
        );
        assert_eq!(
            request.header_str("Authorization").as_deref(),
            Some("Bearer tok-123")
        );
        assert_eq!(
            request.header_str("Content-Type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            body_json(request),
            serde_json::json!({
                "behaviours": ["Builtin", "RecordEvidence", "Attachments"],
                "storage_integrity": "TENANT_STORAGE",
                "attributes": {"foo": "bar"}
            })
        );
    }
    // The keys in the SDK's order.
    assert!(
        body(&requests[0]).find("behaviours") < body(&requests[0]).find("storage_integrity")
            && body(&requests[0]).find("storage_integrity") < body(&requests[0]).find("attributes"),
        "{}",
        body(&requests[0])
    );
    assert_eq!(run.counts("POST", "/archivist/v2/assets"), (3, 0));

    // A refused token: each call fails, and the next one follows.
    let refused = response(
        "HTTP/1.1 401 Unauthorized",
        &[("Content-Type", "application/json")],
        r#"{"error": "unauthenticated"}"#,
    );
    let server = HostileServer::start([("/archivist/v2/assets", Behaviour::raw(refused))]).await;
    let run = scenario.run(&server.url(), &args).await;
    run.assert_exit(1);
    assert_eq!(
        server.count("/archivist/v2/assets"),
        3,
        "{}",
        run.describe()
    );
    assert_eq!(
        run.errors("POST", "/archivist/v2/assets"),
        [(
            "HTTPError('401 Client Error: Unauthorized for url: /archivist/v2/assets')".to_string(),
            3
        )]
    );

    // Without the token the file is refused before any request.
    let run = scenario
        .run(&server.url(), &["-u", "1", "-i", "1", "-t", "30s"])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stderr.contains("AUTH_TOKEN"), "{}", run.describe());
    assert_eq!(server.count("/archivist/v2/assets"), 3);
}
