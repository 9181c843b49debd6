//! Other web pages cannot drive the web UI, proven in headless Chromium (issue 12, item
//! 4). A hostile page served by the test on another 127.0.0.1 port auto-submits a form
//! POST to the UI's /swarm and sends two fetch() POSTs; the browser really sends them
//! (the page reports back to its own server, and the UI logs one refusal per request),
//! and no test starts. A DNS-rebinding visit (`evil.example` mapped to 127.0.0.1 by
//! Chromium's resolver rules) gets the refusal page. The control: the same page against
//! a UI that trusts its origin (`--web-cors`) does start a swarm, so the check above
//! would fail if the protection were gone. The UI's own page still starts a run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use common::browser::Browser;
use common::web::WebUi;
use common::*;
use serde_json::Value;

const SCENARIO: &str = r#"
[users.Reader]
wait_time = "constant(0.05)"
[[users.Reader.tasks]]
name = "health"
request = { path = "/health" }
"#;

/// The hostile page: `UI` is the UI's origin. Every outcome is reported to the page's own
/// server (same origin, so always allowed), as `/report?<what>`.
const EVIL_PAGE: &str = r#"<!doctype html>
<title>cute cats</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="UI/swarm" target="sink">
  <input name="user_count" value="3"><input name="spawn_rate" value="3">
</form>
<script>
const report = (what) => fetch("/report?" + encodeURIComponent(what));
const form = new URLSearchParams({ user_count: "2", spawn_rate: "2" });
fetch("UI/swarm", { method: "POST", mode: "no-cors", body: form })
  .then((r) => report("no-cors:" + r.type), (e) => report("no-cors-error:" + e));
fetch("UI/swarm", { method: "POST", body: form })
  .then((r) => report("cors:" + r.status), (e) => report("cors-error"));
document.getElementById("f").submit();
report("form-submitted");
</script>
"#;

type Reports = Arc<Mutex<Vec<String>>>;

/// The hostile site on its own 127.0.0.1 port: `/?ui=ORIGIN` serves the page aimed at
/// that UI, `/report?what` records what the page saw.
async fn evil_site() -> (String, Reports) {
    let reports: Reports = Arc::default();
    let app = axum::Router::new()
        .route(
            "/",
            get(
                |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    Html(EVIL_PAGE.replace("UI", &q["ui"]))
                },
            ),
        )
        .route(
            "/report",
            get(
                |State(r): State<Reports>, RawQuery(q): RawQuery| async move {
                    let what = q.unwrap_or_default();
                    let what = url::form_urlencoded::parse(format!("x={what}").as_bytes())
                        .map(|(_, v)| v.into_owned())
                        .next()
                        .unwrap_or_default();
                    r.lock().unwrap().push(what);
                },
            ),
        )
        .with_state(reports.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), reports)
}

async fn ui_state(ui: &WebUi) -> String {
    let answer: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/stats/requests", ui.url.trim_end_matches('/')))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["state"].as_str().unwrap().to_string()
}

/// Polls `check` every 200 ms for at most 30 s; panics naming `what`.
async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

fn refusals(ui: &WebUi, needle: &str) -> usize {
    ui.stderr()
        .lines()
        .filter(|l| l.contains("WARNING/locust.main: Refused") && l.contains(needle))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_page_and_a_rebound_name_cannot_start_a_swarm_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", SCENARIO);
    let target = demo().await;
    let base = ["-f", "s.toml", "-H", &target.base_url()].map(str::to_string);
    let args: Vec<&str> = base.iter().map(String::as_str).collect();
    let ui = WebUi::start(dir.path(), &args).await;
    let ui_origin = ui.url.trim_end_matches('/').to_string();
    let ui_port = ui_origin.rsplit(':').next().unwrap().to_string();
    let (evil, reports) = evil_site().await;
    let browser = Browser::start(
        dir.path(),
        &["--host-resolver-rules=MAP evil.example 127.0.0.1"],
    )
    .await;

    // The hostile page runs, its three POSTs reach the UI, and all are refused.
    browser
        .client
        .goto(&format!("{evil}/?ui={ui_origin}"))
        .await
        .unwrap();
    let evil_origin = format!("Origin \"{evil}\"");
    wait_until("the page's reports and three refusals", || async {
        let seen = reports.lock().unwrap().clone();
        seen.contains(&"form-submitted".to_string())
            && seen.contains(&"no-cors:opaque".to_string())
            && seen.contains(&"cors-error".to_string())
            && refusals(&ui, &evil_origin) == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        ui_state(&ui).await,
        "ready",
        "the hostile page started nothing"
    );
    assert_eq!(target.counters().total, 0);

    // DNS rebinding: the UI's port under a foreign name gets the refusal, not the page.
    browser
        .client
        .goto(&format!("http://evil.example:{ui_port}/"))
        .await
        .unwrap();
    let text = browser.js("return document.body.innerText").await;
    let text = text.as_str().unwrap_or_default();
    assert!(text.contains("--web-allowed-hosts evil.example"), "{text}");
    assert!(browser
        .js("return !window.templateArgs")
        .await
        .as_bool()
        .unwrap());
    let rebound = format!("GET / from 127.0.0.1: Host \"evil.example:{ui_port}\"");
    assert_eq!(refusals(&ui, &rebound), 1, "{}", ui.stderr());

    // The UI's own page (Chromium sends Origin on its same-origin POST) starts a run.
    browser.client.goto(&ui_origin).await.unwrap();
    browser
        .js("document.getElementById('user_count').value = '1'; \
             document.getElementById('spawn_rate').value = '1'; \
             document.getElementById('start-button').click(); return true")
        .await;
    wait_until("the UI's own page to start a run", || async {
        ["spawning", "running"].contains(&ui_state(&ui).await.as_str())
    })
    .await;

    // The control: a UI that trusts the hostile origin is driven by the very same page.
    let trusting_args = [&args[..], &["--web-cors", &evil]].concat();
    let trusting = WebUi::start(dir.path(), &trusting_args).await;
    let trusting_origin = trusting.url.trim_end_matches('/').to_string();
    browser
        .client
        .goto(&format!("{evil}/?ui={trusting_origin}"))
        .await
        .unwrap();
    wait_until(
        "the same page to start a swarm on a trusting UI",
        || async {
            let read = reports.lock().unwrap().contains(&"cors:200".to_string());
            read && ["spawning", "running"].contains(&ui_state(&trusting).await.as_str())
        },
    )
    .await;
    assert_eq!(refusals(&trusting, ""), 0, "{}", trusting.stderr());
}
