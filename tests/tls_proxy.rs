//! The HTTP client's TLS and proxy options end to end: the real binary, headless, one
//! request per run (`-u 1 -r 1 -i 1`), against the hostile TLS server and the recording
//! proxy of `tests/common/hostile.rs`, all on 127.0.0.1. Certificates are verified by
//! default and a failure is recorded with Locust 2.47's exact text; `--insecure`
//! (flag, `locust.toml` key, `LOCUST_INSECURE`), `--cacert` and requests' CA-bundle
//! variables, client certificates, HTTP_PROXY/HTTPS_PROXY/NO_PROXY, `--proxy` (with
//! credentials, CONNECT tunnels) and `--noproxy` work; unusable TLS files and proxy URLs
//! are argument errors (exit 2) before any connection; and no proxy password or header
//! secret ever reaches the console, the log, the CSV files or the reports.
//!
//! Locust's HttpUser sets `trust_env = False`, so it reads neither the proxy variables
//! nor requests' CA-bundle variables; locust-rs reads them as a plain requests session
//! does, and records the same texts as Locust with the same proxies given explicitly.
//!
//! Every child gets a clean environment for what is under test: `LOCUST_*`, every
//! `*_proxy`/`*_PROXY` variable, the CA-bundle variables and `REQUEST_METHOD` are
//! removed, then only the test's own are set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::hostile::*;
use common::{csv_rows, write, BIN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The one request every run makes: `GET /x`, once. `-i 1` stops a user at the start of
/// its next task, after the wait: with `constant(0)` the run ends at once, one request
/// made (a long wait would hold the run until `-t`).
const SCENARIO: &str = r#"
[users.One]
fixed_count = 1
wait_time = "constant(0)"

[[users.One.tasks]]
name = "x"
request = { path = "/x" }
"#;

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

/// The texts Locust 2.47 records (measured with Python 3.11 and OpenSSL 3 against the
/// same kinds of servers; proxies given explicitly, as HttpUser ignores the environment).
const SELF_SIGNED: &str = "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)'))";
const UNKNOWN_ISSUER: &str = "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)'))";
const IP_MISMATCH: &str = r#"SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'. (_ssl.c:1006)"))"#;
const HOST_MISMATCH: &str = r#"SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'. (_ssl.c:1006)"))"#;
const EXPIRED: &str = "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)'))";
const CERT_REQUIRED: &str = "SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)')";
const TUNNEL_403: &str = "OSError('Tunnel connection failed: 403 Forbidden')";

/// `Basic base64("user:pass")`.
const USER_PASS_TOKEN: &str = "Basic dXNlcjpwYXNz";

/// How long one run may take before the test fails (the child is killed).
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Environment variables a child must not inherit: they would change what is tested.
fn inherited_setting(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("LOCUST_")
        || upper.ends_with("_PROXY")
        || matches!(
            upper.as_str(),
            "REQUESTS_CA_BUNDLE"
                | "SSL_CERT_FILE"
                | "SSL_CERT_DIR"
                | "CURL_CA_BUNDLE"
                | "REQUEST_METHOD"
        )
}

/// One finished run: exit code, console output, and the folder of its files.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    dir: PathBuf,
}

impl Run {
    /// Everything the run printed, for messages.
    fn console(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// The Error column of `out_failures.csv`, one entry per row.
    fn errors(&self) -> Vec<String> {
        let rows = csv_rows(&self.dir.join("out_failures.csv"));
        assert_eq!(
            rows[0][..4],
            ["Method", "Name", "Error", "Occurrences"],
            "{}",
            self.console()
        );
        rows[1..].iter().map(|r| r[2].clone()).collect()
    }

    /// (Request Count, Failure Count) of the `GET x` row of `out_stats.csv`.
    fn counts(&self) -> (u64, u64) {
        let rows = csv_rows(&self.dir.join("out_stats.csv"));
        let column = |name: &str| {
            rows[0]
                .iter()
                .position(|c| c == name)
                .unwrap_or_else(|| panic!("no {name} column in {:?}", rows[0]))
        };
        let (requests, failures) = (column("Request Count"), column("Failure Count"));
        let row = rows
            .iter()
            .find(|r| r[0] == "GET" && r[1] == "/x")
            .unwrap_or_else(|| panic!("no GET /x row in {rows:?}\n{}", self.console()));
        (
            row[requests].parse().unwrap(),
            row[failures].parse().unwrap(),
        )
    }

    /// The run made its one request, which failed with exactly `error`; exit code 1.
    fn assert_failed_with(&self, error: &str) {
        if let Some(problem) = self.mismatch(error) {
            panic!("{problem}");
        }
    }

    /// Why the run is not one failed request recorded as `error` (exit code 1), if so.
    fn mismatch(&self, error: &str) -> Option<String> {
        self.assert_no_crash();
        let (errors, counts) = (self.errors(), self.counts());
        (errors != [error] || counts != (1, 1) || self.code != Some(1)).then(|| {
            format!(
                "run {}:\n  expected the error {error}\n  recorded {errors:?}; \
                 (requests, failures) = {counts:?}\n{}",
                self.name(),
                self.console()
            )
        })
    }

    /// The run made its one request, which succeeded; exit code 0.
    fn assert_succeeded(&self) {
        self.assert_no_crash();
        assert_eq!(self.errors(), Vec::<String>::new(), "{}", self.console());
        assert_eq!(self.counts(), (1, 0), "{}", self.console());
        assert_eq!(self.code, Some(0), "{}", self.console());
    }

    /// An argument error: exit code 2, nothing ran, and stderr contains every one of
    /// `needles`.
    fn assert_usage_error(&self, needles: &[&str]) {
        self.assert_no_crash();
        assert_eq!(self.code, Some(2), "{}", self.console());
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr should contain {needle:?}\n{}",
                self.console()
            );
        }
        assert!(
            !self.dir.join("out_stats.csv").exists(),
            "an argument error must stop before the run\n{}",
            self.console()
        );
    }

    /// The start-up check found the proxy (or target) closed: exit 4 before any user
    /// started, with `needle` in the one line that says so.
    fn assert_unreachable(&self, needle: &str) {
        self.assert_no_crash();
        assert_eq!(self.code, Some(4), "{}", self.console());
        assert!(
            self.stderr.contains(needle),
            "stderr should contain {needle:?}\n{}",
            self.console()
        );
    }

    /// The folder name: which case this was.
    fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    fn assert_no_crash(&self) {
        for sign in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(
                !self.stdout.contains(sign) && !self.stderr.contains(sign),
                "the binary crashed ({sign})\n{}",
                self.console()
            );
        }
    }

    /// Every place a secret could leak to: the console and every file the run wrote
    /// (CSV, log, HTML and JSON reports), as (where, text).
    fn outputs(&self) -> Vec<(String, String)> {
        let mut all = vec![
            ("stdout".to_string(), self.stdout.clone()),
            ("stderr".to_string(), self.stderr.clone()),
        ];
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".toml") || !path.is_file() {
                continue; // the scenario itself holds the header secrets
            }
            let bytes = std::fs::read(&path).unwrap();
            all.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
        all
    }

    fn assert_never_shows(&self, secrets: &[&str]) {
        let outputs = self.outputs();
        for (where_, text) in &outputs {
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{secret:?} leaked into {where_}:\n{text}"
                );
            }
        }
    }
}

/// One run to make: `--headless -f s.toml -H host -u 1 -r 1 -i 1 -t 20s --csv out`,
/// then `args`, in a fresh folder `name` holding the scenario and `files`, with a clean
/// environment plus `env`.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    host: String,
    scenario: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    files: Vec<(String, String)>,
    iterations: u32,
}

fn case(name: &str, host: &str) -> Case {
    Case {
        name: name.to_string(),
        host: host.to_string(),
        scenario: SCENARIO,
        args: Vec::new(),
        env: Vec::new(),
        files: Vec::new(),
        iterations: 1,
    }
}

impl Case {
    fn args(mut self, args: &[&str]) -> Case {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    fn env(mut self, key: &str, value: &str) -> Case {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    fn file(mut self, name: &str, body: &str) -> Case {
        self.files.push((name.to_string(), body.to_string()));
        self
    }

    /// `-i N` instead of `-i 1`: N requests.
    fn iterations(mut self, n: u32) -> Case {
        self.iterations = n;
        self
    }

    fn scenario(mut self, scenario: &'static str) -> Case {
        self.scenario = scenario;
        self
    }
}

/// Runs every case at once (each in its own folder under `parent`), in order.
async fn run_all<const N: usize>(parent: &Path, cases: [Case; N]) -> [Run; N] {
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|case| tokio::spawn(run_case(parent.to_path_buf(), case)))
        .collect();
    let mut runs = Vec::with_capacity(N);
    for task in tasks {
        runs.push(task.await.expect("the run's task ends"));
    }
    runs.try_into().unwrap()
}

async fn run_case(parent: PathBuf, case: Case) -> Run {
    let dir = parent.join(&case.name);
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "s.toml", case.scenario);
    for (file, body) in &case.files {
        write(&dir, file, body);
    }
    let iterations = case.iterations.to_string();
    #[rustfmt::skip]
    let base = [
        "--headless", "-f", "s.toml", "-H", &case.host, "-u", "1", "-r", "1",
        "-i", &iterations, "-t", "20s", "--csv", "out",
    ];
    let mut command = tokio::process::Command::new(BIN);
    command.args(base).args(&case.args).current_dir(&dir);
    for (key, _) in std::env::vars_os() {
        if inherited_setting(&key.to_string_lossy()) {
            command.env_remove(&key);
        }
    }
    command.envs(case.env.iter().map(|(k, v)| (k, v)));
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("run {} did not end within {RUN_LIMIT:?}", case.name))
        .expect("the output is read");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        dir,
    }
}

fn ok_routes() -> [(&'static str, Behaviour); 1] {
    [("/x", Behaviour::raw(response("HTTP/1.1 200 OK", &[], "hi")))]
}

async fn tls_server(fixtures: &TlsFixtures, cert: ServerCert) -> HostileServer {
    HostileServer::start_tls(ok_routes(), fixtures, cert, false).await
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

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

/// A TLS server presenting a self-signed certificate as `openssl req -x509` makes one:
/// basic constraints CA:TRUE, for `localhost` and 127.0.0.1, named `openssl-style.test`
/// (no clash with any certificate of the OS store). It only completes handshakes: every
/// client here fails verification first. Stops when dropped.
struct CaFlaggedSelfSigned {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl CaFlaggedSelfSigned {
    async fn start() -> CaFlaggedSelfSigned {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.remove(DnType::CommonName);
        params
            .distinguished_name
            .push(DnType::CommonName, "openssl-style.test");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            for _ in 0..100 {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await;
                });
            }
        });
        CaFlaggedSelfSigned { port, task }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for CaFlaggedSelfSigned {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------
// 1. Verification is on by default.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn certificates_are_verified_by_default_with_locusts_error_text() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let self_signed = tls_server(&pki, ServerCert::SelfSigned).await;
    let trusted = tls_server(&pki, ServerCert::Trusted).await;
    let wrong_name = tls_server(&pki, ServerCert::WrongName).await;
    let expired = tls_server(&pki, ServerCert::Expired).await;
    let ca_flagged = CaFlaggedSelfSigned::start().await;

    let [self_signed_run, ca_flagged_run, unknown_ca_run, ip_run, name_run, expired_run] = run_all(
        dir.path(),
        [
            case("self-signed", &self_signed.url()),
            // What `openssl req -x509` makes; Locust: "self-signed certificate" too.
            case("self-signed-ca-flag", &ca_flagged.url()),
            // Not in Mozilla's roots nor the OS store.
            case("unknown-ca", &trusted.url()),
            case("ip", &wrong_name.url()).args(&["--cacert", ca]),
            case("name", &wrong_name.localhost_url()).args(&["--cacert", ca]),
            case("expired", &expired.url()).args(&["--cacert", ca]),
        ],
    )
    .await;
    // Checked together, so one report names every text that differs.
    let problems: Vec<String> = [
        (&self_signed_run, SELF_SIGNED),
        (&ca_flagged_run, SELF_SIGNED),
        (&unknown_ca_run, UNKNOWN_ISSUER),
        (&ip_run, IP_MISMATCH),
        (&name_run, HOST_MISMATCH),
        (&expired_run, EXPIRED),
    ]
    .iter()
    .filter_map(|(run, error)| run.mismatch(error))
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // Every handshake failed: no request reached a server.
    for server in [&self_signed, &trusted, &wrong_name, &expired] {
        assert_eq!(server.count("/x"), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_failure_suggests_insecure_once() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let self_signed = tls_server(&pki, ServerCert::SelfSigned).await;
    let unknown_ca = tls_server(&pki, ServerCert::Trusted).await;
    // Three requests each, three failures: the hint is said once.
    let runs = run_all(
        dir.path(),
        [
            case("self-signed", &self_signed.url()).iterations(3),
            case("unknown-ca", &unknown_ca.url()).iterations(3),
        ],
    )
    .await;
    // The issue: "keep verification on by default and say so in the error ...,
    // suggest --insecure". The hint is a log line on stderr.
    let problems: Vec<String> = runs
        .iter()
        .filter_map(|run| {
            run.assert_no_crash();
            assert_eq!(run.code, Some(1), "{}", run.console());
            assert_eq!(run.counts(), (3, 3), "{}", run.console());
            let hints = run.stderr.matches("--insecure").count();
            (hints != 1 || !run.stderr.contains("--cacert")).then(|| {
                format!(
                    "run {}: expected one log line suggesting --insecure and --cacert, \
                     found {hints} mentions of --insecure\n{}",
                    run.name(),
                    run.console()
                )
            })
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---------------------------------------------------------------------------------
// 2. --insecure, as a flag, a locust.toml key and an environment variable.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn insecure_reaches_a_self_signed_server() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let servers = [
        tls_server(&pki, ServerCert::SelfSigned).await,
        tls_server(&pki, ServerCert::SelfSigned).await,
        tls_server(&pki, ServerCert::SelfSigned).await,
        tls_server(&pki, ServerCert::WrongName).await,
    ];
    let runs = run_all(
        dir.path(),
        [
            case("flag", &servers[0].url()).args(&["--insecure"]),
            case("config", &servers[1].url())
                .file("locust.toml", "[tool.locust]\ninsecure = true\n"),
            case("env", &servers[2].url()).env("LOCUST_INSECURE", "true"),
            // A certificate for another name (and an unknown CA) is accepted too.
            case("wrong-name", &servers[3].url()).args(&["--insecure"]),
        ],
    )
    .await;
    for (run, server) in runs.iter().zip(&servers) {
        run.assert_succeeded();
        assert_eq!(server.count("/x"), 1, "{}", run.console());
    }
}

// ---------------------------------------------------------------------------------
// 3. --cacert and requests' CA-bundle variables.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cacert_and_ca_bundle_variables_trust_the_test_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let server = tls_server(&pki, ServerCert::Trusted).await;
    let url = server.url();
    let runs = run_all(
        dir.path(),
        [
            case("flag", &url).args(&["--cacert", ca]),
            case("flag-localhost", &server.localhost_url()).args(&["--cacert", ca]),
            case("requests", &url).env("REQUESTS_CA_BUNDLE", ca),
            case("ssl-cert-file", &url).env("SSL_CERT_FILE", ca),
            case("curl", &url).env("CURL_CA_BUNDLE", ca),
            case("locust-env", &url).env("LOCUST_CACERT", ca),
            case("config", &url).file(
                "locust.toml",
                &format!("[tool.locust]\ncacert = \"{ca}\"\n"),
            ),
        ],
    )
    .await;
    for run in &runs {
        run.assert_succeeded();
    }
    assert_eq!(server.count("/x"), runs.len());
}

// ---------------------------------------------------------------------------------
// 4. Unusable TLS files are argument errors before any connection.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_tls_files_are_argument_errors_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let server = tls_server(&pki, ServerCert::Trusted).await;
    let url = server.url();
    let (client, server_key) = (path(&pki.client_cert), path(&pki.server_key));
    let not_pem = write(dir.path(), "notes.txt", "not a certificate\n");
    let not_pem = path(&not_pem);

    let [missing, env_missing, wrong_key, no_key, not_a_cert, key_alone] = run_all(
        dir.path(),
        [
            case("missing", &url).args(&["--cacert", "/nonexistent.pem"]),
            case("env-missing", &url).env("REQUESTS_CA_BUNDLE", "/nonexistent.pem"),
            case("mismatch", &url).args(&["--cert", client, "--key", server_key]),
            case("no-key", &url).args(&["--cert", client]),
            case("not-pem", &url).args(&["--cacert", not_pem]),
            case("key-alone", &url).args(&["--key", path(&pki.client_key)]),
        ],
    )
    .await;
    missing.assert_usage_error(&["--cacert /nonexistent.pem: file not found"]);
    env_missing.assert_usage_error(&["REQUESTS_CA_BUNDLE=/nonexistent.pem: file not found"]);
    wrong_key.assert_usage_error(&[&format!(
        "--key {server_key}: the private key does not match the certificate in --cert {client}"
    )]);
    no_key.assert_usage_error(&[&format!(
        "--cert {client}: no private key found in the file"
    )]);
    not_a_cert.assert_usage_error(&[&format!("--cacert {not_pem}: no PEM certificate found")]);
    key_alone.assert_usage_error(&["--key needs --cert"]);
    // Not even the start-up reachability check connected.
    assert_eq!(server.connections(), 0);
}

// ---------------------------------------------------------------------------------
// 5. Client certificates.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_certificates_are_presented() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TlsFixtures::generate(&dir.path().join("pki"));
    let ca = path(&pki.ca_cert);
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(HostileServer::start_tls(ok_routes(), &pki, ServerCert::Trusted, true).await);
    }
    let [without, pair, combined] = run_all(
        dir.path(),
        [
            case("without", &servers[0].url()).args(&["--cacert", ca]),
            case("pair", &servers[1].url()).args(&[
                "--cacert",
                ca,
                "--cert",
                path(&pki.client_cert),
                "--key",
                path(&pki.client_key),
            ]),
            case("combined", &servers[2].url()).args(&[
                "--cacert",
                ca,
                "--cert",
                path(&pki.client_combined),
            ]),
        ],
    )
    .await;

    without.assert_no_crash();
    assert_eq!(without.code, Some(1), "{}", without.console());
    assert_eq!(without.counts(), (1, 1), "{}", without.console());
    let errors = without.errors();
    assert_eq!(errors.len(), 1, "{}", without.console());
    // Locust 2.47 records the server's alert, read with the response:
    // `SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate
    // required (_ssl.c:2580)')`, or `SSLEOFError(8, 'EOF occurred in violation of protocol
    // (_ssl.c:2427)')` when the server's close overtakes it. A TLS error either way.
    assert!(
        errors[0].starts_with("SSLError(") || errors[0].starts_with("SSLEOFError("),
        "expected a TLS error text such as Locust's {CERT_REQUIRED}, recorded {errors:?}"
    );
    assert_eq!(servers[0].count("/x"), 0);
    assert!(servers[0].tls_failures() >= 1);

    for (run, server) in [(&pair, &servers[1]), (&combined, &servers[2])] {
        run.assert_succeeded();
        let requests = server.requests_to("/x");
        assert_eq!(requests.len(), 1, "{}", run.console());
        assert!(
            requests[0].client_cert,
            "the server saw no client certificate"
        );
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
