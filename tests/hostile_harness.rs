//! Self-tests of the hostile-server harness (tests/common/hostile.rs) with plain clients
//! only, raw TcpStream bytes and reqwest, so that a failure here is the harness's and
//! not locust-rs's HTTP client's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use common::hostile::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(5);

async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).await.unwrap()
}

/// Reads until the peer closes or resets (or 5 s pass): the bytes and the error, if any.
async fn read_all(stream: &mut TcpStream) -> (Vec<u8>, Option<ErrorKind>) {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => return (out, None),
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return (out, Some(e.kind())),
            Err(_) => panic!("the connection stayed open for 5 s; read so far: {out:?}"),
        }
    }
}

/// Reads one response framed by Content-Length (head and body).
async fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = read_head(stream).await;
    let head = String::from_utf8_lossy(&out).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut body))
        .await
        .unwrap()
        .unwrap();
    out.extend_from_slice(&body);
    out
}

/// Reads a response head, byte by byte, through its blank line.
async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(LIMIT, stream.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            n,
            1,
            "closed inside the head: {}",
            String::from_utf8_lossy(&out)
        );
        out.push(byte[0]);
    }
    out
}

fn client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().no_proxy().timeout(LIMIT)
}

fn trusting(tls: &TlsFixtures) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(&tls.ca_pem()).unwrap();
    client()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
}

#[tokio::test]
async fn raw_route_keeps_the_connection_and_unknown_targets_get_404() {
    let hello = response("HTTP/1.1 200 OK", &[("X-Hostile", "1")], "hello");
    let server = HostileServer::start([("/raw", Behaviour::raw(&hello))]).await;
    let mut stream = connect(server.port()).await;
    stream
        .write_all(b"GET /raw HTTP/1.1\r\nHost: a\r\nX-B: 2\r\nx-a: 1\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await, hello);
    stream
        .write_all(b"GET /missing?q=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let missing = read_response(&mut stream).await;
    assert!(missing.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
    // A made-up answer to HEAD has no body: the next response follows the head.
    stream
        .write_all(b"HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /raw HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    assert!(read_head(&mut stream).await.starts_with(b"HTTP/1.1 404"));
    assert_eq!(read_response(&mut stream).await, hello);

    assert_eq!(server.connections(), 1);
    let requests = server.requests();
    let targets: Vec<&str> = requests.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/raw", "/missing?q=1", "/nope", "/raw"]);
    assert_eq!(requests[1].connection_id, requests[0].connection_id);
    let names: Vec<&str> = requests[0]
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["Host", "X-B", "x-a"]);
    assert_eq!(requests[0].header("X-A"), Some(&b"1"[..]));
    assert_eq!(server.count("/raw"), 2);
}

#[tokio::test]
async fn echo_describes_the_request_to_reqwest() {
    let server = HostileServer::start([("/echo?x=1", Behaviour::Echo)]).await;
    let answer = client()
        .build()
        .unwrap()
        .post(server.url_for("/echo?x=1"))
        .header("X-Test", "yes")
        .body("abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let json: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["target"], "/echo?x=1");
    assert_eq!(json["body_len"], 6);
    assert_eq!(json["body_complete"], true);
    let headers = json["headers"].as_array().unwrap();
    assert!(
        headers.iter().any(|h| h[0] == "x-test" && h[1] == "yes"),
        "{headers:?}"
    );
    let request = &server.requests_to("/echo?x=1")[0];
    assert_eq!(request.body, b"abcdef");
    assert_eq!(request.header_str("x-test").as_deref(), Some("yes"));
}

#[tokio::test]
async fn a_chunked_upload_is_decoded() {
    let server = HostileServer::start([("/up", Behaviour::Echo)]).await;
    let mut stream = connect(server.port()).await;
    let upload = b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
                   3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: t\r\n\r\n";
    stream.write_all(upload).await.unwrap();
    let answer = read_response(&mut stream).await;
    assert!(answer.starts_with(b"HTTP/1.1 200 OK"));
    let request = &server.requests()[0];
    assert_eq!(
        (request.body_len, request.body.as_slice()),
        (7, &b"abcdefg"[..])
    );
}

#[tokio::test]
async fn closes_and_resets_reach_the_client() {
    let server = HostileServer::start([
        ("/close", Behaviour::raw_close(b"partial")),
        ("/reset", Behaviour::RawReset(b"partial".to_vec())),
        ("/silent-close", Behaviour::CloseSilently),
        ("/silent-reset", Behaviour::ResetSilently),
    ])
    .await;
    let mut outcomes = Vec::new();
    for target in ["/close", "/reset", "/silent-close", "/silent-reset"] {
        let mut stream = connect(server.port()).await;
        let request = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        outcomes.push(read_all(&mut stream).await);
    }
    assert_eq!(outcomes[0], (b"partial".to_vec(), None));
    // Linux hands over the bytes that arrived before the RST, then the reset.
    let reset = (b"partial".to_vec(), Some(ErrorKind::ConnectionReset));
    assert_eq!(outcomes[1], reset);
    assert_eq!(outcomes[2], (Vec::new(), None));
    assert_eq!(outcomes[3], (Vec::new(), Some(ErrorKind::ConnectionReset)));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn endless_stops_counting_when_the_client_goes_away() {
    let head = head("HTTP/1.1 200 OK", &[("Content-Type", "text/plain")]);
    let server = HostileServer::start([("/endless", Behaviour::Endless { head })]).await;
    let mut stream = connect(server.port()).await;
    stream
        .write_all(b"GET /endless HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut read = 0;
    while read < 4 << 20 {
        read += tokio::time::timeout(LIMIT, stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
    }
    drop(stream);
    server
        .wait_until("the endless connection end", |s| s.closed() == 1)
        .await;
    let written = server.endless_bytes();
    assert!(written >= 4 << 20, "{written}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.endless_bytes(), written);
}

#[tokio::test]
async fn keep_alive_then_close_drops_the_second_request_unanswered() {
    let first = ok("first");
    let server = HostileServer::start([(
        "/stale",
        Behaviour::KeepAliveThenClose {
            first: first.clone(),
        },
    )])
    .await;
    let mut stream = connect(server.port()).await;
    stream
        .write_all(b"GET /stale HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await, first);
    stream
        .write_all(b"POST /stale HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    assert_eq!(read_all(&mut stream).await, (Vec::new(), None));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!((requests[1].body_len, requests[1].body_complete), (5, true));

    // A new connection is answered again.
    let mut again = connect(server.port()).await;
    again
        .write_all(b"GET /stale HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut again).await, first);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn drip_sends_one_byte_per_interval_until_the_client_leaves() {
    let every = Duration::from_millis(40);
    let head = head("HTTP/1.1 200 OK", &[("Content-Length", "1000")]);
    let drip = Behaviour::Drip {
        head: head.clone(),
        byte: b'z',
        every,
    };
    let server = HostileServer::start([("/drip", drip)]).await;
    let mut stream = connect(server.port()).await;
    stream
        .write_all(b"GET /drip HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut got = vec![0u8; head.len()];
    stream.read_exact(&mut got).await.unwrap();
    assert_eq!(got, head);
    let started = Instant::now();
    let mut three = [0u8; 3];
    tokio::time::timeout(LIMIT, stream.read_exact(&mut three))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&three, b"zzz");
    assert!(started.elapsed() >= every * 2, "{:?}", started.elapsed());
    drop(stream);
    server.wait_until("the drip end", |s| s.closed() == 1).await;
}

#[tokio::test]
async fn answer_early_answers_before_reading_the_upload() {
    let too_large = response("HTTP/1.1 413 Content Too Large", &[], "too large");
    let server = HostileServer::start([
        ("/early", Behaviour::AnswerEarly(too_large.clone())),
        (
            "/early-reset",
            Behaviour::AnswerEarlyReset(too_large.clone()),
        ),
    ])
    .await;

    let mut stream = connect(server.port()).await;
    stream
        .write_all(b"POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 50000000\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await, too_large);
    // The server discards what still comes, then closes: no reset.
    stream.write_all(&vec![b'u'; 1 << 20]).await.unwrap();
    stream.shutdown().await.unwrap();
    assert_eq!(read_all(&mut stream).await, (Vec::new(), None));

    let mut stream = connect(server.port()).await;
    stream
        .write_all(b"POST /early-reset HTTP/1.1\r\nHost: a\r\nContent-Length: 50000000\r\n\r\n")
        .await
        .unwrap();
    let _ = stream.write_all(&vec![b'u'; 1 << 20]).await;
    let (_, error) = read_all(&mut stream).await;
    assert_eq!(error, Some(ErrorKind::ConnectionReset));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| !r.body_complete && r.body_len == 0));
}

#[tokio::test]
async fn delay_outlasts_a_client_timeout_and_sequence_changes_answers() {
    let server = HostileServer::start([
        (
            "/slow",
            Behaviour::Delay(Duration::from_secs(2), ok("late")),
        ),
        (
            "/flaky",
            Behaviour::Sequence(vec![
                Behaviour::raw(response("HTTP/1.1 503 Service Unavailable", &[], "")),
                Behaviour::raw(ok("fine")),
            ]),
        ),
        (
            "/moved",
            Behaviour::Redirect {
                status: 302,
                location: "/flaky".to_string(),
            },
        ),
    ])
    .await;
    let http = client().build().unwrap();
    let slow = http
        .get(server.url_for("/slow"))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(slow.unwrap_err().is_timeout());

    let first = http.get(server.url_for("/flaky")).send().await.unwrap();
    assert_eq!(first.status(), 503);
    // Redirected to /flaky, now on its second entry.
    let moved = http.get(server.url_for("/moved")).send().await.unwrap();
    assert_eq!(moved.status(), 200);
    assert_eq!(moved.url().path(), "/flaky");
    assert_eq!(moved.text().await.unwrap(), "fine");
    assert_eq!(server.count("/flaky"), 2);
}

#[tokio::test]
async fn response_builders_frame_and_compress() {
    let text = "hostile ".repeat(1000);
    let server = HostileServer::start([
        (
            "/gzip",
            Behaviour::raw(response(
                "HTTP/1.1 200 OK",
                &[("Content-Encoding", "gzip")],
                gzip(text.as_bytes()),
            )),
        ),
        (
            "/chunked",
            Behaviour::raw(chunked("HTTP/1.1 200 OK", &[], &[b"ab", b"", b"cde"])),
        ),
        (
            "/fn",
            Behaviour::func(|r| ok(format!("{} {}", r.method, r.target))),
        ),
    ])
    .await;
    let http = client().build().unwrap();
    let get = |target: &str| http.get(server.url_for(target)).send();
    assert_eq!(get("/gzip").await.unwrap().text().await.unwrap(), text);
    assert_eq!(
        get("/chunked").await.unwrap().text().await.unwrap(),
        "abcde"
    );
    assert_eq!(get("/fn").await.unwrap().text().await.unwrap(), "GET /fn");

    let mut out = String::new();
    flate2::read::ZlibDecoder::new(&deflate_zlib(text.as_bytes())[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, text);
    out.clear();
    flate2::read::DeflateDecoder::new(&deflate_raw(text.as_bytes())[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, text);
    out.clear();
    brotli::Decompressor::new(&brotli(text.as_bytes())[..], 4096)
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, text);
}

#[tokio::test]
async fn tls_is_trusted_through_the_ca_and_bad_certificates_fail() {
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsFixtures::generate(dir.path());
    for file in [&tls.ca_cert, &tls.server_key, &tls.client_combined] {
        assert!(std::fs::read_to_string(file)
            .unwrap()
            .contains("-----BEGIN"));
    }
    let server = HostileServer::start_tls(
        [("/echo", Behaviour::Echo)],
        &tls,
        ServerCert::Trusted,
        false,
    )
    .await;
    let http = trusting(&tls).build().unwrap();
    for base in [server.url(), server.localhost_url()] {
        let answer = http.get(format!("{base}/echo")).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    assert!(server.url().starts_with("https://127.0.0.1:"));
    assert!(!server.requests()[0].client_cert);
    // Without the CA the same server is not trusted.
    let untrusting = client().tls_built_in_root_certs(false).build().unwrap();
    assert!(untrusting
        .get(server.url_for("/echo"))
        .send()
        .await
        .is_err());

    for bad in [
        ServerCert::SelfSigned,
        ServerCert::WrongName,
        ServerCert::Expired,
    ] {
        let server = HostileServer::start_tls([("/echo", Behaviour::Echo)], &tls, bad, false).await;
        let result = http.get(server.localhost_url() + "/echo").send().await;
        assert!(result.is_err(), "{bad:?} was accepted");
        server
            .wait_until("a failed handshake", |s| s.tls_failures() == 1)
            .await;
        assert_eq!(server.requests().len(), 0);
    }
}

#[tokio::test]
async fn client_certificate_mode_rejects_a_client_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsFixtures::generate(dir.path());
    let server = HostileServer::start_tls(
        [("/echo", Behaviour::Echo)],
        &tls,
        ServerCert::Trusted,
        true,
    )
    .await;
    let anonymous = trusting(&tls).build().unwrap();
    assert!(anonymous.get(server.url_for("/echo")).send().await.is_err());
    server
        .wait_until("a failed handshake", |s| s.tls_failures() == 1)
        .await;
    assert_eq!(server.requests().len(), 0);

    let identity = reqwest::Identity::from_pem(&tls.client_identity_pem()).unwrap();
    let with_cert = trusting(&tls).identity(identity).build().unwrap();
    let answer = with_cert.get(server.url_for("/echo")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let json: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(json["client_cert"], true);
    assert!(server.requests()[0].client_cert);
}

#[tokio::test]
async fn proxy_forwards_absolute_form_and_records_credentials() {
    let server = HostileServer::start([("/echo", Behaviour::Echo)]).await;
    let proxy = RecordingProxy::start().await;
    let via = reqwest::Proxy::http(proxy.url())
        .unwrap()
        .basic_auth("user", "secret");
    let http = client().proxy(via).build().unwrap();
    let answer = http.get(server.url_for("/echo")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["connection"], "close");
    answer.text().await.unwrap();

    let recorded = proxy.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].verdict, ProxyVerdict::Forwarded);
    assert_eq!(recorded[0].target, server.url_for("/echo"));
    assert_eq!(
        recorded[0].header_str("proxy-authorization"),
        Some(basic_auth("user", "secret"))
    );
    let reached = &server.requests()[0];
    assert_eq!(reached.target, "/echo");
    assert_eq!(reached.header("proxy-authorization"), None);
    assert_eq!(reached.header_str("connection").as_deref(), Some("close"));
}

#[tokio::test]
async fn proxy_tunnels_connect_to_a_tls_server() {
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsFixtures::generate(dir.path());
    let server = HostileServer::start_tls(
        [("/echo", Behaviour::Echo)],
        &tls,
        ServerCert::Trusted,
        false,
    )
    .await;
    let proxy = RecordingProxy::start().await;
    let via = reqwest::Proxy::https(proxy.url()).unwrap();
    let http = trusting(&tls).proxy(via).build().unwrap();
    let answer = http
        .get(server.localhost_url() + "/echo")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let recorded = proxy.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "CONNECT");
    assert_eq!(recorded[0].target, format!("localhost:{}", server.port()));
    assert_eq!(recorded[0].verdict, ProxyVerdict::Tunnelled);
    assert_eq!(server.count("/echo"), 1);
}

#[tokio::test]
async fn proxy_refuses_other_targets_without_connecting() {
    let proxy = RecordingProxy::start().await;
    let attempts = [
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET http://127.0.0.1@example.com:80/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET http://10.1.2.3:8080/x HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n",
        "CONNECT 10.1.2.3:443 HTTP/1.1\r\nHost: 10.1.2.3:443\r\n\r\n",
        "CONNECT [::2]:443 HTTP/1.1\r\nHost: [::2]:443\r\n\r\n",
    ];
    for attempt in attempts {
        let mut stream = connect(proxy.port()).await;
        stream.write_all(attempt.as_bytes()).await.unwrap();
        let (answer, _) = read_all(&mut stream).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 403 Forbidden\r\n"),
            "{attempt}"
        );
    }
    assert_eq!(proxy.upstream_connects(), 0);
    let verdicts: Vec<ProxyVerdict> = proxy.requests().iter().map(|r| r.verdict).collect();
    assert_eq!(verdicts, [ProxyVerdict::Refused; 5]);
}

#[tokio::test]
async fn proxy_auth_mode_answers_407_without_credentials() {
    let server = HostileServer::start([("/echo", Behaviour::Echo)]).await;
    let proxy = RecordingProxy::start_with_auth(&basic_auth("user", "secret")).await;
    let bare = client()
        .proxy(reqwest::Proxy::http(proxy.url()).unwrap())
        .build()
        .unwrap();
    let refused = bare.get(server.url_for("/echo")).send().await.unwrap();
    assert_eq!(refused.status(), 407);
    let via = reqwest::Proxy::http(proxy.url())
        .unwrap()
        .basic_auth("user", "secret");
    let authed = client().proxy(via).build().unwrap();
    let answer = authed.get(server.url_for("/echo")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let verdicts: Vec<ProxyVerdict> = proxy.requests().iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [ProxyVerdict::AuthRequired, ProxyVerdict::Forwarded]
    );
    assert_eq!(server.count("/echo"), 1);
}

#[tokio::test]
async fn dropping_the_server_ends_its_connections() {
    let drip = Behaviour::Drip {
        head: head("HTTP/1.1 200 OK", &[("Content-Length", "100")]),
        byte: b'z',
        every: Duration::from_millis(20),
    };
    let server = HostileServer::start([("/drip", drip)]).await;
    let port = server.port();
    let mut stream = connect(port).await;
    stream
        .write_all(b"GET /drip HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await.unwrap();
    drop(server);
    // The connection ends (its task is aborted) and nothing listens any more.
    let (_, error) = read_all(&mut stream).await;
    assert!(
        matches!(error, None | Some(ErrorKind::ConnectionReset)),
        "{error:?}"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}
