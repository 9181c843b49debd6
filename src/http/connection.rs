//! Opening one keep-alive HTTP/1.1 connection (plain TCP, or TLS with the shared rustls
//! config) and handing back hyper's `SendRequest`. The connection's driver runs as a
//! small task on the current runtime and ends when the connection closes.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::errors;
use super::target::Origin;

pub type Sender = SendRequest<Full<Bytes>>;

/// What every connection of the process shares: the TLS configuration, parsed once.
pub struct Connector {
    tls: tokio_rustls::TlsConnector,
}

impl Connector {
    pub fn new() -> Self {
        Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls_config())),
        }
    }

    /// Connects to `origin`; the error is already Locust's error string.
    pub async fn connect(&self, origin: &Origin) -> Result<Sender, String> {
        let stream = match TcpStream::connect((origin.host.as_str(), origin.port)).await {
            Ok(stream) => stream,
            Err(e) if is_resolution_failure(&e) => return Err(errors::name_resolution()),
            Err(e) => return Err(errors::describe(&e)),
        };
        let _ = stream.set_nodelay(true);
        if origin.tls {
            let name =
                rustls::pki_types::ServerName::try_from(origin.host.clone()).map_err(|e| {
                    format!(
                        "InvalidURL({})",
                        locust_stats::pyrepr::repr_str(&e.to_string())
                    )
                })?;
            let tls = self
                .tls
                .connect(name, stream)
                .await
                .map_err(|e| ssl_error(&e))?;
            handshake(TokioIo::new(tls)).await
        } else {
            handshake(TokioIo::new(stream)).await
        }
    }
}

async fn handshake<T>(io: TokioIo<T>) -> Result<Sender, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(|e| errors::describe(&e))?;
    tokio::spawn(async move {
        // The connection's own errors surface on the request that was in flight.
        let _ = connection.await;
    });
    Ok(sender)
}

fn is_resolution_failure(error: &std::io::Error) -> bool {
    let text = error.to_string();
    text.contains("failed to lookup address") || text.contains("Name or service not known")
}

fn ssl_error(error: &std::io::Error) -> String {
    format!(
        "SSLError({})",
        locust_stats::pyrepr::repr_str(&error.to_string())
    )
}

fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.with_root_certificates(roots.clone())
                .with_no_client_auth()
        });
    let mut config = match config {
        Ok(config) => config,
        // The ring provider supports the default versions; keep the defaults otherwise.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
