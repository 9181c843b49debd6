//! Locust's `examples/` translated to TOML, requests and hosts: index-or-stats users
//! (events.py, extend_web_ui.py, fast_http_locust.py), a JSON login (locustfile.py),
//! several hosts (multiple_hosts.py), the open/closed workload, OpenAI's API, the web UI
//! extensions' users (web_ui_auth, web_ui_cache_stats) and X-Forwarded-For.
//!
//! Each translation is run by the real binary, headless and bounded (`-i` and `-t`),
//! against a `HostileServer` on 127.0.0.1 scripted with the routes the example needs,
//! asserting what the server received. The runner and readers are in
//! `tests/common/examples.rs`; `locust_examples.rs` holds the coverage check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::examples::*;
use common::hostile::*;

/// events.py and extend_web_ui.py: index (2) or stats (1); the response sizes the
/// Python listeners add up are in the stats.
async fn index_or_stats(scenario: Example) {
    let index_body = "<html><body>index page</body></html>";
    let stats_body = r#"{"stats": [], "errors": []}"#;
    let server = HostileServer::start([
        ("/", html(index_body)),
        ("/stats/requests", json(stats_body)),
    ])
    .await;
    let run = scenario
        .replace("between(2, 5)", "constant(0)")
        .run(&server.url(), &["-u", "1", "-i", "300", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let seen = tally(&server);
    let (index, stats) = (seen["/"], seen["/stats/requests"]);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(index + stats, 300);
    // Weights 2:1 (200 against 100 on average; 150 is six standard deviations off).
    assert!(index > 150 && stats > 50, "{seen:?}");
    // The total content length of the Python listener: average size times count.
    for (name, count, size) in [
        ("/", index, index_body.len()),
        ("/stats/requests", stats, stats_body.len()),
    ] {
        let row = run.row("GET", name).unwrap();
        assert_eq!(row.requests, count as u64);
        assert_eq!(row.avg_size * row.requests as f64, (size * count) as f64);
    }
}

#[tokio::test]
async fn events() {
    index_or_stats(example("events.toml")).await;
}

#[tokio::test]
async fn extend_web_ui() {
    index_or_stats(example("extend_web_ui.toml")).await;
}

/// fast_http_locust.py: index or stats, equally likely, no pause.
#[tokio::test]
async fn fast_http_locust() {
    let server = HostileServer::start([("/", page()), ("/stats/requests", json("{}"))]).await;
    let run = example("fast_http_locust.toml")
        .run(&server.url(), &["-u", "1", "-i", "40", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let seen = tally(&server);
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        set(&["/", "/stats/requests"]),
        "{}",
        run.describe()
    );
    assert_eq!(seen.values().sum::<usize>(), 40);
}

/// locustfile.py: a JSON login on start, then /hello and /world together (1) or ten
/// items one by one under one name (3).
#[tokio::test]
async fn locustfile() {
    let mut routes = vec![
        ("/login".to_string(), json(r#"{"ok": true}"#)),
        ("/hello".to_string(), page()),
        ("/world".to_string(), page()),
    ];
    for id in 0..10 {
        routes.push((format!("/item?id={id}"), json("{}")));
    }
    let server = HostileServer::start(routes).await;
    let run = example("locustfile.toml")
        .replace("between(1, 2)", "constant(0)")
        .replace("{ think = 1 }", "{ think = 0.001 }")
        .run(&server.url(), &["-u", "1", "-i", "60", "-t", "40s"])
        .await;
    run.assert_exit(0);
    let requests = server.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].target.as_str()),
        ("POST", "/login")
    );
    assert_eq!(
        body_json(&requests[0]),
        serde_json::json!({"username": "foo", "password": "bar"})
    );
    assert_eq!(
        requests[0].header_str("Content-Type").as_deref(),
        Some("application/json")
    );
    // The rest, cut into tasks: [/hello, /world] or [/item?id=0, ..., /item?id=9].
    let seen = targets(&server);
    let items: Vec<String> = (0..10).map(|id| format!("/item?id={id}")).collect();
    let (mut hello_world, mut view_item, mut at) = (0, 0, 1);
    while at < seen.len() {
        if seen[at] == "/hello" {
            assert_eq!(
                seen.get(at + 1).map(String::as_str),
                Some("/world"),
                "{seen:?}"
            );
            hello_world += 1;
            at += 2;
        } else {
            assert_eq!(seen.get(at..at + 10), Some(&items[..]), "at {at}: {seen:?}");
            view_item += 1;
            at += 10;
        }
    }
    assert_eq!(hello_world + view_item, 60);
    assert!(
        hello_world > 0 && view_item > 0,
        "{hello_world} {view_item}"
    );
    assert_eq!(run.counts("GET", "/item"), (10 * view_item as u64, 0));
    assert_eq!(run.counts("GET", "/hello"), (hello_world as u64, 0));
}

/// multiple_hosts.py: the index on the user's host, the stats on API_HOST's.
#[tokio::test]
async fn multiple_hosts() {
    let web = HostileServer::start([("/", page())]).await;
    let api = HostileServer::start([("/stats/requests", json("{}"))]).await;
    let scenario = example("multiple_hosts.toml").replace("between(2, 5)", "constant(0)");
    let api_url = api.url();
    let run = scenario
        .run_env(
            &web.url(),
            &["-u", "1", "-i", "40", "-t", "30s"],
            &[("API_HOST", &api_url)],
        )
        .await;
    run.assert_exit(0);
    let (on_web, on_api) = (tally(&web), tally(&api));
    assert_eq!(
        on_web.keys().collect::<Vec<_>>(),
        ["/"],
        "{}",
        run.describe()
    );
    assert_eq!(on_api.keys().collect::<Vec<_>>(), ["/stats/requests"]);
    assert_eq!(on_web["/"] + on_api["/stats/requests"], 40);
    // Named by the path, as Locust names a request of its second session.
    assert_eq!(
        run.counts("GET", "/stats/requests").0,
        on_api["/stats/requests"] as u64
    );

    // Without API_HOST the file is refused before any request, as the Python user
    // fails on os.environ["API_HOST"].
    let run = scenario
        .run(&web.url(), &["-u", "1", "-i", "1", "-t", "30s"])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stderr.contains("API_HOST"), "{}", run.describe());
    assert_eq!(on_web["/"], web.count("/"));
}

/// open_closed_workload.py: two users whose tasks do nothing; they run and send no
/// request.
#[tokio::test]
async fn open_closed_workload() {
    let server = HostileServer::start([("/", page())]).await;
    let run = example("open_closed_workload.toml")
        .run(&server.url(), &["-u", "2", "-r", "1000", "-t", "2s"])
        .await;
    run.assert_exit(0);
    assert!(
        run.stderr
            .contains(r#"All users spawned: {"ClosedWorkload": 1, "OpenWorkload": 1}"#),
        "{}",
        run.describe()
    );
    assert!(server.requests().is_empty());
    assert_eq!(run.totals(), (0, 0));
}

/// openai_ex.py: two POSTs of a prompt to /v1/responses with the API key, the second
/// to the small model and renamed "mini".
#[tokio::test]
async fn openai_ex() {
    let answer =
        r#"{"id": "resp_1", "output_text": "isinstance(obj, cls)", "usage": {"output_tokens": 7}}"#;
    let server = HostileServer::start([("/v1/responses", json(answer))]).await;
    let scenario = example("openai_ex.toml");
    let run = scenario
        .run_env(
            &server.url(),
            &["-u", "1", "-i", "1", "-t", "30s"],
            &[("OPENAI_API_KEY", "sk-test-123")],
        )
        .await;
    run.assert_exit(0);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{}", run.describe());
    let models: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| {
            assert_eq!(
                (r.method.as_str(), r.target.as_str()),
                ("POST", "/v1/responses")
            );
            assert_eq!(
                r.header_str("Authorization").as_deref(),
                Some("Bearer sk-test-123")
            );
            assert_eq!(
                r.header_str("Content-Type").as_deref(),
                Some("application/json")
            );
            let body = body_json(r);
            assert!(body["instructions"].is_string() && body["input"].is_string());
            body["model"].clone()
        })
        .collect();
    assert_eq!(models, ["gpt-4o", "gpt-4o-mini"]);
    assert_eq!(run.counts("POST", "/v1/responses"), (1, 0));
    assert_eq!(run.counts("POST", "mini"), (1, 0));

    // Without the key the file is refused, as the Python module refuses to load.
    let run = scenario
        .run(&server.url(), &["-u", "1", "-i", "1", "-t", "30s"])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stderr.contains("OPENAI_API_KEY"), "{}", run.describe());
    assert_eq!(server.requests().len(), 2);
}

/// web_ui_auth/basic.py and custom_form.py: the user only reads the home page.
async fn home_page_only(scenario: Example) {
    let server = HostileServer::start([("/", page())]).await;
    let run = scenario
        .run(&server.url(), &["-u", "1", "-i", "3", "-t", "30s"])
        .await;
    run.assert_exit(0);
    assert_eq!(targets(&server), ["/", "/", "/"], "{}", run.describe());
    assert_eq!(run.counts("GET", "/"), (3, 0));
}

#[tokio::test]
async fn web_ui_auth_basic() {
    home_page_only(example("web_ui_auth/basic.toml")).await;
}

#[tokio::test]
async fn web_ui_auth_custom_form() {
    home_page_only(example("web_ui_auth/custom_form.toml")).await;
}

/// web_ui_cache_stats.py: misses (1), hits (2) and pages without the cache header
/// (1); the tool's own cache figures count the first two.
#[tokio::test]
async fn web_ui_cache_stats() {
    let cached = |value: &str| {
        Behaviour::raw(response(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "application/json"), ("X-Cache", value)],
            format!(r#"{{"X-Cache": "{value}"}}"#),
        ))
    };
    let server = HostileServer::start([
        ("/response-headers?X-Cache=MISS", cached("MISS")),
        ("/response-headers?X-Cache=HIT", cached("HIT")),
        ("/", page()),
    ])
    .await;
    let run = example("web_ui_cache_stats.toml")
        .replace("between(2, 5)", "constant(0)")
        .run(
            &server.url(),
            &[
                "-u",
                "1",
                "-i",
                "200",
                "-t",
                "30s",
                "--report-json",
                "report.json",
            ],
        )
        .await;
    run.assert_exit(0);
    let seen = tally(&server);
    let (miss, hit, noinfo) = (
        seen["/response-headers?X-Cache=MISS"],
        seen["/response-headers?X-Cache=HIT"],
        seen["/"],
    );
    assert_eq!(miss + hit + noinfo, 200, "{seen:?}");
    // 1:2:1 (50, 100, 50 on average); each bound is over five standard deviations off.
    assert!(
        hit > miss && hit > noinfo && miss > 15 && noinfo > 15,
        "{seen:?}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["cache"]["hits"], hit as u64, "{}", report["cache"]);
    assert_eq!(
        report["cache"]["misses"], miss as u64,
        "{}",
        report["cache"]
    );
}

/// x-forwarded-for.py: each user sends one made-up 10.10.x.y address with every
/// request.
#[tokio::test]
async fn x_forwarded_for() {
    let server = HostileServer::start([("/", page())]).await;
    let run = example("x-forwarded-for.toml")
        .run(
            &server.url(),
            &["-u", "3", "-r", "1000", "-i", "30", "-t", "30s"],
        )
        .await;
    run.assert_exit(0);
    let requests = server.requests();
    assert_eq!(requests.len(), 30, "{}", run.describe());
    // A user keeps its connection, so a connection stands for a user.
    let mut by_connection: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for request in &requests {
        let address = request.header_str("X-Forwarded-For").unwrap();
        let octets: Vec<&str> = address.split('.').collect();
        assert!(
            octets.len() == 4
                && octets[..2] == ["10", "10"]
                && octets[2..]
                    .iter()
                    .all(|o| o.parse::<u8>().is_ok_and(|n| n <= 254)),
            "{address}"
        );
        by_connection
            .entry(request.connection_id)
            .or_default()
            .insert(address);
    }
    assert!(
        by_connection.values().all(|addresses| addresses.len() == 1),
        "{by_connection:?}"
    );
}
