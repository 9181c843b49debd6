//! `extract`: copies a value from a response into a per-user variable, from a JSON
//! pointer, a response header or a regex capture on the body; `append = true` pushes
//! onto a list bounded by `max` (default 100, oldest dropped) so memory stays flat.

use http::HeaderName;
use minijinja::Value;
use regex::Regex;

use crate::check::{check_pointer, header_name};
use crate::model::ExtractDef;
use crate::response::{catch_response_error, Parsed};
use crate::vars::{UserVars, DEFAULT_LIST_MAX};

/// One compiled entry of `extract`.
#[derive(Debug, Clone)]
pub(crate) struct Extract {
    pub var: String,
    source: Source,
    /// `Some(max)` for `append = true`.
    pub append: Option<usize>,
}

#[derive(Debug, Clone)]
enum Source {
    Json(String),
    Header(HeaderName),
    Regex(Regex, usize),
}

impl Extract {
    /// Whether the extraction needs the response body (a header does not).
    pub fn reads_body(&self) -> bool {
        !matches!(self.source, Source::Header(_))
    }

    /// Validates an `extract` entry; the error text says what is wrong (located by the caller).
    pub fn compile(def: &ExtractDef) -> Result<Extract, String> {
        if !is_identifier(&def.var) {
            return Err(format!(
                "`var = {:?}` is not a usable template variable name (letters, digits and _, not starting with a digit)",
                def.var
            ));
        }
        let sources = [
            def.json.is_some(),
            def.header.is_some(),
            def.regex.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() != 1 {
            return Err(
                "an extract needs exactly one of `json` (a JSON pointer), `header` or `regex`"
                    .into(),
            );
        }
        if def.group.is_some() && def.regex.is_none() {
            return Err("`group` applies to `regex` only".into());
        }
        if def.max.is_some() && !def.append {
            return Err("`max` applies to `append = true` only".into());
        }
        if def.max == Some(0) {
            return Err("`max` must be at least 1".into());
        }
        let source = if let Some(p) = &def.json {
            check_pointer(p)?;
            Source::Json(p.clone())
        } else if let Some(h) = &def.header {
            Source::Header(header_name(h)?)
        } else {
            let src = def.regex.clone().unwrap_or_default();
            let re = Regex::new(&src).map_err(|e| format!("invalid regex: {e}"))?;
            let group = def
                .group
                .unwrap_or(if re.captures_len() > 1 { 1 } else { 0 });
            if group >= re.captures_len() {
                return Err(format!(
                    "regex {src:?} has no capture group {group} (it has {})",
                    re.captures_len() - 1
                ));
            }
            Source::Regex(re, group)
        };
        Ok(Extract {
            var: def.var.clone(),
            source,
            append: def.append.then(|| def.max.unwrap_or(DEFAULT_LIST_MAX)),
        })
    }

    /// Stores the value; `Err` holds the failure string when it cannot be found.
    pub fn apply(&self, resp: &Parsed<'_, '_>, vars: &mut UserVars) -> Result<(), String> {
        let value = match &self.source {
            Source::Json(pointer) => {
                let doc = resp.json()?;
                let found = doc
                    .pointer(pointer)
                    .ok_or_else(|| self.fail(&format!("no value at JSON pointer {pointer}")))?;
                Value::from_serialize(found)
            }
            Source::Header(name) => Value::from(
                resp.header(name)
                    .ok_or_else(|| self.fail(&format!("no header {name} in the response")))?,
            ),
            Source::Regex(re, group) => {
                let text = String::from_utf8_lossy(resp.resp.body);
                let found = re
                    .captures(&text)
                    .and_then(|c| c.get(*group))
                    .map(|m| m.as_str().to_string())
                    .ok_or_else(|| {
                        self.fail(&format!("regex {:?} did not match the body", re.as_str()))
                    })?;
                Value::from(found)
            }
        };
        match self.append {
            Some(max) => vars.push(&self.var, value, max),
            None => vars.set(&self.var, value),
        }
        Ok(())
    }

    fn fail(&self, what: &str) -> String {
        catch_response_error(&format!("extract {}: {what}", self.var))
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::with_parsed;

    fn ex(src: &str) -> Extract {
        Extract::compile(&toml::from_str(src).unwrap()).unwrap()
    }

    fn apply(
        e: &Extract,
        body: &str,
        headers: &[(&str, &str)],
        vars: &mut UserVars,
    ) -> Result<(), String> {
        with_parsed(201, headers, body, |resp| e.apply(resp, vars))
    }

    #[test]
    fn json_pointer_keeps_the_json_type() {
        let mut vars = UserVars::new(0);
        apply(
            &ex("var = \"id\"\njson = \"/id\""),
            r#"{"id": 17}"#,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("id").unwrap(), Value::from(17));
        apply(
            &ex("var = \"u\"\njson = \"\""),
            r#"{"a": [1, 2]}"#,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("u").unwrap().get_attr("a").unwrap().len(), Some(2));
        let err = apply(&ex("var = \"id\"\njson = \"/nope\""), "{}", &[], &mut vars).unwrap_err();
        assert_eq!(
            err,
            "CatchResponseError('extract id: no value at JSON pointer /nope')"
        );
        let err = apply(&ex("var = \"id\"\njson = \"/id\""), "oops", &[], &mut vars).unwrap_err();
        assert!(err.starts_with("CatchResponseError('Could not parse response as JSON. oops, response code 201, error "), "{err}");
    }

    #[test]
    fn header_and_regex() {
        let mut vars = UserVars::new(0);
        apply(
            &ex("var = \"inst\"\nheader = \"X-Instance-ID\""),
            "",
            &[("x-instance-id", "app2")],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("inst").unwrap().as_str(), Some("app2"));
        assert!(apply(
            &ex("var = \"inst\"\nheader = \"X-Nope\""),
            "",
            &[],
            &mut vars
        )
        .is_err());
        apply(
            &ex("var = \"tok\"\nregex = \"token=(\\\\w+)\""),
            "a token=abc1 b",
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("tok").unwrap().as_str(), Some("abc1"));
        apply(
            &ex("var = \"all\"\nregex = \"t(o)k\"\ngroup = 0"),
            "tok",
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("all").unwrap().as_str(), Some("tok"));
        let err = apply(&ex("var = \"tok\"\nregex = \"zz(z)\""), "a", &[], &mut vars).unwrap_err();
        assert_eq!(
            err,
            "CatchResponseError('extract tok: regex \"zz(z)\" did not match the body')"
        );
    }

    #[test]
    fn append_is_bounded() {
        let mut vars = UserVars::new(0);
        let e = ex("var = \"ids\"\njson = \"/id\"\nappend = true\nmax = 2");
        assert_eq!(e.append, Some(2));
        for id in 1..=3 {
            apply(&e, &format!("{{\"id\": {id}}}"), &[], &mut vars).unwrap();
        }
        assert_eq!(vars.get("ids").unwrap().to_string(), "[2, 3]");
        assert_eq!(
            ex("var = \"ids\"\njson = \"/id\"\nappend = true").append,
            Some(DEFAULT_LIST_MAX)
        );
    }

    #[test]
    fn invalid_extracts_are_rejected() {
        for bad in [
            "var = \"1x\"\njson = \"/id\"",
            "var = \"a-b\"\njson = \"/id\"",
            "var = \"x\"",
            "var = \"x\"\njson = \"/a\"\nheader = \"h\"",
            "var = \"x\"\nregex = \"(\"",
            "var = \"x\"\nregex = \"a(b)\"\ngroup = 2",
            "var = \"x\"\njson = \"/a\"\ngroup = 1",
            "var = \"x\"\njson = \"/a\"\nmax = 3",
            "var = \"x\"\njson = \"/a\"\nappend = true\nmax = 0",
        ] {
            assert!(
                Extract::compile(&toml::from_str(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
