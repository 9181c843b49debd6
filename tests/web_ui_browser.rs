//! The web UI in a real browser: Debian's headless `chromium`, driven over WebDriver by
//! `chromedriver` (package `chromium-driver`; scripts/test.sh installs both) through the
//! `fantoccini` crate (the harness: tests/common/web_ui.rs). The binary runs in web mode
//! against its built-in demo target; the browser fills the start form, starts a run,
//! watches the tables and charts update, edits the user count, resets the statistics
//! and stops the run; a hostile host and request name stay text. Everything listens on
//! 127.0.0.1 only, every wait is bounded, and both processes die with the test (a Drop
//! guard), whatever happens. Screenshots go to target/test-output/screenshots/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cache_mix_scenario;
use common::web_ui::{wait_for, Setup, Ui, ONE_AT_A_TIME};
use serde_json::json;

/// A name no page may turn into markup: it sets `window.__xss` if it ever runs.
const HOSTILE_NAME: &str = r#"<img src=x onerror="window.__xss=2">/health"#;
const HOSTILE_HOST_TAIL: &str = "<script>window.__xss=1</script>";

/// The cells of each row of the statistics table, as text.
const STATS_ROWS_JS: &str = "return Array.from(document.querySelectorAll('#stats-table tbody tr'))\
    .map(r => Array.from(r.cells).map(c => c.textContent))";
/// [class, checked] for each box of the user-class picker, sorted.
const CLASS_BOXES_JS: &str =
    "return Array.from(document.querySelectorAll('#user-class-list input'))\
    .map(b => [b.value, b.checked]).sort()";
/// The legend texts of the per-instance chart.
const INSTANCE_LEGEND_JS: &str = "return Array.from(\
    document.querySelectorAll('#chart-instances .legend text')).map(t => t.textContent)";

/// The binary in web mode (with `args`) against its demo target, and Chromium.
async fn start(scenario: &str, args: &[&str]) -> Ui {
    Ui::start(Setup {
        scenario,
        project: None,
        args,
    })
    .await
}

/// The cells of #stats-table's rows, as text.
async fn stats_rows(ui: &Ui) -> Vec<Vec<String>> {
    serde_json::from_value(ui.js(STATS_ROWS_JS).await).unwrap_or_default()
}

/// # Requests of the Aggregated row (last, bold), when there is one.
async fn aggregated_requests(ui: &Ui) -> Option<u64> {
    let rows = stats_rows(ui).await;
    let last = rows.last()?;
    (last.get(1)? == "Aggregated").then(|| last[2].parse().ok())?
}

/// How many points a chart has drawn.
async fn points(ui: &Ui, chart: &str) -> usize {
    let script = format!("return document.getElementById('{chart}').getAttribute('data-points')");
    let value = ui.js(&script).await;
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Two user classes (the picker shows both, checked) that read cached and fresh users and
/// ask the load balancer for /health, so every chart has data.
fn scenario() -> String {
    cache_mix_scenario("Reader", 1) + &cache_mix_scenario("Prober", 2)
}

#[tokio::test]
async fn the_page_starts_edits_resets_and_stops_a_run_with_live_tables_and_charts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ui = start(&scenario(), &[]).await;
    ui.browser.goto(&ui.url).await.unwrap();
    assert_eq!(ui.wait_state(&["ready"]).await, "ready");
    assert!(ui.visible("start-button").await, "the start form shows");
    assert!(!ui.visible("dashboard").await, "no dashboard before a run");
    let classes = ui.js(CLASS_BOXES_JS).await;
    assert_eq!(classes, json!([["Prober", true], ["Reader", true]]));
    let host = ui.js("return document.getElementById('host').value").await;
    assert!(
        host.as_str()
            .unwrap_or_default()
            .starts_with("http://127.0.0.1:"),
        "the form is pre-filled with the demo target: {host}"
    );

    // A bad value: the server's message (Locust's wording) shows and nothing starts.
    ui.fill("user_count", "abc").await;
    ui.click("start-button").await;
    let message = wait_for("the server's message in the form", || async {
        Some(ui.text("form-message").await).filter(|m| !m.is_empty())
    })
    .await;
    assert_eq!(
        message,
        "Invalid user_count value: 'abc' (must be an integer)"
    );
    assert_eq!(ui.state().await, "ready");

    ui.fill("user_count", "5").await;
    ui.fill("spawn_rate", "5").await;
    ui.click("start-button").await;
    ui.wait_state(&["spawning", "running"]).await;
    assert!(!ui.visible("form-message").await, "the message goes");
    assert!(!ui.visible("start-panel").await, "the form closes");
    for id in ["stop-button", "edit-button", "reset-button"] {
        assert!(ui.visible(id).await, "#{id} shows while running");
    }
    ui.wait_state(&["running"]).await;
    wait_for("5 users in the header", || async {
        (ui.text("user-count-value").await == "5").then_some(())
    })
    .await;
    let requests = wait_for("requests in the Aggregated row", || async {
        aggregated_requests(&ui).await.filter(|n| *n > 0)
    })
    .await;
    let rows = stats_rows(&ui).await;
    assert!(
        rows.len() >= 2,
        "a row per request name, then Aggregated: {rows:?}"
    );
    assert_eq!(rows[0].len(), 13, "13 columns: {rows:?}");
    let bold = ui
        .js("return document.querySelector('#stats-table tbody tr:last-child').className")
        .await;
    assert_eq!(bold, json!("total"));
    wait_for("a current RPS above 0 in the header", || async {
        let rps = ui.text("rps-value").await;
        rps.parse::<f64>().is_ok_and(|v| v > 0.0).then_some(())
    })
    .await;

    // The charts grow by one point per poll (every 2 s).
    let first = points(&ui, "chart-rps").await;
    wait_for("two more points in the RPS chart", || async {
        (points(&ui, "chart-rps").await >= first + 2).then_some(())
    })
    .await;
    for chart in [
        "chart-response-times",
        "chart-users",
        "chart-cache",
        "chart-instances",
    ] {
        assert!(points(&ui, chart).await >= first + 2, "{chart} grows too");
    }
    let legend = ui.js(INSTANCE_LEGEND_JS).await;
    for app in ["app1", "app2", "app3"] {
        assert!(
            legend.to_string().contains(app),
            "instance {app} in the legend: {legend}"
        );
    }
    ui.screenshot("web_ui_running.png", 1000).await;
    ui.click_tab("charts").await;
    ui.screenshot("web_ui_charts.png", 2500).await;
    ui.click_tab("stats").await;

    // Edit: fewer users while running.
    ui.click("edit-button").await;
    ui.fill("edit_user_count", "2").await;
    ui.fill("edit_spawn_rate", "5").await;
    ui.click("edit-submit").await;
    wait_for("2 users after the edit", || async {
        (ui.text("user-count-value").await == "2").then_some(())
    })
    .await;

    // Reset: the count starts again from zero.
    let before = aggregated_requests(&ui).await.unwrap_or(requests);
    ui.click("reset-button").await;
    wait_for("a lower request count after the reset", || async {
        aggregated_requests(&ui).await.filter(|n| *n < before)
    })
    .await;

    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    wait_for("the New test button", || async {
        ui.visible("new-test-button").await.then_some(())
    })
    .await;
    assert!(!ui.visible("stop-button").await);
    assert!(
        ui.visible("stats-table").await,
        "the statistics stay after a stop"
    );
    ui.click("new-test-button").await;
    assert!(ui.visible("start-button").await, "New test opens the form");
    ui.assert_no_js_errors().await;
    ui.close().await;
}

#[tokio::test]
async fn a_hostile_host_and_request_name_stay_text() {
    let _one = ONE_AT_A_TIME.lock().await;
    let hostile = format!(
        "{}[[users.Reader.tasks]]\nname = \"hostile\"\n\
         request = {{ path = \"/health\", name = '{HOSTILE_NAME}' }}\n",
        cache_mix_scenario("Reader", 1)
    );
    let ui = start(&hostile, &["--web-base-path", "/locust"]).await;
    ui.goto(&format!("{}locust", ui.url)).await;
    ui.wait_state(&["ready"]).await;
    let scripts_before = ui
        .js("return document.querySelectorAll('script').length")
        .await;
    let demo = ui.js("return document.getElementById('host').value").await;
    let demo = demo.as_str().unwrap().to_string();

    ui.fill("host", &format!("{demo}/{HOSTILE_HOST_TAIL}"))
        .await;
    ui.fill("user_count", "2").await;
    ui.fill("spawn_rate", "2").await;
    ui.click("start-button").await;
    // Either the run starts with the host shown in the header, or the server refuses it
    // and the form shows why: both are text.
    let shown = wait_for(
        "the host in the header or a message in the form",
        || async {
            let state = ui.state().await;
            let message = ui.text("form-message").await;
            if ["spawning", "running"].contains(&state.as_str()) {
                Some(ui.text("host-value").await)
            } else if !message.is_empty() {
                Some(message)
            } else {
                None
            }
        },
    )
    .await;
    assert!(shown.contains("window.__xss=1"), "shown as text: {shown}");
    if ui.state().await == "ready" {
        ui.fill("host", &demo).await;
        ui.click("start-button").await;
    }
    ui.wait_state(&["spawning", "running"]).await;
    let name = wait_for("the hostile request name in the table", || async {
        let rows = stats_rows(&ui).await;
        rows.into_iter()
            .find(|r| r.get(1).is_some_and(|n| n.contains("onerror")))
            .map(|r| r[1].clone())
    })
    .await;
    assert_eq!(name, HOSTILE_NAME, "the name shows as it is, as text");
    // One more poll so every table and chart legend has been drawn with the data.
    let drawn = points(&ui, "chart-rps").await;
    wait_for("one more poll", || async {
        (points(&ui, "chart-rps").await > drawn).then_some(())
    })
    .await;
    assert_eq!(
        ui.js("return window.__xss === undefined").await,
        json!(true)
    );
    assert_eq!(
        ui.js("return document.querySelectorAll('script').length")
            .await,
        scripts_before,
        "no script element was added"
    );
    assert_eq!(
        ui.js("return document.querySelectorAll('img').length")
            .await,
        json!(0),
        "no element was made from data"
    );
    ui.screenshot("web_ui_hostile.png", 1000).await;
    // Every download link sits under the base path and answers (the full history only
    // with --csv-full-history, as in Locust).
    let links = ui
        .js("return Array.from(document.querySelectorAll('.downloads a')).map(a => a.href)")
        .await;
    let mut statuses = Vec::new();
    for link in links.as_array().unwrap() {
        let link = link.as_str().unwrap();
        let status = reqwest::get(link).await.unwrap().status().as_u16();
        statuses.push((link.split_once("/locust/").unwrap().1.to_string(), status));
    }
    let expected = [
        ("stats/requests/csv", 200),
        ("stats/requests_full_history/csv", 404),
        ("stats/failures/csv", 200),
        ("exceptions/csv", 200),
        ("stats/report?download=1", 200),
    ];
    let expected: Vec<(String, u16)> = expected.iter().map(|(l, s)| (l.to_string(), *s)).collect();
    assert_eq!(statuses, expected);
    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    ui.assert_no_js_errors().await;
    ui.close().await;
}
