//! End-to-end tests of the steps that raise: `{ fail = "..." }` (Locust's `raise
//! Exception("...")` in a task) and `{ stop_user = true }` (`raise StopUser()`), through
//! the real binary, headless and bounded (`-i` and `-t`), against
//! `common::hostile::HostileServer` on 127.0.0.1. Asserts what the server received and
//! what the run recorded: group rows, failures, exceptions and ERROR lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::headless::run;
use common::hostile::*;

fn ok() -> Behaviour {
    Behaviour::raw(response("HTTP/1.1 200 OK", &[], "ok"))
}

/// How many requests to `target` each user sent, by its `X-User` header.
fn per_user(server: &HostileServer, target: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in server.requests_to(target) {
        *counts
            .entry(request.header_str("X-User").unwrap_or_default())
            .or_insert(0) += 1;
    }
    counts
}

/// With 3 users, user 0 stops itself in its first task: it sends nothing after the
/// `stop_user`, runs its on_stop once, and is not started again, while users 1 and 2
/// share the rest of the iterations. The group the stop happened in is recorded failed
/// with `StopUser()` (the exception passing through Locust's `manual_report`), once.
#[tokio::test]
async fn a_user_that_stops_itself_runs_on_stop_once_and_the_others_go_on() {
    let server = HostileServer::start([("/work", ok()), ("/after", ok()), ("/bye", ok())]).await;
    let scenario = r#"
[users.U]
wait_time = "constant(0)"
headers = { X-User = "{{ user_id }}" }
on_stop = [{ path = "/bye" }]
[[users.U.tasks]]
name = "t"
steps = [
  { path = "/work" },
  { group = "g", steps = [{ stop_user = true, if = "user_id == 0" }] },
  { path = "/after" },
]
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "3", "-r", "1000", "-i", "30", "-t", "20s"],
    )
    .await;
    run.assert_exit(1);
    let work = per_user(&server, "/work");
    assert_eq!(work.get("0"), Some(&1), "{work:?}\n{}", run.describe());
    assert_eq!(work.values().sum::<usize>(), 30, "{work:?}");
    let after = per_user(&server, "/after");
    assert_eq!(after.get("0"), None, "{after:?}");
    assert_eq!(after.values().sum::<usize>(), 29, "{after:?}");
    assert!(
        after.get("1").is_some_and(|n| *n > 0) && after.get("2").is_some_and(|n| *n > 0),
        "the other users went on: {after:?}"
    );
    let bye = per_user(&server, "/bye");
    let once_each: BTreeMap<String, usize> =
        [("0".into(), 1), ("1".into(), 1), ("2".into(), 1)].into();
    assert_eq!(bye, once_each, "{}", run.describe());
    assert_eq!(run.counts("GROUP", "g"), (30, 1), "{}", run.describe());
    assert_eq!(
        run.errors("GROUP", "g"),
        vec![("StopUser()".to_string(), 1)]
    );
    // Locust logs nothing for a StopUser and counts no exception.
    assert!(!run.stderr.contains("ERROR"), "{}", run.describe());
    assert_eq!(
        run.csv("exceptions").len(),
        1,
        "{:?}",
        run.csv("exceptions")
    );
}

/// `fail` inside a group, with a message rendered from a response: the group row fails
/// with `Exception('<message>')`, the task ends there (nothing after it is sent), an
/// ERROR line goes to `locust.user.task` and the exceptions table counts it under its
/// message; the user goes on with its next task. A `fail` whose `if` does not hold
/// does nothing.
#[tokio::test]
async fn fail_in_a_group_fails_the_row_ends_the_task_and_counts_an_exception() {
    let item = Behaviour::raw(response(
        "HTTP/1.1 200 OK",
        &[("Content-Type", "application/json")],
        r#"{"sku": "x1", "stock": 0}"#,
    ));
    let server = HostileServer::start([
        ("/item", item),
        ("/cart", ok()),
        ("/never", ok()),
        ("/after", ok()),
    ])
    .await;
    let scenario = r#"
[users.U]
wait_time = "constant(0)"
[[users.U.tasks]]
name = "buy"
steps = [
  { path = "/item", extract = [{ var = "sku", json = "/sku" }, { var = "stock", json = "/stock" }] },
  { fail = "never raised", if = "stock > 5" },
  { group = "checkout", steps = [
    { path = "/cart" },
    { fail = "out of stock: {{ sku }}", if = "stock == 0" },
    { path = "/never" },
  ] },
  { path = "/after" },
]
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "3", "-t", "20s"],
    )
    .await;
    run.assert_exit(1);
    assert_eq!(server.count("/item"), 3, "{}", run.describe());
    assert_eq!(server.count("/cart"), 3);
    assert_eq!(server.count("/never"), 0, "the task ended at the fail");
    assert_eq!(server.count("/after"), 0, "the task ended at the fail");
    assert_eq!(
        run.counts("GROUP", "checkout"),
        (3, 3),
        "{}",
        run.describe()
    );
    assert_eq!(
        run.errors("GROUP", "checkout"),
        vec![("Exception('out of stock: x1')".to_string(), 3)]
    );
    assert_eq!(run.counts("GET", "/cart"), (3, 0));
    let logged = run
        .stderr
        .lines()
        .filter(|l| l.contains("/ERROR/locust.user.task: out of stock: x1"))
        .count();
    assert_eq!(logged, 3, "{}", run.describe());
    let exceptions = run.csv("exceptions");
    assert_eq!(exceptions.len(), 2, "{exceptions:?}");
    assert_eq!(exceptions[0], ["Count", "Message", "Traceback", "Nodes"]);
    assert_eq!(exceptions[1][0], "3");
    assert_eq!(exceptions[1][1], "out of stock: x1");
    assert!(
        exceptions[1][2].contains("U.tasks[0].steps[2].steps[1]"),
        "{exceptions:?}"
    );
    assert!(!run.stderr.contains("never raised"));
}

/// Two `fail` steps raise two different exceptions (one row each, as two `raise` lines
/// have two tracebacks in Locust); a `fail` outside a group records no request row;
/// `stop_user` in on_start stops the user before any task, after its on_stop.
#[tokio::test]
async fn two_fail_steps_are_two_exceptions_and_stop_user_in_on_start_stops_the_user() {
    let server = HostileServer::start([("/a", ok()), ("/bye", ok()), ("/task", ok())]).await;
    let scenario = r#"
[users.Raiser]
weight = 1
wait_time = "constant(0)"
sequential = true
[[users.Raiser.tasks]]
name = "one"
steps = [{ path = "/a" }, { fail = "first" }]
[[users.Raiser.tasks]]
name = "two"
steps = [{ fail = "second" }, { path = "/a" }]

[users.Quitter]
fixed_count = 1
on_start = [{ stop_user = true }]
on_stop = [{ path = "/bye" }]
[[users.Quitter.tasks]]
name = "t"
request = { path = "/task" }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "2", "-r", "1000", "-i", "4", "-t", "20s"],
    )
    .await;
    run.assert_exit(1);
    assert_eq!(server.count("/task"), 0, "{}", run.describe());
    assert_eq!(server.count("/bye"), 1, "{}", run.describe());
    assert_eq!(server.count("/a"), 2, "{}", run.describe());
    let exceptions = run.csv("exceptions");
    assert_eq!(exceptions.len(), 3, "{exceptions:?}");
    let messages: Vec<(&str, &str)> = exceptions[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        messages,
        [("2", "first"), ("2", "second")],
        "{exceptions:?}"
    );
    // Only the requests have rows (two /a, one /bye): a fail outside a group records
    // no failure, only its exception.
    assert_eq!(run.totals(), (3, 0), "{}", run.describe());
    assert!(run.csv("failures").len() == 1, "{:?}", run.csv("failures"));
}
