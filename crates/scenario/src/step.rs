//! A compiled request step at run time: `render` turns it into a `RenderedRequest`
//! (static parts reused, templates rendered only when present) and `evaluate` judges
//! the response (status rule, checks, extraction). Never panics; errors are values.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use minijinja::Environment;

use crate::body::Body;
use crate::check::{Check, StatusRule};
use crate::error::StepError;
use crate::extract::Extract;
use crate::response::{Outcome, Parsed, ResponseView};
use crate::template::{context, Template};
use crate::vars::UserVars;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct RenderedRequest {
    pub method: Method,
    /// Path and query relative to the host (`/users?skip=0`), or an absolute URL.
    pub url: String,
    /// The stats name (`name = ...`, else path + query, Locust's HttpUser rule).
    pub name: String,
    /// Class default headers merged with the request's (the request wins).
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// The request's own cookies as Cookie header text (`a=1; b=2`), sent after the
    /// jar's and never stored (requests' `cookies=`).
    pub cookies: Option<String>,
}

/// How a step's request is sent, beyond its bytes: requests' `allow_redirects` and
/// `timeout` (None: the run's setting).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SendOptions {
    pub allow_redirects: Option<bool>,
    pub connect_timeout: Option<std::time::Duration>,
    pub read_timeout: Option<std::time::Duration>,
}

/// A templated class header and the variables it reads.
#[derive(Debug, Clone)]
pub(crate) struct ClassHeader {
    pub name: HeaderName,
    pub template: Template,
    pub needs: Vec<String>,
    /// It calls a function (`uuid()`, `now()`, `totp(...)`): rendered for every request,
    /// where one that only reads variables is rendered once until a variable changes.
    pub volatile: bool,
}

/// The request method: fixed at load, or a template checked when rendered.
#[derive(Debug, Clone)]
pub(crate) enum MethodTpl {
    Static(Method),
    Dynamic(Template),
}

/// One request of a task, `on_start` or `on_stop`.
#[derive(Debug, Clone)]
pub struct Step {
    /// e.g. `ScalingSystemUser.tasks[create_user].requests[0]`, for error messages.
    pub(crate) label: String,
    pub(crate) env: Arc<Environment<'static>>,
    pub(crate) method: MethodTpl,
    pub(crate) path: Template,
    /// Query pairs: key already percent-encoded, value a template.
    pub(crate) query: Vec<(String, Template)>,
    pub(crate) name: Option<Template>,
    pub(crate) headers: HeaderMap,
    pub(crate) dyn_headers: Vec<(HeaderName, Template)>,
    /// `cookies = { name = "template" }`, in written order.
    pub(crate) cookies: crate::cookie::RequestCookies,
    /// The class's templated headers the request does not set itself: rendered once per
    /// user (again when a variable changes), left out while a variable they read is unset.
    pub(crate) class_headers: Arc<[ClassHeader]>,
    /// Whether a failure of this request ends its task; None leaves it to the task.
    pub(crate) stop_on_failure: Option<bool>,
    pub(crate) body: Body,
    pub(crate) status: StatusRule,
    pub(crate) checks: Vec<Check>,
    pub(crate) extracts: Vec<Extract>,
    /// Extracted variables this step reads; rendering waits until they are ready.
    pub(crate) needs: Vec<String>,
    pub(crate) send: SendOptions,
    /// The whole request when nothing in it is templated.
    pub(crate) fixed: Option<Arc<RenderedRequest>>,
}

impl Step {
    /// Where this step is defined, e.g. `AdminUser.tasks[bulk_create].requests[2]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Variables (extracted by other steps) that must be set before this step can render.
    pub fn needs(&self) -> &[String] {
        &self.needs
    }

    /// Whether a failure of this request ends its task (None: as the task says).
    pub fn stop_on_failure(&self) -> Option<bool> {
        self.stop_on_failure
    }

    pub fn send_options(&self) -> SendOptions {
        self.send
    }

    /// Whether a check or an extraction reads the response body; if none does, the
    /// body is counted as it streams in and never held.
    pub fn reads_body(&self) -> bool {
        self.checks.iter().any(Check::reads_body) || self.extracts.iter().any(Extract::reads_body)
    }

    /// Whether a check or an extraction reads the answer (its URL included); with
    /// neither, only the status decides.
    pub fn inspects_response(&self) -> bool {
        !self.checks.is_empty() || !self.extracts.is_empty()
    }

    /// Names of the variables this step extracts.
    pub fn extracts(&self) -> impl Iterator<Item = &str> {
        self.extracts.iter().map(|e| e.var.as_str())
    }

    /// Builds the request. Fails with `MissingVariable` while a needed variable is absent
    /// (or an empty list), and with `Render`/`Invalid` when a template fails.
    pub fn render<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<RenderedRequest, StepError> {
        if let Some(var) = self.needs.iter().find(|v| !vars.is_ready(v)) {
            return Err(StepError::MissingVariable {
                step: self.label.clone(),
                var: var.clone(),
            });
        }
        let result = match &self.fixed {
            Some(fixed) => Ok(RenderedRequest::clone(fixed)),
            None => {
                if !self.class_headers.is_empty() {
                    self.refresh_class_headers(vars, rng.next_u64());
                }
                let (ctx, rt) = context(vars, rng.next_u64());
                let result = self.render_dynamic(&ctx).map(|mut request| {
                    if let Some((_, class)) = &vars.class_headers {
                        for (name, value) in class {
                            if !request.headers.contains_key(name) {
                                request.headers.insert(name.clone(), value.clone());
                            }
                        }
                    }
                    for header in self.class_headers.iter().filter(|h| h.volatile) {
                        if !request.headers.contains_key(&header.name) {
                            if let Some(value) = self.render_class_header(header, vars, &ctx) {
                                request.headers.insert(header.name.clone(), value);
                            }
                        }
                    }
                    request
                });
                vars.counter = rt.counter.load(Ordering::Relaxed);
                result
            }
        };
        if let Ok(req) = &result {
            vars.last_name.clear();
            vars.last_name.push_str(&req.name);
        }
        result
    }

    /// Renders the class headers for this user when a variable changed since they were
    /// last rendered; one that reads an unset variable, or fails, is left out.
    fn refresh_class_headers(&self, vars: &mut UserVars, seed: u64) {
        if vars
            .class_headers
            .as_ref()
            .is_some_and(|(at, _)| *at == vars.generation)
        {
            return;
        }
        let (ctx, rt) = context(vars, seed);
        let mut rendered = HeaderMap::new();
        for header in self.class_headers.iter().filter(|h| !h.volatile) {
            if let Some(value) = self.render_class_header(header, vars, &ctx) {
                rendered.insert(header.name.clone(), value);
            }
        }
        vars.counter = rt.counter.load(Ordering::Relaxed);
        vars.class_headers = Some((vars.generation, rendered));
    }

    /// One class header's value; None while a variable it reads is unset, or when it
    /// fails or is not a valid header value (the header is then left out).
    fn render_class_header(
        &self,
        header: &ClassHeader,
        vars: &UserVars,
        ctx: &minijinja::Value,
    ) -> Option<HeaderValue> {
        if header.needs.iter().any(|v| !vars.is_ready(v)) {
            return None;
        }
        let text = header.template.render(&self.env, ctx).ok()?;
        HeaderValue::from_str(&text).ok()
    }

    fn render_dynamic(&self, ctx: &minijinja::Value) -> Result<RenderedRequest, StepError> {
        let env = &*self.env;
        let render_err = |e: minijinja::Error| StepError::Render {
            step: self.label.clone(),
            message: format!("{e}"),
        };
        let invalid = |message: String| StepError::Invalid {
            step: self.label.clone(),
            message,
        };
        let method = match &self.method {
            MethodTpl::Static(m) => m.clone(),
            MethodTpl::Dynamic(t) => {
                let text = t.render(env, ctx).map_err(render_err)?.to_ascii_uppercase();
                Method::from_bytes(text.as_bytes())
                    .map_err(|_| invalid(format!("invalid HTTP method {text:?}")))?
            }
        };
        let mut url = self.path.render(env, ctx).map_err(render_err)?.into_owned();
        for (i, (key, value)) in self.query.iter().enumerate() {
            let value = value.render(env, ctx).map_err(render_err)?;
            url.push(if i == 0 && !url.contains('?') {
                '?'
            } else {
                '&'
            });
            url.push_str(key);
            url.push('=');
            url.push_str(&encode_query(&value));
        }
        // An empty name falls back to the URL, as Locust's `name=""` does.
        let name = match &self.name {
            Some(t) => t.render(env, ctx).map_err(render_err)?.into_owned(),
            None => String::new(),
        };
        let name = if name.is_empty() {
            default_name(&url)
        } else {
            name
        };
        let mut headers = self.headers.clone();
        for (hname, t) in &self.dyn_headers {
            let text = t.render(env, ctx).map_err(render_err)?;
            let value = HeaderValue::from_str(&text)
                .map_err(|_| invalid(format!("header {hname}: invalid value {text:?}")))?;
            headers.insert(hname.clone(), value);
        }
        let body = self
            .body
            .render(env, ctx, &mut headers)
            .map_err(render_err)?;
        let cookies = crate::cookie::render_request_cookies(&self.cookies, env, ctx, &self.label)?;
        Ok(RenderedRequest {
            method,
            url,
            name,
            headers,
            body,
            cookies,
        })
    }

    /// Judges the response to the request this user rendered last (its stats name goes
    /// into `HTTPError` strings): status rule, then checks, then extraction into `vars`.
    pub fn evaluate(&self, response: &ResponseView<'_>, vars: &mut UserVars) -> Outcome {
        let name = std::mem::take(&mut vars.last_name);
        let outcome = self.evaluate_named(&name, response, vars);
        vars.last_name = name;
        outcome
    }

    /// Like [`Step::evaluate`], with the stats name given explicitly. On failure the
    /// single-value variables this step extracts are removed, so a later step that reads
    /// them is skipped (`MissingVariable`) instead of reusing a stale value.
    pub fn evaluate_named(
        &self,
        name: &str,
        response: &ResponseView<'_>,
        vars: &mut UserVars,
    ) -> Outcome {
        match self.judge(name, response, vars) {
            None => Outcome::Success,
            Some(failure) => {
                for e in self.extracts.iter().filter(|e| e.append.is_none()) {
                    vars.remove(&e.var);
                }
                Outcome::Failure(failure)
            }
        }
    }

    fn judge(
        &self,
        name: &str,
        response: &ResponseView<'_>,
        vars: &mut UserVars,
    ) -> Option<String> {
        if let Some(f) = self.status.failure(response.status, response.reason, name) {
            return Some(f);
        }
        if self.checks.is_empty() && self.extracts.is_empty() {
            return None;
        }
        let parsed = Parsed::new(response);
        // The user's context is built only for a check that reads a variable.
        let user = self
            .checks
            .iter()
            .any(Check::reads_user)
            .then(|| context(vars, 0).0);
        if let Some(f) = self
            .checks
            .iter()
            .find_map(|c| c.failure(&parsed, user.as_ref()))
        {
            return Some(f);
        }
        self.extracts
            .iter()
            .find_map(|e| e.apply(&parsed, vars).err())
    }
}

/// Locust HttpUser's default name: path plus query, without scheme and host.
pub(crate) fn default_name(url: &str) -> String {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(after_scheme) => match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme[i..].starts_with('/') => after_scheme[i..].to_string(),
            Some(i) => format!("/{}", &after_scheme[i..]),
            None => "/".to_string(),
        },
        None => url.to_string(),
    }
}

/// `application/x-www-form-urlencoded` encoding, as `requests` does for `params`.
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_drops_scheme_and_host() {
        assert_eq!(default_name("/users?skip=0"), "/users?skip=0");
        assert_eq!(default_name("http://127.0.0.1:1/nothing"), "/nothing");
        assert_eq!(default_name("https://h.example/a/b?c=1"), "/a/b?c=1");
        assert_eq!(default_name("http://h.example"), "/");
        assert_eq!(default_name("http://h.example?x=1"), "/?x=1");
    }

    #[test]
    fn query_encoding() {
        assert_eq!(encode_query("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode_query("Az09-._~"), "Az09-._~");
    }
}
