//! The master's loop: every frame from the ROUTER socket (Locust's message table §9.3,
//! answered as Locust's master answers), every placement of the session's runner
//! (`spawn` per worker, `stop`/`quit` to all), and a liveness tick each second.
//! Workers' `stats` merge into the session attached for the test in progress.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use locust_engine::log_targets::RUNNERS;
use locust_engine::{Placement, RunState};
use locust_stats::epoch_now;
use locust_stats::report::wire_read::report_from_value;
use rmpv::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::nodes::{Nodes, State};
use super::Control;
use crate::outcome::StopReason;
use crate::protocol::message::{field, map, Message};
use crate::protocol::router::{Incoming, Server};
use crate::protocol::PROTOCOL_VERSION;
use crate::session::Session;

/// Locust's HEARTBEAT_INTERVAL: the liveness loop's period.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Beyond the stop timeout, how long a stop waits for workers to confirm (Locust: 60 s).
const STOP_GRACE: Duration = Duration::from_secs(60);
/// How long `quit` waits for workers' last reports and `quit`s.
const QUIT_GRACE: Duration = Duration::from_secs(5);
/// How often an unknown worker's heartbeats get it a `reconnect`.
const RECONNECT_EVERY: Duration = Duration::from_secs(5);

/// What the test in progress is told by the hub.
pub(super) struct Hub {
    pub server: Server,
    pub nodes: Nodes,
    pub active: watch::Sender<Vec<String>>,
    pub info: watch::Sender<Vec<super::WorkerInfo>>,
    pub placements: mpsc::UnboundedReceiver<Placement>,
    pub control: mpsc::Receiver<Control>,
    pub session: watch::Receiver<Option<Arc<Session>>>,
    /// `quit` (a headless master) or `stop` (the web UI's) when the runner stops.
    pub stop_word: &'static str,
    /// The spawn message's `host` and `stop_timeout`.
    pub host: Option<String>,
    pub stop_timeout: Duration,
    /// Workers a stop waits for, and who to tell when they all confirmed.
    pub stopping: Option<Stopping>,
    /// The last `spawn` timestamp sent: each is later than the one before.
    pub last_spawn: f64,
    /// The session state at the last tick (to broadcast `spawning_complete` once).
    pub last_state: Option<RunState>,
    /// Unknown workers asked to reconnect, and when (see `adopt`).
    pub asked_to_reconnect: HashMap<String, Instant>,
}

pub(super) struct Stopping {
    waiting: BTreeSet<String>,
    done: Option<oneshot::Sender<()>>,
    deadline: Instant,
}

impl Hub {
    pub async fn run(mut self) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut placements_open = true;
        loop {
            tokio::select! {
                incoming = self.server.incoming.recv() => match incoming {
                    Some(incoming) => self.receive(incoming),
                    None => break,
                },
                placement = self.placements.recv(), if placements_open => match placement {
                    Some(placement) => self.place(placement),
                    None => placements_open = false,
                },
                control = self.control.recv() => match control {
                    Some(Control::Quit(done)) => {
                        self.quit_all().await;
                        let _ = done.send(());
                        break;
                    }
                    None => break,
                },
                _ = heartbeat.tick() => self.tick(),
            }
        }
        self.server.close().await;
    }

    fn send(&self, id: &str, kind: &str, data: Value) {
        self.server.send(id, Message::new(kind, data, id).encode());
    }

    fn publish_info(&self) {
        let info = self.nodes.info();
        self.info.send_if_modified(|now| {
            if *now == info {
                false
            } else {
                *now = info;
                true
            }
        });
    }

    fn publish_active(&self) {
        self.publish_info();
        let active = self.nodes.active();
        self.active.send_if_modified(|now| {
            if *now == active {
                false
            } else {
                *now = active;
                true
            }
        });
    }

    fn session(&self) -> Option<Arc<Session>> {
        self.session.borrow().clone()
    }

    fn receive(&mut self, incoming: Incoming) {
        let id = incoming.identity;
        let message = incoming.payload.and_then(|frame| Message::decode(&frame));
        match message {
            Ok(message) => self.handle(&id, message),
            Err(e) if self.nodes.get(&id).is_some() => {
                tracing::error!(target: RUNNERS, "RPCError when receiving from client: {e}. Will reset client {id}.");
                self.send(&id, "reconnect", Value::Nil);
            }
            Err(e) => {
                let from = if id.is_empty() {
                    String::new()
                } else {
                    format!(" from {}", printable(&id))
                };
                tracing::error!(target: RUNNERS, "Unrecognized message detected: {e}{from}");
            }
        }
    }

    fn handle(&mut self, id: &str, m: Message) {
        match m.kind.as_str() {
            "client_ready" => self.client_ready(id, &m.data),
            "heartbeat" => self.heartbeat(id, &m.data),
            "stats" => self.stats(id, &m.data),
            "spawning" => match self.nodes.get_mut(id) {
                Some(node) => node.state = State::Spawning,
                None => {
                    tracing::warn!(target: RUNNERS, "Got spawning message from unknown worker {id}. Asking worker to quit.");
                    self.send(id, "quit", Value::Nil);
                }
            },
            "spawning_complete" => {
                if let Some(node) = self.nodes.get_mut(id) {
                    node.state = State::Running;
                    node.classes = counts(field(&m.data, "user_classes_count"));
                    node.user_count = node.classes.values().sum();
                }
            }
            "client_stopped" => {
                if self.nodes.remove(id).is_none() {
                    tracing::warn!(target: RUNNERS, "Received client_stopped message from an unknown worker: {id}.");
                    return;
                }
                tracing::info!(target: RUNNERS, "{id} (index {}) reported that it has stopped", self.nodes.index_of(id));
                self.confirmed(id);
                self.publish_active();
            }
            "quit" => self.worker_quit(id),
            "exception" => {
                let text = |name| field(&m.data, name).as_str().unwrap_or("").to_string();
                if let Some(session) = self.session() {
                    session.log_exception(id, &text("msg"), &text("traceback"));
                }
            }
            "logs" => {
                let lines = field(&m.data, "logs").as_array().map_or(0, Vec::len);
                tracing::debug!(target: RUNNERS, "Worker {id} sent {lines} log lines");
            }
            other => {
                tracing::debug!(target: RUNNERS, "Ignored the message {:?} from worker {id}", printable(other))
            }
        }
    }

    fn client_ready(&mut self, id: &str, version: &Value) {
        let falsy = version.is_nil()
            || version.as_str() == Some("")
            || version.as_i64() == Some(0)
            || version.as_bool() == Some(false);
        if falsy {
            tracing::error!(target: RUNNERS, "An old (pre 2.0) worker tried to connect ({id}). That's not going to work.");
            return;
        }
        if let Some(v) = version.as_str() {
            if v != PROTOCOL_VERSION {
                let prefix = |s: &str| s.chars().take(4).collect::<String>();
                if prefix(v) == prefix(PROTOCOL_VERSION) {
                    tracing::debug!(target: RUNNERS, "A worker ({id}) running a different patch version ('{v}') connected, master version is '{PROTOCOL_VERSION}'");
                } else {
                    tracing::warn!(target: RUNNERS, "A worker ({id}) running a different version ({v}) connected, master version is {PROTOCOL_VERSION}");
                }
            }
        }
        self.asked_to_reconnect.remove(id);
        let Some((index, again)) = self.nodes.ready(id) else {
            tracing::error!(target: RUNNERS, "Refused worker {}: this master already tracks {} workers", printable(id), super::nodes::MAX_WORKERS);
            return;
        };
        self.send(id, "ack", map([("index", Value::from(index))]));
        let connected = self.nodes.len();
        if again {
            tracing::debug!(target: RUNNERS, "{id} (index {index}) reported as ready (duplicate message). {connected} workers connected.");
        } else {
            tracing::info!(target: RUNNERS, "{id} (index {index}) reported as ready. {connected} workers connected.");
        }
        self.publish_active();
    }

    fn heartbeat(&mut self, id: &str, data: &Value) {
        let Some(index) = self.nodes.get(id).map(|n| n.index) else {
            self.adopt(id);
            return;
        };
        let state = State::from_heartbeat(field(data, "state").as_str().unwrap_or("ready"));
        let cpu = number(field(data, "current_cpu_usage"));
        let memory = field(data, "current_memory_usage").as_u64();
        let word = state.word().to_string();
        if self.nodes.heartbeat(id, state, cpu, memory) {
            tracing::info!(target: RUNNERS, "Worker {id} self-healed with heartbeat, setting state to {word}.");
            self.publish_active();
        }
        if let Some(node) = self.nodes.get_mut(id) {
            if cpu > 90.0 && !node.cpu_warned {
                node.cpu_warned = true;
                tracing::warn!(target: RUNNERS, "Worker {id} (index {index}) exceeded cpu threshold (will only log this once per worker)");
            }
        }
        self.send(id, "heartbeat", Value::Nil);
    }

    /// A heartbeat from a worker this master does not know: one that was connected to
    /// a master before this one (restarted on the same port). It is asked to
    /// reconnect, which makes a locust-rs worker send `client_ready` (at most every
    /// 5 s per worker).
    fn adopt(&mut self, id: &str) {
        let now = Instant::now();
        if self.asked_to_reconnect.len() >= super::nodes::MAX_WORKERS {
            self.asked_to_reconnect.clear();
        }
        let due = self
            .asked_to_reconnect
            .get(id)
            .is_none_or(|at| now.duration_since(*at) >= RECONNECT_EVERY);
        if due {
            tracing::info!(target: RUNNERS, "Got heartbeat message from unknown worker {}: asking it to reconnect", printable(id));
            self.asked_to_reconnect.insert(id.to_string(), now);
            self.send(id, "reconnect", Value::Nil);
        }
    }

    fn stats(&mut self, id: &str, data: &Value) {
        let report = match report_from_value(data) {
            Ok(report) => report,
            Err(e) => {
                tracing::error!(target: RUNNERS, "Dropped a stats report from worker {}: {e}", printable(id));
                return;
            }
        };
        if let Some(node) = self.nodes.get_mut(id) {
            node.user_count = report.user_count;
            node.classes = report.user_classes_count.clone();
        }
        match self.session() {
            Some(session) => session.absorb(&report),
            None => tracing::debug!(target: RUNNERS, "A stats report from {id} between tests"),
        }
    }

    fn worker_quit(&mut self, id: &str) {
        if self.nodes.remove(id).is_none() {
            return;
        }
        // A quit the master asked for (the end of a headless test) ends nothing.
        let asked = self.stopping.is_some();
        tracing::info!(
            target: RUNNERS,
            "Worker '{id}' (index {}) quit. {} workers ready.",
            self.nodes.index_of(id),
            self.nodes.active().len()
        );
        self.confirmed(id);
        self.publish_active();
        if self.nodes.len() == 0 && !asked {
            self.end_test("The last worker quit, stopping test.");
        }
    }

    /// Ends the test in progress, if any, because its workers are gone.
    fn end_test(&self, why: &str) {
        let Some(session) = self.session() else {
            return;
        };
        let state = session.status().state;
        if !matches!(state, RunState::Stopping | RunState::Stopped) {
            tracing::info!(target: RUNNERS, "{why}");
            session.end_load(StopReason::WorkersGone);
        }
    }

    fn place(&mut self, placement: Placement) {
        match placement {
            Placement::Spawn(each) => {
                let timestamp = epoch_now().max(self.last_spawn + 1e-6);
                self.last_spawn = timestamp;
                for (id, classes) in each {
                    let data = map([
                        ("timestamp", Value::from(timestamp)),
                        ("user_classes_count", counts_value(&classes)),
                        ("host", self.host.as_deref().map_or(Value::Nil, Value::from)),
                        ("stop_timeout", Value::from(self.stop_timeout.as_secs_f64())),
                        ("parsed_options", Value::Map(Vec::new())),
                    ]);
                    self.send(&id, "spawn", data);
                }
            }
            Placement::Stop(done) => {
                let waiting: BTreeSet<String> = self.nodes.ids().into_iter().collect();
                for id in &waiting {
                    tracing::debug!(target: RUNNERS, "Sending {} message to worker {id}", self.stop_word);
                    self.send(id, self.stop_word, Value::Nil);
                }
                self.stopping = Some(Stopping {
                    waiting,
                    done: Some(done),
                    deadline: Instant::now() + self.stop_timeout + STOP_GRACE,
                });
                self.settle_stop();
            }
        }
    }

    /// A worker confirmed the stop (or quit, or went missing).
    fn confirmed(&mut self, id: &str) {
        if let Some(stopping) = self.stopping.as_mut() {
            stopping.waiting.remove(id);
        }
        self.settle_stop();
    }

    fn settle_stop(&mut self) {
        let Some(stopping) = self.stopping.as_mut() else {
            return;
        };
        let timed_out = Instant::now() >= stopping.deadline;
        if stopping.waiting.is_empty() || timed_out {
            if timed_out && !stopping.waiting.is_empty() {
                tracing::error!(target: RUNNERS, "Timeout waiting for all workers to stop");
            }
            if let Some(done) = stopping.done.take() {
                let _ = done.send(());
            }
            self.stopping = None;
        }
    }

    fn tick(&mut self) {
        let found = self.nodes.tick();
        for id in &found.missing {
            tracing::info!(target: RUNNERS, "Worker {id} failed to send heartbeat, setting state to missing.");
            if let Some(stopping) = self.stopping.as_mut() {
                stopping.waiting.remove(id);
            }
        }
        for id in &found.dead {
            tracing::info!(target: RUNNERS, "Worker {id} was missing for {} s: removed", -super::nodes::DEAD);
        }
        if !found.missing.is_empty() || !found.dead.is_empty() {
            self.publish_active();
            if self.nodes.active().is_empty() && self.stopping.is_none() {
                self.end_test("The last worker went missing, stopping test.");
            }
        }
        self.settle_stop();
        self.spawning_complete();
        self.publish_info();
    }

    /// Once a ramp is done (the session moved to running), every worker hears the
    /// total, as Locust's master broadcasts it.
    fn spawning_complete(&mut self) {
        let Some(session) = self.session() else {
            self.last_state = None;
            return;
        };
        let status = session.status();
        let was = self.last_state.replace(status.state);
        if status.state == RunState::Running && was != Some(RunState::Running) {
            let total = self.nodes.reported_users().max(status.user_count);
            for id in self.nodes.active() {
                self.send(
                    &id,
                    "spawning_complete",
                    map([("user_count", Value::from(total))]),
                );
            }
        }
    }

    /// `quit` to every worker, then their last reports and `quit`s (bounded).
    async fn quit_all(&mut self) {
        let ids = self.nodes.ids();
        for id in &ids {
            tracing::debug!(target: RUNNERS, "Sending quit message to worker {id} (index {})", self.nodes.index_of(id));
            self.send(id, "quit", Value::Nil);
        }
        let deadline = Instant::now() + QUIT_GRACE;
        while self.nodes.len() > 0 {
            let incoming = tokio::select! {
                incoming = self.server.incoming.recv() => incoming,
                _ = tokio::time::sleep_until(deadline) => break,
            };
            match incoming {
                Some(incoming) => self.receive(incoming),
                None => break,
            }
        }
    }
}

/// A str → count map of a message (unknown shapes count as nothing).
fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_map()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_u64()?)))
        .take(super::nodes::MAX_WORKERS)
        .collect()
}

fn counts_value(counts: &BTreeMap<String, u64>) -> Value {
    Value::Map(
        counts
            .iter()
            .map(|(k, v)| (Value::from(k.as_str()), Value::from(*v)))
            .collect(),
    )
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .or_else(|| value.as_i64().map(|i| i as f64))
        .or_else(|| value.as_u64().map(|u| u as f64))
        .filter(|n| n.is_finite())
        .unwrap_or(0.0)
}

/// A peer's id or word for a log line: at most 100 characters, no control characters.
fn printable(text: &str) -> String {
    text.chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
