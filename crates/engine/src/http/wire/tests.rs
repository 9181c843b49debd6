//! The wire layer against scripted peers: framing, limits, early answers, and a seeded
//! fuzz of whole responses fed in random pieces (no panic, no buffer the peer sized).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::encode::DefaultHeaders;
use super::*;

const LIMITS: Limits = Limits {
    read_timeout: Duration::from_secs(5),
    max_body: 1 << 20,
};

fn head_for<'a>(
    method: &'a Method,
    host: &'a HeaderValue,
    defaults: &'a DefaultHeaders,
    headers: &'a HeaderMap,
) -> RequestHead<'a> {
    RequestHead {
        method,
        target: "/",
        host,
        defaults,
        headers,
        authorization: None,
        proxy_authorization: None,
        cookie: None,
    }
}

async fn answer(raw: &'static [u8], method: Method) -> Result<Response, String> {
    answer_with(raw, method, true, LIMITS).await
}

async fn answer_with(
    raw: &'static [u8],
    method: Method,
    keep: bool,
    limits: Limits,
) -> Result<Response, String> {
    let (mut client, mut server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut request = vec![0u8; 4096];
        let _ = server.read(&mut request).await;
        let _ = server.write_all(raw).await;
    });
    let host = HeaderValue::from_static("h");
    let defaults = DefaultHeaders::new(HeaderValue::from_static("t"));
    let headers = HeaderMap::new();
    let head = head_for(&method, &host, &defaults, &headers);
    exchange(&mut client, &head, b"", keep, &limits)
        .await
        .map_err(|e| format!("{e:?}"))
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
        (r.status, &r.body[..], r.length, r.reusable),
        (200, &b"hello"[..], 5, true)
    );
    assert_eq!(r.headers["x-cache"], "HIT");
    assert_eq!(r.reason, "OK");
}

#[tokio::test]
async fn bodies_nobody_reads_are_counted_not_kept() {
    let r = answer_with(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        Method::GET,
        false,
        LIMITS,
    )
    .await
    .unwrap();
    assert_eq!((r.body.len(), r.length, r.reusable), (0, 5, true));
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
async fn lying_lengths_are_failures_not_allocations() {
    // Each of these once aborted the process or panicked: now a failed request.
    let huge = answer(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\nabc",
        Method::GET,
    )
    .await;
    assert!(huge
        .unwrap_err()
        .contains("IncompleteRead { read: 3, expected: Some(999999999999999997) }"));
    let chunk = answer(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffff\r\nabc",
        Method::GET,
    )
    .await;
    assert!(chunk
        .unwrap_err()
        .contains("IncompleteRead { read: 3, expected: Some(10237) }"));
    let overflow = answer(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
        Method::GET,
    )
    .await;
    // urllib3 reads a chunk in pieces of 10240 bytes: the cut piece is what it reports.
    assert!(overflow
        .unwrap_err()
        .contains("IncompleteRead { read: 3, expected: Some(10237) }"));
    let beyond = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffffffffffffffffffff\r\nabc", Method::GET).await;
    assert!(beyond.unwrap_err().contains("BadChunkSize"));
    let garbage = answer(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        Method::GET,
    )
    .await;
    assert!(garbage
        .unwrap_err()
        .contains("BadChunkSize { line: [122, 122, 13, 10], read: 5 }"));
    let conflict = answer(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        Method::GET,
    )
    .await;
    assert!(conflict.unwrap_err().contains("ConflictingContentLength"));
}

#[tokio::test]
async fn kept_bodies_have_a_limit() {
    let limits = Limits {
        max_body: 4,
        ..LIMITS
    };
    let r = answer_with(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        Method::GET,
        true,
        limits,
    )
    .await;
    assert!(r.unwrap_err().contains("TooLarge { limit: 4 }"));
    let r = answer_with(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        Method::GET,
        false,
        limits,
    )
    .await;
    assert_eq!(r.unwrap().length, 5);
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
    let r = answer(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        Method::GET,
    )
    .await
    .unwrap();
    assert_eq!((r.status, r.reusable), (101, false));
}

#[tokio::test]
async fn garbage_and_silence_are_errors() {
    assert!(answer(b"NOT HTTP\r\n\r\n", Method::GET)
        .await
        .unwrap_err()
        .contains("BadStatusLine"));
    assert!(answer(b"", Method::GET)
        .await
        .unwrap_err()
        .starts_with("NoResponse"));
    assert!(answer(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        Method::GET
    )
    .await
    .unwrap_err()
    .contains("IncompleteRead { read: 5, expected: Some(5) }"));
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_is_a_read_timeout() {
    let (mut client, _server) = tokio::io::duplex(1024);
    let host = HeaderValue::from_static("h");
    let defaults = DefaultHeaders::new(HeaderValue::from_static("t"));
    let headers = HeaderMap::new();
    let head = head_for(&Method::GET, &host, &defaults, &headers);
    let limits = Limits {
        read_timeout: Duration::from_millis(500),
        ..LIMITS
    };
    let error = exchange(&mut client, &head, b"", true, &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(error, WireError::ReadTimeout { in_body: false }),
        "{error:?}"
    );
}

/// Yields the scripted bytes in the scripted piece sizes, then the end of the stream;
/// writes are swallowed.
struct Scripted {
    data: Vec<u8>,
    pos: usize,
    pieces: Vec<usize>,
    piece: usize,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = &mut *self;
        let size = me
            .pieces
            .get(me.piece % me.pieces.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        me.piece += 1;
        let end = (me.pos + size)
            .min(me.data.len())
            .min(me.pos + out.remaining());
        out.put_slice(&me.data[me.pos..end]);
        me.pos = end;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// xorshift64: a fixed seed gives the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A response that is almost right: real status lines, headers and framings, with
/// lengths, sizes, encodings and bytes chosen to hit the edges.
fn hostile_response(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(
        rng.pick(&[
            "HTTP/1.1 ",
            "HTTP/1.0 ",
            "HTTP/1.1  ",
            "HTTP/2 ",
            "HTTP/1.1",
            "http/1.1 ",
        ])
        .as_bytes(),
    );
    out.extend_from_slice(
        rng.pick(&[
            "200", "100", "101", "204", "304", "404", "999", "20", "abc", "1000",
        ])
        .as_bytes(),
    );
    out.extend_from_slice(
        rng.pick(&[" OK", "", " ", " Caf\u{e9}", " \x7f", " a\tb"])
            .as_bytes(),
    );
    out.extend_from_slice(b"\r\n");
    for _ in 0..rng.below(6) {
        let header = match rng.below(9) {
            0 => format!(
                "Content-Length: {}",
                rng.pick(&[
                    "0",
                    "5",
                    "18446744073709551615",
                    "18446744073709551616",
                    "-1",
                    "5, 6",
                    "1000000000000000000",
                    " 3 "
                ])
            ),
            1 => format!(
                "Transfer-Encoding: {}",
                rng.pick(&["chunked", "gzip, chunked", "gzip", "chunked, identity", ""])
            ),
            2 => format!(
                "Content-Encoding: {}",
                rng.pick(&["gzip", "deflate", "br", "gzip, br", "x-gzip", "foo", "identity"])
            ),
            3 => format!(
                "Connection: {}",
                rng.pick(&["close", "keep-alive", "upgrade"])
            ),
            4 => "X-Junk\x01: v".to_string(),
            5 => "no colon here".to_string(),
            6 => format!("X-Long: {}", "a".repeat(rng.below(70_000) as usize)),
            _ => format!("X-{}: {}", rng.below(1000), rng.below(1 << 40)),
        };
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    for _ in 0..rng.below(5) {
        match rng.below(6) {
            0 => out.extend_from_slice(format!("{:x}\r\n", rng.below(1 << 20)).as_bytes()),
            1 => out.extend_from_slice(
                rng.pick(&[
                    "ffffffffffffffff\r\n",
                    "7fffffffffff\r\n",
                    "0\r\n\r\n",
                    "zz\r\n",
                    "5;ext\r\nhello\r\n",
                    "\r\n",
                ])
                .as_bytes(),
            ),
            2 => out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            _ => {
                let n = rng.below(300) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.extend_from_slice(&bytes);
            }
        }
    }
    out
}

/// `cases`, or more with `LOCUST_RS_FUZZ_CASES` (as `make fuzz` sets it).
fn fuzz_cases(cases: u64) -> u64 {
    std::env::var("LOCUST_RS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases)
}

/// Runs seeded cases of almost-right responses.
async fn fuzz(cases: u64, seed: u64) {
    let cases = fuzz_cases(cases);
    let mut rng = Rng(seed);
    let host = HeaderValue::from_static("h");
    let defaults = DefaultHeaders::new(HeaderValue::from_static("t"));
    let headers = HeaderMap::new();
    let limits = Limits {
        read_timeout: Duration::from_secs(1),
        max_body: 64 * 1024,
    };
    for case in 0..cases {
        let data = hostile_response(&mut rng);
        let pieces: Vec<usize> = (0..1 + rng.below(4))
            .map(|_| 1 + rng.below(9000) as usize)
            .collect();
        let mut stream = Scripted {
            data,
            pos: 0,
            pieces,
            piece: 0,
        };
        let method = if case % 7 == 0 {
            Method::HEAD
        } else {
            Method::GET
        };
        let head = head_for(&method, &host, &defaults, &headers);
        let keep = case % 2 == 0;
        if let Ok(response) = exchange(&mut stream, &head, b"", keep, &limits).await {
            assert!(
                response.body.len() as u64 <= limits.max_body,
                "case {case}: body over the limit"
            );
            if !keep {
                assert!(
                    response.body.is_empty(),
                    "case {case}: a counted body was kept"
                );
            }
        }
    }
}

#[tokio::test]
async fn fuzz_hostile_responses() {
    fuzz(20_000, 0x9e37_79b9_7f4a_7c15).await;
}

#[tokio::test]
async fn fuzz_random_bytes() {
    let cases = fuzz_cases(10_000);
    let mut rng = Rng(0x243f_6a88_85a3_08d3);
    let host = HeaderValue::from_static("h");
    let defaults = DefaultHeaders::new(HeaderValue::from_static("t"));
    let headers = HeaderMap::new();
    for _ in 0..cases {
        let mut data = b"HTTP/1.1 200 OK\r\n".to_vec();
        let n = rng.below(2000) as usize;
        data.extend((0..n).map(|_| match rng.below(8) {
            0 => b'\r',
            1 => b'\n',
            2 => b':',
            3 => b'0' + rng.below(10) as u8,
            _ => rng.next() as u8,
        }));
        let mut stream = Scripted {
            data,
            pos: 0,
            pieces: vec![1 + rng.below(100) as usize],
            piece: 0,
        };
        let head = head_for(&Method::GET, &host, &defaults, &headers);
        let _ = exchange(&mut stream, &head, b"", true, &LIMITS).await;
    }
}
