//! Assembles the demo target's `Router`: the gateway route, the load-balanced and
//! pinned app routes (wrapped by the instance middleware), the FastAPI-like 404/405
//! fallbacks, the counting layer around all of them, and the uncounted `/__demo/` routes.

mod control;
mod counting;
mod health;
mod instance;
mod users;
mod validate;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::state::DemoState;

/// `X-Instance-ID`: which app instance answered.
pub(crate) const INSTANCE_HEADER: HeaderName = HeaderName::from_static("x-instance-id");
/// `X-Cache`: `HIT` or `MISS` on `GET /users/{id}`.
pub(crate) const CACHE_HEADER: HeaderName = HeaderName::from_static("x-cache");

/// Largest request body accepted (user bodies are tiny); larger ones get 413.
const MAX_BODY: usize = 64 * 1024;

pub(crate) fn router(state: DemoState) -> Router {
    let load_balanced = Router::new()
        .route("/health", get(health::instance))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::read).put(users::update).delete(users::delete),
        )
        .route_layer(from_fn_with_state(state.clone(), instance::load_balanced));
    let pinned = Router::new()
        .route("/{instance}/health", get(health::instance))
        .route_layer(from_fn_with_state(state.clone(), instance::pinned));
    let served = Router::new()
        .route("/gateway-health", get(health::gateway))
        .merge(load_balanced)
        .merge(pinned)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), counting::count));
    let control = Router::new()
        .route("/__demo/stats", get(control::stats))
        .route(
            "/__demo/config",
            get(control::show_config).post(control::set_config),
        );
    served
        .merge(control)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Sleeps for `d` unless it is zero (a zero sleep would still wait for a timer tick).
pub(crate) async fn pause(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

async fn not_found() -> Response {
    validate::detail(StatusCode::NOT_FOUND, "Not Found")
}

async fn method_not_allowed() -> Response {
    validate::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}
