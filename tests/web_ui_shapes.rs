//! Load shapes from the web UI, in headless Chromium (tests/common/web_ui.rs): a
//! profile with stages given as `--profile` without `--headless` opens the UI (it used
//! to run headless), runs its stages from Start, names the stage in progress in the
//! header and draws the planned users under the measured ones, then ends by itself;
//! every profile of locust.toml can be picked (a plain one fills users, rate and run
//! time), an arrival-rate profile draws its planned iterations/s, and a profile with
//! phases runs them in turn, naming the phase. A screenshot of the shape run is saved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::web::WebUi;
use common::web_ui::{wait_for, Setup, Ui, ONE_AT_A_TIME};
use common::{cache_mix_scenario, repo_root};
use serde_json::{json, Value};

/// Short profiles of every kind: stages, plain numbers, an arrival rate, phases.
const PROJECT: &str = r#"
[tool.locust]
users = 1
spawn-rate = 1

[profiles.spike]
description = "A short spike"
criteria = ["error_rate < 50%"]
[[profiles.spike.stages]]
duration = "4s"
users = 1
spawn-rate = 1
[[profiles.spike.stages]]
duration = "6s"
users = 4
spawn-rate = 10
[[profiles.spike.stages]]
duration = "4s"
users = 1
spawn-rate = 10

[profiles.plain]
description = "Three users for 4 s"
users = 3
spawn-rate = 3
run-time = "4s"

[profiles.short]
description = "Two stages"
[[profiles.short.stages]]
duration = "2s"
users = 2
spawn-rate = 10
[[profiles.short.stages]]
duration = "2s"
users = 1
spawn-rate = 10

[profiles.open]
description = "Arrivals"
arrival-rate = 2
max-pool = 10
[[profiles.open.arrival]]
duration = "3s"
target = 8
[[profiles.open.arrival]]
duration = "2s"
target = 8

[profiles.seq]
description = "plain, then short"
phases = ["plain", "short"]
"#;

fn scenario() -> String {
    cache_mix_scenario("Reader", 1)
}

/// The planned line of a chart: its point count and whether it is drawn before (under)
/// the first measured line.
const PLANNED_JS: &str = "const svg = document.getElementById(arguments[0]);\
    const plan = svg.querySelector('.planned'); if (!plan) return null;\
    const series = svg.querySelector('.series');\
    const under = !series || !!(plan.compareDocumentPosition(series) & Node.DOCUMENT_POSITION_FOLLOWING);\
    const legend = Array.from(svg.querySelectorAll('.legend text')).map(t => t.textContent);\
    return {points: plan.getAttribute('points').trim().split(/\\s+/).length, under, legend}";

async fn planned(ui: &Ui, chart: &str) -> Option<Value> {
    let value = ui
        .browser
        .execute(PLANNED_JS, vec![json!(chart)])
        .await
        .unwrap();
    (!value.is_null()).then_some(value)
}

async fn wait_stage(ui: &Ui, wanted: &str) -> String {
    wait_for(&format!("the header to name {wanted:?}"), || async {
        let stage = ui.text("stage-value").await;
        (stage.contains(wanted) && ui.visible("shape-figure").await).then_some(stage)
    })
    .await
}

#[tokio::test]
async fn a_profile_with_stages_opens_the_ui_and_runs_its_shape_from_start() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ui = Ui::start(Setup {
        scenario: &scenario(),
        project: Some(PROJECT),
        args: &["--profile", "spike"],
    })
    .await;
    ui.goto(&ui.url).await;
    ui.wait_state(&["ready"]).await;
    assert_eq!(ui.value("profile").await, "spike", "the profile is chosen");
    let locked = ui
        .js("return document.getElementById('user_count').readOnly")
        .await;
    assert_eq!(locked, json!(true), "its stages set the users");
    assert!(ui
        .text("profile-note")
        .await
        .contains("Its stages set the users"));
    assert!(
        ui.visible("profile-preview").await,
        "the plan is drawn in the form"
    );
    let preview = ui
        .js("return document.querySelector('#profile-preview polyline').getAttribute('points')")
        .await;
    assert!(
        preview.as_str().unwrap().split(' ').count() >= 6,
        "{preview}"
    );

    ui.click("start-button").await;
    ui.wait_state(&["spawning", "running"]).await;
    let first = wait_stage(&ui, "stage 1/3").await;
    assert!(first.contains("1 users at 1/s"), "{first}");
    assert!(
        !ui.visible("edit-button").await,
        "the shape drives the users, not Edit"
    );
    let stage = wait_stage(&ui, "stage 2/3").await;
    assert!(stage.contains("4 users at 10/s"), "{stage}");
    wait_for("4 users in the header", || async {
        (ui.text("user-count-value").await == "4").then_some(())
    })
    .await;
    // Changing the numbers of a shaped test is refused, with the reason.
    let answer: Value = reqwest::Client::new()
        .post(format!("{}swarm", ui.url))
        .form(&[("user_count", "9"), ("spawn_rate", "1")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["success"], json!(false), "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("'spike'"),
        "{answer}"
    );

    ui.click_tab("charts").await;
    let plan = wait_for("the planned users under the users chart", || async {
        planned(&ui, "chart-users").await
    })
    .await;
    assert!(plan["points"].as_u64().unwrap() >= 6, "{plan}");
    assert_eq!(
        plan["under"],
        json!(true),
        "drawn under the measured line: {plan}"
    );
    assert!(
        plan["legend"].to_string().contains("Planned users"),
        "{plan}"
    );
    wait_for("three points of measured users", || async {
        let points = ui
            .js("return Number(document.getElementById('chart-users').dataset.points)")
            .await;
        (points.as_u64().unwrap_or(0) >= 3).then_some(())
    })
    .await;
    ui.screenshot("web_ui_shape_run.png", 1700).await;

    // The shape ends the test by itself after its last stage.
    ui.wait_state(&["stopped"]).await;
    let log = ui.server_output();
    // 1 user in the first stage, then back to 1 in the last.
    let to_one = log.matches("Shape test updating to 1 users").count();
    assert_eq!(to_one, 2, "{log}");
    assert!(log.contains("Shape test stopping"), "{log}");
    assert!(!ui.visible("shape-figure").await, "no stage once stopped");
    ui.assert_no_js_errors().await;
    ui.close().await;
}

#[tokio::test]
async fn every_profile_can_be_picked_filled_in_and_run() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ui = Ui::start(Setup {
        scenario: &scenario(),
        project: Some(PROJECT),
        args: &[],
    })
    .await;
    ui.goto(&ui.url).await;
    ui.wait_state(&["ready"]).await;
    let options = ui
        .js("return Array.from(document.querySelectorAll('#profile option')).map(o => o.value)")
        .await;
    assert_eq!(
        options,
        json!(["", "open", "plain", "seq", "short", "spike"])
    );

    // A plain profile fills in its numbers, which stay editable.
    ui.choose("profile", "plain").await;
    assert_eq!(ui.value("user_count").await, "3");
    assert_eq!(ui.value("spawn_rate").await, "3");
    assert_eq!(ui.value("run_time").await, "4s");
    let locked = ui
        .js("return document.getElementById('spawn_rate').readOnly")
        .await;
    assert_eq!(locked, json!(false));

    // An arrival rate: its planned iterations/s on the requests chart, its stages named.
    ui.choose("profile", "open").await;
    assert!(ui.text("profile-note").await.contains("arrival rate"));
    ui.click("start-button").await;
    ui.wait_state(&["spawning", "running"]).await;
    // Either stage of the schedule (a slow poll may land in the second).
    let stage = wait_stage(&ui, "iterations/s").await;
    assert!(
        stage.contains("stage 1/2") || stage.contains("stage 2/2"),
        "{stage}"
    );
    ui.click_tab("charts").await;
    let plan = wait_for("the planned iterations/s", || async {
        planned(&ui, "chart-rps").await
    })
    .await;
    assert!(
        plan["legend"].to_string().contains("Planned iterations/s"),
        "{plan}"
    );
    assert!(
        planned(&ui, "chart-users").await.is_none(),
        "no user plan for arrivals"
    );
    ui.wait_state(&["stopped"]).await;

    // Phases: each its own test, named in the header, one after the other.
    ui.click("new-test-button").await;
    ui.choose("profile", "seq").await;
    assert!(ui.text("profile-note").await.contains("plain, short"));
    ui.click("start-button").await;
    ui.wait_state(&["spawning", "running"]).await;
    wait_stage(&ui, "phase 1/2: plain").await;
    let second = wait_stage(&ui, "phase 2/2: short").await;
    assert!(second.contains("stage"), "the phase's stage too: {second}");
    ui.wait_state(&["stopped"]).await;
    let log = ui.server_output();
    assert!(
        log.contains("Phase 1/2: plain") && log.contains("Phase 2/2: short"),
        "{log}"
    );
    ui.assert_no_js_errors().await;
    ui.close().await;
}

/// The project's own locust.toml: `--profile spike` without `--headless` serves the UI
/// (WebUi::start fails unless "Starting web interface" is logged) with spike chosen.
#[tokio::test]
async fn the_projects_spike_profile_opens_the_web_ui() {
    let mut ui = WebUi::start(&repo_root(), &["--demo", "--profile", "spike"]).await;
    let page = reqwest::get(&ui.url).await.unwrap().text().await.unwrap();
    assert!(page.contains(r#""profile":"spike""#), "spike is chosen");
    let test: Value = reqwest::get(format!("{}/test", ui.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(test["test"], Value::Null, "nothing runs before Start");
    assert_eq!(ui.signal_and_wait("INT").await, Some(0));
    assert!(
        !ui.stderr().contains("Shape test starting"),
        "{}",
        ui.stderr()
    );
}
