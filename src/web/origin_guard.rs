//! Who may talk to the web UI: a middleware in front of every route that stops other
//! web pages from driving it (cross-site request forgery and DNS rebinding), which
//! Locust allows. Three rules:
//!
//! 1. **Host**: every request must name a host the UI is served under — `localhost` and
//!    `*.localhost`, any IP address literal (no DNS name, so nothing to rebind), the
//!    `--web-host` name, and the `--web-allowed-hosts` names (`.example.com` also allows
//!    its subdomains; `*` allows any, which re-opens DNS rebinding). The port is not
//!    compared, so a reverse proxy on another port works. A wildcard bind (0.0.0.0, ::)
//!    adds no name: as with Vite and webpack-dev-server, reach the UI by IP address or
//!    list its names.
//! 2. **Origin**: a request that can change state (any method but GET, HEAD, OPTIONS;
//!    the UI has no state-changing GET) is refused when its `Origin` — or, without one,
//!    its `Referer` — is not the UI's own origin (the same host and port as the `Host`
//!    header; http or https, for a TLS proxy) nor a `--web-cors` origin. A request with
//!    neither header (curl, Python requests: how Locust's API is scripted) passes,
//!    unless the browser's `Sec-Fetch-Site` says it came from another site.
//! 3. **CORS**: `Access-Control-Allow-Origin` is sent only to `--web-cors` origins
//!    (`*`: to every origin, as Locust does, and every origin is then trusted).
//!
//! A refusal is a 403 with a JSON message saying why and which flag allows it, and one
//! WARNING line (no header but Host, Origin and Referer is ever logged).

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, HOST, ORIGIN, REFERER, VARY,
};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::web::WebSettings;
use crate::logging::MAIN;
use crate::web::json_reply;

/// The rules of one UI, built once from its settings.
#[derive(Debug, Clone)]
pub struct Guard {
    /// `--web-allowed-hosts` plus a named `--web-host`, lowercase.
    hosts: Vec<String>,
    any_host: bool,
    /// `--web-cors`, normalized origins.
    cors: Vec<String>,
    any_origin: bool,
}

/// A host name and optional port, from a `Host` header or a request's authority.
struct HostPort {
    name: String,
    port: Option<u16>,
}

impl Guard {
    pub fn new(web: &WebSettings) -> Arc<Guard> {
        let mut hosts: Vec<String> = web.allowed_hosts.clone();
        let bind = web.host.trim().to_ascii_lowercase();
        let wildcard = bind.is_empty() || bind == "*" || is_unspecified(&bind);
        if !wildcard {
            hosts.push(bind);
        }
        Arc::new(Guard {
            any_host: hosts.iter().any(|h| h == "*"),
            hosts,
            any_origin: web.cors.iter().any(|o| o == "*"),
            cors: web.cors.clone(),
        })
    }

    fn host_allowed(&self, name: &str) -> bool {
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if self.any_host
            || bare.parse::<std::net::IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
        {
            return true;
        }
        self.hosts
            .iter()
            .any(|allowed| match allowed.strip_prefix('.') {
                Some(domain) => name == domain || name.ends_with(allowed.as_str()),
                None => {
                    allowed == name || allowed.trim_start_matches('[').trim_end_matches(']') == bare
                }
            })
    }

    /// `--web-cors` lists this origin (or is `*`).
    fn cors_allows(&self, origin: &str) -> bool {
        self.any_origin || normalized(origin).is_some_and(|o| self.cors.contains(&o))
    }

    /// Why a state-changing request must be refused, or None when it may pass.
    fn foreign_source(&self, headers: &HeaderMap, host: &HostPort) -> Option<String> {
        let text = |name| {
            headers
                .get(name)
                .map(|v: &HeaderValue| v.to_str().unwrap_or("?"))
        };
        if let Some(origin) = text(ORIGIN) {
            return (!(same_origin(origin, host) || self.cors_allows(origin)))
                .then(|| format!("Origin {}", shown(origin)));
        }
        if let Some(referer) = text(REFERER) {
            return (!(same_origin(referer, host) || self.cors_allows(referer)))
                .then(|| format!("Referer {}", shown(referer)));
        }
        match text(axum::http::HeaderName::from_static("sec-fetch-site")) {
            Some(site @ ("cross-site" | "same-site")) if !self.any_origin => {
                Some(format!("Sec-Fetch-Site {site} (no Origin)"))
            }
            _ => None,
        }
    }
}

fn is_unspecified(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

/// `scheme://host[:port]` as a browser serializes it, for http(s) URLs only.
fn normalized(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// The URL's host and port (its scheme's default when absent) are the `Host` header's.
fn same_origin(url: &str, host: &HostPort) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    // A Host without port means the scheme's default port (a TLS proxy on 443).
    let default = if url.scheme() == "https" { 443 } else { 80 };
    url.host_str().map(str::to_ascii_lowercase).as_deref() == Some(host.name.as_str())
        && url.port_or_known_default() == Some(host.port.unwrap_or(default))
}

/// A header value for a message or log line: quoted, at most 120 characters.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(120).collect();
    format!("{cut:?}")
}

fn request_host(request: &Request) -> Option<HostPort> {
    let authority = match request.headers().get(HOST) {
        Some(value) => Authority::from_str(value.to_str().ok()?).ok()?,
        None => request.uri().authority()?.clone(),
    };
    Some(HostPort {
        name: authority.host().to_ascii_lowercase(),
        port: authority.port_u16(),
    })
}

fn refuse(request: &Request, why: &str, message: String) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| format!(" from {}", peer.ip()))
        .unwrap_or_default();
    tracing::warn!(
        target: MAIN,
        "Refused {} {}{peer}: {why}",
        request.method(),
        request.uri().path()
    );
    let body = serde_json::json!({ "success": false, "message": message });
    (StatusCode::FORBIDDEN, json_reply::reply(body)).into_response()
}

/// The middleware: Host check, origin check, then the route, then CORS headers.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Some(host) = request_host(&request).filter(|h| guard.host_allowed(&h.name)) else {
        let value = request
            .headers()
            .get(HOST)
            .map_or("(none)", |v| v.to_str().unwrap_or("?"));
        let name = request_host(&request).map_or_else(|| "NAME".to_string(), |h| h.name);
        let why = format!(
            "Host {} is not a name this UI is served under",
            shown(value)
        );
        let message = format!(
            "{why} (a DNS rebinding attack looks like this). To serve the UI under this name, start locust-rs with --web-allowed-hosts {name}"
        );
        return refuse(
            &request,
            &format!("{why}; allow it with --web-allowed-hosts {name}"),
            message,
        );
    };
    let origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let method = request.method().clone();
    if method == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD)
    {
        if let Some(origin) = origin.as_deref().filter(|o| guard.cors_allows(o)) {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            headers.insert(
                ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, POST, OPTIONS"),
            );
            if let Some(asked) = request.headers().get(ACCESS_CONTROL_REQUEST_HEADERS) {
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
            }
            allow_origin(&guard, origin, &mut response);
            return response;
        }
    }
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        if let Some(source) = guard.foreign_source(request.headers(), &host) {
            let why = format!("{source} is not this UI's origin nor a --web-cors origin");
            let message = format!(
                "{why}: another web page may not drive this UI. To let a page on that origin use the API, start locust-rs with --web-cors ORIGIN (scheme://host:port); scripts that send no Origin or Referer need nothing"
            );
            return refuse(&request, &why, message);
        }
    }
    let mut response = next.run(request).await;
    if let Some(origin) = origin.as_deref() {
        allow_origin(&guard, origin, &mut response);
    } else if guard.any_origin {
        allow_origin(&guard, "*", &mut response);
    }
    response
}

/// `Access-Control-Allow-Origin` for a `--web-cors` origin: `*` when that is the setting.
fn allow_origin(guard: &Guard, origin: &str, response: &mut Response) {
    let headers = response.headers_mut();
    if guard.any_origin {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    } else if let Some(value) = normalized(origin)
        .filter(|o| guard.cors.contains(o))
        .and_then(|o| HeaderValue::from_str(&o).ok())
    {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.append(VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(hosts: &[&str], cors: &[&str], bind: &str) -> Arc<Guard> {
        Guard::new(&WebSettings {
            host: bind.into(),
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            cors: cors.iter().map(|o| o.to_string()).collect(),
            ..WebSettings::default()
        })
    }

    fn at(name: &str, port: Option<u16>) -> HostPort {
        HostPort {
            name: name.into(),
            port,
        }
    }

    #[test]
    fn loopback_ip_literals_and_listed_names_are_allowed() {
        let g = guard(&["locust.example.com", ".corp.example"], &[], "127.0.0.1");
        for ok in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "[::1]",
            "10.1.2.3",
            "locust.example.com",
            "corp.example",
            "a.b.corp.example",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "xcorp.example",
            "locust.example.com.evil",
            "",
        ] {
            assert!(!g.host_allowed(refused), "{refused}");
        }
        assert!(guard(&["*"], &[], "127.0.0.1").host_allowed("evil.example"));
        assert!(guard(&[], &[], "ui.internal").host_allowed("ui.internal"));
        assert!(!guard(&[], &[], "0.0.0.0").host_allowed("evil.example"));
        assert!(!guard(&[], &[], "::").host_allowed("evil.example"));
    }

    #[test]
    fn same_origin_compares_host_and_port() {
        let host = at("127.0.0.1", Some(8089));
        assert!(same_origin("http://127.0.0.1:8089", &host));
        assert!(same_origin("http://127.0.0.1:8089/page?x=1", &host));
        assert!(!same_origin("http://127.0.0.1:9999", &host));
        assert!(!same_origin("http://localhost:8089", &host));
        assert!(!same_origin("null", &host));
        assert!(!same_origin("file:///x", &host));
        let proxied = at("locust.example.com", None);
        assert!(same_origin("https://locust.example.com", &proxied));
        assert!(same_origin("http://locust.example.com", &proxied));
        assert!(!same_origin("https://locust.example.com:8443", &proxied));
        assert!(same_origin("http://[::1]:8089", &at("[::1]", Some(8089))));
    }

    #[test]
    fn foreign_origins_and_referers_are_named_and_listed_ones_pass() {
        let g = guard(&[], &["http://dash.example:3000"], "127.0.0.1");
        let host = at("127.0.0.1", Some(8089));
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_static(v));
            }
            map
        };
        assert_eq!(g.foreign_source(&headers(&[]), &host), None);
        let same = headers(&[("origin", "http://127.0.0.1:8089")]);
        assert_eq!(g.foreign_source(&same, &host), None);
        let listed = headers(&[("origin", "http://dash.example:3000")]);
        assert_eq!(g.foreign_source(&listed, &host), None);
        let evil = headers(&[("origin", "http://evil.example")]);
        assert_eq!(
            g.foreign_source(&evil, &host).unwrap(),
            "Origin \"http://evil.example\""
        );
        let referer = headers(&[("referer", "http://evil.example/x")]);
        assert!(g
            .foreign_source(&referer, &host)
            .unwrap()
            .starts_with("Referer"));
        let own_referer = headers(&[("referer", "http://127.0.0.1:8089/")]);
        assert_eq!(g.foreign_source(&own_referer, &host), None);
        let site = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(g.foreign_source(&site, &host).is_some());
        let any = guard(&[], &["*"], "127.0.0.1");
        assert_eq!(any.foreign_source(&evil, &host), None);
    }
}
