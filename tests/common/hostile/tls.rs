//! TLS fixtures made with rcgen (ECDSA P-256): an own CA, leaves it signed, a
//! self-signed leaf and a client certificate, written as PEM files for the client under
//! test and kept in memory for the hostile server's rustls configuration (ring provider).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// Which certificate the TLS server presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCert {
    /// Signed by the fixtures' CA, for `localhost` and IP 127.0.0.1.
    Trusted,
    /// Self-signed, for `localhost` and 127.0.0.1: untrusted unless trusted by itself.
    SelfSigned,
    /// Signed by the CA, for `wrong.test` only.
    WrongName,
    /// Signed by the CA, for `localhost` and 127.0.0.1, valid only during the year 2000.
    Expired,
}

/// PEM files in `dir`, and the same material in memory for the server.
pub struct TlsFixtures {
    pub dir: PathBuf,
    /// `ca.pem`: the CA certificate to trust.
    pub ca_cert: PathBuf,
    /// `ca-key.pem`
    pub ca_key: PathBuf,
    /// `server.pem` / `server-key.pem`: [`ServerCert::Trusted`].
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// `selfsigned.pem` / `selfsigned-key.pem`: [`ServerCert::SelfSigned`].
    pub selfsigned_cert: PathBuf,
    pub selfsigned_key: PathBuf,
    /// `wrong-name.pem` / `wrong-name-key.pem`: [`ServerCert::WrongName`].
    pub wrong_name_cert: PathBuf,
    pub wrong_name_key: PathBuf,
    /// `expired.pem` / `expired-key.pem`: [`ServerCert::Expired`].
    pub expired_cert: PathBuf,
    pub expired_key: PathBuf,
    /// `client.pem` / `client-key.pem`: a client certificate signed by the CA.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// `client-combined.pem`: the client certificate followed by its key.
    pub client_combined: PathBuf,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    client_combined_pem: String,
    /// DER certificate and PKCS#8 key, in [`ServerCert`] order.
    leaves: Vec<(CertificateDer<'static>, Vec<u8>)>,
}

struct Made {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
}

fn leaf_params(
    names: &[&str],
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.remove(DnType::CommonName);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    params
}

fn signed(params: &CertificateParams, ca: &CertifiedIssuer<'_, KeyPair>) -> Made {
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    Made {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

impl TlsFixtures {
    /// Makes every certificate and key and writes them into `dir` (created if missing).
    pub fn generate(dir: &Path) -> TlsFixtures {
        std::fs::create_dir_all(dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.remove(DnType::CommonName);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "locust-rs hostile test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let local = ["localhost", "127.0.0.1"];
        let server = signed(
            &leaf_params(&local, "localhost", ExtendedKeyUsagePurpose::ServerAuth),
            &ca,
        );
        let wrong = signed(
            &leaf_params(
                &["wrong.test"],
                "wrong.test",
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            &ca,
        );
        let mut expired_params =
            leaf_params(&local, "localhost", ExtendedKeyUsagePurpose::ServerAuth);
        expired_params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        expired_params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        let expired = signed(&expired_params, &ca);
        let client = signed(
            &leaf_params(
                &["client.test"],
                "hostile test client",
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
            &ca,
        );
        let selfsigned_key = KeyPair::generate().unwrap();
        let selfsigned_cert = leaf_params(&local, "localhost", ExtendedKeyUsagePurpose::ServerAuth)
            .self_signed(&selfsigned_key)
            .unwrap();
        let selfsigned = Made {
            cert_pem: selfsigned_cert.pem(),
            cert_der: selfsigned_cert.der().clone(),
            key: selfsigned_key,
        };

        let pair = |made: &Made, stem: &str| {
            (
                write(dir, &format!("{stem}.pem"), &made.cert_pem),
                write(dir, &format!("{stem}-key.pem"), &made.key.serialize_pem()),
            )
        };
        let ca_pem = ca.pem();
        let ca_cert = write(dir, "ca.pem", &ca_pem);
        let ca_key = write(dir, "ca-key.pem", &ca.key().serialize_pem());
        let (server_cert, server_key) = pair(&server, "server");
        let (selfsigned_cert, selfsigned_key) = pair(&selfsigned, "selfsigned");
        let (wrong_name_cert, wrong_name_key) = pair(&wrong, "wrong-name");
        let (expired_cert, expired_key) = pair(&expired, "expired");
        let (client_cert, client_key) = pair(&client, "client");
        let client_combined_pem = format!("{}{}", client.cert_pem, client.key.serialize_pem());
        let client_combined = write(dir, "client-combined.pem", &client_combined_pem);
        let leaves = [&server, &selfsigned, &wrong, &expired]
            .iter()
            .map(|made| (made.cert_der.clone(), made.key.serialize_der()))
            .collect();
        TlsFixtures {
            dir: dir.to_path_buf(),
            ca_cert,
            ca_key,
            server_cert,
            server_key,
            selfsigned_cert,
            selfsigned_key,
            wrong_name_cert,
            wrong_name_key,
            expired_cert,
            expired_key,
            client_cert,
            client_key,
            client_combined,
            ca_der: ca.der().clone(),
            ca_pem,
            client_combined_pem,
            leaves,
        }
    }

    /// The CA certificate as PEM (e.g. for `reqwest::Certificate::from_pem`).
    pub fn ca_pem(&self) -> Vec<u8> {
        self.ca_pem.clone().into_bytes()
    }

    /// The client certificate and key in one PEM (e.g. for `reqwest::Identity::from_pem`).
    pub fn client_identity_pem(&self) -> Vec<u8> {
        self.client_combined_pem.clone().into_bytes()
    }

    /// A rustls server configuration (ring provider, TLS 1.2 and 1.3, ALPN `http/1.1`)
    /// presenting `cert`; with `require_client_cert` a client must present a
    /// certificate signed by the CA.
    pub fn server_config(&self, cert: ServerCert, require_client_cert: bool) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = RootCertStore::empty();
            roots.add(self.ca_der.clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let index = match cert {
            ServerCert::Trusted => 0,
            ServerCert::SelfSigned => 1,
            ServerCert::WrongName => 2,
            ServerCert::Expired => 3,
        };
        let (der, key) = &self.leaves[index];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.clone()));
        let mut config = builder.with_single_cert(vec![der.clone()], key).unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}
