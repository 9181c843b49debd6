//! The process signals a run ends on besides Ctrl-C: SIGTERM (what `docker stop` and CI
//! runners send), awaited by the headless driver and the web UI alike.

/// Resolves when the process receives SIGTERM; never where there is no such signal.
#[cfg(unix)]
pub async fn sigterm() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut stream) => {
            stream.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
pub async fn sigterm() {
    std::future::pending().await
}
