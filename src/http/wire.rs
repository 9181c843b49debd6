//! HTTP/1.1 on one connection: write a request, read one response (Content-Length,
//! chunked or close-delimited body) with `httparse` doing the parsing. It keeps no
//! buffer between requests — an idle user's connection is just its socket, which is what
//! lets ten thousand idle users fit in a few KB each (hyper keeps ~16 KB per connection).

use std::cell::RefCell;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Headers a response may carry before we give up on it.
const MAX_HEADERS: usize = 128;
/// Buffers larger than this are not kept for the next request.
const POOLED_CAPACITY: usize = 64 * 1024;
/// Responses whose head is larger than this are refused.
const MAX_HEAD: usize = 1024 * 1024;

thread_local! {
    /// Per-thread spare buffers, so that requests do not allocate one each.
    static POOL: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// A buffer from this thread's pool, returned to it when dropped.
struct PooledBuf(BytesMut);

impl PooledBuf {
    fn take() -> Self {
        let buf = POOL
            .with(|p| p.borrow_mut().pop())
            .unwrap_or_else(|| BytesMut::with_capacity(8 * 1024));
        PooledBuf(buf)
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        if buf.capacity() <= POOLED_CAPACITY {
            buf.clear();
            POOL.with(|p| {
                let mut pool = p.borrow_mut();
                if pool.len() < 256 {
                    pool.push(buf);
                }
            });
        }
    }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether the connection can carry the next request.
    pub reusable: bool,
}

/// Why an exchange failed: before any byte of a response arrived (a stale keep-alive
/// connection can be retried then), or later.
pub enum WireError {
    NoResponse(std::io::Error),
    Broken(std::io::Error),
}

/// What a request needs on the wire.
pub struct Head<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub host: &'a HeaderValue,
    pub headers: &'a HeaderMap,
    pub cookie: Option<&'a str>,
    pub user_agent: &'a HeaderValue,
}

/// Writes the request and reads the whole response.
pub async fn exchange<S>(stream: &mut S, head: Head<'_>, body: &[u8]) -> Result<Response, WireError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = PooledBuf::take();
    encode(&mut buf.0, &head, body);
    stream
        .write_all(&buf.0)
        .await
        .map_err(WireError::NoResponse)?;
    stream.flush().await.map_err(WireError::NoResponse)?;
    buf.0.clear();
    read_response(stream, &mut buf.0, head.method == Method::HEAD).await
}

fn encode(out: &mut BytesMut, head: &Head<'_>, body: &[u8]) {
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.extend_from_slice(b" ");
    out.extend_from_slice(head.path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(head.host.as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut has_agent = false;
    for (name, value) in head.headers {
        if name == http::header::HOST || name == http::header::CONTENT_LENGTH {
            continue;
        }
        has_agent |= name == http::header::USER_AGENT;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !has_agent {
        out.extend_from_slice(b"user-agent: ");
        out.extend_from_slice(head.user_agent.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(cookie) = head.cookie {
        out.extend_from_slice(b"cookie: ");
        out.extend_from_slice(cookie.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // requests sends a length for every body, and for an empty POST/PUT/PATCH too.
    let bodyless = matches!(
        *head.method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    if !body.is_empty() || !bodyless {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut BytesMut) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(8 * 1024);
    }
    stream.read_buf(buf).await
}

fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.into())
}

async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    head_request: bool,
) -> Result<Response, WireError> {
    loop {
        let (status, headers, head_len, http10) = loop {
            let parsed = parse_head(buf).map_err(WireError::Broken)?;
            if let Some(parsed) = parsed {
                break parsed;
            }
            if buf.len() > MAX_HEAD {
                return Err(WireError::Broken(invalid("response head too large")));
            }
            let nothing_yet = buf.is_empty();
            match fill(stream, buf).await {
                Ok(0) if nothing_yet => {
                    return Err(WireError::NoResponse(
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ))
                }
                Ok(0) => return Err(WireError::Broken(std::io::ErrorKind::UnexpectedEof.into())),
                Ok(_) => {}
                Err(e) if nothing_yet => return Err(WireError::NoResponse(e)),
                Err(e) => return Err(WireError::Broken(e)),
            }
        };
        buf.advance(head_len);
        // 1xx answers (100 Continue, 103 Early Hints) precede the real one.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let mut reusable = keep_alive(&headers, http10);
        let body = if head_request || status == 204 || status == 304 || (100..200).contains(&status)
        {
            Bytes::new()
        } else if is_chunked(&headers) {
            read_chunked(stream, buf).await.map_err(WireError::Broken)?
        } else if let Some(length) = content_length(&headers).map_err(WireError::Broken)? {
            read_exact(stream, buf, length)
                .await
                .map_err(WireError::Broken)?
        } else {
            reusable = false;
            read_to_end(stream, buf).await.map_err(WireError::Broken)?
        };
        // Bytes past this response mean the server and we disagree on framing.
        if !buf.is_empty() {
            reusable = false;
        }
        return Ok(Response {
            status,
            headers,
            body,
            reusable,
        });
    }
}

type Head0 = (u16, HeaderMap, usize, bool);

fn parse_head(buf: &[u8]) -> std::io::Result<Option<Head0>> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut storage);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(format!("invalid HTTP response: {e}"))),
    };
    let status = response.code.unwrap_or(0);
    StatusCode::from_u16(status).map_err(|_| invalid(format!("invalid status {status}")))?;
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for header in response.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| invalid(format!("invalid header name {:?}", header.name)))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| invalid(format!("invalid value for header {name}")))?;
        headers.append(name, value);
    }
    Ok(Some((
        status,
        headers,
        head_len,
        response.version == Some(0),
    )))
}

fn keep_alive(headers: &HeaderMap, http10: bool) -> bool {
    let connection = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .fold((false, false), |(close, keep), token| {
            (
                close || token.eq_ignore_ascii_case("close"),
                keep || token.eq_ignore_ascii_case("keep-alive"),
            )
        });
    match connection {
        (true, _) => false,
        (false, keep) => !http10 || keep,
    }
}

fn is_chunked(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("chunked"))
        })
}

fn content_length(headers: &HeaderMap) -> std::io::Result<Option<usize>> {
    let Some(value) = headers.get(http::header::CONTENT_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| invalid("invalid content-length"))
}

async fn read_exact<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    length: usize,
) -> std::io::Result<Bytes> {
    while buf.len() < length {
        buf.reserve(length - buf.len());
        if stream.read_buf(buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(Bytes::copy_from_slice(&buf.split_to(length)))
}

async fn read_to_end<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
) -> std::io::Result<Bytes> {
    while fill(stream, buf).await? > 0 {}
    Ok(Bytes::copy_from_slice(&buf.split()))
}

async fn read_chunked<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
) -> std::io::Result<Bytes> {
    let mut body = BytesMut::new();
    loop {
        let (size_len, size) = loop {
            match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete((n, size))) => break (n, size as usize),
                Ok(httparse::Status::Partial) => {
                    if fill(stream, buf).await? == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(_) => return Err(invalid("invalid chunk size")),
            }
        };
        buf.advance(size_len);
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                if let Some(end) = find_crlf(buf) {
                    let empty = end == 0;
                    buf.advance(end + 2);
                    if empty {
                        return Ok(body.freeze());
                    }
                } else if fill(stream, buf).await? == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
        }
        while buf.len() < size + 2 {
            buf.reserve(size + 2 - buf.len());
            if stream.read_buf(buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(invalid("invalid chunk end"));
        }
        buf.advance(size + 2);
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn answer(raw: &'static [u8], method: Method) -> Result<Response, String> {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let _ = server.read(&mut request).await;
            let _ = server.write_all(raw).await;
        });
        let host = HeaderValue::from_static("h");
        let agent = HeaderValue::from_static("t");
        let headers = HeaderMap::new();
        let head = Head {
            method: &method,
            path: "/",
            host: &host,
            headers: &headers,
            cookie: None,
            user_agent: &agent,
        };
        exchange(&mut client, head, b"").await.map_err(|e| match e {
            WireError::NoResponse(e) => format!("no response: {e}"),
            WireError::Broken(e) => format!("broken: {e}"),
        })
    }

    #[tokio::test]
    async fn content_length_bodies() {
        let r = answer(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Cache: HIT\r\n\r\nhello",
            Method::GET,
        )
        .await
        .unwrap();
        assert_eq!(
            (r.status, &r.body[..], r.reusable),
            (200, &b"hello"[..], true)
        );
        assert_eq!(r.headers["x-cache"], "HIT");
    }

    #[tokio::test]
    async fn chunked_bodies_with_trailers() {
        let r = answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            Method::GET,
        )
        .await
        .unwrap();
        assert_eq!(&r.body[..], b"hello world");
        assert!(r.reusable);
    }

    #[tokio::test]
    async fn close_delimited_and_connection_close() {
        let r = answer(b"HTTP/1.0 200 OK\r\n\r\nuntil eof", Method::GET)
            .await
            .unwrap();
        assert_eq!((&r.body[..], r.reusable), (&b"until eof"[..], false));
        let r = answer(
            b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
            Method::GET,
        )
        .await
        .unwrap();
        assert_eq!((r.status, r.reusable), (404, false));
    }

    #[tokio::test]
    async fn head_and_no_content_have_no_body() {
        let r = answer(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
            Method::HEAD,
        )
        .await
        .unwrap();
        assert!(r.body.is_empty() && r.reusable);
        let r = answer(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            Method::DELETE,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 204);
    }

    #[tokio::test]
    async fn garbage_and_silence_are_errors() {
        assert!(answer(b"NOT HTTP\r\n\r\n", Method::GET)
            .await
            .unwrap_err()
            .starts_with("broken"));
        assert!(answer(b"", Method::GET)
            .await
            .unwrap_err()
            .starts_with("no response"));
        assert!(answer(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            Method::GET
        )
        .await
        .unwrap_err()
        .starts_with("broken"));
    }

    #[test]
    fn requests_are_encoded_like_requests_does() {
        let mut out = BytesMut::new();
        let host = HeaderValue::from_static("h:1");
        let agent = HeaderValue::from_static("locust-rs/test");
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let head = Head {
            method: &Method::POST,
            path: "/users?x=1",
            host: &host,
            headers: &headers,
            cookie: Some("a=1"),
            user_agent: &agent,
        };
        encode(&mut out, &head, b"{}");
        assert_eq!(
            &out[..],
            b"POST /users?x=1 HTTP/1.1\r\nhost: h:1\r\ncontent-type: application/json\r\nuser-agent: locust-rs/test\r\ncookie: a=1\r\ncontent-length: 2\r\n\r\n{}"
        );
    }
}
