//! `--worker`: this process joins a Locust master (Python Locust 2.x or locust-rs) over
//! Locust's protocol (§9): `client_ready`/`ack`, a heartbeat every second, `spawn` →
//! `spawning` → `spawning_complete` with the users per class set at once, a `stats`
//! delta every 3 s in Locust's wire form, `stop` → `client_stopped` → `client_ready`,
//! `quit` → last `stats` → `quit`. Each test (first spawn to stop) is one `Session`.

mod process;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use locust_scenario::{RunSteps, UserClass};
use locust_stats::{epoch_now, CacheRole, Stats};
use rmpv::Value;
use tokio::time::Instant;

use crate::config::Settings;
use crate::logging::MAIN;
use crate::outcome::StopReason;
use crate::protocol::dealer as transport;
use crate::protocol::message::{field, map, Message};
use crate::protocol::PROTOCOL_VERSION;
use crate::session::{Command, Session};
use crate::sinks::console::Console;
use crate::sinks::Periodic;

const HEARTBEAT: Duration = Duration::from_secs(1);
const REPORT: Duration = Duration::from_secs(3);
/// Locust's WORKER_LOG_REPORT_INTERVAL, and the most lines one `logs` message carries
/// (Locust stops sending past 70 new lines in one interval; this sends the last 70).
const LOGS: Duration = Duration::from_secs(10);
const MAX_LOG_LINES: usize = 70;
/// The most `exception` messages one report sends for one traceback.
const MAX_EXCEPTION_MESSAGES: u64 = 100;
/// Locust's MASTER_HEARTBEAT_TIMEOUT.
const MASTER_SILENCE: Duration = Duration::from_secs(60);
/// Locust's CONNECT_TIMEOUT and CONNECT_RETRY_COUNT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_RETRIES: u32 = 60;
/// Locust's exit code when the master cannot be reached.
pub const EXIT_NO_MASTER: i32 = 255;

/// Where the master is.
pub struct MasterAddr {
    pub host: String,
    pub port: u16,
}

/// What a worker needs of the run's plan.
pub struct WorkerPlan {
    pub settings: Settings,
    pub classes: Vec<Arc<UserClass>>,
    pub run_steps: Vec<RunSteps>,
    pub cache: CacheRole,
}

struct Worker {
    plan: WorkerPlan,
    node_id: String,
    endpoint: String,
    link: transport::Link,
    session: Option<Arc<Session>>,
    state: &'static str,
    last_spawn: f64,
    heard_master: Instant,
    /// Log lines already sent to the master.
    logs_sent: u64,
}

/// Runs the worker until the master says `quit`, goes silent, or a signal comes.
pub async fn run(plan: WorkerPlan, master: &MasterAddr) -> anyhow::Result<i32> {
    let node_id = format!("{}_{}", hostname(), uuid::Uuid::new_v4().simple());
    let endpoint = format!("tcp://{}:{}", master.host, master.port);
    let link = transport::connect(&endpoint, &node_id).map_err(anyhow::Error::msg)?;
    let mut worker = Worker {
        plan,
        node_id,
        endpoint: endpoint.clone(),
        link,
        session: None,
        state: "ready",
        last_spawn: f64::NEG_INFINITY,
        heard_master: Instant::now(),
        logs_sent: 0,
    };
    if !worker.handshake(&endpoint).await {
        worker.link.close().await;
        return Ok(EXIT_NO_MASTER);
    }
    let code = worker.serve().await;
    worker.link.close().await;
    code
}

impl Worker {
    fn send(&self, kind: &str, data: Value) {
        let _ = self
            .link
            .outgoing
            .send(Message::new(kind, data, &self.node_id).encode());
    }

    /// `client_ready` until an `ack` comes: every 5 s, 60 times, as Locust's worker.
    async fn handshake(&mut self, endpoint: &str) -> bool {
        match handshake(&mut self.link, &self.node_id).await {
            Some(index) => {
                self.heard_master = Instant::now();
                tracing::info!(target: MAIN, "Connected to the master at {endpoint} as {} (index {index})", self.node_id);
                true
            }
            None => {
                tracing::error!(target: MAIN, "Failed to connect to the Locust master: no answer from {endpoint} after {CONNECT_RETRIES} tries");
                false
            }
        }
    }

    async fn serve(&mut self) -> anyhow::Result<i32> {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut report = tokio::time::interval(REPORT);
        let mut logs = tokio::time::interval(LOGS);
        let mut cpu = process::CpuMeter::new();
        let interrupted = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = crate::signals::sigterm() => {}
            }
        };
        tokio::pin!(interrupted);
        loop {
            tokio::select! {
                frame = self.link.incoming.recv() => {
                    let Some(frame) = frame else { break };
                    match Message::decode(&frame) {
                        Ok(m) => {
                            if let Some(code) = self.handle(m).await {
                                return Ok(code);
                            }
                        }
                        Err(e) => tracing::warn!(target: MAIN, "Dropped a message from the master that is not Locust's: {e}"),
                    }
                }
                _ = heartbeat.tick() => {
                    if self.heard_master.elapsed() > MASTER_SILENCE {
                        tracing::error!(target: MAIN, "Didn't get heartbeat from master in over {}s, quitting", MASTER_SILENCE.as_secs());
                        self.stop_test().await;
                        self.send("quit", Value::Nil);
                        return Ok(crate::exit::SCENARIO_ERROR);
                    }
                    self.send("heartbeat", map([
                        ("state", Value::from(self.state)),
                        ("current_cpu_usage", Value::from(cpu.sample())),
                        ("current_memory_usage", Value::from(process::rss_bytes())),
                    ]));
                }
                _ = report.tick() => self.report(),
                _ = logs.tick() => self.send_logs(),
                _ = &mut interrupted => {
                    tracing::info!(target: MAIN, "Shutting down: telling the master this worker quits");
                    self.stop_test().await;
                    self.send("quit", Value::Nil);
                    return Ok(crate::exit::OK);
                }
            }
        }
        Ok(crate::exit::OK)
    }

    /// Answers one message; Some(exit code) when the worker is to exit.
    async fn handle(&mut self, m: Message) -> Option<i32> {
        self.heard_master = Instant::now();
        match m.kind.as_str() {
            "spawn" => self.spawn(&m.data).await,
            "stop" => {
                self.stop_test().await;
                self.send("client_stopped", Value::Nil);
                self.send("client_ready", Value::from(PROTOCOL_VERSION));
            }
            "quit" => {
                tracing::info!(target: MAIN, "Got quit message from master, shutting down...");
                self.stop_test().await;
                self.send("quit", Value::Nil);
                return Some(crate::exit::OK);
            }
            "heartbeat" | "ack" | "spawning_complete" => {}
            "reconnect" => self.reconnect().await,
            other => tracing::debug!(target: MAIN, "Ignored the master's message {other:?}"),
        }
        None
    }

    /// `reconnect`: a new socket, and `client_ready` on it (the test in progress, if
    /// any, goes on; the master counts its users again from the next reports).
    async fn reconnect(&mut self) {
        tracing::warn!(target: MAIN, "The master asked this worker to reconnect");
        // The old socket goes first: a ROUTER without handover ignores a second
        // connection under the same identity while the first is up.
        let old = std::mem::replace(&mut self.link, transport::Link::closed());
        old.close().await;
        match transport::connect(&self.endpoint, &self.node_id) {
            Ok(link) => {
                self.link = link;
                self.send("client_ready", Value::from(PROTOCOL_VERSION));
            }
            Err(e) => tracing::error!(target: MAIN, "Reconnecting failed: {e}"),
        }
    }

    async fn spawn(&mut self, data: &Value) {
        self.send("spawning", Value::Nil);
        let timestamp = field(data, "timestamp").as_f64().unwrap_or(0.0);
        if timestamp <= self.last_spawn {
            tracing::warn!(target: MAIN, "Discarded a spawn message older than the last one");
            return;
        }
        self.last_spawn = timestamp;
        let counts = self.class_counts(field(data, "user_classes_count"));
        self.state = "spawning";
        if self.session.is_none() {
            let host = field(data, "host").as_str().map(str::to_string);
            // The master's --stop-timeout, as a Locust worker takes it.
            let stop_timeout = field(data, "stop_timeout")
                .as_f64()
                .or_else(|| field(data, "stop_timeout").as_u64().map(|s| s as f64))
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
            match self.start_session(host, stop_timeout).await {
                Ok(session) => self.session = Some(session),
                Err(e) => {
                    tracing::error!(target: MAIN, "Cannot start the test: {e:#}");
                    self.exception(&format!("{e:#}"));
                    self.state = "ready";
                    return;
                }
            }
        }
        let Some(session) = &self.session else { return };
        session.apply(Command::SetCounts(counts.clone())).await;
        let status = session.status();
        self.state = "running";
        self.send(
            "spawning_complete",
            map([
                ("user_classes_count", counts_value(&status.class_counts)),
                ("user_count", Value::from(status.user_count)),
            ]),
        );
    }

    /// The master's users per class; a class the scenarios do not define is an error
    /// on both sides (logged here, an exception on the master).
    fn class_counts(&self, wanted: &Value) -> BTreeMap<String, u64> {
        let known: Vec<&str> = self.plan.classes.iter().map(|c| c.name.as_str()).collect();
        let mut counts: BTreeMap<String, u64> = known.iter().map(|n| (n.to_string(), 0)).collect();
        for (name, n) in wanted.as_map().into_iter().flatten() {
            let (Some(name), Some(n)) = (name.as_str(), n.as_u64()) else {
                continue;
            };
            match counts.get_mut(name) {
                Some(slot) => *slot = n,
                None if n > 0 => {
                    let text = format!(
                        "The master asked for {n} users of class {name:?}, which this worker's scenarios do not define (they define {})",
                        known.join(", ")
                    );
                    tracing::error!(target: MAIN, "{text}");
                    self.exception(&text);
                }
                None => {}
            }
        }
        counts
    }

    fn exception(&self, text: &str) {
        self.send(
            "exception",
            map([
                ("msg", Value::from(text)),
                (
                    "traceback",
                    Value::from(format!("locust-rs worker {}: {text}", self.node_id)),
                ),
            ]),
        );
    }

    async fn start_session(
        &self,
        host: Option<String>,
        stop_timeout: Option<Duration>,
    ) -> anyhow::Result<Arc<Session>> {
        let settings = &self.plan.settings;
        let mut spec = settings.spec.clone();
        if let Some(stop_timeout) = stop_timeout {
            spec.stop_timeout = stop_timeout;
        }
        spec.users = 0;
        spec.stages = None;
        spec.arrival = None;
        spec.run_time = None;
        // The master's host wins when it sends one, as a Locust worker takes it; the
        // worker's own (-H, its config) serves a master that sends none.
        if host.is_some() {
            spec.host = host;
        }
        let periodic = Periodic::new(Console::new(settings), None);
        Session::start(
            spec,
            self.plan.classes.clone(),
            &self.plan.run_steps,
            periodic,
            self.plan.cache.clone(),
            false,
            None,
        )
        .await
    }

    /// The delta since the last report, and this worker's users.
    fn report(&self) {
        let (delta, classes, users) = match &self.session {
            Some(session) => {
                let status = session.status();
                (session.take_delta(), status.class_counts, status.user_count)
            }
            None => (Stats::new(epoch_now(), false), self.zero_counts(), 0),
        };
        let data = locust_stats::report::wire::stats_data(
            &delta,
            classes.iter().map(|(k, v)| (k.as_str(), *v)),
            users,
        );
        self.send("stats", data);
        // Locust's worker sends each task exception at once, one message per
        // occurrence; these are the ones recorded since the last report.
        for exc in delta.exceptions() {
            for _ in 0..exc.count.min(MAX_EXCEPTION_MESSAGES) {
                self.send(
                    "exception",
                    map([
                        ("msg", Value::from(exc.msg.as_str())),
                        ("traceback", Value::from(exc.traceback.as_str())),
                    ]),
                );
            }
        }
    }

    /// The log lines written since the last `logs` message, if any.
    fn send_logs(&mut self) {
        let (lines, total) = crate::log_buffer::since(self.logs_sent, MAX_LOG_LINES);
        self.logs_sent = total;
        if lines.is_empty() {
            return;
        }
        let lines = lines.into_iter().map(Value::from).collect();
        self.send(
            "logs",
            map([
                ("worker_id", Value::from(self.node_id.as_str())),
                ("logs", Value::Array(lines)),
            ]),
        );
    }

    fn zero_counts(&self) -> BTreeMap<String, u64> {
        self.plan
            .classes
            .iter()
            .map(|c| (c.name.clone(), 0))
            .collect()
    }

    /// Ends the test in progress (if any) and reports what it recorded last.
    async fn stop_test(&mut self) {
        if let Some(session) = &self.session {
            session.finish(StopReason::Stopped).await;
            self.report();
        }
        self.session = None;
        self.state = "ready";
    }
}

/// Sends `client_ready` on `link` every `CONNECT_TIMEOUT` until an `ack` arrives (its
/// index), at most `CONNECT_RETRIES` times; None when none came or the link closed.
async fn handshake(link: &mut transport::Link, node_id: &str) -> Option<Value> {
    for _ in 0..CONNECT_RETRIES {
        let ready = Message::new("client_ready", Value::from(PROTOCOL_VERSION), node_id);
        let _ = link.outgoing.send(ready.encode());
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            let frame = tokio::select! {
                frame = link.incoming.recv() => frame,
                _ = tokio::time::sleep_until(deadline) => break,
            };
            let frame = frame?;
            if let Ok(m) = Message::decode(&frame) {
                if m.kind == "ack" {
                    return Some(field(&m.data, "index").clone());
                }
            }
        }
    }
    None
}

fn counts_value(counts: &BTreeMap<String, u64>) -> Value {
    Value::Map(
        counts
            .iter()
            .map(|(k, v)| (Value::from(k.as_str()), Value::from(*v)))
            .collect(),
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link whose master never answers: what the worker sends is kept in `sent`.
    fn silent_link() -> (
        transport::Link,
        std::sync::mpsc::Receiver<Vec<u8>>,
        tokio::sync::mpsc::Sender<Vec<u8>>,
    ) {
        let (outgoing, sent) = std::sync::mpsc::channel();
        let (answers, incoming) = tokio::sync::mpsc::channel(4);
        (
            transport::Link::from_channels(incoming, outgoing),
            sent,
            answers,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_master_that_never_answers_gets_60_tries_5_s_apart() {
        let (mut link, sent, _answers) = silent_link();
        let started = Instant::now();
        assert_eq!(handshake(&mut link, "w_1").await, None);
        assert_eq!(started.elapsed(), CONNECT_TIMEOUT * CONNECT_RETRIES);
        let tries: Vec<Message> = sent
            .try_iter()
            .map(|f| Message::decode(&f).unwrap())
            .collect();
        assert_eq!(tries.len(), 60);
        assert!(tries
            .iter()
            .all(|m| m.kind == "client_ready" && m.node_id == "w_1"));
        // `run` turns this into Locust's exit code.
        assert_eq!(EXIT_NO_MASTER, 255);
    }

    #[tokio::test(start_paused = true)]
    async fn an_ack_after_some_silence_connects() {
        let (mut link, sent, answers) = silent_link();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(12)).await;
            let junk = vec![0xc1];
            answers.send(junk).await.unwrap();
            let ack = Message::new("ack", map([("index", Value::from(4))]), "w_1");
            answers.send(ack.encode()).await.unwrap();
        });
        assert_eq!(handshake(&mut link, "w_1").await, Some(Value::from(4)));
        assert_eq!(sent.try_iter().count(), 3, "at 0, 5 and 10 s");
    }
}
