//! End-to-end tests of the later scenario features: the real binary, headless and
//! bounded (`-i`, `-t`), against `common::hostile::HostileServer` on 127.0.0.1,
//! asserting what the server received (and in which order) and what `_stats.csv` says.
//! Markov chains of tasks (`next`), `group` and `metric` rows, the `barrier` step, a
//! request's own `cookies` and the `set_cookie` step.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::headless::{run, Run};
use common::hostile::*;

fn ok() -> Behaviour {
    json("{}")
}

/// A `_stats.csv` row's columns by header name.
fn stats_row(run: &Run, kind: &str, name: &str) -> std::collections::HashMap<String, String> {
    let rows = run.csv("stats");
    let header = rows[0].clone();
    let (ty, nm) = (
        header.iter().position(|h| h == "Type").unwrap(),
        header.iter().position(|h| h == "Name").unwrap(),
    );
    let row = rows[1..]
        .iter()
        .find(|r| r[ty] == kind && r[nm] == name)
        .unwrap_or_else(|| panic!("no row {kind} {name}\n{}", run.describe()));
    header.into_iter().zip(row.iter().cloned()).collect()
}

fn number(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?}", row[column]))
}

/// A chain a → b → c → a (one way on from each) runs its tasks in that cycle, from
/// the first task, whatever the weights would say in a weighted class; a transition of
/// weight 0 is never taken.
#[tokio::test]
async fn a_chain_runs_its_tasks_along_the_transitions() {
    let server =
        HostileServer::start([("/a", ok()), ("/b", ok()), ("/c", ok()), ("/d", ok())]).await;
    let scenario = r#"
[users.Cycle]
wait_time = "constant(0)"
[[users.Cycle.tasks]]
name = "a"
next = { b = 1, d = 0 }
request = { path = "/a" }
[[users.Cycle.tasks]]
name = "b"
next = { c = 1 }
request = { path = "/b" }
[[users.Cycle.tasks]]
name = "c"
next = { a = 1 }
request = { path = "/c" }
[[users.Cycle.tasks]]
name = "d"
next = { a = 1 }
request = { path = "/d" }
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
    // Locust's warning for a MarkovTaskSet task no transition leads to.
    assert!(
        run.stderr
            .contains("The following markov tasks are unreachable in class Cycle: {'d'}"),
        "{}",
        run.describe()
    );
}

/// A branching chain: every task that follows another is one of its `next` targets.
#[tokio::test]
async fn a_branching_chain_only_takes_its_transitions() {
    let server = HostileServer::start([("/home", ok()), ("/product", ok()), ("/cart", ok())]).await;
    let scenario = r#"
[users.Shop]
wait_time = "constant(0)"
[[users.Shop.tasks]]
name = "home"
next = { product = 1 }
request = { path = "/home" }
[[users.Shop.tasks]]
name = "product"
next = { product = 1, cart = 1 }
request = { path = "/product" }
[[users.Shop.tasks]]
name = "cart"
next = { home = 1 }
request = { path = "/cart" }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "60", "-t", "30s"],
    )
    .await;
    run.assert_exit(0);
    let seen = targets(&server);
    assert_eq!(seen.len(), 60, "{}", run.describe());
    assert_eq!(seen[0], "/home", "the chain starts at the first task");
    for pair in seen.windows(2) {
        let allowed: &[&str] = match pair[0].as_str() {
            "/home" => &["/product"],
            "/product" => &["/product", "/cart"],
            "/cart" => &["/home"],
            other => panic!("unexpected {other}"),
        };
        assert!(allowed.contains(&pair[1].as_str()), "{pair:?} in {seen:?}");
    }
    assert!(seen.iter().any(|t| t == "/cart"), "{seen:?}");
}

/// A group is one `GROUP` row named after it (its requests keep their own rows); a
/// failed request inside fails the group's row with the request's error. A metric is a
/// `METRIC` row whose response times are its values: Min and Max in the CSV.
#[tokio::test]
async fn groups_and_metrics_are_rows_of_their_own() {
    let server = HostileServer::start([("/cart", ok()), ("/pay", json(r#"{"queue": 42}"#))]).await;
    let scenario = r#"
[users.Buyer]
wait_time = "constant(0)"
[[users.Buyer.tasks]]
name = "buy"
[[users.Buyer.tasks.steps]]
group = "checkout flow"
steps = [
  { path = "/cart" },
  { path = "/pay", extract = [{ var = "queue", json = "/queue" }] },
]
[[users.Buyer.tasks.steps]]
group = "broken flow"
steps = [{ path = "/missing" }, { path = "/cart", name = "cart again" }]
[[users.Buyer.tasks.steps]]
metric = "depth"
value = 5
[[users.Buyer.tasks.steps]]
metric = "depth"
value = "{{ 10 + 5 }}"
[[users.Buyer.tasks.steps]]
metric = "queue"
value = "{{ queue }}"
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "2", "-t", "20s"],
    )
    .await;
    run.assert_exit(1);
    assert_eq!(
        run.counts("GROUP", "checkout flow"),
        (2, 0),
        "{}",
        run.describe()
    );
    assert_eq!(run.counts("GET", "/cart"), (2, 0));
    assert_eq!(run.counts("GET", "/pay"), (2, 0));
    // The failed request fails its group; the group's steps go on, as a task's do.
    assert_eq!(run.counts("GROUP", "broken flow"), (2, 2));
    assert_eq!(run.counts("GET", "cart again"), (2, 0));
    assert_eq!(
        run.errors("GROUP", "broken flow"),
        [(
            "HTTPError('404 Client Error: Not Found for url: /missing')".to_string(),
            2
        )]
    );
    // Two runs of the task, each recording 5 and 15.
    let depth = stats_row(&run, "METRIC", "depth");
    assert_eq!(depth["Request Count"], "4");
    assert_eq!(depth["Failure Count"], "0");
    assert_eq!(number(&depth, "Min Response Time"), 5.0);
    assert_eq!(number(&depth, "Max Response Time"), 15.0);
    assert_eq!(number(&depth, "Average Response Time"), 10.0);
    assert_eq!(number(&depth, "Average Content Size"), 0.0);
    let queue = stats_row(&run, "METRIC", "queue");
    assert_eq!(queue["Request Count"], "2");
    assert_eq!(number(&queue, "Min Response Time"), 42.0);
    assert_eq!(number(&queue, "Max Response Time"), 42.0);
    // The group's content size is its responses'.
    let group = stats_row(&run, "GROUP", "checkout flow");
    let cart = stats_row(&run, "GET", "/cart");
    let pay = stats_row(&run, "GET", "/pay");
    assert_eq!(
        number(&group, "Average Content Size"),
        number(&cart, "Average Content Size") + number(&pay, "Average Content Size")
    );
}

/// `-u 4 -r 2` starts two users, then two more a second later. Each user asks for
/// `/before`, waits at the barrier, pauses 0.5 s and asks for `/after`: no `/after`
/// reaches the server before every user's `/before` did, although the first two users
/// were at the barrier a second before the last two were spawned. (The pause covers the
/// last users' first request, which starts as the barrier opens: Locust's
/// `spawning_complete` too means started, not arrived at their first request. Without
/// the barrier the first users' `/after` would come half a second before the last users
/// are spawned.) A barrier met once the ramp is complete lets the user through at once.
#[tokio::test]
async fn a_barrier_holds_users_until_all_are_spawned() {
    let routes: Vec<(String, Behaviour)> = (0..4)
        .flat_map(|u| {
            [
                (format!("/before?u={u}"), ok()),
                (format!("/after?u={u}"), ok()),
                (format!("/task?u={u}"), ok()),
            ]
        })
        .collect();
    let server = HostileServer::start(routes).await;
    let scenario = r#"
[users.Crowd]
wait_time = "constant(0)"
on_start = [
  { path = "/before", query = { u = "{{ user_id }}" } },
  { barrier = "spawned" },
  { think = 0.5 },
  { path = "/after", query = { u = "{{ user_id }}" } },
]
[[users.Crowd.tasks]]
name = "t"
steps = [{ barrier = "spawned" }, { path = "/task", query = { u = "{{ user_id }}" } }]
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "4", "-r", "2", "-i", "4", "-t", "30s"],
    )
    .await;
    run.assert_exit(0);
    let seen = targets(&server);
    let position = |prefix: &str| -> Vec<usize> {
        seen.iter()
            .enumerate()
            .filter(|(_, t)| t.starts_with(prefix))
            .map(|(i, _)| i)
            .collect()
    };
    let (before, after, task) = (position("/before"), position("/after"), position("/task"));
    assert_eq!(
        (before.len(), after.len(), task.len()),
        (4, 4, 4),
        "{seen:?}"
    );
    let last_before = before.iter().max().unwrap();
    let first_after = after.iter().min().unwrap();
    assert!(
        last_before < first_after,
        "an /after came before every user's /before: {seen:?}"
    );
    // The runner says when the ramp was complete; the barrier opened after it.
    assert!(
        run.stderr.contains("All users spawned"),
        "{}",
        run.describe()
    );
}

/// A request's `cookies` go out after the jar's in its one Cookie header, the jar's
/// first even under the same name (requests' `cookies=`), and are never stored. A
/// `set_cookie` cookie goes with later requests to its host and path only; one with a
/// `domain` to that domain only. A request's own `Cookie` header replaces them all.
#[tokio::test]
async fn request_cookies_and_set_cookie() {
    let server = HostileServer::start([
        (
            "/login",
            Behaviour::raw(response(
                "HTTP/1.1 200 OK",
                &[("Set-Cookie", "sid=abc; Path=/")],
                r#"{"token": "t0k"}"#,
            )),
        ),
        ("/own", ok()),
        ("/plain", ok()),
        ("/explicit", ok()),
        ("/api/orders", ok()),
        ("/other", ok()),
        ("/remote", ok()),
    ])
    .await;
    let scenario = format!(
        r#"
[users.Eater]
wait_time = "constant(0)"
[[users.Eater.tasks]]
name = "t"
steps = [
  {{ path = "/login", extract = [{{ var = "token", json = "/token" }}] }},
  {{ path = "/own", cookies = {{ extra = "e1", tok = "{{{{ token }}}}", sid = "mine" }} }},
  {{ path = "/plain" }},
  {{ path = "/explicit", headers = {{ Cookie = "only=this" }}, cookies = {{ x = "1" }} }},
  {{ set_cookie = {{ name = "consent", value = "yes-{{{{ token }}}}", path = "/api" }} }},
  {{ set_cookie = {{ name = "wide", value = "1", domain = "localhost" }} }},
  {{ path = "/api/orders" }},
  {{ path = "/other" }},
  {{ path = "{remote}/remote" }},
]
"#,
        remote = server.localhost_url()
    );
    let run = run(
        &scenario,
        &server.url(),
        &["-u", "1", "-i", "1", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    let cookie = |target: &str| {
        let requests = server.requests_to(target);
        assert_eq!(requests.len(), 1, "{target}\n{}", run.describe());
        let all = requests[0].header_all("Cookie");
        assert!(all.len() <= 1, "{target}: one Cookie header, not {all:?}");
        requests[0].header_str("Cookie")
    };
    assert_eq!(cookie("/login"), None);
    assert_eq!(
        cookie("/own").as_deref(),
        Some("sid=abc; extra=e1; tok=t0k; sid=mine"),
        "the jar's, then the request's own"
    );
    assert_eq!(
        cookie("/plain").as_deref(),
        Some("sid=abc"),
        "a request's own cookies are not stored"
    );
    assert_eq!(
        cookie("/explicit").as_deref(),
        Some("only=this"),
        "a Cookie header of the request's own is sent as it is, without the jar's or `cookies`"
    );
    let mut api: Vec<String> = cookie("/api/orders")
        .unwrap()
        .split("; ")
        .map(str::to_string)
        .collect();
    api.sort();
    assert_eq!(api, ["consent=yes-t0k", "sid=abc"]);
    assert_eq!(
        cookie("/other").as_deref(),
        Some("sid=abc"),
        "not on another path"
    );
    assert_eq!(
        cookie("/remote").as_deref(),
        Some("wide=1"),
        "the domain's cookie only: the others belong to 127.0.0.1"
    );
}

/// A check compares the response with the user's state (Locust's `catch_response` block
/// reading `self.want`): the class variable `want` is read by the check's `expr` and its
/// templated `message`. The first answer agrees, the second does not and is a failure
/// with the rendered message.
#[tokio::test]
async fn a_check_compares_the_response_with_a_user_variable() {
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = answered.clone();
    let status = Behaviour::func(move |_| {
        let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = if n == 0 {
            r#"{"status":"ok"}"#
        } else {
            r#"{"status":"bad"}"#
        };
        response(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "application/json")],
            body,
        )
    });
    let server = HostileServer::start([("/status", status)]).await;
    let scenario = r#"
[users.Watcher]
wait_time = "constant(0)"
vars = { want = "ok" }
[[users.Watcher.tasks]]
name = "status"
request = { path = "/status", checks = [{ expr = "json.status == want", message = "status {{ json.status }}, expected {{ want }}" }] }
"#;
    let run = run(
        scenario,
        &server.url(),
        &["-u", "1", "-i", "2", "-t", "20s"],
    )
    .await;
    run.assert_exit(1);
    assert_eq!(targets(&server), ["/status", "/status"]);
    assert_eq!(run.counts("GET", "/status"), (2, 1), "{}", run.describe());
    assert_eq!(
        run.errors("GET", "/status"),
        [(
            "CatchResponseError('status bad, expected ok')".to_string(),
            1
        )]
    );
}
