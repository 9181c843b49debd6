//! The HTTP client's proxy options end to end: the real binary, headless, one request
//! per run (`-u 1 -r 1 -i 1`), against the hostile servers and the recording proxy of
//! `tests/common/hostile.rs`, all on 127.0.0.1. HTTP_PROXY/HTTPS_PROXY/NO_PROXY,
//! `--proxy` (with credentials, CONNECT tunnels) and `--noproxy` work; unusable proxy
//! URLs are argument errors (exit 2) before any connection; and no proxy password or
//! header secret ever reaches the console, the log, the CSV files or the reports. The
//! TLS options are in `tls_proxy.rs`; both share `tests/common/tls_runs.rs`.
//!
//! Locust's HttpUser sets `trust_env = False`, so it reads none of the proxy variables;
//! locust-rs reads them as a plain requests session does, and records the same texts as
//! Locust with the same proxies given explicitly.
//!
//! Every child gets a clean environment for what is under test: `LOCUST_*`, every
//! `*_proxy`/`*_PROXY` variable, the CA-bundle variables and `REQUEST_METHOD` are
//! removed, then only the test's own are set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::hostile::*;
use common::tls_runs::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The same, with secrets in the class headers.
const SECRET_HEADER: &str = "Bearer sekrit-header-7Qx";
const SECRET_API_KEY: &str = "apikey-9Jv2-sekrit";
const SCENARIO_WITH_SECRETS: &str = r#"
[users.One]
fixed_count = 1
wait_time = "constant(0)"
headers = { Authorization = "Bearer sekrit-header-7Qx", X-Api-Key = "apikey-9Jv2-sekrit" }

[[users.One.tasks]]
name = "x"
request = { path = "/x" }
"#;

const TUNNEL_403: &str = "OSError('Tunnel connection failed: 403 Forbidden')";

/// `Basic base64("user:pass")`.
const USER_PASS_TOKEN: &str = "Basic dXNlcjpwYXNz";

/// A 127.0.0.1 port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A proxy that answers every request, CONNECT included, with `403 Forbidden` and
/// records the request lines; stops when dropped.
struct RefusingProxy {
    port: u16,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RefusingProxy {
    async fn start() -> RefusingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = lines.clone();
        let task = tokio::spawn(async move {
            for _ in 0..100 {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), async {
                        let mut head = Vec::new();
                        let mut chunk = [0u8; 1024];
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => head.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let text = String::from_utf8_lossy(&head);
                        seen.lock()
                            .unwrap()
                            .push(text.lines().next().unwrap_or("").to_string());
                        let _ = stream
                            .write_all(
                                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            )
                            .await;
                        let _ = stream.shutdown().await;
                    })
                    .await;
                });
            }
        });
        RefusingProxy { port, lines, task }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for RefusingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------
// 6. Proxies.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_proxy_from_the_environment_gets_absolute_form_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = HostileServer::start(ok_routes()).await;
    let proxies = [
        RecordingProxy::start().await,
        RecordingProxy::start().await,
        RecordingProxy::start().await,
    ];
    let url = server.url();
    let runs = run_all(
        dir.path(),
        [
            case("upper", &url).env("HTTP_PROXY", &proxies[0].url()),
            case("lower", &url).env("http_proxy", &proxies[1].url()),
            case("all", &url).env("ALL_PROXY", &proxies[2].url()),
        ],
    )
    .await;
    let target = server.url_for("/x");
    for (run, proxy) in runs.iter().zip(&proxies) {
        run.assert_succeeded();
        let seen = proxy.requests();
        assert_eq!(seen.len(), 1, "{seen:?}\n{}", run.console());
        assert_eq!(
            (
                seen[0].method.as_str(),
                seen[0].target.as_str(),
                seen[0].version.as_str()
            ),
            ("GET", target.as_str(), "HTTP/1.1"),
            "{}",
            run.name()
        );
        assert_eq!(seen[0].verdict, ProxyVerdict::Forwarded);
    }
    // Forwarded, in origin form.
    assert_eq!(server.count("/x"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_proxy_and_noproxy_bypass_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let server = HostileServer::start(ok_routes()).await;
    let proxy = RecordingProxy::start().await;
    let (url, proxy_url) = (server.url(), proxy.url());
    let with_port = format!("127.0.0.1:{}", server.port());
    let runs = run_all(
        dir.path(),
        [
            case("env", &url)
                .env("HTTP_PROXY", &proxy_url)
                .env("NO_PROXY", "127.0.0.1"),
            case("env-lower-cidr", &url)
                .env("http_proxy", &proxy_url)
                .env("no_proxy", "localhost, 127.0.0.0/8"),
            case("flags", &url).args(&["--proxy", &proxy_url, "--noproxy", &with_port]),
            // --noproxy not given: NO_PROXY applies to --proxy too (as curl).
            case("flag-env", &url)
                .args(&["--proxy", &proxy_url])
                .env("NO_PROXY", "127.0.0.1"),
            case("config-keys", &url).file(
                "locust.toml",
                &format!("[tool.locust]\nproxy = \"{proxy_url}\"\nnoproxy = [\"localhost\", \"127.0.0.1\"]\n"),
            ),
            case("empty-proxy-flag", &url)
                .args(&["--proxy", ""])
                .env("HTTP_PROXY", &proxy_url),
        ],
    )
    .await;
    for run in &runs {
        run.assert_succeeded();
    }
    assert_eq!(proxy.connections(), 0, "{:?}", proxy.requests());
    assert_eq!(server.count("/x"), runs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proxy_flag_config_key_env_var_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = HostileServer::start(ok_routes()).await;
    let proxies = [
        RecordingProxy::start().await,
        RecordingProxy::start().await,
        RecordingProxy::start().await,
        RecordingProxy::start_with_auth(&basic_auth("user", "pass")).await,
    ];
    assert_eq!(basic_auth("user", "pass"), USER_PASS_TOKEN);
    // An environment proxy that --proxy and the config key must win against.
    let decoy = RecordingProxy::start().await;
    let url = server.url();
    let authed_url = format!("http://user:pass@127.0.0.1:{}", proxies[3].port());
    let runs = run_all(
        dir.path(),
        [
            case("flag", &url)
                .args(&["--proxy", &proxies[0].url()])
                .env("HTTP_PROXY", &decoy.url()),
            case("config", &url)
                .file(
                    "locust.toml",
                    &format!("[tool.locust]\nproxy = \"{}\"\n", proxies[1].url()),
                )
                .env("HTTP_PROXY", &decoy.url()),
            case("locust-env", &url).env("LOCUST_PROXY", &proxies[2].url()),
            case("authed", &url).args(&["--proxy", &authed_url]),
        ],
    )
    .await;
    let target = server.url_for("/x");
    for (run, proxy) in runs.iter().zip(&proxies) {
        run.assert_succeeded();
        let seen = proxy.requests();
        assert_eq!(seen.len(), 1, "{seen:?}\n{}", run.console());
        assert_eq!(
            (seen[0].method.as_str(), seen[0].target.as_str()),
            ("GET", target.as_str()),
            "{}",
            run.name()
        );
        assert_eq!(seen[0].verdict, ProxyVerdict::Forwarded);
    }
    assert_eq!(
        decoy.connections(),
        0,
        "--proxy and `proxy =` override HTTP_PROXY"
    );
    assert_eq!(
        proxies[3].requests()[0]
            .header_str("Proxy-Authorization")
            .as_deref(),
        Some(USER_PASS_TOKEN)
    );
    assert_eq!(proxies[0].requests()[0].header("Proxy-Authorization"), None);
    // The proxy's credentials are not sent on to the target.
    for request in server.requests() {
        assert_eq!(request.header("Proxy-Authorization"), None);
    }
    runs[3].assert_never_shows(&["user:pass", "dXNlcjpwYXNz", ":pass@"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn https_through_a_proxy_is_a_connect_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let server = tls_server(&pki, ServerCert::Trusted).await;
    let proxies = [
        RecordingProxy::start().await,
        RecordingProxy::start_with_auth(&basic_auth("user", "pass")).await,
    ];
    let authed_url = format!("http://user:pass@127.0.0.1:{}", proxies[1].port());
    let runs = run_all(
        dir.path(),
        [
            case("env", &server.url())
                .args(&["--cacert", ca])
                .env("HTTPS_PROXY", &proxies[0].url()),
            case("authed", &server.url())
                .args(&["--cacert", ca])
                .env("https_proxy", &authed_url),
        ],
    )
    .await;
    let authority = format!("127.0.0.1:{}", server.port());
    for (run, proxy) in runs.iter().zip(&proxies) {
        run.assert_succeeded();
        let seen = proxy.requests();
        assert_eq!(seen.len(), 1, "{seen:?}\n{}", run.console());
        assert_eq!(
            (seen[0].method.as_str(), seen[0].target.as_str()),
            ("CONNECT", authority.as_str())
        );
        assert_eq!(seen[0].verdict, ProxyVerdict::Tunnelled);
    }
    assert_eq!(
        proxies[1].requests()[0]
            .header_str("Proxy-Authorization")
            .as_deref(),
        Some(USER_PASS_TOKEN)
    );
    // Inside the tunnel: origin form, TLS to the target, no proxy credentials.
    let inside = server.requests_to("/x");
    assert_eq!(inside.len(), 2);
    for request in inside {
        assert_eq!(request.header("Proxy-Authorization"), None);
    }
    runs[1].assert_never_shows(&["user:pass", "dXNlcjpwYXNz", ":pass@"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proxy_failures_are_recorded_with_locusts_text() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let plain = HostileServer::start(ok_routes()).await;
    let secure = tls_server(&pki, ServerCert::Trusted).await;
    let refusing = RefusingProxy::start().await;
    let closed_port = closed_port().await;
    let closed = format!("http://127.0.0.1:{closed_port}");
    let refusing_url = format!("http://127.0.0.1:{}", refusing.port);

    let [closed_http, closed_https, forbidden] = run_all(
        dir.path(),
        [
            case("closed-http", &plain.url()).env("HTTP_PROXY", &closed),
            case("closed-https", &secure.url()).args(&["--cacert", ca, "--proxy", &closed]),
            case("forbidden", &secure.url())
                .args(&["--cacert", ca])
                .env("HTTPS_PROXY", &refusing_url),
        ],
    )
    .await;
    // A closed proxy is found by the start-up check, as a closed target is: exit 4.
    closed_http.assert_unreachable(&format!(
        "the proxy for {} is not reachable (connection refused on 127.0.0.1:{closed_port})",
        plain.url()
    ));
    closed_https.assert_unreachable(&format!(
        "the proxy for {} is not reachable (connection refused on 127.0.0.1:{closed_port})",
        secure.url()
    ));
    forbidden.assert_failed_with(TUNNEL_403);
    // The start-up check's connection sends nothing: an empty line.
    let lines: Vec<String> = refusing
        .lines()
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        lines,
        [format!("CONNECT 127.0.0.1:{} HTTP/1.1", secure.port())]
    );
    assert_eq!(plain.count("/x") + secure.count("/x"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unusable_proxy_urls_are_argument_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = HostileServer::start(ok_routes()).await;
    let url = server.url();
    let [flag, env, https, secret] = run_all(
        dir.path(),
        [
            case("flag", &url).args(&["--proxy", "socks5://127.0.0.1:1080"]),
            case("env", &url).env("HTTPS_PROXY", "socks5h://127.0.0.1:1080"),
            case("https", &url).args(&["--proxy", "https://127.0.0.1:3129"]),
            case("secret", &url).args(&["--proxy", "socks5://agent:hunter2-Zq9@127.0.0.1:1080"]),
        ],
    )
    .await;
    flag.assert_usage_error(&[
        "--proxy socks5://127.0.0.1:1080",
        "SOCKS proxies are not supported; use an http:// proxy",
    ]);
    env.assert_usage_error(&[
        "HTTPS_PROXY=socks5h://127.0.0.1:1080",
        "SOCKS proxies are not supported",
    ]);
    https.assert_usage_error(&["--proxy https://127.0.0.1:3129", "use an http:// proxy"]);
    secret.assert_usage_error(&["--proxy socks5://agent:***@127.0.0.1:1080", "SOCKS"]);
    secret.assert_never_shows(&["hunter2"]);
    assert_eq!(server.connections(), 0);
}

// ---------------------------------------------------------------------------------
// 7. Secrets stay secret.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proxy_passwords_and_header_secrets_never_appear_in_any_output() {
    let dir = tempfile::tempdir().unwrap();
    // A failing answer, so the failure paths (tables, CSV, report) are exercised too.
    let server = HostileServer::start([(
        "/x",
        Behaviour::raw(response("HTTP/1.1 500 Internal Server Error", &[], "no")),
    )])
    .await;
    let proxy = RecordingProxy::start_with_auth(&basic_auth("agent", "hunter2-Zq9")).await;
    let proxy_url = format!("http://agent:hunter2-Zq9@127.0.0.1:{}", proxy.port());
    let wrong_url = format!("http://agent:wrong-Zq9@127.0.0.1:{}", proxy.port());
    let closed = format!("http://agent:hunter2-Zq9@127.0.0.1:{}", closed_port().await);
    let token = basic_auth("agent", "hunter2-Zq9");
    let wrong_token = basic_auth("agent", "wrong-Zq9");
    let reports = [
        "--loglevel",
        "DEBUG",
        "--logfile",
        "run.log",
        "--html",
        "report.html",
        "--report-json",
        "result.json",
        "--json",
        "--print-stats",
    ];
    let url = server.url();
    let secret_case = |name: &str| {
        case(name, &url)
            .scenario(SCENARIO_WITH_SECRETS)
            .args(&reports)
    };
    let runs = run_all(
        dir.path(),
        [
            secret_case("env").env("HTTP_PROXY", &proxy_url),
            secret_case("flag").args(&["--proxy", &proxy_url]),
            secret_case("wrong").args(&["--proxy", &wrong_url]),
            secret_case("closed").env("HTTP_PROXY", &closed),
        ],
    )
    .await;
    let server_error = "HTTPError('500 Server Error: Internal Server Error for url: /x')";
    runs[0].assert_failed_with(server_error);
    runs[1].assert_failed_with(server_error);
    runs[2].assert_failed_with(
        "HTTPError('407 Client Error: Proxy Authentication Required for url: /x')",
    );
    runs[3].assert_unreachable("the proxy for");
    let secrets = [
        "hunter2",
        "wrong-Zq9",
        &token["Basic ".len()..],
        &wrong_token["Basic ".len()..],
        "sekrit",
    ];
    for run in &runs {
        run.assert_never_shows(&secrets);
    }
    for run in &runs[..3] {
        for file in ["run.log", "report.html", "result.json", "out_stats.csv"] {
            assert!(
                run.dir.join(file).is_file(),
                "{file} was written\n{}",
                run.console()
            );
        }
    }
    // The secrets were really sent: the credentials to the proxy, the headers through
    // it to the target.
    assert_eq!(proxy.requests().len(), 3, "{:?}", proxy.requests());
    let received = server.requests_to("/x");
    assert_eq!(received.len(), 2);
    for request in received {
        assert_eq!(
            request.header_str("Authorization").as_deref(),
            Some(SECRET_HEADER)
        );
        assert_eq!(
            request.header_str("X-Api-Key").as_deref(),
            Some(SECRET_API_KEY)
        );
    }
}
