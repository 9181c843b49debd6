//! HTTP/1.1 on one connection: write a request, read one response. `head` parses the
//! status line and headers, `body` follows the framing into a decoding `BodyReader`,
//! `encode` writes the request head. No buffer outlives an exchange — an idle user's
//! connection is just its socket, which is what lets ten thousand idle users fit in a
//! few KB each (hyper keeps ~16 KB per connection). Everything the server says is
//! checked before it is believed; a read waits at most the read timeout.

mod body;
pub mod encode;
pub mod head;

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::decode::{BodyReader, DecodeError};
use encode::RequestHead;
use head::Framing;

/// Buffers larger than this are not kept for the next request.
const POOLED_CAPACITY: usize = 64 * 1024;
/// Responses whose head is larger than this are refused.
const MAX_HEAD: usize = 1024 * 1024;
/// Requests up to this size are written in one go; larger bodies are written while
/// watching for an early answer (a 413 before the upload is read).
const WATCHED_WRITE: usize = 64 * 1024;

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

/// What bounds one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest wait for the next bytes (requests' read timeout).
    pub read_timeout: Duration,
    /// The largest decoded body kept for checks.
    pub max_body: u64,
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub reason: std::borrow::Cow<'static, str>,
    pub headers: HeaderMap,
    /// The decoded body, when it was asked for.
    pub body: Bytes,
    /// The decoded length, kept or not (what Locust records).
    pub length: u64,
    /// Whether the connection can carry the next request.
    pub reusable: bool,
}

/// A response the server got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    BadStatusLine(String),
    LineTooLong(&'static str),
    TooManyHeaders,
    /// Content-Length values that disagree, as joined by urllib3 (`5, 6`).
    ConflictingContentLength(String),
    /// A version other than HTTP/1.x.
    UnknownProtocol(String),
    /// The chunk-size line as received (bounded), and the body bytes read before it.
    BadChunkSize {
        line: Vec<u8>,
        read: u64,
    },
    /// The body ended before its announced end.
    IncompleteRead {
        read: u64,
        expected: Option<u128>,
    },
    /// A chunked body ended between chunks.
    ResponseEndedPrematurely,
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum WireError {
    /// Nothing at all came back: the server closed or reset the connection, or the
    /// request could not be written. Only this may be retried on a reused connection.
    NoResponse(std::io::Error),
    /// The connection failed while the head was coming in.
    Aborted(std::io::Error),
    /// The connection failed while the body was coming in.
    Io(std::io::Error),
    /// No bytes within the read timeout, waiting for the head or inside the body.
    ReadTimeout {
        in_body: bool,
    },
    Protocol(ProtocolError),
    Decode(DecodeError),
}

/// Writes the request and reads the whole response; `keep_body` keeps the decoded body
/// (up to `limits.max_body`) for checks, otherwise it is only counted.
pub async fn exchange<S>(
    stream: &mut S,
    head: &RequestHead<'_>,
    body: &[u8],
    keep_body: bool,
    limits: &Limits,
) -> Result<Response, WireError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = PooledBuf::take();
    let buf = &mut buf.0;
    encode::encode(buf, head, body.len());
    let answered_early = if buf.len() + body.len() <= WATCHED_WRITE {
        buf.extend_from_slice(body);
        let written = write_all(stream, buf, limits).await;
        buf.clear();
        written
    } else {
        let head_bytes = buf.split().freeze();
        // Boxed, as the rare paths below: their state would grow every exchange.
        match write_all(stream, &head_bytes, limits).await {
            Ok(_) => Box::pin(write_watching(stream, body, buf, limits)).await,
            Err(e) => Err(e),
        }
    };
    let answered_early = match answered_early {
        Ok(early) => early,
        Err(error) => Box::pin(answer_after_failed_write(stream, buf, error, limits)).await?,
    };
    let mut response =
        read_response(stream, buf, head.method == Method::HEAD, keep_body, limits).await?;
    if answered_early {
        // The server stopped reading our request: the connection is out of step.
        response.reusable = false;
    }
    Ok(response)
}

/// After a failed write the server may still have answered (a 413 before the upload,
/// then a close): that answer is the result. Returns whether it answered early.
async fn answer_after_failed_write<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    error: WireError,
    limits: &Limits,
) -> Result<bool, WireError> {
    if buf.is_empty() {
        // Whatever reached the socket before the failure is still readable.
        let short = Limits {
            read_timeout: limits.read_timeout.min(Duration::from_millis(100)),
            ..*limits
        };
        if !matches!(read_more(stream, buf, &short).await, Ok(n) if n > 0) {
            return Err(error);
        }
    }
    match head::parse(buf) {
        Ok(Some(_)) => Ok(true),
        _ => Err(error),
    }
}

async fn write_all<S: AsyncWrite + Unpin>(
    stream: &mut S,
    data: &[u8],
    limits: &Limits,
) -> Result<bool, WireError> {
    let write = async {
        stream.write_all(data).await?;
        stream.flush().await
    };
    match tokio::time::timeout(limits.read_timeout, write).await {
        Ok(Ok(())) => Ok(false),
        Ok(Err(e)) => Err(WireError::NoResponse(e)),
        Err(_) => Err(WireError::ReadTimeout { in_body: false }),
    }
}

/// Writes a large body while reading: bytes from the server before the body is all
/// sent mean it answered early, and writing stops. Ok(true) in that case.
async fn write_watching<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mut data: &[u8],
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<bool, WireError> {
    while !data.is_empty() {
        let step = poll_fn(|cx| {
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(8 * 1024);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut *stream), cx, buf) {
                Poll::Ready(Ok(n)) if n > 0 => return Poll::Ready(Ok(None)),
                // The server closed its side: the write below fails or the read after
                // tells what happened.
                Poll::Ready(Ok(_)) => return Poll::Ready(Ok(None)),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
            Pin::new(&mut *stream)
                .poll_write(cx, data)
                .map(|r| r.map(Some))
        });
        match tokio::time::timeout(limits.read_timeout, step).await {
            Ok(Ok(Some(0))) => {
                return Err(WireError::NoResponse(std::io::ErrorKind::WriteZero.into()))
            }
            Ok(Ok(Some(n))) => data = &data[n..],
            Ok(Ok(None)) => return Ok(true),
            Ok(Err(e)) => return Err(WireError::NoResponse(e)),
            Err(_) => return Err(WireError::ReadTimeout { in_body: false }),
        }
    }
    match tokio::time::timeout(limits.read_timeout, stream.flush()).await {
        Ok(Ok(())) => Ok(false),
        Ok(Err(e)) => Err(WireError::NoResponse(e)),
        Err(_) => Err(WireError::ReadTimeout { in_body: false }),
    }
}

/// Reads more bytes into `buf` within the read timeout; Ok(0) at the end of the stream.
async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<usize, WireError> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16 * 1024);
    }
    match tokio::time::timeout(limits.read_timeout, stream.read_buf(buf)).await {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(WireError::Io(e)),
        Err(_) => Err(WireError::ReadTimeout { in_body: false }),
    }
}

async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    head_request: bool,
    keep_body: bool,
    limits: &Limits,
) -> Result<Response, WireError> {
    loop {
        let (head, head_len) = loop {
            if let Some(parsed) = head::parse(buf).map_err(WireError::Protocol)? {
                break parsed;
            }
            if buf.len() > MAX_HEAD {
                return Err(WireError::Protocol(ProtocolError::LineTooLong(
                    "header line",
                )));
            }
            let nothing_yet = buf.is_empty();
            match read_more(stream, buf, limits).await {
                Ok(0) if nothing_yet => {
                    return Err(WireError::NoResponse(
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ))
                }
                Ok(0) => match head::parse_truncated(buf).map_err(WireError::Protocol)? {
                    Some(parsed) => break parsed,
                    None => {
                        return Err(WireError::NoResponse(
                            std::io::ErrorKind::UnexpectedEof.into(),
                        ))
                    }
                },
                Ok(_) => {}
                Err(WireError::Io(e)) if nothing_yet => return Err(WireError::NoResponse(e)),
                Err(WireError::Io(e)) => return Err(WireError::Aborted(e)),
                Err(e) => return Err(e),
            }
        };
        let _ = buf.split_to(head_len);
        // 1xx answers (100 Continue, 103 Early Hints) precede the real one.
        if (100..200).contains(&head.status) && head.status != 101 {
            continue;
        }
        let framing = head::framing(&head, head_request).map_err(WireError::Protocol)?;
        let mut reader = BodyReader::new(
            &head.headers,
            keep_body && framing != Framing::Empty,
            limits.max_body,
        )
        .map_err(WireError::Decode)?;
        body::read_body(stream, buf, framing, &mut reader, limits).await?;
        let body = reader.finish().map_err(WireError::Decode)?;
        // Bytes past this response mean the server and we disagree on framing.
        let reusable = head::keep_alive(&head) && framing != Framing::UntilClose && buf.is_empty();
        return Ok(Response {
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            body: body.bytes,
            length: body.length,
            reusable,
        });
    }
}

#[cfg(test)]
mod tests;
