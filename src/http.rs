//! The HTTP side of a user: one client per user (its own cookie jar and keep-alive
//! connections, like Locust's HttpUser session) built from one shared TLS config, and
//! the transport-error strings Locust would record (`ConnectionRefusedError(111, ...)`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::cookie::Jar;

/// Builds per-user clients that share the TLS configuration (root store parsed once).
#[derive(Clone)]
pub struct ClientFactory {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl ClientFactory {
    pub fn new(timeout: Duration) -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        let tls = match tls {
            Ok(mut config) => {
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                config
            }
            // The ring provider supports the default versions; this cannot fail in practice,
            // but an empty config still works for plain HTTP.
            Err(_) => rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        };
        ClientFactory {
            tls: Arc::new(tls),
            timeout,
        }
    }

    /// A client for one user: own cookies, own connection pool.
    pub fn user_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .use_preconfigured_tls((*self.tls).clone())
            .cookie_provider(Arc::new(Jar::default()))
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(4)
            .build()
    }
}

/// What came back from one request, with the time Locust would record.
pub struct Exchange {
    pub elapsed: Duration,
    pub result: Result<Received, String>,
}

pub struct Received {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

/// Sends a request and reads the whole body inside the timed window, as Locust does.
pub async fn exchange(client: &reqwest::Client, request: reqwest::Request) -> Exchange {
    let started = Instant::now();
    let result = match client.execute(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => Ok(Received {
                    status,
                    headers,
                    body,
                }),
                Err(e) => Err(error_string(&e)),
            }
        }
        Err(e) => Err(error_string(&e)),
    };
    Exchange {
        elapsed: started.elapsed(),
        result,
    }
}

/// The innermost cause of a transport error, in the form Python's `repr` gives the
/// exception Locust records, so the same outage reads the same in both tools.
pub fn error_string(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(s) = io_error_string(io) {
                return s;
            }
        }
        let text = e.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return "NameResolutionError(gaierror(-2, 'Name or service not known'))".into();
        }
        source = e.source();
    }
    if error.is_timeout() {
        return "ReadTimeout('Read timed out.')".into();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text = e.to_string();
        source = e.source();
    }
    format!("ConnectionError({})", locust_stats::pyrepr::repr_str(&text))
}

fn io_error_string(io: &std::io::Error) -> Option<String> {
    use std::io::ErrorKind::*;
    let (name, errno, text) = match io.kind() {
        ConnectionRefused => ("ConnectionRefusedError", 111, "Connection refused"),
        ConnectionReset => ("ConnectionResetError", 104, "Connection reset by peer"),
        ConnectionAborted => (
            "ConnectionAbortedError",
            103,
            "Software caused connection abort",
        ),
        BrokenPipe => ("BrokenPipeError", 32, "Broken pipe"),
        TimedOut => return Some("ReadTimeout('Read timed out.')".into()),
        UnexpectedEof => {
            return Some(
                "RemoteDisconnected('Remote end closed connection without response')".into(),
            )
        }
        _ => return None,
    };
    Some(format!("{name}({errno}, '{text}')"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connection_reads_like_locust() {
        // Bind then drop a listener to get a loopback port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = ClientFactory::new(Duration::from_secs(5))
            .user_client()
            .unwrap();
        let request = client
            .get(format!("http://127.0.0.1:{port}/nothing"))
            .build()
            .unwrap();
        let exchange = exchange(&client, request).await;
        assert_eq!(
            exchange.result.err().as_deref(),
            Some("ConnectionRefusedError(111, 'Connection refused')")
        );
    }
}
