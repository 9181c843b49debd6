//! The hostile server's accept loop and one connection: read a head, read the body
//! unless the behaviour answers early, record the request, act, and go on with the next
//! request on the same connection while the behaviour keeps it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout, Instant};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::responses::{echo_response, redirect, response};
use super::wire::{self, Body, Head, HeadRead};
use super::{Behaviour, ReceivedRequest};

const MAX_CONNECTIONS: u64 = 100_000;
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;
/// Waiting for (the rest of) a request head, including the idle time before it.
const HEAD_TIME: Duration = Duration::from_secs(60);
const BODY_TIME: Duration = Duration::from_secs(60);
const HANDSHAKE_TIME: Duration = Duration::from_secs(10);
const WRITE_TIME: Duration = Duration::from_secs(30);
const DRIP_TIME: Duration = Duration::from_secs(60);
const DRIP_MAX_BYTES: usize = 1_000_000;
const ENDLESS_TIME: Duration = Duration::from_secs(120);
const ENDLESS_MAX_BYTES: u64 = 50 << 30;
const DRAIN_TIME: Duration = Duration::from_secs(10);
const DRAIN_MAX_BYTES: u64 = 1 << 30;

pub struct Route {
    behaviour: Behaviour,
    hits: AtomicUsize,
}

impl Route {
    pub fn new(behaviour: Behaviour) -> Route {
        Route {
            behaviour,
            hits: AtomicUsize::new(0),
        }
    }
}

pub struct Shared {
    routes: HashMap<String, Route>,
    pub requests: Mutex<Vec<ReceivedRequest>>,
    pub accepted: AtomicU64,
    pub closed: AtomicU64,
    pub endless_bytes: AtomicU64,
    pub tls_failures: AtomicU64,
}

impl Shared {
    pub fn new(routes: HashMap<String, Route>) -> Shared {
        Shared {
            routes,
            requests: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            endless_bytes: AtomicU64::new(0),
            tls_failures: AtomicU64::new(0),
        }
    }

    /// The behaviour for this request to `target`; `None` for an unknown target. A
    /// `Sequence` is resolved by the route's hit count.
    fn behaviour_for(&self, target: &str) -> Option<Behaviour> {
        let route = self.routes.get(target)?;
        let hit = route.hits.fetch_add(1, Ordering::SeqCst);
        let mut behaviour = &route.behaviour;
        for _ in 0..8 {
            match behaviour {
                Behaviour::Sequence(list) => {
                    behaviour = list.get(hit.min(list.len().checked_sub(1)?))?
                }
                _ => break,
            }
        }
        Some(behaviour.clone())
    }
}

/// A connection the server writes to: plain TCP or TLS over TCP.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn tcp(&self) -> &TcpStream;
    fn tcp_mut(&mut self) -> &mut TcpStream;
    fn client_cert(&self) -> bool {
        false
    }
}

impl Conn for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
    fn tcp_mut(&mut self) -> &mut TcpStream {
        self
    }
}

impl Conn for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
    fn tcp_mut(&mut self) -> &mut TcpStream {
        self.get_mut().0
    }
    fn client_cert(&self) -> bool {
        self.get_ref()
            .1
            .peer_certificates()
            .is_some_and(|certs| !certs.is_empty())
    }
}

/// Accepts until dropped (or 100,000 connections); each connection is a task of the
/// loop's own `JoinSet`, so aborting the loop ends them all.
pub async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tls: Option<TlsAcceptor>) {
    let mut connections = JoinSet::new();
    for id in 0..MAX_CONNECTIONS {
        let Some(tcp) = accept(&listener).await else {
            break;
        };
        while connections.try_join_next().is_some() {}
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        match &tls {
            None => {
                connections.spawn(serve(tcp, shared, id));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    match timeout(HANDSHAKE_TIME, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve(stream, shared, id).await,
                        _ => {
                            shared.tls_failures.fetch_add(1, Ordering::SeqCst);
                            shared.closed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        }
    }
    while connections.join_next().await.is_some() {}
}

/// The next connection; `None` after 1,000 accept errors in a row (10 s).
pub async fn accept(listener: &TcpListener) -> Option<TcpStream> {
    for _ in 0..1000 {
        match listener.accept().await {
            Ok((tcp, _)) => return Some(tcp),
            // Out of descriptors and the like: wait a little.
            Err(_) => sleep(Duration::from_millis(10)).await,
        }
    }
    None
}

/// How a behaviour leaves the connection.
#[derive(PartialEq, Eq, Debug)]
enum Ending {
    /// Read the next request.
    KeepAlive,
    /// Shut down (TLS: close_notify), then close.
    Close,
    /// SO_LINGER 0, then close: RST.
    Reset,
    /// TCP FIN without TLS close_notify.
    Truncate,
    /// Just drop it (already shut down, or broken).
    Drop,
}

/// Counts the connection as closed however its task ends (finished or aborted).
struct ClosedGuard(Arc<Shared>);

impl Drop for ClosedGuard {
    fn drop(&mut self) {
        self.0.closed.fetch_add(1, Ordering::SeqCst);
    }
}

async fn serve<S: Conn>(mut stream: S, shared: Arc<Shared>, connection_id: u64) {
    let _closed = ClosedGuard(shared.clone());
    let client_cert = stream.client_cert();
    let mut buf = Vec::new();
    let mut hits_here: HashMap<String, u32> = HashMap::new();
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let head = match timeout(HEAD_TIME, wire::read_head(&mut stream, &mut buf)).await {
            Ok(HeadRead::Head(head)) => head,
            Ok(HeadRead::TooLarge) => {
                let answer = response("HTTP/1.1 431 Request Header Fields Too Large", &[], "");
                let _ = write(&mut stream, &answer).await;
                return finish(stream, Ending::Close).await;
            }
            Ok(HeadRead::Malformed(_)) => {
                let answer = response("HTTP/1.1 400 Bad Request", &[], "bad request line");
                let _ = write(&mut stream, &answer).await;
                return finish(stream, Ending::Close).await;
            }
            Ok(HeadRead::Closed) | Err(_) => return,
        };
        let behaviour = shared.behaviour_for(&head.target);
        let early = matches!(
            behaviour,
            Some(Behaviour::AnswerEarly(_) | Behaviour::AnswerEarlyReset(_))
        );
        let mut body = Body::default();
        let mut body_complete = false;
        if !early {
            if head.expects_continue()
                && write(&mut stream, b"HTTP/1.1 100 Continue\r\n\r\n")
                    .await
                    .is_err()
            {
                return;
            }
            let read = wire::read_body(&mut stream, &mut buf, &head, &mut body);
            body_complete = matches!(timeout(BODY_TIME, read).await, Ok(Ok(())));
        }
        let request = received(&head, body, body_complete, connection_id, client_cert);
        shared.requests.lock().unwrap().push(request.clone());
        if !early && !body_complete {
            return;
        }
        let ending = act(&mut stream, behaviour, &request, &mut hits_here, &shared).await;
        match ending {
            Ending::KeepAlive if !head.wants_close() => {}
            Ending::KeepAlive => return finish(stream, Ending::Close).await,
            other => return finish(stream, other).await,
        }
    }
}

fn received(
    head: &Head,
    body: Body,
    body_complete: bool,
    connection_id: u64,
    client_cert: bool,
) -> ReceivedRequest {
    ReceivedRequest {
        method: head.method.clone(),
        target: head.target.clone(),
        version: head.version.clone(),
        headers: head.headers.clone(),
        body_len: body.len,
        body: body.kept,
        body_complete,
        connection_id,
        client_cert,
        raw_head: head.raw.clone(),
        received_at: std::time::Instant::now(),
    }
}

async fn act<S: Conn>(
    stream: &mut S,
    behaviour: Option<Behaviour>,
    request: &ReceivedRequest,
    hits_here: &mut HashMap<String, u32>,
    shared: &Shared,
) -> Ending {
    let Some(behaviour) = behaviour else {
        let answer = response(
            "HTTP/1.1 404 Not Found",
            &[("Content-Type", "text/plain")],
            "not found",
        );
        return send(stream, &generated(request, answer)).await;
    };
    match behaviour {
        Behaviour::Raw(bytes) => send(stream, &bytes).await,
        Behaviour::RawClose(bytes) => then(send(stream, &bytes).await, Ending::Close),
        Behaviour::RawReset(bytes) => then(send(stream, &bytes).await, Ending::Reset),
        Behaviour::RawTruncate(bytes) => then(send(stream, &bytes).await, Ending::Truncate),
        Behaviour::CloseSilently => Ending::Close,
        Behaviour::ResetSilently => Ending::Reset,
        Behaviour::Delay(pause, bytes) => {
            sleep(pause).await;
            send(stream, &bytes).await
        }
        Behaviour::Drip { head, byte, every } => drip(stream, &head, byte, every).await,
        Behaviour::Endless { head } => endless(stream, &head, shared).await,
        Behaviour::AnswerEarly(bytes) => {
            if send(stream, &bytes).await != Ending::KeepAlive {
                return Ending::Drop;
            }
            let _ = timeout(WRITE_TIME, stream.shutdown()).await;
            drain(stream).await;
            Ending::Drop
        }
        Behaviour::AnswerEarlyReset(bytes) => then(send(stream, &bytes).await, Ending::Reset),
        Behaviour::KeepAliveThenClose { first } => {
            let seen = hits_here.entry(request.target.clone()).or_insert(0);
            *seen += 1;
            if *seen == 1 {
                send(stream, &first).await
            } else {
                Ending::Close
            }
        }
        Behaviour::Redirect { status, location } => {
            send(stream, &redirect(status, &location)).await
        }
        Behaviour::Echo => send(stream, &generated(request, echo_response(request))).await,
        Behaviour::Fn(f) => send(stream, &f(request)).await,
        // Resolved by `behaviour_for`; only an empty or too deeply nested one is left.
        Behaviour::Sequence(_) => {
            send(stream, &response("HTTP/1.1 500 Empty Sequence", &[], "")).await
        }
    }
}

/// A response the server makes up itself (404, Echo): without its body for HEAD.
fn generated(request: &ReceivedRequest, mut answer: Vec<u8>) -> Vec<u8> {
    if request.method.eq_ignore_ascii_case("HEAD") {
        if let Some(end) = wire::find(&answer, b"\r\n\r\n") {
            answer.truncate(end + 4);
        }
    }
    answer
}

/// `next` when the write went through, else the broken connection is dropped.
fn then(written: Ending, next: Ending) -> Ending {
    if written == Ending::KeepAlive {
        next
    } else {
        Ending::Drop
    }
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    let all = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    timeout(WRITE_TIME, all)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> Ending {
    match write(stream, bytes).await {
        Ok(()) => Ending::KeepAlive,
        Err(_) => Ending::Drop,
    }
}

async fn drip<S: Conn>(stream: &mut S, head: &[u8], byte: u8, every: Duration) -> Ending {
    if send(stream, head).await != Ending::KeepAlive {
        return Ending::Drop;
    }
    let deadline = Instant::now() + DRIP_TIME;
    for _ in 0..DRIP_MAX_BYTES {
        if Instant::now() + every > deadline {
            break;
        }
        sleep(every).await;
        if send(stream, &[byte]).await != Ending::KeepAlive {
            return Ending::Drop;
        }
    }
    Ending::Close
}

async fn endless<S: Conn>(stream: &mut S, head: &[u8], shared: &Shared) -> Ending {
    if send(stream, head).await != Ending::KeepAlive {
        return Ending::Drop;
    }
    let block = vec![b'x'; 64 * 1024];
    let deadline = Instant::now() + ENDLESS_TIME;
    let mut written = 0u64;
    // Each pass writes at least one byte or ends: bounded by the byte cap and the time.
    while written < ENDLESS_MAX_BYTES {
        match tokio::time::timeout_at(deadline, stream.write(&block)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ending::Drop,
            Ok(Ok(n)) => {
                written += n as u64;
                shared.endless_bytes.fetch_add(n as u64, Ordering::SeqCst);
            }
            Err(_) => break,
        }
    }
    match timeout(WRITE_TIME, stream.flush()).await {
        Ok(Ok(())) => Ending::Close,
        _ => Ending::Drop,
    }
}

/// Reads and discards what the client still sends, up to 10 s or 1 GiB.
async fn drain<S: Conn>(stream: &mut S) {
    let deadline = Instant::now() + DRAIN_TIME;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    while total < DRAIN_MAX_BYTES {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => total += n as u64,
            _ => return,
        }
    }
}

async fn finish<S: Conn>(mut stream: S, ending: Ending) {
    match ending {
        Ending::Close => {
            let _ = timeout(WRITE_TIME, stream.shutdown()).await;
        }
        Ending::Reset => {
            let _ = stream.tcp().set_zero_linger();
        }
        Ending::Truncate => {
            let _ = timeout(WRITE_TIME, stream.tcp_mut().shutdown()).await;
        }
        Ending::KeepAlive | Ending::Drop => {}
    }
    drop(stream);
}
