//! The case table of `tests/locust_interop_errors.rs`: one `Case` per request (method,
//! path, `name=`, timeout, redirects, headers, body; whether Locust records a failure;
//! a deliberate difference), written as Python keyword arguments and as a TOML request,
//! the `Table` of hostile-server routes and cases, and the byte builders of the answers.
//! The cases themselves are in `error_cases/table.rs`.

use std::fmt::Write as _;

use super::hostile::Behaviour;

pub mod table;

/// requests' `timeout=`: seconds for both, or (connect, read).
#[derive(Clone, Copy)]
pub enum Timeout {
    Both(&'static str),
    Split(&'static str, &'static str),
}

/// The request body: Python `data=b"..."`, TOML `body = "..."`.
#[derive(Clone, Copy)]
pub enum Body {
    Text(&'static str),
    /// `count` times the byte (`data=b"x" * count` in Python).
    Repeat(char, usize),
}

pub struct Case {
    /// The route of the hostile server this case is about (for the report).
    pub route: String,
    pub method: &'static str,
    /// What the task requests: a path on the host, or an absolute URL.
    pub path: String,
    /// `name=`.
    pub name: Option<&'static str>,
    pub timeout: Option<Timeout>,
    pub allow_redirects: Option<bool>,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Option<Body>,
    /// The name Locust records when neither `name` nor the path is it (a failure on a
    /// redirect hop is recorded under the hop's path).
    pub recorded: Option<String>,
    /// Locust records a failure (else a success), as measured in the research.
    pub fails: bool,
    /// Where locust-rs deliberately records otherwise.
    pub ours: Option<Ours>,
}

/// A deliberate difference from Locust, with its reason.
pub enum Ours {
    /// The same rows under the request's own name (Locust names a failure on a redirect
    /// hop after the hop's path, so one request's failures scatter over many names).
    Name(&'static str),
    /// The same rows with this average content size (the body of the real answer).
    Size(&'static str),
}

impl Case {
    pub fn new(method: &'static str, path: impl Into<String>, fails: bool) -> Case {
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
    pub fn key(&self) -> (String, String) {
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
    pub fn python_kwargs(&self) -> String {
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
    pub fn toml_request(&self) -> String {
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
pub fn quote(s: &str) -> String {
    assert!(
        s.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "keep the table's strings printable ASCII: {s:?}"
    );
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The routes of the hostile server and the requests the users send.
#[derive(Default)]
pub struct Table {
    pub routes: Vec<(String, Behaviour)>,
    pub cases: Vec<Case>,
}

impl Table {
    pub fn route(&mut self, target: impl Into<String>, behaviour: Behaviour) {
        self.routes.push((target.into(), behaviour));
    }

    /// A route and one case requesting it; returns the case to adjust.
    pub fn case(
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
    pub fn get(&mut self, target: &str, bytes: impl AsRef<[u8]>, fails: bool) -> &mut Case {
        self.case("GET", target, Behaviour::raw_close(bytes), fails)
    }

    /// A case without a route of its own (another route, or another host).
    pub fn request(
        &mut self,
        method: &'static str,
        path: impl Into<String>,
        fails: bool,
    ) -> &mut Case {
        self.cases.push(Case::new(method, path, fails));
        self.cases.last_mut().unwrap()
    }
}

pub const FAIL: bool = true;
pub const OK: bool = false;

/// The research server's `R()`: the status line, the headers, `Content-Length`,
/// `Connection: close`, the body.
pub fn r(status_line: &[u8], headers: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let mut out = head(status_line, headers, Some(body.len()));
    out.extend_from_slice(body);
    out
}

/// The status line, the headers, `Content-Length` when given, `Connection: close`,
/// the blank line.
pub fn head(status_line: &[u8], headers: &[&[u8]], length: Option<usize>) -> Vec<u8> {
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
pub fn status(line: &[u8]) -> Vec<u8> {
    r(line, &[], b"abc")
}

/// `HTTP/1.1 <code> Redirect` with `Location` (taken verbatim) and an empty body.
pub fn redirect(code: u16, location: &[u8]) -> Vec<u8> {
    let mut header = b"Location: ".to_vec();
    header.extend_from_slice(location);
    r(
        format!("HTTP/1.1 {code} Redirect").as_bytes(),
        &[&header],
        b"",
    )
}

/// A 200 with a short body, for the targets of good redirects.
pub fn landing() -> Vec<u8> {
    r(b"HTTP/1.1 200 OK", &[], b"ok-A")
}

/// The byte strings one after the other.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `n` header lines `X-H-i: v`.
pub fn many_headers(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("X-H-{i}: v\r\n").into_bytes())
        .collect()
}

/// A redirect whose `Location` is built from the request's `Host` (the server's own
/// address is not known before it starts).
pub fn redirect_via_host(prefix: &'static str, path: &'static str) -> Behaviour {
    Behaviour::func(move |request| {
        let host = request.header_str("Host").unwrap_or_default();
        redirect(302, format!("{prefix}{host}{path}").as_bytes())
    })
}
