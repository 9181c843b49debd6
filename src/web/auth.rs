//! Optional HTTP basic auth in front of every route (`--web-auth user:password` or
//! `--web-auth-file`). Locust removed this; a UI that can start load deserves a lock.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::config::web::WebAuth;

/// Compares without stopping at the first difference, so timing tells nothing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn authorized(auth: &WebAuth, header: Option<&str>) -> bool {
    let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ")) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", auth.user, auth.password);
    same(&decoded, expected.as_bytes())
}

pub async fn require(State(auth): State<WebAuth>, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if authorized(&auth, header) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, "Basic realm=\"locust-rs\"")],
        "Unauthorized",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_credentials_pass() {
        let auth = WebAuth {
            user: "ops".into(),
            password: "pw".into(),
        };
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ops:pw")
        );
        let bad = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("ops:px")
        );
        assert!(authorized(&auth, Some(&good)));
        assert!(!authorized(&auth, Some(&bad)));
        assert!(!authorized(&auth, Some("Basic !!!")));
        assert!(!authorized(&auth, None));
    }
}
