//! The HTTP client's TLS options end to end: the real binary, headless, one request per
//! run (`-u 1 -r 1 -i 1`), against the hostile TLS server of `tests/common/hostile.rs`,
//! all on 127.0.0.1. Certificates are verified by default and a failure is recorded with
//! Locust 2.47's exact text; `--insecure` (flag, `locust.toml` key, `LOCUST_INSECURE`),
//! `--cacert` and requests' CA-bundle variables and client certificates work; unusable
//! TLS files are argument errors (exit 2) before any connection. The proxy options are
//! in `tls_proxy_proxies.rs`; both share `tests/common/tls_runs.rs`.
//!
//! Locust's HttpUser sets `trust_env = False`, so it reads none of requests' CA-bundle
//! variables; locust-rs reads them as a plain requests session does.
//!
//! Every child gets a clean environment for what is under test: `LOCUST_*`, every
//! `*_proxy`/`*_PROXY` variable, the CA-bundle variables and `REQUEST_METHOD` are
//! removed, then only the test's own are set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::hostile::*;
use common::tls_runs::*;
use common::write;
use tokio::net::TcpListener;

/// The texts Locust 2.47 records (measured with Python 3.11 and OpenSSL 3 against the
/// same kinds of servers; proxies given explicitly, as HttpUser ignores the environment).
const SELF_SIGNED: &str = "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)'))";
const UNKNOWN_ISSUER: &str = "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)'))";
const IP_MISMATCH: &str = r#"SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'. (_ssl.c:1006)"))"#;
const HOST_MISMATCH: &str = r#"SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'. (_ssl.c:1006)"))"#;
const EXPIRED: &str = "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)'))";
const CERT_REQUIRED: &str = "SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)')";
/// A TLS server presenting a self-signed certificate as `openssl req -x509` makes one:
/// basic constraints CA:TRUE, for `localhost` and 127.0.0.1, named `openssl-style.test`
/// (no clash with any certificate of the OS store). It only completes handshakes: every
/// client here fails verification first. Stops when dropped.
struct CaFlaggedSelfSigned {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl CaFlaggedSelfSigned {
    async fn start() -> CaFlaggedSelfSigned {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.remove(DnType::CommonName);
        params
            .distinguished_name
            .push(DnType::CommonName, "openssl-style.test");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            for _ in 0..100 {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await;
                });
            }
        });
        CaFlaggedSelfSigned { port, task }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for CaFlaggedSelfSigned {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------
// 1. Verification is on by default.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn certificates_are_verified_by_default_with_locusts_error_text() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let self_signed = tls_server(&pki, ServerCert::SelfSigned).await;
    let trusted = tls_server(&pki, ServerCert::Trusted).await;
    let wrong_name = tls_server(&pki, ServerCert::WrongName).await;
    let expired = tls_server(&pki, ServerCert::Expired).await;
    let ca_flagged = CaFlaggedSelfSigned::start().await;

    let [self_signed_run, ca_flagged_run, unknown_ca_run, ip_run, name_run, expired_run] = run_all(
        dir.path(),
        [
            case("self-signed", &self_signed.url()),
            // What `openssl req -x509` makes; Locust: "self-signed certificate" too.
            case("self-signed-ca-flag", &ca_flagged.url()),
            // Not in Mozilla's roots nor the OS store.
            case("unknown-ca", &trusted.url()),
            case("ip", &wrong_name.url()).args(&["--cacert", ca]),
            case("name", &wrong_name.localhost_url()).args(&["--cacert", ca]),
            case("expired", &expired.url()).args(&["--cacert", ca]),
        ],
    )
    .await;
    // Checked together, so one report names every text that differs.
    let problems: Vec<String> = [
        (&self_signed_run, SELF_SIGNED),
        (&ca_flagged_run, SELF_SIGNED),
        (&unknown_ca_run, UNKNOWN_ISSUER),
        (&ip_run, IP_MISMATCH),
        (&name_run, HOST_MISMATCH),
        (&expired_run, EXPIRED),
    ]
    .iter()
    .filter_map(|(run, error)| run.mismatch(error))
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // Every handshake failed: no request reached a server.
    for server in [&self_signed, &trusted, &wrong_name, &expired] {
        assert_eq!(server.count("/x"), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_failure_suggests_insecure_once() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let self_signed = tls_server(&pki, ServerCert::SelfSigned).await;
    let unknown_ca = tls_server(&pki, ServerCert::Trusted).await;
    // Three requests each, three failures: the hint is said once.
    let runs = run_all(
        dir.path(),
        [
            case("self-signed", &self_signed.url()).iterations(3),
            case("unknown-ca", &unknown_ca.url()).iterations(3),
        ],
    )
    .await;
    // The issue: "keep verification on by default and say so in the error ...,
    // suggest --insecure". The hint is a log line on stderr.
    let problems: Vec<String> = runs
        .iter()
        .filter_map(|run| {
            run.assert_no_crash();
            assert_eq!(run.code, Some(1), "{}", run.console());
            assert_eq!(run.counts(), (3, 3), "{}", run.console());
            let hints = run.stderr.matches("--insecure").count();
            (hints != 1 || !run.stderr.contains("--cacert")).then(|| {
                format!(
                    "run {}: expected one log line suggesting --insecure and --cacert, \
                     found {hints} mentions of --insecure\n{}",
                    run.name(),
                    run.console()
                )
            })
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---------------------------------------------------------------------------------
// 2. --insecure, as a flag, a locust.toml key and an environment variable.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn insecure_reaches_a_self_signed_server() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let servers = [
        tls_server(&pki, ServerCert::SelfSigned).await,
        tls_server(&pki, ServerCert::SelfSigned).await,
        tls_server(&pki, ServerCert::SelfSigned).await,
        tls_server(&pki, ServerCert::WrongName).await,
    ];
    let runs = run_all(
        dir.path(),
        [
            case("flag", &servers[0].url()).args(&["--insecure"]),
            case("config", &servers[1].url())
                .file("locust.toml", "[tool.locust]\ninsecure = true\n"),
            case("env", &servers[2].url()).env("LOCUST_INSECURE", "true"),
            // A certificate for another name (and an unknown CA) is accepted too.
            case("wrong-name", &servers[3].url()).args(&["--insecure"]),
        ],
    )
    .await;
    for (run, server) in runs.iter().zip(&servers) {
        run.assert_succeeded();
        assert_eq!(server.count("/x"), 1, "{}", run.console());
    }
}

// ---------------------------------------------------------------------------------
// 3. --cacert and requests' CA-bundle variables.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cacert_and_ca_bundle_variables_trust_the_test_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let server = tls_server(&pki, ServerCert::Trusted).await;
    let url = server.url();
    let runs = run_all(
        dir.path(),
        [
            case("flag", &url).args(&["--cacert", ca]),
            case("flag-localhost", &server.localhost_url()).args(&["--cacert", ca]),
            case("requests", &url).env("REQUESTS_CA_BUNDLE", ca),
            case("ssl-cert-file", &url).env("SSL_CERT_FILE", ca),
            case("curl", &url).env("CURL_CA_BUNDLE", ca),
            case("locust-env", &url).env("LOCUST_CACERT", ca),
            case("config", &url).file(
                "locust.toml",
                &format!("[tool.locust]\ncacert = \"{ca}\"\n"),
            ),
        ],
    )
    .await;
    for run in &runs {
        run.assert_succeeded();
    }
    assert_eq!(server.count("/x"), runs.len());
}

// ---------------------------------------------------------------------------------
// 4. Unusable TLS files are argument errors before any connection.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_tls_files_are_argument_errors_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let server = tls_server(&pki, ServerCert::Trusted).await;
    let url = server.url();
    let (client, server_key) = (path(&pki.client_cert), path(&pki.server_key));
    let not_pem = write(dir.path(), "notes.txt", "not a certificate\n");
    let not_pem = path(&not_pem);

    let [missing, env_missing, wrong_key, no_key, not_a_cert, key_alone] = run_all(
        dir.path(),
        [
            case("missing", &url).args(&["--cacert", "/nonexistent.pem"]),
            case("env-missing", &url).env("REQUESTS_CA_BUNDLE", "/nonexistent.pem"),
            case("mismatch", &url).args(&["--cert", client, "--key", server_key]),
            case("no-key", &url).args(&["--cert", client]),
            case("not-pem", &url).args(&["--cacert", not_pem]),
            case("key-alone", &url).args(&["--key", path(&pki.client_key)]),
        ],
    )
    .await;
    missing.assert_usage_error(&["--cacert /nonexistent.pem: file not found"]);
    env_missing.assert_usage_error(&["REQUESTS_CA_BUNDLE=/nonexistent.pem: file not found"]);
    wrong_key.assert_usage_error(&[&format!(
        "--key {server_key}: the private key does not match the certificate in --cert {client}"
    )]);
    no_key.assert_usage_error(&[&format!(
        "--cert {client}: no private key found in the file"
    )]);
    not_a_cert.assert_usage_error(&[&format!("--cacert {not_pem}: no PEM certificate found")]);
    key_alone.assert_usage_error(&["--key needs --cert"]);
    // Not even the start-up reachability check connected.
    assert_eq!(server.connections(), 0);
}

// ---------------------------------------------------------------------------------
// 5. Client certificates.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_certificates_are_presented() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(HostileServer::start_tls(ok_routes(), &pki, ServerCert::Trusted, true).await);
    }
    let [without, pair, combined] = run_all(
        dir.path(),
        [
            case("without", &servers[0].url()).args(&["--cacert", ca]),
            case("pair", &servers[1].url()).args(&[
                "--cacert",
                ca,
                "--cert",
                path(&pki.client_cert),
                "--key",
                path(&pki.client_key),
            ]),
            case("combined", &servers[2].url()).args(&[
                "--cacert",
                ca,
                "--cert",
                path(&pki.client_combined),
            ]),
        ],
    )
    .await;

    without.assert_no_crash();
    assert_eq!(without.code, Some(1), "{}", without.console());
    assert_eq!(without.counts(), (1, 1), "{}", without.console());
    let errors = without.errors();
    assert_eq!(errors.len(), 1, "{}", without.console());
    // Locust 2.47 records the server's alert, read with the response:
    // `SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate
    // required (_ssl.c:2580)')`, or `SSLEOFError(8, 'EOF occurred in violation of protocol
    // (_ssl.c:2427)')` when the server's close overtakes it. A TLS error either way.
    assert!(
        errors[0].starts_with("SSLError(") || errors[0].starts_with("SSLEOFError("),
        "expected a TLS error text such as Locust's {CERT_REQUIRED}, recorded {errors:?}"
    );
    assert_eq!(servers[0].count("/x"), 0);
    assert!(servers[0].tls_failures() >= 1);

    for (run, server) in [(&pair, &servers[1]), (&combined, &servers[2])] {
        run.assert_succeeded();
        let requests = server.requests_to("/x");
        assert_eq!(requests.len(), 1, "{}", run.console());
        assert!(
            requests[0].client_cert,
            "the server saw no client certificate"
        );
    }
}
