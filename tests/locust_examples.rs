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
//! no test of `tests/locust_examples*.rs`.
//!
//! The tests are split by theme: this file, plain pages, documentation sites and
//! sign-ins; `locust_examples_http.rs` other request kinds and hosts, the web UI
//! extensions; `locust_examples_rest.rs` response validation, REST and thresholds;
//! `locust_examples_data.rs` test data, custom options and public hosts;
//! `locust_examples_shapes.rs` load shapes and wait functions;
//! `locust_examples_tasksets.rs` user classes, task sets, manual stats and the SDK. The
//! runner and readers they share are in `tests/common/examples.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::examples::*;
use common::hostile::*;
use common::repo_root;

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

// ---------------------------------------------------------------------------------
// Coverage

/// Every file of `examples/` is named by some test of `tests/locust_examples*.rs` (a
/// scenario through `example`, another file through `example_file` or `with_file`), and
/// every file named exists: a new example without a test fails here.
#[test]
fn every_example_file_is_used_by_a_test() {
    let mut named = BTreeSet::new();
    for (_, source) in example_test_sources() {
        named.extend(names_in(&source));
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
        "files of examples/ that no test of tests/locust_examples*.rs names: {untested:?}"
    );
    let missing: Vec<&String> = named.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "named by a test but not in examples/: {missing:?}"
    );
}

/// The test files of the examples, `tests/locust_examples*.rs`: (file name, source).
fn example_test_sources() -> Vec<(String, String)> {
    let tests = repo_root().join("tests");
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("locust_examples") && name.ends_with(".rs") {
            sources.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    sources.sort();
    sources
}

/// The files of `examples/` that `source` names: the string literal that opens the
/// arguments of every call of `example`, `example_file` and `with_file`.
fn names_in(source: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for opener in ["example(\"", "example_file(\"", "with_file(\""] {
        for (at, _) in source.match_indices(opener) {
            let rest = &source[at + opener.len()..];
            named.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    named
}
