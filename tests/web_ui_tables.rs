//! The web UI's tables in headless Chromium (tests/common/web_ui.rs): the statistics
//! sort by any column (ascending, then descending; Aggregated stays last), a column
//! chooser hides columns, and both survive a reload; the failures show First and Last
//! seen; an ERROR logged puts a marker on the Logs tab until it is opened. A screenshot
//! of the sorted table is saved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cache_mix_scenario;
use common::web_ui::{wait_for, Setup, Ui, ONE_AT_A_TIME};
use serde_json::{json, Value};

/// The cache mix, and a task whose request the demo target answers 404 (a failure).
fn scenario() -> String {
    cache_mix_scenario("Reader", 1)
        + "[[users.Reader.tasks]]\nname = \"missing\"\nrequest = { path = \"/no-such-page\" }\n"
}

const HEADERS_JS: &str = "return Array.from(document.querySelectorAll(arguments[0] + ' thead th'))\
    .map(th => [th.dataset.key, th.getAttribute('aria-sort')])";
const ROWS_JS: &str = "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))\
    .map(r => Array.from(r.cells).map(c => c.textContent))";

async fn call(ui: &Ui, script: &str, table: &str) -> Value {
    ui.browser
        .execute(script, vec![json!(table)])
        .await
        .unwrap()
}

async fn rows(ui: &Ui) -> Vec<Vec<String>> {
    serde_json::from_value(call(ui, ROWS_JS, "#stats-table").await).unwrap()
}

/// The column of `key` among the headers shown.
async fn column(ui: &Ui, key: &str) -> usize {
    let headers = call(ui, HEADERS_JS, "#stats-table").await;
    headers
        .as_array()
        .unwrap()
        .iter()
        .position(|h| h[0] == key)
        .unwrap_or_else(|| panic!("no column {key}: {headers}"))
}

/// Rows but the last (Aggregated), at column `index`, as numbers.
async fn numbers(ui: &Ui, index: usize) -> Vec<f64> {
    let rows = rows(ui).await;
    assert_eq!(
        rows.last().unwrap()[1],
        "Aggregated",
        "Aggregated stays last: {rows:?}"
    );
    rows[..rows.len() - 1]
        .iter()
        .map(|r| r[index].parse().unwrap())
        .collect()
}

async fn sort_by(ui: &Ui, key: &str, wanted: &str) {
    ui.click_css(&format!("#stats-table th[data-key='{key}']"))
        .await;
    wait_for(&format!("{key} sorted {wanted}"), || async {
        let headers = call(ui, HEADERS_JS, "#stats-table").await;
        headers
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == &json!([key, wanted]))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn tables_sort_choose_columns_and_show_when_failures_were_seen() {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = scenario();
    let ui = Ui::start(Setup {
        scenario: &scenario,
        project: None,
        args: &[],
    })
    .await;
    ui.goto(&ui.url).await;
    ui.wait_state(&["ready"]).await;
    ui.start_test("3", "3").await;
    wait_for("four request names and Aggregated", || async {
        let rows = rows(&ui).await;
        (rows.len() >= 5).then_some(())
    })
    .await;

    // # Requests ascending, then descending; the order holds over the next polls.
    sort_by(&ui, "num_requests", "ascending").await;
    let requests = column(&ui, "num_requests").await;
    let up = numbers(&ui, requests).await;
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "ascending: {up:?}");
    sort_by(&ui, "num_requests", "descending").await;
    let down = numbers(&ui, requests).await;
    assert!(
        down.windows(2).all(|w| w[0] >= w[1]),
        "descending: {down:?}"
    );
    assert!(down.first() > down.last(), "different counts: {down:?}");
    ui.screenshot("web_ui_sorted_table.png", 1000).await;
    // By name, as text.
    sort_by(&ui, "name", "ascending").await;
    let rows_now = rows(&ui).await;
    let names: Vec<&str> = rows_now[..rows_now.len() - 1]
        .iter()
        .map(|r| r[1].as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);

    // The column chooser: hide the average size; it stays hidden after a reload, and the
    // sort is remembered too.
    assert_eq!(rows_now[0].len(), 13);
    ui.click_css("#stats-columns summary").await;
    ui.click_css("#stats-columns input[value='size']").await;
    let headers = call(&ui, HEADERS_JS, "#stats-table").await;
    assert_eq!(headers.as_array().unwrap().len(), 12, "{headers}");
    assert!(!headers.to_string().contains("\"size\""), "{headers}");
    ui.goto(&ui.url).await;
    ui.wait_state(&["running"]).await;
    wait_for("rows after the reload", || async {
        (rows(&ui).await.len() >= 5).then_some(())
    })
    .await;
    let headers = call(&ui, HEADERS_JS, "#stats-table").await;
    assert_eq!(headers.as_array().unwrap().len(), 12, "{headers}");
    assert!(
        headers.to_string().contains(r#"["name","ascending"]"#),
        "{headers}"
    );
    assert_eq!(rows(&ui).await[0].len(), 12);

    // Failures: First and Last seen, as clock times, first <= last.
    ui.click_tab("failures").await;
    let failure = wait_for("the 404 in the failures table", || async {
        let rows: Vec<Vec<String>> =
            serde_json::from_value(call(&ui, ROWS_JS, "#errors-table").await).ok()?;
        rows.into_iter().find(|r| r[2] == "/no-such-page")
    })
    .await;
    let headers = ui
        .js("return Array.from(document.querySelectorAll('#errors-table thead th')).map(t => t.textContent)")
        .await;
    assert_eq!(
        headers,
        json!([
            "# Failures",
            "Method",
            "Name",
            "Message",
            "First seen",
            "Last seen"
        ])
    );
    let clock = |s: &str| s.len() == 8 && s.chars().filter(|c| *c == ':').count() == 2;
    assert!(clock(&failure[4]) && clock(&failure[5]), "{failure:?}");
    assert!(failure[4] <= failure[5], "{failure:?}");
    // Last seen moves on as the failures go on.
    let first_last = failure[5].clone();
    wait_for("a later Last seen", || async {
        let rows: Vec<Vec<String>> =
            serde_json::from_value(call(&ui, ROWS_JS, "#errors-table").await).ok()?;
        let row = rows.into_iter().find(|r| r[2] == "/no-such-page")?;
        (row[5] > first_last && row[4] == failure[4]).then_some(())
    })
    .await;

    // An ERROR line (a refused /swarm logs one) marks the Logs tab until it is opened.
    assert_eq!(ui.text("logs-count").await, "");
    let refused = ui
        .js_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/swarm', {method: 'POST', body: new URLSearchParams({user_count: 'x', spawn_rate: '1'})})\
             .then(r => r.json()).then(done, e => done(String(e)))",
        )
        .await;
    assert_eq!(refused["success"], json!(false), "{refused}");
    wait_for("a marker on the Logs tab", || async {
        (ui.text("logs-count").await == "1").then_some(())
    })
    .await;
    ui.click_tab("logs").await;
    assert_eq!(ui.text("logs-count").await, "", "opening the tab clears it");
    let marked = ui
        .js("return Array.from(document.querySelectorAll('#logs .log-error')).map(e => e.textContent)")
        .await;
    assert!(
        marked.to_string().contains("Invalid user_count value"),
        "{marked}"
    );
    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    ui.assert_no_js_errors().await;
    ui.close().await;
}
