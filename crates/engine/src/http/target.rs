//! Where a request goes: the base host (`-H` or the class's `host`) parsed once per user
//! into an `Origin` (its credentials turned into Basic auth, as requests does), each
//! step's URL resolved against it without building a URL on the hot path, and redirect
//! targets resolved against the current URL by RFC 3986 (the `url` crate).

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use http::uri::PathAndQuery;
use http::HeaderValue;
use url::Url;

/// Scheme, host and port of a server: what a connection is opened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub tls: bool,
    /// The host name or address, without IPv6 brackets (what is resolved and verified);
    /// shared, as every request of a user clones its origin.
    pub host: Arc<str>,
    pub port: u16,
    /// The `Host` header value (`host` or `host:port` when not the default port).
    pub authority: HeaderValue,
}

/// A parsed URL: its origin, path and query, and credentials from its user info.
#[derive(Debug, Clone)]
pub struct Target {
    pub origin: Origin,
    pub path: PathAndQuery,
    /// `Basic ...` from `http://user:pass@host`.
    pub authorization: Option<HeaderValue>,
}

/// The base of a user's relative paths (`-H http://user:pass@h/api`).
#[derive(Debug, Clone)]
pub struct Base {
    pub origin: Origin,
    /// The base path without trailing slash (`/api`), joined before relative paths.
    pub path: String,
    pub authorization: Option<HeaderValue>,
}

impl Origin {
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// `scheme://authority` for messages and cookie matching.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            self.scheme(),
            String::from_utf8_lossy(self.authority.as_bytes())
        )
    }

    fn default_port(&self) -> bool {
        self.port == if self.tls { 443 } else { 80 }
    }
}

impl Target {
    /// The absolute URL, as requests reports it (`http://host:8080/path?query`).
    pub fn url(&self) -> String {
        format!("{}{}", self.origin.base_url(), self.path.as_str())
    }
}

impl Base {
    /// Parses `http(s)://[user:pass@]host[:port][/base]`.
    pub fn parse(text: &str) -> Result<Base, String> {
        let target = parse_url(text)?;
        let path = target.path.path().trim_end_matches('/').to_string();
        Ok(Base {
            origin: target.origin,
            path,
            authorization: target.authorization,
        })
    }

    /// Resolves a step URL: an absolute URL stands alone; a path is joined to the base
    /// (and its base path), as Locust's session joins `host + path`.
    pub fn resolve(&self, url: &str) -> Result<Target, String> {
        if is_absolute(url) {
            return parse_url(url);
        }
        let path = if self.path.is_empty() {
            if url.starts_with('/') {
                parse_path(url)?
            } else {
                parse_path(&format!("/{url}"))?
            }
        } else if url.starts_with('/') {
            parse_path(&format!("{}{url}", self.path))?
        } else {
            parse_path(&format!("{}/{url}", self.path))?
        };
        Ok(Target {
            origin: self.origin.clone(),
            path,
            authorization: self.authorization.clone(),
        })
    }
}

fn is_absolute(url: &str) -> bool {
    let starts = |prefix: &str| {
        url.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts("http://") || starts("https://")
}

/// An absolute http(s) URL.
pub fn parse_url(text: &str) -> Result<Target, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("invalid URL '{text}': {e}"))?;
    from_url(&url).map_err(|e| format!("invalid URL '{text}': {e}"))
}

/// Where a `Location` leads from `current`: resolved by RFC 3986 (relative paths,
/// `../`, `?query` and `//host` forms), non-ASCII and spaces percent-encoded.
pub fn redirect(current: &Target, location: &[u8]) -> Result<Target, String> {
    // requests reads the header as latin-1 and then as UTF-8 where it can.
    let location = match std::str::from_utf8(location) {
        Ok(text) => text.to_string(),
        Err(_) => location.iter().map(|&b| char::from(b)).collect(),
    };
    let base = Url::parse(&format!(
        "{}{}",
        current.origin.base_url(),
        current.path.as_str()
    ))
    .map_err(|e| format!("invalid URL: {e}"))?;
    let next = base
        .join(location.trim())
        .map_err(|e| format!("invalid redirect location '{location}': {e}"))?;
    from_url(&next).map_err(|e| format!("invalid redirect location '{location}': {e}"))
}

fn from_url(url: &Url) -> Result<Target, String> {
    let tls = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(format!("the scheme must be http or https, not {other}")),
    };
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("no host")?;
    let port = url
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let origin = Origin {
        tls,
        host: Arc::from(host.trim_start_matches('[').trim_end_matches(']')),
        port,
        authority: HeaderValue::from_str(&authority).map_err(|e| e.to_string())?,
    };
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let path = unquote_unreserved(if path.is_empty() { "/" } else { path });
    let path = PathAndQuery::from_str(&path).map_err(|e| e.to_string())?;
    Ok(Target {
        origin,
        path,
        authorization: basic_auth(url),
    })
}

/// `Authorization: Basic` from the URL's user info, percent-decoded as requests does.
fn basic_auth(url: &Url) -> Option<HeaderValue> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| percent_decode(s);
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or(""))
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
    HeaderValue::from_str(&format!("Basic {encoded}")).ok()
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// requests' `unquote_unreserved`: `%XX` escapes of letters, digits and `-._~` become
/// the character; every other escape stays as written.
fn unquote_unreserved(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = &text[i + 1..i + 3];
            if let Ok(value) = u8::from_str_radix(hex, 16) {
                let c = char::from(value);
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
                    out.push(c);
                    i += 3;
                    continue;
                }
            }
        }
        let c = text[i..].chars().next().unwrap_or('%');
        out.push(c);
        i += c.len_utf8();
    }
    Cow::Owned(out)
}

/// requests' rule for dropping credentials on a redirect: another host, or another
/// scheme or port — except http:80 to https:443 on the same host.
pub fn crosses_origin(from: &Origin, to: &Origin) -> bool {
    if !from.host.eq_ignore_ascii_case(&to.host) {
        return true;
    }
    if !from.tls && to.tls && from.default_port() && to.default_port() {
        return false;
    }
    from.tls != to.tls || from.port != to.port
}

/// A path as given when it is valid ASCII in a request line; otherwise percent-encoded
/// the way requests would (spaces become `%20`, non-ASCII its UTF-8 bytes). As requests
/// does, escapes of unreserved characters are decoded (`%41` is sent as `A`).
fn parse_path(path: &str) -> Result<PathAndQuery, String> {
    let path = unquote_unreserved(path);
    let path = path.as_ref();
    if path.is_ascii() {
        if let Ok(parsed) = PathAndQuery::from_str(path) {
            return Ok(parsed);
        }
    }
    let joined = Url::parse("http://placeholder")
        .and_then(|base| base.join(path))
        .map_err(|e| format!("invalid path '{path}': {e}"))?;
    let encoded = &joined[url::Position::BeforePath..url::Position::AfterQuery];
    PathAndQuery::from_str(encoded).map_err(|e| format!("invalid path '{path}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str) -> Base {
        Base::parse(url).unwrap()
    }

    fn hop(from: &str, location: &str) -> String {
        let current = parse_url(from).unwrap();
        let next = redirect(&current, location.as_bytes()).unwrap();
        format!("{}{}", next.origin.base_url(), next.path)
    }

    #[test]
    fn origins_know_their_default_ports() {
        let o = base("http://localhost:8080").origin;
        assert_eq!((o.tls, &*o.host, o.port), (false, "localhost", 8080));
        assert_eq!(o.authority, "localhost:8080");
        let s = base("https://example.test/api/");
        assert_eq!(
            (s.origin.tls, s.origin.port, s.path.as_str()),
            (true, 443, "/api")
        );
        assert_eq!(s.origin.authority, "example.test");
        assert_eq!(base("http://h:80").origin.authority, "h");
        let v6 = base("http://[::1]:9000").origin;
        assert_eq!(
            (&*v6.host, v6.authority.to_str().unwrap()),
            ("::1", "[::1]:9000")
        );
        assert!(Base::parse("ftp://x").is_err());
        assert!(Base::parse("localhost:80").is_err());
    }

    #[test]
    fn url_credentials_become_basic_auth() {
        let b = base("http://user:p%40ss@h:1/api");
        assert_eq!(b.origin.authority, "h:1");
        // base64("user:p@ss")
        assert_eq!(b.authorization.unwrap(), "Basic dXNlcjpwQHNz");
        assert_eq!(b.path, "/api");
        assert!(base("http://h:1").authorization.is_none());
    }

    #[test]
    fn paths_join_like_locust_sessions() {
        let b = base("http://h:1");
        assert_eq!(b.resolve("/a?b=1").unwrap().path, "/a?b=1");
        assert_eq!(b.resolve("a").unwrap().path, "/a");
        let api = base("http://h:1/api");
        assert_eq!(api.resolve("/users").unwrap().path, "/api/users");
        let other = b.resolve("http://o:2/x?y").unwrap();
        assert_eq!((other.origin.port, other.path.as_str()), (2, "/x?y"));
        assert_eq!(&*b.resolve("HTTP://o:2/").unwrap().origin.host, "o");
    }

    #[test]
    fn invalid_and_non_ascii_characters_are_percent_encoded() {
        let b = base("http://h:1");
        assert_eq!(
            b.resolve("/users?name=a b").unwrap().path,
            "/users?name=a%20b"
        );
        assert_eq!(b.resolve("/caf\u{e9} x").unwrap().path, "/caf%C3%A9%20x");
    }

    #[test]
    fn escapes_of_unreserved_characters_are_decoded_as_requests_does() {
        assert_eq!(unquote_unreserved("/q?a=1&b=%41"), "/q?a=1&b=A");
        assert_eq!(unquote_unreserved("/%7e%2F%20x%"), "/~%2F%20x%");
        assert_eq!(unquote_unreserved("/%zz%4"), "/%zz%4");
        assert_eq!(
            base("http://h:1").resolve("/e?b=%41&c=%2f").unwrap().path,
            "/e?b=A&c=%2f"
        );
        assert_eq!(
            hop("http://h:1/", "/echo/q?a=1&b=%41"),
            "http://h:1/echo/q?a=1&b=A"
        );
    }

    #[test]
    fn redirects_resolve_by_rfc_3986() {
        assert_eq!(hop("http://h:1/sub/rrel", "x?y=1"), "http://h:1/sub/x?y=1");
        assert_eq!(
            hop("http://h:1/sub/rrel", "../echo/dd"),
            "http://h:1/echo/dd"
        );
        assert_eq!(hop("http://h:1/sub/rrel", "//o:2/p"), "http://o:2/p");
        assert_eq!(
            hop("http://h:1/api/users", "/echo/abs"),
            "http://h:1/echo/abs"
        );
        assert_eq!(hop("http://h:1/a", "https://s.test/b"), "https://s.test/b");
        assert_eq!(
            hop("http://h:1/a", "?only=query"),
            "http://h:1/a?only=query"
        );
        assert_eq!(
            hop("http://h:1/a", "/caf\u{e9} x#frag"),
            "http://h:1/caf%C3%A9%20x"
        );
        let latin1 = redirect(&parse_url("http://h:1/").unwrap(), b"/caf\xe9").unwrap();
        assert_eq!(latin1.path, "/caf%C3%A9");
        assert!(redirect(&parse_url("http://h:1/").unwrap(), b"ftp://x/").is_err());
    }

    #[test]
    fn credentials_cross_origins_as_requests_decides() {
        let o = |u: &str| parse_url(u).unwrap().origin;
        assert!(!crosses_origin(&o("http://h/a"), &o("http://h:80/b")));
        assert!(!crosses_origin(&o("http://h/a"), &o("https://h/b")));
        assert!(crosses_origin(&o("https://h/a"), &o("http://h/b")));
        assert!(crosses_origin(&o("http://h:1/a"), &o("http://h:2/b")));
        assert!(crosses_origin(&o("http://h:1/a"), &o("http://g:1/b")));
        assert!(!crosses_origin(&o("http://H:1/a"), &o("http://h:1/b")));
    }
}
