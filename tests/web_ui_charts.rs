//! The charts of the web UI read into, in headless Chromium (tests/common/web_ui.rs),
//! with the real mouse of WebDriver: hovering one chart shows a tooltip on every chart
//! at the same moment; dragging zooms every chart to that span and Reset zoom (or a
//! double click) goes back; Save PNG downloads the chart as a PNG twice its drawn size.
//! The live legends stay. A screenshot of the tooltip is saved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::cache_mix_scenario;
use common::web_ui::{wait_for, Setup, Ui, ONE_AT_A_TIME};
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use serde_json::{json, Value};

const CHARTS: [&str; 6] = [
    "chart-rps",
    "chart-response-times",
    "chart-users",
    "chart-cache",
    "chart-cache-latency",
    "chart-instances",
];

/// Per chart: the tooltip's lines (empty without one) and whether Reset zoom shows.
const CHART_STATE_JS: &str = "return Array.from(document.querySelectorAll('svg.chart')).map(svg => ({\
    id: svg.id,\
    tip: Array.from(svg.querySelectorAll('.tooltip text')).map(t => t.textContent),\
    reset: !svg.closest('.chart-box').querySelector('.reset-zoom').hidden,\
    ticks: Array.from(svg.querySelectorAll('text')).map(t => t.textContent).filter(t => /^\\d\\d:\\d\\d:\\d\\d$/.test(t))}))";

async fn chart_state(ui: &Ui) -> Vec<Value> {
    ui.js(CHART_STATE_JS).await.as_array().unwrap().clone()
}

/// Moves the mouse to `dx` pixels right of the chart's centre (at its plot's height).
fn move_to(element: &fantoccini::elements::Element, dx: f64) -> PointerAction {
    PointerAction::MoveToElement {
        element: element.clone(),
        duration: Some(Duration::from_millis(50)),
        x: dx,
        y: 10.0,
    }
}

#[tokio::test]
async fn charts_share_a_tooltip_zoom_together_and_save_as_png() {
    let _one = ONE_AT_A_TIME.lock().await;
    let scenario = cache_mix_scenario("Reader", 1);
    let ui = Ui::start(Setup {
        scenario: &scenario,
        project: None,
        args: &[],
    })
    .await;
    ui.goto(&ui.url).await;
    ui.wait_state(&["ready"]).await;
    ui.start_test("3", "3").await;
    ui.click_tab("charts").await;
    wait_for("four points on the charts", || async {
        let points = ui
            .js("return Number(document.getElementById('chart-rps').dataset.points)")
            .await;
        (points.as_u64().unwrap_or(0) >= 4).then_some(())
    })
    .await;

    // Hover: every chart shows the same moment.
    let rps = ui.browser.find(Locator::Id("chart-rps")).await.unwrap();
    let hover = MouseActions::new("mouse".into()).then(move_to(&rps, 150.0));
    ui.browser.perform_actions(hover).await.unwrap();
    let charts = wait_for("a tooltip on every chart", || async {
        let charts = chart_state(&ui).await;
        charts
            .iter()
            .all(|c| !c["tip"].as_array().unwrap().is_empty())
            .then_some(charts)
    })
    .await;
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, CHARTS);
    let moment = charts[0]["tip"][0].clone();
    assert!(
        moment.as_str().unwrap().len() == 8,
        "a clock time first: {moment}"
    );
    for chart in &charts {
        assert_eq!(
            chart["tip"][0], moment,
            "the same moment on {}",
            chart["id"]
        );
    }
    let rps_tip = charts[0]["tip"].to_string();
    assert!(
        rps_tip.contains("RPS: ") && rps_tip.contains("Failures/s: "),
        "{rps_tip}"
    );
    assert!(
        charts[2]["tip"].to_string().contains("Users: "),
        "{}",
        charts[2]
    );
    ui.screenshot("web_ui_tooltip.png", 1000).await;
    // The live legend stays, with the latest value.
    let legend = ui
        .js("return Array.from(document.querySelectorAll('#chart-users .legend text')).map(t => t.textContent)")
        .await;
    assert_eq!(legend, json!(["Users: 3"]));

    // Leaving the chart takes the tooltips away.
    let users = ui
        .browser
        .find(Locator::Id("user-count-value"))
        .await
        .unwrap();
    let away = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
        element: users,
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    ui.browser.perform_actions(away).await.unwrap();
    wait_for("no tooltip once the mouse left", || async {
        let charts = chart_state(&ui).await;
        charts
            .iter()
            .all(|c| c["tip"].as_array().unwrap().is_empty())
            .then_some(())
    })
    .await;

    // Drag across the middle of one chart: every chart zooms to that span.
    let before = chart_state(&ui).await[1]["ticks"].clone();
    let drag = MouseActions::new("mouse".into())
        .then(move_to(&rps, -200.0))
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(move_to(&rps, -60.0))
        .then(move_to(&rps, 60.0))
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    ui.browser.perform_actions(drag).await.unwrap();
    ui.browser.release_actions().await.unwrap();
    let zoomed = wait_for("Reset zoom on every chart", || async {
        let charts = chart_state(&ui).await;
        charts
            .iter()
            .all(|c| c["reset"] == json!(true))
            .then_some(charts)
    })
    .await;
    assert_ne!(
        zoomed[1]["ticks"], before,
        "the time axis changed: {before}"
    );
    let zoom = ui.js("return window.LocustCharts.view.zoom").await;
    let span = zoom[1].as_f64().unwrap() - zoom[0].as_f64().unwrap();
    assert!(span > 0.0, "{zoom}");
    // A poll later the zoom holds (the charts keep the span, new points or not).
    let points = ui
        .js("return Number(document.getElementById('chart-rps').dataset.points)")
        .await;
    wait_for("one more poll", || async {
        let now = ui
            .js("return Number(document.getElementById('chart-rps').dataset.points)")
            .await;
        (now.as_u64() > points.as_u64()).then_some(())
    })
    .await;
    assert_eq!(ui.js("return window.LocustCharts.view.zoom").await, zoom);
    ui.click_css("#tab-charts .chart-box:nth-of-type(2) .reset-zoom")
        .await;
    wait_for("no Reset zoom after a reset", || async {
        let charts = chart_state(&ui).await;
        charts
            .iter()
            .all(|c| c["reset"] == json!(false))
            .then_some(())
    })
    .await;
    assert_eq!(
        ui.js("return window.LocustCharts.view.zoom").await,
        Value::Null
    );

    // Save PNG: a real download, twice the chart's 900x280 drawing.
    ui.click_css("#tab-charts .chart-box:nth-of-type(3) .save-png")
        .await;
    let file = ui.downloads.join("locust-users.png");
    let png = wait_for("locust-users.png in the download folder", || async {
        std::fs::read(&file).ok().filter(|b| b.len() > 1000)
    })
    .await;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1800, 560));
    ui.click("stop-button").await;
    ui.wait_state(&["stopped"]).await;
    ui.assert_no_js_errors().await;
    ui.close().await;
}
