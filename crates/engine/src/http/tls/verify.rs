//! The certificate verifiers: `--insecure` accepts any certificate (signatures still
//! checked); the default one is webpki's, naming an untrusted self-signed certificate as
//! OpenSSL does and trusting a `--cacert` certificate served by itself.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

/// --insecure: any certificate is accepted, but the handshake signatures are still checked
/// (so the connection is at least with the holder of the presented certificate's key).
#[derive(Debug)]
pub(super) struct AcceptAnyCertificate {
    pub(super) algorithms: WebPkiSupportedAlgorithms,
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
pub(super) struct NamesSelfSigned {
    pub(super) webpki: Arc<WebPkiServerVerifier>,
    /// The certificates of a `--cacert` bundle: one of them served alone is trusted as
    /// it is, as OpenSSL trusts it (a self-signed `openssl req -x509` certificate is
    /// marked as a CA, which webpki refuses as a server's own certificate).
    pub(super) pinned: Vec<CertificateDer<'static>>,
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
pub(super) fn is_self_issued(cert: &[u8]) -> bool {
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
