//! One user's HTTP session, like a requests `Session` in Locust's HttpUser: its own
//! keep-alive connection per origin, its own cookie jar (made only when a server sets a
//! cookie), redirects followed, and the whole exchange — body included — timed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cookie_store::CookieStore;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::connection::{Connector, Stream};
use super::errors;
use super::target::{self, Origin};
use super::wire::{self, WireError};

/// Requests' default: at most 30 redirects; 10 is what browsers and reqwest use.
const MAX_REDIRECTS: usize = 10;

/// What all users of a run share.
pub struct ClientFactory {
    connector: Connector,
    timeout: Duration,
    user_agent: HeaderValue,
}

impl ClientFactory {
    pub fn new(timeout: Duration) -> Arc<Self> {
        Arc::new(ClientFactory {
            connector: Connector::new(),
            timeout,
            user_agent: HeaderValue::from_static(concat!("locust-rs/", env!("CARGO_PKG_VERSION"))),
        })
    }
}

/// What came back from one request, with the time Locust would record.
pub struct Exchange {
    pub elapsed: Duration,
    pub result: Result<Received, String>,
}

pub struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A request as the engine hands it over.
pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a Bytes>,
}

/// One simulated user's connections and cookies.
pub struct UserClient {
    factory: Arc<ClientFactory>,
    base: Origin,
    /// Open connections by origin; a user rarely talks to more than one.
    connections: Vec<(Origin, Stream)>,
    cookies: Option<Box<CookieStore>>,
}

impl UserClient {
    pub fn new(factory: Arc<ClientFactory>, host: &str) -> Result<Self, String> {
        Ok(UserClient {
            base: Origin::parse(host)?,
            factory,
            connections: Vec::new(),
            cookies: None,
        })
    }

    /// Sends the request, follows redirects and reads the body, all inside the timer.
    pub async fn exchange(&mut self, request: Outgoing<'_>) -> Exchange {
        let started = Instant::now();
        let limit = self.factory.timeout;
        // Boxed so that the user's own future stays small while it sits idle.
        let result = match tokio::time::timeout(limit, Box::pin(self.follow(request))).await {
            Ok(result) => result,
            Err(_) => {
                // The state of a timed-out connection is unknown: never reuse it.
                self.connections.clear();
                Err(errors::timeout(limit))
            }
        };
        Exchange {
            elapsed: started.elapsed(),
            result,
        }
    }

    async fn follow(&mut self, request: Outgoing<'_>) -> Result<Received, String> {
        let (origin, path) = target::resolve(&self.base, request.url)?;
        let mut origin = origin.unwrap_or_else(|| self.base.clone());
        let mut path = path;
        let mut method = request.method.clone();
        let mut body = request.body.cloned();
        for _ in 0..=MAX_REDIRECTS {
            let received = self
                .send(&origin, &path, &method, request.headers, body.clone())
                .await?;
            let status = StatusCode::from_u16(received.status).unwrap_or(StatusCode::OK);
            let location = received.headers.get(LOCATION).and_then(|l| l.to_str().ok());
            let redirect = status.is_redirection()
                && status != StatusCode::NOT_MODIFIED
                && method != Method::HEAD;
            let Some(location) = location.filter(|_| redirect) else {
                return Ok(received);
            };
            let (next_origin, next_path) = target::resolve(&origin, location)?;
            if let Some(next) = next_origin {
                origin = next;
            }
            path = next_path;
            // requests turns a 303 (and a POST answered 301/302) into a body-less GET.
            if status == StatusCode::SEE_OTHER
                || (method == Method::POST
                    && matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND))
            {
                method = Method::GET;
                body = None;
            }
        }
        Err(format!(
            "TooManyRedirects('Exceeded {MAX_REDIRECTS} redirects.')"
        ))
    }

    async fn send(
        &mut self,
        origin: &Origin,
        path: &http::uri::PathAndQuery,
        method: &Method,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Received, String> {
        let cookie = self.cookie_header(origin, path);
        let body = body.unwrap_or_default();
        // One retry, only when a reused connection closed before any answer came back.
        for attempt in 0..2 {
            let (mut stream, reused) = self.connection(origin).await?;
            let head = wire::Head {
                method,
                path: path.as_str(),
                host: &origin.authority,
                headers,
                cookie: cookie.as_deref(),
                user_agent: &self.factory.user_agent,
            };
            match wire::exchange(&mut stream, head, &body).await {
                Ok(response) => {
                    if response.reusable {
                        self.connections.push((origin.clone(), stream));
                    }
                    self.store_cookies(origin, path, &response.headers);
                    return Ok(Received {
                        status: response.status,
                        headers: response.headers,
                        body: response.body,
                    });
                }
                Err(WireError::NoResponse(_)) if reused && attempt == 0 => continue,
                Err(WireError::NoResponse(e)) | Err(WireError::Broken(e)) => {
                    return Err(errors::describe(&e))
                }
            }
        }
        Err(errors::remote_disconnected())
    }

    /// Takes the idle connection to `origin` (and whether it is reused), or opens one.
    async fn connection(&mut self, origin: &Origin) -> Result<(Stream, bool), String> {
        while let Some(index) = self.connections.iter().position(|(o, _)| o == origin) {
            let (_, mut stream) = self.connections.swap_remove(index);
            if !stream.is_dropped() {
                return Ok((stream, true));
            }
        }
        Ok((self.factory.connector.connect(origin).await?, false))
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

fn cookie_url(origin: &Origin, path: &http::uri::PathAndQuery) -> Result<url::Url, String> {
    url::Url::parse(&format!("{}{}", origin.base_url(), path.as_str()))
        .map_err(|e| format!("invalid URL: {e}"))
}
