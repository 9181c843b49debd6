//! The master's ZeroMQ ROUTER socket (libzmq, as Locust's pyzmq), on a thread of its
//! own because libzmq blocks. Each worker's DEALER sends one frame; the ROUTER sees
//! `[routing id, payload]`. Frames in and out go through channels: the incoming one is
//! bounded (a flood waits in libzmq's high-water mark, then is dropped by libzmq, never
//! buffered here without limit), and `MAX_MESSAGE` caps any one message.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::MAX_MESSAGE;
use crate::logging::MAIN;

/// How often the socket thread looks for frames to send while none arrive.
const POLL: Duration = Duration::from_millis(20);
/// Frames waiting for the master's loop; past it the socket thread waits (and libzmq
/// queues up to its high-water mark of 1000 messages per peer, then drops).
const INCOMING: usize = 1024;

/// One frame from a peer: its routing id (a worker's client id) and payload, or what
/// was wrong with the multipart message it sent.
pub struct Incoming {
    pub identity: String,
    pub payload: Result<Vec<u8>, String>,
}

/// The bound socket's two ends, as the async side sees them.
pub struct Server {
    pub incoming: mpsc::Receiver<Incoming>,
    outgoing: std_mpsc::Sender<(String, Vec<u8>)>,
    /// The endpoint actually bound (`tcp://127.0.0.1:5557`), its port resolved.
    pub endpoint: String,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Queues `payload` for the peer `identity` (dropped by libzmq if it is gone).
    pub fn send(&self, identity: &str, payload: Vec<u8>) {
        let _ = self.outgoing.send((identity.to_string(), payload));
    }

    /// Sends what is queued (the last `quit`s), then closes the socket, waiting at
    /// most its linger.
    pub async fn close(mut self) {
        let (dead, _) = std_mpsc::channel();
        self.outgoing = dead;
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Binds a ROUTER at `host:port` (`*` for every interface; port 0 picks a free one).
pub fn bind(host: &str, port: u16) -> Result<Server, String> {
    let address = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let wanted = match port {
        0 => format!("tcp://{address}:*"),
        port => format!("tcp://{address}:{port}"),
    };
    let context = zmq::Context::new();
    let socket = context
        .socket(zmq::ROUTER)
        .map_err(|e| format!("cannot create the ZeroMQ socket: {e}"))?;
    let setup = || -> zmq::Result<()> {
        socket.set_maxmsgsize(MAX_MESSAGE)?;
        // A worker that reconnects under its id replaces its old connection (libzmq
        // would otherwise ignore the new one while the old is up).
        socket.set_router_handover(true)?;
        socket.set_linger(500)?;
        socket.set_tcp_keepalive(1)?;
        socket.set_tcp_keepalive_idle(30)?;
        socket.set_ipv6(address.starts_with('[') || host == "*")?;
        socket.bind(&wanted)
    };
    setup().map_err(|e| format!("cannot listen on {wanted}: {e}"))?;
    let endpoint = match socket.get_last_endpoint() {
        Ok(Ok(bound)) => bound,
        _ => wanted,
    };
    let (in_tx, incoming) = mpsc::channel(INCOMING);
    let (outgoing, out_rx) = std_mpsc::channel::<(String, Vec<u8>)>();
    let thread = std::thread::Builder::new()
        .name("zmq-master".into())
        .spawn(move || pump(&socket, &in_tx, &out_rx))
        .map_err(|e| format!("cannot start the socket thread: {e}"))?;
    Ok(Server {
        incoming,
        outgoing,
        endpoint,
        thread: Some(thread),
    })
}

fn pump(
    socket: &zmq::Socket,
    incoming: &mpsc::Sender<Incoming>,
    outgoing: &std_mpsc::Receiver<(String, Vec<u8>)>,
) {
    loop {
        loop {
            match outgoing.try_recv() {
                Ok((identity, payload)) => {
                    let parts: [&[u8]; 2] = [identity.as_bytes(), &payload];
                    if let Err(e) = socket.send_multipart(parts, 0) {
                        tracing::debug!(target: MAIN, "ZeroMQ send to {identity} failed: {e}");
                    }
                }
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => return,
            }
        }
        match socket.poll(zmq::POLLIN, POLL.as_millis() as i64) {
            Ok(n) if n > 0 => {
                while let Ok(parts) = socket.recv_multipart(zmq::DONTWAIT) {
                    if incoming.blocking_send(split(parts)).is_err() {
                        return;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(target: MAIN, "ZeroMQ poll failed: {e}");
                std::thread::sleep(POLL);
            }
        }
    }
}

/// `[routing id, payload]` as Locust's workers send it; anything else is an error that
/// still names the peer, so the master can ask it to reconnect.
fn split(mut parts: Vec<Vec<u8>>) -> Incoming {
    let identity = if parts.is_empty() {
        String::new()
    } else {
        String::from_utf8_lossy(&parts.remove(0)).into_owned()
    };
    let payload = match parts.len() {
        1 => Ok(parts.remove(0)),
        n => Err(format!("a message of {n} frames, not 1")),
    };
    Incoming { identity, payload }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_split_into_peer_and_payload() {
        let one = split(vec![b"host_1".to_vec(), b"abc".to_vec()]);
        assert_eq!(one.identity, "host_1");
        assert_eq!(one.payload.unwrap(), b"abc");
        let three = split(vec![b"h".to_vec(), vec![], vec![1]]);
        assert_eq!(three.identity, "h");
        assert!(three.payload.unwrap_err().contains("2 frames"));
        assert!(split(vec![]).payload.is_err());
    }
}
