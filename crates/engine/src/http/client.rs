//! One user's HTTP session, like a requests `Session` in Locust's HttpUser: its own
//! keep-alive connection per origin, its own cookie jar (made only when a server sets a
//! cookie), redirects followed as requests follows them (credentials kept to their
//! origin), a stale connection retried only when that cannot repeat a request the
//! server acted on, and the whole exchange — body included — timed.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cookie_store::CookieStore;
use http::header::{self, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method};

use super::connection::{Connector, Route, Stream};
use super::errors::{self, Context};
use super::proxy::ProxySettings;
use super::target::{self, Base, Origin, Target};
use super::tls::TlsOptions;
use super::wire::encode::{DefaultHeaders, RequestHead};
use super::wire::{self, Limits, WireError};

mod jar;

/// The HTTP choices of a run (flags and config keys).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub timeouts: Timeouts,
    /// requests' default is 30.
    pub max_redirects: usize,
    /// The largest decoded body kept for checks and extraction.
    pub max_body: u64,
    pub user_agent: HeaderValue,
    pub tls: TlsOptions,
    pub proxies: ProxySettings,
}

impl HttpOptions {
    /// Defaults with both timeouts set to `timeout`, no proxy, verified TLS.
    pub fn with_timeout(timeout: Duration) -> Self {
        HttpOptions {
            timeouts: Timeouts {
                connect: timeout,
                read: timeout,
            },
            max_redirects: 30,
            max_body: 64 * 1024 * 1024,
            user_agent: HeaderValue::from_static(concat!("locust-rs/", env!("CARGO_PKG_VERSION"))),
            tls: TlsOptions::default(),
            proxies: ProxySettings::default(),
        }
    }
}

/// requests' `timeout=(connect, read)`: the longest wait for a connection, and for
/// each read of the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
}

/// What all users of a run share.
pub struct ClientFactory {
    connector: Connector,
    defaults: DefaultHeaders,
    timeouts: Timeouts,
    max_redirects: usize,
    max_body: u64,
}

impl ClientFactory {
    /// The run's timeouts with a request's own in place of either; None when the request
    /// sets neither.
    pub fn timeouts_with(
        &self,
        connect: Option<Duration>,
        read: Option<Duration>,
    ) -> Option<Timeouts> {
        if connect.is_none() && read.is_none() {
            return None;
        }
        Some(Timeouts {
            connect: connect.unwrap_or(self.timeouts.connect),
            read: read.unwrap_or(self.timeouts.read),
        })
    }

    /// Fails when the TLS files cannot be used (the message names the file).
    pub fn new(options: HttpOptions) -> Result<Arc<Self>, String> {
        Ok(Arc::new(ClientFactory {
            connector: Connector::new(&options.tls, options.proxies)?,
            defaults: DefaultHeaders::new(options.user_agent),
            timeouts: options.timeouts,
            max_redirects: options.max_redirects,
            max_body: options.max_body,
        }))
    }
}

/// What came back from one request, with the time Locust would record.
pub struct Exchange {
    pub elapsed: Duration,
    pub result: Result<Received, String>,
}

pub struct Received {
    pub status: u16,
    /// The reason phrase as the server sent it (requests' `response.reason`).
    pub reason: std::borrow::Cow<'static, str>,
    pub headers: HeaderMap,
    /// The decoded body when the request asked to keep it; empty otherwise.
    pub body: Bytes,
    /// The decoded length (what Locust records as the response length).
    pub length: u64,
    /// Where the last redirect led (None when the answer came from the request's own
    /// URL): boxed so that the usual answer carries one pointer, not a whole target.
    pub redirected_to: Option<Box<Target>>,
}

/// A request as the engine hands it over.
pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a Bytes>,
    /// Keep the body for checks; otherwise it is counted and dropped as it streams.
    pub keep_body: bool,
    /// `allow_redirects`: None follows them, except for HEAD (as requests does).
    pub follow_redirects: Option<bool>,
    /// This request's own timeouts, else the run's.
    pub timeouts: Option<Timeouts>,
    /// The request's own cookies (`a=1; b=2`), sent after the jar's on every hop and
    /// never stored, as requests' `cookies=`.
    pub cookies: Option<&'a str>,
}

/// One simulated user's connections and cookies.
pub struct UserClient {
    factory: Arc<ClientFactory>,
    base: Base,
    /// Open connections by origin; a user rarely talks to more than one.
    connections: Vec<(Origin, Stream)>,
    cookies: Option<Box<CookieStore>>,
}

/// One hop of a request: where it goes and what it carries.
struct Hop<'h> {
    target: Target,
    method: Method,
    headers: Cow<'h, HeaderMap>,
    body: Option<Bytes>,
}

impl UserClient {
    pub fn new(factory: Arc<ClientFactory>, host: &str) -> Result<Self, String> {
        Ok(UserClient {
            base: Base::parse(host)?,
            factory,
            connections: Vec::new(),
            cookies: None,
        })
    }

    /// The absolute URL an answer came from (Locust's `response.url`): where the last
    /// redirect led, else `url` resolved against the user's host.
    pub fn final_url(&self, url: &str, received: &Received) -> String {
        match &received.redirected_to {
            Some(target) => target.url(),
            None => self
                .base
                .resolve(url)
                .map_or_else(|_| url.to_string(), |target| target.url()),
        }
    }

    /// Sends the request, follows redirects and reads the body, all inside the timer.
    pub async fn exchange(&mut self, request: Outgoing<'_>) -> Exchange {
        let started = Instant::now();
        // Boxed so that the user's own future stays small while it sits idle.
        let result = Box::pin(self.follow(request)).await;
        Exchange {
            elapsed: started.elapsed(),
            result,
        }
    }

    async fn follow(&mut self, request: Outgoing<'_>) -> Result<Received, String> {
        let timeouts = request.timeouts.unwrap_or(self.factory.timeouts);
        let follow = request
            .follow_redirects
            .unwrap_or(*request.method != Method::HEAD);
        let mut hop = Hop {
            target: self.base.resolve(request.url)?,
            method: request.method.clone(),
            headers: Cow::Borrowed(request.headers),
            body: request.body.cloned(),
        };
        let mut hops = 0;
        loop {
            let received = self
                .send(&hop, request.keep_body, timeouts, request.cookies)
                .await?;
            // requests follows no empty Location.
            let location = received
                .headers
                .get(LOCATION)
                .filter(|l| follow && !l.as_bytes().trim_ascii().is_empty());
            let Some(location) = location.filter(|_| is_redirect(received.status)) else {
                let redirected_to = (hops > 0).then(|| Box::new(hop.target));
                return Ok(Received {
                    redirected_to,
                    ..received
                });
            };
            if hops >= self.factory.max_redirects {
                return Err(errors::too_many_redirects(self.factory.max_redirects));
            }
            let next = target::redirect(&hop.target, location.as_bytes())?;
            hop = next_hop(hop, next, received.status);
            hops += 1;
        }
    }

    /// One request on a connection to its origin. A reused connection that closed
    /// before any answer is retried once, for methods that are safe to repeat.
    async fn send(
        &mut self,
        hop: &Hop<'_>,
        keep_body: bool,
        timeouts: Timeouts,
        own_cookies: Option<&str>,
    ) -> Result<Received, String> {
        let origin = &hop.target.origin;
        let path = &hop.target.path;
        // requests adds no cookie (the jar's or the request's own) to a request that
        // has a Cookie header of its own: that header is sent as it is.
        let cookie = if hop.headers.contains_key(header::COOKIE) {
            None
        } else {
            jar::with_own(self.cookie_header(origin, path), own_cookies)
        };
        let body = hop.body.as_deref().unwrap_or_default();
        let factory = self.factory.clone();
        let route = factory.connector.route(origin);
        let absolute;
        let request_target = match route {
            // A forward proxy takes the whole URL in the request line.
            Route::Forward(_) => {
                absolute = format!("{}{}", origin.base_url(), path.as_str());
                absolute.as_str()
            }
            _ => path.as_str(),
        };
        let limits = Limits {
            read_timeout: timeouts.read,
            max_body: factory.max_body,
        };
        let context = Context {
            origin,
            timeouts,
            proxy: route.proxy(),
        };
        for attempt in 0..2 {
            let (mut stream, reused) = self.connection(origin, timeouts.connect, &context).await?;
            let head = RequestHead {
                method: &hop.method,
                target: request_target,
                host: &origin.authority,
                defaults: &factory.defaults,
                headers: &hop.headers,
                authorization: hop.target.authorization.as_ref(),
                proxy_authorization: route.forward_authorization(),
                cookie: cookie.as_deref(),
            };
            match wire::exchange(&mut stream, &head, body, keep_body, &limits).await {
                Ok(response) => {
                    if response.reusable {
                        self.connections.push((origin.clone(), stream));
                    }
                    self.store_cookies(origin, path, &response.headers);
                    return Ok(Received {
                        status: response.status,
                        reason: response.reason,
                        headers: response.headers,
                        body: response.body,
                        length: response.length,
                        redirected_to: None,
                    });
                }
                Err(WireError::NoResponse(_))
                    if reused && attempt == 0 && is_idempotent(&hop.method) =>
                {
                    continue
                }
                Err(error) => return Err(errors::wire(&error, &context)),
            }
        }
        Err(errors::remote_disconnected())
    }

    /// Takes the idle connection to `origin` (and whether it is reused), or opens one.
    async fn connection(
        &mut self,
        origin: &Origin,
        connect_timeout: Duration,
        context: &Context<'_>,
    ) -> Result<(Stream, bool), String> {
        while let Some(index) = self.connections.iter().position(|(o, _)| o == origin) {
            let (_, mut stream) = self.connections.swap_remove(index);
            if !stream.is_dropped() {
                return Ok((stream, true));
            }
        }
        // Boxed: a new connection is rare beside keep-alive, and its TLS handshake state
        // would otherwise make every request's future (moved at each request) large.
        let stream = Box::pin(
            self.factory
                .connector
                .connect(origin, connect_timeout, context),
        )
        .await?;
        Ok((stream, false))
    }

    fn cookie_header(&self, origin: &Origin, path: &http::uri::PathAndQuery) -> Option<String> {
        let jar = self.cookies.as_ref()?;
        let url = cookie_url(origin, path).ok()?;
        let cookie = jar
            .get_request_values(&url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        (!cookie.is_empty()).then_some(cookie)
    }

    fn store_cookies(
        &mut self,
        origin: &Origin,
        path: &http::uri::PathAndQuery,
        headers: &HeaderMap,
    ) {
        let mut set_cookies = headers.get_all(SET_COOKIE).iter().peekable();
        if set_cookies.peek().is_none() {
            return;
        }
        let Ok(url) = cookie_url(origin, path) else {
            return;
        };
        let jar = self.cookies.get_or_insert_with(Default::default);
        for value in set_cookies {
            if let Ok(text) = value.to_str() {
                let _ = jar.parse(text, &url);
            }
        }
    }
}

/// requests follows these (and only with a Location).
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// urllib3's methods that may be sent twice.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// The request after a redirect, as requests rebuilds it: 303 (and 302, and a POST
/// answered 301) become a GET; every redirect but 307/308 drops the body and its
/// headers; credentials and an explicit Host stay with their origin.
fn next_hop<'h>(hop: Hop<'h>, next: Target, status: u16) -> Hop<'h> {
    let mut method = hop.method;
    if (matches!(status, 302 | 303) && method != Method::HEAD)
        || (status == 301 && method == Method::POST)
    {
        method = Method::GET;
    }
    let drop_body = !matches!(status, 307 | 308);
    let cross = target::crosses_origin(&hop.target.origin, &next.origin);
    let mut headers = hop.headers;
    let strip: &[header::HeaderName] = match (cross, drop_body) {
        (false, false) => &[],
        (false, true) => &[
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
        ],
        (true, false) => &[
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
            header::HOST,
        ],
        (true, true) => &[
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
            header::HOST,
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
        ],
    };
    if strip.iter().any(|name| headers.contains_key(name)) {
        let owned = headers.to_mut();
        for name in strip {
            owned.remove(name);
        }
    }
    // URL credentials follow the URL: the new one's, or the old ones on the same origin.
    let authorization = next
        .authorization
        .clone()
        .or_else(|| (!cross).then_some(hop.target.authorization).flatten());
    Hop {
        target: Target {
            authorization,
            ..next
        },
        method,
        headers,
        body: if drop_body { None } else { hop.body },
    }
}

fn cookie_url(origin: &Origin, path: &http::uri::PathAndQuery) -> Result<url::Url, String> {
    url::Url::parse(&format!("{}{}", origin.base_url(), path.as_str()))
        .map_err(|e| format!("invalid URL: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop_from(url: &str, method: Method, headers: HeaderMap) -> Hop<'static> {
        Hop {
            target: target::parse_url(url).unwrap(),
            method,
            headers: Cow::Owned(headers),
            body: Some(Bytes::from_static(b"{}")),
        }
    }

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("authorization", "Bearer t"),
            ("cookie", "a=1"),
            ("content-type", "application/json"),
            ("host", "vhost"),
            ("x-keep", "1"),
        ] {
            h.insert(k, HeaderValue::from_static(v));
        }
        h
    }

    fn names(h: &HeaderMap) -> Vec<&str> {
        let mut n: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        n.sort();
        n
    }

    #[test]
    fn redirects_rebuild_the_request_as_requests_does() {
        let to = |u: &str| target::parse_url(u).unwrap();
        let same = next_hop(
            hop_from("http://h:1/a", Method::POST, headers()),
            to("http://h:1/b"),
            302,
        );
        assert_eq!(same.method, Method::GET);
        assert!(same.body.is_none());
        assert_eq!(
            names(&same.headers),
            ["authorization", "cookie", "host", "x-keep"]
        );
        let kept = next_hop(
            hop_from("http://h:1/a", Method::POST, headers()),
            to("http://h:1/b"),
            307,
        );
        assert_eq!((kept.method, kept.body.is_some()), (Method::POST, true));
        assert_eq!(names(&kept.headers).len(), 5);
        let cross = next_hop(
            hop_from("http://h:1/a", Method::PUT, headers()),
            to("http://o:1/b"),
            301,
        );
        assert_eq!(cross.method, Method::PUT);
        assert!(cross.body.is_none());
        assert_eq!(names(&cross.headers), ["x-keep"]);
        let cross_307 = next_hop(
            hop_from("http://h:1/a", Method::POST, headers()),
            to("http://h:2/b"),
            308,
        );
        assert_eq!(names(&cross_307.headers), ["content-type", "x-keep"]);
        let head = next_hop(
            hop_from("http://h:1/a", Method::HEAD, headers()),
            to("http://h:1/b"),
            303,
        );
        assert_eq!(head.method, Method::HEAD);
    }

    #[test]
    fn url_credentials_stay_on_their_origin() {
        let to = |u: &str| target::parse_url(u).unwrap();
        let start = hop_from("http://u:p@h:1/a", Method::GET, HeaderMap::new());
        assert!(start.target.authorization.is_some());
        let same = next_hop(start, to("http://h:1/b"), 302);
        assert!(same.target.authorization.is_some());
        let cross = next_hop(same, to("http://o:1/b"), 302);
        assert!(cross.target.authorization.is_none());
        let own = next_hop(cross, to("http://v:w@o:1/c"), 302);
        assert!(own.target.authorization.is_some());
    }
}
