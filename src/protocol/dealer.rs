//! The worker's ZeroMQ DEALER socket (libzmq, as Locust's pyzmq), on a thread of its
//! own because libzmq blocks: frames in and out go through bounded channels. libzmq
//! reconnects by itself; `MAX_MESSAGE` caps what a peer can make it buffer.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::MAX_MESSAGE;

/// How often the socket thread looks for frames to send while none arrive.
const POLL: Duration = Duration::from_millis(20);

/// The socket's two ends, as the async side sees them.
pub struct Link {
    pub incoming: mpsc::Receiver<Vec<u8>>,
    pub outgoing: std_mpsc::Sender<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Link {
    /// A link with no socket behind it (what a worker holds while it reconnects):
    /// sends go nowhere, nothing arrives.
    pub fn closed() -> Link {
        let (outgoing, _) = std_mpsc::channel();
        let (_, incoming) = mpsc::channel(1);
        Link {
            incoming,
            outgoing,
            thread: None,
        }
    }

    /// A link over plain channels, without a socket (the worker's tests).
    #[cfg(test)]
    pub fn from_channels(
        incoming: mpsc::Receiver<Vec<u8>>,
        outgoing: std_mpsc::Sender<Vec<u8>>,
    ) -> Link {
        Link {
            incoming,
            outgoing,
            thread: None,
        }
    }

    /// Sends what is queued (the last `stats` and `quit`), then closes the socket,
    /// waiting at most its linger for the master to take them.
    pub async fn close(self) {
        let Link {
            outgoing, thread, ..
        } = self;
        drop(outgoing);
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Connects a DEALER with routing id `identity` to `endpoint` (`tcp://host:port`).
/// The thread ends when `outgoing`'s sender is dropped, lingering at most 1 s to
/// flush the last frames (the final `stats` and `quit`).
pub fn connect(endpoint: &str, identity: &str) -> Result<Link, String> {
    let context = zmq::Context::new();
    let socket = context
        .socket(zmq::DEALER)
        .map_err(|e| format!("cannot create the ZeroMQ socket: {e}"))?;
    let setup = || -> zmq::Result<()> {
        socket.set_identity(identity.as_bytes())?;
        socket.set_maxmsgsize(MAX_MESSAGE)?;
        socket.set_linger(1000)?;
        socket.set_tcp_keepalive(1)?;
        socket.set_tcp_keepalive_idle(30)?;
        socket.connect(endpoint)
    };
    setup().map_err(|e| format!("cannot connect to {endpoint}: {e}"))?;
    let (in_tx, incoming) = mpsc::channel(256);
    let (outgoing, out_rx) = std_mpsc::channel::<Vec<u8>>();
    let thread = std::thread::Builder::new()
        .name("zmq-worker".into())
        .spawn(move || pump(&socket, &in_tx, &out_rx))
        .map_err(|e| format!("cannot start the socket thread: {e}"))?;
    Ok(Link {
        incoming,
        outgoing,
        thread: Some(thread),
    })
}

fn pump(
    socket: &zmq::Socket,
    incoming: &mpsc::Sender<Vec<u8>>,
    outgoing: &std_mpsc::Receiver<Vec<u8>>,
) {
    loop {
        loop {
            match outgoing.try_recv() {
                Ok(frame) => {
                    if let Err(e) = socket.send(frame, 0) {
                        tracing::debug!(target: crate::logging::MAIN, "ZeroMQ send failed: {e}");
                    }
                }
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => return,
            }
        }
        match socket.poll(zmq::POLLIN, POLL.as_millis() as i64) {
            Ok(n) if n > 0 => {
                while let Ok(frame) = socket.recv_bytes(zmq::DONTWAIT) {
                    if incoming.blocking_send(frame).is_err() {
                        return;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(target: crate::logging::MAIN, "ZeroMQ poll failed: {e}");
                std::thread::sleep(POLL);
            }
        }
    }
}
