//! What makes a response a success: the status rule (Locust's HttpUser default, or an
//! explicit `success_status` list) and the `checks` on the body and headers, each
//! failing with a `CatchResponseError('...')` string like `response.failure(...)`.

use http::HeaderName;
use serde_json::Value as Json;

use crate::model::CheckDef;
use crate::response::{catch_response_error, http_error, Parsed};

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
            StatusRule::Only(list) => http_error(status, reason, name).or_else(|| {
                let expected: Vec<String> = list.iter().map(u16::to_string).collect();
                Some(catch_response_error(&format!(
                    "unexpected status code {status}, expected {}",
                    expected.join(" or ")
                )))
            }),
        }
    }
}

/// One compiled entry of `checks`.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    subject: Subject,
    test: Test,
    message: Option<String>,
}

#[derive(Debug, Clone)]
enum Subject {
    Json(String),
    Header(HeaderName),
    BodyContains(String),
}

#[derive(Debug, Clone)]
enum Test {
    Exists,
    Absent,
    Equals(Json),
}

impl Check {
    /// Whether the check needs the response body (a header check does not).
    pub fn reads_body(&self) -> bool {
        !matches!(self.subject, Subject::Header(_))
    }

    /// Validates a `checks` entry; the error text says what is wrong (located by the caller).
    pub fn compile(def: &CheckDef) -> Result<Check, String> {
        let subjects = [
            def.json.is_some(),
            def.header.is_some(),
            def.body_contains.is_some(),
        ];
        if subjects.iter().filter(|s| **s).count() != 1 {
            return Err(
                "a check needs exactly one of `json` (a JSON pointer), `header` or `body_contains`"
                    .into(),
            );
        }
        let subject = if let Some(p) = &def.json {
            check_pointer(p)?;
            Subject::Json(p.clone())
        } else if let Some(h) = &def.header {
            Subject::Header(header_name(h)?)
        } else {
            Subject::BodyContains(def.body_contains.clone().unwrap_or_default())
        };
        let test = match (&def.equals, def.exists) {
            (Some(_), Some(_)) => return Err("use either `equals` or `exists`, not both".into()),
            (Some(v), None) => {
                if matches!(subject, Subject::BodyContains(_)) {
                    return Err("`body_contains` takes no `equals`".into());
                }
                Test::Equals(serde_json::to_value(v).map_err(|e| e.to_string())?)
            }
            (None, Some(false)) => Test::Absent,
            (None, _) => Test::Exists,
        };
        Ok(Check {
            subject,
            test,
            message: def.message.clone(),
        })
    }

    /// `None` when the check passes, else the full failure string.
    pub fn failure(&self, resp: &Parsed<'_, '_>) -> Option<String> {
        let problem = match &self.subject {
            Subject::Json(pointer) => {
                let doc = match resp.json() {
                    Ok(doc) => doc,
                    Err(e) => return Some(e),
                };
                let actual = doc.pointer(pointer);
                judge(&format!("JSON {pointer}"), actual.cloned(), &self.test)
            }
            Subject::Header(name) => {
                let actual = resp.header(name).map(Json::String);
                judge(&format!("header {name}"), actual, &self.test)
            }
            Subject::BodyContains(needle) => {
                let found = contains(resp.resp.body, needle.as_bytes());
                match (&self.test, found) {
                    (Test::Absent, true) => Some(format!("body contains {needle:?}")),
                    (Test::Absent, false) | (_, true) => None,
                    (_, false) => Some(format!("body does not contain {needle:?}")),
                }
            }
        }?;
        Some(catch_response_error(
            self.message.as_deref().unwrap_or(&problem),
        ))
    }
}

/// Applies a test to an optional actual value; `Some(problem)` on failure.
fn judge(what: &str, actual: Option<Json>, test: &Test) -> Option<String> {
    match (test, actual) {
        (Test::Exists, Some(_)) | (Test::Absent, None) => None,
        (Test::Exists, None) => Some(format!("{what} is missing")),
        (Test::Absent, Some(v)) => Some(format!("{what} is present ({v})")),
        (Test::Equals(want), None) => Some(format!("{what} is missing, expected {want}")),
        (Test::Equals(want), Some(got)) => {
            if json_equal(&got, want) {
                None
            } else {
                Some(format!("{what} is {got}, expected {want}"))
            }
        }
    }
}

/// Equality with numbers compared by value (`3` equals `3.0`), and a header's text
/// equal to a number written without quotes.
fn json_equal(got: &Json, want: &Json) -> bool {
    match (got, want) {
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (Json::String(s), Json::Number(n)) => s.parse::<f64>().ok() == n.as_f64(),
        _ => got == want,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A `header = "..."` subject as a header name.
pub(crate) fn header_name(h: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(h.as_bytes()).map_err(|_| format!("invalid header name {h:?}"))
}

/// A JSON pointer is empty (the whole document) or starts with `/`.
pub(crate) fn check_pointer(p: &str) -> Result<(), String> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "JSON pointer {p:?} must start with `/` (for example \"/{p}\")"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::with_parsed;

    fn def(toml_src: &str) -> CheckDef {
        toml::from_str(toml_src).unwrap()
    }

    fn run(check: &str, body: &str, headers: &[(&str, &str)]) -> Option<String> {
        let check = Check::compile(&def(check)).unwrap();
        with_parsed(200, headers, body, |resp| check.failure(resp))
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
    }

    #[test]
    fn invalid_checks_are_rejected() {
        for bad in [
            "equals = 1",
            "json = \"/a\"\nheader = \"b\"",
            "json = \"a\"",
            "json = \"/a\"\nequals = 1\nexists = true",
            "header = \"bad header\"",
            "body_contains = \"x\"\nequals = 1",
        ] {
            assert!(Check::compile(&def(bad)).is_err(), "{bad}");
        }
    }
}
