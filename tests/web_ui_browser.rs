//! The web UI in a real browser: Debian's headless `chromium`, driven over WebDriver by
//! `chromedriver` (package `chromium-driver`; scripts/test.sh installs both) through the
//! `fantoccini` crate. The binary runs in web mode against its built-in demo target; the
//! browser fills the start form, starts a run, watches the tables and charts update,
//! edits the user count, resets the statistics and stops the run; a hostile host and
//! request name stay text. Everything listens on 127.0.0.1 only, every wait is bounded,
//! and both processes die with the test (a Drop guard), whatever happens. Screenshots go
//! to target/test-output/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{cache_mix_scenario, repo_root, write, BIN};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long any one condition may take to come true.
const WAIT: Duration = Duration::from_secs(30);
/// How often a condition is checked.
const TICK: Duration = Duration::from_millis(200);

/// The browser tests share two cores: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

/// A process that is killed, with its whole process group, when the test lets go of it:
/// chromedriver's browsers live in chromedriver's group.
struct Killed {
    child: Child,
    what: &'static str,
    log: PathBuf,
}

impl Killed {
    fn spawn(what: &'static str, command: &mut Command, log: PathBuf) -> Killed {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
        Killed { child, what, log }
    }

    /// Panics with the process's output when it has already exited.
    fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}):\n{}",
                self.what,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let output = self.output();
            let from = output.char_indices().rev().nth(4000).map_or(0, |(i, _)| i);
            let tail = &output[from..];
            eprintln!("--- {} output (end) ---\n{tail}", self.what);
        }
        // The group id is the child's pid (process_group(0)): this reaches only what it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn output_dir() -> PathBuf {
    let dir = repo_root().join("target/test-output");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Polls `check` until it yields a value, for at most `WAIT`; panics naming `what`.
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(TICK).await;
    }
    panic!("timed out after {WAIT:?} waiting for {what}");
}

/// Waits until `url` answers 200, while `process` stays alive.
async fn wait_http(url: &str, process: &mut Killed) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < WAIT {
        process.assert_alive();
        if let Ok(response) = http.get(url).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(TICK).await;
    }
    panic!("{url} never answered:\n{}", process.output());
}

/// The binary in web mode against its demo target, and headless Chromium on the page.
struct Session {
    browser: Client,
    url: String,
    driver_port: u16,
    // Dropped in this order: the driver with its browser, the binary, the folder.
    _driver: Killed,
    _server: Killed,
    _dir: tempfile::TempDir,
}

impl Session {
    /// Starts the binary with `args` added; the page is at `base` (its --web-base-path).
    async fn start(scenario: &str, args: &[&str], base: &str) -> Session {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "s.toml", scenario);
        let web_port = free_port();
        let mut server = Killed::spawn(
            "locust-rs",
            Command::new(BIN)
                .args(["--demo", "-f", "s.toml", "--web-host", "127.0.0.1"])
                .args(["--web-port", &web_port.to_string()])
                .args(args)
                .current_dir(dir.path())
                .env_remove("LOCUST_HOST")
                .env_remove("LOCUST_USERS")
                .env_remove("LOCUST_HEADLESS"),
            dir.path().join("locust-rs.log"),
        );
        let url = format!("http://127.0.0.1:{web_port}{base}");
        wait_http(&url, &mut server).await;

        let driver_port = free_port();
        let mut driver = Killed::spawn(
            "chromedriver",
            Command::new("chromedriver")
                .arg(format!("--port={driver_port}"))
                .arg("--allowed-ips=127.0.0.1"),
            dir.path().join("chromedriver.log"),
        );
        wait_http(
            &format!("http://127.0.0.1:{driver_port}/status"),
            &mut driver,
        )
        .await;
        let browser = connect(driver_port, &dir.path().join("profile")).await;
        Session {
            browser,
            url,
            driver_port,
            _driver: driver,
            _server: server,
            _dir: dir,
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.browser
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn text(&self, id: &str) -> String {
        let value = self
            .js(&format!(
                "return document.getElementById('{id}').textContent"
            ))
            .await;
        value.as_str().unwrap_or_default().to_string()
    }

    async fn state(&self) -> String {
        let value = self
            .js("return document.getElementById('status').dataset.state")
            .await;
        value.as_str().unwrap_or_default().to_string()
    }

    async fn wait_state(&self, wanted: &[&str]) -> String {
        let what = format!("#status to show one of {wanted:?}");
        wait_for(&what, || async {
            let state = self.state().await;
            wanted.contains(&state.as_str()).then_some(state)
        })
        .await
    }

    async fn visible(&self, id: &str) -> bool {
        let script = format!(
            "const e = document.getElementById('{id}'); return !!e && e.getClientRects().length > 0"
        );
        self.js(&script).await.as_bool().unwrap_or(false)
    }

    async fn click(&self, id: &str) {
        let element = self
            .browser
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click #{id}: {e}"));
    }

    async fn click_tab(&self, tab: &str) {
        let button = self
            .browser
            .find(Locator::Css(&format!(".tabs button[data-tab='{tab}']")))
            .await
            .unwrap();
        button.click().await.unwrap();
    }

    async fn fill(&self, id: &str, value: &str) {
        let element = self.browser.find(Locator::Id(id)).await.unwrap();
        element.clear().await.unwrap();
        element.send_keys(value).await.unwrap();
    }

    /// The cells of #stats-table's rows, as text.
    async fn stats_rows(&self) -> Vec<Vec<String>> {
        let rows = self.js(STATS_ROWS_JS).await;
        serde_json::from_value(rows).unwrap_or_default()
    }

    /// # Requests of the Aggregated row (last, bold), when there is one.
    async fn aggregated_requests(&self) -> Option<u64> {
        let rows = self.stats_rows().await;
        let last = rows.last()?;
        (last.get(1)? == "Aggregated").then(|| last[2].parse().ok())?
    }

    async fn points(&self, chart: &str) -> usize {
        let script =
            format!("return document.getElementById('{chart}').getAttribute('data-points')");
        let value = self.js(&script).await;
        value.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    async fn screenshot(&self, name: &str, height: u32) {
        self.browser.set_window_size(1280, height).await.unwrap();
        let png = self.browser.screenshot().await.unwrap();
        assert!(png.len() > 10_000, "screenshot {name} is nearly empty");
        std::fs::write(output_dir().join(name), png).unwrap();
    }

    /// Browser console entries at level SEVERE (uncaught errors, failed loads).
    async fn severe_console_entries(&self) -> Vec<String> {
        let session = self.browser.session_id().await.unwrap().unwrap_or_default();
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/se/log",
            self.driver_port
        );
        let answer: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn assert_no_js_errors(&self) {
        let severe = self.severe_console_entries().await;
        assert!(severe.is_empty(), "the browser logged errors: {severe:#?}");
    }

    async fn close(self) {
        let _ = self.browser.close().await;
    }
}

async fn connect(driver_port: u16, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let builder = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .clone();
    tokio::time::timeout(
        WAIT,
        builder.connect(&format!("http://127.0.0.1:{driver_port}")),
    )
    .await
    .expect("chromedriver opens a session within 30 s")
    .expect("chromedriver opens a session")
}

/// Two user classes (the picker shows both, checked) that read cached and fresh users and
/// ask the load balancer for /health, so every chart has data.
fn scenario() -> String {
    cache_mix_scenario("Reader", 1) + &cache_mix_scenario("Prober", 2)
}

#[tokio::test]
async fn the_page_starts_edits_resets_and_stops_a_run_with_live_tables_and_charts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ui = Session::start(&scenario(), &[], "/").await;
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
        ui.aggregated_requests().await.filter(|n| *n > 0)
    })
    .await;
    let rows = ui.stats_rows().await;
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
    let first = ui.points("chart-rps").await;
    wait_for("two more points in the RPS chart", || async {
        (ui.points("chart-rps").await >= first + 2).then_some(())
    })
    .await;
    for chart in [
        "chart-response-times",
        "chart-users",
        "chart-cache",
        "chart-instances",
    ] {
        assert!(ui.points(chart).await >= first + 2, "{chart} grows too");
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
    let before = ui.aggregated_requests().await.unwrap_or(requests);
    ui.click("reset-button").await;
    wait_for("a lower request count after the reset", || async {
        ui.aggregated_requests().await.filter(|n| *n < before)
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
    let ui = Session::start(&hostile, &["--web-base-path", "/locust"], "/locust").await;
    ui.browser.goto(&ui.url).await.unwrap();
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
        let rows = ui.stats_rows().await;
        rows.into_iter()
            .find(|r| r.get(1).is_some_and(|n| n.contains("onerror")))
            .map(|r| r[1].clone())
    })
    .await;
    assert_eq!(name, HOSTILE_NAME, "the name shows as it is, as text");
    // One more poll so every table and chart legend has been drawn with the data.
    let points = ui.points("chart-rps").await;
    wait_for("one more poll", || async {
        (ui.points("chart-rps").await > points).then_some(())
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
