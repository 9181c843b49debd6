//! Bytes to answer with: heads, responses framed by Content-Length or chunked, and
//! compressed bodies. Status lines are taken verbatim (`"HTTP/1.1 200 OK"`), so a broken
//! one is as easy to write as a good one.

use std::io::Write;

use super::ReceivedRequest;

/// `status_line` CRLF, each `name: value` CRLF, then the blank line. No framing header
/// is added: for a body delimited by the close, or heads for `Drip` and `Endless`.
pub fn head(status_line: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + headers.len() * 32);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A whole response: the head with `Content-Length` (the body's length) added after
/// `headers`, then the body.
pub fn response(status_line: &str, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("Content-Length", &length));
    let mut out = head(status_line, &all);
    out.extend_from_slice(body);
    out
}

/// `HTTP/1.1 200 OK` with `Content-Length`.
pub fn ok(body: impl AsRef<[u8]>) -> Vec<u8> {
    response("HTTP/1.1 200 OK", &[], body)
}

/// A chunked response: the head with `Transfer-Encoding: chunked` added, each chunk as
/// `<hex size>\r\n<data>\r\n` (empty chunks are skipped, they would end the body), then
/// `0\r\n\r\n`.
/// A 200 answer with a JSON body, as a route's behaviour.
pub fn json(body: &str) -> super::Behaviour {
    super::Behaviour::raw(response(
        "HTTP/1.1 200 OK",
        &[("Content-Type", "application/json")],
        body,
    ))
}

/// A 200 answer with an HTML body, as a route's behaviour.
pub fn html(body: &str) -> super::Behaviour {
    super::Behaviour::raw(response(
        "HTTP/1.1 200 OK",
        &[("Content-Type", "text/html; charset=utf-8")],
        body,
    ))
}

pub fn chunked(status_line: &str, headers: &[(&str, &str)], chunks: &[&[u8]]) -> Vec<u8> {
    let mut all = headers.to_vec();
    all.push(("Transfer-Encoding", "chunked"));
    let mut out = head(status_line, &all);
    for chunk in chunks.iter().filter(|c| !c.is_empty()) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// The reason phrase for the usual codes (empty for others).
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        407 => "Proxy Authentication Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// `HTTP/1.1 <status> <reason>`.
pub fn status_line(status: u16) -> String {
    format!("HTTP/1.1 {status} {}", reason(status))
}

/// A redirect: `Location` and `Content-Length: 0`.
pub fn redirect(status: u16, location: &str) -> Vec<u8> {
    response(&status_line(status), &[("Location", location)], "")
}

/// What `Behaviour::Echo` answers with: `{"method", "target", "version", "headers":
/// [[name, value], ...] (received order, lossy UTF-8), "body_len", "body_complete",
/// "connection_id", "client_cert"}`.
pub fn echo_json(request: &ReceivedRequest) -> serde_json::Value {
    let headers: Vec<[String; 2]> = request
        .headers
        .iter()
        .map(|(name, value)| [name.clone(), String::from_utf8_lossy(value).into_owned()])
        .collect();
    serde_json::json!({
        "method": request.method,
        "target": request.target,
        "version": request.version,
        "headers": headers,
        "body_len": request.body_len,
        "body_complete": request.body_complete,
        "connection_id": request.connection_id,
        "client_cert": request.client_cert,
    })
}

pub fn echo_response(request: &ReceivedRequest) -> Vec<u8> {
    let body = serde_json::to_vec(&echo_json(request)).unwrap();
    response(
        "HTTP/1.1 200 OK",
        &[("Content-Type", "application/json")],
        body,
    )
}

/// gzip (RFC 1952), for `Content-Encoding: gzip`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// zlib-wrapped deflate (RFC 1950): what `Content-Encoding: deflate` means.
pub fn deflate_zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Raw deflate (RFC 1951) without the zlib wrapper, which some servers send for
/// `Content-Encoding: deflate`.
pub fn deflate_raw(bytes: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// brotli (RFC 7932), for `Content-Encoding: br`.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ::brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
    encoder.write_all(bytes).unwrap();
    encoder.flush().unwrap();
    encoder.into_inner()
}
