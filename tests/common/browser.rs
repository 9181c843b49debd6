//! Headless Chromium over WebDriver for tests that need a real browser: Debian's
//! `chromium` and `chromedriver` (package `chromium-driver`, installed by .ci/run and
//! scripts/test.sh), driven through `fantoccini`, on 127.0.0.1 only. chromedriver runs
//! in its own process group, which is killed with the browser when the test drops it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// How long the driver may take to answer or open a session.
const WAIT: Duration = Duration::from_secs(30);

/// chromedriver and its browsers; killed, as a group, on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless session whose profile
    /// lives in `dir`; `extra_args` go to Chromium.
    pub async fn start(dir: &Path, extra_args: &[&str]) -> Browser {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.join("chromedriver.log")).unwrap();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("chromedriver starts (package chromium-driver)");
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", dir.join("profile").display()),
        ];
        args.extend(extra_args.iter().map(|a| a.to_string()));
        let capabilities = json!({
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        Browser {
            client: connect_when_up(port, capabilities).await,
            driver,
        }
    }

    /// Runs `script` in the page and returns its value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }
}

async fn connect_when_up(
    port: u16,
    capabilities: serde_json::Map<String, serde_json::Value>,
) -> Client {
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        let builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.clone())
            .clone();
        match tokio::time::timeout(WAIT, builder.connect(&url)).await {
            Ok(Ok(client)) => return client,
            Ok(Err(e)) if start.elapsed() > WAIT => panic!("chromedriver opens no session: {e}"),
            Err(_) => panic!("chromedriver opens no session within {WAIT:?}"),
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0)): only what it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
