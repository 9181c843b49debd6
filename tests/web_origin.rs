//! The web UI refuses other web pages (issue 12, item 4): raw HTTP requests on
//! 127.0.0.1 to the real binary, with exactly the headers a browser on another site or a
//! DNS-rebinding page sends. A foreign Origin or Referer cannot start, stop or reset a
//! test; a Host the UI is not served under is refused on every route; scripts without
//! Origin (curl, Python requests) and the UI's own page pass; `--web-allowed-hosts`,
//! `--web-cors` (flag, env var, config key) open exactly what they name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::web::WebUi;
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCENARIO: &str = r#"
[users.Reader]
wait_time = "constant(0.05)"
[[users.Reader.tasks]]
name = "health"
request = { path = "/health" }
"#;

const FORM: &str = "user_count=2&spawn_rate=2";

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request with exactly these headers (Host included), over a fresh
/// connection to the UI's 127.0.0.1 port.
async fn raw(ui: &WebUi, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let address = ui.url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = if method == "POST" { FORM } else { "" };
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut bytes),
    )
    .await
    .expect("an answer within 30 s")
    .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `127.0.0.1:PORT` of the UI.
fn own_host(ui: &WebUi) -> String {
    ui.url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

fn port(ui: &WebUi) -> String {
    own_host(ui).rsplit(':').next().unwrap().to_string()
}

async fn state(ui: &WebUi) -> String {
    let host = own_host(ui);
    let answer = raw(ui, "GET", "/stats/requests", &[("Host", &host)]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["state"].as_str().unwrap().to_string()
}

async fn start(extra: &[&str]) -> (tempfile::TempDir, locust_demo_target::DemoServer, WebUi) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let server = demo().await;
    let host = server.base_url();
    let mut args = vec!["-f", "s.toml", "-H", host.as_str()];
    args.extend_from_slice(extra);
    let ui = WebUi::start(dir.path(), &args).await;
    (dir, server, ui)
}

#[tokio::test]
async fn foreign_origins_referers_and_hosts_are_refused_and_scripts_pass() {
    let (_dir, server, ui) = start(&[]).await;
    let host = own_host(&ui);
    let port = port(&ui);
    let evil_host = format!("evil.example:{port}");

    // A form on another site posts to the UI: refused, nothing starts, no secret logged.
    let answer = raw(
        &ui,
        "POST",
        "/swarm",
        &[
            ("Host", &host),
            ("Origin", "http://evil.example"),
            ("Cookie", "session=cookie-secret-1"),
            ("Authorization", "Bearer auth-secret-2"),
        ],
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    let message = answer.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("http://evil.example"), "{message}");
    assert!(
        message.contains("--web-cors"),
        "says how to allow it: {message}"
    );
    assert_eq!(answer.header("access-control-allow-origin"), None);

    // DNS rebinding: the page's own origin, the UI's address, a foreign Host.
    let rebound = format!("http://{evil_host}");
    let answer = raw(
        &ui,
        "POST",
        "/swarm",
        &[("Host", &evil_host), ("Origin", &rebound)],
    )
    .await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.body.contains("--web-allowed-hosts evil.example"),
        "{}",
        answer.body
    );
    for path in ["/", "/stats/requests", "/stats/requests/csv", "/logs"] {
        let answer = raw(&ui, "GET", path, &[("Host", &evil_host)]).await;
        assert_eq!(answer.status, 403, "GET {path} under a foreign Host");
        assert!(!answer.body.contains("templateArgs"), "{path}");
    }

    // A Referer from another site, without Origin: refused too; so are /stop and reset.
    let referer = [
        ("Host", host.as_str()),
        ("Referer", "http://evil.example/page"),
    ];
    assert_eq!(raw(&ui, "POST", "/swarm", &referer).await.status, 403);
    let foreign = [("Host", host.as_str()), ("Origin", "http://127.0.0.1:1")];
    for path in ["/swarm", "/stop", "/stats/reset"] {
        assert_eq!(raw(&ui, "POST", path, &foreign).await.status, 403, "{path}");
    }
    let null = [("Host", host.as_str()), ("Origin", "null")];
    assert_eq!(raw(&ui, "POST", "/swarm", &null).await.status, 403);
    let site = [("Host", host.as_str()), ("Sec-Fetch-Site", "cross-site")];
    assert_eq!(raw(&ui, "POST", "/swarm", &site).await.status, 403);
    assert_eq!(
        state(&ui).await,
        "ready",
        "no refused request started a test"
    );
    assert_eq!(server.counters().total, 0);

    // No wildcard CORS by default, whoever asks.
    for origin in [None, Some("http://evil.example")] {
        let mut headers = vec![("Host", host.as_str())];
        headers.extend(origin.map(|o| ("Origin", o)));
        let answer = raw(&ui, "GET", "/stats/requests", &headers).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("access-control-allow-origin"), None);
    }

    // The UI's own page (same origin, by IP or by localhost) and curl-like scripts pass.
    let own = format!("http://{host}");
    let same = [("Host", host.as_str()), ("Origin", own.as_str())];
    let answer = raw(&ui, "POST", "/swarm", &same).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["success"], true);
    assert_eq!(
        raw(&ui, "POST", "/stop", &[("Host", &host)]).await.status,
        200
    );
    let localhost = format!("localhost:{port}");
    let from_localhost = format!("http://localhost:{port}/");
    let by_name = [("Host", localhost.as_str()), ("Referer", &from_localhost)];
    assert_eq!(raw(&ui, "POST", "/stats/reset", &by_name).await.status, 200);
    let curl = [("Host", host.as_str()), ("User-Agent", "curl/8")];
    let answer = raw(&ui, "POST", "/swarm", &curl).await;
    assert_eq!(answer.json()["success"], true, "{}", answer.body);
    assert!(["spawning", "running"].contains(&state(&ui).await.as_str()));

    let log = ui.stderr();
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("Refused ")).collect();
    assert_eq!(refused.len(), 12, "one WARNING per refusal:\n{log}");
    assert!(
        refused[0].contains("WARNING/locust.main: Refused POST /swarm from 127.0.0.1: Origin \"http://evil.example\""),
        "{}",
        refused[0]
    );
    assert!(
        refused[1].contains(&format!("Host \"{evil_host}\"")),
        "{}",
        refused[1]
    );
    assert!(!log.contains("cookie-secret-1") && !log.contains("auth-secret-2"));
}

#[tokio::test]
async fn allowed_hosts_and_cors_origins_open_only_what_they_name() {
    let (_dir, _server, ui) = start(&[
        "--web-allowed-hosts",
        "locust.test,.corp.test",
        "--web-cors",
        "http://dash.test:3000",
    ])
    .await;
    let port = port(&ui);
    let named = format!("locust.test:{port}");
    let answer = raw(&ui, "GET", "/", &[("Host", &named)]).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("templateArgs"));
    let sub = format!("ui.corp.test:{port}");
    assert_eq!(raw(&ui, "GET", "/", &[("Host", &sub)]).await.status, 200);
    let own = format!("http://{named}");
    let same = [("Host", named.as_str()), ("Origin", own.as_str())];
    assert_eq!(raw(&ui, "POST", "/stats/reset", &same).await.status, 200);

    let dash = [
        ("Host", named.as_str()),
        ("Origin", "http://dash.test:3000"),
    ];
    let answer = raw(&ui, "GET", "/stats/requests", &dash).await;
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://dash.test:3000")
    );
    assert_eq!(answer.header("vary"), Some("Origin"));
    assert_eq!(raw(&ui, "POST", "/stats/reset", &dash).await.status, 200);
    let preflight = [
        ("Host", named.as_str()),
        ("Origin", "http://dash.test:3000"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "content-type"),
    ];
    let answer = raw(&ui, "OPTIONS", "/swarm", &preflight).await;
    assert_eq!(answer.status, 204);
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("content-type")
    );

    let evil = [("Host", named.as_str()), ("Origin", "http://evil.example")];
    let answer = raw(&ui, "GET", "/stats/requests", &evil).await;
    assert_eq!(answer.header("access-control-allow-origin"), None);
    assert_eq!(raw(&ui, "POST", "/swarm", &evil).await.status, 403);
    let other = format!("evil.example:{port}");
    assert_eq!(raw(&ui, "GET", "/", &[("Host", &other)]).await.status, 403);
    assert_eq!(state(&ui).await, "ready");
}

#[tokio::test]
async fn env_var_and_config_key_and_the_unsafe_star() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    write(
        dir.path(),
        "locust.toml",
        "[tool.locust]\nweb-cors = [\"*\"]\n",
    );
    let server = demo().await;
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["--web-port", "0", "-f", "s.toml", "-H", &server.base_url()])
        .env("LOCUST_WEB_ALLOWED_HOSTS", "env.test")
        .current_dir(dir.path());
    let ui = WebUi::start_command(command).await;
    let host = own_host(&ui);
    let answer = raw(&ui, "GET", "/stats/requests", &[("Host", &host)]).await;
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let env_host = format!("env.test:{}", port(&ui));
    assert_eq!(
        raw(&ui, "GET", "/", &[("Host", &env_host)]).await.status,
        200
    );
    let other = format!("evil.example:{}", port(&ui));
    assert_eq!(raw(&ui, "GET", "/", &[("Host", &other)]).await.status, 403);
    // `*` trusts every origin, as Locust does, and says so at start.
    let evil = [("Host", host.as_str()), ("Origin", "http://evil.example")];
    assert_eq!(raw(&ui, "POST", "/stats/reset", &evil).await.status, 200);
    assert!(
        ui.stderr().contains("--web-cors * is set"),
        "{}",
        ui.stderr()
    );
}

#[tokio::test]
async fn bad_values_name_their_flag() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    for (flag, value) in [
        ("--web-allowed-hosts", "http://locust.test"),
        ("--web-allowed-hosts", "locust.test:8089"),
        ("--web-cors", "dash.test"),
    ] {
        let output = run_in(dir.path(), &["-f", "s.toml", flag, value]).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(flag) && stderr.contains(value), "{stderr}");
    }
}
