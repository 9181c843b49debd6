//! What the engine hands back after a request (`ResponseView`), what a step makes of it
//! (`Outcome`), and Locust's failure strings: `HTTPError('...')`,
//! `CatchResponseError('...')` and the "Could not parse response as JSON" text.

use std::cell::OnceCell;

use locust_stats::pyrepr::repr_str;

/// A received response, borrowed from the engine.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    /// The reason phrase as the server sent it (`File not found`), possibly empty.
    pub reason: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// The verdict on one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Locust's error string, e.g. `HTTPError('404 Client Error: Not Found for url: /users/[id]')`.
    Failure(String),
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// `HTTPError('<code> Client Error: <reason> for url: <name>')` (requests'
/// `raise_for_status`, with the server's own reason phrase and the URL replaced by the
/// stats name), or `None` below 400 and from 600 on.
pub fn http_error(status: u16, reason: &str, name: &str) -> Option<String> {
    let class = match status {
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => return None,
    };
    let msg = format!("{status} {class}: {reason} for url: {name}");
    Some(format!("HTTPError({})", repr_str(&msg)))
}

/// `CatchResponseError('<message>')`, what `response.failure(message)` records.
pub fn catch_response_error(message: &str) -> String {
    format!("CatchResponseError({})", repr_str(message))
}

/// Locust's `rest()` text for a body that is not JSON (not yet wrapped).
pub(crate) fn json_parse_message(body: &[u8], status: u16, err: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(body);
    let head: String = text.chars().take(250).collect();
    format!("Could not parse response as JSON. {head}, response code {status}, error {err}")
}

/// A response with its body parsed as JSON at most once, on first need.
pub(crate) struct Parsed<'r, 'a> {
    pub resp: &'r ResponseView<'a>,
    json: OnceCell<Result<serde_json::Value, String>>,
}

impl<'r, 'a> Parsed<'r, 'a> {
    pub fn new(resp: &'r ResponseView<'a>) -> Self {
        Parsed {
            resp,
            json: OnceCell::new(),
        }
    }

    /// The JSON body, or the full `CatchResponseError(...)` failure string.
    pub fn json(&self) -> Result<&serde_json::Value, String> {
        self.json
            .get_or_init(|| {
                serde_json::from_slice(self.resp.body).map_err(|e| {
                    catch_response_error(&json_parse_message(self.resp.body, self.resp.status, &e))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A response header as text (lossy for non-UTF-8 bytes).
    pub fn header(&self, name: &http::HeaderName) -> Option<String> {
        self.resp
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
}

/// Test support: `f` applied to a response with `status`, `headers` (name, value) and
/// `body`.
#[cfg(test)]
pub(crate) fn with_parsed<R>(
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
    f: impl FnOnce(&Parsed<'_, '_>) -> R,
) -> R {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let resp = ResponseView {
        status,
        reason: "OK",
        headers: &map,
        body: body.as_bytes(),
    };
    f(&Parsed::new(&resp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_error_strings_match_locust() {
        assert_eq!(
            http_error(404, "Not Found", "/users/[id]").unwrap(),
            "HTTPError('404 Client Error: Not Found for url: /users/[id]')"
        );
        assert_eq!(
            http_error(503, "Service Unavailable", "/health").unwrap(),
            "HTTPError('503 Server Error: Service Unavailable for url: /health')"
        );
        assert_eq!(http_error(302, "Found", "/x"), None);
        assert_eq!(http_error(399, "", "/x"), None);
        assert_eq!(http_error(600, "", "/x"), None);
        // The server's words, whatever they are; none at all leaves two spaces.
        assert_eq!(
            http_error(404, "File not found", "/x").unwrap(),
            "HTTPError('404 Client Error: File not found for url: /x')"
        );
        assert_eq!(
            http_error(500, "", "/x").unwrap(),
            "HTTPError('500 Server Error:  for url: /x')"
        );
        // A name holding a single quote switches to double quotes, like Python's repr.
        assert_eq!(
            http_error(500, "Internal Server Error", "/it's").unwrap(),
            "HTTPError(\"500 Server Error: Internal Server Error for url: /it's\")"
        );
    }

    #[test]
    fn catch_response_error_quotes_like_python() {
        assert_eq!(catch_response_error("bad"), "CatchResponseError('bad')");
        assert_eq!(
            catch_response_error("JSON /status is \"down\""),
            "CatchResponseError('JSON /status is \"down\"')"
        );
    }

    #[test]
    fn non_json_body_message() {
        let headers = http::HeaderMap::new();
        let body = "x".repeat(300);
        let resp = ResponseView {
            status: 200,
            reason: "OK",
            headers: &headers,
            body: body.as_bytes(),
        };
        let p = Parsed::new(&resp);
        let err = p.json().unwrap_err();
        let expected_head = format!("CatchResponseError('Could not parse response as JSON. {}, response code 200, error expected value at line 1 column 1')", "x".repeat(250));
        assert_eq!(err, expected_head);
    }
}
