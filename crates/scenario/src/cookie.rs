//! Cookies a scenario gives itself: a request's own `cookies = { session = "{{ sid }}" }`
//! (requests' `cookies=`: sent with that request after the jar's cookies, in written
//! order, and never stored), and the `set_cookie` step that puts a cookie into the
//! user's jar (Python's `self.client.cookies.set(name, value, domain=..., path=...)`).
//! Names, domains, paths and fixed values are checked at load; templated values when
//! they are rendered.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use minijinja::Environment;
use serde::Deserialize;
use toml::Spanned;

use crate::entry_error::{find_key, EntryError};
use crate::error::{ScenarioError, StepError};
use crate::model::Pairs;
use crate::request::Cx;
use crate::template::{context, Template};
use crate::vars::UserVars;

/// `set_cookie = { name = "consent", value = "yes", domain = "example.com", path = "/" }`,
/// read as a table so that an unknown or mistyped key is reported at itself, with its
/// whole path (`users.A.tasks[0].steps[1].set_cookie.domian`) and a did-you-mean.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct SetCookieDef(pub toml::Table);

/// The keys of a `set_cookie` table.
const SET_COOKIE_KEYS: &[&str] = &["name", "value", "domain", "path"];

/// The `set_cookie` step: a cookie stored in the user's jar, sent with every later
/// request it matches, until the server replaces or deletes it.
#[derive(Debug, Clone)]
pub struct SetCookie {
    label: String,
    pub(crate) env: Arc<Environment<'static>>,
    name: String,
    value: Template,
    /// None: the user's host only (a host-only cookie).
    domain: Option<String>,
    path: String,
    pub(crate) needs: Vec<String>,
}

/// A `set_cookie` step rendered for one user: what goes into the jar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieToSet {
    pub name: String,
    pub value: String,
    /// None: the user's host only; else the domain and its subdomains.
    pub domain: Option<String>,
    pub path: String,
}

impl SetCookie {
    /// Where the step is defined, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The cookie for this user. A variable the value reads that is not set yet skips
    /// the step (`MissingVariable`), as it skips a request.
    pub fn render<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<CookieToSet, StepError> {
        if let Some(var) = self.needs.iter().find(|v| !vars.is_ready(v)) {
            return Err(StepError::MissingVariable {
                step: self.label.clone(),
                var: var.clone(),
            });
        }
        let (ctx, rt) = context(vars, rng.next_u64());
        let rendered = self.value.render(&self.env, &ctx);
        vars.counter = rt.counter.load(Ordering::Relaxed);
        let value = rendered.map_err(|e| StepError::Render {
            step: self.label.clone(),
            message: format!("{e}"),
        })?;
        check_value(&value).map_err(|message| StepError::Invalid {
            step: self.label.clone(),
            message: format!("cookie {}: {message}", self.name),
        })?;
        Ok(CookieToSet {
            name: self.name.clone(),
            value: value.into_owned(),
            domain: self.domain.clone(),
            path: self.path.clone(),
        })
    }
}

/// A request's own cookies: names checked, values templates.
pub(crate) type RequestCookies = Vec<(String, Template)>;

/// Compiles a request's `cookies` table.
pub(crate) fn compile_request_cookies(
    cx: &mut Cx<'_>,
    cookies: &Pairs<Spanned<toml::Value>>,
    key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<RequestCookies, ScenarioError> {
    let mut out = Vec::with_capacity(cookies.0.len());
    for (name, value) in &cookies.0 {
        let ckey = format!("{key}.cookies.{name}");
        check_name(name).map_err(|m| cx.invalid(value.span(), &ckey, m))?;
        // requests formats any value with `%s`: an integer is sent as its digits.
        let text = match value.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            other => {
                return Err(cx.invalid(
                    value.span(),
                    &ckey,
                    format!(
                        "a cookie value is text (a template) or an integer, not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        let template = cx.template(&Spanned::new(value.span(), text), &ckey, task, used)?;
        if let Template::Static(text) = &template {
            check_value(text).map_err(|m| cx.invalid(value.span(), &ckey, m))?;
        }
        out.push((name.clone(), template));
    }
    Ok(out)
}

/// Renders a request's cookies as the text of a Cookie header (`a=1; b=2`, in written
/// order); None when it has none.
pub(crate) fn render_request_cookies(
    cookies: &RequestCookies,
    env: &Environment<'static>,
    ctx: &minijinja::Value,
    label: &str,
) -> Result<Option<String>, StepError> {
    if cookies.is_empty() {
        return Ok(None);
    }
    let mut header = String::new();
    for (name, template) in cookies {
        let value = template.render(env, ctx).map_err(|e| StepError::Render {
            step: label.to_string(),
            message: format!("{e}"),
        })?;
        check_value(&value).map_err(|message| StepError::Invalid {
            step: label.to_string(),
            message: format!("cookie {name}: {message}"),
        })?;
        push_pair(&mut header, name, &value);
    }
    Ok(Some(header))
}

/// The Cookie header text of cookies that are all fixed; None when one is templated.
pub(crate) fn static_request_cookies(cookies: &RequestCookies) -> Option<Option<String>> {
    if cookies.is_empty() {
        return Some(None);
    }
    let mut header = String::new();
    for (name, template) in cookies {
        let Template::Static(value) = template else {
            return None;
        };
        push_pair(&mut header, name, value);
    }
    Some(Some(header))
}

fn push_pair(header: &mut String, name: &str, value: &str) {
    if !header.is_empty() {
        header.push_str("; ");
    }
    header.push_str(name);
    header.push('=');
    header.push_str(value);
}

/// Compiles a `set_cookie` step.
pub(crate) fn compile_set_cookie(
    cx: &mut Cx<'_>,
    def: &Spanned<SetCookieDef>,
    key: &str,
    task: &str,
) -> Result<SetCookie, ScenarioError> {
    let span = def.span();
    let skey = format!("{key}.set_cookie");
    let table = &def.get_ref().0;
    if let Some(unknown) = table
        .keys()
        .find(|k| !SET_COOKIE_KEYS.contains(&k.as_str()))
    {
        let mut rest = toml::Table::new();
        rest.insert(unknown.clone(), toml::Value::Boolean(true));
        if let Some(e) = EntryError::unknown_key(&rest, "a set_cookie", SET_COOKIE_KEYS) {
            return Err(e.locate(cx, span, &skey));
        }
    }
    // A key's own position in the table's text, else the table's.
    let at = |field: &str| {
        let text = cx.file.text.get(span.clone()).unwrap_or("");
        let start = find_key(text, field).map_or(span.start, |i| span.start + i);
        start..start
    };
    let invalid = |cx: &Cx<'_>, field: &str, message: String| {
        cx.invalid(at(field), &format!("{skey}.{field}"), message)
    };
    let text = |cx: &Cx<'_>, field: &str| -> Result<Option<String>, ScenarioError> {
        match table.get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(invalid(
                cx,
                field,
                format!(
                    "`{field}` is text, not {}: write it in quotes",
                    other.type_str()
                ),
            )),
        }
    };
    let required = |cx: &Cx<'_>, field: &str, example: &str| -> Result<String, ScenarioError> {
        text(cx, field)?.ok_or_else(|| {
            cx.invalid(
                span.clone(),
                &skey,
                format!("a set_cookie needs `{field}` ({example})"),
            )
        })
    };
    let name = required(cx, "name", "name = \"consent\"")?;
    let value_text = required(cx, "value", "value = \"yes\", or a template")?;
    check_name(&name).map_err(|m| invalid(cx, "name", m))?;
    let domain = match text(cx, "domain")? {
        None => None,
        Some(domain) => Some(check_domain(&domain).map_err(|m| invalid(cx, "domain", m))?),
    };
    let path = text(cx, "path")?.unwrap_or_else(|| "/".to_string());
    check_path(&path).map_err(|m| invalid(cx, "path", m))?;
    let mut used = BTreeSet::new();
    let value = cx.template(
        &Spanned::new(at("value"), value_text),
        &format!("{skey}.value"),
        task,
        &mut used,
    )?;
    if let Template::Static(text) = &value {
        check_value(text).map_err(|m| invalid(cx, "value", m))?;
    }
    Ok(SetCookie {
        label: key.strip_prefix("users.").unwrap_or(key).to_string(),
        env: cx.env.clone(),
        name,
        value,
        domain,
        path,
        needs: used.into_iter().collect(),
    })
}

/// RFC 6265's cookie-name: a token (no separators, spaces or controls), not empty.
fn check_name(name: &str) -> Result<(), String> {
    let separator = |c: char| "()<>@,;:\\\"/[]?={} \t".contains(c);
    if name.is_empty() {
        return Err("a cookie needs a name".into());
    }
    match name
        .chars()
        .find(|c| !c.is_ascii_graphic() || separator(*c))
    {
        Some(c) => Err(format!(
            "cookie name {name:?} has {c:?}, which a cookie name cannot hold"
        )),
        None => Ok(()),
    }
}

/// A value that keeps the Cookie header one header of separate pairs: no `;` (it would
/// start another cookie) and no control characters. requests sends the rest as is.
fn check_value(value: &str) -> Result<(), String> {
    match value.chars().find(|c| *c == ';' || c.is_control()) {
        Some(c) => Err(format!(
            "a cookie value cannot hold {c:?} (it would break the Cookie header)"
        )),
        None => Ok(()),
    }
}

/// A host name or an IPv4 address (a leading `.` is dropped, as browsers do), lower case.
fn check_domain(domain: &str) -> Result<String, String> {
    let bare = domain.trim().trim_start_matches('.').to_ascii_lowercase();
    let valid = !bare.is_empty()
        && !bare.contains("..")
        && !bare.ends_with('.')
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if valid {
        Ok(bare)
    } else {
        Err(format!(
            "{domain:?} is not a domain: give a host name such as \"example.com\" (the cookie then \
             goes to it and its subdomains), or leave `domain` out for the user's host"
        ))
    }
}

fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.chars().any(|c| c == ';' || c.is_control()) {
        return Err(format!(
            "{path:?} is not a cookie path: it starts with / (the default, every path)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens() {
        assert!(check_name("session").is_ok());
        assert!(check_name("__Host-id").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").unwrap_err().contains("' '"));
        assert!(check_name("a=b").is_err());
        assert!(check_name("a;b").is_err());
    }

    #[test]
    fn values_keep_the_header_whole() {
        assert!(check_value("abc123").is_ok());
        assert!(check_value("with space, comma").is_ok());
        assert!(check_value("").is_ok());
        assert!(check_value("a;b").unwrap_err().contains("';'"));
        assert!(check_value("a\r\nX: y").is_err());
    }

    #[test]
    fn domains_and_paths() {
        assert_eq!(check_domain(".Example.COM").unwrap(), "example.com");
        assert_eq!(check_domain("127.0.0.1").unwrap(), "127.0.0.1");
        assert!(check_domain("").is_err());
        assert!(check_domain("a..b").is_err());
        assert!(check_domain("http://x").is_err());
        assert!(check_path("/").is_ok());
        assert!(check_path("/api").is_ok());
        assert!(check_path("api").is_err());
    }

    #[test]
    fn fixed_cookies_join_in_written_order() {
        let cookies: RequestCookies = vec![
            ("b".into(), Template::Static("2".into())),
            ("a".into(), Template::Static("1".into())),
        ];
        assert_eq!(
            static_request_cookies(&cookies),
            Some(Some("b=2; a=1".to_string()))
        );
        assert_eq!(static_request_cookies(&Vec::new()), Some(None));
    }
}
