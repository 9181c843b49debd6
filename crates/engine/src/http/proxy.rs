//! Proxies as requests finds and uses them: HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY (or
//! `--proxy`/`--noproxy`) read once per run, which target goes through which proxy, and the
//! CONNECT tunnel opened through an http:// proxy for an https:// target.

use std::net::IpAddr;

use base64::Engine as _;
use http::HeaderValue;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// An http:// proxy: plain TCP to it, then CONNECT (https targets) or absolute-form
/// requests (http targets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// Host name or IP address (an IPv6 address without brackets).
    pub host: String,
    pub port: u16,
    /// `Basic ...` from the proxy URL's userinfo (percent-decoded); marked sensitive.
    pub authorization: Option<HeaderValue>,
    /// `http://host:port`, without credentials.
    pub url_for_messages: String,
}

/// Which proxy each kind of target goes through, and which hosts go direct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    http: Option<Proxy>,
    https: Option<Proxy>,
    no_proxy: NoProxy,
}

/// A proxy URL that cannot be used, naming the variable (`HTTPS_PROXY=socks5://h:1080: ...`)
/// or flag (`--proxy socks5://h:1080: ...`) that held it. A password in it is shown as `***`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ProxyError {
    /// `VAR=value` or `--flag value`.
    pub setting: String,
    pub problem: ProxyProblem,
}

/// What is wrong with a proxy URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyProblem {
    #[error("SOCKS proxies are not supported; use an http:// proxy")]
    Socks,
    #[error("https:// proxies (TLS to the proxy) are not supported; use an http:// proxy")]
    Https,
    #[error("unsupported proxy scheme '{0}'; use an http:// proxy")]
    Scheme(String),
    #[error("not a valid proxy URL: {0}")]
    Invalid(String),
    #[error("the proxy URL has no host")]
    NoHost,
}

/// Where a proxy URL came from, for messages.
#[derive(Debug, Clone, Copy)]
enum Source {
    Env(&'static str),
    Flag(&'static str),
}

impl ProxySettings {
    /// From HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY, via `env` (`|k| std::env::var(k).ok()`
    /// in the binary). As urllib's `getproxies_environment`: the lowercase name wins when it
    /// is set at all (an empty `https_proxy` hides `HTTPS_PROXY`), empty values are unset,
    /// ALL_PROXY serves a scheme that has no variable of its own, and HTTP_PROXY is ignored
    /// when REQUEST_METHOD is set (a CGI request could have set it: httpoxy).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyError> {
        let no_proxy = no_proxy_from_env(&env);
        let (http, https) = env_proxies(&env, &no_proxy)?;
        Ok(ProxySettings {
            http,
            https,
            no_proxy,
        })
    }

    /// An explicit --proxy URL (used for both schemes; an empty one means direct) and
    /// --noproxy list override the environment; what is not given comes from it. The
    /// bypass list applies to an explicit proxy too, as curl applies it.
    pub fn explicit(
        proxy: Option<&str>,
        no_proxy: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ProxyError> {
        let no_proxy = match no_proxy {
            Some(list) => NoProxy::parse(list),
            None => no_proxy_from_env(&env),
        };
        let (http, https) = match proxy {
            Some(url) if url.trim().is_empty() => (None, None),
            Some(url) => {
                let proxy = Proxy::parse(url, Source::Flag("--proxy"))?;
                (Some(proxy.clone()), Some(proxy))
            }
            None => env_proxies(&env, &no_proxy)?,
        };
        Ok(ProxySettings {
            http,
            https,
            no_proxy,
        })
    }

    /// The proxy to use for a target, or None (direct). `host` as in the URL (an IPv6
    /// address with or without brackets); `port` the effective port.
    pub fn for_target(&self, tls: bool, host: &str, port: u16) -> Option<&Proxy> {
        let proxy = if tls { &self.https } else { &self.http };
        let proxy = proxy.as_ref()?;
        (!self.no_proxy.matches(host, port)).then_some(proxy)
    }
}

/// A proxy variable as urllib reads it: the lowercase name wins when set at all.
fn proxy_var(
    env: &impl Fn(&str) -> Option<String>,
    lower: &'static str,
    upper: &'static str,
    ignore_upper: bool,
) -> Option<(&'static str, String)> {
    match env(lower) {
        Some(value) if value.is_empty() => None,
        Some(value) => Some((lower, value)),
        None if ignore_upper => None,
        None => env(upper)
            .filter(|v| !v.is_empty())
            .map(|value| (upper, value)),
    }
}

/// NO_PROXY as requests reads it: `no_proxy`, or `NO_PROXY` when that is unset or empty.
fn no_proxy_from_env(env: &impl Fn(&str) -> Option<String>) -> NoProxy {
    let list = env("no_proxy")
        .filter(|v| !v.is_empty())
        .or_else(|| env("NO_PROXY"));
    NoProxy::parse(list.as_deref().unwrap_or(""))
}

fn env_proxies(
    env: &impl Fn(&str) -> Option<String>,
    no_proxy: &NoProxy,
) -> Result<(Option<Proxy>, Option<Proxy>), ProxyError> {
    if no_proxy.all {
        // Nothing goes through a proxy, so none is parsed (or refused).
        return Ok((None, None));
    }
    let cgi = env("REQUEST_METHOD").is_some();
    let all = proxy_var(env, "all_proxy", "ALL_PROXY", false);
    let http = proxy_var(env, "http_proxy", "HTTP_PROXY", cgi).or_else(|| all.clone());
    let https = proxy_var(env, "https_proxy", "HTTPS_PROXY", false).or(all);
    let parse = |var: Option<(&'static str, String)>| {
        var.map(|(name, value)| Proxy::parse(&value, Source::Env(name)))
            .transpose()
    };
    Ok((parse(http)?, parse(https)?))
}

impl Proxy {
    /// `[http://][user:password@]host[:port][/...]`; a URL without a scheme is http://, as
    /// in requests, and the port defaults to 80 (urllib3's default for an http proxy).
    fn parse(value: &str, source: Source) -> Result<Proxy, ProxyError> {
        let error = |problem| ProxyError {
            setting: match source {
                Source::Env(name) => format!("{name}={}", redact(value)),
                Source::Flag(name) => format!("{name} {}", redact(value)),
            },
            problem,
        };
        let trimmed = value.trim();
        let url = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("http://{trimmed}")
        };
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .unwrap_or_default();
        match scheme.as_str() {
            "http" => {}
            "https" => return Err(error(ProxyProblem::Https)),
            "socks4" | "socks4a" | "socks5" | "socks5h" => return Err(error(ProxyProblem::Socks)),
            _ => return Err(error(ProxyProblem::Scheme(scheme))),
        }
        let parsed =
            url::Url::parse(&url).map_err(|e| error(ProxyProblem::Invalid(e.to_string())))?;
        let (host, url_host) = match parsed.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => {
                (name.to_string(), name.to_string())
            }
            Some(url::Host::Ipv4(addr)) => (addr.to_string(), addr.to_string()),
            Some(url::Host::Ipv6(addr)) => (addr.to_string(), format!("[{addr}]")),
            _ => return Err(error(ProxyProblem::NoHost)),
        };
        let port = parsed.port_or_known_default().unwrap_or(80);
        Ok(Proxy {
            host,
            port,
            authorization: basic_authorization(&url),
            url_for_messages: format!("http://{url_host}:{port}"),
        })
    }
}

/// `scheme://authority/rest` split into (`scheme://`, `authority`, `/rest`).
fn authority(url: &str) -> (&str, &str, &str) {
    let (prefix, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    (prefix, authority, tail)
}

/// `Basic base64(user:password)` as requests builds it from a proxy URL: percent-decoded
/// (as UTF-8), then Latin-1 encoded (text beyond Latin-1, which requests refuses, is sent
/// as UTF-8). As in requests, a user name without a `:password` part sends no header.
fn basic_authorization(url: &str) -> Option<HeaderValue> {
    let (_, authority, _) = authority(url);
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let latin1 = |s: &str| {
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .unwrap_or_else(|| s.as_bytes().to_vec())
    };
    let user = decode(user);
    if user.is_empty() {
        return None;
    }
    let mut credentials = latin1(&user);
    credentials.push(b':');
    credentials.extend(latin1(&decode(password)));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A proxy URL for messages: the password, if any, becomes `***`.
fn redact(url: &str) -> String {
    let (prefix, authority, tail) = authority(url);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{prefix}{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The NO_PROXY list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NoProxy {
    /// `*`: every host goes direct.
    all: bool,
    entries: Vec<Bypass>,
}

/// One NO_PROXY entry (`port` limits it to that port).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bypass {
    /// A host name: matches itself and its subdomains (`example.com` and `.example.com`
    /// both match `example.com` and `a.example.com`, not `badexample.com`).
    Domain { name: String, port: Option<u16> },
    /// An IP address (a network of one) or a CIDR network: matches addresses in it.
    Network {
        addr: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
}

impl NoProxy {
    /// Comma-separated, whitespace trimmed, case-insensitive. Entries that cannot match
    /// anything (a bad CIDR, a bad port) are skipped rather than refused: NO_PROXY is often
    /// set for other tools too.
    fn parse(list: &str) -> NoProxy {
        let mut no_proxy = NoProxy::default();
        for entry in list.split(',') {
            let entry = entry.trim().to_ascii_lowercase();
            if entry == "*" {
                no_proxy.all = true;
            } else if let Some(bypass) = Bypass::parse(&entry) {
                no_proxy.entries.push(bypass);
            }
        }
        no_proxy
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match entry {
            Bypass::Network {
                addr,
                prefix,
                port: only,
            } => {
                only.is_none_or(|p| p == port)
                    && ip.is_some_and(|ip| in_network(ip, *addr, *prefix))
            }
            Bypass::Domain { name, port: only } => {
                only.is_none_or(|p| p == port)
                    && ip.is_none()
                    && (host == *name
                        || host
                            .strip_suffix(name.as_str())
                            .is_some_and(|sub| sub.ends_with('.')))
            }
        })
    }
}

impl Bypass {
    fn parse(entry: &str) -> Option<Bypass> {
        let whole = |addr: IpAddr| if addr.is_ipv4() { 32 } else { 128 };
        if let Some((addr, prefix)) = entry.split_once('/') {
            let addr: IpAddr = addr
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            return (prefix <= whole(addr)).then_some(Bypass::Network {
                addr,
                prefix,
                port: None,
            });
        }
        if let Ok(addr) = entry.parse::<IpAddr>() {
            return Some(Bypass::Network {
                addr,
                prefix: whole(addr),
                port: None,
            });
        }
        if let Some(rest) = entry.strip_prefix('[') {
            let (addr, after) = rest.split_once(']')?;
            let addr: IpAddr = addr.parse().ok()?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?.parse().ok()?),
            };
            return Some(Bypass::Network {
                addr,
                prefix: whole(addr),
                port,
            });
        }
        let (host, port) = match entry.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
            None => (entry, None),
        };
        if let Ok(addr) = host.parse::<IpAddr>() {
            return Some(Bypass::Network {
                addr,
                prefix: whole(addr),
                port,
            });
        }
        // `.example.com` and `*.example.com` mean `example.com` and its subdomains.
        let name = host
            .strip_prefix('*')
            .unwrap_or(host)
            .trim_start_matches('.')
            .trim_end_matches('.');
        (!name.is_empty()).then(|| Bypass::Domain {
            name: name.to_string(),
            port,
        })
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// The most a proxy's answer to CONNECT may take, status line and headers.
pub const MAX_TUNNEL_HEAD: usize = 64 * 1024;

/// Why a CONNECT tunnel could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("cannot talk to the proxy: {0}")]
    Io(#[from] std::io::Error),
    /// The proxy answered, but not with 2xx. The text is Python's http.client's.
    #[error("Tunnel connection failed: {status} {reason}")]
    Refused { status: u16, reason: String },
    #[error("the proxy closed the connection before answering CONNECT")]
    Closed,
    #[error("the proxy's answer to CONNECT is not HTTP: {0}")]
    Malformed(httparse::Error),
    #[error("the proxy's answer to CONNECT is longer than {} KB", MAX_TUNNEL_HEAD / 1024)]
    TooLarge,
    #[error("the proxy sent data after its answer to CONNECT, before the client spoke")]
    UnexpectedData,
}

/// Sends `CONNECT host:port HTTP/1.1` (with `Host`, and `Proxy-Authorization` when given)
/// and reads the proxy's answer head, at most [`MAX_TUNNEL_HEAD`] bytes, parsed with
/// httparse. Ok when 2xx, after which the stream is the tunnel; the head is read in chunks
/// as it arrives, never sized by what the proxy announces.
pub async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    port: u16,
    auth: Option<&HeaderValue>,
) -> Result<(), TunnelError> {
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = Vec::with_capacity(128);
    for part in [
        "CONNECT ",
        authority.as_str(),
        " HTTP/1.1\r\nHost: ",
        authority.as_str(),
        "\r\n",
    ] {
        request.extend_from_slice(part.as_bytes());
    }
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await?;
    stream.flush().await?;

    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let room = MAX_TUNNEL_HEAD - head.len();
        if room == 0 {
            return Err(TunnelError::TooLarge);
        }
        let limit = room.min(chunk.len());
        let n = stream.read(&mut chunk[..limit]).await?;
        if n == 0 {
            return Err(TunnelError::Closed);
        }
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&head) {
            Ok(httparse::Status::Partial) => continue,
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                if !(200..300).contains(&status) {
                    return Err(TunnelError::Refused {
                        status,
                        reason: response.reason.unwrap_or("").trim().to_string(),
                    });
                }
                // The client speaks first in the tunnel, so nothing may follow yet; bytes
                // read past the head would be lost to the caller.
                if head.len() > len {
                    return Err(TunnelError::UnexpectedData);
                }
                return Ok(());
            }
            Err(e) => return Err(TunnelError::Malformed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
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
        let s = ProxySettings::explicit(Some("flag:3128"), Some("other.test"), env(&environment))
            .unwrap();
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
        let err = ProxySettings::from_env(env(&[("HTTPS_PROXY", "socks5://127.0.0.1:1080")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "HTTPS_PROXY=socks5://127.0.0.1:1080: SOCKS proxies are not supported; use an http:// proxy"
        );
        let err = ProxySettings::from_env(env(&[("all_proxy", "socks5h://u:secret@h:1080")]))
            .unwrap_err();
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
}
