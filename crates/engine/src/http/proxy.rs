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
mod tests;
