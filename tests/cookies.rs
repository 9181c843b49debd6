//! Each user keeps its own cookies, like a requests Session in Locust's HttpUser: a
//! server that hands every user a different session cookie sees each user send back
//! exactly its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::*;

#[derive(Default)]
struct Counters {
    sessions: AtomicU64,
    matched: AtomicU64,
}

async fn login(State(c): State<Arc<Counters>>) -> impl IntoResponse {
    let n = c.sessions.fetch_add(1, Ordering::SeqCst);
    (
        [(header::SET_COOKIE, format!("session=s{n}; Path=/"))],
        format!("s{n}"),
    )
}

#[derive(serde::Deserialize)]
struct Expect {
    expect: String,
}

async fn whoami(
    State(c): State<Arc<Counters>>,
    Query(q): Query<Expect>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if cookie == format!("session={}", q.expect) {
        c.matched.fetch_add(1, Ordering::SeqCst);
        (StatusCode::OK, "yes")
    } else {
        (StatusCode::CONFLICT, "someone else's cookie")
    }
}

const SCENARIO: &str = r#"
[users.Session]
wait_time = "constant(0.02)"

[[users.Session.on_start]]
path = "/login"
extract = [{ var = "mine", regex = "(s[0-9]+)" }]

[[users.Session.tasks]]
name = "whoami"
request = { path = "/whoami?expect={{ mine }}", name = "/whoami" }
"#;

#[tokio::test]
async fn every_user_sends_back_its_own_cookie() {
    let counters = Arc::new(Counters::default());
    let app = Router::new()
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .with_state(counters.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let output = run_headless(
        dir.path(),
        "s.toml",
        &format!("http://{addr}"),
        &["-u", "5", "-r", "5", "-t", "2s", "--csv", "c"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(counters.sessions.load(Ordering::SeqCst), 5);
    assert!(counters.matched.load(Ordering::SeqCst) > 10, "{stderr}");
    let rows = csv_rows(&dir.path().join("c_stats.csv"));
    assert_eq!(rows.last().unwrap()[3], "0", "no user sent a wrong cookie");
}
