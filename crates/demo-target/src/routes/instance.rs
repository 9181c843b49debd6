//! Middleware that makes a handler's answer an app instance's answer: picks the
//! instance (round-robin, or pinned by `/{instance}/...`), queues on the concurrency
//! limit, spends the service time, injects slow answers, dropped connections and
//! failures, and stamps `X-Instance-ID`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;

use super::{pause, validate::detail, INSTANCE_HEADER};
use crate::state::{DemoState, Instance};

/// The instance serving this request, put in the request's extensions for handlers.
#[derive(Clone, Debug)]
pub(crate) struct ServedBy(pub Arc<str>);

/// Serves the request as the next instance in round-robin order.
pub(crate) async fn load_balanced(
    State(state): State<DemoState>,
    req: Request,
    next: Next,
) -> Response {
    match state.next_instance().cloned() {
        Some(instance) => serve_as(&state, instance, req, next).await,
        None => detail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Serves the request as the instance named by the `{instance}` path segment;
/// 404 (from no instance) for a name that is not configured.
pub(crate) async fn pinned(
    State(state): State<DemoState>,
    name: Result<Path<String>, axum::extract::rejection::PathRejection>,
    req: Request,
    next: Next,
) -> Response {
    let instance = name
        .ok()
        .and_then(|Path(name)| state.instance_named(&name).cloned());
    match instance {
        Some(instance) => serve_as(&state, instance, req, next).await,
        None => detail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn serve_as(state: &DemoState, instance: Instance, mut req: Request, next: Next) -> Response {
    // Held until the answer is built; dropped (and the next in queue admitted) also
    // when the client goes away. The semaphore is never closed, so `ok()` is a formality.
    let _permit = match state.limiter() {
        Some(limiter) => limiter.acquire().await.ok(),
        None => None,
    };
    pause(state.service_time()).await;
    pause(state.slow_extra()).await;
    if state.should_drop() {
        return dropped_connection(instance);
    }
    let mut response = if state.should_fail() {
        detail(StatusCode::INTERNAL_SERVER_ERROR, "injected failure")
    } else {
        req.extensions_mut().insert(ServedBy(instance.name.clone()));
        next.run(req).await
    };
    response
        .headers_mut()
        .insert(INSTANCE_HEADER, instance.header);
    response
}

/// A `200` whose body fails before its first byte: hyper then closes the connection
/// without sending the answer (curl: "Empty reply from server").
fn dropped_connection(instance: Instance) -> Response {
    let mut response = Response::new(Body::new(Severed));
    response
        .headers_mut()
        .insert(INSTANCE_HEADER, instance.header);
    response
}

/// A body that is an I/O error.
struct Severed;

impl HttpBody for Severed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected connection drop",
        ))))
    }
}
