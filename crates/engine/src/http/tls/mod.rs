//! The TLS side of the run: the one rustls `ClientConfig` every connection shares, built
//! from `--insecure`, `--cacert` (or requests' CA-bundle environment variables) and
//! `--cert`/`--key` (this file), the verifiers it uses (`verify`), and a failed
//! handshake worded as requests and OpenSSL word it (`python`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{InconsistentKeys, RootCertStore};

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

mod python;
mod verify;

pub use python::{handshake_error_text, read_error_text};
use verify::{AcceptAnyCertificate, NamesSelfSigned};

#[cfg(test)]
mod tests;
