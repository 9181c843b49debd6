//! What the engine hands back after a request (`ResponseView`), what a step makes of it
//! (`Outcome`), and Locust's failure strings: `HTTPError('...')`,
//! `CatchResponseError('...')` and the "Could not parse response as JSON" text.
//! `Parsed` is the view checks and extractions read: the body parsed as JSON or HTML at
//! most once, on first need, and the cookies the response sets.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use locust_stats::pyrepr::repr_str;

/// A received response, borrowed from the engine.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    /// The reason phrase as the server sent it (`File not found`), possibly empty.
    pub reason: &'a str,
    /// The final URL, after redirects: Locust's `response.url`, absolute
    /// (`http://host:8080/welcome?x=1`). The engine fills it with the URL of the last
    /// request it sent for this step (the request's own URL, resolved against the host,
    /// when there was no redirect); `url`/`url_contains` checks and `{{ url }}` in check
    /// templates read it. It may be left empty for a step without checks or extractions
    /// (`Step::inspects_response`), which never reads it.
    pub url: &'a str,
    /// The response headers. The `Set-Cookie` lines among them are what `cookie`
    /// checks and extractions read.
    pub headers: &'a http::HeaderMap,
    /// The body, decoded; empty unless [`crate::Step::reads_body`] asked for it.
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

/// A response with its body parsed (as JSON, as HTML) at most once, on first need.
pub(crate) struct Parsed<'r, 'a> {
    pub resp: &'r ResponseView<'a>,
    /// Shared so that check templates can read it without a copy.
    json: OnceCell<Result<Arc<serde_json::Value>, String>>,
    html: OnceCell<scraper::Html>,
}

impl<'r, 'a> Parsed<'r, 'a> {
    pub fn new(resp: &'r ResponseView<'a>) -> Self {
        Parsed {
            resp,
            json: OnceCell::new(),
            html: OnceCell::new(),
        }
    }

    /// The JSON body, or the full `CatchResponseError(...)` failure string.
    pub fn json(&self) -> Result<&serde_json::Value, String> {
        self.json_shared().map(|doc| &**doc)
    }

    /// [`Parsed::json`], as a shared handle.
    pub fn json_shared(&self) -> Result<&Arc<serde_json::Value>, String> {
        self.json
            .get_or_init(|| {
                serde_json::from_slice(self.resp.body)
                    .map(Arc::new)
                    .map_err(|e| {
                        catch_response_error(&json_parse_message(
                            self.resp.body,
                            self.resp.status,
                            &e,
                        ))
                    })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The body parsed as an HTML document (never fails: the HTML parser recovers from
    /// anything, as browsers do).
    pub fn html(&self) -> &scraper::Html {
        self.html
            .get_or_init(|| scraper::Html::parse_document(&self.text()))
    }

    /// The body as text (lossy for non-UTF-8 bytes), like requests' `response.text`.
    pub fn text(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.resp.body)
    }

    /// A response header as text (lossy for non-UTF-8 bytes).
    pub fn header(&self, name: &http::HeaderName) -> Option<String> {
        self.resp
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// Every value of a header (a header sent several times), as text.
    pub fn header_all<'s>(&'s self, name: &http::HeaderName) -> impl Iterator<Item = String> + 's {
        self.resp
            .headers
            .get_all(name)
            .into_iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The cookies the response sets (`Set-Cookie`), in order, as (name, value); a
    /// cookie the server deletes (`Max-Age=0`, or an `Expires` in the past) is left out,
    /// and a name set twice keeps its last value (a browser's jar after this response).
    pub fn cookies(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for line in self.resp.headers.get_all(http::header::SET_COOKIE) {
            let Ok(text) = std::str::from_utf8(line.as_bytes()) else {
                continue;
            };
            let Ok(c) = cookie::Cookie::parse(text) else {
                continue;
            };
            out.retain(|(n, _)| n != c.name());
            if !is_deletion(&c) {
                out.push((c.name().to_string(), c.value().to_string()));
            }
        }
        out
    }

    /// The value of the cookie `name` set by the response, per [`Parsed::cookies`].
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies()
            .into_iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// A `Set-Cookie` that removes the cookie rather than sets it.
fn is_deletion(c: &cookie::Cookie<'_>) -> bool {
    if let Some(age) = c.max_age() {
        return age <= cookie::time::Duration::ZERO;
    }
    c.expires_datetime()
        .is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc())
}

/// The URL test responses come from (the engine passes the final URL after redirects).
#[cfg(test)]
pub(crate) const TEST_URL: &str = "http://localhost:8080/users?skip=0";

/// Test support: `f` applied to a response with `status`, `headers` (name, value; a
/// name given twice is sent twice) and `body`, from [`TEST_URL`].
#[cfg(test)]
pub(crate) fn with_parsed<R>(
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
    f: impl FnOnce(&Parsed<'_, '_>) -> R,
) -> R {
    with_parsed_url(status, TEST_URL, headers, body, f)
}

/// [`with_parsed`] with the response's final URL.
#[cfg(test)]
pub(crate) fn with_parsed_url<R>(
    status: u16,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    f: impl FnOnce(&Parsed<'_, '_>) -> R,
) -> R {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let resp = ResponseView {
        status,
        reason: "OK",
        url,
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
            url: TEST_URL,
            headers: &headers,
            body: body.as_bytes(),
        };
        let p = Parsed::new(&resp);
        let err = p.json().unwrap_err();
        let expected_head = format!("CatchResponseError('Could not parse response as JSON. {}, response code 200, error expected value at line 1 column 1')", "x".repeat(250));
        assert_eq!(err, expected_head);
    }
}
