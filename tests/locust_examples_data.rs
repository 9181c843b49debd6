//! Locust's `examples/` translated to TOML, test data and options: test_pytest.py,
//! testdata_management.py, add_command_line_argument.py, the public home pages of
//! terraform/aws/plan/basic.py and testdata_from_csv.py.
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
