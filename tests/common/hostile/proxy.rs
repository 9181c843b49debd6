//! A recording forward proxy on 127.0.0.1: absolute-form requests are forwarded (origin
//! form, `Connection: close`, proxy headers removed) and their response relayed with
//! `Connection: close`; `CONNECT` is answered 200 and tunnelled. One request per
//! connection. Only 127.0.0.1 and localhost are ever connected to: any other target is
//! refused with 403 before any connection or name lookup.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;

use super::conn::accept;
use super::responses::{response, status_line};
use super::wire::{self, Head, HeadRead};

const MAX_CONNECTIONS: u64 = 100_000;
const HEAD_TIME: Duration = Duration::from_secs(30);
const CONNECT_TIME: Duration = Duration::from_secs(5);
/// A forwarded exchange or a tunnel lasts at most this long.
const RELAY_TIME: Duration = Duration::from_secs(60);
const MAX_INFORMATIONAL: usize = 10;

/// What the proxy did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyVerdict {
    /// Absolute-form request forwarded to the target.
    Forwarded,
    /// CONNECT answered 200 and tunnelled.
    Tunnelled,
    /// 403: the target is not 127.0.0.1 or localhost. Nothing was connected to.
    Refused,
    /// 407: `Proxy-Authorization` missing or wrong (auth mode).
    AuthRequired,
    /// 502: the target did not accept the connection.
    BadGateway,
    /// 400: not absolute-form `http://` and not CONNECT, or an unreadable authority.
    BadRequest,
}

/// A request as the proxy read it.
#[derive(Clone, Debug)]
pub struct ProxiedRequest {
    pub method: String,
    /// As sent: `http://127.0.0.1:PORT/path` or, for CONNECT, `host:port`.
    pub target: String,
    pub version: String,
    /// Names as sent, values trimmed, in order; `Proxy-Authorization` included.
    pub headers: Vec<(String, Vec<u8>)>,
    pub connection_id: u64,
    pub verdict: ProxyVerdict,
}

impl ProxiedRequest {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        wire::find_header(&self.headers, name)
    }

    pub fn header_str(&self, name: &str) -> Option<String> {
        self.header(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// `Basic base64(user:password)`: a `Proxy-Authorization` (or `Authorization`) value.
pub fn basic_auth(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

struct ProxyShared {
    /// The exact `Proxy-Authorization` value required, if any.
    auth: Option<String>,
    requests: Mutex<Vec<ProxiedRequest>>,
    accepted: AtomicU64,
    upstream_connects: AtomicU64,
}

/// A running proxy; stops, with its connections and tunnels, when dropped.
pub struct RecordingProxy {
    addr: SocketAddr,
    shared: Arc<ProxyShared>,
    task: JoinHandle<()>,
}

impl RecordingProxy {
    /// A proxy that asks for no credentials.
    pub async fn start() -> RecordingProxy {
        Self::launch(None).await
    }

    /// A proxy that answers 407 unless `Proxy-Authorization` is exactly `expected`
    /// (e.g. `basic_auth("user", "pass")`).
    pub async fn start_with_auth(expected: &str) -> RecordingProxy {
        Self::launch(Some(expected.to_string())).await
    }

    async fn launch(auth: Option<String>) -> RecordingProxy {
        let shared = Arc::new(ProxyShared {
            auth,
            requests: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            upstream_connects: AtomicU64::new(0),
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        RecordingProxy { addr, shared, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request read, in order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Client connections accepted.
    pub fn connections(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections the proxy opened (or tried to open) to targets.
    pub fn upstream_connects(&self) -> u64 {
        self.shared.upstream_connects.load(Ordering::SeqCst)
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<ProxyShared>) {
    let mut connections = JoinSet::new();
    for id in 0..MAX_CONNECTIONS {
        let Some(client) = accept(&listener).await else {
            break;
        };
        while connections.try_join_next().is_some() {}
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        connections.spawn(serve(client, shared.clone(), id));
    }
    while connections.join_next().await.is_some() {}
}

/// The host and port of an authority (`host:port`, userinfo dropped); `None` when
/// unreadable. IPv6 literals come back bracketed (and are refused).
fn host_port(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    let authority = authority.rsplit('@').next()?;
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let port = match authority[end + 1..].strip_prefix(':') {
            Some(port) => port.parse().ok()?,
            None => default_port?,
        };
        return Some((authority[..=end].to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((authority.to_string(), default_port?)),
    }
    .filter(|(host, _)| !host.is_empty())
}

fn allowed(host: &str) -> bool {
    host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost")
}

/// `http://authority/path?query` → (authority, `/path?query`).
fn split_absolute(target: &str) -> Option<(&str, String)> {
    let scheme = target.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &target[7..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let path = rest[end..].split('#').next().unwrap_or("");
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    Some((&rest[..end], path))
}

/// The head's lines without those named in `drop`, the first line replaced by `first`
/// when given, and `Connection: close` added.
fn rewrite(head: &Head, first: Option<&str>, drop: &[&str]) -> Vec<u8> {
    let text = &head.raw[..head.raw.len() - 4];
    let lines = wire::lines(text);
    let mut out = Vec::with_capacity(head.raw.len() + 32);
    out.extend_from_slice(first.map_or(lines[0], str::as_bytes));
    out.extend_from_slice(b"\r\n");
    for line in &lines[1..] {
        let name = line.split(|b| *b == b':').next().unwrap_or(&[]);
        let name = String::from_utf8_lossy(name);
        if drop.iter().any(|d| name.trim().eq_ignore_ascii_case(d)) {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

async fn answer(client: &mut TcpStream, status: u16, extra: &[(&str, &str)], body: &str) {
    let mut headers = vec![("Content-Type", "text/plain"), ("Connection", "close")];
    headers.extend_from_slice(extra);
    let bytes = response(&status_line(status), &headers, body);
    let _ = timeout(CONNECT_TIME, async {
        client.write_all(&bytes).await?;
        client.shutdown().await
    })
    .await;
}

async fn serve(mut client: TcpStream, shared: Arc<ProxyShared>, connection_id: u64) {
    let mut buf = Vec::new();
    let head = match timeout(HEAD_TIME, wire::read_head(&mut client, &mut buf)).await {
        Ok(HeadRead::Head(head)) => head,
        Ok(HeadRead::TooLarge | HeadRead::Malformed(_)) => {
            return answer(&mut client, 400, &[], "bad request head").await;
        }
        Ok(HeadRead::Closed) | Err(_) => return,
    };
    let record = |verdict| {
        shared.requests.lock().unwrap().push(ProxiedRequest {
            method: head.method.clone(),
            target: head.target.clone(),
            version: head.version.clone(),
            headers: head.headers.clone(),
            connection_id,
            verdict,
        });
    };
    if let Some(expected) = &shared.auth {
        if head.header("proxy-authorization") != Some(expected.as_bytes()) {
            record(ProxyVerdict::AuthRequired);
            let challenge = [("Proxy-Authenticate", "Basic realm=\"hostile\"")];
            return answer(&mut client, 407, &challenge, "proxy credentials needed").await;
        }
    }
    let connect = head.method.eq_ignore_ascii_case("CONNECT");
    let parsed = if connect {
        host_port(&head.target, None).map(|hp| (hp, String::new()))
    } else {
        split_absolute(&head.target)
            .and_then(|(authority, path)| Some((host_port(authority, Some(80))?, path)))
    };
    let Some(((host, port), path)) = parsed else {
        record(ProxyVerdict::BadRequest);
        return answer(&mut client, 400, &[], "not a proxy request").await;
    };
    if !allowed(&host) {
        record(ProxyVerdict::Refused);
        return answer(
            &mut client,
            403,
            &[],
            "the test proxy only reaches 127.0.0.1",
        )
        .await;
    }
    shared.upstream_connects.fetch_add(1, Ordering::SeqCst);
    let upstream = match timeout(CONNECT_TIME, TcpStream::connect(("127.0.0.1", port))).await {
        Ok(Ok(upstream)) => upstream,
        _ => {
            record(ProxyVerdict::BadGateway);
            return answer(&mut client, 502, &[], "target unreachable").await;
        }
    };
    if connect {
        record(ProxyVerdict::Tunnelled);
        tunnel(client, upstream, buf).await;
    } else {
        record(ProxyVerdict::Forwarded);
        let first = format!("{} {path} {}", head.method, head.version);
        let drop = [
            "proxy-authorization",
            "proxy-connection",
            "connection",
            "keep-alive",
        ];
        let mut request = rewrite(&head, Some(&first), &drop);
        request.extend_from_slice(&buf);
        forward(client, upstream, request).await;
    }
}

async fn tunnel(mut client: TcpStream, mut upstream: TcpStream, early: Vec<u8>) {
    let _ = timeout(RELAY_TIME, async {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        upstream.write_all(&early).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await
    })
    .await;
}

/// Sends `request` (and whatever else the client sends) upstream and relays the response
/// until the target closes.
async fn forward(client: TcpStream, upstream: TcpStream, request: Vec<u8>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let up = async move {
        upstream_write.write_all(&request).await?;
        tokio::io::copy(&mut client_read, &mut upstream_write).await
    };
    let down = relay_response(&mut upstream_read, &mut client_write);
    let _ = timeout(RELAY_TIME, async {
        tokio::select! {
            _ = down => {}
            _ = async { let _ = up.await; std::future::pending::<()>().await } => {}
        }
    })
    .await;
    let _ = timeout(CONNECT_TIME, client_write.shutdown()).await;
}

/// Relays 1xx heads as they are, the final head with `Connection: close`, then the rest
/// as it comes. A head that does not parse is relayed raw.
async fn relay_response<R, W>(upstream: &mut R, client: &mut W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    for _ in 0..MAX_INFORMATIONAL {
        match wire::read_head(upstream, &mut buf).await {
            HeadRead::Head(head) => {
                let interim = head.target.starts_with('1') && head.target != "101";
                if interim {
                    client.write_all(&head.raw).await?;
                    continue;
                }
                client
                    .write_all(&rewrite(&head, None, &["connection", "keep-alive"]))
                    .await?;
            }
            HeadRead::Malformed(raw) => client.write_all(&raw).await?,
            HeadRead::Closed | HeadRead::TooLarge => {}
        }
        break;
    }
    client.write_all(&buf).await?;
    tokio::io::copy(upstream, client).await?;
    Ok(())
}
