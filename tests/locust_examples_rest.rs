//! Locust's `examples/` translated to TOML, answers judged by the user: response
//! validations, the REST users of rest.py and stop_on_threshold.py.
//!
//! Each translation is run by the real binary, headless and bounded (`-i` and `-t`),
//! against a `HostileServer` on 127.0.0.1 scripted with the routes the example needs,
//! asserting what the server received. The runner and readers are in
//! `tests/common/examples.rs`; `locust_examples.rs` holds the coverage check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::examples::*;
use common::hostile::*;

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
