//! TLS options, verifiers and error words against real handshakes on 127.0.0.1 with
//! certificates made at test time.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::ServerName;
use rustls::server::WebPkiClientVerifier;
use rustls::{AlertDescription, CertificateError, OtherError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::python::handshake_error_cause;
use super::verify::{is_self_issued, SelfSigned};
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
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();

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
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
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
