//! The bytes of a request head: request line, then the headers requests sends by
//! default (`User-Agent`, `Accept-Encoding`, `Accept`) unless the request sets its own,
//! then the request's headers, credentials, cookies and the body length. (requests also
//! sends `Connection: keep-alive`, which HTTP/1.1 means anyway.)

use bytes::BytesMut;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method};

/// The default headers of every request, in requests' order.
pub struct DefaultHeaders {
    entries: Vec<(HeaderName, HeaderValue)>,
    /// The same, already encoded, for requests that override none of them.
    encoded: BytesMut,
}

impl DefaultHeaders {
    pub fn new(user_agent: HeaderValue) -> Self {
        let entries = vec![
            (header::USER_AGENT, user_agent),
            (
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("gzip, deflate, br"),
            ),
            (header::ACCEPT, HeaderValue::from_static("*/*")),
        ];
        let mut encoded = BytesMut::new();
        for (name, value) in &entries {
            push_header(&mut encoded, name.as_str().as_bytes(), value.as_bytes());
        }
        DefaultHeaders { entries, encoded }
    }
}

/// Everything a request head is made of.
pub struct RequestHead<'a> {
    pub method: &'a Method,
    /// Origin-form (`/path?q`), or absolute-form (`http://h/path`) through a proxy.
    pub target: &'a str,
    /// The URL's authority; a `Host` among `headers` wins (virtual hosts by IP).
    pub host: &'a HeaderValue,
    pub defaults: &'a DefaultHeaders,
    pub headers: &'a HeaderMap,
    /// Basic credentials from the URL, sent unless `headers` holds an Authorization.
    pub authorization: Option<&'a HeaderValue>,
    pub proxy_authorization: Option<&'a HeaderValue>,
    pub cookie: Option<&'a str>,
}

/// Appends the head for a body of `body_len` bytes to `out`.
pub fn encode(out: &mut BytesMut, head: &RequestHead<'_>, body_len: usize) {
    let line = out;
    line.extend_from_slice(head.method.as_str().as_bytes());
    line.extend_from_slice(b" ");
    line.extend_from_slice(head.target.as_bytes());
    line.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    let host = head.headers.get(header::HOST).unwrap_or(head.host);
    line.extend_from_slice(host.as_bytes());
    line.extend_from_slice(b"\r\n");
    if head.headers.is_empty() {
        line.extend_from_slice(&head.defaults.encoded);
    } else {
        for (name, value) in &head.defaults.entries {
            if !head.headers.contains_key(name) {
                push_header(line, name.as_str().as_bytes(), value.as_bytes());
            }
        }
        for (name, value) in head.headers {
            if name == header::HOST || name == header::CONTENT_LENGTH {
                continue;
            }
            push_header(line, name.as_str().as_bytes(), value.as_bytes());
        }
    }
    if let Some(auth) = head.authorization {
        if !head.headers.contains_key(header::AUTHORIZATION) {
            push_header(line, b"authorization", auth.as_bytes());
        }
    }
    if let Some(auth) = head.proxy_authorization {
        push_header(line, b"proxy-authorization", auth.as_bytes());
    }
    if let Some(cookie) = head.cookie {
        push_header(line, b"cookie", cookie.as_bytes());
    }
    // requests sends a length for every body, and for an empty POST/PUT/PATCH too.
    let bodyless = matches!(
        *head.method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    if body_len > 0 || !bodyless {
        push_header(
            line,
            b"content-length",
            itoa::Buffer::new().format(body_len).as_bytes(),
        );
    }
    line.extend_from_slice(b"\r\n");
}

fn push_header(out: &mut BytesMut, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(
        headers: &HeaderMap,
        method: &Method,
        auth: Option<&HeaderValue>,
        body_len: usize,
    ) -> String {
        let defaults = DefaultHeaders::new(HeaderValue::from_static("locust-rs/test"));
        let host = HeaderValue::from_static("h:1");
        let head = RequestHead {
            method,
            target: "/users?x=1",
            host: &host,
            defaults: &defaults,
            headers,
            authorization: auth,
            proxy_authorization: None,
            cookie: Some("a=1"),
        };
        let mut out = BytesMut::new();
        encode(&mut out, &head, body_len);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn requests_get_requests_default_headers() {
        assert_eq!(
            encoded(&HeaderMap::new(), &Method::GET, None, 0),
            "GET /users?x=1 HTTP/1.1\r\nhost: h:1\r\nuser-agent: locust-rs/test\r\naccept-encoding: gzip, deflate, br\r\naccept: */*\r\ncookie: a=1\r\n\r\n"
        );
    }

    #[test]
    fn a_request_overrides_defaults_host_and_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("accept", HeaderValue::from_static("application/json"));
        headers.insert("host", HeaderValue::from_static("vhost.test"));
        headers.insert("content-length", HeaderValue::from_static("999"));
        let url_auth = HeaderValue::from_static("Basic dTpw");
        assert_eq!(
            encoded(&headers, &Method::POST, Some(&url_auth), 2),
            "POST /users?x=1 HTTP/1.1\r\nhost: vhost.test\r\nuser-agent: locust-rs/test\r\naccept-encoding: gzip, deflate, br\r\ncontent-type: application/json\r\naccept: application/json\r\nauthorization: Basic dTpw\r\ncookie: a=1\r\ncontent-length: 2\r\n\r\n"
        );
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        let text = encoded(&headers, &Method::PUT, Some(&url_auth), 0);
        assert!(text.contains("authorization: Bearer t\r\n") && !text.contains("Basic"));
        assert!(text.contains("content-length: 0\r\n"));
    }
}
