//! Health answers: the gateway's own `/gateway-health`, and the instance health
//! (`/health`, `/{instance}/health`) naming the instance that served it.

use axum::{Extension, Json};
use serde_json::{json, Value};

use super::instance::ServedBy;

/// `GET /gateway-health`, answered without any instance.
pub(crate) async fn gateway() -> Json<Value> {
    Json(json!({ "status": "healthy", "service": "gateway" }))
}

/// `GET /health` and `GET /{instance}/health`.
pub(crate) async fn instance(Extension(ServedBy(name)): Extension<ServedBy>) -> Json<Value> {
    Json(json!({ "status": "healthy", "instance": &*name, "redis": "connected" }))
}
