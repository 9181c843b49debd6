//! Transport and protocol failures as the strings Locust 2.47's HttpUser records, byte
//! for byte (measured side by side against the same servers): `RemoteDisconnected(...)`,
//! `ChunkedEncodingError(ProtocolError('Connection broken: IncompleteRead(...)', ...))`,
//! `ReadTimeout(ReadTimeoutError("HTTPConnectionPool(...): Read timed out. ..."))`, and
//! the innermost OS error for connection failures. A different text would be a different
//! failure row for every tool that reads Locust's CSV.

use locust_stats::pyrepr::{repr_float, repr_str};

use super::client::Timeouts;
use super::decode::DecodeError;
use super::proxy::{Proxy, TunnelError};
use super::target::Origin;
use super::wire::{ProtocolError, WireError};

/// What an error message names: the origin (urllib3's pool), the timeouts, the proxy.
pub struct Context<'a> {
    pub origin: &'a Origin,
    pub timeouts: Timeouts,
    pub proxy: Option<&'a Proxy>,
}

impl Context<'_> {
    /// `HTTPConnectionPool(host='127.0.0.1', port=8080)`.
    fn pool(&self) -> String {
        let kind = if self.origin.tls {
            "HTTPSConnectionPool"
        } else {
            "HTTPConnectionPool"
        };
        format!(
            "{kind}(host={}, port={})",
            repr_str(&self.origin.host),
            self.origin.port
        )
    }
}

/// The string for any failure on an open connection.
pub fn wire(error: &WireError, context: &Context<'_>) -> String {
    match error {
        WireError::NoResponse(e) | WireError::Aborted(e) => {
            super::tls::read_error_text(e).unwrap_or_else(|| describe(e))
        }
        WireError::Io(e) => {
            connection_broken(&super::tls::read_error_text(e).unwrap_or_else(|| describe(e)))
        }
        WireError::ReadTimeout { in_body: false } => format!(
            "ReadTimeout(ReadTimeoutError({}))",
            repr_str(&format!(
                "{}: Read timed out. (read timeout={})",
                context.pool(),
                repr_float(context.timeouts.read.as_secs_f64())
            ))
        ),
        // urllib3 words a timeout while reading the body differently.
        WireError::ReadTimeout { in_body: true } => format!(
            "ReadTimeoutError({})",
            repr_str(&format!("{}: Read timed out.", context.pool()))
        ),
        WireError::Protocol(p) => protocol(p),
        WireError::Decode(d) => decode(d),
    }
}

/// `ChunkedEncodingError(ProtocolError('Connection broken: X', X))`: requests' wording
/// of a connection lost while reading the body.
fn connection_broken(cause: &str) -> String {
    format!(
        "ChunkedEncodingError(ProtocolError({}, {cause}))",
        repr_str(&format!("Connection broken: {cause}"))
    )
}

fn protocol(error: &ProtocolError) -> String {
    match error {
        ProtocolError::BadStatusLine(line) => format!("BadStatusLine({})", repr_str(line)),
        ProtocolError::UnknownProtocol(version) => {
            format!("UnknownProtocol({})", repr_str(version))
        }
        ProtocolError::TooManyHeaders => "HTTPException('got more than 100 headers')".into(),
        ProtocolError::LineTooLong(what) => format!(
            "LineTooLong({})",
            repr_str(&format!("got more than 65536 bytes when reading {what}"))
        ),
        ProtocolError::ConflictingContentLength(values) => format!(
            "InvalidHeader(InvalidHeader({}))",
            repr_str(&format!(
                "Content-Length contained multiple unmatching values ({values})"
            ))
        ),
        ProtocolError::BadChunkSize { line, read } => {
            let cause = format!(
                "InvalidChunkLength(got length {}, {read} bytes read)",
                repr_bytes(line)
            );
            connection_broken(&cause)
        }
        ProtocolError::IncompleteRead { read, expected } => {
            let cause = match expected {
                Some(more) => format!("IncompleteRead({read} bytes read, {more} more expected)"),
                None => format!("IncompleteRead({read} bytes read)"),
            };
            connection_broken(&cause)
        }
        ProtocolError::ResponseEndedPrematurely => {
            "ChunkedEncodingError(ProtocolError('Response ended prematurely'))".into()
        }
    }
}

fn decode(error: &DecodeError) -> String {
    match error {
        DecodeError::Corrupt { encoding, message } => format!(
            "ContentDecodingError(DecodeError({}, error({})))",
            repr_str(&format!(
                "Received response with content-encoding: {encoding}, but failed to decode it."
            )),
            repr_str(message)
        ),
        DecodeError::TooManyEncodings(list) => format!(
            "ContentDecodingError(DecodeError({}))",
            repr_str(&format!(
                "Too many content encodings in the chain: {}",
                list.split(',').filter(|e| !e.trim().is_empty()).count()
            ))
        ),
        DecodeError::TooLarge { limit } => format!(
            "ResponseTooLarge('the decoded body is larger than {limit} bytes (--max-body-size)')"
        ),
    }
}

/// The string for a request whose connection could not be made in time.
pub fn connect_timeout(context: &Context<'_>) -> String {
    let (kind, host, port) = match context.proxy {
        Some(proxy) => ("HTTPConnection", proxy.host.as_str(), proxy.port),
        None if context.origin.tls => (
            "HTTPSConnection",
            &*context.origin.host,
            context.origin.port,
        ),
        None => ("HTTPConnection", &*context.origin.host, context.origin.port),
    };
    // The object's address changes in every Python process; Locust's own masking of
    // addresses (`0x....`) keeps all such failures on one row here.
    format!(
        "ConnectTimeoutError(<{kind}(host={}, port={port}) at 0x....>, {})",
        repr_str(host),
        repr_str(&format!(
            "Connection to {host} timed out. (connect timeout={})",
            repr_float(context.timeouts.connect.as_secs_f64())
        ))
    )
}

/// A failed TLS handshake: `SSLError(SSLCertVerificationError(1, '[SSL: ...] ...'))`.
pub fn tls_handshake(error: &std::io::Error, context: &Context<'_>) -> String {
    super::tls::handshake_error_text(error, &context.origin.host)
}

/// A proxy that refused the CONNECT, or could not be reached.
pub fn tunnel(error: &TunnelError) -> String {
    match error {
        TunnelError::Io(e) => describe(e),
        other => format!("OSError({})", repr_str(&other.to_string())),
    }
}

/// `TooManyRedirects('Exceeded 30 redirects.')`.
pub fn too_many_redirects(limit: usize) -> String {
    format!("TooManyRedirects('Exceeded {limit} redirects.')")
}

/// The string for an I/O error on the way to a response: connect, write, read.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut innermost = error;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(s) = io_error(io) {
                return s;
            }
        }
        innermost = e;
        source = e.source();
    }
    format!("ConnectionError({})", repr_str(&innermost.to_string()))
}

/// The server closed the connection without an answer.
pub fn remote_disconnected() -> String {
    "RemoteDisconnected('Remote end closed connection without response')".into()
}

/// A name that did not resolve, as Locust records it.
pub fn name_resolution() -> String {
    "gaierror(-2, 'Name or service not known')".into()
}

fn io_error(io: &std::io::Error) -> Option<String> {
    use std::io::ErrorKind::*;
    let (name, errno, text) = match io.kind() {
        ConnectionRefused => ("ConnectionRefusedError", 111, "Connection refused"),
        ConnectionReset => ("ConnectionResetError", 104, "Connection reset by peer"),
        ConnectionAborted => (
            "ConnectionAbortedError",
            103,
            "Software caused connection abort",
        ),
        BrokenPipe => ("BrokenPipeError", 32, "Broken pipe"),
        HostUnreachable => ("OSError", 113, "No route to host"),
        NetworkUnreachable => ("OSError", 101, "Network is unreachable"),
        UnexpectedEof => return Some(remote_disconnected()),
        _ => return None,
    };
    Some(format!("{name}({errno}, '{text}')"))
}

/// Python's `repr()` of a `bytes` value: `b'zz\r\n'`.
fn repr_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from("b");
    out.push(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b == quote as u8 => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(b)),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn with_context<R>(f: impl FnOnce(&Context<'_>) -> R) -> R {
        let origin = super::super::target::parse_url("http://127.0.0.1:42395/")
            .unwrap()
            .origin;
        let context = Context {
            origin: &origin,
            timeouts: Timeouts {
                connect: Duration::from_millis(500),
                read: Duration::from_millis(500),
            },
            proxy: None,
        };
        f(&context)
    }

    #[test]
    fn io_errors_read_like_python() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            describe(&refused),
            "ConnectionRefusedError(111, 'Connection refused')"
        );
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            describe(&reset),
            "ConnectionResetError(104, 'Connection reset by peer')"
        );
        let other = std::io::Error::other("tls handshake eof");
        assert_eq!(describe(&other), "ConnectionError('tls handshake eof')");
    }

    /// Each text as Locust 2.47.0 recorded it against the same answer.
    #[test]
    fn texts_match_locust() {
        with_context(|c| {
            assert_eq!(
                wire(&WireError::ReadTimeout { in_body: false }, c),
                r#"ReadTimeout(ReadTimeoutError("HTTPConnectionPool(host='127.0.0.1', port=42395): Read timed out. (read timeout=0.5)"))"#
            );
            assert_eq!(
                wire(&WireError::ReadTimeout { in_body: true }, c),
                r#"ReadTimeoutError("HTTPConnectionPool(host='127.0.0.1', port=42395): Read timed out.")"#
            );
            assert_eq!(
                wire(&WireError::Protocol(ProtocolError::IncompleteRead { read: 5, expected: Some(5) }), c),
                "ChunkedEncodingError(ProtocolError('Connection broken: IncompleteRead(5 bytes read, 5 more expected)', IncompleteRead(5 bytes read, 5 more expected)))"
            );
            assert_eq!(
                wire(
                    &WireError::Protocol(ProtocolError::BadChunkSize {
                        line: b"zz\r\n".to_vec(),
                        read: 0
                    }),
                    c
                ),
                r#"ChunkedEncodingError(ProtocolError("Connection broken: InvalidChunkLength(got length b'zz\\r\\n', 0 bytes read)", InvalidChunkLength(got length b'zz\r\n', 0 bytes read)))"#
            );
            assert_eq!(
                wire(
                    &WireError::Io(std::io::ErrorKind::ConnectionReset.into()),
                    c
                ),
                r#"ChunkedEncodingError(ProtocolError("Connection broken: ConnectionResetError(104, 'Connection reset by peer')", ConnectionResetError(104, 'Connection reset by peer')))"#
            );
            assert_eq!(
                wire(&WireError::Protocol(ProtocolError::ConflictingContentLength("5, 6".into())), c),
                "InvalidHeader(InvalidHeader('Content-Length contained multiple unmatching values (5, 6)'))"
            );
            assert_eq!(
                wire(
                    &WireError::Protocol(ProtocolError::BadStatusLine("NOT HTTP\r\n".into())),
                    c
                ),
                r"BadStatusLine('NOT HTTP\r\n')"
            );
            assert_eq!(
                wire(
                    &WireError::Protocol(ProtocolError::LineTooLong("header line")),
                    c
                ),
                "LineTooLong('got more than 65536 bytes when reading header line')"
            );
            assert_eq!(
                connect_timeout(c),
                "ConnectTimeoutError(<HTTPConnection(host='127.0.0.1', port=42395) at 0x....>, 'Connection to 127.0.0.1 timed out. (connect timeout=0.5)')"
            );
            assert_eq!(
                wire(&WireError::Decode(DecodeError::Corrupt { encoding: "gzip".into(), message: "Error -3 while decompressing data: incorrect header check".into() }), c),
                "ContentDecodingError(DecodeError('Received response with content-encoding: gzip, but failed to decode it.', error('Error -3 while decompressing data: incorrect header check')))"
            );
        });
    }

    #[test]
    fn bytes_repr_like_python() {
        assert_eq!(repr_bytes(b"zz\r\n"), r"b'zz\r\n'");
        assert_eq!(repr_bytes(b"it's"), r#"b"it's""#);
        assert_eq!(repr_bytes(b"\xff\x00"), r"b'\xff\x00'");
    }
}
