//! Locust's `examples/` folder translated to TOML (the files of `examples/`, mapped in
//! docs/from-locust.md): each translation run by the real binary, headless and bounded
//! (`-i` and `-t`), against a `HostileServer` on 127.0.0.1 scripted with the routes
//! the example needs, asserting what the server received: paths, methods, bodies,
//! headers, and the order where the example defines one.
//!
//! A test reads its example with `example(...)` and may `replace` an exact piece of
//! its text, which must be there: long waits and pauses are shortened so that a few
//! iterations take well under a second, and public hosts whose answers matter
//! (postman-echo.com, www.locust.io) are pointed at the test server. Nothing else is
//! changed. Public hosts that are kept (example.com, google.com) are reached through
//! a `RecordingProxy`, which records what it was asked and never connects out.
//! `every_example_file_is_used_by_a_test` fails when a file of `examples/` is named by
//! no test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::headless::Run;
use common::hostile::*;
use common::{repo_root, text, write, BIN};

// ---------------------------------------------------------------------------------
// Running an example

fn examples_dir() -> PathBuf {
    repo_root().join("examples")
}

/// A scenario of `examples/` (its path under that folder), read as text.
struct Example {
    rel: &'static str,
    text: String,
    /// Files of `examples/` copied next to the scenario (data it reads).
    companions: Vec<&'static str>,
}

/// The scenario `examples/<rel>`.
fn example(rel: &'static str) -> Example {
    let path = examples_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Example {
        rel,
        text,
        companions: Vec::new(),
    }
}

/// The absolute path of another file of `examples/` (a profile file, a data file).
fn example_file(rel: &'static str) -> String {
    let path = examples_dir().join(rel);
    assert!(path.is_file(), "{} is missing", path.display());
    path.display().to_string()
}

impl Example {
    /// Every occurrence of `from` (which must occur) becomes `to`.
    fn replace(mut self, from: &str, to: &str) -> Example {
        assert!(
            self.text.contains(from),
            "examples/{}: {from:?} is not in the file",
            self.rel
        );
        self.text = self.text.replace(from, to);
        self
    }

    /// Copies `examples/<rel>` next to the scenario when it runs.
    fn with_file(mut self, rel: &'static str) -> Example {
        example_file(rel);
        self.companions.push(rel);
        self
    }

    async fn run(&self, host: &str, args: &[&str]) -> Run {
        self.run_env(host, args, &[]).await
    }

    /// Writes the scenario into a fresh folder under its own file name and runs
    /// `--headless -f <name> -H host --csv out` followed by `args` there, with no
    /// `LOCUST_*`, proxy or example variable from the test's environment, only `env`.
    /// Killed (and the test failed) after 60 s.
    async fn run_env(&self, host: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let name = Path::new(self.rel)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        write(dir.path(), &name, &self.text);
        for rel in &self.companions {
            let file = Path::new(rel).file_name().unwrap();
            std::fs::copy(examples_dir().join(rel), dir.path().join(file)).unwrap();
        }
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(["--headless", "-f", &name, "-H", host, "--csv", "out"])
            .args(args)
            .current_dir(dir.path());
        for (key, _) in std::env::vars() {
            let lower = key.to_ascii_lowercase();
            if key.starts_with("LOCUST_")
                || lower.ends_with("_proxy")
                || ["API_HOST", "OPENAI_API_KEY"].contains(&key.as_str())
            {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().copied());
        let started = Instant::now();
        let child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("binary starts");
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("examples/{}: the run did not end within 60 s", self.rel))
            .unwrap();
        Run {
            dir,
            code: output.status.code(),
            stdout: text(&output.stdout),
            stderr: text(&output.stderr),
            wall: started.elapsed(),
            peak_rss_kb: 0,
        }
    }
}

// ---------------------------------------------------------------------------------
// Answers and what the server saw

fn page() -> Behaviour {
    html("<html><body>a page</body></html>")
}

/// How many requests went to each target.
fn tally(server: &HostileServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in server.requests() {
        *counts.entry(request.target).or_insert(0) += 1;
    }
    counts
}

fn body(request: &ReceivedRequest) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

fn body_json(request: &ReceivedRequest) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|e| {
        panic!(
            "{} {}: {e}: {}",
            request.method,
            request.target,
            body(request)
        )
    })
}

/// The error texts recorded for `method name`, without their counts.
fn error_texts(run: &Run, method: &str, name: &str) -> BTreeSet<String> {
    run.errors(method, name)
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------
// The examples

/// basic.py: three equally likely pages, one of them a deliberate 404.
#[tokio::test]
async fn basic() {
    let server =
        HostileServer::start([("/", page()), ("/stats/requests", json(r#"{"stats": []}"#))]).await;
    let run = example("basic.toml")
        .replace("between(2, 5)", "constant(0)")
        .run(&server.url(), &["-u", "1", "-i", "60", "-t", "30s"])
        .await;
    run.assert_exit(1);
    let seen = tally(&server);
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        set(&["/", "/stats/requests", "/does_not_exist"]),
        "{}",
        run.describe()
    );
    assert_eq!(seen.values().sum::<usize>(), 60);
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
    assert_eq!(run.counts("GET", "/").1, 0);
}

/// bottlenecked_server.py: the user side, GET /slow without a pause, against a slow
/// endpoint.
#[tokio::test]
async fn bottlenecked_server() {
    let slow = response("HTTP/1.1 200 OK", &[], "Another page");
    let server =
        HostileServer::start([("/slow", Behaviour::Delay(Duration::from_millis(50), slow))]).await;
    let run = example("bottlenecked_server.toml")
        .run(
            &server.url(),
            &["-u", "3", "-r", "1000", "-i", "9", "-t", "30s"],
        )
        .await;
    run.assert_exit(0);
    assert_eq!(targets(&server), vec!["/slow"; 9], "{}", run.describe());
    assert_eq!(run.counts("GET", "/slow"), (9, 0));
}

/// A small documentation site under /en/latest/: the index's table of contents links
/// two pages (and, outside it, a general index that must never be opened: it is not in
/// any list the user picks from); each page links one sub-page.
async fn docs_site() -> HostileServer {
    let index = r#"<html><body>
<div class="toctree-wrapper compound"><ul>
<li class="toctree-l1"><a class="reference internal" href="quickstart.html">Quickstart</a></li>
<li class="toctree-l1"><a class="reference internal" href="writing-a-locustfile.html">Writing a locustfile</a></li>
</ul></div>
<p><a class="reference internal" href="genindex.html">Index</a> <a class="reference external" href="https://github.com/">GitHub</a></p>
</body></html>"#;
    let linking = |to: &str| {
        html(&format!(
            r#"<html><body><p>Text.</p><a class="reference internal" href="{to}">next</a></body></html>"#
        ))
    };
    HostileServer::start([
        ("/en/latest/", html(index)),
        ("/en/latest/favicon.ico", Behaviour::raw(ok("icon"))),
        ("/en/latest/quickstart.html", linking("api.html")),
        (
            "/en/latest/writing-a-locustfile.html",
            linking("changelog.html"),
        ),
        ("/en/latest/api.html", page()),
        ("/en/latest/changelog.html", page()),
    ])
    .await
}

/// The sub-page each table-of-contents page links.
fn sub_page(toc_page: &str) -> &'static str {
    match toc_page {
        "/en/latest/quickstart.html" => "/en/latest/api.html",
        "/en/latest/writing-a-locustfile.html" => "/en/latest/changelog.html",
        other => panic!("not a table-of-contents page: {other}"),
    }
}

/// browse_docs_test.py: the index's table of contents on start, then weighted
/// browsing of the index, its pages, and the links of the page last opened.
#[tokio::test]
async fn browse_docs_test() {
    let server = docs_site().await;
    let host = server.url_for("/en/latest/");
    let run = example("browse_docs_test.toml")
        .replace("between(20, 600)", "constant(0)")
        .run(&host, &["-u", "1", "-i", "60", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let seen = targets(&server);
    assert_eq!(seen[0], "/en/latest/", "on_start opens the index first");
    let known = set(&[
        "/en/latest/",
        "/en/latest/quickstart.html",
        "/en/latest/writing-a-locustfile.html",
        "/en/latest/api.html",
        "/en/latest/changelog.html",
    ]);
    let distinct: BTreeSet<String> = seen.iter().cloned().collect();
    assert!(distinct.is_subset(&known), "{distinct:?}");
    // index_page (10), load_page (50) and load_sub_page (30), 60 times: each is there,
    // and a sub-page only ever after the page that links it.
    assert!(
        seen.len() == 61,
        "{} requests\n{}",
        seen.len(),
        run.describe()
    );
    assert!(seen.iter().filter(|t| *t == "/en/latest/").count() >= 2);
    assert!(
        seen.iter()
            .any(|t| t.ends_with("api.html") || t.ends_with("changelog.html")),
        "{seen:?}"
    );
    for (i, target) in seen.iter().enumerate() {
        for toc in ["quickstart.html", "writing-a-locustfile.html"] {
            let sub = sub_page(&format!("/en/latest/{toc}"));
            if target == sub {
                assert!(
                    seen[..i].contains(&format!("/en/latest/{toc}")),
                    "{sub} before its page: {seen:?}"
                );
            }
        }
    }
}

/// browse_docs_sequence_test.py: index (and favicon), a page of its table of
/// contents, a link of that page; in this order, round after round.
#[tokio::test]
async fn browse_docs_sequence_test() {
    let server = docs_site().await;
    let host = server.url_for("/en/latest/");
    let run = example("browse_docs_sequence_test.toml")
        .replace("between(20, 600)", "constant(0)")
        .run(&host, &["-u", "1", "-i", "6", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let seen = targets(&server);
    assert_eq!(seen.len(), 8, "{seen:?}\n{}", run.describe());
    for round in seen.chunks(4) {
        assert_eq!(round[0], "/en/latest/", "{seen:?}");
        assert_eq!(round[1], "/en/latest/favicon.ico", "{seen:?}");
        assert_eq!(round[3], sub_page(&round[2]), "{seen:?}");
    }
}

/// A sign-in form with a CSRF token and a session cookie; a post with the right token
/// and cookie is sent on to `welcome_to`.
async fn sign_in_site(welcome_to: &'static str) -> HostileServer {
    let form = concat!(
        r#"<html><body><form action="/sign-in" method="post" class="new_user">"#,
        r#"<input type="hidden" name="authenticity_token" value="tok-8Zq/x+1=" autocomplete="off">"#,
        r#"<input type="email" name="user[email]"></form></body></html>"#
    );
    let sign_in = Behaviour::func(move |r| {
        if r.method == "POST" {
            let expected = "user%5Bemail%5D=username&user%5Bpassword%5D=password\
                            &authenticity_token=tok-8Zq%2Fx%2B1%3D";
            let with_cookie = r.header_str("Cookie").as_deref() == Some("session=s1");
            if body(r) == expected && with_cookie {
                redirect(302, welcome_to)
            } else {
                redirect(302, "/sign-in?error=1")
            }
        } else {
            response(
                "HTTP/1.1 200 OK",
                &[
                    ("Content-Type", "text/html"),
                    ("Set-Cookie", "session=s1; Path=/; HttpOnly"),
                ],
                form,
            )
        }
    });
    HostileServer::start([
        ("/sign-in", sign_in),
        ("/welcome", page()),
        ("/sign-in?error=1", page()),
        ("/sign-in?retry=1", page()),
    ])
    .await
}

/// csrf_form_authentication.py: the token is taken from the form and posted back with
/// the credentials and the session cookie; the sign-in fails unless it ends on a
/// "welcome" URL.
#[tokio::test]
async fn csrf_form_authentication() {
    let scenario = example("csrf_form_authentication.toml").replace("between(2, 5)", "constant(0)");
    let args = ["-u", "1", "-i", "2", "-t", "30s"];

    let server = sign_in_site("/welcome").await;
    let run = scenario.run(&server.url(), &args).await;
    run.assert_exit(0);
    let seen: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let round = [
        ("GET", "/sign-in"),
        ("POST", "/sign-in"),
        ("GET", "/welcome"),
    ];
    let expected: Vec<(String, String)> = round
        .iter()
        .chain(round.iter())
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    assert_eq!(seen, expected, "{}", run.describe());
    let post = &server.requests()[1];
    assert_eq!(
        post.header_str("Content-Type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(run.counts("POST", "/sign-in"), (2, 0));

    // Redirected anywhere but to a welcome page: "Login failed".
    let server = sign_in_site("/sign-in?retry=1").await;
    let run = scenario.run(&server.url(), &args).await;
    run.assert_exit(1);
    assert_eq!(server.count("/sign-in?retry=1"), 2, "{}", run.describe());
    assert_eq!(
        run.errors("POST", "/sign-in"),
        [("CatchResponseError('Login failed')".to_string(), 2)]
    );
}

/// debugging.py: GET /hello, nothing else.
#[tokio::test]
async fn debugging() {
    let server = HostileServer::start([("/hello", page())]).await;
    let run = example("debugging.toml")
        .run(&server.url(), &["-u", "1", "-i", "3", "-t", "30s"])
        .await;
    run.assert_exit(0);
    assert_eq!(targets(&server), ["/hello", "/hello", "/hello"]);
}

/// dynamic_user_credentials.py: three accounts shared out, the last one first, to
/// the first three users; the others start without signing in.
#[tokio::test]
async fn dynamic_user_credentials() {
    let server = HostileServer::start([("/login", page()), ("/protected/resource", page())]).await;
    let run = example("dynamic_user_credentials.toml")
        .replace("between(5, 60)", "constant(1)")
        .run(
            &server.url(),
            &["-u", "5", "-r", "1000", "-i", "5", "-t", "30s"],
        )
        .await;
    run.assert_exit(0);
    let logins: Vec<ReceivedRequest> = server.requests_to("/login");
    assert!(logins.iter().all(|r| r.method == "POST"));
    let bodies: BTreeSet<String> = logins.iter().map(body).collect();
    assert_eq!(
        bodies,
        set(&[
            "username=user1&password=password",
            "username=user2&password=password",
            "username=user3&password=password",
        ]),
        "{}",
        run.describe()
    );
    assert_eq!(logins.len(), 3, "one login per account");
    assert_eq!(server.count("/protected/resource"), 5);
    // Each user signs in before its first task, on its own connection.
    for login in &logins {
        let first = server
            .requests()
            .into_iter()
            .find(|r| r.connection_id == login.connection_id)
            .unwrap();
        assert_eq!(first.target, "/login");
    }
}

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

/// The answers of response_validations' target, one per round: the authentication
/// succeeds twice, then answers an error, a wrong welcome and a page that is not JSON;
/// the checkout answers an order id, then nothing useful.
async fn validations_site() -> HostileServer {
    let welcome = json(r#"{"message": "Welcome foo!"}"#);
    HostileServer::start([
        (
            "/authenticate",
            Behaviour::Sequence(vec![
                welcome.clone(),
                welcome,
                json(r#"{"error": "account locked"}"#),
                json(r#"{"message": "Welcome bar!"}"#),
                html("<html>maintenance</html>"),
            ]),
        ),
        (
            "/checkout/confirm",
            Behaviour::Sequence(vec![
                json(r#"{"orderId": 42}"#),
                json(r#"{"status": "ok"}"#),
            ]),
        ),
    ])
    .await
}

/// response_validations.py: GoodUser fails each bad answer with its own message and
/// ends the task there; BadUser notices nothing.
#[tokio::test]
async fn response_validations() {
    let scenario = example("response_validations.toml");
    let args = ["-u", "1", "-i", "5", "-t", "30s"];

    let server = validations_site().await;
    let run = scenario
        .run(&server.url(), &[&args[..], &["GoodUser"]].concat())
        .await;
    run.assert_exit(1);
    let seen = targets(&server);
    assert_eq!(
        seen,
        [
            "/authenticate",
            "/checkout/confirm",
            "/authenticate",
            "/checkout/confirm",
            "/authenticate",
            "/authenticate",
            "/authenticate"
        ],
        "the task ends at the first failure\n{}",
        run.describe()
    );
    for request in server.requests() {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.header_str("Accept").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            request.header_str("Content-Type").as_deref(),
            Some("application/json")
        );
    }
    assert_eq!(
        body_json(&server.requests()[0]),
        serde_json::json!({"username": "foo", "password": "bar"})
    );
    assert_eq!(
        body_json(&server.requests()[1]),
        serde_json::json!({"foo": "bar"})
    );
    assert_eq!(run.counts("POST", "/authenticate"), (5, 3));
    let auth_errors = error_texts(&run, "POST", "/authenticate");
    assert!(
        auth_errors.contains("CatchResponseError('account locked')"),
        "{auth_errors:?}"
    );
    assert!(
        auth_errors.contains("CatchResponseError('Wrong welcome message: Welcome bar!')"),
        "{auth_errors:?}"
    );
    assert!(
        auth_errors.iter().any(|e| e.starts_with(
            "CatchResponseError('Could not parse response as JSON. <html>maintenance</html>"
        )),
        "{auth_errors:?}"
    );
    assert_eq!(
        run.errors("POST", "/checkout/confirm"),
        [("CatchResponseError('orderId missing')".to_string(), 1)]
    );

    let server = validations_site().await;
    let run = scenario
        .run(&server.url(), &[&args[..], &["BadUser"]].concat())
        .await;
    run.assert_exit(0);
    assert_eq!(
        targets(&server),
        ["/authenticate", "/checkout/confirm"].repeat(5),
        "{}",
        run.describe()
    );
    assert_eq!(run.totals(), (10, 0));
}

/// A stand-in for postman-echo.com: /get and /post answer JSON echoes with `foo` at
/// `args` and `data`, / is an HTML page.
async fn echo_site() -> HostileServer {
    let post = Behaviour::func(|r| {
        let data = serde_json::from_slice::<serde_json::Value>(&r.body).unwrap_or_default();
        let body = serde_json::json!({ "data": data, "url": r.target }).to_string();
        response(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "application/json")],
            body,
        )
    });
    HostileServer::start([
        ("/get", json(r#"{"args": {"foo": 1}, "url": "/get"}"#)),
        ("/post", post),
        ("/", html("<html><body>postman echo</body></html>")),
    ])
    .await
}

/// rest.py, MyUser: every block is sent in order whatever failed before it, each
/// failure with the message its assertion gives; the two requests to example.com go
/// through the proxy, which refuses them.
#[tokio::test]
async fn rest() {
    let server = echo_site().await;
    let proxy = RecordingProxy::start().await;
    let proxy_url = proxy.url();
    let run = example("rest.toml")
        .replace("constant(180)", "constant(0)")
        .run(
            &server.url(),
            &[
                "-u",
                "1",
                "-i",
                "1",
                "-t",
                "30s",
                "--proxy",
                &proxy_url,
                "--noproxy",
                "127.0.0.1",
                "MyUser",
            ],
        )
        .await;
    run.assert_exit(1);
    let seen: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let mut expected = vec![("GET", "/get")];
    expected.extend([("POST", "/post"); 6]);
    expected.extend([("GET", "/"); 2]);
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    assert_eq!(seen, expected, "{}", run.describe());
    for request in server.requests() {
        assert_eq!(
            request.header_str("Accept").as_deref(),
            Some("application/json")
        );
    }
    assert_eq!(
        body_json(&server.requests()[0]),
        serde_json::json!({"foo": 1})
    );
    let proxied: Vec<(String, String, ProxyVerdict)> = proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target, r.verdict))
        .collect();
    assert_eq!(
        proxied,
        [
            (
                "GET".to_string(),
                "http://example.com/".to_string(),
                ProxyVerdict::Refused
            ),
            (
                "POST".to_string(),
                "http://example.com:42/".to_string(),
                ProxyVerdict::Refused
            ),
        ]
    );
    assert_eq!(run.counts("GET", "/get"), (1, 0));
    assert_eq!(run.counts("POST", "/post"), (6, 5));
    let post_errors = error_texts(&run, "POST", "/post");
    let body_text = r#"{"data":{"foo":1},"url":"/post"}"#;
    for expected in [
        "CatchResponseError('Assertion failed')".to_string(),
        "CatchResponseError('my custom error message')".to_string(),
        format!("CatchResponseError('my custom error message with response text, response was {body_text}')"),
    ] {
        assert!(post_errors.contains(&expected), "{expected} not in {post_errors:?}");
    }
    assert!(
        post_errors
            .iter()
            .any(|e| e.starts_with("CatchResponseError('expr could not be evaluated:")),
        "{post_errors:?}"
    );
    assert_eq!(
        post_errors.len(),
        4,
        "two blocks fail alike: {post_errors:?}"
    );
    // GET /: the two local pages that are not JSON, and example.com refused.
    assert_eq!(run.counts("GET", "/"), (3, 3));
    assert_eq!(run.counts("POST", "/"), (1, 1));
    assert!(
        error_texts(&run, "GET", "/")
            .iter()
            .any(|e| e.starts_with("CatchResponseError('Could not parse response as JSON.")),
        "{}",
        run.describe()
    );
}

/// rest.py, MyOtherRestUser: every request carries the extra header, and an answer
/// with a non-null `error` fails with it.
#[tokio::test]
async fn rest_other_user() {
    let server = HostileServer::start([(
        "/",
        Behaviour::Sequence(vec![
            json(r#"{"error": "quota exceeded"}"#),
            json(r#"{"error": null, "ok": true}"#),
            json(r#"{"ok": true}"#),
        ]),
    )])
    .await;
    let run = example("rest.toml")
        .replace("constant(180)", "constant(0)")
        .run(
            &server.url(),
            &["-u", "1", "-i", "3", "-t", "30s", "MyOtherRestUser"],
        )
        .await;
    run.assert_exit(1);
    assert_eq!(targets(&server), ["/", "/", "/"], "{}", run.describe());
    for request in server.requests() {
        assert_eq!(request.header_str("my_header").as_deref(), Some("my_value"));
        assert_eq!(
            request.header_str("Accept").as_deref(),
            Some("application/json")
        );
    }
    assert_eq!(run.counts("GET", "/"), (3, 1));
    assert_eq!(
        run.errors("GET", "/"),
        [("CatchResponseError('quota exceeded')".to_string(), 1)]
    );
}

/// stop_on_threshold.py, the user: ten reads of the home page a second apart, then
/// five of a failing page.
#[tokio::test]
async fn stop_on_threshold() {
    let server = HostileServer::start([("/", page())]).await;
    let run = example("stop_on_threshold.toml")
        .replace("{ think = 1 }", "{ think = 0.001 }")
        .run(&server.url(), &["-u", "1", "-i", "1", "-t", "30s"])
        .await;
    run.assert_exit(1);
    let mut expected = vec!["/"; 10];
    expected.extend(["/error"; 5]);
    assert_eq!(targets(&server), expected, "{}", run.describe());
    assert_eq!(run.counts("GET", "/error"), (5, 5));

    // With the watcher: a third of the requests fail, so the aborting criterion stops
    // the run at its first look, long before the run time (exit 3, every table printed).
    let server = HostileServer::start([("/", page())]).await;
    let config = example_file("stop_on_threshold.conf.toml");
    let run = example("stop_on_threshold.toml")
        .replace("{ think = 1 }", "{ think = 0.001 }")
        .run(
            &server.url(),
            &["-u", "1", "-t", "60s", "--config", &config],
        )
        .await;
    run.assert_exit(3);
    assert!(
        run.stderr
            .contains("Aborting the run: criterion 'error_rate <= 20% abort' failed"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr.contains("Response time percentiles"),
        "{}",
        run.describe()
    );
    let (errors, failed) = run.counts("GET", "/error");
    assert!(errors > 0 && errors == failed, "{}", run.describe());
}

/// test_pytest.py: the home page by full URL, again with a text check, again plainly,
/// then a short pause; a failed check ends the round.
#[tokio::test]
async fn test_pytest() {
    let args = ["-u", "1", "-i", "2", "-t", "30s"];
    let server = HostileServer::start([("/", html("<html><title>Locust</title></html>"))]).await;
    let scenario = example("test_pytest.toml").replace("https://www.locust.io", &server.url());
    let run = scenario.run(&server.url(), &args).await;
    run.assert_exit(0);
    assert_eq!(targets(&server), vec!["/"; 6], "{}", run.describe());

    let server = HostileServer::start([("/", html("<html><title>k6</title></html>"))]).await;
    let scenario = example("test_pytest.toml").replace("https://www.locust.io", &server.url());
    let run = scenario.run(&server.url(), &args).await;
    run.assert_exit(1);
    assert_eq!(
        targets(&server),
        vec!["/"; 4],
        "the failed check ends each round\n{}",
        run.describe()
    );
    assert_eq!(
        run.errors("GET", "/"),
        [(
            "CatchResponseError('important text was missing in response')".to_string(),
            2
        )]
    );
}

/// testdata_management.py: two values fetched once for the run, one per user, one per
/// task run, each then read back through /get.
#[tokio::test]
async fn testdata_management() {
    let data = |d: &str| json(&format!(r#"{{"data": "{d}"}}"#));
    let server = HostileServer::start([
        (
            "/post",
            Behaviour::Sequence(vec![
                data("G"),
                data("R"),
                data("U"),
                data("T1"),
                data("T2"),
            ]),
        ),
        ("/get?G", json("{}")),
        ("/get?R", json("{}")),
        ("/get?U", json("{}")),
        ("/get?T1", json("{}")),
        ("/get?T2", json("{}")),
    ])
    .await;
    let run = example("testdata_management.toml")
        .replace("https://postman-echo.com", &server.url())
        .replace("constant(180)", "constant(0)")
        .run(&server.url(), &["-u", "1", "-i", "2", "-t", "30s"])
        .await;
    run.assert_exit(0);
    let seen: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let expected = [
        ("POST", "/post"),
        ("POST", "/post"),
        ("POST", "/post"),
        ("GET", "/get?G"),
        ("GET", "/get?R"),
        ("GET", "/get?U"),
        ("POST", "/post"),
        ("GET", "/get?T1"),
        ("GET", "/get?G"),
        ("GET", "/get?R"),
        ("GET", "/get?U"),
        ("POST", "/post"),
        ("GET", "/get?T2"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    assert_eq!(seen, expected, "{}", run.describe());
    // Each posted text: its kind, then month:seconds.tenths.
    let posts = server.requests_to("/post");
    let kinds = [
        "global_test_data_",
        "test-run-specific_",
        "user-specific_",
        "task_run_specific_testdata_",
        "task_run_specific_testdata_",
    ];
    for (post, kind) in posts.iter().zip(kinds) {
        let text = body(post);
        let stamp = text.strip_prefix(kind).unwrap_or_else(|| panic!("{text}"));
        let b = stamp.as_bytes();
        assert!(
            b.len() == 7
                && b[2] == b':'
                && b[5] == b'.'
                && [0, 1, 3, 4, 6].iter().all(|&i| b[i].is_ascii_digit()),
            "{text}"
        );
    }
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

/// add_command_line_argument.py: custom options are `--var`s with defaults; the user
/// sends nothing.
#[tokio::test]
async fn add_command_line_argument() {
    let server = HostileServer::start([("/", page())]).await;
    let scenario = example("add_command_line_argument.toml");
    for extra in [&[][..], &["--var", "my_argument=hello"][..]] {
        let args = [&["-u", "1", "-i", "2", "-t", "30s"][..], extra].concat();
        let run = scenario.run(&server.url(), &args).await;
        run.assert_exit(0);
        assert_eq!(run.totals(), (0, 0), "{}", run.describe());
    }
    assert!(server.requests().is_empty());
}

/// terraform/aws/plan/basic.py: three public home pages, each under a short name;
/// asked of the proxy, which refuses them (nothing leaves 127.0.0.1).
#[tokio::test]
async fn terraform_aws_plan_basic() {
    let server = HostileServer::start([("/", page())]).await;
    let proxy = RecordingProxy::start().await;
    let proxy_url = proxy.url();
    let run = example("terraform/aws/plan/basic.toml")
        .replace("between(1, 5)", "constant(0)")
        .run(
            &server.url(),
            &[
                "-u",
                "1",
                "-i",
                "60",
                "-t",
                "30s",
                "--proxy",
                &proxy_url,
                "--noproxy",
                "127.0.0.1",
            ],
        )
        .await;
    run.assert_exit(1);
    assert!(server.requests().is_empty());
    let asked: BTreeMap<String, usize> =
        proxy
            .requests()
            .into_iter()
            .fold(BTreeMap::new(), |mut counts, r| {
                assert_eq!(
                    (r.method.as_str(), r.verdict),
                    ("CONNECT", ProxyVerdict::Refused)
                );
                *counts.entry(r.target).or_insert(0) += 1;
                counts
            });
    assert_eq!(
        asked.keys().cloned().collect::<BTreeSet<_>>(),
        set(&["google.com:443", "microsoft.com:443", "facebook.com:443"]),
        "{}",
        run.describe()
    );
    for (name, host) in [
        ("google", "google.com:443"),
        ("microsoft", "microsoft.com:443"),
        ("facebook", "facebook.com:443"),
    ] {
        let n = asked[host] as u64;
        assert_eq!(run.counts("GET", name), (n, n), "{}", run.describe());
    }
}

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

/// testdata_from_csv.py: each task authenticates with the next row of the CSV file
/// (no header row), from one cursor shared by both users that starts again at the top;
/// an answer whose message is not a welcome fails with it, one without a message passes.
#[tokio::test]
async fn testdata_from_csv() {
    let welcome = json(r#"{"message": "Welcome myuser1@example.com!"}"#);
    let server = HostileServer::start([(
        "/authenticate",
        Behaviour::Sequence(vec![
            welcome.clone(),
            welcome.clone(),
            json(r#"{"message": "Sorry, no"}"#),
            json("{}"),
            welcome,
        ]),
    )])
    .await;
    let run = example("testdata_from_csv.toml")
        .with_file("testdata_from_csv.csv")
        .run(
            &server.url(),
            &["-u", "2", "-r", "1000", "-i", "5", "-t", "30s"],
        )
        .await;
    run.assert_exit(1);
    let logins = server.requests_to("/authenticate");
    assert_eq!(logins.len(), 5, "{}", run.describe());
    let mut rows: BTreeMap<String, usize> = BTreeMap::new();
    for request in &logins {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.header_str("Content-Type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            request.header_str("Accept").as_deref(),
            Some("application/json")
        );
        let body = body_json(request);
        *rows.entry(body.to_string()).or_insert(0) += 1;
    }
    // Five rows taken in file order from one shared cursor over the two rows.
    let row = |n: u8| {
        serde_json::json!({"username": format!("myuser{n}@example.com"), "password": format!("password{n}")})
            .to_string()
    };
    assert_eq!(
        rows,
        BTreeMap::from([(row(1), 3), (row(2), 2)]),
        "{}",
        run.describe()
    );
    assert_eq!(run.counts("POST", "/authenticate"), (5, 1));
    assert_eq!(
        error_texts(&run, "POST", "/authenticate"),
        set(&["CatchResponseError('bad response: Sorry, no')"])
    );
}

// ---------------------------------------------------------------------------------
// Coverage

/// Every file of `examples/` is named by some test of this file (a scenario through
/// `example`, another file through `example_file` or `with_file`), and every file named
/// exists: a new example without a test fails here.
#[test]
fn every_example_file_is_used_by_a_test() {
    let source = include_str!("locust_examples.rs");
    let mut named = BTreeSet::new();
    for opener in ["example(\"", "example_file(\"", "with_file(\""] {
        for (at, _) in source.match_indices(opener) {
            let rest = &source[at + opener.len()..];
            named.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    let mut files = BTreeSet::new();
    let mut folders = vec![examples_dir()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let rel = path.strip_prefix(examples_dir()).unwrap();
                files.insert(rel.to_str().unwrap().replace('\\', "/"));
            }
        }
    }
    let untested: Vec<&String> = files.difference(&named).collect();
    assert!(
        untested.is_empty(),
        "files of examples/ that no test of tests/locust_examples.rs names: {untested:?}"
    );
    let missing: Vec<&String> = named.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "named by a test but not in examples/: {missing:?}"
    );
}
