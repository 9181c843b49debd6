//! `GET /test`: the current (or last) test as the page shows it, beside Locust's API
//! (not one of its routes): what it was started with (profile, host, classes, run
//! time), the users and spawn rate it heads for (after an Edit too: what Edit starts
//! from after a reload), its planned load and the stage in progress, its phase of a
//! sequence. The page also gets it in `templateArgs.last_test`, so a reload and a new
//! test start from the last run's values.

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::Shared;
use super::json_reply::reply;
use super::profiles;
use super::session::Session;
use locust_stats::epoch_now;

pub async fn test(State(session): State<Shared>) -> Response {
    reply(json!({ "test": describe(&session, epoch_now()) }))
}

/// The current test at `now` (epoch seconds), or null before the first.
pub fn describe(session: &Session, now: f64) -> Value {
    let Some(test) = session.current() else {
        return Value::Null;
    };
    let settings = &test.settings;
    let (users, spawn_rate) = test.target();
    let started = test.started();
    let running = test.is_running();
    let stage = match (&test.plan, running) {
        (Some(plan), true) => plan.stage_at(now - started).map(|index| {
            let span = &plan.stages[index];
            json!({
                "index": index + 1,
                "count": plan.stages.len(),
                "label": span.label,
                "start": span.start,
                "end": span.end,
            })
        }),
        _ => None,
    };
    let phase = test
        .phase()
        .map(|p| json!({"index": p.index, "count": p.count, "name": p.name, "parent": p.parent}));
    // A phase's form value is its sequence's profile.
    let profile = test
        .phase()
        .map(|p| p.parent)
        .or_else(|| settings.profile.clone());
    json!({
        "editable": running && !test.is_shaped() && test.phase().is_none(),
        "host": settings.spec.host,
        "kind": profiles::kind(settings),
        "phase": phase,
        "plan": test.plan.as_ref().map(|p| p.to_json()),
        "profile": profile,
        "run_time": settings.spec.run_time.map(|d| format!("{}s", d.as_secs())),
        "spawn_rate": spawn_rate,
        "stage": stage,
        "started": started,
        "state": test.state(),
        "user_classes": test.classes.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "users": users,
    })
}
