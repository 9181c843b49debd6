//! A response head off the wire: the status line (reason phrase kept as the server sent
//! it, decoded as latin-1 like Python's http.client), the headers, and how the body is
//! framed (RFC 9112 §6.3). Only parsing: no I/O, no allocation sized by the peer.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::ProtocolError;

/// Python's http.client refuses a head with more lines than 100, the blank line that
/// ends it included: at most 99 headers.
pub const MAX_HEADERS: usize = 99;
/// And any head line longer than this, its line end included (`_MAXLINE`).
pub const MAX_LINE: usize = 65_536;

/// Status, reason and headers of one response.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: u16,
    /// As sent, latin-1 decoded and stripped (`404 File not found` keeps its words);
    /// borrowed when it is the code's usual phrase.
    pub reason: Cow<'static, str>,
    pub headers: HeaderMap,
    pub http10: bool,
}

/// How the body of a response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (HEAD, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// The status line, read by http.client's rules: `HTTP/` first, a code of 100-999.
struct StatusLine {
    status: u16,
    reason: Cow<'static, str>,
    http10: bool,
}

/// Parses a complete head from the start of `buf`; `Ok(None)` while more bytes are
/// needed. Returns the head and its length in bytes.
pub fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, ProtocolError> {
    let Some(line_end) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > MAX_LINE {
            return Err(ProtocolError::LineTooLong("status line"));
        }
        return Ok(None);
    };
    if line_end + 1 > MAX_LINE {
        return Err(ProtocolError::LineTooLong("status line"));
    }
    let line = status_line(&buf[..=line_end])?;
    let rest = &buf[line_end + 1..];
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let (headers, headers_len) = match httparse::parse_headers(rest, &mut storage) {
        Ok(httparse::Status::Complete((n, parsed))) => {
            check_line_lengths(&rest[..n])?;
            let mut headers = HeaderMap::with_capacity(parsed.len());
            for header in parsed.iter() {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(header.name.as_bytes()),
                    HeaderValue::from_bytes(header.value),
                ) {
                    headers.append(name, value);
                }
            }
            (headers, n)
        }
        Ok(httparse::Status::Partial) => {
            check_line_lengths(rest)?;
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(ProtocolError::TooManyHeaders),
        // A line httparse refuses: read the head as Python's email parser does.
        Err(_) => match lenient_headers(rest)? {
            Some(parsed) => parsed,
            None => return Ok(None),
        },
    };
    let head = ResponseHead {
        status: line.status,
        reason: line.reason,
        headers,
        http10: line.http10,
    };
    Ok(Some((head, line_end + 1 + headers_len)))
}

/// Headers as http.client's email parser takes them: a line that is no `name: value`
/// ends the headers (later ones are dropped, the head still ends at its blank line),
/// folded lines continue the previous one, a value that cannot be a header value is
/// skipped. The same line and count limits apply.
fn lenient_headers(rest: &[u8]) -> Result<Option<(HeaderMap, usize)>, ProtocolError> {
    let mut headers = HeaderMap::new();
    let mut collecting = true;
    let mut pos = 0;
    let mut lines = 0;
    loop {
        let Some(newline) = rest[pos..].iter().position(|&b| b == b'\n') else {
            check_line_lengths(&rest[pos..])?;
            return Ok(None);
        };
        let next = pos + newline + 1;
        if next - pos > MAX_LINE {
            return Err(ProtocolError::LineTooLong("header line"));
        }
        lines += 1;
        if lines > MAX_HEADERS + 1 {
            return Err(ProtocolError::TooManyHeaders);
        }
        let line = &rest[pos..pos + newline];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Ok(Some((headers, next)));
        }
        let folded = line.starts_with(b" ") || line.starts_with(b"\t");
        if collecting && !folded {
            let parsed = line.iter().position(|&b| b == b':').and_then(|colon| {
                // `Name : value` is no header to Python either: it ends the headers.
                let name = HeaderName::from_bytes(&line[..colon]).ok()?;
                Some((
                    name,
                    HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok(),
                ))
            });
            match parsed {
                Some((name, Some(value))) => {
                    headers.append(name, value);
                }
                Some((_, None)) => {}
                None => collecting = false,
            }
        }
        pos = next;
    }
}

/// What a head cut short by the end of the stream amounts to, read as http.client reads
/// it: a broken status line is a `BadStatusLine`; otherwise the headers end where the
/// bytes do. `Ok(None)` when nothing usable is left.
pub fn parse_truncated(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, ProtocolError> {
    if !buf.contains(&b'\n') {
        status_line(buf)?;
    }
    let mut closed = buf.to_vec();
    if !closed.ends_with(b"\n") {
        closed.extend_from_slice(b"\r\n");
    }
    closed.extend_from_slice(b"\r\n");
    // The added line end is not part of what was received.
    Ok(parse(&closed)?.map(|(head, _)| (head, buf.len())))
}

/// http.client's `_read_status` and `begin`: anything not starting `HTTP/` or with a
/// code outside 100-999 is a `BadStatusLine` (showing the line as received); a version
/// other than 1.x or 0.9 is an `UnknownProtocol`.
fn status_line(raw: &[u8]) -> Result<StatusLine, ProtocolError> {
    if let Some(line) = plain_status_line(raw) {
        return Ok(line);
    }
    let line = latin1(raw);
    let bad = || ProtocolError::BadStatusLine(line.clone());
    let mut words = line
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty());
    let version = words.next().unwrap_or("");
    if !version.starts_with("HTTP/") {
        return Err(bad());
    }
    let code = words.next().ok_or_else(bad)?;
    let status = parse_status(code).ok_or_else(bad)?;
    let http10 = match version {
        "HTTP/1.0" | "HTTP/0.9" => true,
        v if v.starts_with("HTTP/1.") => false,
        v => return Err(ProtocolError::UnknownProtocol(v.to_string())),
    };
    Ok(StatusLine {
        status,
        reason: Cow::Owned(reason_phrase(&line)),
        http10,
    })
}

/// The usual status line, `HTTP/1.1 200 OK\r\n` with the code's own reason phrase, read
/// without allocating; None for anything else (then read by the general rules).
fn plain_status_line(raw: &[u8]) -> Option<StatusLine> {
    let rest = raw.strip_prefix(b"HTTP/1.")?;
    let (&minor, rest) = rest.split_first()?;
    let http10 = match minor {
        b'1' => false,
        b'0' => true,
        _ => return None,
    };
    let rest = rest.strip_prefix(b" ")?;
    let digits = rest.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || rest.get(3) != Some(&b' ') {
        return None;
    }
    let status = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(100..=999).contains(&status) {
        return None;
    }
    let reason = rest[4..].strip_suffix(b"\n")?;
    let reason = reason.strip_suffix(b"\r").unwrap_or(reason);
    let canonical = http::StatusCode::from_u16(status)
        .ok()?
        .canonical_reason()?;
    (reason == canonical.as_bytes()).then_some(StatusLine {
        status,
        reason: Cow::Borrowed(canonical),
        http10,
    })
}

/// Python's `int()` of the code: digits (underscores between them allowed), a sign.
fn parse_status(code: &str) -> Option<u16> {
    let digits = code.strip_prefix('+').unwrap_or(code);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let value = digits
        .chars()
        .filter(|&c| c != '_')
        .try_fold(0u32, |n, c| n.checked_mul(10)?.checked_add(c.to_digit(10)?))?;
    u16::try_from(value)
        .ok()
        .filter(|s| (100..=999).contains(s))
}

/// Python reads head lines with a limit; a longer line (its end included) fails.
fn check_line_lengths(buf: &[u8]) -> Result<(), ProtocolError> {
    if buf.len() <= MAX_LINE {
        return Ok(());
    }
    let mut start = 0;
    for (i, &b) in buf.iter().enumerate() {
        if b == b'\n' {
            if i + 1 - start > MAX_LINE {
                return Err(ProtocolError::LineTooLong("header line"));
            }
            start = i + 1;
        }
    }
    if buf.len() - start > MAX_LINE {
        return Err(ProtocolError::LineTooLong("header line"));
    }
    Ok(())
}

/// The reason phrase: whatever follows the status code, stripped as Python's
/// `str.strip()` does; empty when the server sent none.
fn reason_phrase(line: &str) -> String {
    // `HTTP/1.1 404 File not found`: version, code, then the rest.
    let rest = line
        .trim_start()
        .split_once(|c: char| c.is_whitespace())
        .map(|(_, rest)| rest.trim_start())
        .and_then(|rest| rest.split_once(|c: char| c.is_whitespace()))
        .map(|(_, reason)| reason)
        .unwrap_or("");
    py_strip(rest).to_string()
}

/// Python's `str.strip()` with no argument (Unicode whitespace, which includes the
/// latin-1 `\x85` and `\xa0` and the ASCII separators `\x1c`-`\x1f`).
fn py_strip(s: &str) -> &str {
    let space = |c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c);
    s.trim_matches(space)
}

/// Bytes as latin-1 text: every byte is one character, as `str(b, 'iso-8859-1')`.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// How the body is framed, given the request method and the head, as urllib3 decides:
/// chunked when any transfer coding is `chunked`, else the Content-Length when it is a
/// number, else until the close. Differing lengths fail the response.
pub fn framing(head: &ResponseHead, head_request: bool) -> Result<Framing, ProtocolError> {
    let status = head.status;
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    let chunked = head
        .headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
    if chunked {
        return Ok(Framing::Chunked);
    }
    match content_length(&head.headers)? {
        Some(length) => Ok(Framing::Length(length)),
        None => Ok(Framing::UntilClose),
    }
}

/// The Content-Length: every copy and list item read as Python's `int()`; differing
/// values fail (urllib3's InvalidHeader), a value that is no number or negative is
/// ignored (the body then runs to the close, as http.client reads it).
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ProtocolError> {
    let mut all = headers.get_all(http::header::CONTENT_LENGTH).iter();
    // The usual case, one plain number, without allocating.
    if let (Some(only), None) = (all.next(), all.next()) {
        let digits = only.as_bytes();
        if !digits.is_empty() && digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit) {
            return Ok(Some(
                digits
                    .iter()
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')),
            ));
        }
    }
    let values: Vec<String> = headers
        .get_all(http::header::CONTENT_LENGTH)
        .iter()
        .map(|v| latin1(v.as_bytes()))
        .collect();
    if values.is_empty() {
        return Ok(None);
    }
    let joined = values.join(", ");
    let mut lengths = Vec::new();
    for item in joined.split(',') {
        match py_int(item) {
            Some(n) => lengths.push(n),
            None => return Ok(None),
        }
    }
    lengths.sort_unstable();
    lengths.dedup();
    match lengths.as_slice() {
        [length] if *length >= 0 => Ok(u64::try_from(*length).ok()),
        [_] => Ok(None),
        _ => Err(ProtocolError::ConflictingContentLength(joined)),
    }
}

/// Python's `int()` of a decimal text: whitespace around, a sign, underscores between
/// digits. None when it is not one, or does not fit 128 bits.
fn py_int(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let value = digits
        .chars()
        .filter(|&c| c != '_')
        .try_fold(0i128, |n, c| {
            n.checked_mul(10)?.checked_add(i128::from(c.to_digit(10)?))
        })?;
    Some(if negative { -value } else { value })
}

/// Whether the connection may carry another request after this response.
pub fn keep_alive(head: &ResponseHead) -> bool {
    if head.status == 101 {
        // The connection now speaks another protocol.
        return false;
    }
    let (close, keep) = head
        .headers
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
    !close && (!head.http10 || keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &[u8]) -> ResponseHead {
        parse(raw).unwrap().unwrap().0
    }

    #[test]
    fn reason_phrases_are_kept_as_sent() {
        assert_eq!(
            head(b"HTTP/1.1 404 File not found\r\n\r\n").reason,
            "File not found"
        );
        assert_eq!(
            head(b"HTTP/1.1 503 Oops, \"bad\"\r\n\r\n").reason,
            "Oops, \"bad\""
        );
        assert_eq!(head(b"HTTP/1.1 500\r\n\r\n").reason, "");
        assert_eq!(head(b"HTTP/1.1 500 \r\n\r\n").reason, "");
        assert_eq!(head(b"HTTP/1.1 200 Caf\xe9\r\n\r\n").reason, "Caf\u{e9}");
        assert_eq!(
            head(b"HTTP/1.1 200  two  spaces \r\n\r\n").reason,
            "two  spaces"
        );
    }

    #[test]
    fn lengths_are_checked_not_trusted() {
        let framing_of = |raw: &[u8]| framing(&head(raw), false);
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n"),
            Ok(Framing::Length(1_000_000_000_000_000_000))
        );
        // Not a usable number: the body runs to the close, as http.client reads it.
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Ok(Framing::UntilClose)
        );
        assert!(matches!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(ProtocolError::ConflictingContentLength(_))
        ));
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"),
            Ok(Framing::Length(1))
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"),
            Err(ProtocolError::ConflictingContentLength("5, 6".into()))
        );
        assert_eq!(
            framing_of(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"
            ),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Ok(Framing::UntilClose)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            framing(&head(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"), true),
            Ok(Framing::Empty)
        );
    }

    #[test]
    fn a_line_that_is_no_header_ends_the_headers_as_in_python() {
        let (h, len) =
            parse(b"HTTP/1.1 200 OK\r\nA: 1\r\nno colon here\r\nContent-Length: 5\r\n\r\nhello")
                .unwrap()
                .unwrap();
        assert_eq!(h.headers.len(), 1);
        assert_eq!(h.headers["a"], "1");
        assert_eq!(len, 59);
        let (h, _) = parse(b"HTTP/1.1 200 OK\r\nX-Junk\x01: v\r\nB: 2\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.headers.get("b").is_none());
    }

    #[test]
    fn switching_protocols_is_never_reused() {
        assert!(!keep_alive(&head(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        )));
        assert!(keep_alive(&head(b"HTTP/1.1 200 OK\r\n\r\n")));
        assert!(!keep_alive(&head(b"HTTP/1.0 200 OK\r\n\r\n")));
        assert!(keep_alive(&head(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"
        )));
        assert!(!keep_alive(&head(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
        )));
    }

    #[test]
    fn oversized_heads_fail() {
        let mut long = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_LINE + 10));
        assert_eq!(
            parse(&long).unwrap_err(),
            ProtocolError::LineTooLong("header line")
        );
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend(b"\r\n");
        assert_eq!(parse(&many).unwrap_err(), ProtocolError::TooManyHeaders);
    }

    #[test]
    fn status_lines_follow_http_client() {
        let err = |raw: &[u8]| parse(raw).unwrap_err();
        assert_eq!(
            err(b"NOT HTTP\r\n\r\n"),
            ProtocolError::BadStatusLine("NOT HTTP\r\n".into())
        );
        assert_eq!(
            err(b"http/1.1 200 OK\r\n\r\n"),
            ProtocolError::BadStatusLine("http/1.1 200 OK\r\n".into())
        );
        assert_eq!(
            err(b"HTTP/1.1 099 Low\r\n\r\n"),
            ProtocolError::BadStatusLine("HTTP/1.1 099 Low\r\n".into())
        );
        assert_eq!(
            err(b"HTTP/1.1 1000 T\r\n\r\n"),
            ProtocolError::BadStatusLine("HTTP/1.1 1000 T\r\n".into())
        );
        assert_eq!(
            err(b"HTTP/2 200 OK\r\n\r\n"),
            ProtocolError::UnknownProtocol("HTTP/2".into())
        );
        assert_eq!(head(b"HTTP/1.1  200  OK\r\n\r\n").status, 200);
        assert!(!head(b"HTTP/1.2 200 OK\r\n\r\n").http10);
        assert!(head(b"HTTP/0.9 200 OK\r\n\r\n").http10);
        assert_eq!(
            parse_truncated(b"HTTP/1.1 20").unwrap_err(),
            ProtocolError::BadStatusLine("HTTP/1.1 20".into())
        );
        assert_eq!(
            parse_truncated(b"hello").unwrap_err(),
            ProtocolError::BadStatusLine("hello".into())
        );
        let (cut, len) = parse_truncated(b"HTTP/1.1 200 OK\r\nX-A: 1")
            .unwrap()
            .unwrap();
        assert_eq!((cut.status, len), (200, 23));
        assert_eq!(cut.headers["x-a"], "1");
    }
}
