//! Opening one keep-alive connection — plain TCP, or TLS with the rustls config shared by
//! every user — and telling whether an idle one was closed by the server meanwhile
//! (urllib3's `is_connection_dropped`), so a stale socket is replaced before it is used.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::errors;
use super::target::Origin;

/// An open connection.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

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
    pub async fn connect(&self, origin: &Origin) -> Result<Stream, String> {
        let stream = match TcpStream::connect((origin.host.as_str(), origin.port)).await {
            Ok(stream) => stream,
            Err(e) if is_resolution_failure(&e) => return Err(errors::name_resolution()),
            Err(e) => return Err(errors::describe(&e)),
        };
        let _ = stream.set_nodelay(true);
        if !origin.tls {
            return Ok(Stream::Plain(stream));
        }
        let name = rustls::pki_types::ServerName::try_from(origin.host.clone()).map_err(|e| {
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
        Ok(Stream::Tls(Box::new(tls)))
    }
}

impl Stream {
    /// True when the server closed the idle connection (or sent something unasked):
    /// a read that completes at once means the socket is no longer usable for a request.
    pub fn is_dropped(&mut self) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        !matches!(Pin::new(self).poll_read(&mut cx, &mut buf), Poll::Pending)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, data),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
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
