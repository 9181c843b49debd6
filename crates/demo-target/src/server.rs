//! Serving the demo target over TCP: `start` (bind, spawn, hand back a `DemoServer`
//! handle), `serve_until` / `serve_listener` (standalone, until a shutdown future).
//! HTTP/1.1 keep-alive (hyper's default), TCP_NODELAY; binds only where told; prints nothing.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{DemoConfig, Mode};
use crate::counters::CountersSnapshot;
use crate::state::DemoState;

/// How long `DemoServer::shutdown` lets open connections finish before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A demo target serving in a background task. Dropping it also stops the server
/// (gracefully, without waiting); `shutdown` stops it and waits.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    state: DemoState,
    /// Sending (or dropping) this starts a graceful shutdown.
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl DemoServer {
    /// The bound address (the real port when 0 was asked for).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What was served so far.
    #[must_use]
    pub fn counters(&self) -> CountersSnapshot {
        self.state.counters()
    }

    /// The live state: counters, store size, and the run-time knobs' setters.
    #[must_use]
    pub fn state(&self) -> &DemoState {
        &self.state
    }

    /// Stops accepting, lets open connections finish for up to 5 s, then aborts them.
    pub async fn shutdown(self) {
        let Self { stop, mut task, .. } = self;
        // An Err means the task already ended; there is nothing left to stop.
        let _ = stop.send(());
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Binds `addr` (port 0 picks a free port), validates `config` (an invalid one is
/// an `InvalidInput` error) and serves in a spawned task until shut down or dropped.
/// Must be called inside a tokio runtime.
pub async fn start(addr: SocketAddr, config: DemoConfig, mode: Mode) -> io::Result<DemoServer> {
    check(&config, &mode)?;
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (router, state) = crate::app(config, mode);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, router, async move {
        // Either a send or the sender's drop ends the wait.
        let _ = stopped.await;
    }));
    Ok(DemoServer {
        addr,
        state,
        stop,
        task,
    })
}

/// Standalone serving: binds `addr`, serves until `shutdown` completes, then lets
/// open connections finish. Invalid `config` is an `InvalidInput` error.
pub async fn serve_until(
    addr: SocketAddr,
    config: DemoConfig,
    mode: Mode,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    check(&config, &mode)?;
    let listener = TcpListener::bind(addr).await?;
    serve_listener(listener, config, mode, shutdown).await
}

/// Like `serve_until` on an already bound listener (so a caller can learn and print
/// the port before serving).
pub async fn serve_listener(
    listener: TcpListener,
    config: DemoConfig,
    mode: Mode,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    check(&config, &mode)?;
    let (router, _state) = crate::app(config, mode);
    serve(listener, router, shutdown).await
}

fn check(config: &DemoConfig, mode: &Mode) -> io::Result<()> {
    config
        .validate(mode)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("demo target: {e}")))
}

async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        // Best effort: without it answers may wait on Nagle's algorithm, nothing breaks.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
