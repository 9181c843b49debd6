//! A locust-rs master under faults, on 127.0.0.1: a worker killed with SIGKILL mid-run
//! (the master notices, deals its users to the other worker and finishes the run), a
//! master killed and started again on the same port (its worker joins the new one),
//! and garbage at the master port (random bytes, truncated msgpack, extra frames)
//! logged and dropped while a real worker's run goes on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::time::Duration;

use common::distributed::*;
use common::*;

/// A scenario without failures: a run's exit code says only whether it completed.
const CLEAN: &str = r#"
[users.Reader]
wait_time = "constant(0.05)"
[[users.Reader.tasks]]
name = "health"
request = { path = "/health" }
"#;

fn worker_args(host: &str, port: &str) -> Vec<String> {
    [
        "--worker",
        "-f",
        "s.toml",
        "-H",
        host,
        "--master-port",
        port,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test]
async fn a_worker_killed_mid_run_leaves_its_users_to_the_other() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", CLEAN);
    let server = demo().await;
    let url = server.base_url();
    let port = free_port().to_string();
    let load = ["-u", "4", "-r", "4", "-t", "14s", "--expect-workers", "2"];
    let args = master_args(&url, &port, &load);
    let doomed_args = worker_args(&url, &port);
    let doomed_refs: Vec<&str> = doomed_args.iter().map(String::as_str).collect();
    let mut doomed = spawn_in(dir.path(), &doomed_refs);
    let kill = async {
        // Both workers run their two users and report; then one dies without a word.
        wait_served(&server, 60).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        doomed.kill().await.unwrap();
    };
    let port_num: u16 = port.parse().unwrap();
    let (m, survivor, ()) = tokio::join!(
        run_in(dir.path(), &args),
        worker(dir.path(), &url, port_num),
        kill
    );
    let log = text(&m.stderr);
    assert_eq!(m.status.code(), Some(0), "{log}");
    assert!(
        log.contains("failed to send heartbeat, setting state to missing."),
        "{log}"
    );
    assert!(log.contains("Rebalancing 4 users over 1 workers"), "{log}");
    let stderr = text(&survivor.stderr);
    assert!(
        stderr.contains("Setting users per class: {\"Reader\": 4}"),
        "the survivor took all four users: {stderr}"
    );
    assert!(stderr.contains("Got quit message from master"), "{stderr}");
    // What the killed worker reported before it died is kept: the master counts more
    // than the survivor alone could have sent after the kill, and never more than the
    // target served.
    let rows = csv_rows(&dir.path().join("m_stats.csv"));
    let aggregated: u64 = rows.iter().find(|r| r[1] == "Aggregated").unwrap()[2]
        .parse()
        .unwrap();
    let served = server.counters().total;
    assert!(aggregated <= served, "{aggregated} > {served}");
    assert!(aggregated >= 60, "{aggregated}");
}

#[tokio::test]
async fn a_restarted_master_gets_its_worker_back() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", CLEAN);
    let server = demo().await;
    let url = server.base_url();
    let port = free_port().to_string();
    let first_load = ["-u", "2", "-r", "2", "-t", "60s"];
    let mut first = spawn_in(dir.path(), &master_args(&url, &port, &first_load));
    let port_num: u16 = port.parse().unwrap();
    let restart = async {
        wait_served(&server, 30).await;
        first.kill().await.unwrap();
        let _ = first.wait().await;
        let second_load = ["-u", "3", "-r", "3", "-t", "4s", "--expect-workers", "1"];
        run_in(dir.path(), &master_args(&url, &port, &second_load)).await
    };
    let (second, w) = tokio::join!(restart, worker(dir.path(), &url, port_num));
    let log = text(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{log}");
    assert!(log.contains("asking it to reconnect"), "{log}");
    assert!(
        log.contains("reported as ready. 1 workers connected."),
        "{log}"
    );
    let stderr = text(&w.stderr);
    assert_eq!(w.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("The master asked this worker to reconnect"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Setting users per class: {\"Reader\": 3}"),
        "the new master's test ran on it: {stderr}"
    );
    assert!(stderr.contains("Got quit message from master"), "{stderr}");
}

/// Frames a broken or hostile peer could send a master.
fn send_garbage(port: u16) {
    // Not ZeroMQ at all: libzmq drops the connection at the handshake.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let _ = raw.write_all(&noise);
    drop(raw);
    let context = zmq::Context::new();
    let socket = context.socket(zmq::DEALER).unwrap();
    socket.set_identity(b"garbage_1").unwrap();
    socket.set_linger(1000).unwrap();
    socket.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    // Before it is known: truncated msgpack, a huge announced array, two frames.
    socket.send(&b"\x93\xa5hello"[..], 0).unwrap();
    socket.send(&[0xdd, 0xff, 0xff, 0xff, 0xff][..], 0).unwrap();
    socket
        .send_multipart([&b"\x93"[..], &b"\xc0"[..]], 0)
        .unwrap();
    // Known (a valid client_ready with an old version), then a broken message.
    let ready = [
        0x93, 0xac, b'c', b'l', b'i', b'e', b'n', b't', b'_', b'r', b'e', b'a', b'd', b'y', 0xa3,
        b'1', b'.', b'0', 0xa9, b'g', b'a', b'r', b'b', b'a', b'g', b'e', b'_', b'1',
    ];
    socket.send(&ready[..], 0).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    socket.send(&b"\x93\xa4stat"[..], 0).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Gone without a word: it goes missing and is never dealt users it cannot run.
    drop(socket);
}

#[tokio::test]
async fn garbage_at_the_master_port_is_logged_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", CLEAN);
    let server = demo().await;
    let url = server.base_url();
    let port_num = free_port();
    let port = port_num.to_string();
    // The garbage peer's client_ready counts as a worker, as any would: with two
    // expected, the test starts once the real worker is there too, deals a user to
    // each, and the silent one goes missing and leaves its user to the real one.
    let load = ["-u", "2", "-r", "2", "-t", "10s", "--expect-workers", "2"];
    let garbage = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        tokio::task::spawn_blocking(move || send_garbage(port_num))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        worker(dir.path(), &url, port_num).await
    };
    let args = master_args(&url, &port, &load);
    let (m, w) = tokio::join!(run_in(dir.path(), &args), garbage);
    let log = text(&m.stderr);
    assert_eq!(m.status.code(), Some(0), "{log}");
    assert!(
        log.contains("Unrecognized message detected") && log.contains("from garbage_1"),
        "{log}"
    );
    assert!(
        log.contains("RPCError when receiving from client")
            && log.contains("Will reset client garbage_1"),
        "{log}"
    );
    assert!(
        log.contains("running a different version (1.0) connected"),
        "{log}"
    );
    assert!(log.contains("Rebalancing 2 users over 1 workers"), "{log}");
    let stderr = text(&w.stderr);
    assert_eq!(w.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Setting users per class: {\"Reader\": 2}"),
        "{stderr}"
    );
    let rows = csv_rows(&dir.path().join("m_stats.csv"));
    let aggregated = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    assert!(
        aggregated[2].parse::<u64>().unwrap() > 10,
        "{aggregated:?}\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}
