//! The binary in interactive mode: started without `--headless` on a free port
//! (`--web-port 0`), its URL read from the "Starting web interface at" log line, its
//! output kept for the test, and the process killed when the test drops it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

pub struct WebUi {
    pub url: String,
    child: Option<Child>,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

const MARKER: &str = "Starting web interface at ";

impl WebUi {
    /// Starts `locust-rs --web-port 0 <args>` in `cwd` and waits (up to 60 s) for the UI.
    pub async fn start(cwd: &Path, args: &[&str]) -> WebUi {
        let mut all = vec!["--web-port", "0"];
        all.extend_from_slice(args);
        let mut command = tokio::process::Command::new(super::BIN);
        command.args(all).current_dir(cwd);
        Self::start_command(command).await
    }

    /// Starts `command` (which ends up running locust-rs in UI mode, e.g. through
    /// load_test.sh) with piped output, and waits (up to 60 s) for the UI.
    pub async fn start_command(mut command: tokio::process::Command) -> WebUi {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the command starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (url_tx, url_rx) = tokio::sync::oneshot::channel();
        let err_pipe = child.stderr.take().unwrap();
        let kept = stderr.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(err_pipe);
            let mut url_tx = Some(url_tx);
            while let Some(line) = next_line(&mut reader).await {
                if let Some(rest) = line.split(MARKER).nth(1) {
                    if let Some(tx) = url_tx.take() {
                        let _ = tx.send(rest.trim().to_string());
                    }
                }
                let mut text = kept.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let out_pipe = child.stdout.take().unwrap();
        let kept_out = stdout.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(out_pipe);
            while let Some(line) = next_line(&mut reader).await {
                let mut text = kept_out.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let url = match tokio::time::timeout(Duration::from_secs(60), url_rx).await {
            Ok(Ok(url)) => url,
            _ => {
                let _ = child.start_kill();
                panic!(
                    "the web UI never started; stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        WebUi {
            url,
            child: Some(child),
            stderr,
            stdout,
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().and_then(Child::id).unwrap()
    }

    /// Sends `signal` (e.g. "INT") and waits up to 60 s for the exit; returns its code
    /// and gives the output readers a moment to drain.
    ///
    /// `kill` runs without blocking: a test's demo target usually shares this (one-thread)
    /// runtime, and the users the signal stops give a request in flight only 50 ms to be
    /// answered. Blocking here while `kill` ran (std's `status()`) stalled the target at
    /// that very moment; an answer it then built past the grace was counted by the
    /// target but abandoned by the binary, and "CSV total == what the target served"
    /// failed now and then (tests/web_api.rs, quitting_...).
    pub async fn signal_and_wait(&mut self, signal: &str) -> Option<i32> {
        let pid = self.pid().to_string();
        let status = tokio::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .await
            .unwrap();
        assert!(status.success());
        self.wait().await
    }

    /// Waits up to 60 s for the process to end by itself.
    pub async fn wait(&mut self) -> Option<i32> {
        let mut child = self.child.take().unwrap();
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("the process ends within 60 s")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        status.code()
    }
}

/// The next line, lossily decoded: a stray non-UTF-8 byte must not stop the reader
/// (a reader that stops closes the pipe, and the process's next write then fails).
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Option<String> {
    let mut bytes = Vec::new();
    match reader.read_until(b'\n', &mut bytes).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(String::from_utf8_lossy(&bytes).trim_end().to_string()),
    }
}

impl Drop for WebUi {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}
