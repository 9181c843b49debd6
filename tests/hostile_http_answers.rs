//! End-to-end regression tests of the HTTP client's hardening (issue 9), answers: the
//! real binary, headless, against `common::hostile::HostileServer` on 127.0.0.1. One
//! test per defect: compression, early answers, 101, non-ASCII paths, reason phrases,
//! read timeouts and non-UTF-8 instance ids.
//!
//! Every run must survive (exit 0 or 1 by Locust's rules, never a panic or an abort),
//! record each failure with Locust's text in `_failures.csv`, and count in `_stats.csv`
//! exactly the requests the server saw. Each scenario sends each route once per user:
//! either one class and `-i 1` (the run ends after that task), or one class per case
//! with `fixed_count = 1`, a 100 s wait and `-t`. Time is only ever bounded from above,
//! generously, where the point of the test is that the run ends on time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::hostile::*;
use common::hostile_cases::*;

// ---------------------------------------------------------------------------------------
// 9. Compression
// ---------------------------------------------------------------------------------------

/// gzip, deflate (zlib-wrapped and raw), br and the chain `gzip, br` are decoded for a
/// JSON check, and the recorded content size is the decoded length.
#[tokio::test]
async fn compressed_bodies_are_decoded_and_sized_decoded() {
    let json = format!("{{\"ok\": true, \"pad\": \"{}\"}}", "locust ".repeat(40));
    let plain = json.as_bytes();
    let encoded = |encoding: &str, body: Vec<u8>| {
        Behaviour::raw(response(
            "HTTP/1.1 200 OK",
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", encoding),
            ],
            body,
        ))
    };
    let server = HostileServer::start([
        ("/gzip", encoded("gzip", gzip(plain))),
        ("/zlib", encoded("deflate", deflate_zlib(plain))),
        ("/raw-deflate", encoded("deflate", deflate_raw(plain))),
        ("/br", encoded("br", brotli(plain))),
        // Listed in the order applied: gzip first, then br.
        ("/gzip-br", encoded("gzip, br", brotli(&gzip(plain)))),
    ])
    .await;
    let names = ["/gzip", "/zlib", "/raw-deflate", "/br", "/gzip-br"];
    let requests: Vec<String> = names
        .iter()
        .map(|p| format!("path = \"{p}\"\nchecks = [{{ json = \"/ok\", equals = true }}]"))
        .collect();
    let requests: Vec<&str> = requests.iter().map(String::as_str).collect();
    let scenario = class("Compressed", NO_WAIT, &requests);
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    for name in names {
        run.assert_succeeded_once("GET", name);
        let row = run.row("GET", name).unwrap();
        assert_eq!(
            row.avg_size,
            plain.len() as f64,
            "{name}: decoded length\n{}",
            run.describe()
        );
        assert_eq!(server.count(name), 1);
    }
}

/// A body that says gzip but is not: requests' ContentDecodingError, with zlib's words.
#[tokio::test]
async fn a_corrupt_gzip_body_fails_with_content_decoding_error() {
    let server = HostileServer::start([(
        "/bad-gzip",
        Behaviour::raw(response(
            "HTTP/1.1 200 OK",
            &[("Content-Encoding", "gzip")],
            "this is not gzip data at all",
        )),
    )])
    .await;
    let scenario = class("BadGzip", NO_WAIT, &["path = \"/bad-gzip\""]);
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(1);
    run.assert_failed_once(
        "GET",
        "/bad-gzip",
        "ContentDecodingError(DecodeError('Received response with content-encoding: gzip, but failed to decode it.', error('Error -3 while decompressing data: incorrect header check')))",
    );
    assert_eq!(server.count("/bad-gzip"), 1);
}

// ---------------------------------------------------------------------------------------
// 10. to 13. Early answers, 101, non-ASCII paths, reason phrases
// ---------------------------------------------------------------------------------------

/// A server that answers 413 to a 5 MB upload before reading it: the 413 is the result
/// (an HTTPError with the server's reason), not a reset or a broken pipe.
#[tokio::test]
async fn an_early_413_is_the_result_not_a_reset() {
    let server = HostileServer::start([(
        "/upload",
        Behaviour::AnswerEarly(response(
            "HTTP/1.1 413 Payload Too Large",
            &[("Connection", "close")],
            "too large",
        )),
    )])
    .await;
    let big = "a".repeat(5 << 20);
    let request = format!("method = \"POST\"\npath = \"/upload\"\nbody = \"{big}\"");
    let scenario = class("Upload", NO_WAIT, &[&request]);
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(1);
    run.assert_failed_once(
        "POST",
        "/upload",
        "HTTPError('413 Client Error: Payload Too Large for url: /upload')",
    );
    let seen = server.requests_to("/upload");
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].body_complete, "the server did not read the upload");
}

/// After `101 Switching Protocols` the connection speaks another protocol: the next
/// request of the user goes on a new connection.
#[tokio::test]
async fn a_connection_after_101_is_not_reused() {
    let server = HostileServer::start([
        (
            "/upgrade",
            Behaviour::raw(head(
                "HTTP/1.1 101 Switching Protocols",
                &[("Upgrade", "websocket"), ("Connection", "Upgrade")],
            )),
        ),
        ("/after", Behaviour::Echo),
    ])
    .await;
    let scenario = class(
        "Upgrade",
        NO_WAIT,
        &["path = \"/upgrade\"", "path = \"/after\""],
    );
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/upgrade");
    run.assert_succeeded_once("GET", "/after");
    let upgrade = server.requests_to("/upgrade");
    let after = server.requests_to("/after");
    assert_eq!((upgrade.len(), after.len()), (1, 1), "{}", run.describe());
    assert_ne!(
        upgrade[0].connection_id, after[0].connection_id,
        "the request after the 101 went on the upgraded connection"
    );
}

/// A path with non-ASCII characters and a space is sent percent-encoded (UTF-8).
#[tokio::test]
async fn a_non_ascii_path_is_sent_percent_encoded() {
    let server = HostileServer::start([("/caf%C3%A9%20x", Behaviour::Echo)]).await;
    let scenario = class("Cafe", NO_WAIT, &["path = \"/café x\""]);
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/caf%C3%A9%20x"], "{}", run.describe());
    assert_eq!(run.totals(), (1, 0), "{}", run.describe());
}

/// The reason phrase in the error is the server's, not the standard one.
#[tokio::test]
async fn the_servers_reason_phrase_is_in_the_error() {
    let server = HostileServer::start([(
        "/nf",
        Behaviour::raw(response("HTTP/1.1 404 File not found", &[], "nope")),
    )])
    .await;
    let scenario = class("NotFound", NO_WAIT, &["path = \"/nf\""]);
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(1);
    run.assert_failed_once(
        "GET",
        "/nf",
        "HTTPError('404 Client Error: File not found for url: /nf')",
    );
    assert_eq!(server.count("/nf"), 1);
}

// ---------------------------------------------------------------------------------------
// 14. Read timeouts
// ---------------------------------------------------------------------------------------

fn slow() -> Behaviour {
    Behaviour::Delay(Duration::from_secs(2), ok("late"))
}

fn read_timeout_text(port: u16) -> String {
    format!(
        "ReadTimeout(ReadTimeoutError(\"HTTPConnectionPool(host='127.0.0.1', port={port}): Read timed out. (read timeout=0.5)\"))"
    )
}

/// `--read-timeout 0.5` against an answer 2 s late: requests' ReadTimeout.
#[tokio::test]
async fn the_read_timeout_flag_fails_a_slow_answer() {
    let server = HostileServer::start([("/slow", slow())]).await;
    let scenario = class("Slow", NO_WAIT, &["path = \"/slow\""]);
    let run = run_once(&scenario, &server.url(), &["--read-timeout", "0.5"]).await;
    run.assert_exit(1);
    run.assert_failed_once("GET", "/slow", &read_timeout_text(server.port()));
    assert_eq!(server.count("/slow"), 1);
}

/// A request's own `timeout = 0.5` wins over a long `--read-timeout`.
#[tokio::test]
async fn a_request_timeout_overrides_the_read_timeout_flag() {
    let server = HostileServer::start([("/slow", slow())]).await;
    let scenario = class("Slow", NO_WAIT, &["path = \"/slow\"\ntimeout = 0.5"]);
    let run = run_once(&scenario, &server.url(), &["--read-timeout", "30"]).await;
    run.assert_exit(1);
    run.assert_failed_once("GET", "/slow", &read_timeout_text(server.port()));
    assert_eq!(server.count("/slow"), 1);
}

// ---------------------------------------------------------------------------------------
// 15. Instance ids that are not UTF-8
// ---------------------------------------------------------------------------------------

/// An `X-Instance-ID` value in latin-1 (`app\xe9`) is counted by the load-balancer
/// analysis as `appé`, next to a plain one, instead of being dropped.
#[tokio::test]
async fn a_latin1_instance_id_is_counted() {
    let mut latin1 = b"HTTP/1.1 200 OK\r\nX-Instance-ID: app\xe9\r\n".to_vec();
    latin1.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
    let server = HostileServer::start([
        ("/latin1", Behaviour::raw(latin1)),
        (
            "/utf8",
            Behaviour::raw(response(
                "HTTP/1.1 200 OK",
                &[("X-Instance-ID", "app1")],
                "ok",
            )),
        ),
    ])
    .await;
    let scenario = class(
        "Instances",
        NO_WAIT,
        &["path = \"/latin1\"", "path = \"/utf8\""],
    );
    let run = run_once(&scenario, &server.url(), &["--report-json", "r.json"]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/latin1");
    run.assert_succeeded_once("GET", "/utf8");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.dir.path().join("r.json")).unwrap()).unwrap();
    let balance = &report["balance"];
    let instances: Vec<(String, u64)> = balance["instances"]
        .as_array()
        .unwrap_or_else(|| panic!("no balance.instances in {balance}"))
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        instances,
        [("app1".to_string(), 1), ("appé".to_string(), 1)],
        "{balance}"
    );
    assert_eq!(balance["total"], 2, "{balance}");
}
