//! The TLS side of the run: the one rustls `ClientConfig` every connection shares, built
//! from `--insecure`, `--cacert` (or requests' CA-bundle environment variables) and
//! `--cert`/`--key`, and a failed handshake worded as requests and OpenSSL word it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use locust_stats::pyrepr::repr_str;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, DigitallySignedStruct, InconsistentKeys, InvalidMessage,
    OtherError, RootCertStore, SignatureScheme,
};

/// The TLS choices of a run, as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// --insecure: skip certificate verification (FastHttpUser's default; HttpUser verifies).
    pub insecure: bool,
    /// --cacert FILE: trust only this PEM bundle (as requests' verify=path). When None,
    /// `with_env_bundle` consults REQUESTS_CA_BUNDLE, SSL_CERT_FILE, then CURL_CA_BUNDLE;
    /// when none is set: Mozilla's roots (webpki-roots) plus the OS store
    /// (rustls-native-certs; OS certificates that fail to load are skipped, as curl does).
    pub ca_bundle: Option<PathBuf>,
    /// The environment variable `with_env_bundle` took `ca_bundle` from, so messages name
    /// it; None when the bundle came from --cacert.
    pub ca_bundle_env: Option<&'static str>,
    /// --cert FILE (PEM; may also hold the key, as requests' cert='both.pem').
    pub client_cert: Option<PathBuf>,
    /// --key FILE (PEM).
    pub client_key: Option<PathBuf>,
}

/// The environment variables naming a CA bundle, first set (and non-empty) wins.
pub const CA_BUNDLE_VARS: [&str; 3] = ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"];

impl TlsOptions {
    /// Fills `ca_bundle` from the environment when it was not given explicitly. `env`
    /// looks a variable up (`|k| std::env::var(k).ok()` in the binary), so tests need not
    /// change the process environment. Empty values count as unset, as in requests.
    pub fn with_env_bundle(mut self, env: impl Fn(&str) -> Option<String>) -> Self {
        if self.ca_bundle.is_some() {
            return self;
        }
        for var in CA_BUNDLE_VARS {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                self.ca_bundle = Some(PathBuf::from(value));
                self.ca_bundle_env = Some(var);
                break;
            }
        }
        self
    }
}

/// A TLS option that cannot be used, naming the flag (`--cacert /x/ca.pem: ...`) or the
/// environment variable (`REQUESTS_CA_BUNDLE=/x/ca.pem: ...`) that gave the file.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct TlsSetupError {
    /// `--flag PATH` or `VAR=PATH`.
    pub setting: String,
    pub problem: TlsProblem,
}

/// What is wrong with a TLS option.
#[derive(Debug, thiserror::Error)]
pub enum TlsProblem {
    #[error("file not found")]
    NotFound,
    #[error("is a directory, not a PEM file")]
    IsDirectory,
    #[error("cannot read the file: {0}")]
    Unreadable(std::io::Error),
    #[error("not valid PEM: {0}")]
    BadPem(String),
    #[error("no PEM certificate found in the file")]
    NoCertificate,
    #[error("none of the {0} certificates in the file can be used as a trusted root")]
    NoUsableCertificate(usize),
    #[error("no private key found in the file (give it with --key, or append it to --cert)")]
    NoPrivateKey,
    #[error("the private key is encrypted, which is not supported; decrypt it first (openssl pkey -in KEY -out PLAIN.pem)")]
    EncryptedKey,
    #[error("the private key does not match the certificate in {cert}")]
    KeyMismatch { cert: String },
    #[error("--key needs --cert (the certificate that goes with the key)")]
    KeyWithoutCert,
    #[error("cannot use the certificate and key: {0}")]
    Rejected(rustls::Error),
    #[error("cannot build the TLS configuration: {0}")]
    Config(String),
}

/// Where a file path came from, for messages.
#[derive(Clone, Copy)]
struct Setting<'a> {
    name: &'static str,
    from_env: bool,
    path: &'a Path,
}

impl Setting<'_> {
    fn flag<'a>(name: &'static str, path: &'a Path) -> Setting<'a> {
        Setting {
            name,
            from_env: false,
            path,
        }
    }

    fn error(&self, problem: TlsProblem) -> TlsSetupError {
        TlsSetupError {
            setting: self.to_string(),
            problem,
        }
    }
}

impl fmt::Display for Setting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if self.from_env { "=" } else { " " };
        write!(f, "{}{separator}{}", self.name, self.path.display())
    }
}

/// The client configuration for the run: ring, TLS 1.2 and 1.3, ALPN `http/1.1` only.
pub fn client_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config_error = |e: &dyn fmt::Display| TlsSetupError {
        setting: "TLS".into(),
        problem: TlsProblem::Config(e.to_string()),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(&e))?;
    let verifier: Arc<dyn ServerCertVerifier> = if opts.insecure {
        Arc::new(AcceptAnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        })
    } else {
        let (roots, pinned) = match &opts.ca_bundle {
            Some(path) => {
                let setting = match opts.ca_bundle_env {
                    Some(var) => Setting {
                        name: var,
                        from_env: true,
                        path,
                    },
                    None => Setting::flag("--cacert", path),
                };
                (bundle_roots(setting)?, certificates(setting)?)
            }
            None => (default_roots(), Vec::new()),
        };
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| config_error(&e))?;
        Arc::new(NamesSelfSigned { webpki, pinned })
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&opts.client_cert, &opts.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (None, Some(key)) => {
            return Err(Setting::flag("--key", key).error(TlsProblem::KeyWithoutCert));
        }
        (Some(cert), key) => {
            let cert_setting = Setting::flag("--cert", cert);
            let key_setting = match key {
                Some(key) => Setting::flag("--key", key),
                None => cert_setting,
            };
            let chain = certificates(cert_setting)?;
            let key = private_key(key_setting)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| match e {
                    rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => key_setting
                        .error(TlsProblem::KeyMismatch {
                            cert: cert_setting.to_string(),
                        }),
                    other => key_setting.error(TlsProblem::Rejected(other)),
                })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Mozilla's roots plus whatever the OS store holds.
fn default_roots() -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // Unreadable or unparsable OS certificates are skipped, as curl does.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    roots
}

/// The roots of a `--cacert` (or environment) bundle, and nothing else.
fn bundle_roots(setting: Setting<'_>) -> Result<RootCertStore, TlsSetupError> {
    let certs = certificates(setting)?;
    let count = certs.len();
    let mut roots = RootCertStore::empty();
    let (valid, _) = roots.add_parsable_certificates(certs);
    if valid == 0 {
        return Err(setting.error(TlsProblem::NoUsableCertificate(count)));
    }
    Ok(roots)
}

fn read_file(setting: Setting<'_>) -> Result<Vec<u8>, TlsSetupError> {
    std::fs::read(setting.path).map_err(|e| {
        setting.error(match e.kind() {
            std::io::ErrorKind::NotFound => TlsProblem::NotFound,
            std::io::ErrorKind::IsADirectory => TlsProblem::IsDirectory,
            _ => TlsProblem::Unreadable(e),
        })
    })
}

/// The certificates of a PEM file (other sections, such as a key, are skipped).
fn certificates(setting: Setting<'_>) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = read_file(setting)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| setting.error(pem_problem(e)))?;
    if certs.is_empty() {
        return Err(setting.error(TlsProblem::NoCertificate));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
fn private_key(setting: Setting<'_>) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let bytes = read_file(setting)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        setting.error(match e {
            pem::Error::NoItemsFound if is_encrypted_key(&bytes) => TlsProblem::EncryptedKey,
            pem::Error::NoItemsFound => TlsProblem::NoPrivateKey,
            other => pem_problem(other),
        })
    })
}

/// A PKCS#8 `ENCRYPTED PRIVATE KEY` section, or a legacy OpenSSL `Proc-Type: 4,ENCRYPTED` one.
fn is_encrypted_key(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

fn pem_problem(error: pem::Error) -> TlsProblem {
    match error {
        pem::Error::NoItemsFound => TlsProblem::NoCertificate,
        pem::Error::MissingSectionEnd { end_marker } => TlsProblem::BadPem(format!(
            "a section has no closing -----END {}----- line",
            String::from_utf8_lossy(&end_marker)
        )),
        pem::Error::IllegalSectionStart { line } => TlsProblem::BadPem(format!(
            "malformed BEGIN line {:?}",
            String::from_utf8_lossy(&line)
        )),
        other => TlsProblem::BadPem(other.to_string()),
    }
}

/// --insecure: any certificate is accepted, but the handshake signatures are still checked
/// (so the connection is at least with the holder of the presented certificate's key).
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// rustls' own WebPKI verification, unchanged except that an unknown issuer whose chain
/// ends in a self-signed certificate says so ([`SelfSigned`]), as OpenSSL does; rustls
/// alone reports every untrusted chain as `UnknownIssuer`.
#[derive(Debug)]
struct NamesSelfSigned {
    webpki: Arc<WebPkiServerVerifier>,
    /// The certificates of a `--cacert` bundle: one of them served alone is trusted as
    /// it is, as OpenSSL trusts it (a self-signed `openssl req -x509` certificate is
    /// marked as a CA, which webpki refuses as a server's own certificate).
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for NamesSelfSigned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if intermediates.is_empty()
            && self
                .pinned
                .iter()
                .any(|c| c.as_ref() == end_entity.as_ref())
        {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        let verdict = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let self_signed = |kind: SelfSigned| {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(kind)),
            )))
        };
        match verdict {
            // OpenSSL names an untrusted self-signed certificate before anything else
            // wrong with it; webpki may trip first over an OS root of the same name.
            Err(rustls::Error::InvalidCertificate(e))
                if !matches!(
                    e,
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                ) && intermediates.is_empty()
                    && is_self_issued(end_entity) =>
            {
                self_signed(SelfSigned::Certificate)
            }
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
                if intermediates.iter().any(|c| is_self_issued(c)) =>
            {
                self_signed(SelfSigned::InChain)
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.webpki.requires_raw_public_keys()
    }
}

/// An untrusted chain that ends in a self-signed certificate (carried in
/// `CertificateError::Other`), worded as OpenSSL's verify errors 18 and 19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SelfSigned {
    /// The server sent only its own certificate, and it is self-signed.
    #[error("self-signed certificate")]
    Certificate,
    /// The server sent a chain up to a self-signed root that is not trusted.
    #[error("self-signed certificate in certificate chain")]
    InChain,
}

/// Whether a DER certificate's issuer and subject are the same name. Anything that does
/// not parse as a certificate is not self-issued.
fn is_self_issued(cert: &[u8]) -> bool {
    /// One DER element: (tag, the whole element, its contents, what follows it).
    type Element<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);
    fn element(input: &[u8]) -> Option<Element<'_>> {
        let tag = *input.first()?;
        let first = *input.get(1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let bytes = input.get(2..2 + count)?;
            let len = bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
            (len, 2 + count)
        };
        let end = header.checked_add(len)?;
        let whole = input.get(..end)?;
        Some((tag, whole, whole.get(header..)?, input.get(end..)?))
    }
    let parse = || -> Option<bool> {
        let (_, _, certificate, _) = element(cert)?;
        let (_, _, tbs, _) = element(certificate)?;
        let (tag, _, _, after_version) = element(tbs)?;
        let fields = if tag == 0xa0 { after_version } else { tbs };
        let (_, _, _, rest) = element(fields)?; // serialNumber
        let (_, _, _, rest) = element(rest)?; // signature algorithm
        let (_, issuer, _, rest) = element(rest)?;
        let (_, _, _, rest) = element(rest)?; // validity
        let (_, subject, _, _) = element(rest)?;
        Some(issuer == subject)
    };
    parse().unwrap_or(false)
}

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
pub fn handshake_error_cause(err: &std::io::Error, host: &str) -> Option<String> {
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
        None => super::errors::describe(err),
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::ErrorKind;
    use std::time::Duration;

    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    use rustls::server::WebPkiClientVerifier;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);

    /// A CA, a server certificate for 127.0.0.1 and a client certificate issued by it, a
    /// self-signed and an expired server certificate, all as PEM files in a temp dir.
    struct Pki {
        dir: tempfile::TempDir,
        ca_der: CertificateDer<'static>,
    }

    impl Pki {
        fn new() -> Pki {
            let dir = tempfile::tempdir().unwrap();
            let write =
                |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();

            let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            ca_params.distinguished_name = rcgen::DistinguishedName::new();
            ca_params
                .distinguished_name
                .push(DnType::CommonName, "locust-rs test CA");
            ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let ca_key = KeyPair::generate().unwrap();
            let ca_cert = ca_params.self_signed(&ca_key).unwrap();
            write("ca.pem", &ca_cert.pem());
            let issuer = Issuer::new(ca_params, ca_key);

            let leaf = |cn: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose| {
                let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
                let mut params = CertificateParams::new(names).unwrap();
                params.distinguished_name = rcgen::DistinguishedName::new();
                params.distinguished_name.push(DnType::CommonName, cn);
                params.extended_key_usages = vec![purpose];
                params
            };
            let server = leaf(
                "127.0.0.1",
                &["127.0.0.1"],
                ExtendedKeyUsagePurpose::ServerAuth,
            );
            let server_key = KeyPair::generate().unwrap();
            let server_cert = server.signed_by(&server_key, &issuer).unwrap();
            write("server.pem", &server_cert.pem());
            write("server.key", &server_key.serialize_pem());

            let client = leaf("test client", &[], ExtendedKeyUsagePurpose::ClientAuth);
            let client_key = KeyPair::generate().unwrap();
            let client_cert = client.signed_by(&client_key, &issuer).unwrap();
            write("client.pem", &client_cert.pem());
            write("client.key", &client_key.serialize_pem());
            write(
                "both.pem",
                &format!("{}{}", client_cert.pem(), client_key.serialize_pem()),
            );
            write("other.key", &KeyPair::generate().unwrap().serialize_pem());

            let own = leaf("self", &["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
            let own_key = KeyPair::generate().unwrap();
            write("self.pem", &own.self_signed(&own_key).unwrap().pem());
            write("self.key", &own_key.serialize_pem());
            // The server certificate followed by the (untrusted) self-signed CA.
            write(
                "chain-to-self.pem",
                &format!("{}{}", server_cert.pem(), ca_cert.pem()),
            );

            let mut old = leaf("old", &["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
            old.not_before = rcgen::date_time_ymd(2000, 1, 1);
            old.not_after = rcgen::date_time_ymd(2001, 1, 1);
            let old_key = KeyPair::generate().unwrap();
            write(
                "expired.pem",
                &old.signed_by(&old_key, &issuer).unwrap().pem(),
            );
            write("expired.key", &old_key.serialize_pem());

            write("empty.pem", "");
            write("not-pem.txt", "just some text\n");
            write(
                "bad-der.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            );
            write(
                "encrypted.key",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            );
            write("unterminated.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
            Pki {
                ca_der: ca_cert.der().clone(),
                dir,
            }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        fn cacert(&self) -> TlsOptions {
            TlsOptions {
                ca_bundle: Some(self.path("ca.pem")),
                ..TlsOptions::default()
            }
        }

        fn server(&self, cert: &str, key: &str, client_auth: bool) -> rustls::ServerConfig {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let chain = CertificateDer::pem_file_iter(self.path(cert))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(self.path(key)).unwrap();
            let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .unwrap();
            let builder = if client_auth {
                let mut roots = RootCertStore::empty();
                roots.add(self.ca_der.clone()).unwrap();
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .unwrap();
                builder.with_client_cert_verifier(verifier)
            } else {
                builder.with_no_client_auth()
            };
            let mut config = builder.with_single_cert(chain, key).unwrap();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            config
        }
    }

    fn message(result: Result<rustls::ClientConfig, TlsSetupError>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    /// Accepts one TLS connection on 127.0.0.1, says "ok" and waits for the client to
    /// hang up; the task's result tells whether the server side of the handshake passed.
    async fn serve_once(
        config: rustls::ServerConfig,
    ) -> (u16, tokio::task::JoinHandle<Result<(), String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
            tls.write_all(b"ok").await.map_err(|e| e.to_string())?;
            tls.flush().await.map_err(|e| e.to_string())?;
            let mut rest = [0u8; 16];
            let _ = tls.read(&mut rest).await;
            Ok(())
        });
        (port, task)
    }

    /// Connects to 127.0.0.1:port as `name` and reads the server's "ok" (in TLS 1.3 the
    /// server judges a client certificate only after the client's handshake is done, so
    /// its verdict arrives on this first read).
    async fn talk(config: rustls::ClientConfig, port: u16, name: &str) -> std::io::Result<()> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let name = ServerName::try_from(name.to_string()).map_err(std::io::Error::other)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut tls = connector.connect(name, tcp).await?;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let mut ok = [0u8; 2];
        tls.read_exact(&mut ok).await?;
        assert_eq!(&ok, b"ok");
        tls.shutdown().await?;
        Ok(())
    }

    /// One handshake from a client built from `opts` to a server built from `server`.
    async fn handshake(
        opts: &TlsOptions,
        server: rustls::ServerConfig,
        name: &str,
    ) -> (std::io::Result<()>, Result<(), String>) {
        let config = client_config(opts).unwrap();
        let (port, task) = serve_once(server).await;
        let client = tokio::time::timeout(LIMIT, talk(config, port, name))
            .await
            .unwrap();
        let server = tokio::time::timeout(LIMIT, task).await.unwrap().unwrap();
        (client, server)
    }

    fn cause(result: &std::io::Result<()>, host: &str) -> String {
        match result {
            Ok(()) => panic!("expected the handshake to fail"),
            Err(e) => handshake_error_cause(e, host).unwrap_or_else(|| panic!("not TLS: {e:?}")),
        }
    }

    #[test]
    fn env_bundle_follows_the_documented_order() {
        let env = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| map.get(k).cloned()
        };
        let all = env(&[
            ("CURL_CA_BUNDLE", "/c.pem"),
            ("SSL_CERT_FILE", "/s.pem"),
            ("REQUESTS_CA_BUNDLE", "/r.pem"),
        ]);
        let opts = TlsOptions::default().with_env_bundle(&all);
        assert_eq!(opts.ca_bundle, Some(PathBuf::from("/r.pem")));
        assert_eq!(opts.ca_bundle_env, Some("REQUESTS_CA_BUNDLE"));

        let opts = TlsOptions::default().with_env_bundle(env(&[
            ("REQUESTS_CA_BUNDLE", ""),
            ("SSL_CERT_FILE", "/s.pem"),
            ("CURL_CA_BUNDLE", "/c.pem"),
        ]));
        assert_eq!(opts.ca_bundle, Some(PathBuf::from("/s.pem")));
        assert_eq!(opts.ca_bundle_env, Some("SSL_CERT_FILE"));

        let opts = TlsOptions::default().with_env_bundle(env(&[("CURL_CA_BUNDLE", "/c.pem")]));
        assert_eq!(opts.ca_bundle_env, Some("CURL_CA_BUNDLE"));

        let opts = TlsOptions::default().with_env_bundle(env(&[]));
        assert_eq!(opts, TlsOptions::default());

        // --cacert wins over the environment.
        let explicit = TlsOptions {
            ca_bundle: Some(PathBuf::from("/flag.pem")),
            ..TlsOptions::default()
        };
        let opts = explicit.clone().with_env_bundle(&all);
        assert_eq!(opts, explicit);
    }

    #[test]
    fn builds_a_config_for_each_option() {
        let pki = Pki::new();
        let default = client_config(&TlsOptions::default()).unwrap();
        assert_eq!(default.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(!default.client_auth_cert_resolver.has_certs());

        let insecure = TlsOptions {
            insecure: true,
            // Ignored when verification is off, as requests ignores it with verify=False.
            ca_bundle: Some(pki.path("missing.pem")),
            ..TlsOptions::default()
        };
        assert!(client_config(&insecure).is_ok());

        assert!(client_config(&pki.cacert()).is_ok());

        let separate = TlsOptions {
            client_cert: Some(pki.path("client.pem")),
            client_key: Some(pki.path("client.key")),
            ..pki.cacert()
        };
        assert!(client_config(&separate)
            .unwrap()
            .client_auth_cert_resolver
            .has_certs());

        let both = TlsOptions {
            client_cert: Some(pki.path("both.pem")),
            ..pki.cacert()
        };
        assert!(client_config(&both)
            .unwrap()
            .client_auth_cert_resolver
            .has_certs());
    }

    #[test]
    fn bad_files_name_the_setting_and_the_problem() {
        let pki = Pki::new();
        let p = |name: &str| pki.path(name).display().to_string();
        let cacert = |name: &str| TlsOptions {
            ca_bundle: Some(pki.path(name)),
            ..TlsOptions::default()
        };
        let cases: Vec<(TlsOptions, String)> = vec![
            (
                cacert("missing.pem"),
                format!("--cacert {}: file not found", p("missing.pem")),
            ),
            (
                cacert("empty.pem"),
                format!("--cacert {}: no PEM certificate found in the file", p("empty.pem")),
            ),
            (
                cacert("not-pem.txt"),
                format!("--cacert {}: no PEM certificate found in the file", p("not-pem.txt")),
            ),
            (
                cacert("client.key"),
                format!("--cacert {}: no PEM certificate found in the file", p("client.key")),
            ),
            (
                cacert("bad-der.pem"),
                format!(
                    "--cacert {}: none of the 1 certificates in the file can be used as a trusted root",
                    p("bad-der.pem")
                ),
            ),
            (
                cacert("unterminated.pem"),
                format!(
                    "--cacert {}: not valid PEM: a section has no closing -----END CERTIFICATE----- line",
                    p("unterminated.pem")
                ),
            ),
            (
                TlsOptions {
                    ca_bundle: Some(pki.dir.path().to_path_buf()),
                    ..TlsOptions::default()
                },
                format!("--cacert {}: is a directory, not a PEM file", pki.dir.path().display()),
            ),
            (
                TlsOptions {
                    ca_bundle: Some(pki.path("missing.pem")),
                    ca_bundle_env: Some("REQUESTS_CA_BUNDLE"),
                    ..TlsOptions::default()
                },
                format!("REQUESTS_CA_BUNDLE={}: file not found", p("missing.pem")),
            ),
            (
                TlsOptions {
                    client_cert: Some(pki.path("client.pem")),
                    ..TlsOptions::default()
                },
                format!(
                    "--cert {}: no private key found in the file (give it with --key, or append it to --cert)",
                    p("client.pem")
                ),
            ),
            (
                TlsOptions {
                    client_cert: Some(pki.path("client.pem")),
                    client_key: Some(pki.path("client.pem")),
                    ..TlsOptions::default()
                },
                format!(
                    "--key {}: no private key found in the file (give it with --key, or append it to --cert)",
                    p("client.pem")
                ),
            ),
            (
                TlsOptions {
                    client_cert: Some(pki.path("client.key")),
                    client_key: Some(pki.path("client.key")),
                    ..TlsOptions::default()
                },
                format!("--cert {}: no PEM certificate found in the file", p("client.key")),
            ),
            (
                TlsOptions {
                    client_cert: Some(pki.path("client.pem")),
                    client_key: Some(pki.path("other.key")),
                    ..TlsOptions::default()
                },
                format!(
                    "--key {}: the private key does not match the certificate in --cert {}",
                    p("other.key"),
                    p("client.pem")
                ),
            ),
            (
                TlsOptions {
                    client_cert: Some(pki.path("client.pem")),
                    client_key: Some(pki.path("encrypted.key")),
                    ..TlsOptions::default()
                },
                format!(
                    "--key {}: the private key is encrypted, which is not supported; decrypt it first (openssl pkey -in KEY -out PLAIN.pem)",
                    p("encrypted.key")
                ),
            ),
            (
                TlsOptions {
                    client_key: Some(pki.path("client.key")),
                    ..TlsOptions::default()
                },
                format!(
                    "--key {}: --key needs --cert (the certificate that goes with the key)",
                    p("client.key")
                ),
            ),
            (
                TlsOptions {
                    client_cert: Some(pki.path("missing.pem")),
                    client_key: Some(pki.path("client.key")),
                    ..TlsOptions::default()
                },
                format!("--cert {}: file not found", p("missing.pem")),
            ),
        ];
        for (opts, expected) in cases {
            assert_eq!(message(client_config(&opts)), expected, "{opts:?}");
        }
    }

    #[test]
    fn self_issued_certificates_are_recognised() {
        let pki = Pki::new();
        let first = |name: &str| {
            CertificateDer::pem_file_iter(pki.path(name))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
        };
        assert!(is_self_issued(&first("self.pem")));
        assert!(is_self_issued(&pki.ca_der));
        assert!(!is_self_issued(&first("server.pem")));
        assert!(!is_self_issued(&first("client.pem")));
        assert!(!is_self_issued(b""));
        assert!(!is_self_issued(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]));
        let truncated = first("self.pem");
        assert!(!is_self_issued(&truncated[..truncated.len() / 2]));
    }

    #[test]
    fn handshake_text_has_requests_structure() {
        let unknown = std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(
            handshake_error_text(&unknown, "127.0.0.1"),
            "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)'))"
        );
        let self_signed = std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                SelfSigned::Certificate,
            )))),
        );
        // As Locust 2.47 recorded it against a self-signed server.
        assert_eq!(
            handshake_error_text(&self_signed, "127.0.0.1"),
            "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)'))"
        );
        // The name in quotes makes Python switch the repr to double quotes.
        let mismatch = std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
        );
        assert_eq!(
            handshake_error_text(&mismatch, "api.example.com"),
            r#"SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'api.example.com'. (_ssl.c:1006)"))"#
        );
        let eof = std::io::Error::new(ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(
            handshake_error_cause(&eof, "h").unwrap(),
            "SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1006)')"
        );
        let alert = std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
        );
        assert_eq!(
            handshake_error_cause(&alert, "h").unwrap(),
            "SSLError(1, '[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1006)')"
        );
        let odd = std::io::Error::new(ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(
            handshake_error_cause(&odd, "h").unwrap(),
            "SSLError(\"cannot decrypt peer's message\")"
        );
        // Not a TLS failure: the crate's usual connection error.
        let reset = std::io::Error::from(ErrorKind::ConnectionReset);
        assert_eq!(handshake_error_cause(&reset, "h"), None);
        assert_eq!(
            handshake_error_text(&reset, "h"),
            "ConnectionResetError(104, 'Connection reset by peer')"
        );
    }

    #[tokio::test]
    async fn server_certificates_are_verified_against_the_chosen_roots() {
        let pki = Pki::new();
        let server = || pki.server("server.pem", "server.key", false);

        let (client, srv) = handshake(&pki.cacert(), server(), "127.0.0.1").await;
        client.unwrap();
        srv.unwrap();

        // Mozilla's and the OS's roots do not know the test CA.
        let (client, _) = handshake(&TlsOptions::default(), server(), "127.0.0.1").await;
        assert_eq!(
            cause(&client, "127.0.0.1"),
            "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)')"
        );
        let err = client.unwrap_err();
        assert!(handshake_error_text(&err, "127.0.0.1").starts_with(
            "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer"
        ));

        let insecure = TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        };
        let (client, srv) = handshake(&insecure, server(), "127.0.0.1").await;
        client.unwrap();
        srv.unwrap();
        // Insecure also accepts a certificate for another name.
        let (client, _) = handshake(&insecure, server(), "localhost").await;
        client.unwrap();
        // And checks TLS 1.2 handshake signatures with the provider's algorithms.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = CertificateDer::pem_file_iter(pki.path("self.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(pki.path("self.key")).unwrap();
        let tls12 = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = client_config(&insecure).unwrap();
        let (port, task) = serve_once(tls12).await;
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = tokio::time::timeout(
            LIMIT,
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        let mut ok = [0u8; 2];
        tls.read_exact(&mut ok).await.unwrap();
        drop(tls);
        tokio::time::timeout(LIMIT, task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn verification_failures_read_like_openssl() {
        let pki = Pki::new();

        let (client, _) = handshake(
            &TlsOptions::default(),
            pki.server("self.pem", "self.key", false),
            "127.0.0.1",
        )
        .await;
        assert_eq!(
            cause(&client, "127.0.0.1"),
            "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)')"
        );

        let (client, _) = handshake(
            &TlsOptions::default(),
            pki.server("chain-to-self.pem", "server.key", false),
            "127.0.0.1",
        )
        .await;
        assert_eq!(
            cause(&client, "127.0.0.1"),
            "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)')"
        );

        let (client, _) = handshake(
            &pki.cacert(),
            pki.server("expired.pem", "expired.key", false),
            "127.0.0.1",
        )
        .await;
        assert_eq!(
            cause(&client, "127.0.0.1"),
            "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')"
        );

        // The certificate names 127.0.0.1; the client asks for localhost.
        let (client, _) = handshake(
            &pki.cacert(),
            pki.server("server.pem", "server.key", false),
            "localhost",
        )
        .await;
        assert_eq!(
            cause(&client, "localhost"),
            "SSLCertVerificationError(1, \"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'. (_ssl.c:1006)\")"
        );
    }

    #[tokio::test]
    async fn non_tls_peers_read_like_openssl() {
        let config = client_config(&TlsOptions::default()).unwrap();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = || ServerName::try_from("127.0.0.1").unwrap();

        // A plain HTTP server on the port.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 512];
            let _ = tcp.read(&mut hello).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let result = tokio::time::timeout(LIMIT, connector.connect(name(), tcp))
            .await
            .unwrap()
            .map(|_| ());
        assert_eq!(
            cause(&result, "127.0.0.1"),
            "SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')"
        );
        server.await.unwrap();

        // A server that hangs up on the ClientHello.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 512];
            let _ = tcp.read(&mut hello).await;
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let result = tokio::time::timeout(LIMIT, connector.connect(name(), tcp))
            .await
            .unwrap()
            .map(|_| ());
        assert_eq!(
            cause(&result, "127.0.0.1"),
            "SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1006)')"
        );
        server.await.unwrap();
    }

    #[tokio::test]
    async fn client_certificates_are_presented_when_asked() {
        let pki = Pki::new();
        let server = || pki.server("server.pem", "server.key", true);

        let with_cert = TlsOptions {
            client_cert: Some(pki.path("client.pem")),
            client_key: Some(pki.path("client.key")),
            ..pki.cacert()
        };
        let (client, srv) = handshake(&with_cert, server(), "127.0.0.1").await;
        client.unwrap();
        srv.unwrap();

        let combined = TlsOptions {
            client_cert: Some(pki.path("both.pem")),
            ..pki.cacert()
        };
        let (client, srv) = handshake(&combined, server(), "127.0.0.1").await;
        client.unwrap();
        srv.unwrap();

        let (client, srv) = handshake(&pki.cacert(), server(), "127.0.0.1").await;
        let refusal = srv.unwrap_err();
        assert!(refusal.contains("peer sent no certificates"), "{refusal}");
        assert_eq!(
            cause(&client, "127.0.0.1"),
            "SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:1006)')"
        );
    }
}
