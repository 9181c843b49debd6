//! `--master`: this process runs no users; workers (locust-rs or Python Locust) connect
//! over Locust's protocol (§9) and run them. The master binds its ROUTER, keeps the
//! table of workers (`nodes`), and runs the loop (`hub`) that answers them, deals each
//! ramp step's users over them through the session's remote runner, and merges their
//! `stats` into the session of the test in progress, whose sinks (console, CSV files,
//! reports, criteria) are a local run's.

mod hub;
mod nodes;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::distributed::MasterSettings;
use crate::logging::MAIN;
use crate::protocol::router;
use crate::session::{Session, Workers};

/// What the drivers ask of the hub besides placements.
pub(crate) enum Control {
    /// `quit` to every worker, wait for their last reports, close the socket.
    Quit(oneshot::Sender<()>),
}

/// One worker as the web UI lists it (Locust's `workers` rows of `/stats/requests`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkerInfo {
    pub id: String,
    pub state: String,
    pub user_count: u64,
    pub cpu_usage: f64,
    pub memory_usage: u64,
}

/// A running master: hand `workers()` to a session, `attach` it, `quit` at the end.
pub struct Master {
    active: watch::Receiver<Vec<String>>,
    info: watch::Receiver<Vec<WorkerInfo>>,
    placements: mpsc::UnboundedSender<Placement>,
    session: watch::Sender<Option<Arc<Session>>>,
    control: mpsc::Sender<Control>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

use locust_engine::Placement;

impl Master {
    /// Binds the master's socket and starts answering workers. `headless`: the
    /// runner's stop tells workers `quit` (the process ends), else `stop` (they wait
    /// for the next test). `host` and `stop_timeout` go in every `spawn`.
    pub fn start(
        settings: &MasterSettings,
        headless: bool,
        host: Option<String>,
        stop_timeout: Duration,
    ) -> Result<Master, String> {
        let server = router::bind(&settings.bind_host, settings.bind_port)?;
        tracing::info!(target: MAIN, "Master listening for workers at {}", server.endpoint);
        let (active_tx, active) = watch::channel(Vec::new());
        let (info_tx, info) = watch::channel(Vec::new());
        let (placements, placements_rx) = mpsc::unbounded_channel();
        let (session, session_rx) = watch::channel(None);
        let (control, control_rx) = mpsc::channel(4);
        let hub = hub::Hub {
            server,
            nodes: nodes::Nodes::default(),
            active: active_tx,
            info: info_tx,
            placements: placements_rx,
            control: control_rx,
            session: session_rx,
            stop_word: if headless { "quit" } else { "stop" },
            host,
            stop_timeout,
            stopping: None,
            last_spawn: 0.0,
            last_state: None,
            asked_to_reconnect: Default::default(),
        };
        let task = tokio::spawn(hub.run());
        Ok(Master {
            active,
            info,
            placements,
            session,
            control,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// What a session's runner needs to place users on this master's workers.
    pub fn workers(&self) -> Workers {
        Workers {
            ready: self.active.clone(),
            placements: self.placements.clone(),
        }
    }

    /// The session whose figures the workers' reports go to from now on.
    pub fn attach(&self, session: Arc<Session>) {
        self.session.send_replace(Some(session));
    }

    /// The workers connected, as the web UI lists them.
    pub fn worker_info(&self) -> Vec<WorkerInfo> {
        self.info.borrow().clone()
    }

    /// Workers connected and not missing.
    pub fn ready_count(&self) -> usize {
        self.active.borrow().len()
    }

    /// Waits until `expected` workers are connected (logging the count each second,
    /// as Locust does), or `max_wait` has passed: false then.
    pub async fn wait_for_workers(&self, expected: u64, max_wait: Option<Duration>) -> bool {
        let started = tokio::time::Instant::now();
        let mut active = self.active.clone();
        loop {
            let connected = active.borrow_and_update().len() as u64;
            if connected >= expected {
                return true;
            }
            if max_wait.is_some_and(|limit| started.elapsed() > limit) {
                tracing::error!(target: MAIN, "Gave up waiting for workers to connect");
                return false;
            }
            if started.elapsed() > Duration::from_secs(5) {
                tracing::info!(target: MAIN, "Waiting for workers to be ready, {connected} of {expected} connected");
            } else {
                tracing::debug!(target: MAIN, "Waiting for workers to be ready, {connected} of {expected} connected");
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), active.changed()).await;
        }
    }

    /// Tells every worker to quit, waits (bounded) for their last reports, and closes.
    pub async fn quit(&self) {
        let (done, wait) = oneshot::channel();
        if self.control.send(Control::Quit(done)).await.is_ok() {
            let _ = wait.await;
        }
        let task = locust_stats::lock(&self.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
