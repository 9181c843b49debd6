//! Compiling one `checks` entry into a [`Check`]: its one subject, the tests written
//! for it (or the one the subject implies), `if`, `message`, and the rules of which
//! keys go together. Every problem is an [`EntryError`] naming the key at fault.

use http::HeaderName;
use regex::Regex;
use serde_json::Value as Json;

use super::{Check, Cmp, Message, Subject, Test, CHECK_KEYS};
use crate::entry_error::EntryError;
use crate::model::CheckDef;
use crate::response_template::TemplatesBuilder;
use crate::select::{Css, Pointer};

impl Check {
    /// Validates a `checks` entry; the error names the key at fault (located by the caller).
    pub fn compile(def: &CheckDef) -> Result<Check, EntryError> {
        if let Some(e) = EntryError::unknown_key(&def.unknown, "a check", CHECK_KEYS) {
            return Err(e);
        }
        let mut templates = TemplatesBuilder::new();
        let subject = compile_subject(def, &mut templates)?;
        if def.attr.is_some() && def.css.is_none() {
            return Err(EntryError::at("attr", "`attr` applies to `css` only"));
        }
        let tests = compile_tests(def, &subject)?;
        let has_condition = match &def.condition {
            Some(src) => {
                templates
                    .expression("if", "if", src)
                    .map_err(|m| EntryError::at("if", m))?;
                true
            }
            None => false,
        };
        let message = match &def.message {
            None => Message::Default,
            Some(m) if crate::template::is_plain(m) => Message::Plain(m.clone()),
            Some(m) => {
                templates
                    .text("message", "message", m)
                    .map_err(|e| EntryError::at("message", e))?;
                Message::Template
            }
        };
        Ok(Check {
            subject,
            tests,
            message,
            templates: templates.finish(),
            has_condition,
        })
    }
}

/// The subject of a check (exactly one); `expr` goes into `templates`.
fn compile_subject(
    def: &CheckDef,
    templates: &mut TemplatesBuilder,
) -> Result<Subject, EntryError> {
    crate::entry_error::exactly_one(
        &[
            ("json", def.json.is_some()),
            ("header", def.header.is_some()),
            ("cookie", def.cookie.is_some()),
            ("css", def.css.is_some()),
            ("body_contains", def.body_contains.is_some()),
            ("body_matches", def.body_matches.is_some()),
            ("status", def.status.is_some()),
            ("url", def.url.is_some()),
            ("url_contains", def.url_contains.is_some()),
            ("expr", def.expr.is_some()),
        ],
        "a check needs exactly one subject: `json` (a JSON pointer), `header`, `cookie`, `css`, `body_contains`, `body_matches`, `status`, `url`, `url_contains` or `expr`",
        "a check has one subject",
        "write two checks",
    )?;
    Ok(if let Some(p) = &def.json {
        let pointer = Pointer::parse(p).map_err(|m| EntryError::at("json", m))?;
        if pointer.fans_out() {
            return Err(EntryError::at(
                "json",
                format!("`*` fans out only in `extract`; to test every item of {p:?} in a check use `expr` (for example \"json.items | selectattr('id') | list | length == json.items | length\")"),
            ));
        }
        Subject::Json(pointer)
    } else if let Some(h) = &def.header {
        Subject::Header(header_name(h).map_err(|m| EntryError::at("header", m))?)
    } else if let Some(c) = &def.cookie {
        if c.is_empty() {
            return Err(EntryError::at("cookie", "`cookie` needs a cookie name"));
        }
        Subject::Cookie(c.clone())
    } else if let Some(c) = &def.css {
        Subject::Css(Css::parse(c, def.attr.as_deref()).map_err(|m| EntryError::at("css", m))?)
    } else if let Some(b) = &def.body_contains {
        Subject::BodyContains(b.clone())
    } else if let Some(re) = &def.body_matches {
        Subject::BodyMatches(compile_regex(re).map_err(|m| EntryError::at("body_matches", m))?)
    } else if let Some(s) = &def.status {
        Subject::Status(status_list(s).map_err(|m| EntryError::at("status", m))?)
    } else if let Some(u) = &def.url {
        Subject::Url {
            path_only: u.starts_with('/'),
        }
    } else if def.url_contains.is_some() {
        Subject::Url { path_only: false }
    } else {
        let src = def.expr.clone().unwrap_or_default();
        templates
            .expression("expr", "expr", &src)
            .map_err(|m| EntryError::at("expr", m))?;
        Subject::Expr(src)
    })
}

/// The tests of a check: those written, or the one a subject implies.
fn compile_tests(def: &CheckDef, subject: &Subject) -> Result<Vec<Test>, EntryError> {
    let written: Vec<&str> = [
        ("equals", def.equals.is_some()),
        ("ne", def.ne.is_some()),
        ("lt", def.lt.is_some()),
        ("le", def.le.is_some()),
        ("gt", def.gt.is_some()),
        ("ge", def.ge.is_some()),
        ("contains", def.contains.is_some()),
        ("matches", def.matches.is_some()),
        ("in", def.one_of.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    let complete = match subject {
        Subject::BodyContains(_) => Some("body_contains"),
        Subject::BodyMatches(_) => Some("body_matches"),
        Subject::Status(_) => Some("status"),
        Subject::Url { .. } if def.url.is_some() => Some("url"),
        Subject::Url { .. } => Some("url_contains"),
        Subject::Expr(_) => Some("expr"),
        _ => None,
    };
    if let Some(own) = complete {
        if let Some(first) = written.first() {
            return Err(EntryError::at(
                first,
                format!("`{own}` is a complete check; it takes no `{first}`"),
            ));
        }
        let takes_exists = matches!(subject, Subject::BodyContains(_) | Subject::BodyMatches(_));
        if def.exists.is_some() && !takes_exists {
            return Err(EntryError::at(
                "exists",
                format!("`{own}` is a complete check; it takes no `exists`"),
            ));
        }
        return Ok(match subject {
            Subject::Url { .. } => match (&def.url, &def.url_contains) {
                (Some(u), _) => vec![Test::Equals(Json::String(u.clone()))],
                (None, Some(u)) => vec![Test::Contains(Json::String(u.clone()))],
                (None, None) => Vec::new(),
            },
            _ if def.exists == Some(false) => vec![Test::Absent],
            _ => vec![Test::Exists],
        });
    }
    match def.exists {
        Some(exists) if !written.is_empty() => {
            let first = written.first().copied().unwrap_or("equals");
            return Err(EntryError::at(
                "exists",
                if exists {
                    format!("use either `{first}` or `exists`, not both (`{first}` already needs the value to exist)")
                } else {
                    format!("use either `{first}` or `exists = false`, not both (a missing value fails `{first}`)")
                },
            ));
        }
        Some(false) => return Ok(vec![Test::Absent]),
        Some(true) | None if written.is_empty() => return Ok(vec![Test::Exists]),
        _ => {}
    }
    let json = |key: &str, v: &toml::Value| -> Result<Json, EntryError> {
        refuse_template(key, v)?;
        serde_json::to_value(v).map_err(|e| EntryError::at(key, e.to_string()))
    };
    let mut tests = Vec::new();
    if let Some(v) = &def.equals {
        tests.push(Test::Equals(json("equals", v)?));
    }
    if let Some(v) = &def.ne {
        tests.push(Test::NotEquals(json("ne", v)?));
    }
    for (key, cmp, bound) in [
        ("lt", Cmp::Lt, &def.lt),
        ("le", Cmp::Le, &def.le),
        ("gt", Cmp::Gt, &def.gt),
        ("ge", Cmp::Ge, &def.ge),
    ] {
        if let Some(v) = bound {
            let n = match v {
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) => *f,
                other => {
                    return Err(EntryError::at(
                        key,
                        format!("`{key}` compares numbers; give a number, not {other}"),
                    ))
                }
            };
            tests.push(Test::Compare(cmp, n, json(key, v)?));
        }
    }
    if let Some(v) = &def.contains {
        tests.push(Test::Contains(json("contains", v)?));
    }
    if let Some(re) = &def.matches {
        tests.push(Test::Matches(
            compile_regex(re).map_err(|m| EntryError::at("matches", m))?,
        ));
    }
    if let Some(list) = &def.one_of {
        if list.is_empty() {
            return Err(EntryError::at("in", "`in` needs at least one value"));
        }
        let values = list
            .iter()
            .map(|v| json("in", v))
            .collect::<Result<Vec<_>, _>>()?;
        tests.push(Test::OneOf(values));
    }
    Ok(tests)
}

fn compile_regex(src: &str) -> Result<Regex, String> {
    Regex::new(src).map_err(|e| format!("invalid regex {src:?}: {e}"))
}

/// `status = 302` or `status = [301, 302]`.
fn status_list(v: &toml::Value) -> Result<Vec<u16>, String> {
    let items: Vec<&toml::Value> = match v {
        toml::Value::Array(a) if a.is_empty() => {
            return Err("`status` needs at least one status code".into())
        }
        toml::Value::Array(a) => a.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|item| match item {
            toml::Value::Integer(i) => u16::try_from(*i)
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| format!("{i} is not an HTTP status code (100-599)")),
            other => Err(format!(
                "`status` is a status code or a list of them (`status = 302`, `status = [301, 302]`), not {other}"
            )),
        })
        .collect()
}

/// A `header = "..."` subject as a header name.
pub(crate) fn header_name(h: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(h.as_bytes()).map_err(|_| format!("invalid header name {h:?}"))
}

/// An expected value is compared as written: a `{{ ... }}` in it would be compared as
/// text and fail every time, so it is refused with the way to write the comparison.
fn refuse_template(key: &str, value: &toml::Value) -> Result<(), EntryError> {
    let templated = match value {
        toml::Value::String(s) => s.contains("{{") || s.contains("{%"),
        toml::Value::Array(items) => items
            .iter()
            .any(|item| item.as_str().is_some_and(|s| s.contains("{{"))),
        _ => false,
    };
    if !templated {
        return Ok(());
    }
    Err(EntryError::at(
        key,
        format!(
            "`{key}` is compared as written, not rendered. To compare with a user's variable, \
             write an `expr`, which reads the response and the user's variables: \
             `{{ expr = \"json.name == me.name\" }}`"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(toml_src: &str) -> CheckDef {
        toml::from_str(toml_src).unwrap()
    }

    fn err(src: &str) -> EntryError {
        Check::compile(&def(src)).unwrap_err()
    }

    #[test]
    fn templated_expected_values_are_refused() {
        for (text, key) in [
            ("json = \"/name\"\nequals = \"{{ me.name }}\"", "equals"),
            ("header = \"X\"\nne = \"{{ x }}\"", "ne"),
            ("json = \"/a\"\nin = [\"a\", \"{{ b }}\"]", "in"),
        ] {
            let e = err(text);
            assert!(
                e.message
                    .starts_with(&format!("`{key}` is compared as written")),
                "{}",
                e.message
            );
        }
        assert!(Check::compile(&def("json = \"/name\"\nequals = \"{ not a template }\"")).is_ok());
    }

    #[test]
    fn invalid_checks_are_rejected() {
        for (bad, key) in [
            ("equals = 1", None),
            ("json = \"/a\"\nheader = \"b\"", Some("header")),
            ("json = \"a\"", Some("json")),
            ("json = \"/a/*/b\"", Some("json")),
            ("json = \"/a\"\nequals = 1\nexists = true", Some("exists")),
            ("json = \"/a\"\nlt = 1\nexists = false", Some("exists")),
            ("header = \"bad header\"", Some("header")),
            ("body_contains = \"x\"\nequals = 1", Some("equals")),
            ("status = 302\nequals = 1", Some("equals")),
            ("status = 302\nexists = true", Some("exists")),
            ("status = []", Some("status")),
            ("status = 99", Some("status")),
            ("status = \"302\"", Some("status")),
            ("url = \"/a\"\ncontains = \"b\"", Some("contains")),
            ("url_contains = \"a\"\nexists = false", Some("exists")),
            ("expr = \"1 ==\"", Some("expr")),
            ("expr = \"uuid() == 'a'\"", Some("expr")),
            ("json = \"/a\"\nlt = \"5\"", Some("lt")),
            ("json = \"/a\"\nmatches = \"(\"", Some("matches")),
            ("body_matches = \"(\"", Some("body_matches")),
            ("json = \"/a\"\nin = []", Some("in")),
            ("json = \"/a\"\nattr = \"href\"", Some("attr")),
            ("css = \"a[\"", Some("css")),
            ("cookie = \"\"", Some("cookie")),
            ("json = \"/a\"\nif = \"\"", Some("if")),
            (
                "json = \"/a\"\nmessage = \"{{ counter() }}\"",
                Some("message"),
            ),
            ("json = \"/a\"\nequalz = 1", Some("equalz")),
        ] {
            let e = err(bad);
            assert_eq!(e.key.as_deref(), key, "{bad}: {}", e.message);
        }
        let e = err("json = \"/a\"\nequalz = 1");
        assert_eq!(
            e.message,
            format!(
                "unknown key `equalz` in a check; did you mean `equals`? (expected one of: {})",
                CHECK_KEYS.join(", ")
            )
        );
        // Other names are the user's variables, validated by the request compiler.
        assert!(Check::compile(&def("expr = \"jsn.a\""))
            .unwrap()
            .reads_user());
        assert!(!Check::compile(&def("expr = \"json.a\""))
            .unwrap()
            .reads_user());
        assert!(err("json = \"/a\"\nheader = \"b\"")
            .message
            .contains("both `json` and `header`"));
        assert_eq!(
            String::from(err("json = \"/a\"\nequalz = 1"))
                .split(':')
                .next(),
            Some("`equalz`")
        );
    }
}
