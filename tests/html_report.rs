//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed
//! by scripts/test.sh) loads the file offline, runs no failing script, and shows every
//! section and chart; a hostile target's header values and bodies stay text, and the
//! secrets the scenario sends never appear. Screenshots go to target/test-output/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::*;
use locust_demo_target::DemoConfig;

const SECTIONS: [&str; 10] = [
    "verdict",
    "run-metadata",
    "request-statistics",
    "response-time-statistics",
    "failures-statistics",
    "exceptions-statistics",
    "charts",
    "cache-analysis",
    "load-balancer-analysis",
    "task-ratios",
];
const CHARTS: [&str; 9] = [
    "rps",
    "response_times",
    "users",
    "cache_latency",
    "cache_ratio",
    "cache_latency_over_time",
    "instance_share",
    "instance_over_time",
    "instance_over_time",
];

/// The cache and load-balancer mix, plus a route that is always a 404.
fn mixed() -> String {
    cache_mix_scenario("Reader", 1)
        + "[[users.Reader.tasks]]\nname = \"missing\"\nrequest = { path = \"/nothing-here\" }\n"
}

const EVIL_SCENARIO: &str = r#"
[users.Evil]
wait_time = "constant(0.05)"
headers = { Authorization = "Bearer topsecret-token-123", Cookie = "session=cookiesecret456" }
[[users.Evil.tasks]]
name = "health"
request = { path = "/health" }
[[users.Evil.tasks]]
name = "echo"
request = { path = "/echo", name = "/echo <i>x</i>", checks = [{ json = "/status", equals = "ok" }] }
"#;

const HOSTILE_INSTANCE: &str = "<script>alert(1)</script>";

fn output_dir() -> PathBuf {
    let dir = repo_root().join("target/test-output");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs Chromium headless on a local file with the given mode flags; (stdout, stderr).
fn chromium(file: &Path, mode: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new("chromium");
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(mode)
        .arg(format!("file://{}", file.display()));
    let output = command
        .output()
        .expect("chromium runs (Debian package `chromium`; scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        text(&output.stderr)
    );
    (text(&output.stdout), text(&output.stderr))
}

fn assert_no_script_errors(stderr: &str) {
    for bad in [
        "Uncaught",
        "Refused to execute",
        "Refused to load",
        "CONSOLE(",
        "SyntaxError",
    ] {
        assert!(!stderr.contains(bad), "browser reported `{bad}`:\n{stderr}");
    }
}

/// Loads the report, checks the DOM, and writes a screenshot named `shot`.
fn render(file: &Path, shot: &str) -> String {
    let (dom, stderr) = chromium(file, &["--dump-dom"]);
    assert_no_script_errors(&stderr);
    let png = output_dir().join(shot);
    let _ = std::fs::remove_file(&png);
    let (_, stderr) = chromium(
        file,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,4000",
        ],
    );
    assert_no_script_errors(&stderr);
    assert!(
        std::fs::metadata(&png)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "no screenshot at {}",
        png.display()
    );
    // The page's one script ran to its end and counted every chart.
    assert!(
        dom.contains(&format!(r#"data-report-ready="{}""#, CHARTS.len() - 1)),
        "{dom}"
    );
    for id in SECTIONS {
        assert!(
            dom.contains(&format!(r#"id="{id}""#)),
            "section {id} missing"
        );
    }
    for chart in CHARTS {
        assert!(
            dom.contains(&format!(r#"data-chart="{chart}""#)),
            "chart {chart} missing"
        );
    }
    dom
}

#[tokio::test]
async fn the_report_renders_offline_with_every_section_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", &mixed());
    let server = demo_with(DemoConfig {
        service_time: Duration::from_millis(1),
        miss_penalty: Duration::from_millis(10),
        ..DemoConfig::default()
    })
    .await;
    let url = server.base_url();
    let output = run_headless(
        dir.path(),
        "s.toml",
        &url,
        &[
            "-u",
            "4",
            "-r",
            "2",
            "-t",
            "4s",
            "--html",
            "reports/run_{u}_{r}_{t}.html",
            "--report-json",
            "reports/run.json",
            "--criterion",
            "avg < 200",
            "--criterion",
            "error_rate < 1%",
            "--criterion",
            "cache.speedup > 2",
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    // GET /nothing-here is a 404: error_rate fails, so the criteria fail.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let file = dir.path().join("reports/run_4_2_4.html");
    let html = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert!(
        !html.contains("http://") || !html.contains("<script src"),
        "nothing loaded from the network"
    );
    assert!(!html.contains("<link"), "no external stylesheet");
    let dom = render(&file, "report.png");
    assert!(dom.contains(r#"data-verdict="fail""#));
    assert!(dom.contains("error_rate &lt; 1%"), "criteria are listed");
    assert!(dom.contains("HTTPError('404 Client Error: Not Found for url: /nothing-here')"));
    for text in [
        "Request Statistics",
        "Response Time Statistics",
        "Failures Statistics",
        "Exceptions Statistics",
        "Total Requests per Second",
        "Response Times (ms)",
        "Number of Users",
        "Ratio Per Class",
        "Total Ratio",
        "app1",
        "app2",
        "app3",
        "time since start (m:ss)",
    ] {
        assert!(dom.contains(text), "{text} missing");
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["verdict"]["status"], "fail");
    assert!(json["history"]["points"].as_array().unwrap().len() >= 3);
    assert_eq!(json["balance"]["instances"].as_array().unwrap().len(), 3);
}

/// A target that answers with markup in its headers and bodies, and echoes the
/// credentials it was sent.
async fn hostile_target() -> (String, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route(
            "/health",
            get(|| async {
                (
                    [
                        ("X-Instance-ID", HOSTILE_INSTANCE),
                        ("X-Cache", "<img src=x onerror=alert(2)>"),
                    ],
                    "ok",
                )
            }),
        )
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let cookie = headers
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                (
                    StatusCode::OK,
                    [("X-Instance-ID", "<b onmouseover=alert(4)>app</b>")],
                    format!("<img src=x onerror=alert(3)> you sent {auth} and {cookie}"),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test]
async fn a_hostile_target_stays_text_and_secrets_never_appear() {
    let (url, server) = hostile_target().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "evil.toml", EVIL_SCENARIO);
    let output = run_headless(
        dir.path(),
        "evil.toml",
        &url,
        &[
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "3s",
            "--html",
            "evil.html",
            "--report-json",
            "evil.json",
            "--csv",
            "evil",
            "--criterion",
            "balance.max_deviation < 50%",
            "--criterion",
            "error_rate == 0",
        ],
    )
    .await;
    server.abort();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let html = std::fs::read_to_string(dir.path().join("evil.html")).unwrap();
    let json = std::fs::read_to_string(dir.path().join("evil.json")).unwrap();
    for (name, body) in [("html", &html), ("json", &json)] {
        for secret in ["topsecret-token-123", "cookiesecret456"] {
            assert!(
                !body.contains(secret),
                "{secret} leaked into the {name} report"
            );
        }
        assert!(
            body.contains("[redacted]"),
            "the echoed credentials are redacted in {name}"
        );
    }
    // Locust's own console tables and CSV files print error strings as Locust does;
    // the verdict block, like the reports, is redacted.
    let verdict = &stderr[stderr.find("Success criteria:").unwrap()..];
    assert!(!verdict.contains("topsecret-token-123"), "{verdict}");
    // The markup arrives as text: escaped in the page source...
    assert!(!html.contains(HOSTILE_INSTANCE));
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b onmouseover"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    // ...and in the browser: no element was created from it, no script ran.
    let dom = render(&dir.path().join("evil.html"), "report-hostile.png");
    assert!(
        !dom.contains("<img"),
        "an <img> element was created from target data"
    );
    assert!(!dom.contains("<b onmouseover"));
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the instance id is shown as text"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=alert(3)&gt;"),
        "the error body is shown as text"
    );
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the report's own script"
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = parsed["balance"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&HOSTILE_INSTANCE),
        "the JSON keeps the raw value: {ids:?}"
    );
}

#[tokio::test]
async fn the_report_and_json_show_exact_percentiles_beside_locusts_buckets() {
    // Every request takes a little over 1189 ms: Locust's two digits say 1200.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.toml",
        "[users.Slow]\nwait_time = \"constant(0)\"\n[[users.Slow.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n",
    );
    let server = demo_with(DemoConfig {
        service_time: Duration::from_millis(1189),
        ..DemoConfig::default()
    })
    .await;
    let output = run_headless(
        dir.path(),
        "s.toml",
        &server.base_url(),
        &[
            "-u",
            "3",
            "-r",
            "3",
            "-t",
            "4s",
            "--html",
            "r.html",
            "--report-json",
            "r.json",
            "--csv",
            "r",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let total = json["response_times"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(total["name"], "Aggregated");
    for key in ["0.5", "0.9", "1"] {
        // Above 1000 ms Locust keeps two significant digits: a multiple of 100.
        let bucket = total["percentiles"][key].as_u64().unwrap();
        assert_eq!(bucket % 100, 0, "Locust's bucket stays: {total}");
        // The server's sleep is a floor no client-side figure can be under.
        let exact = total["exact_ms"][key].as_f64().unwrap();
        assert!(exact >= 1189.0 && exact % 100.0 != 0.0, "{key}: {exact}");
        assert!(
            (exact - bucket as f64).abs() <= 50.0,
            "{key}: {exact} vs {bucket}"
        );
    }
    // Locust's CSV keeps its rounding...
    let stats = std::fs::read_to_string(dir.path().join("r_stats.csv")).unwrap();
    let aggregated = stats.lines().find(|l| l.contains(",Aggregated,")).unwrap();
    let p50_csv = aggregated.split(',').nth(11).unwrap();
    assert_eq!(
        p50_csv,
        total["percentiles"]["0.5"].to_string(),
        "{aggregated}"
    );
    // ...the HTML report's percentile table shows the true values.
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    let table = &html[html.find("id=\"response-time-statistics\"").unwrap()..];
    let table = &table[..table.find("</section>").unwrap()];
    let p50 = json["response_times"][0]["exact_ms"]["0.5"]
        .as_f64()
        .unwrap();
    assert!(
        table.contains(&format!(">{}<", trim(p50))),
        "{p50} not in {table}"
    );
    let bucket = total["percentiles"]["0.5"].as_u64().unwrap();
    assert!(!table.contains(&format!(">{bucket}<")), "{table}");
    // The chart history is exact too.
    let points = json["history"]["points"].as_array().unwrap();
    let p50s: Vec<f64> = points.iter().filter_map(|p| p["p50"].as_f64()).collect();
    assert!(!p50s.is_empty(), "{points:?}");
    assert!(
        p50s.iter().all(|v| *v >= 1189.0 && v % 100.0 != 0.0),
        "{p50s:?}"
    );
}

/// The HTML report's number format: up to 2 decimals, trailing zeros dropped.
fn trim(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
