//! Opening one keep-alive connection — plain TCP, TLS with the rustls config shared by
//! every user, through a forward proxy or a CONNECT tunnel as the proxy settings say —
//! within the connect timeout, and telling whether an idle one was closed by the server
//! meanwhile (urllib3's `is_connection_dropped`), so a stale socket is never used.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use http::HeaderValue;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::errors::{self, Context};
use super::proxy::{self, Proxy, ProxySettings};
use super::target::Origin;
use super::tls::{self, TlsOptions};

/// An open connection.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// How a request reaches its origin.
pub enum Route<'a> {
    Direct,
    /// Plain HTTP through a proxy: the request line carries the whole URL.
    Forward(&'a Proxy),
    /// HTTPS through a proxy: a CONNECT tunnel, then TLS inside it.
    Tunnel(&'a Proxy),
}

impl<'a> Route<'a> {
    pub fn proxy(&self) -> Option<&'a Proxy> {
        match self {
            Route::Direct => None,
            Route::Forward(p) | Route::Tunnel(p) => Some(p),
        }
    }

    /// Proxy credentials go in each request only through a forward proxy (a tunnel
    /// sends them once, in the CONNECT).
    pub fn forward_authorization(&self) -> Option<&'a HeaderValue> {
        match self {
            Route::Forward(p) => p.authorization.as_ref(),
            _ => None,
        }
    }
}

/// What every connection of the run shares: the TLS configuration, parsed once, and
/// the proxy settings.
pub struct Connector {
    tls: tokio_rustls::TlsConnector,
    proxies: ProxySettings,
}

impl Connector {
    pub fn new(tls: &TlsOptions, proxies: ProxySettings) -> Result<Self, String> {
        let config = tls::client_config(tls).map_err(|e| e.to_string())?;
        Ok(Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            proxies,
        })
    }

    pub fn route(&self, origin: &Origin) -> Route<'_> {
        match self
            .proxies
            .for_target(origin.tls, &origin.host, origin.port)
        {
            None => Route::Direct,
            Some(proxy) if origin.tls => Route::Tunnel(proxy),
            Some(proxy) => Route::Forward(proxy),
        }
    }

    /// Connects to `origin` (TCP, proxy tunnel and TLS handshake) within
    /// `connect_timeout`; the error is already Locust's error string.
    pub async fn connect(
        &self,
        origin: &Origin,
        connect_timeout: Duration,
        context: &Context<'_>,
    ) -> Result<Stream, String> {
        match tokio::time::timeout(connect_timeout, self.open(origin, context)).await {
            Ok(result) => result,
            Err(_) => Err(errors::connect_timeout(context)),
        }
    }

    async fn open(&self, origin: &Origin, context: &Context<'_>) -> Result<Stream, String> {
        let route = self.route(origin);
        let (host, port) = match route.proxy() {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (&*origin.host, origin.port),
        };
        let mut stream = match TcpStream::connect((host, port)).await {
            Ok(stream) => stream,
            Err(e) if is_resolution_failure(&e) => return Err(errors::name_resolution()),
            Err(e) => return Err(errors::describe(&e)),
        };
        let _ = stream.set_nodelay(true);
        if let Route::Tunnel(proxy) = route {
            proxy::tunnel(
                &mut stream,
                &origin.host,
                origin.port,
                proxy.authorization.as_ref(),
            )
            .await
            .map_err(|e| errors::tunnel(&e))?;
        }
        if !origin.tls {
            return Ok(Stream::Plain(stream));
        }
        let name =
            rustls::pki_types::ServerName::try_from(origin.host.to_string()).map_err(|e| {
                format!(
                    "InvalidURL({})",
                    locust_stats::pyrepr::repr_str(&e.to_string())
                )
            })?;
        let tls = self.tls.connect(name, stream).await.map_err(|e| {
            let text = errors::tls_handshake(&e, context);
            suggest_insecure_once(&text, origin);
            text
        })?;
        Ok(Stream::Tls(Box::new(tls)))
    }
}

impl Stream {
    /// True when the server closed the idle connection (or sent something unasked):
    /// a read that completes at once means the socket is no longer usable for a request.
    pub fn is_dropped(&mut self) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        !matches!(Pin::new(self).poll_read(&mut cx, &mut buf), Poll::Pending)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
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
        cx: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, data),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A certificate that does not verify is recorded as a failure of each request; the
/// way out is said once, in the log.
fn suggest_insecure_once(text: &str, origin: &Origin) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if text.starts_with("SSLError(SSLCertVerificationError") && !SAID.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            target: "locust.clients",
            "The TLS certificate of {}:{} could not be verified, so its requests fail (certificates are verified, as in Locust's HttpUser). Pass --cacert FILE to trust the CA that signed it, or --insecure to skip verification.",
            origin.host,
            origin.port
        );
    }
}

fn is_resolution_failure(error: &std::io::Error) -> bool {
    let text = error.to_string();
    text.contains("failed to lookup address") || text.contains("Name or service not known")
}
