//! Where a request goes: the base host (`-H` or the class's `host`) parsed once per
//! user into an `Origin`, and each step's URL (relative path or absolute URL) resolved
//! against it without building a full URL string on the hot path.

use std::str::FromStr;

use http::uri::{PathAndQuery, Scheme};
use http::HeaderValue;

/// Scheme, host and port of a server: what a connection is opened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// The `Host` header value (`host` or `host:port` when not the default port).
    pub authority: HeaderValue,
    /// The base path of the host URL (`http://h/api` -> `/api`), without trailing slash.
    pub base_path: String,
}

impl Origin {
    /// Parses `http(s)://host[:port][/base]`.
    pub fn parse(url: &str) -> Result<Origin, String> {
        let uri = http::Uri::from_str(url).map_err(|e| format!("invalid URL '{url}': {e}"))?;
        let tls = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            _ => {
                return Err(format!(
                    "invalid URL '{url}': the scheme must be http or https"
                ))
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("invalid URL '{url}': no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let header = HeaderValue::from_str(authority.as_str())
            .map_err(|e| format!("invalid URL '{url}': {e}"))?;
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Origin {
            tls,
            host: host.to_string(),
            port,
            authority: header,
            base_path,
        })
    }

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
            self.authority.to_str().unwrap_or_default()
        )
    }
}

/// Resolves a step URL: an absolute URL gets its own origin; a path is joined to the
/// base origin (and its base path), as requests' session joins `host + path`.
pub fn resolve(base: &Origin, url: &str) -> Result<(Option<Origin>, PathAndQuery), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        let origin = Origin::parse(url)?;
        let uri = http::Uri::from_str(url).map_err(|e| format!("invalid URL '{url}': {e}"))?;
        let path = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        return Ok((Some(origin), path));
    }
    let path = if base.base_path.is_empty() {
        if url.starts_with('/') {
            parse_path(url)?
        } else {
            parse_path(&format!("/{url}"))?
        }
    } else if url.starts_with('/') {
        parse_path(&format!("{}{url}", base.base_path))?
    } else {
        parse_path(&format!("{}/{url}", base.base_path))?
    };
    Ok((None, path))
}

/// A path as given when it is valid in a request line; otherwise percent-encoded the
/// way a browser (and requests) would, e.g. spaces become `%20`.
fn parse_path(path: &str) -> Result<PathAndQuery, String> {
    if let Ok(parsed) = PathAndQuery::from_str(path) {
        return Ok(parsed);
    }
    let joined = url::Url::parse("http://placeholder")
        .and_then(|base| base.join(path))
        .map_err(|e| format!("invalid path '{path}': {e}"))?;
    let encoded = match joined.query() {
        Some(query) => format!("{}?{query}", joined.path()),
        None => joined.path().to_string(),
    };
    PathAndQuery::from_str(&encoded).map_err(|e| format!("invalid path '{path}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_know_their_default_ports() {
        let o = Origin::parse("http://localhost:8080").unwrap();
        assert_eq!((o.tls, o.host.as_str(), o.port), (false, "localhost", 8080));
        assert_eq!(o.authority, "localhost:8080");
        let s = Origin::parse("https://example.test/api/").unwrap();
        assert_eq!((s.tls, s.port, s.base_path.as_str()), (true, 443, "/api"));
        assert!(Origin::parse("ftp://x").is_err());
        assert!(Origin::parse("localhost:80").is_err());
    }

    #[test]
    fn paths_join_like_requests_sessions() {
        let base = Origin::parse("http://h:1").unwrap();
        assert_eq!(resolve(&base, "/a?b=1").unwrap().1, "/a?b=1");
        assert_eq!(resolve(&base, "a").unwrap().1, "/a");
        let api = Origin::parse("http://h:1/api").unwrap();
        assert_eq!(resolve(&api, "/users").unwrap().1, "/api/users");
        let (other, path) = resolve(&base, "http://o:2/x?y").unwrap();
        assert_eq!(other.unwrap().port, 2);
        assert_eq!(path, "/x?y");
    }

    #[test]
    fn invalid_characters_are_percent_encoded() {
        let base = Origin::parse("http://h:1").unwrap();
        assert_eq!(
            resolve(&base, "/users?name=a b").unwrap().1,
            "/users?name=a%20b"
        );
    }
}
