//! What the web UI keeps and follows, in headless Chromium (tests/common/web_ui.rs):
//! the dark theme follows the system's setting (emulated over the DevTools protocol)
//! until the toggle is used, which is remembered; the open tab is in the address and
//! survives a reload; after a reload Edit starts from the running test's spawn rate
//! (it used to take the command line's); the Current ratio tab shows /tasks; a new test
//! starts from the last run's values; and a page opened as http://user:pass@host/
//! with --web-auth keeps updating (Chromium refuses a fetch to a URL with credentials).
//! A screenshot of the dark theme is saved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cache_mix_scenario;
use common::web_ui::{wait_for, Setup, Ui, ONE_AT_A_TIME};
use serde_json::{json, Value};

fn scenario() -> String {
    cache_mix_scenario("Reader", 1) + &cache_mix_scenario("Prober", 2)
}

async fn theme(ui: &Ui) -> Value {
    ui.js("return [document.documentElement.dataset.theme, getComputedStyle(document.body).backgroundColor,\
           document.querySelector('#chart-users rect') && document.querySelector('#chart-users rect').getAttribute('fill')]")
        .await
}

async fn aggregated_requests(ui: &Ui) -> Option<u64> {
    let last = ui
        .js(
            "const r = document.querySelector('#stats-table tbody tr:last-child');\
             return r ? Array.from(r.cells).map(c => c.textContent) : null",
        )
        .await;
    (last[1] == "Aggregated").then(|| last[2].as_str()?.parse().ok())?
}

#[tokio::test]
async fn dark_mode_follows_the_system_until_the_remembered_toggle() {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = scenario();
    let ui = Ui::start(Setup {
        scenario: &scenario,
        project: None,
        args: &[],
    })
    .await;
    let dark_system = json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
    ui.cdp("Emulation.setEmulatedMedia", dark_system).await;
    ui.goto(&ui.url).await;
    ui.wait_state(&["ready"]).await;
    let dark = theme(&ui).await;
    assert_eq!(dark[0], "dark", "the system is dark: {dark}");
    assert_eq!(dark[1], "rgb(20, 21, 23)", "{dark}");
    assert_eq!(dark[2], "#1e1f22", "the charts are dark too: {dark}");
    assert_eq!(ui.text("theme-button").await, "Light mode");
    ui.start_test("4", "4").await;
    wait_for("requests", || async {
        aggregated_requests(&ui).await.filter(|n| *n > 0)
    })
    .await;
    ui.click_tab("charts").await;
    wait_for("three chart points", || async {
        let points = ui
            .js("return Number(document.getElementById('chart-rps').dataset.points)")
            .await;
        (points.as_u64().unwrap_or(0) >= 3).then_some(())
    })
    .await;
    ui.screenshot("web_ui_dark.png", 1400).await;

    // The toggle wins over the system, and is remembered across a reload.
    ui.click("theme-button").await;
    let light = theme(&ui).await;
    assert_eq!(light[0], "light", "{light}");
    assert_eq!(light[1], "rgb(250, 250, 250)", "{light}");
    assert_eq!(light[2], "#ffffff", "the charts follow at once: {light}");
    ui.goto(&ui.url).await;
    ui.wait_state(&["running"]).await;
    assert_eq!(
        theme(&ui).await[0],
        "light",
        "remembered over the dark system"
    );
    let stored = ui
        .js("return localStorage.getItem('locust-rs.theme')")
        .await;
    assert_eq!(stored, json!("light"));
    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    ui.assert_no_js_errors().await;
    ui.close().await;
}

#[tokio::test]
async fn the_tab_edit_and_the_form_survive_a_reload() {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = scenario();
    // The command line's spawn rate is 1: Edit must not take it after a reload.
    let ui = Ui::start(Setup {
        scenario: &scenario,
        project: None,
        args: &["-u", "1", "-r", "1"],
    })
    .await;
    ui.goto(&ui.url).await;
    ui.wait_state(&["ready"]).await;
    ui.fill("run_time", "90s").await;
    ui.start_test("4", "5").await;
    ui.click_tab("charts").await;
    let hash = ui.js("return location.hash").await;
    assert_eq!(hash, json!("#charts"));

    ui.browser.refresh().await.unwrap();
    ui.wait_state(&["spawning", "running"]).await;
    assert!(
        ui.visible("tab-charts").await,
        "the charts tab is open after a reload"
    );
    assert!(!ui.visible("tab-stats").await);
    let active = ui
        .js("return document.querySelector('.tabs button.active').dataset.tab")
        .await;
    assert_eq!(active, json!("charts"));

    // Edit starts from the running test's numbers, not the command line's.
    ui.click("edit-button").await;
    assert_eq!(ui.value("edit_user_count").await, "4");
    assert_eq!(ui.value("edit_spawn_rate").await, "5");
    ui.fill("edit_user_count", "2").await;
    ui.click("edit-submit").await;
    wait_for("2 users after the edit", || async {
        (ui.text("user-count-value").await == "2").then_some(())
    })
    .await;
    ui.browser.refresh().await.unwrap();
    ui.wait_state(&["running"]).await;
    ui.click("edit-button").await;
    assert_eq!(ui.value("edit_user_count").await, "2");
    assert_eq!(
        ui.value("edit_spawn_rate").await,
        "5",
        "the edited test's rate"
    );
    ui.click("edit-cancel").await;

    // Current ratio: each class and its tasks, from /tasks.
    ui.click_tab("ratio").await;
    let ratios = wait_for("the class ratios", || async {
        let text = ui.text("ratio-per-class").await;
        (text.contains("Reader") && text.contains("Prober")).then_some(text)
    })
    .await;
    // Both classes weigh 1: 50 % each; the tasks are listed under their class.
    assert!(ratios.contains("50%"), "{ratios}");
    assert!(
        ratios.contains("read") && ratios.contains("fresh"),
        "{ratios}"
    );
    assert!(ui.text("ratio-total").await.contains('%'));
    assert_eq!(ui.js("return location.hash").await, json!("#ratio"));

    // A new test after a reload starts from the last run's values.
    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    ui.browser.refresh().await.unwrap();
    ui.wait_state(&["stopped"]).await;
    ui.click("new-test-button").await;
    assert_eq!(ui.value("user_count").await, "2");
    assert_eq!(ui.value("spawn_rate").await, "5");
    assert_eq!(ui.value("run_time").await, "90s");
    ui.assert_no_js_errors().await;
    ui.close().await;
}

#[tokio::test]
async fn credentials_in_the_address_do_not_break_the_updates() {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = scenario();
    let ui = Ui::start(Setup {
        scenario: &scenario,
        project: None,
        args: &["--web-auth", "user:secret"],
    })
    .await;
    let with_credentials = format!("http://user:secret@127.0.0.1:{}/", ui.port);
    ui.goto(&with_credentials).await;
    ui.wait_state(&["ready"]).await;
    let address = ui.js("return location.href").await;
    assert!(address.to_string().contains("127.0.0.1"), "{address}");
    ui.start_test("2", "2").await;
    let requests = wait_for("the statistics to update", || async {
        aggregated_requests(&ui).await.filter(|n| *n > 0)
    })
    .await;
    wait_for("the statistics to update again", || async {
        aggregated_requests(&ui).await.filter(|n| *n > requests)
    })
    .await;
    assert!(
        !ui.visible("connection").await,
        "{}",
        ui.text("connection").await
    );
    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    ui.assert_no_js_errors().await;
    ui.close().await;
}
