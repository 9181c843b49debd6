//! A TLS failure in the words of Python's ssl module over OpenSSL 3, as Locust records
//! it: `SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] ...'))`.

use locust_stats::pyrepr::repr_str;
use rustls::{AlertDescription, CertificateError, InvalidMessage};

use super::verify::SelfSigned;

/// The source-file mark Python's ssl module puts at the end of its messages.
/// Where in `_ssl.c` a handshake error is raised, and where a read's is.
const SSL_C: &str = "_ssl.c:1006";
const SSL_C_READ: &str = "_ssl.c:2580";

/// A failed handshake as Python's ssl module raises it (with OpenSSL 3 behind it).
#[derive(Debug, Clone, PartialEq, Eq)]
enum PythonSslError {
    /// `SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: <reason> (_ssl.c:…)')`
    Verify(String),
    /// `SSLError(1, '[SSL: <REASON>] <reason in lowercase words> (_ssl.c:…)')`
    Library(&'static str),
    /// `SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:…)')`
    Eof,
    /// No OpenSSL equivalent known: `SSLError('<rustls text>')`.
    Other(String),
}

impl PythonSslError {
    fn repr(&self) -> String {
        self.repr_at(SSL_C)
    }

    /// The repr with `_ssl.c:NNNN` for where Python raised it.
    fn repr_at(&self, at: &str) -> String {
        match self {
            PythonSslError::Verify(reason) => format!(
                "SSLCertVerificationError(1, {})",
                repr_str(&format!(
                    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {reason} ({at})"
                ))
            ),
            PythonSslError::Library(code) => format!(
                "SSLError(1, {})",
                repr_str(&format!(
                    "[SSL: {code}] {} ({at})",
                    code.to_ascii_lowercase().replace('_', " ")
                ))
            ),
            PythonSslError::Eof => format!(
                "SSLEOFError(8, {})",
                repr_str(&format!(
                    "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol ({at})"
                ))
            ),
            PythonSslError::Other(text) => format!("SSLError({})", repr_str(text)),
        }
    }
}

/// The Python exception behind a TLS failure, e.g. `SSLCertVerificationError(1, '[SSL:
/// CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer
/// certificate (_ssl.c:1006)')`; None for an I/O error that is not a TLS failure (a reset
/// connection, say), which the caller words as any other connection error.
pub(super) fn handshake_error_cause(err: &std::io::Error, host: &str) -> Option<String> {
    python_ssl_error(err, host).map(|e| e.repr())
}

/// A failed TLS handshake (or a TLS alert on the first read) as Locust records it:
/// urllib3's `SSLError` around Python's, e.g. `SSLError(SSLCertVerificationError(1,
/// '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate
/// (_ssl.c:1006)'))` (Locust unwraps requests' own wrappers). An I/O error that is not a
/// TLS failure gets the crate's usual connection-error text.
pub fn handshake_error_text(err: &std::io::Error, host: &str) -> String {
    match handshake_error_cause(err, host) {
        Some(cause) => format!("SSLError({cause})"),
        None => crate::http::errors::describe(err),
    }
}

/// A TLS failure while reading an answer after the handshake (a TLS 1.3 server that
/// refuses the client's certificate says so only then): Python's exception as Locust
/// records it, e.g. `SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert
/// certificate required (_ssl.c:2580)')`. None when the error is no TLS failure.
pub fn read_error_text(err: &std::io::Error) -> Option<String> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())?;
    python_ssl_error(err, "").map(|e| e.repr_at(SSL_C_READ))
}

fn python_ssl_error(err: &std::io::Error, host: &str) -> Option<PythonSslError> {
    let Some(tls) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        // tokio-rustls reports a peer that hung up mid-handshake as a bare EOF.
        return (err.kind() == std::io::ErrorKind::UnexpectedEof).then_some(PythonSslError::Eof);
    };
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => match verify_reason(cert, host) {
            Some(reason) => PythonSslError::Verify(reason),
            None => PythonSslError::Other(tls.to_string()),
        },
        rustls::Error::AlertReceived(alert) => match alert_reason(*alert) {
            Some(code) => PythonSslError::Library(code),
            None => PythonSslError::Other(tls.to_string()),
        },
        // A server that answers a ClientHello with plain HTTP.
        rustls::Error::InvalidMessage(
            InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
        ) => PythonSslError::Library("WRONG_VERSION_NUMBER"),
        other => PythonSslError::Other(other.to_string()),
    })
}

/// OpenSSL's text for a certificate verification failure (`X509_verify_cert_error_string`,
/// or Python's own for a name mismatch).
fn verify_reason(error: &CertificateError, host: &str) -> Option<String> {
    use CertificateError::*;
    Some(match error {
        UnknownIssuer => "unable to get local issuer certificate".into(),
        Other(other) => other.0.downcast_ref::<SelfSigned>()?.to_string(),
        BadSignature => "certificate signature failure".into(),
        Expired | ExpiredContext { .. } => "certificate has expired".into(),
        NotValidYet | NotValidYetContext { .. } => "certificate is not yet valid".into(),
        Revoked => "certificate revoked".into(),
        InvalidPurpose | InvalidPurposeContext { .. } => "unsupported certificate purpose".into(),
        UnhandledCriticalExtension => "unhandled critical extension".into(),
        NotValidForName | NotValidForNameContext { .. } => {
            let what = if host.parse::<std::net::IpAddr>().is_ok() {
                "IP address"
            } else {
                "Hostname"
            };
            format!("{what} mismatch, certificate is not valid for '{host}'.")
        }
        _ => return None,
    })
}

/// OpenSSL's reason code for a fatal alert from the server.
fn alert_reason(alert: AlertDescription) -> Option<&'static str> {
    use AlertDescription::*;
    Some(match alert {
        UnexpectedMessage => "SSLV3_ALERT_UNEXPECTED_MESSAGE",
        BadRecordMac => "SSLV3_ALERT_BAD_RECORD_MAC",
        RecordOverflow => "TLSV1_ALERT_RECORD_OVERFLOW",
        HandshakeFailure => "SSLV3_ALERT_HANDSHAKE_FAILURE",
        BadCertificate => "SSLV3_ALERT_BAD_CERTIFICATE",
        UnsupportedCertificate => "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        CertificateRevoked => "SSLV3_ALERT_CERTIFICATE_REVOKED",
        CertificateExpired => "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        CertificateUnknown => "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        IllegalParameter => "SSLV3_ALERT_ILLEGAL_PARAMETER",
        UnknownCA => "TLSV1_ALERT_UNKNOWN_CA",
        AccessDenied => "TLSV1_ALERT_ACCESS_DENIED",
        DecodeError => "TLSV1_ALERT_DECODE_ERROR",
        DecryptError => "TLSV1_ALERT_DECRYPT_ERROR",
        ProtocolVersion => "TLSV1_ALERT_PROTOCOL_VERSION",
        InsufficientSecurity => "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        InternalError => "TLSV1_ALERT_INTERNAL_ERROR",
        InappropriateFallback => "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        UserCanceled => "TLSV1_ALERT_USER_CANCELLED",
        NoRenegotiation => "TLSV1_ALERT_NO_RENEGOTIATION",
        MissingExtension => "TLSV13_ALERT_MISSING_EXTENSION",
        UnsupportedExtension => "TLSV1_UNSUPPORTED_EXTENSION",
        UnrecognisedName => "TLSV1_UNRECOGNIZED_NAME",
        CertificateRequired => "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        NoApplicationProtocol => "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
        _ => return None,
    })
}
