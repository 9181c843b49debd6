//! A scriptable hostile HTTP/1.1 server for hardening the HTTP client. Each route (the
//! exact request target of the request line, path and query) answers with a
//! [`Behaviour`]: exact bytes, a close or a reset, a slow drip, an endless body, an answer
//! before the upload is read, a stale keep-alive connection, ... Over plain TCP or TLS
//! ([`TlsFixtures`]: an own CA, a leaf it signed, self-signed, wrong-name and expired
//! leaves, a client certificate). [`RecordingProxy`] is a forward proxy that records what
//! it was asked and only ever connects to 127.0.0.1. [`response`], [`chunked`], [`gzip`]
//! and friends build the bytes to answer with.
//!
//! Everything binds 127.0.0.1:0, runs on the test's tokio runtime, bounds every loop in
//! count and time, and stops (its connections too) when dropped.
//!
//! ```ignore
//! let server = HostileServer::start([
//!     ("/ok", Behaviour::Raw(response("HTTP/1.1 200 OK", &[], "hi"))),
//!     ("/reset", Behaviour::ResetSilently),
//!     ("/echo", Behaviour::Echo),
//! ])
//! .await;
//! // ... point the client at server.url_for("/ok") ...
//! assert_eq!(server.count("/ok"), 1);
//! ```

mod conn;
mod proxy;
mod responses;
mod tls;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

// Each test crate that includes `common` uses only some of these.
#[allow(unused_imports)]
pub use proxy::{basic_auth, ProxiedRequest, ProxyVerdict, RecordingProxy};
#[allow(unused_imports)]
pub use responses::*;
#[allow(unused_imports)]
pub use tls::{ServerCert, TlsFixtures};

use conn::{Route, Shared};

/// The request targets a server read, in order.
#[allow(dead_code)]
pub fn targets(server: &HostileServer) -> Vec<String> {
    server.requests().into_iter().map(|r| r.target).collect()
}

/// Builds the answer of a [`Behaviour::Fn`] route from the request that was read.
pub type Responder = Arc<dyn Fn(&ReceivedRequest) -> Vec<u8> + Send + Sync>;

/// What a route does once the request head has been read. Unless said otherwise the
/// request body (Content-Length or chunked) is read first, a request with
/// `Expect: 100-continue` gets `100 Continue` before its body is read, and after an
/// answer the connection stays open for the next request unless the request asked for
/// `Connection: close` (or was HTTP/1.0 without keep-alive).
#[derive(Clone)]
pub enum Behaviour {
    /// Writes exactly these bytes; the connection stays open.
    Raw(Vec<u8>),
    /// Writes these bytes, then closes (TLS: close_notify, then FIN).
    RawClose(Vec<u8>),
    /// Writes these bytes, then resets the connection (SO_LINGER 0, then drop: RST).
    RawReset(Vec<u8>),
    /// Writes these bytes, then sends a TCP FIN: over TLS without close_notify (a
    /// truncated TLS stream); over plain TCP the same as `RawClose`.
    RawTruncate(Vec<u8>),
    /// Reads the request, closes without answering.
    CloseSilently,
    /// Reads the request, resets without answering.
    ResetSilently,
    /// Sleeps, then writes the bytes; the connection stays open.
    Delay(Duration, Vec<u8>),
    /// Slowloris: writes `head`, then one `byte` every `every` until the client goes away
    /// (a write fails), 60 s have passed, or 1,000,000 bytes were dripped; then closes.
    Drip {
        head: Vec<u8>,
        byte: u8,
        every: Duration,
    },
    /// Writes `head`, then 64 KiB blocks of `x` as fast as the client takes them until it
    /// goes away (a write fails), 120 s have passed, or 50 GiB were written. The bytes
    /// accepted by the socket are counted in [`HostileServer::endless_bytes`].
    Endless { head: Vec<u8> },
    /// Answers as soon as the head is read, without reading the request body; then shuts
    /// down its write side (FIN) and reads and discards what the client still sends (up
    /// to 10 s or 1 GiB) so the answer is not destroyed by an RST, then closes.
    AnswerEarly(Vec<u8>),
    /// Answers as soon as the head is read, without reading the body, then resets, as a
    /// kernel does when a socket is closed with unread data.
    AnswerEarlyReset(Vec<u8>),
    /// Per connection: the first request to this route is answered with `first` and the
    /// connection kept; the next request to it on the same connection is read in full and
    /// the connection closed without an answer (a stale keep-alive connection).
    KeepAliveThenClose { first: Vec<u8> },
    /// A redirect with `Location` and `Content-Length: 0`; the connection stays open.
    Redirect { status: u16, location: String },
    /// 200 with a JSON body describing the request (see [`echo_json`]); for HEAD, the
    /// head only (as for the 404 of an unknown target).
    Echo,
    /// Answers with whatever the function builds from the request; connection kept.
    Fn(Responder),
    /// The n-th request to this route (counted over all connections) behaves as the n-th
    /// entry; the last entry repeats. For retry tests: fail first, then succeed.
    Sequence(Vec<Behaviour>),
}

impl Behaviour {
    pub fn raw(bytes: impl AsRef<[u8]>) -> Behaviour {
        Behaviour::Raw(bytes.as_ref().to_vec())
    }

    pub fn raw_close(bytes: impl AsRef<[u8]>) -> Behaviour {
        Behaviour::RawClose(bytes.as_ref().to_vec())
    }

    pub fn func(f: impl Fn(&ReceivedRequest) -> Vec<u8> + Send + Sync + 'static) -> Behaviour {
        Behaviour::Fn(Arc::new(f))
    }
}

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct ReceivedRequest {
    pub method: String,
    /// The request target exactly as sent (origin form `/path?q`, or absolute form).
    pub target: String,
    /// The third word of the request line, e.g. `HTTP/1.1` (empty when missing).
    pub version: String,
    /// Header names as sent (case kept) with their values (surrounding blanks trimmed),
    /// in the order received, duplicates kept.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body bytes read (chunked: decoded); 0 when the behaviour did not read the body.
    pub body_len: u64,
    /// The first 1 MiB of the body.
    pub body: Vec<u8>,
    /// False when the body was not read in full: the behaviour answers early, or the
    /// client stopped sending (closed, or 60 s passed).
    pub body_complete: bool,
    /// 0 for the first connection the server accepted, then 1, 2, ...
    pub connection_id: u64,
    /// TLS only: the client presented a certificate (verified against the CA).
    pub client_cert: bool,
    /// The request head as received, request line to the blank line.
    pub raw_head: Vec<u8>,
    /// When the server had read the whole request (head and the body it read).
    pub received_at: std::time::Instant,
}

impl ReceivedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        wire::find_header(&self.headers, name)
    }

    /// The first value of header `name` as text (lossy UTF-8).
    pub fn header_str(&self, name: &str) -> Option<String> {
        self.header(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// Every value of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }
}

/// A running hostile server; stops, with all its connections, when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl HostileServer {
    /// Plain HTTP on 127.0.0.1:0. Unknown targets get a 404 with a short body.
    pub async fn start<P: Into<String>>(
        routes: impl IntoIterator<Item = (P, Behaviour)>,
    ) -> HostileServer {
        Self::launch(routes, None).await
    }

    /// The same behaviours over TLS with the chosen server certificate. With
    /// `require_client_cert` the handshake fails unless the client presents a certificate
    /// signed by the fixtures' CA (counted in [`HostileServer::tls_failures`]).
    pub async fn start_tls<P: Into<String>>(
        routes: impl IntoIterator<Item = (P, Behaviour)>,
        fixtures: &TlsFixtures,
        cert: ServerCert,
        require_client_cert: bool,
    ) -> HostileServer {
        let config = fixtures.server_config(cert, require_client_cert);
        Self::launch(routes, Some(TlsAcceptor::from(config))).await
    }

    async fn launch<P: Into<String>>(
        routes: impl IntoIterator<Item = (P, Behaviour)>,
        acceptor: Option<TlsAcceptor>,
    ) -> HostileServer {
        let routes: HashMap<String, Route> = routes
            .into_iter()
            .map(|(path, behaviour)| (path.into(), Route::new(behaviour)))
            .collect();
        let shared = Arc::new(Shared::new(routes));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the hostile server binds 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let tls = acceptor.is_some();
        let task = tokio::spawn(conn::accept_loop(listener, shared.clone(), acceptor));
        HostileServer {
            addr,
            tls,
            shared,
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` (`https://` for a TLS server), no trailing slash.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    /// `url()` followed by `target` (which starts with `/`).
    pub fn url_for(&self, target: &str) -> String {
        format!("{}{target}", self.url())
    }

    /// `http(s)://localhost:PORT`: the name the TLS leaf certificates are issued for.
    pub fn localhost_url(&self) -> String {
        format!("{}://localhost:{}", self.scheme(), self.port())
    }

    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// Every request read so far, in the order they were read.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests read for this exact target.
    pub fn requests_to(&self, target: &str) -> Vec<ReceivedRequest> {
        let all = self.shared.requests.lock().unwrap();
        all.iter().filter(|r| r.target == target).cloned().collect()
    }

    /// How many requests were read for this exact target.
    pub fn count(&self, target: &str) -> usize {
        let all = self.shared.requests.lock().unwrap();
        all.iter().filter(|r| r.target == target).count()
    }

    /// Connections accepted (TCP; including TLS handshakes that failed).
    pub fn connections(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections the server is done with (closed, reset or dropped on its side).
    pub fn closed(&self) -> u64 {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// Body bytes the socket accepted from `Endless` routes, over all connections.
    pub fn endless_bytes(&self) -> u64 {
        self.shared.endless_bytes.load(Ordering::SeqCst)
    }

    /// TLS handshakes that failed or timed out (10 s).
    pub fn tls_failures(&self) -> u64 {
        self.shared.tls_failures.load(Ordering::SeqCst)
    }

    /// Waits (polling every 10 ms, at most 10 s) until `condition` holds; panics naming
    /// `what` otherwise. E.g. `server.wait_until("one closed", |s| s.closed() == 1)`.
    pub async fn wait_until(&self, what: &str, condition: impl Fn(&HostileServer) -> bool) {
        for _ in 0..1000 {
            if condition(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("hostile server: never saw {what} within 10 s");
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
