//! Locust's master/worker wire (§9): the msgpack messages, and the two ZeroMQ sockets
//! that carry them — a worker's DEALER (`dealer`) and a master's ROUTER (`router`).
//! Both drivers (`worker/`, `master/`) speak through this module; it knows no session.

pub mod dealer;
pub mod message;
pub mod router;

/// The Locust version whose protocol both sides speak (`client_ready`, the version check).
pub const PROTOCOL_VERSION: &str = "2.47.0";

/// The largest message either socket accepts (a `spawn` with every option is a few KB,
/// a `stats` report of a thousand names a few hundred KB); a bigger one drops the
/// connection instead of being buffered.
pub const MAX_MESSAGE: i64 = 16 * 1024 * 1024;
