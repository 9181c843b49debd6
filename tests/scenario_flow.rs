//! End-to-end tests of a task's control flow (issue 11): the real binary, headless,
//! against `common::hostile::HostileServer` on 127.0.0.1, asserting what the server
//! received and in which order. A failed request and the rest of its task
//! (`stop_on_failure`), class headers that wait for the login that sets them, a name
//! left empty, template errors at run time, `think`, `set`, `if`/`else`, `repeat`,
//! `for`, sequential tasks, class `vars`, and a file's `[[setup]]`/`[[teardown]]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::headless::{run, Run};
use common::hostile::*;

fn ok() -> Behaviour {
    json("{}")
}

/// One user per class (`fixed_count = 1` each), every task sent once (the wait that
/// follows it outlasts the run), for 3 s.
async fn run_each_once(scenario: &str, host: &str, users: usize) -> Run {
    let users = users.to_string();
    run(scenario, host, &["-u", &users, "-r", "1000", "-t", "3s"]).await
}

/// A failed request is recorded and its task goes on with the next step, as a Python
/// task goes on after `self.client.get` of a 404; `stop_on_failure` on the task or on
/// the request ends the task there instead.
#[tokio::test]
async fn a_failure_ends_the_task_only_with_stop_on_failure() {
    let server = HostileServer::start([
        ("/after-a", ok()),
        ("/after-b", ok()),
        ("/after-c", ok()),
        ("/after-d", ok()),
    ])
    .await;
    let class = |name: &str, task_flag: &str, step_flag: &str, x: &str| {
        format!(
            "[users.{name}]\nfixed_count = 1\nwait_time = \"constant(100)\"\n\
             [[users.{name}.tasks]]\nname = \"t\"\n{task_flag}\n\
             [[users.{name}.tasks.steps]]\npath = \"/missing-{x}\"\n{step_flag}\n\
             [[users.{name}.tasks.steps]]\npath = \"/after-{x}\"\n\n"
        )
    };
    let scenario = [
        class("GoesOn", "", "", "a"),
        class("TaskStops", "stop_on_failure = true", "", "b"),
        class("StepStops", "", "stop_on_failure = true", "c"),
        class(
            "StepGoesOn",
            "stop_on_failure = true",
            "stop_on_failure = false",
            "d",
        ),
    ]
    .concat();
    let run = run_each_once(&scenario, &server.url(), 4).await;
    run.assert_exit(1);
    for x in ["a", "b", "c", "d"] {
        run.assert_failed_once(
            "GET",
            &format!("/missing-{x}"),
            &format!("HTTPError('404 Client Error: Not Found for url: /missing-{x}')"),
        );
    }
    let after = |x: &str| server.count(&format!("/after-{x}"));
    assert_eq!(
        [after("a"), after("b"), after("c"), after("d")],
        [1, 0, 0, 1],
        "the step after a failure: sent unless the task or the step stops on failure\n{}",
        run.describe()
    );
}

/// Class headers that read a variable are left out until it is set, so the login in
/// `on_start` that extracts the token goes out without them (it used to wait forever
/// for its own answer), and every request after it carries the token. One that calls a
/// function (`uuid()`) is fresh on every request.
#[tokio::test]
async fn class_headers_wait_for_the_login_that_sets_them() {
    let server =
        HostileServer::start([("/login", json(r#"{"token": "s3cret"}"#)), ("/me", ok())]).await;
    let scenario = r#"
[users.Member]
wait_time = "constant(0)"
[users.Member.headers]
Authorization = "Bearer {{ token }}"
X-Static = "always"
X-Request-Id = "{{ uuid() }}"

[[users.Member.on_start]]
method = "POST"
path = "/login"
[[users.Member.on_start.extract]]
var = "token"
json = "/token"

[[users.Member.tasks]]
name = "me"
[[users.Member.tasks.steps]]
path = "/me"
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "2", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    let login = server.requests_to("/login");
    assert_eq!(login.len(), 1, "{}", run.describe());
    assert_eq!(login[0].header_str("Authorization"), None);
    assert_eq!(login[0].header_str("X-Static").as_deref(), Some("always"));
    let me = server.requests_to("/me");
    assert_eq!(me.len(), 2, "{}", run.describe());
    for request in &me {
        assert_eq!(
            request.header_str("Authorization").as_deref(),
            Some("Bearer s3cret")
        );
        assert_eq!(request.header_str("X-Static").as_deref(), Some("always"));
    }
    // A header that calls a function is rendered for each request, not once per user.
    let ids: BTreeSet<String> = server
        .requests()
        .iter()
        .map(|r| r.header_str("X-Request-Id").unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
}

/// `name = ""` is no name: the row is named after the URL, as Locust names a request
/// without `name=`; a task without a name is named after its class and index.
#[tokio::test]
async fn an_empty_name_falls_back_to_the_url() {
    let server = HostileServer::start([("/things?x=1", ok())]).await;
    let scenario = r#"
[users.U]
wait_time = "constant(0)"
[[users.U.tasks]]
[[users.U.tasks.steps]]
path = "/things"
query = { x = 1 }
name = ""
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "1", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/things?x=1");
    assert_eq!(run.totals(), (1, 0), "{}", run.describe());
}

/// A template that fails at run time (here `int` of a word) is a failure of that
/// request with a `TemplateError` text, an ERROR log line and an exception, and ends
/// the task as a Python exception would; the next iteration runs again. The message is
/// one line and dumps no variable.
#[tokio::test]
async fn a_template_error_at_run_time_is_a_failure_not_a_crash() {
    let server = HostileServer::start([("/next", ok())]).await;
    let scenario = r#"
[users.U]
wait_time = "constant(0)"
[users.U.vars]
word = "abc"
secret = "hunter2"
[[users.U.tasks]]
name = "t"
[[users.U.tasks.steps]]
path = "/n/{{ word | int }}"
name = "/n/[word]"
headers = { X-Secret = "{{ secret }}" }
[[users.U.tasks.steps]]
path = "/next"
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "2", "-t", "20s"],
    )
    .await;
    run.assert_exit(1);
    assert_eq!(run.counts("GET", "/n/[word]"), (2, 2), "{}", run.describe());
    let errors = run.errors("GET", "/n/[word]");
    assert_eq!(errors.len(), 1, "{}", run.describe());
    let (error, occurrences) = &errors[0];
    assert_eq!(*occurrences, 2);
    assert!(
        error.starts_with("TemplateError('U.tasks[0].steps[0]: invalid operation")
            && error.contains("s.toml:users.U.tasks[0].steps[0].path")
            && !error.contains('\n')
            && !error.contains("hunter2"),
        "{error}"
    );
    assert_eq!(server.count("/next"), 0, "the task ended at the error");
    assert!(server.requests().is_empty());
    let logged: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("/ERROR/locust.user.task: U.tasks[0].steps[0]: invalid operation"))
        .collect();
    assert_eq!(logged.len(), 2, "{}", run.describe());
    assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
    let exceptions = run.csv("exceptions");
    assert_eq!(exceptions.len(), 2, "{exceptions:?}");
    assert_eq!(exceptions[1][0], "2");
}

/// `set`, `for`, `repeat`, `if`/`else` (a condition on a variable not set yet is false),
/// `if` on a request, and `think`, in one task: the server sees exactly this order.
#[tokio::test]
async fn steps_set_branch_loop_and_think_in_written_order() {
    let routes = [
        "/item/3",
        "/item/5",
        "/item/8",
        "/ping",
        "/gold?g=hi-gold",
        "/otherwise",
        "/many",
        "/last",
    ];
    let server = HostileServer::start(routes.map(|r| (r, ok()))).await;
    let scenario = r#"
[users.Flow]
wait_time = "constant(0)"
[users.Flow.vars]
kind = "gold"

[[users.Flow.tasks]]
name = "flow"
[[users.Flow.tasks.steps]]
set = { ids = "{{ [3, 5, 8] }}", greeting = "hi-{{ kind }}" }
[[users.Flow.tasks.steps]]
for = { var = "id", in = "ids" }
steps = [{ path = "/item/{{ id }}", name = "/item/[id]" }]
[[users.Flow.tasks.steps]]
repeat = 2
steps = [{ path = "/ping" }]
[[users.Flow.tasks.steps]]
if = "kind == 'gold'"
then = [{ path = "/gold", query = { g = "{{ greeting }}" } }]
else = [{ path = "/plain" }]
[[users.Flow.tasks.steps]]
if = "later"
then = [{ path = "/never" }]
else = [{ path = "/otherwise" }]
[[users.Flow.tasks.steps]]
path = "/few"
if = "ids | length < 3"
[[users.Flow.tasks.steps]]
path = "/many"
if = "ids | length >= 3"
[[users.Flow.tasks.steps]]
think = 0.3
[[users.Flow.tasks.steps]]
path = "/last"
[[users.Flow.tasks.steps]]
set = { later = "set only at the end" }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "1", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    assert_eq!(
        targets(&server),
        [
            "/item/3",
            "/item/5",
            "/item/8",
            "/ping",
            "/ping",
            "/gold?g=hi-gold",
            "/otherwise",
            "/many",
            "/last"
        ],
        "{}",
        run.describe()
    );
    assert_eq!(run.counts("GET", "/item/[id]"), (3, 0));
    assert_eq!(run.counts("GET", "/ping"), (2, 0));
    // A pause is a lower bound on the gap, whatever the machine's load.
    let requests = server.requests();
    let gap = requests[8].received_at - requests[7].received_at;
    assert!(gap >= Duration::from_millis(300), "think: {gap:?}");
}

/// `sequential = true` runs the tasks in written order, round after round (Locust's
/// SequentialTaskSet), whatever their weights.
#[tokio::test]
async fn sequential_tasks_run_in_written_order() {
    let server = HostileServer::start([("/a", ok()), ("/b", ok()), ("/c", ok())]).await;
    let scenario = r#"
[users.Seq]
wait_time = "constant(0)"
sequential = true
[[users.Seq.tasks]]
name = "a"
weight = 5
request = { path = "/a" }
[[users.Seq.tasks]]
name = "b"
request = { path = "/b" }
[[users.Seq.tasks]]
name = "c"
request = { path = "/c" }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "7", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    assert_eq!(
        targets(&server),
        ["/a", "/b", "/c", "/a", "/b", "/c", "/a"],
        "{}",
        run.describe()
    );
}

/// Class `vars` are rendered once per user when it starts: each user keeps its own
/// value on every request, and users differ. The users share 30 iterations, 0.1 s apart
/// per user, so every user has started long before they run out.
#[tokio::test]
async fn class_vars_are_fixed_per_user() {
    let server = HostileServer::start([("/who", ok())]).await;
    let scenario = r#"
[users.U]
wait_time = "constant(0.1)"
[users.U.vars]
me = "{{ uuid() }}"
[[users.U.tasks]]
name = "who"
[[users.U.tasks.steps]]
path = "/who"
headers = { X-User = "{{ me }}" }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "3", "-r", "1000", "-i", "30", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    let requests = server.requests_to("/who");
    assert_eq!(requests.len(), 30, "{}", run.describe());
    // Each user keeps its own keep-alive connection, so a connection stands for a user.
    let mut by_connection: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for request in &requests {
        let me = request.header_str("X-User").unwrap();
        assert_eq!(me.len(), 36, "a uuid: {me}");
        by_connection
            .entry(request.connection_id)
            .or_default()
            .insert(me);
    }
    assert_eq!(by_connection.len(), 3, "{by_connection:?}");
    assert!(by_connection.values().all(|values| values.len() == 1));
    let distinct: BTreeSet<&String> = by_connection.values().flatten().collect();
    assert_eq!(distinct.len(), 3, "{by_connection:?}");
}

/// `[[setup]]` runs once before any user starts and what it extracts every user reads;
/// `[[teardown]]` runs once after the last user stopped, with the same variables.
#[tokio::test]
async fn setup_and_teardown_run_once_around_the_users() {
    let server = HostileServer::start([
        ("/runs", json(r#"{"id": "R42"}"#)),
        ("/work?run=R42", ok()),
        ("/runs/R42", ok()),
    ])
    .await;
    let scenario = r#"
[[setup]]
method = "POST"
path = "/runs"
[[setup.extract]]
var = "run_id"
json = "/id"

[[teardown]]
method = "DELETE"
path = "/runs/{{ run_id }}"
name = "/runs/[id]"

[users.U]
wait_time = "constant(0)"
[[users.U.tasks]]
name = "work"
[[users.U.tasks.steps]]
path = "/work"
query = { run = "{{ run_id }}" }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "3", "-r", "100", "-i", "6", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    let seen: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let work = ("GET".to_string(), "/work?run=R42".to_string());
    let mut expected = vec![("POST".to_string(), "/runs".to_string())];
    expected.extend(std::iter::repeat_n(work, 6));
    expected.push(("DELETE".to_string(), "/runs/R42".to_string()));
    assert_eq!(seen, expected, "{}", run.describe());
    assert_eq!(run.counts("POST", "/runs"), (1, 0));
    assert_eq!(run.counts("DELETE", "/runs/[id]"), (1, 0));
}
