//! Middleware that counts every answer of the served routes (not `/__demo/*`) by
//! route template, `X-Instance-ID` and status, after the answer is built. It only
//! observes: it never changes a request or an answer.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::INSTANCE_HEADER;
use crate::counters::UNMATCHED_ROUTE;
use crate::state::DemoState;

pub(crate) async fn count(State(state): State<DemoState>, req: Request, next: Next) -> Response {
    let label = match req.extensions().get::<MatchedPath>() {
        Some(path) => format!("{} {}", method_label(req.method()), path.as_str()),
        None => UNMATCHED_ROUTE.to_owned(),
    };
    let response = next.run(req).await;
    let instance = response
        .headers()
        .get(INSTANCE_HEADER)
        .and_then(|v| v.to_str().ok());
    state.record(&label, instance, response.status().as_u16());
    response
}

/// The method's name, or `OTHER` for extension methods, so clients cannot grow the
/// route map without bound.
fn method_label(method: &Method) -> &str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    if KNOWN.contains(method) {
        method.as_str()
    } else {
        "OTHER"
    }
}
