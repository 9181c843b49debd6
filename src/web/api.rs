//! Locust's REST routes (§8): `/swarm`, `/stop`, `/stats/reset`, `/stats/requests`,
//! `/exceptions`, `/tasks`, `/logs`, `/worker-count`. Same paths, inputs and keys.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use locust_stats::Stats;
use serde_json::{json, Value};

use super::json_reply::reply;
use super::session::Session;
use super::{stats_json, swarm_form};
use crate::logging::MAIN;
use crate::outcome::StopReason;
use locust_stats::epoch_now;

pub type Shared = Arc<Session>;

/// The body is read as a form whatever its declared type: a JSON body has no form
/// fields and gets Locust's "Missing or invalid" answer, not a 415.
pub async fn swarm(State(session): State<Shared>, body: Bytes) -> Response {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let failure = |message: String| {
        tracing::error!(target: MAIN, "{message}");
        reply(json!({"success": false, "message": message, "host": session.host()}))
    };
    let request = match swarm_form::parse(&fields) {
        Ok(request) => request,
        Err(message) => return failure(message),
    };
    match session.swarm(request).await {
        Ok(started) => {
            let mut body = json!({
                "success": true,
                "message": "Swarming started",
                "host": started.host,
            });
            if let Some(seconds) = started.run_time {
                body["run_time"] = json!(seconds);
            }
            if let Some(classes) = started.user_classes {
                body["user_classes"] = json!(classes);
            }
            reply(body)
        }
        Err(message) => failure(message),
    }
}

pub async fn stop(State(session): State<Shared>) -> Response {
    session.stop(StopReason::Stopped).await;
    reply(json!({"success": true, "message": "Test stopped"}))
}

pub async fn reset(State(session): State<Shared>) -> &'static str {
    if let Some(test) = session.current() {
        test.reset();
    }
    "ok"
}

/// Runs `read` on the current test's figures, or on empty ones before the first test.
pub fn with_stats<R>(session: &Session, read: impl FnOnce(&Stats) -> R) -> R {
    match session.current() {
        Some(test) => test.with_stats(read),
        None => read(&Stats::new(epoch_now(), false)),
    }
}

pub async fn requests(State(session): State<Shared>) -> Response {
    let state = session.state();
    let users = session.user_count();
    let role = session.current().map_or_else(
        || session.judge_cache_role(),
        |t| t.judge.cache_role.clone(),
    );
    let mut body = with_stats(&session, |stats| {
        stats_json::requests(stats, state, users, &role, epoch_now())
    });
    // A master lists its workers, as Locust's does.
    if let (Some(master), Some(map)) = (&session.master, body.as_object_mut()) {
        let workers = master.worker_info();
        map.insert("worker_count".into(), json!(session.worker_count()));
        map.insert("workers".into(), json!(workers));
    }
    reply(body)
}

pub async fn exceptions(State(session): State<Shared>) -> Response {
    reply(with_stats(&session, stats_json::exceptions))
}

pub async fn tasks(State(session): State<Shared>) -> Response {
    let (classes, users) = match session.current() {
        Some(test) if test.is_running() => (test.classes.clone(), test.user_count()),
        Some(test) => (test.classes.clone(), test.settings.spec.users),
        None => (session.classes.clone(), session.base.spec.users),
    };
    let refs: Vec<&locust_scenario::UserClass> = classes.iter().map(|c| c.as_ref()).collect();
    let text = crate::task_ratio::json(&refs, Some(users.max(1)));
    reply(serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn logs() -> Response {
    reply(json!({"master": crate::log_buffer::recent(), "workers": {}}))
}

pub async fn worker_count(State(session): State<Shared>) -> Response {
    reply(json!({"worker_count": session.worker_count()}))
}
