//! Tests of proxy selection (the environment, NO_PROXY, explicit settings, proxy URLs)
//! and of the CONNECT tunnel against a scripted proxy.

use std::collections::HashMap;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use super::*;

const LIMIT: Duration = Duration::from_secs(10);

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn proxy_host(settings: &ProxySettings, tls: bool) -> Option<String> {
    settings
        .for_target(tls, "api.example.com", if tls { 443 } else { 80 })
        .map(|p| p.url_for_messages.clone())
}

#[test]
fn no_proxy_matching() {
    let cases: &[(&str, &str, u16, bool)] = &[
        ("", "example.com", 80, false),
        ("*", "anything.test", 80, true),
        (" * ", "10.1.2.3", 8080, true),
        ("foo.test, *", "example.com", 80, true),
        ("example.com", "example.com", 80, true),
        ("example.com", "a.example.com", 80, true),
        ("example.com", "a.b.example.com", 443, true),
        (".example.com", "a.example.com", 80, true),
        (".example.com", "example.com", 80, true),
        ("*.example.com", "a.example.com", 80, true),
        ("example.com", "badexample.com", 80, false),
        ("example.com", "example.com.evil.test", 80, false),
        ("EXAMPLE.com", "Api.Example.COM", 80, true),
        ("example.com.", "a.example.com", 80, true),
        ("example.com", "a.example.com.", 80, true),
        ("  foo.test ,example.com  ", "example.com", 80, true),
        ("foo.test,,bar.test", "example.com", 80, false),
        ("example.com:8080", "example.com", 8080, true),
        ("example.com:8080", "a.example.com", 8080, true),
        ("example.com:8080", "example.com", 80, false),
        ("example.com:notaport", "example.com", 80, false),
        ("localhost", "localhost", 8089, true),
        ("localhost", "127.0.0.1", 8089, false),
        ("127.0.0.1", "127.0.0.1", 80, true),
        ("127.0.0.1", "127.0.0.2", 80, false),
        ("127.0.0.1:8089", "127.0.0.1", 8089, true),
        ("127.0.0.1:8089", "127.0.0.1", 8090, false),
        ("10.0.0.0/8", "10.200.3.4", 80, true),
        ("10.0.0.0/8", "11.0.0.1", 80, false),
        ("192.168.1.0/24", "192.168.1.77", 443, true),
        ("192.168.1.0/24", "192.168.2.1", 443, false),
        ("10.0.0.0/33", "10.0.0.1", 80, false),
        ("0.0.0.0/0", "203.0.113.9", 80, true),
        ("10.0.0.0/8", "ten.example", 80, false),
        // A domain entry never matches an address, nor an address entry a name.
        ("0.1", "10.0.0.1", 80, false),
        ("::1", "::1", 80, true),
        ("::1", "[::1]", 80, true),
        ("[::1]", "::1", 80, true),
        ("[::1]:8443", "[::1]", 8443, true),
        ("[::1]:8443", "[::1]", 443, false),
        ("fd00::/8", "fd12::5", 80, true),
        ("fd00::/8", "fe80::1", 80, false),
        ("10.0.0.0/8", "::ffff:10.0.0.1", 80, false),
    ];
    for (list, host, port, bypass) in cases {
        assert_eq!(
            NoProxy::parse(list).matches(host, *port),
            *bypass,
            "NO_PROXY={list:?} host={host} port={port}"
        );
    }
}

#[test]
fn environment_precedence() {
    // Uppercase alone.
    let s = ProxySettings::from_env(env(&[
        ("HTTP_PROXY", "http://up:1"),
        ("HTTPS_PROXY", "up:2"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, false).as_deref(), Some("http://up:1"));
    assert_eq!(proxy_host(&s, true).as_deref(), Some("http://up:2"));

    // Lowercase wins over uppercase.
    let s = ProxySettings::from_env(env(&[
        ("HTTPS_PROXY", "http://up:2"),
        ("https_proxy", "http://low:3"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, true).as_deref(), Some("http://low:3"));
    assert_eq!(proxy_host(&s, false), None);

    // An empty lowercase variable hides the uppercase one; an empty uppercase is unset.
    let s = ProxySettings::from_env(env(&[
        ("HTTPS_PROXY", "http://up:2"),
        ("https_proxy", ""),
        ("HTTP_PROXY", ""),
    ]))
    .unwrap();
    assert_eq!(s, ProxySettings::default());

    // ALL_PROXY serves the schemes without their own variable.
    let s = ProxySettings::from_env(env(&[
        ("ALL_PROXY", "http://all:4"),
        ("http_proxy", "http://plain:5"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, false).as_deref(), Some("http://plain:5"));
    assert_eq!(proxy_host(&s, true).as_deref(), Some("http://all:4"));
    let s = ProxySettings::from_env(env(&[
        ("all_proxy", "http://all:4"),
        ("ALL_PROXY", "http://ALL:6"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, false).as_deref(), Some("http://all:4"));

    // CGI: HTTP_PROXY may come from a request header, so it is ignored (not http_proxy).
    let s = ProxySettings::from_env(env(&[
        ("REQUEST_METHOD", "GET"),
        ("HTTP_PROXY", "http://evil:1"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, false), None);
    let s = ProxySettings::from_env(env(&[
        ("REQUEST_METHOD", "GET"),
        ("http_proxy", "http://ok:1"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, false).as_deref(), Some("http://ok:1"));

    // NO_PROXY: lowercase, or uppercase when lowercase is empty.
    let both = [("HTTPS_PROXY", "http://p:1")];
    let s = ProxySettings::from_env(env(&[
        both[0],
        ("no_proxy", "example.com"),
        ("NO_PROXY", "other.test"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, true), None);
    let s = ProxySettings::from_env(env(&[
        both[0],
        ("no_proxy", ""),
        ("NO_PROXY", "example.com"),
    ]))
    .unwrap();
    assert_eq!(proxy_host(&s, true), None);
    let s = ProxySettings::from_env(env(&[both[0], ("NO_PROXY", "other.test")])).unwrap();
    assert_eq!(proxy_host(&s, true).as_deref(), Some("http://p:1"));

    // NO_PROXY=* means no proxy at all, so even an unusable one is not refused.
    let s = ProxySettings::from_env(env(&[
        ("HTTPS_PROXY", "socks5://h:1080"),
        ("NO_PROXY", "*"),
    ]))
    .unwrap();
    assert_eq!(s.for_target(true, "x.test", 443), None);

    // Nothing set: direct.
    assert_eq!(
        ProxySettings::from_env(env(&[])).unwrap(),
        ProxySettings::default()
    );
}

#[test]
fn explicit_settings_override_the_environment() {
    let environment = [
        ("HTTPS_PROXY", "http://envproxy:1"),
        ("HTTP_PROXY", "http://envproxy:1"),
        ("NO_PROXY", "example.com"),
    ];
    let s = ProxySettings::explicit(Some("http://flag:3128"), None, env(&environment)).unwrap();
    assert_eq!(
        s.for_target(false, "x.test", 80).unwrap().url_for_messages,
        "http://flag:3128"
    );
    assert_eq!(
        s.for_target(true, "x.test", 443).unwrap().url_for_messages,
        "http://flag:3128"
    );
    // NO_PROXY from the environment still applies to --proxy...
    assert_eq!(s.for_target(true, "api.example.com", 443), None);
    // ...unless --noproxy replaces it.
    let s =
        ProxySettings::explicit(Some("flag:3128"), Some("other.test"), env(&environment)).unwrap();
    assert!(s.for_target(true, "api.example.com", 443).is_some());
    assert_eq!(s.for_target(true, "a.other.test", 443), None);
    // --noproxy alone keeps the environment's proxies.
    let s = ProxySettings::explicit(None, Some(""), env(&environment)).unwrap();
    assert_eq!(proxy_host(&s, true).as_deref(), Some("http://envproxy:1"));
    // An empty --proxy means direct, whatever the environment says.
    let s = ProxySettings::explicit(Some(""), None, env(&environment)).unwrap();
    assert_eq!(s.for_target(true, "x.test", 443), None);
    assert_eq!(s.for_target(false, "x.test", 80), None);
}

#[test]
fn proxy_urls() {
    let parse = |url: &str| Proxy::parse(url, Source::Flag("--proxy"));
    let p = parse("http://proxy.corp").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 80));
    assert_eq!(p.authorization, None);
    assert_eq!(p.url_for_messages, "http://proxy.corp:80");
    let p = parse("127.0.0.1:3128").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 3128));
    let p = parse("  HTTP://Proxy.Corp:8080/ignored/path ").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 8080));
    let p = parse("http://[::1]:3128").unwrap();
    assert_eq!((p.host.as_str(), p.port), ("::1", 3128));
    assert_eq!(p.url_for_messages, "http://[::1]:3128");

    // Credentials: percent-decoded, then Basic; never in the message URL.
    let p = parse("http://us%40er:p%3Ass%20w@proxy:3128").unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("us@er:p:ss w")
    );
    let auth = p.authorization.unwrap();
    assert_eq!(auth.to_str().unwrap(), expected);
    assert!(auth.is_sensitive());
    assert_eq!(p.url_for_messages, "http://proxy:3128");
    let p = parse("http://user:@proxy").unwrap();
    assert_eq!(p.authorization.unwrap().to_str().unwrap(), "Basic dXNlcjo=");
    // Latin-1, as requests encodes it: é is one byte.
    let p = parse("http://j%C3%A9:pw@proxy").unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(b"j\xe9:pw");
    assert_eq!(
        p.authorization.unwrap().to_str().unwrap(),
        format!("Basic {expected}")
    );
    // requests sends no credentials for a user without a password part.
    assert_eq!(parse("http://user@proxy").unwrap().authorization, None);
    assert_eq!(parse("http://:pw@proxy").unwrap().authorization, None);
}

#[test]
fn unusable_proxies_name_their_source() {
    let err =
        ProxySettings::from_env(env(&[("HTTPS_PROXY", "socks5://127.0.0.1:1080")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "HTTPS_PROXY=socks5://127.0.0.1:1080: SOCKS proxies are not supported; use an http:// proxy"
    );
    let err =
        ProxySettings::from_env(env(&[("all_proxy", "socks5h://u:secret@h:1080")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "all_proxy=socks5h://u:***@h:1080: SOCKS proxies are not supported; use an http:// proxy"
    );
    let err = ProxySettings::explicit(Some("https://proxy:443"), None, env(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--proxy https://proxy:443: https:// proxies (TLS to the proxy) are not supported; use an http:// proxy"
    );
    let err = ProxySettings::from_env(env(&[("http_proxy", "ftp://proxy")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "http_proxy=ftp://proxy: unsupported proxy scheme 'ftp'; use an http:// proxy"
    );
    let err = ProxySettings::from_env(env(&[("HTTP_PROXY", "http://")])).unwrap_err();
    assert_eq!(err.problem, ProxyProblem::Invalid("empty host".into()));
    assert!(err
        .to_string()
        .starts_with("HTTP_PROXY=http://: not a valid proxy URL"));
    let err = ProxySettings::explicit(Some("http://proxy:99999"), None, env(&[])).unwrap_err();
    assert_eq!(err.setting, "--proxy http://proxy:99999");
    assert!(matches!(err.problem, ProxyProblem::Invalid(_)));
    assert_eq!(redact("user:pw@host:1/x"), "user:***@host:1/x");
    assert_eq!(redact("http://host:1"), "http://host:1");
}

/// A one-shot proxy on 127.0.0.1: reads the CONNECT head (bounded), writes `answer`
/// in the given pieces, then answers "ping" with "pong" through the tunnel. Returns
/// the request head it received.
async fn proxy_once(answer: Vec<Vec<u8>>) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            if tcp.read(&mut byte).await.unwrap_or(0) == 0 {
                break;
            }
            head.push(byte[0]);
        }
        for piece in answer {
            if tcp.write_all(&piece).await.is_err() {
                break;
            }
            let _ = tcp.flush().await;
        }
        let mut ping = [0u8; 4];
        if tcp.read_exact(&mut ping).await.is_ok() && &ping == b"ping" {
            let _ = tcp.write_all(b"pong").await;
        }
        String::from_utf8_lossy(&head).into_owned()
    });
    (port, task)
}

async fn through(
    answer: Vec<Vec<u8>>,
    host: &str,
    auth: Option<&HeaderValue>,
) -> (
    Result<(), TunnelError>,
    TcpStream,
    tokio::task::JoinHandle<String>,
) {
    let (port, task) = proxy_once(answer).await;
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let result = tokio::time::timeout(LIMIT, tunnel(&mut tcp, host, 443, auth))
        .await
        .unwrap();
    (result, tcp, task)
}

#[tokio::test]
async fn tunnel_opens_on_2xx() {
    let auth = Proxy::parse("http://user:pa%20ss@127.0.0.1:1", Source::Flag("--proxy"))
        .unwrap()
        .authorization;
    // The answer arrives in pieces, split inside the status line and the headers.
    let answer = [
        &b"HTTP/1.1 20"[..],
        b"0 Connection estab",
        b"lished\r\nVia: test\r",
        b"\n\r\n",
    ]
    .iter()
    .map(|p| p.to_vec())
    .collect();
    let (result, mut tcp, task) = through(answer, "api.example.com", auth.as_ref()).await;
    result.unwrap();
    tcp.write_all(b"ping").await.unwrap();
    let mut pong = [0u8; 4];
    tokio::time::timeout(LIMIT, tcp.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&pong, b"pong");
    let head = task.await.unwrap();
    assert_eq!(
        head,
        format!(
            "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\nProxy-Authorization: Basic {}\r\n\r\n",
            base64::engine::general_purpose::STANDARD.encode("user:pa ss")
        )
    );

    // HTTP/1.0 and any 2xx will do; an IPv6 target is bracketed; no auth, no header.
    let (result, tcp, task) = through(
        vec![b"HTTP/1.0 204 No Content\r\n\r\n".to_vec()],
        "::1",
        None,
    )
    .await;
    result.unwrap();
    drop(tcp);
    assert_eq!(
        task.await.unwrap(),
        "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"
    );
}

#[tokio::test]
async fn tunnel_refusals_and_bad_answers() {
    // 407 with a body it claims is huge: refused with the status, nothing read or
    // allocated for the body.
    let (result, _, _) = through(
        vec![b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 99999999999\r\n\r\n<html>".to_vec()],
        "api.example.com",
        None,
    )
    .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, TunnelError::Refused { status: 407, reason } if reason == "Proxy Authentication Required")
    );
    assert_eq!(
        err.to_string(),
        "Tunnel connection failed: 407 Proxy Authentication Required"
    );

    let (result, _, _) = through(
        vec![b"HTTP/1.1 502 Bad Gateway\r\n\r\n".to_vec()],
        "api.example.com",
        None,
    )
    .await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "Tunnel connection failed: 502 Bad Gateway"
    );

    let (result, _, _) = through(
        vec![b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()],
        "api.example.com",
        None,
    )
    .await;
    let err = result.unwrap_err();
    assert!(matches!(err, TunnelError::Malformed(_)), "{err:?}");
    assert!(err
        .to_string()
        .starts_with("the proxy's answer to CONNECT is not HTTP"));

    // A head that never ends: cut at 64 KB.
    let mut endless = b"HTTP/1.1 200 OK\r\nX-Pad: ".to_vec();
    endless.resize(MAX_TUNNEL_HEAD + 10_000, b'a');
    let (result, _, _) = through(vec![endless], "api.example.com", None).await;
    let err = result.unwrap_err();
    assert!(matches!(err, TunnelError::TooLarge), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the proxy's answer to CONNECT is longer than 64 KB"
    );
}

#[tokio::test]
async fn tunnel_errors_when_the_proxy_closes_or_talks_first() {
    // Closes before a complete head.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 256];
        let _ = tcp.read(&mut request).await;
        let _ = tcp.write_all(b"HTTP/1.1 200 Conn").await;
    });
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let result = tokio::time::timeout(LIMIT, tunnel(&mut tcp, "h", 443, None))
        .await
        .unwrap();
    assert!(matches!(result, Err(TunnelError::Closed)), "{result:?}");
    server.await.unwrap();

    // Bytes after a 2xx head would be lost to the caller: an error, not silent loss.
    // (An in-memory pipe, so the head and the extra bytes surely arrive in one read.)
    let (mut client, mut server) = tokio::io::duplex(4096);
    server
        .write_all(b"HTTP/1.1 200 OK\r\n\r\nEXTRA")
        .await
        .unwrap();
    let result = tokio::time::timeout(LIMIT, tunnel(&mut client, "h", 443, None))
        .await
        .unwrap();
    assert!(
        matches!(result, Err(TunnelError::UnexpectedData)),
        "{result:?}"
    );
}
