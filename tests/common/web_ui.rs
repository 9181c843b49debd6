//! The web UI driven in headless Chromium, for the tests/web_ui_*.rs files: the binary
//! in web mode against its demo target (`--demo`) in a temporary folder that may hold a
//! `locust.toml`, chromedriver with a session whose downloads land in that folder, and
//! helpers to read the page, wait for a condition (polled, with a bounded deadline:
//! never a fixed sleep as an assertion), send Chrome DevTools commands (to emulate a
//! dark system theme) and save screenshots under `target/test-output/screenshots/`.
//! Every process runs in its own process group and is killed with it on drop.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long any one condition may take to come true.
pub const WAIT: Duration = Duration::from_secs(30);
const TICK: Duration = Duration::from_millis(150);

/// The browser tests of one file share two cores: one at a time.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A process killed with its whole group when dropped (chromedriver's browsers too).
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

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
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
            eprintln!("--- {} output (end) ---\n{}", self.what, &output[from..]);
        }
        // The group id is the child's pid (process_group(0)): only what it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the screenshots go (printed once per saved file).
pub fn screenshot_dir() -> PathBuf {
    let dir = super::repo_root().join("target/test-output/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Polls `check` until it yields a value, for at most `WAIT`; panics naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
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

/// What a test starts: the scenario file, an optional locust.toml, extra arguments.
#[derive(Default)]
pub struct Setup<'a> {
    pub scenario: &'a str,
    pub project: Option<&'a str>,
    pub args: &'a [&'a str],
}

/// The binary in web mode and headless Chromium.
pub struct Ui {
    pub browser: Client,
    /// The page's address (http://127.0.0.1:PORT/).
    pub url: String,
    pub port: u16,
    pub downloads: PathBuf,
    driver_port: u16,
    // Dropped in this order: the driver with its browser, the binary, the folder.
    driver: Killed,
    server: Killed,
    pub dir: tempfile::TempDir,
}

impl Ui {
    pub async fn start(setup: Setup<'_>) -> Ui {
        let dir = tempfile::tempdir().unwrap();
        super::write(dir.path(), "s.toml", setup.scenario);
        if let Some(project) = setup.project {
            super::write(dir.path(), "locust.toml", project);
        }
        let port = free_port();
        let mut command = Command::new(super::BIN);
        command
            .args(["--demo", "-f", "s.toml", "--web-host", "127.0.0.1"])
            .args(["--web-port", &port.to_string()])
            .args(setup.args)
            .current_dir(dir.path());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("LOCUST_")) {
            command.env_remove(key);
        }
        let mut server = Killed::spawn("locust-rs", &mut command, dir.path().join("locust-rs.log"));
        let url = format!("http://127.0.0.1:{port}/");
        // Up once it answers at all (401 with --web-auth is an answer).
        wait_up(&url, &mut server).await;
        let driver_port = free_port();
        let mut driver = Killed::spawn(
            "chromedriver",
            Command::new("chromedriver")
                .arg(format!("--port={driver_port}"))
                .arg("--allowed-ips=127.0.0.1"),
            dir.path().join("chromedriver.log"),
        );
        wait_up(
            &format!("http://127.0.0.1:{driver_port}/status"),
            &mut driver,
        )
        .await;
        let downloads = dir.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let browser = connect(driver_port, &dir.path().join("profile"), &downloads).await;
        Ui {
            browser,
            url,
            port,
            downloads,
            driver_port,
            driver,
            server,
            dir,
        }
    }

    /// The binary's output so far.
    pub fn server_output(&self) -> String {
        self.server.output()
    }

    pub fn server_alive(&mut self) -> bool {
        self.server.alive()
    }

    pub async fn goto(&self, url: &str) {
        self.browser.goto(url).await.unwrap();
    }

    pub async fn js(&self, script: &str) -> Value {
        self.browser
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs an async script: it gets `done` as its last argument.
    pub async fn js_async(&self, script: &str) -> Value {
        self.browser
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    pub async fn text(&self, id: &str) -> String {
        let script =
            format!("const e = document.getElementById('{id}'); return e ? e.textContent : ''");
        self.js(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn value(&self, id: &str) -> String {
        let script = format!("return document.getElementById('{id}').value");
        self.js(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn state(&self) -> String {
        self.text("status").await.to_lowercase()
    }

    pub async fn wait_state(&self, wanted: &[&str]) -> String {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            let state = self.state().await;
            if wanted.contains(&state.as_str()) {
                return state;
            }
            tokio::time::sleep(TICK).await;
        }
        let (form, banner) = (
            self.text("form-message").await,
            self.text("connection").await,
        );
        panic!("#status never showed one of {wanted:?} (form: {form:?}; banner: {banner:?})");
    }

    pub async fn visible(&self, id: &str) -> bool {
        let script = format!(
            "const e = document.getElementById('{id}'); return !!e && e.getClientRects().length > 0"
        );
        self.js(&script).await.as_bool().unwrap_or(false)
    }

    pub async fn click(&self, id: &str) {
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

    pub async fn click_css(&self, css: &str) {
        let element = self
            .browser
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn click_tab(&self, tab: &str) {
        self.click_css(&format!(".tabs button[data-tab='{tab}']"))
            .await;
    }

    pub async fn fill(&self, id: &str, value: &str) {
        let element = self.browser.find(Locator::Id(id)).await.unwrap();
        element.clear().await.unwrap();
        element.send_keys(value).await.unwrap();
    }

    /// Picks `value` in the <select id=id> as a user would (the change event fires).
    pub async fn choose(&self, id: &str, value: &str) {
        let select = self.browser.find(Locator::Id(id)).await.unwrap();
        select.select_by_value(value).await.unwrap();
    }

    /// Starts a test from the form, waiting until it runs.
    pub async fn start_test(&self, users: &str, rate: &str) {
        self.fill("user_count", users).await;
        self.fill("spawn_rate", rate).await;
        self.click("start-button").await;
        self.wait_state(&["spawning", "running"]).await;
    }

    /// A PNG of the window, saved as `name` under the screenshot folder.
    pub async fn screenshot(&self, name: &str, height: u32) -> PathBuf {
        self.browser.set_window_size(1280, height).await.unwrap();
        let png = self.browser.screenshot().await.unwrap();
        assert!(png.len() > 10_000, "screenshot {name} is nearly empty");
        let path = screenshot_dir().join(name);
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// A Chrome DevTools Protocol command, through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.browser.session_id().await.unwrap().unwrap_or_default();
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            self.driver_port
        );
        let answer: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(answer["value"].get("error").is_none(), "{cmd}: {answer}");
        answer["value"].clone()
    }

    /// Browser console entries at level SEVERE (uncaught errors, failed fetches).
    pub async fn severe_console_entries(&self) -> Vec<String> {
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

    pub async fn assert_no_js_errors(&self) {
        let severe = self.severe_console_entries().await;
        assert!(severe.is_empty(), "the browser logged errors: {severe:#?}");
    }

    pub async fn close(self) {
        let _ = self.browser.clone().close().await;
    }
}

async fn wait_up(url: &str, process: &mut Killed) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < WAIT {
        assert!(
            process.alive(),
            "{} exited:\n{}",
            process.what,
            process.output()
        );
        if http.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(TICK).await;
    }
    panic!("{url} never answered:\n{}", process.output());
}

async fn connect(driver_port: u16, profile: &Path, downloads: &Path) -> Client {
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
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
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
