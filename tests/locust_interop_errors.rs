//! Locust interoperability of the HTTP client's failure texts: the real Locust 2.47.0
//! and locust-rs run side by side against ONE hostile server on 127.0.0.1 that answers
//! each route with exact, broken or odd bytes (reason phrases, status-line garbage,
//! bodies cut short, conflicting
//! lengths, closes and resets, header limits, read timeouts, corrupt and good
//! compressed bodies, redirect loops and redirects to broken answers, a 413 sent before
//! a large upload was read, a refused port, an unresolvable `.invalid` host).
//!
//! One table of cases is written as a Python locustfile and as the equivalent TOML
//! scenario: one user class per case (`fixed_count = 1`, `wait_time = constant(100)`,
//! one task of one request), so a `-u <cases> -t 4s` run sends each request exactly
//! once. The test proves that both tools recorded the same set of (Method, Name, Error)
//! rows in `_failures.csv`, and the same (Type, Name) rows with the same Request Count,
//! Failure Count and Average Content Size in `_stats.csv` (so successes in Locust are
//! successes in locust-rs, with the same decoded body length). It also checks the
//! table against Locust itself (each case recorded once, under the expected name, as a
//! failure or a success as measured in the research), so a broken case cannot pass
//! unnoticed.
//!
//! Deliberate differences, each marked in the table with the reason (`Ours`): a failed
//! redirect hop keeps the request's own name (Locust names it after the hop), and a
//! `103 Early Hints` is skipped like every 1xx but 101 (http.client takes it for the
//! answer and leaves the real one on the connection).
//!
//! Left out: cases where Locust raises into the task instead of recording a request
//! (an `ftp:` or non-UTF-8 `Location`, chunk size `-5`), connect timeouts (the
//! `ConnectTimeoutError` text holds a random address, and a connect timeout is hard to
//! provoke on loopback), `stream=True` and stale keep-alive sequences (two requests on
//! one connection), and TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use common::hostile::{brotli, deflate_raw, deflate_zlib, gzip, Behaviour, HostileServer};
use common::locust::{both_in, describe};
use common::{csv_rows, text, write};

/// The run time: every request ends within about 0.6 s (the read timeouts are 0.5 s);
/// Locust writes its CSV files once a second and not at exit, so the run must last a
/// few writes longer than the slowest request.
const RUN_TIME: &str = "4s";

// ---------------------------------------------------------------------------------
// The table of cases

/// requests' `timeout=`: seconds for both, or (connect, read).
#[derive(Clone, Copy)]
enum Timeout {
    Both(&'static str),
    Split(&'static str, &'static str),
}

/// The request body: Python `data=b"..."`, TOML `body = "..."`.
#[derive(Clone, Copy)]
enum Body {
    Text(&'static str),
    /// `count` times the byte (`data=b"x" * count` in Python).
    Repeat(char, usize),
}

struct Case {
    /// The route of the hostile server this case is about (for the report).
    route: String,
    method: &'static str,
    /// What the task requests: a path on the host, or an absolute URL.
    path: String,
    /// `name=`.
    name: Option<&'static str>,
    timeout: Option<Timeout>,
    allow_redirects: Option<bool>,
    headers: &'static [(&'static str, &'static str)],
    body: Option<Body>,
    /// The name Locust records when neither `name` nor the path is it (a failure on a
    /// redirect hop is recorded under the hop's path).
    recorded: Option<String>,
    /// Locust records a failure (else a success), as measured in the research.
    fails: bool,
    /// Where locust-rs deliberately records otherwise.
    ours: Option<Ours>,
}

/// A deliberate difference from Locust, with its reason.
enum Ours {
    /// The same rows under the request's own name (Locust names a failure on a redirect
    /// hop after the hop's path, so one request's failures scatter over many names).
    Name(&'static str),
    /// The same rows with this average content size (the body of the real answer).
    Size(&'static str),
}

impl Case {
    fn new(method: &'static str, path: impl Into<String>, fails: bool) -> Case {
        let path = path.into();
        Case {
            route: path.clone(),
            method,
            path,
            name: None,
            timeout: None,
            allow_redirects: None,
            headers: &[],
            body: None,
            recorded: None,
            fails,
            ours: None,
        }
    }

    /// The (method, name) of its stats row and failure rows.
    fn key(&self) -> (String, String) {
        let name = match (self.name, &self.recorded) {
            (Some(name), _) => name.to_owned(),
            (None, Some(recorded)) => recorded.clone(),
            (None, None) => match self.path.split_once("://") {
                Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
                None => self.path.clone(),
            },
        };
        (self.method.to_owned(), name)
    }

    /// The keyword arguments after the URL, as Python source.
    fn python_kwargs(&self) -> String {
        let mut out = String::new();
        if let Some(name) = self.name {
            let _ = write!(out, ", name={}", quote(name));
        }
        match self.timeout {
            Some(Timeout::Both(s)) => {
                let _ = write!(out, ", timeout={s}");
            }
            Some(Timeout::Split(c, r)) => {
                let _ = write!(out, ", timeout=({c}, {r})");
            }
            None => {}
        }
        if let Some(follow) = self.allow_redirects {
            let _ = write!(
                out,
                ", allow_redirects={}",
                if follow { "True" } else { "False" }
            );
        }
        if !self.headers.is_empty() {
            let pairs: Vec<String> = self
                .headers
                .iter()
                .map(|(k, v)| format!("{}: {}", quote(k), quote(v)))
                .collect();
            let _ = write!(out, ", headers={{{}}}", pairs.join(", "));
        }
        match self.body {
            Some(Body::Text(t)) => {
                let _ = write!(out, ", data=b{}", quote(t));
            }
            Some(Body::Repeat(c, n)) => {
                let _ = write!(out, ", data=b{} * {n}", quote(&c.to_string()));
            }
            None => {}
        }
        out
    }

    /// The TOML request table (inline).
    fn toml_request(&self) -> String {
        let mut out = format!(
            "{{ method = {}, path = {}",
            quote(self.method),
            quote(&self.path)
        );
        if let Some(name) = self.name {
            let _ = write!(out, ", name = {}", quote(name));
        }
        match self.timeout {
            Some(Timeout::Both(s)) => {
                let _ = write!(out, ", timeout = {s}");
            }
            Some(Timeout::Split(c, r)) => {
                let _ = write!(out, ", timeout = {{ connect = {c}, read = {r} }}");
            }
            None => {}
        }
        if let Some(follow) = self.allow_redirects {
            let _ = write!(out, ", allow_redirects = {follow}");
        }
        if !self.headers.is_empty() {
            let pairs: Vec<String> = self
                .headers
                .iter()
                .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
                .collect();
            let _ = write!(out, ", headers = {{ {} }}", pairs.join(", "));
        }
        match self.body {
            Some(Body::Text(t)) => {
                let _ = write!(out, ", body = {}", quote(t));
            }
            Some(Body::Repeat(c, n)) => {
                let _ = write!(out, ", body = {}", quote(&c.to_string().repeat(n)));
            }
            None => {}
        }
        out.push_str(" }");
        out
    }
}

/// A double-quoted string literal that means the same in Python and TOML (printable
/// ASCII only, so the two languages' escapes never differ).
fn quote(s: &str) -> String {
    assert!(
        s.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "keep the table's strings printable ASCII: {s:?}"
    );
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The routes of the hostile server and the requests the users send.
#[derive(Default)]
struct Table {
    routes: Vec<(String, Behaviour)>,
    cases: Vec<Case>,
}

impl Table {
    fn route(&mut self, target: impl Into<String>, behaviour: Behaviour) {
        self.routes.push((target.into(), behaviour));
    }

    /// A route and one case requesting it; returns the case to adjust.
    fn case(
        &mut self,
        method: &'static str,
        target: &str,
        behaviour: Behaviour,
        fails: bool,
    ) -> &mut Case {
        self.route(target, behaviour);
        self.cases.push(Case::new(method, target, fails));
        self.cases.last_mut().unwrap()
    }

    /// GET `target`, answered with `bytes`, then the server closes the connection (as
    /// every route of the research server did).
    fn get(&mut self, target: &str, bytes: impl AsRef<[u8]>, fails: bool) -> &mut Case {
        self.case("GET", target, Behaviour::raw_close(bytes), fails)
    }

    /// A case without a route of its own (another route, or another host).
    fn request(&mut self, method: &'static str, path: impl Into<String>, fails: bool) -> &mut Case {
        self.cases.push(Case::new(method, path, fails));
        self.cases.last_mut().unwrap()
    }
}

const FAIL: bool = true;
const OK: bool = false;

/// The research server's `R()`: the status line, the headers, `Content-Length`,
/// `Connection: close`, the body.
fn r(status_line: &[u8], headers: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let mut out = head(status_line, headers, Some(body.len()));
    out.extend_from_slice(body);
    out
}

/// The status line, the headers, `Content-Length` when given, `Connection: close`,
/// the blank line.
fn head(status_line: &[u8], headers: &[&[u8]], length: Option<usize>) -> Vec<u8> {
    let mut out = status_line.to_vec();
    out.extend_from_slice(b"\r\n");
    for h in headers {
        out.extend_from_slice(h);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(length) = length {
        out.extend_from_slice(format!("Content-Length: {length}\r\n").as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// `R()` with the research server's default body `abc`.
fn status(line: &[u8]) -> Vec<u8> {
    r(line, &[], b"abc")
}

/// `HTTP/1.1 <code> Redirect` with `Location` (taken verbatim) and an empty body.
fn redirect(code: u16, location: &[u8]) -> Vec<u8> {
    let mut header = b"Location: ".to_vec();
    header.extend_from_slice(location);
    r(
        format!("HTTP/1.1 {code} Redirect").as_bytes(),
        &[&header],
        b"",
    )
}

/// A 200 with a short body, for the targets of good redirects.
fn landing() -> Vec<u8> {
    r(b"HTTP/1.1 200 OK", &[], b"ok-A")
}

/// The byte strings one after the other.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `n` header lines `X-H-i: v`.
fn many_headers(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("X-H-{i}: v\r\n").into_bytes())
        .collect()
}

/// A redirect whose `Location` is built from the request's `Host` (the server's own
/// address is not known before it starts).
fn redirect_via_host(prefix: &'static str, path: &'static str) -> Behaviour {
    Behaviour::func(move |request| {
        let host = request.header_str("Host").unwrap_or_default();
        redirect(302, format!("{prefix}{host}{path}").as_bytes())
    })
}

/// Every case; `dead` is a 127.0.0.1 port nothing listens on.
fn table(dead: u16) -> Table {
    let body = b"hello world ".repeat(10);
    let gz = gzip(&body);
    let mut t = Table::default();

    // Reason phrases and status codes (the research's `R()` answers, body `abc`).
    t.get("/s/200", r(b"HTTP/1.1 200 OK", &[], b"hello"), OK);
    t.get("/s/404", status(b"HTTP/1.1 404 File not found"), FAIL);
    t.get("/s/404?x=1", status(b"HTTP/1.1 404 File not found"), FAIL);
    t.get("/s/404n", status(b"HTTP/1.1 404 File not found"), FAIL)
        .name = Some("custom-name");
    t.get("/s/503q", status(b"HTTP/1.1 503 Oops, \"bad\""), FAIL);
    t.get("/s/500nr", status(b"HTTP/1.1 500"), FAIL);
    t.get("/s/500sp", status(b"HTTP/1.1 500 "), FAIL);
    t.get("/s/418", status(b"HTTP/1.1 418 I'm a teapot"), FAIL);
    t.get("/s/esc2", status(b"HTTP/1.1 400 it's"), FAIL);
    t.get("/s/latin1", status(b"HTTP/1.1 404 Caf\xe9 \xa0x"), FAIL);
    t.get("/s/utf8", status(b"HTTP/1.1 404 Caf\xc3\xa9"), FAIL);
    t.get(
        "/s/esc",
        status(b"HTTP/1.1 400 a\\b\tc'd\"e\x01f\x7fg"),
        FAIL,
    );
    t.get("/s/spaced", status(b"HTTP/1.1 404   Spaced  out  "), FAIL);
    t.get("/s/dblspace", status(b"HTTP/1.1  404 X"), FAIL);
    t.get("/s/tabreason", status(b"HTTP/1.1 404\tTabbed"), FAIL);
    t.get("/s/http10", status(b"HTTP/1.0 404 Not Found"), FAIL);
    let www = b"WWW-Authenticate: Basic realm=\"x\"".as_slice();
    t.get(
        "/s/401",
        r(b"HTTP/1.1 401 Unauthorized", &[www], b"abc"),
        FAIL,
    );
    t.get("/s/599", status(b"HTTP/1.1 599 Custom"), FAIL);
    t.get("/s/600", status(b"HTTP/1.1 600 Six hundred"), OK);
    t.get("/s/999", status(b"HTTP/1.1 999 Nine"), OK);
    t.get("/s/http11_lower_ok", status(b"HTTP/1.1 200 ok"), OK);
    t.get("/s/204", head(b"HTTP/1.1 204 No Content", &[], None), OK);
    t.get("/s/304", head(b"HTTP/1.1 304 Not Modified", &[], None), OK);
    let cont = b"HTTP/1.1 100 Continue\r\n\r\n".as_slice();
    t.get(
        "/s/100then200",
        cat(&[cont, &status(b"HTTP/1.1 200 OK")]),
        OK,
    );
    let hints = b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n".as_slice();
    t.get(
        "/s/103then200",
        cat(&[hints, &status(b"HTTP/1.1 200 OK")]),
        OK,
    )
    .ours = Some(Ours::Size("3.0"));
    t.get("/s/100_then_close", cont, FAIL);
    let head_404 = head(b"HTTP/1.1 404 Not Found", &[b"Content-Length: 9"], None);
    t.case("HEAD", "/s/404head", Behaviour::raw_close(head_404), FAIL);

    // Status-line garbage.
    t.get("/s/1000", status(b"HTTP/1.1 1000 Thousand"), FAIL);
    t.get("/s/099", status(b"HTTP/1.1 099 Low"), FAIL);
    t.get("/s/abc", status(b"HTTP/1.1 abc OK"), FAIL);
    t.get("/s/lower", status(b"http/1.1 200 OK"), FAIL);
    t.get("/s/http2", status(b"HTTP/2 200 OK"), FAIL);
    t.get("/g/nothttp", b"NOT HTTP\r\n\r\n", FAIL);
    t.get("/g/hello", b"hello", FAIL);
    t.get("/c/partial_status", b"HTTP/1.1 20", FAIL);
    t.get("/c/half_head", b"HTTP/1.1 200 OK\r\nContent-", OK);
    t.get("/c/status_only", b"HTTP/1.1 200 OK\r\n", OK);
    t.get("/c/head_no_body", b"HTTP/1.1 200 OK\r\n\r\n", OK);

    // Bodies cut short or malformed.
    let ok = b"HTTP/1.1 200 OK\r\n".as_slice();
    let te = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".as_slice();
    t.get(
        "/b/cl_short",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345",
        FAIL,
    );
    t.get(
        "/b/cl_short_404",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n12345",
        FAIL,
    );
    let x20000 = vec![b'x'; 20_000];
    t.get(
        "/b/cl_cut_big",
        cat(&[b"HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n", &x20000]),
        FAIL,
    );
    t.get(
        "/b/cl_huge",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\nhello",
        FAIL,
    );
    t.get("/b/chunk_cut", cat(&[te, b"a\r\n01234"]), FAIL);
    t.get(
        "/b/chunk_cut_2nd",
        cat(&[te, b"5\r\nhello\r\na\r\n01234"]),
        FAIL,
    );
    t.get("/b/chunk_big_cut", cat(&[te, b"7530\r\n", &x20000]), FAIL);
    t.get(
        "/b/chunk_10240_cut",
        cat(&[te, b"2800\r\n", &[b'x'; 100]]),
        FAIL,
    );
    t.get(
        "/b/chunk_huge",
        cat(&[te, b"ffffffffffffffff\r\nhello"]),
        FAIL,
    );
    t.get("/b/chunk_cut_size", cat(&[te, b"5\r\nhello\r\n"]), FAIL);
    t.get(
        "/b/chunk_badsize",
        cat(&[te, b"zz\r\nhello\r\n0\r\n\r\n"]),
        FAIL,
    );
    t.get(
        "/b/chunk_empty_line",
        cat(&[te, b"\r\nhello\r\n0\r\n\r\n"]),
        FAIL,
    );
    let chunk_ok = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n".as_slice();
    t.get("/b/chunk_ok", cat(&[te, chunk_ok]), OK);
    t.get("/b/chunk_nocrlf", cat(&[te, b"5\r\nhelloXX0\r\n\r\n"]), OK);
    let gzip_head =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 100\r\n\r\n".as_slice();
    t.get("/z/gzip_cl_short", cat(&[gzip_head, &gz[..20]]), FAIL);
    let cl = |lines: &[u8]| cat(&[ok, lines, b"Connection: close\r\n\r\nhello"]);
    t.get(
        "/b/cl_two_diff",
        cl(b"Content-Length: 5\r\nContent-Length: 6\r\n"),
        FAIL,
    );
    t.get("/b/cl_comma_diff", cl(b"Content-Length: 5, 6\r\n"), FAIL);
    t.get(
        "/b/cl_two_same",
        cl(b"Content-Length: 5\r\nContent-Length: 5\r\n"),
        OK,
    );
    t.get("/b/cl_comma_same", cl(b"Content-Length: 5, 5\r\n"), OK);
    t.get("/b/cl_abc", cl(b"Content-Length: abc\r\n"), OK);
    t.get("/b/cl_neg", cl(b"Content-Length: -5\r\n"), OK);
    t.get("/b/cl_long_body", cl(b"Content-Length: 3\r\n"), OK);
    t.get(
        "/b/te_gzip_only",
        cl(b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"),
        OK,
    );
    let te_cl = b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    t.get("/b/te_and_cl", cat(&[ok, te_cl]), OK);

    // Closes and resets.
    t.case("GET", "/c/close", Behaviour::CloseSilently, FAIL);
    t.request("POST", "/c/close", FAIL).body = Some(Body::Text("abc"));
    t.case("GET", "/c/rst_before", Behaviour::ResetSilently, FAIL);
    let mid = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec();
    t.case("GET", "/c/rst_mid", Behaviour::RawReset(mid), FAIL);
    t.case(
        "GET",
        "/c/rst_mid_chunked",
        Behaviour::RawReset(cat(&[te, b"a\r\n01234"])),
        FAIL,
    );

    // Header lines: no colon, too long, too many.
    let abcdef = b"Connection: close\r\n\r\nabcdef".as_slice();
    t.get(
        "/g/nocolon_first",
        cat(&[ok, b"badheader\r\nContent-Length: 3\r\n", abcdef]),
        OK,
    );
    t.get(
        "/g/nocolon_last",
        cat(&[
            ok,
            b"Content-Length: 3\r\nConnection: close\r\nbadheader\r\n\r\nabcdef",
        ]),
        OK,
    );
    t.get(
        "/g/space_colon",
        cat(&[ok, b"Content-Length : 3\r\n", abcdef]),
        OK,
    );
    let long = vec![b'a'; 100_000];
    t.get(
        "/g/longheader",
        cat(&[ok, b"X-Long: ", &long, b"\r\nContent-Length: 3\r\n\r\nabc"]),
        FAIL,
    );
    let long_status = vec![b'O'; 70_000];
    t.get(
        "/g/longstatus",
        cat(&[
            b"HTTP/1.1 200 ",
            &long_status,
            b"\r\nContent-Length: 3\r\n\r\nabc",
        ]),
        FAIL,
    );
    let length3 = b"Content-Length: 3\r\n\r\nabc".as_slice();
    t.get(
        "/g/manyheaders",
        cat(&[ok, &many_headers(200), length3]),
        FAIL,
    );
    t.get(
        "/g/101headers",
        cat(&[ok, &many_headers(100), length3]),
        FAIL,
    );
    t.get(
        "/g/100headers",
        cat(&[ok, &many_headers(99), length3]),
        FAIL,
    );
    t.get("/g/99headers", cat(&[ok, &many_headers(98), length3]), OK);
    t.get(
        "/g/http10_close",
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body",
        OK,
    );
    let switching =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    t.get("/g/101", switching, OK);
    t.get(
        "/g/lf_only",
        b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
        OK,
    );
    t.get(
        "/g/obsfold",
        cat(&[
            ok,
            b"X-Fold: a\r\n b\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        ]),
        OK,
    );

    // Read timeouts: no head within 0.5 s, and a body that stalls after 5 of 10 bytes.
    let slow = Behaviour::Delay(Duration::from_secs(2), status(b"HTTP/1.1 200 OK"));
    t.case("GET", "/t/slow", slow, FAIL).timeout = Some(Timeout::Both("0.5"));
    let split = t.request("GET", "/t/slow", FAIL);
    split.name = Some("/t/slow (5,0.5)");
    split.timeout = Some(Timeout::Split("5", "0.5"));
    let stall = Behaviour::Drip {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345".to_vec(),
        byte: b'6',
        every: Duration::from_secs(2),
    };
    t.case("GET", "/t/slowbody", stall, FAIL).timeout = Some(Timeout::Both("0.5"));

    // Compressed bodies, good and corrupt (`body` is 120 bytes).
    let enc = |encoding: &str, bytes: &[u8]| {
        let header = format!("Content-Encoding: {encoding}");
        r(b"HTTP/1.1 200 OK", &[header.as_bytes()], bytes)
    };
    t.get("/z/gzip", enc("gzip", &gz), OK);
    t.get("/z/GZIP_upper", enc("GZIP", &gz), OK);
    t.get("/z/deflate", enc("deflate", &deflate_zlib(&body)), OK);
    t.get("/z/rawdeflate", enc("deflate", &deflate_raw(&body)), OK);
    t.get("/z/br", enc("br", &brotli(&body)), OK);
    t.get("/z/gzip_gzip", enc("gzip, gzip", &gzip(&gz)), OK);
    t.get("/z/gzip_trunc", enc("gzip", &gz[..gz.len() / 2]), OK);
    t.get("/z/foo", enc("foo", &body), OK);
    t.get("/z/zstd", enc("zstd", b"(\xb5/\xfd-zstd-not-really"), OK);
    let chunked_gz = cat(&[
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        format!("{:x}\r\n", gz.len()).as_bytes(),
        &gz,
        b"\r\n0\r\n\r\n",
    ]);
    t.get("/z/gzip_chunked", chunked_gz, OK);
    t.get("/z/gzip_identity", enc("gzip", &gz), OK).headers = &[("Accept-Encoding", "identity")];
    let gzip_404 = r(b"HTTP/1.1 404 Not Found", &[b"Content-Encoding: gzip"], &gz);
    t.get("/z/gzip_404", gzip_404, FAIL);
    t.get(
        "/z/gzip_corrupt",
        enc("gzip", b"\x1f\x8b\x08\x00garbage-garbage-garbage"),
        FAIL,
    );
    t.get("/z/gzip_notgzip", enc("gzip", b"plain text body"), FAIL);
    t.get(
        "/z/deflate_corrupt",
        enc("deflate", b"garbage-garbage-garbage"),
        FAIL,
    );
    t.get("/z/br_corrupt", enc("br", b"garbage-garbage-garbage"), FAIL);

    // Redirects.
    t.get("/r/loop", redirect(302, b"/r/loop"), FAIL);
    let chain = t.get("/r/chain", chain_hop(0), FAIL);
    chain.recorded = Some("/r/chain?n=30".into());
    chain.ours = Some(Ours::Name("/r/chain"));
    for n in 1..=30 {
        t.route(
            format!("/r/chain?n={n}"),
            Behaviour::raw_close(chain_hop(n)),
        );
    }
    t.get("/r/to404", redirect(302, b"/s/404"), FAIL);
    let to_close = t.get("/r/toclose", redirect(302, b"/c/close2"), FAIL);
    to_close.recorded = Some("/c/close2".into());
    to_close.ours = Some(Ours::Name("/r/toclose"));
    t.route("/c/close2", Behaviour::CloseSilently);
    let dead_x = format!("http://127.0.0.1:{dead}/x");
    let to_dead = t.get("/r/todead", redirect(302, dead_x.as_bytes()), FAIL);
    to_dead.recorded = Some("/x".into());
    to_dead.ours = Some(Ours::Name("/r/todead"));
    t.get("/r/toclshort", redirect(302, b"/b/cl_short2"), FAIL);
    t.route(
        "/b/cl_short2",
        Behaviour::raw_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"),
    );
    let moved = r(b"HTTP/1.1 302 Redirect", &[b"Location: /echo/nr"], b"moved");
    t.get("/r/noredir", moved, OK).allow_redirects = Some(false);
    t.get("/r/noloc", r(b"HTTP/1.1 302 Found", &[], b"noloc"), OK);
    t.get("/r/empty_loc", redirect(302, b""), OK);
    t.get("/sub/rrel", redirect(302, b"x?y=1"), OK);
    t.route("/sub/x?y=1", Behaviour::raw_close(landing()));
    t.get("/r/nonascii", redirect(302, b"/echo/caf\xc3\xa9"), OK);
    t.route("/echo/caf%C3%A9", Behaviour::raw_close(landing()));
    t.get("/r/space", redirect(302, b"/echo/a b"), OK);
    t.route("/echo/a%20b", Behaviour::raw_close(landing()));
    t.get("/r/fragment", redirect(302, b"/echo/f#frag"), OK);
    t.route("/echo/f", Behaviour::raw_close(landing()));
    t.get("/r/query", redirect(302, b"/echo/q?a=1&b=%41"), OK);
    t.route("/echo/q?a=1&b=A", Behaviour::raw_close(landing()));
    t.case(
        "GET",
        "/r/schemerel",
        redirect_via_host("//", "/echo/sr"),
        OK,
    );
    t.route("/echo/sr", Behaviour::raw_close(landing()));
    t.case(
        "GET",
        "/r/sameorigin",
        redirect_via_host("http://", "/echo/same"),
        OK,
    );
    t.route("/echo/same", Behaviour::raw_close(landing()));
    for code in [303, 307] {
        let from = format!("/r/post{code}");
        let to = format!("/echo/after{code}");
        let post = t.case(
            "POST",
            &from,
            Behaviour::raw_close(redirect(code, to.as_bytes())),
            OK,
        );
        post.body = Some(Body::Text("a=1"));
        t.route(to, Behaviour::raw_close(landing()));
    }

    // A 413 sent as soon as the head of a 2 MB upload arrived: the server then drains
    // the upload, or resets the connection with the upload unread.
    let too_big = r(b"HTTP/1.1 413 Payload Too Large", &[], b"too big");
    let early = t.case(
        "POST",
        "/p/413",
        Behaviour::AnswerEarly(too_big.clone()),
        FAIL,
    );
    early.body = Some(Body::Repeat('x', 2_000_000));
    let early = t.case(
        "POST",
        "/p/413rst",
        Behaviour::AnswerEarlyReset(too_big),
        FAIL,
    );
    early.body = Some(Body::Repeat('x', 2_000_000));

    // Nothing listening, and a name that does not resolve.
    t.request("GET", format!("http://127.0.0.1:{dead}/refused"), FAIL);
    t.request("GET", "http://nonexistent.invalid/dns", FAIL);
    t
}

/// Hop `n` of `/r/chain`: a 302 to `?n=n+1`.
fn chain_hop(n: u32) -> Vec<u8> {
    let location = format!("Location: /r/chain?n={}", n + 1);
    r(b"HTTP/1.1 302 Found", &[location.as_bytes()], b"")
}

// ---------------------------------------------------------------------------------
// Both scenario files

fn class_name(i: usize) -> String {
    format!("C{i:03}")
}

fn locustfile(cases: &[Case]) -> String {
    let mut py = String::from("from locust import HttpUser, constant, task\n");
    for (i, case) in cases.iter().enumerate() {
        let _ = write!(
            py,
            "\n\nclass {}(HttpUser):\n    fixed_count = 1\n    wait_time = constant(100)\n\n    \
             @task\n    def t(self):\n        self.client.request({}, {}{})\n",
            class_name(i),
            quote(case.method),
            quote(&case.path),
            case.python_kwargs()
        );
    }
    py
}

fn scenario(cases: &[Case]) -> String {
    let mut toml = String::new();
    for (i, case) in cases.iter().enumerate() {
        let class = class_name(i);
        let _ = write!(
            toml,
            "[users.{class}]\nfixed_count = 1\nwait_time = \"constant(100)\"\n\n\
             [[users.{class}.tasks]]\nname = \"t\"\nrequest = {}\n\n",
            case.toml_request()
        );
    }
    toml
}

// ---------------------------------------------------------------------------------
// Reading the CSV files

type Key = (String, String);

/// `_failures.csv`: (Method, Name) → the Error cells.
fn failures(dir: &Path) -> BTreeMap<Key, BTreeSet<String>> {
    let rows = csv_rows(&dir.join("out_failures.csv"));
    assert_eq!(
        rows[0][..3],
        ["Method", "Name", "Error"],
        "{}",
        dir.display()
    );
    let mut out: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for row in &rows[1..] {
        out.entry((row[0].clone(), row[1].clone()))
            .or_default()
            .insert(row[2].clone());
    }
    out
}

/// `_stats.csv`: (Type, Name) → (Request Count, Failure Count, Average Content Size).
fn stats(dir: &Path) -> BTreeMap<Key, (String, String, String)> {
    let rows = csv_rows(&dir.join("out_stats.csv"));
    let column = |name: &str| {
        rows[0]
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", dir.display()))
    };
    let (count, fails, size) = (
        column("Request Count"),
        column("Failure Count"),
        column("Average Content Size"),
    );
    rows[1..]
        .iter()
        .map(|row| {
            let key = (row[0].clone(), row[1].clone());
            (
                key,
                (row[count].clone(), row[fails].clone(), row[size].clone()),
            )
        })
        .collect()
}

/// The data rows of `_exceptions.csv` (tasks that raised instead of recording).
fn exceptions(dir: &Path) -> Vec<Vec<String>> {
    csv_rows(&dir.join("out_exceptions.csv")).split_off(1)
}

/// Locust's rows as locust-rs writes them where it differs on purpose (`Ours`).
#[allow(clippy::type_complexity)]
fn with_our_differences(
    cases: &[Case],
    keys: &[Key],
    mut failures: BTreeMap<Key, BTreeSet<String>>,
    mut stats: BTreeMap<Key, (String, String, String)>,
) -> (
    BTreeMap<Key, BTreeSet<String>>,
    BTreeMap<Key, (String, String, String)>,
) {
    for (case, key) in cases.iter().zip(keys) {
        match case.ours {
            Some(Ours::Name(name)) => {
                let ours = (key.0.clone(), name.to_owned());
                if let Some(rows) = failures.remove(key) {
                    failures.insert(ours.clone(), rows);
                }
                if let Some(row) = stats.remove(key) {
                    stats.insert(ours, row);
                }
            }
            Some(Ours::Size(size)) => {
                if let Some(row) = stats.get_mut(key) {
                    row.2 = size.to_owned();
                }
            }
            None => {}
        }
    }
    if let Some(total) = stats.get_mut(&(String::new(), "Aggregated".into())) {
        total.2.clear();
    }
    (failures, stats)
}

fn show(errors: Option<&BTreeSet<String>>) -> String {
    match errors {
        None => "(no failure row)".to_owned(),
        Some(set) => set
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n               | "),
    }
}

// ---------------------------------------------------------------------------------
// The test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_texts_match_locust() {
    let started = Instant::now();
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let Table { routes, cases } = table(dead);
    let keys: Vec<Key> = cases.iter().map(Case::key).collect();
    let unique: BTreeSet<&Key> = keys.iter().collect();
    assert_eq!(
        unique.len(),
        keys.len(),
        "two cases share a (method, name): {keys:?}"
    );

    let server = HostileServer::start(routes).await;
    let py_dir = tempfile::tempdir().unwrap();
    let rs_dir = tempfile::tempdir().unwrap();
    for dir in [py_dir.path(), rs_dir.path()] {
        write(dir, "locustfile.py", &locustfile(&cases));
        write(dir, "scenario.toml", &scenario(&cases));
    }
    let users = cases.len().to_string();
    let host = server.url();
    let args = [
        "--headless",
        "-H",
        &host,
        "-u",
        &users,
        "-r",
        "1000",
        "-t",
        RUN_TIME,
        "--csv",
        "out",
    ];
    let (py, rs) = both_in(py_dir.path(), rs_dir.path(), &args).await;
    drop(server);
    let (py_dir, rs_dir) = (py_dir.path(), rs_dir.path());

    // The table against Locust itself: every case requested once, recorded under its
    // expected name as a failure or a success, and no task raised.
    assert_eq!(py.status.code(), Some(1), "{}", describe("locust", &py));
    let py_failures = failures(py_dir);
    let py_stats = stats(py_dir);
    let mut table_errors = String::new();
    if !exceptions(py_dir).is_empty() {
        let _ = writeln!(
            table_errors,
            "Locust's tasks raised: {:?}",
            exceptions(py_dir)
        );
    }
    for (i, (case, key)) in cases.iter().zip(&keys).enumerate() {
        let expected = (
            String::from("1"),
            String::from(if case.fails { "1" } else { "0" }),
        );
        let got = py_stats.get(key).map(|(n, f, _)| (n.clone(), f.clone()));
        if got.as_ref() != Some(&expected) || py_failures.contains_key(key) != case.fails {
            let _ = writeln!(
                table_errors,
                "{} {} {:?} (route {}): Locust recorded (requests, failures) {got:?}, failures {:?}; \
                 the table expects {expected:?}",
                class_name(i),
                key.0,
                key.1,
                case.route,
                py_failures.get(key)
            );
        }
    }
    let total = py_stats
        .get(&(String::new(), "Aggregated".into()))
        .map(|s| s.0.clone());
    if total != Some(cases.len().to_string()) {
        let _ = writeln!(
            table_errors,
            "Locust's Aggregated request count {total:?}, {} cases",
            cases.len()
        );
    }
    assert!(
        table_errors.is_empty(),
        "the case table does not describe what Locust does:\n{table_errors}\n{}",
        describe("locust", &py)
    );

    // locust-rs against Locust, after the deliberate differences.
    let (py_failures, py_stats) = with_our_differences(&cases, &keys, py_failures, py_stats);
    let rs_failures = failures(rs_dir);
    let mut rs_stats = stats(rs_dir);
    if let Some(total) = rs_stats.get_mut(&(String::new(), "Aggregated".into())) {
        // An average over every row: any size difference above shows here too.
        total.2.clear();
    }
    let case_of = |key: &Key| {
        keys.iter()
            .position(|k| k == key)
            .map_or("(no case)".to_owned(), |i| {
                format!("{} route {}", class_name(i), cases[i].route)
            })
    };
    let mut report = String::new();
    let failure_keys: BTreeSet<&Key> = py_failures.keys().chain(rs_failures.keys()).collect();
    for key in failure_keys {
        let (p, r) = (py_failures.get(key), rs_failures.get(key));
        if p != r {
            let _ = writeln!(
                report,
                "failures {} {:?} [{}]\n  locust:    | {}\n  locust-rs: | {}",
                key.0,
                key.1,
                case_of(key),
                show(p),
                show(r)
            );
        }
    }
    let stats_keys: BTreeSet<&Key> = py_stats.keys().chain(rs_stats.keys()).collect();
    for key in stats_keys {
        let (p, r) = (py_stats.get(key), rs_stats.get(key));
        if p != r {
            let _ = writeln!(
                report,
                "stats {} {:?} [{}] (requests, failures, average content size)\n  locust:    {p:?}\n  locust-rs: {r:?}",
                key.0,
                key.1,
                case_of(key)
            );
        }
    }
    if !exceptions(rs_dir).is_empty() {
        let _ = writeln!(
            report,
            "locust-rs's exceptions.csv: {:?}",
            exceptions(rs_dir)
        );
    }
    if rs.status.code() != py.status.code() {
        let _ = writeln!(
            report,
            "exit codes: locust {:?}, locust-rs {:?}",
            py.status.code(),
            rs.status.code()
        );
    }
    eprintln!(
        "{} cases, {} failure rows in Locust, run in {:.1} s",
        cases.len(),
        py_failures.values().map(BTreeSet::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        report.is_empty(),
        "locust-rs recorded differently from Locust {}:\n{report}\n{}",
        common::locust::LOCUST_VERSION,
        text(&rs.stderr)
    );
}
