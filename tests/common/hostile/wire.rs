//! Reading HTTP/1.1 heads and bodies off a socket, leniently, for the hostile server and
//! the proxy: a head ends at the first blank line (at most 64 KiB), header values keep
//! their bytes, a body is Content-Length or chunked.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

pub const MAX_HEAD: usize = 64 * 1024;
/// How much of a body is kept (all of it is read and counted).
pub const KEEP_BODY: usize = 1 << 20;
const MAX_LINE: usize = 8 * 1024;
const MAX_CHUNKS: usize = 1_000_000;
const MAX_TRAILERS: usize = 100;

/// A parsed head. For a response head, `method` is the version and `target` the status.
pub struct Head {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Request line to the blank line, CRLFs included.
    pub raw: Vec<u8>,
}

pub enum HeadRead {
    Head(Head),
    /// The peer closed (or the read failed) before a whole head arrived; what it did send
    /// is left in the buffer.
    Closed,
    TooLarge,
    /// No method and target in the first line; the raw head.
    Malformed(Vec<u8>),
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn find_header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// The lines of `text` split at CRLF.
pub fn lines(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = find(rest, b"\r\n") {
        out.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    out.push(rest);
    out
}

fn trim(bytes: &[u8]) -> &[u8] {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Comma-separated tokens of every `name` header, trimmed and lower-cased.
fn tokens(headers: &[(String, Vec<u8>)], name: &str) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(|b| *b == b','))
        .map(|t| String::from_utf8_lossy(trim(t)).to_ascii_lowercase())
        .collect()
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find_header(&self.headers, name)
    }

    /// The first Content-Length, when it is a number.
    pub fn content_length(&self) -> Option<u64> {
        let value = self.header("content-length")?;
        std::str::from_utf8(value).ok()?.trim().parse().ok()
    }

    pub fn chunked(&self) -> bool {
        tokens(&self.headers, "transfer-encoding")
            .last()
            .map(String::as_str)
            == Some("chunked")
    }

    /// `Connection: close`, or HTTP/1.0 without `Connection: keep-alive`.
    pub fn wants_close(&self) -> bool {
        let connection = tokens(&self.headers, "connection");
        connection.iter().any(|t| t == "close")
            || (self.version.eq_ignore_ascii_case("HTTP/1.0")
                && !connection.iter().any(|t| t == "keep-alive"))
    }

    pub fn expects_continue(&self) -> bool {
        tokens(&self.headers, "expect")
            .iter()
            .any(|t| t == "100-continue")
    }
}

fn parse_head(raw: Vec<u8>) -> Result<Head, Vec<u8>> {
    let text = &raw[..raw.len() - 4];
    let all = lines(text);
    let first = String::from_utf8_lossy(all[0]).into_owned();
    let mut words = first.split(' ').filter(|w| !w.is_empty());
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Err(raw);
    };
    let (method, target) = (method.to_string(), target.to_string());
    let version = words.next().unwrap_or("").to_string();
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in &all[1..] {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // obs-fold: a continuation of the previous value.
            if let Some((_, value)) = headers.last_mut() {
                value.push(b' ');
                value.extend_from_slice(trim(line));
                continue;
            }
        }
        let (name, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => (&line[..i], trim(&line[i + 1..])),
            None => (&line[..], &b""[..]),
        };
        headers.push((String::from_utf8_lossy(name).into_owned(), value.to_vec()));
    }
    Ok(Head {
        method,
        target,
        version,
        headers,
        raw,
    })
}

/// Reads one head. `buf` holds bytes already read from `stream` and keeps what follows
/// the head (the start of a body, or a pipelined request). Blank lines before a request
/// line are skipped.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> HeadRead {
    let mut chunk = vec![0u8; 16 * 1024];
    // Each pass reads at least one byte and the head is capped: bounded.
    loop {
        while buf.starts_with(b"\r\n") {
            buf.drain(..2);
        }
        if let Some(i) = find(buf, b"\r\n\r\n") {
            let raw: Vec<u8> = buf.drain(..i + 4).collect();
            return match parse_head(raw) {
                Ok(head) => HeadRead::Head(head),
                Err(raw) => HeadRead::Malformed(raw),
            };
        }
        if buf.len() >= MAX_HEAD {
            return HeadRead::TooLarge;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return HeadRead::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A body as it is read: its length so far and its first [`KEEP_BODY`] bytes. Filled in
/// place so a caller that gives up (timeout) still knows how much arrived.
#[derive(Default)]
pub struct Body {
    pub len: u64,
    pub kept: Vec<u8>,
}

impl Body {
    fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        let room = KEEP_BODY.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// Reads the body `head` announces (chunked, else Content-Length, else none) into `body`.
pub async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    head: &Head,
    body: &mut Body,
) -> io::Result<()> {
    if head.chunked() {
        read_chunked(stream, buf, body).await
    } else if let Some(len) = head.content_length() {
        read_len(stream, buf, len, body).await
    } else if head.header("content-length").is_some() {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad Content-Length",
        ))
    } else {
        Ok(())
    }
}

async fn read_len<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    len: u64,
    body: &mut Body,
) -> io::Result<()> {
    let from_buf = buf.len().min(usize::try_from(len).unwrap_or(usize::MAX));
    body.push(&buf[..from_buf]);
    buf.drain(..from_buf);
    let mut left = len - from_buf as u64;
    let mut chunk = vec![0u8; 64 * 1024];
    // Each pass reads at least one byte of `left`: bounded.
    while left > 0 {
        let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.push(&chunk[..n]);
        left -= n as u64;
    }
    Ok(())
}

/// One CRLF-terminated line (without the CRLF), at most 8 KiB.
async fn read_line<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(i) = find(buf, b"\r\n") {
            let line = buf[..i].to_vec();
            buf.drain(..i + 2);
            return Ok(line);
        }
        if buf.len() > MAX_LINE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_chunked<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    body: &mut Body,
) -> io::Result<()> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    for _ in 0..MAX_CHUNKS {
        let line = read_line(stream, buf).await?;
        let size = line.split(|b| *b == b';').next().unwrap_or(&[]);
        let size = std::str::from_utf8(trim(size)).map_err(|_| invalid("chunk size"))?;
        let size = u64::from_str_radix(size, 16).map_err(|_| invalid("chunk size"))?;
        if size == 0 {
            for _ in 0..MAX_TRAILERS {
                if read_line(stream, buf).await?.is_empty() {
                    return Ok(());
                }
            }
            return Err(invalid("too many trailers"));
        }
        read_len(stream, buf, size, body).await?;
        if !read_line(stream, buf).await?.is_empty() {
            return Err(invalid("no CRLF after chunk data"));
        }
    }
    Err(invalid("too many chunks"))
}
