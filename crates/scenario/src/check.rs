//! What makes a response a success: the status rule (Locust's HttpUser default, or an
//! explicit `success_status` list) and the `checks`, each failing with a
//! `CatchResponseError('...')` string like `response.failure(...)`.
//!
//! A check has one subject — a JSON pointer's value, a header, a cookie the response
//! sets, a CSS selector's first match, the body, the status, the final URL, or an `expr`
//! over the whole response and the user's variables — and the tests on its value
//! (`equals`, `ne`, `lt`, `le`, `gt`, `ge`, `contains`, `matches`, `in`, `exists`), all
//! of which must hold. `if` makes it conditional; `message` (a template like `expr`)
//! replaces the default text.
//!
//! This module owns the compiled form and its evaluation against a response; `compile`
//! turns a `checks` entry into a [`Check`] (its problems are `EntryError`s, see
//! `entry_error.rs`), and `judge` applies a check's tests to the value its subject found.

mod compile;
mod judge;

use http::HeaderName;
use minijinja::Value;
use regex::Regex;
use serde_json::Value as Json;

use crate::response::{catch_response_error, http_error, Parsed};
use crate::response_template::{bounded, ResponseTemplates};
use crate::select::{Css, Pointer};

pub(crate) use compile::header_name;
use judge::{contains, judge};

/// Which statuses count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusRule {
    /// HttpUser: 400-599 fail, everything else succeeds.
    Default,
    /// Only these statuses succeed.
    Only(Vec<u16>),
}

impl StatusRule {
    /// `None` on success, else Locust's error string.
    pub fn failure(&self, status: u16, reason: &str, name: &str) -> Option<String> {
        match self {
            StatusRule::Default => http_error(status, reason, name),
            StatusRule::Only(list) if list.contains(&status) => None,
            StatusRule::Only(list) => http_error(status, reason, name)
                .or_else(|| Some(catch_response_error(&unexpected_status(status, list)))),
        }
    }
}

/// `unexpected status code 200, expected 201` (`expected 301 or 302` for a list).
fn unexpected_status(status: u16, expected: &[u16]) -> String {
    let expected: Vec<String> = expected.iter().map(u16::to_string).collect();
    format!(
        "unexpected status code {status}, expected {}",
        expected.join(" or ")
    )
}

/// The keys a check may have, for did-you-mean and the list in the error.
pub(crate) const CHECK_KEYS: &[&str] = &[
    "json",
    "header",
    "cookie",
    "css",
    "attr",
    "body_contains",
    "body_matches",
    "status",
    "url",
    "url_contains",
    "expr",
    "equals",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "contains",
    "matches",
    "in",
    "exists",
    "if",
    "message",
];

/// One compiled entry of `checks`.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    subject: Subject,
    tests: Vec<Test>,
    message: Message,
    /// `if`, `expr` and a templated `message`, when the check has any.
    templates: Option<ResponseTemplates>,
    has_condition: bool,
}

#[derive(Debug, Clone)]
enum Subject {
    Json(Pointer),
    Header(HeaderName),
    Cookie(String),
    Css(Css),
    BodyContains(String),
    BodyMatches(Regex),
    Status(Vec<u16>),
    /// The final URL; the tests compare the whole URL, or (for an expected value
    /// starting with `/`) its path and query.
    Url {
        path_only: bool,
    },
    Expr(String),
}

#[derive(Debug, Clone)]
enum Test {
    Exists,
    Absent,
    Equals(Json),
    NotEquals(Json),
    Compare(Cmp, f64, Json),
    Contains(Json),
    Matches(Regex),
    OneOf(Vec<Json>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Message {
    Default,
    Plain(String),
    Template,
}

impl Check {
    /// Whether the check needs the response body (a header, cookie, status or URL check
    /// does not, unless its `if`, `expr` or `message` reads `json` or `text`).
    pub fn reads_body(&self) -> bool {
        let subject = match &self.subject {
            Subject::Json(_)
            | Subject::Css(_)
            | Subject::BodyContains(_)
            | Subject::BodyMatches(_) => true,
            Subject::Header(_)
            | Subject::Cookie(_)
            | Subject::Status(_)
            | Subject::Url { .. }
            | Subject::Expr(_) => false,
        };
        subject
            || self
                .templates
                .as_ref()
                .is_some_and(ResponseTemplates::reads_body)
    }

    /// Whether its `if`, `expr` or `message` reads a user variable: [`Check::failure`]
    /// then needs the user's render context.
    pub fn reads_user(&self) -> bool {
        self.templates
            .as_ref()
            .is_some_and(ResponseTemplates::reads_user)
    }

    /// Its templates (`if`, `expr`, a templated `message`), for the load-time analysis.
    pub(crate) fn templates_mut(&mut self) -> Option<&mut ResponseTemplates> {
        self.templates.as_mut()
    }

    /// `None` when the check passes (or its `if` does not hold), else the full failure
    /// string. `user` is the user's render context, needed (and given) only when the
    /// check [reads a user variable](Check::reads_user).
    pub fn failure(&self, resp: &Parsed<'_, '_>, user: Option<&Value>) -> Option<String> {
        if self.has_condition {
            match self.holds("if", resp, user) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(e),
            }
        }
        let problem = match &self.subject {
            Subject::Json(pointer) => {
                let doc = match resp.json() {
                    Ok(doc) => doc,
                    Err(e) => return Some(e),
                };
                let what = format!("JSON {}", pointer.as_str());
                let missing = format!("{what} is missing");
                judge(&what, pointer.first(doc), &self.tests, &missing)
            }
            Subject::Header(name) => {
                let actual = resp.header(name).map(Json::String);
                let what = format!("header {name}");
                judge(
                    &what,
                    actual.as_ref(),
                    &self.tests,
                    &format!("{what} is missing"),
                )
            }
            Subject::Cookie(name) => {
                let actual = resp.cookie(name).map(Json::String);
                let what = format!("cookie {name}");
                let missing = format!("cookie {name} is not set by the response");
                judge(&what, actual.as_ref(), &self.tests, &missing)
            }
            Subject::Css(css) => {
                let html = resp.html();
                let actual = css.values(html).next().map(Json::String);
                let what = match css.attr() {
                    Some(a) => format!("css {:?} attribute {a}", css.as_str()),
                    None => format!("css {:?}", css.as_str()),
                };
                judge(&what, actual.as_ref(), &self.tests, &css.miss(html))
            }
            Subject::BodyContains(needle) => {
                let found = contains(resp.resp.body, needle.as_bytes());
                match (&self.tests[..], found) {
                    ([Test::Absent], true) => Some(format!("body contains {needle:?}")),
                    ([Test::Absent], false) | (_, true) => None,
                    (_, false) => Some(format!("body does not contain {needle:?}")),
                }
            }
            Subject::BodyMatches(re) => {
                let found = re.is_match(&resp.text());
                match (&self.tests[..], found) {
                    ([Test::Absent], true) => Some(format!("body matches {:?}", re.as_str())),
                    ([Test::Absent], false) | (_, true) => None,
                    (_, false) => Some(format!("body does not match {:?}", re.as_str())),
                }
            }
            Subject::Status(list) => {
                let status = resp.resp.status;
                (!list.contains(&status)).then(|| unexpected_status(status, list))
            }
            Subject::Url { path_only } => {
                let url = if *path_only {
                    crate::step::default_name(resp.resp.url)
                } else {
                    resp.resp.url.to_string()
                };
                let actual = Json::String(url);
                judge("url", Some(&actual), &self.tests, "url is missing")
            }
            Subject::Expr(src) => match self.holds("expr", resp, user) {
                Ok(true) => None,
                Ok(false) => Some(format!("expr `{src}` is false")),
                Err(e) => return Some(e),
            },
        }?;
        let text = match &self.message {
            Message::Default => problem,
            Message::Plain(m) => m.clone(),
            Message::Template => self.render_message(resp, problem, user),
        };
        Some(catch_response_error(&text))
    }

    /// Whether the expression `name` holds; `Err` is the failure string (an evaluation
    /// error, or a body that is not JSON when the expression reads `json`).
    fn holds(
        &self,
        name: &str,
        resp: &Parsed<'_, '_>,
        user: Option<&Value>,
    ) -> Result<bool, String> {
        let Some(t) = &self.templates else {
            return Ok(true);
        };
        let ctx = t.context(name, resp, true, user)?;
        t.holds(name, &ctx)
            .map_err(|e| catch_response_error(&format!("{name} could not be evaluated: {e}")))
    }

    /// The templated message; if it cannot be rendered, the default text says why.
    fn render_message(
        &self,
        resp: &Parsed<'_, '_>,
        problem: String,
        user: Option<&Value>,
    ) -> String {
        let Some(t) = &self.templates else {
            return problem;
        };
        let rendered = t
            .context("message", resp, false, user)
            .and_then(|ctx| t.render("message", &ctx));
        match rendered {
            Ok(m) => bounded(m),
            Err(e) => format!("{problem} (the message template failed: {e})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CheckDef;
    use crate::response::{with_parsed, with_parsed_url};

    fn def(toml_src: &str) -> CheckDef {
        toml::from_str(toml_src).unwrap()
    }

    fn compile(src: &str) -> Check {
        Check::compile(&def(src)).unwrap()
    }

    fn run(check: &str, body: &str, headers: &[(&str, &str)]) -> Option<String> {
        let check = compile(check);
        with_parsed(200, headers, body, |resp| check.failure(resp, None))
    }

    #[test]
    fn status_rules() {
        assert_eq!(StatusRule::Default.failure(201, "R", "/u"), None);
        assert_eq!(StatusRule::Default.failure(302, "R", "/u"), None);
        assert!(StatusRule::Default
            .failure(404, "Not Found", "/u")
            .unwrap()
            .starts_with("HTTPError('404 Client Error: Not Found"));
        let only = StatusRule::Only(vec![200, 404]);
        assert_eq!(only.failure(404, "R", "/u"), None);
        assert_eq!(
            only.failure(500, "Internal Server Error", "/u").unwrap(),
            "HTTPError('500 Server Error: Internal Server Error for url: /u')"
        );
        assert_eq!(
            StatusRule::Only(vec![201]).failure(200, "R", "/u").unwrap(),
            "CatchResponseError('unexpected status code 200, expected 201')"
        );
    }

    #[test]
    fn json_checks() {
        let body = r#"{"status":"healthy","n":3,"items":[1]}"#;
        assert_eq!(
            run(
                r#"json = "/status"
equals = "healthy""#,
                body,
                &[]
            ),
            None
        );
        assert_eq!(run("json = \"/n\"\nequals = 3.0", body, &[]), None);
        assert_eq!(run("json = \"/items/0\"", body, &[]), None);
        assert_eq!(
            run("json = \"/status\"\nequals = \"down\"", body, &[]).unwrap(),
            r#"CatchResponseError('JSON /status is "healthy", expected "down"')"#
        );
        assert_eq!(
            run("json = \"/id\"", body, &[]).unwrap(),
            "CatchResponseError('JSON /id is missing')"
        );
        assert_eq!(run("json = \"/id\"\nexists = false", body, &[]), None);
        assert_eq!(
            run("json = \"/n\"\nexists = false", body, &[]).unwrap(),
            "CatchResponseError('JSON /n is present (3)')"
        );
        assert_eq!(
            run("json = \"/id\"\nequals = 1", body, &[]).unwrap(),
            "CatchResponseError('JSON /id is missing, expected 1')"
        );
        assert_eq!(
            run("json = \"/id\"\nmessage = \"no id!\"", body, &[]).unwrap(),
            "CatchResponseError('no id!')"
        );
        let not_json = run("json = \"/id\"", "<html>", &[]).unwrap();
        assert!(not_json.starts_with("CatchResponseError('Could not parse response as JSON. <html>, response code 200, error "), "{not_json}");
    }

    #[test]
    fn header_and_body_checks() {
        assert_eq!(
            run(
                "header = \"X-Cache\"\nequals = \"HIT\"",
                "",
                &[("x-cache", "HIT")]
            ),
            None
        );
        assert_eq!(
            run(
                "header = \"X-Cache\"\nequals = \"HIT\"",
                "",
                &[("x-cache", "MISS")]
            )
            .unwrap(),
            r#"CatchResponseError('header x-cache is "MISS", expected "HIT"')"#
        );
        assert_eq!(
            run("header = \"X-Instance-ID\"", "", &[]).unwrap(),
            "CatchResponseError('header x-instance-id is missing')"
        );
        assert_eq!(run("body_contains = \"ok\"", "all ok", &[]), None);
        assert_eq!(
            run("body_contains = \"ok\"", "nope", &[]).unwrap(),
            r#"CatchResponseError('body does not contain "ok"')"#
        );
        assert_eq!(
            run("body_contains = \"ok\"\nexists = false", "all ok", &[]).unwrap(),
            r#"CatchResponseError('body contains "ok"')"#
        );
    }

    #[test]
    fn comparisons_on_numbers() {
        let body = r#"{"n": 7, "f": 2.5, "s": "12", "name": "x"}"#;
        for (src, pass) in [
            ("json = \"/n\"\nlt = 8", true),
            ("json = \"/n\"\nlt = 7", false),
            ("json = \"/n\"\nle = 7", true),
            ("json = \"/n\"\ngt = 6.5", true),
            ("json = \"/n\"\ngt = 7", false),
            ("json = \"/n\"\nge = 7", true),
            ("json = \"/n\"\ngt = 0\nlt = 10", true),
            ("json = \"/n\"\ngt = 0\nlt = 5", false),
            ("json = \"/f\"\nlt = 3", true),
            ("json = \"/s\"\ngt = 11", true),
            ("json = \"/name\"\ngt = 0", false),
            ("json = \"/n\"\nne = 8", true),
            ("json = \"/n\"\nne = 7.0", false),
            ("json = \"/name\"\nne = \"y\"", true),
        ] {
            assert_eq!(run(src, body, &[]).is_none(), pass, "{src}");
        }
        assert_eq!(
            run("json = \"/n\"\nlt = 5", body, &[]).unwrap(),
            "CatchResponseError('JSON /n is 7, expected < 5')"
        );
        assert_eq!(
            run("json = \"/n\"\ngt = 0\nle = 5", body, &[]).unwrap(),
            "CatchResponseError('JSON /n is 7, expected <= 5')"
        );
        assert_eq!(
            run("json = \"/name\"\nge = 1.5", body, &[]).unwrap(),
            r#"CatchResponseError('JSON /name is "x", expected >= 1.5')"#
        );
        assert_eq!(
            run("json = \"/n\"\nne = 7", body, &[]).unwrap(),
            "CatchResponseError('JSON /n is 7, expected anything but 7')"
        );
        assert_eq!(
            run("json = \"/zz\"\ngt = 1", body, &[]).unwrap(),
            "CatchResponseError('JSON /zz is missing, expected > 1')"
        );
        // A header parsed as a number.
        let h = [("x-queue-depth", " 42 ")];
        assert_eq!(run("header = \"X-Queue-Depth\"\nlt = 100", "", &h), None);
        assert_eq!(
            run("header = \"X-Queue-Depth\"\nlt = 10", "", &h).unwrap(),
            r#"CatchResponseError('header x-queue-depth is " 42 ", expected < 10')"#
        );
    }

    #[test]
    fn contains_matches_and_in() {
        let body = r#"{"name": "alice smith", "tags": ["a", "b"], "ids": [1, 2.0], "obj": {"k": 1}, "n": 200}"#;
        for (src, pass) in [
            ("json = \"/name\"\ncontains = \"smith\"", true),
            ("json = \"/name\"\ncontains = \"bob\"", false),
            ("json = \"/tags\"\ncontains = \"b\"", true),
            ("json = \"/tags\"\ncontains = \"c\"", false),
            ("json = \"/ids\"\ncontains = 2", true),
            ("json = \"/obj\"\ncontains = \"k\"", true),
            ("json = \"/obj\"\ncontains = \"z\"", false),
            ("json = \"/n\"\ncontains = 2", false),
            ("json = \"/name\"\nmatches = \"^alice\\\\s\\\\w+$\"", true),
            ("json = \"/name\"\nmatches = \"^bob\"", false),
            ("json = \"/n\"\nmatches = \"^2\\\\d\\\\d$\"", true),
            ("json = \"/n\"\nin = [200, 201]", true),
            ("json = \"/n\"\nin = [201, \"x\"]", false),
            ("json = \"/name\"\nin = [\"alice smith\"]", true),
        ] {
            assert_eq!(run(src, body, &[]).is_none(), pass, "{src}");
        }
        assert_eq!(
            run("json = \"/tags\"\ncontains = \"c\"", body, &[]).unwrap(),
            r#"CatchResponseError('JSON /tags is ["a","b"], expected to contain "c"')"#
        );
        assert_eq!(
            run("json = \"/name\"\nmatches = \"^bob\"", body, &[]).unwrap(),
            r#"CatchResponseError('JSON /name is "alice smith", expected to match "^bob"')"#
        );
        assert_eq!(
            run("json = \"/n\"\nin = [201, 204]", body, &[]).unwrap(),
            "CatchResponseError('JSON /n is 200, expected one of 201, 204')"
        );
        let h = [("content-type", "application/json; charset=utf-8")];
        assert_eq!(
            run("header = \"Content-Type\"\ncontains = \"json\"", "", &h),
            None
        );
        assert_eq!(
            run("header = \"Content-Type\"\nmatches = \"^text/\"", "", &h).unwrap(),
            r#"CatchResponseError('header content-type is "application/json; charset=utf-8", expected to match "^text/"')"#
        );
        assert_eq!(run("body_matches = \"id=\\\\d+\"", "x id=42 y", &[]), None);
        assert_eq!(
            run("body_matches = \"id=\\\\d+\"", "nothing", &[]).unwrap(),
            r#"CatchResponseError('body does not match "id=\\\\d+"')"#
        );
        assert_eq!(
            run(
                "body_matches = \"(?i)error\"\nexists = false",
                "An ERROR",
                &[]
            )
            .unwrap(),
            r#"CatchResponseError('body matches "(?i)error"')"#
        );
    }

    #[test]
    fn status_checks() {
        let redirect = compile("status = 302");
        let at =
            |check: &Check, status: u16| with_parsed(status, &[], "", |r| check.failure(r, None));
        assert_eq!(at(&redirect, 302), None);
        assert_eq!(
            at(&redirect, 200).unwrap(),
            "CatchResponseError('unexpected status code 200, expected 302')"
        );
        let list = compile("status = [301, 302]");
        assert_eq!(at(&list, 301), None);
        assert_eq!(
            at(&list, 204).unwrap(),
            "CatchResponseError('unexpected status code 204, expected 301 or 302')"
        );
        assert!(!list.reads_body());
    }

    #[test]
    fn url_checks_read_the_final_url() {
        let at = |src: &str, url: &str| {
            let check = compile(src);
            assert!(!check.reads_body());
            with_parsed_url(200, url, &[], "", |r| check.failure(r, None))
        };
        let welcome = "http://localhost:8080/welcome?user=1";
        assert_eq!(at("url_contains = \"welcome\"", welcome), None);
        assert_eq!(
            at(
                "url_contains = \"welcome\"",
                "http://localhost:8080/login?failed=1"
            )
            .unwrap(),
            r#"CatchResponseError('url is "http://localhost:8080/login?failed=1", expected to contain "welcome"')"#
        );
        assert_eq!(at(&format!("url = \"{welcome}\""), welcome), None);
        assert_eq!(at("url = \"/welcome?user=1\"", welcome), None);
        assert_eq!(
            at("url = \"/welcome\"", welcome).unwrap(),
            r#"CatchResponseError('url is "/welcome?user=1", expected "/welcome"')"#
        );
        assert_eq!(
            at(
                "url_contains = \"welcome\"\nmessage = \"Login failed\"",
                "http://h/login"
            )
            .unwrap(),
            "CatchResponseError('Login failed')"
        );
    }

    #[test]
    fn cookie_checks_read_set_cookie() {
        let set = [
            ("set-cookie", "session=abc123; Path=/; HttpOnly"),
            ("set-cookie", "theme=dark"),
            ("set-cookie", "old=; Max-Age=0"),
            (
                "set-cookie",
                "gone=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ),
        ];
        let check = compile("cookie = \"session\"");
        assert!(!check.reads_body());
        assert_eq!(with_parsed(200, &set, "", |r| check.failure(r, None)), None);
        assert_eq!(
            run("cookie = \"session\"\nequals = \"abc123\"", "", &set),
            None
        );
        assert_eq!(
            run("cookie = \"theme\"\nin = [\"dark\", \"light\"]", "", &set),
            None
        );
        assert_eq!(
            run("cookie = \"session\"\nequals = \"x\"", "", &set).unwrap(),
            r#"CatchResponseError('cookie session is "abc123", expected "x"')"#
        );
        for deleted in ["old", "gone", "never"] {
            assert_eq!(
                run(&format!("cookie = \"{deleted}\""), "", &set).unwrap(),
                format!("CatchResponseError('cookie {deleted} is not set by the response')")
            );
            assert_eq!(
                run(&format!("cookie = \"{deleted}\"\nexists = false"), "", &set),
                None
            );
        }
        assert_eq!(
            run("cookie = \"session\"\nexists = false", "", &set).unwrap(),
            r#"CatchResponseError('cookie session is present ("abc123")')"#
        );
        // The last Set-Cookie of a name wins.
        let twice = [("set-cookie", "a=1"), ("set-cookie", "a=2")];
        assert_eq!(run("cookie = \"a\"\nequals = 2", "", &twice), None);
    }

    #[test]
    fn css_checks() {
        let page = r#"<html><h1> Welcome back </h1><input name="csrf" value="tok"></html>"#;
        assert_eq!(run("css = \"h1\"", page, &[]), None);
        assert_eq!(run("css = \"h1\"\ncontains = \"Welcome\"", page, &[]), None);
        assert_eq!(
            run(
                "css = \"input[name=csrf]\"\nattr = \"value\"\nequals = \"tok\"",
                page,
                &[]
            ),
            None
        );
        assert_eq!(run("css = \"h2.error\"\nexists = false", page, &[]), None);
        assert_eq!(
            run("css = \"h2.error\"", page, &[]).unwrap(),
            r#"CatchResponseError('no element matches css "h2.error"')"#
        );
        assert_eq!(
            run("css = \"h1\"\nequals = \"Bye\"", page, &[]).unwrap(),
            r#"CatchResponseError('css "h1" is "Welcome back", expected "Bye"')"#
        );
        assert_eq!(
            run("css = \"input\"\nattr = \"data-x\"", page, &[]).unwrap(),
            r#"CatchResponseError('no element matched by css "input" has an attribute "data-x"')"#
        );
        assert!(compile("css = \"h1\"").reads_body());
    }

    #[test]
    fn expr_checks() {
        let body = r#"{"data": {"foo": 1, "items": [1, 2, 3]}}"#;
        assert_eq!(run("expr = \"json.data.foo == 1\"", body, &[]), None);
        assert_eq!(
            run("expr = \"json.data.foo == 2\"", body, &[]).unwrap(),
            "CatchResponseError('expr `json.data.foo == 2` is false')"
        );
        assert_eq!(
            run("expr = \"json.data.bar.baz == 2\"", body, &[]).unwrap(),
            "CatchResponseError('expr `json.data.bar.baz == 2` is false')"
        );
        assert_eq!(
            run(
                "expr = \"json.data.items | length >= 3 and status == 200\"",
                body,
                &[]
            ),
            None
        );
        let not_json = run("expr = \"json.data.foo == 1\"", "<html>", &[]).unwrap();
        assert!(
            not_json.starts_with("CatchResponseError('Could not parse response as JSON. <html>"),
            "{not_json}"
        );
        let bad = run("expr = \"json.data.foo + 'x' == 1\"", body, &[]).unwrap();
        assert!(
            bad.starts_with("CatchResponseError('expr could not be evaluated: "),
            "{bad}"
        );
        assert!(!compile("expr = \"status == 200\"").reads_body());
        assert!(compile("expr = \"'ok' in text\"").reads_body());
        assert!(compile("expr = \"json.a\"").reads_body());
    }

    #[test]
    fn if_makes_a_check_conditional() {
        let src =
            "json = \"/items\"\nexists = true\nif = \"status == 200 and json.kind == 'list'\"";
        assert_eq!(run(src, r#"{"kind": "item"}"#, &[]), None);
        assert_eq!(
            run(src, r#"{"kind": "list"}"#, &[]).unwrap(),
            "CatchResponseError('JSON /items is missing')"
        );
        let header_only = compile("header = \"X-A\"\nif = \"headers['x-b'] == '1'\"");
        assert!(!header_only.reads_body());
        let run_h = |h: &[(&str, &str)]| with_parsed(200, h, "", |r| header_only.failure(r, None));
        assert_eq!(run_h(&[]), None);
        assert!(run_h(&[("x-b", "1")]).is_some());
        assert_eq!(run_h(&[("x-b", "1"), ("x-a", "v")]), None);
        assert!(compile("header = \"X-A\"\nif = \"json.x\"").reads_body());
        // Each template gets what it reads: an `if` on the status is not held back by a
        // message that reads a JSON body the response does not have.
        let check = compile(
            "header = \"X-A\"\nif = \"status == 200\"\nmessage = \"no X-A ({{ json.error }})\"",
        );
        assert_eq!(
            with_parsed(200, &[], "<html>", |r| check.failure(r, None)).unwrap(),
            "CatchResponseError('no X-A ()')"
        );
    }

    #[test]
    fn templated_messages() {
        let body = r#"{"data": {"foo": "zap"}}"#;
        assert_eq!(
            run(
                "json = \"/data/foo\"\nequals = \"bar\"\nmessage = \"unexpected foo {{ json.data.foo }} in {{ text }} ({{ status }}, {{ headers['x-id'] }})\"",
                body,
                &[("x-id", "7")]
            )
            .unwrap(),
            r#"CatchResponseError('unexpected foo zap in {"data": {"foo": "zap"}} (200, 7)')"#
        );
        // A message reading json on a body that is not JSON: json is undefined.
        assert_eq!(
            run(
                "body_contains = \"ok\"\nmessage = \"bad [{{ json.error }}] at {{ url }}\"",
                "<html>",
                &[]
            )
            .unwrap(),
            "CatchResponseError('bad [] at http://localhost:8080/users?skip=0')"
        );
        let long = "x".repeat(2000);
        let msg = run(
            "body_contains = \"ok\"\nmessage = \"{{ text }}\"",
            &long,
            &[],
        )
        .unwrap();
        assert_eq!(msg, format!("CatchResponseError('{}...')", "x".repeat(500)));
        let failed = run(
            "json = \"/data/foo\"\nequals = 1\nmessage = \"{{ json.data.foo + 1 }}\"",
            body,
            &[],
        )
        .unwrap();
        assert!(
            failed.starts_with(r#"CatchResponseError('JSON /data/foo is "zap", expected 1 (the message template failed: invalid operation: "#),
            "{failed}"
        );
        // Only a message that reads the body makes the check read it.
        assert!(!compile("header = \"a\"\nmessage = \"{{ status }} {{ url }}\"").reads_body());
        assert!(compile("header = \"a\"\nmessage = \"{{ text[:20] }}\"").reads_body());
        assert!(!compile("header = \"a\"\nmessage = \"plain\"").reads_body());
    }

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let load = |text: &str| crate::load_str("s.toml", text).unwrap_err().to_string();
        let e = load("[users.X]\n[[users.X.tasks]]\nrequest = { path = \"/\", checks = [{ json = \"/a\" }, { json = \"/b\", equalz = 1 }] }\n");
        assert_eq!(
            e,
            format!(
                "s.toml:3:67: `users.X.tasks[0].request.checks[1].equalz`: unknown key `equalz` in a check; did you mean `equals`? (expected one of: {})",
                CHECK_KEYS.join(", ")
            )
        );
        let e = load("[users.X]\n[[users.X.tasks]]\n[users.X.tasks.request]\npath = \"/\"\n[[users.X.tasks.request.extract]]\nvar = \"v\"\njson = \"/a\"\n  pik = \"random\"\n");
        assert!(
            e.starts_with("s.toml:8:3: `users.X.tasks[0].request.extract[0].pik`: unknown key `pik` in an extract; did you mean `pick`?"),
            "{e}"
        );
        // Other problems are reported at the entry, the message naming the key.
        let e = load("[users.X]\n[[users.X.tasks]]\nrequest = { path = \"/\", checks = [{ json = \"/n\", lt = \"5\" }] }\n");
        assert_eq!(
            e,
            "s.toml:3:35: `users.X.tasks[0].request.checks[0]`: `lt` compares numbers; give a number, not \"5\""
        );
        // A value of the wrong type is still serde's, located in the entry.
        let e = load("[users.X]\n[[users.X.tasks]]\nrequest = { path = \"/\", checks = [{ json = \"/n\", exists = \"yes\" }] }\n");
        assert!(e.starts_with("s.toml:3:"), "{e}");
        assert!(e.contains("expected a boolean"), "{e}");
    }

    #[test]
    fn compiled_checks_and_extracts_can_be_shared_across_threads() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<Check>();
        shared::<crate::extract::Extract>();
        shared::<crate::step::Step>();
    }
}
