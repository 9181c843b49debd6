//! The control routes under `/__demo/` (never counted, never delayed, never failed):
//! `GET /__demo/stats` (counters plus store size and knobs) and `GET`/`POST
//! /__demo/config` (read or change service time, miss penalty and error rate live).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::validate::{body_rejected, detail};
use crate::state::DemoState;

/// Longest delay `POST /__demo/config` accepts, in milliseconds (one hour).
const MAX_DELAY_MS: f64 = 3_600_000.0;

/// `GET /__demo/stats`: the `CountersSnapshot` fields at the top level, plus
/// `users`, `cached`, `instances` and `config`.
pub(crate) async fn stats(State(state): State<DemoState>) -> Json<Value> {
    let mut body = serde_json::to_value(state.counters()).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("users".into(), json!(state.user_count()));
        map.insert("cached".into(), json!(state.cached_count()));
        map.insert("instances".into(), json!(state.instance_names()));
        map.insert("config".into(), knobs(&state));
    }
    Json(body)
}

/// `GET /__demo/config`: the live knobs.
pub(crate) async fn show_config(State(state): State<DemoState>) -> Json<Value> {
    Json(knobs(&state))
}

/// A change to the live knobs; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnobsPatch {
    service_time_ms: Option<f64>,
    miss_penalty_ms: Option<f64>,
    error_rate: Option<f64>,
}

/// `POST /__demo/config`: applies all given knobs or none; 200 with the live knobs,
/// 422 naming the bad field.
pub(crate) async fn set_config(
    State(state): State<DemoState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return body_rejected(&e),
    };
    let patch: KnobsPatch = match serde_json::from_slice(&body) {
        Ok(patch) => patch,
        Err(e) => {
            return detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("bad config: {e}"),
            )
        }
    };
    let service_time = match patch.service_time_ms.map(|ms| delay("service_time_ms", ms)) {
        Some(Err(msg)) => return detail(StatusCode::UNPROCESSABLE_ENTITY, &msg),
        other => other.and_then(Result::ok),
    };
    let miss_penalty = match patch.miss_penalty_ms.map(|ms| delay("miss_penalty_ms", ms)) {
        Some(Err(msg)) => return detail(StatusCode::UNPROCESSABLE_ENTITY, &msg),
        other => other.and_then(Result::ok),
    };
    if let Some(rate) = patch.error_rate {
        if !(0.0..=1.0).contains(&rate) {
            let msg = format!("error_rate must be between 0.0 and 1.0, got {rate}");
            return detail(StatusCode::UNPROCESSABLE_ENTITY, &msg);
        }
        state.set_error_rate(rate);
    }
    if let Some(d) = service_time {
        state.set_service_time(d);
    }
    if let Some(d) = miss_penalty {
        state.set_miss_penalty(d);
    }
    Json(knobs(&state)).into_response()
}

/// A delay in milliseconds, checked to be a number in 0..=one hour.
fn delay(field: &str, ms: f64) -> Result<Duration, String> {
    if ms.is_finite() && (0.0..=MAX_DELAY_MS).contains(&ms) {
        Ok(Duration::from_secs_f64(ms / 1000.0))
    } else {
        Err(format!(
            "{field} must be between 0 and {MAX_DELAY_MS} milliseconds, got {ms}"
        ))
    }
}

fn knobs(state: &DemoState) -> Value {
    json!({
        "service_time_ms": state.service_time().as_secs_f64() * 1000.0,
        "miss_penalty_ms": state.miss_penalty().as_secs_f64() * 1000.0,
        "error_rate": state.error_rate(),
    })
}
