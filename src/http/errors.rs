//! Transport failures as the strings Locust records: the innermost cause in Python's
//! `repr` form (`ConnectionRefusedError(111, 'Connection refused')`), so the same outage
//! reads the same in both tools and lands on the same failure row.

use locust_stats::pyrepr::{repr_float, repr_str};

/// The string for a request that hit the time limit.
pub fn timeout(limit: std::time::Duration) -> String {
    format!(
        "ReadTimeout({})",
        repr_str(&format!(
            "Read timed out. (read timeout={})",
            repr_float(limit.as_secs_f64())
        ))
    )
}

/// The string for any error on the way to a response: connect, TLS, write, read.
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

/// A name that did not resolve, as urllib3 reports it.
pub fn name_resolution() -> String {
    "NameResolutionError(gaierror(-2, 'Name or service not known'))".into()
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn timeouts_name_the_limit() {
        assert_eq!(
            timeout(std::time::Duration::from_secs(60)),
            "ReadTimeout('Read timed out. (read timeout=60.0)')"
        );
    }
}
