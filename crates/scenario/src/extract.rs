//! `extract`: copies values from a response into a per-user variable, from a JSON
//! pointer (`*` fans out over arrays), a response header, a regex on the body, a CSS
//! selector on HTML (text or an attribute) or a cookie the response sets.
//!
//! A source can find several values; by default the first is taken, `pick = "last"` or
//! `"random"` takes another (Locust's `random.choice(...)`, drawn without keeping the
//! others), and `all = true` keeps them all as a list (at most `max`, default 100).
//! `append = true` pushes onto a list bounded by `max` (oldest dropped), so memory stays
//! flat however long the run.

use http::HeaderName;
use minijinja::Value;
use rand::Rng;
use regex::Regex;
use serde_json::Value as Json;

use crate::check::header_name;
use crate::entry_error::EntryError;
use crate::model::ExtractDef;
use crate::response::{catch_response_error, Parsed};
use crate::select::{Css, Pointer};
use crate::source::suggest;
use crate::vars::{UserVars, DEFAULT_LIST_MAX};

/// The keys an extraction may have, for did-you-mean and the list in the error.
pub(crate) const EXTRACT_KEYS: &[&str] = &[
    "var", "json", "header", "regex", "group", "css", "attr", "cookie", "all", "pick", "append",
    "max",
];

/// One compiled entry of `extract`.
#[derive(Debug, Clone)]
pub(crate) struct Extract {
    pub var: String,
    source: Source,
    take: Take,
    /// `Some(max)` for `append = true`.
    pub append: Option<usize>,
}

#[derive(Debug, Clone)]
enum Source {
    Json(Pointer),
    Header(HeaderName),
    Regex(Regex, usize),
    Css(Css),
    Cookie(String),
}

/// Which of the values found are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Take {
    First,
    Last,
    Random,
    /// Every value, up to this many (the first ones).
    All(usize),
}

/// A value found in the response, converted to a template value only when kept.
enum Found<'x> {
    Json(&'x Json),
    Text(String),
}

impl Found<'_> {
    fn into_value(self) -> Value {
        match self {
            Found::Json(j) => Value::from_serialize(j),
            Found::Text(t) => Value::from(t),
        }
    }
}

/// What a source yielded, after `take`.
enum Taken {
    One(Value),
    Many(Vec<Value>),
    Nothing,
}

impl Extract {
    /// Whether the extraction needs the response body (a header or a cookie does not).
    pub fn reads_body(&self) -> bool {
        !matches!(self.source, Source::Header(_) | Source::Cookie(_))
    }

    /// Validates an `extract` entry; the error names the key at fault (located by the
    /// caller).
    pub fn compile(def: &ExtractDef) -> Result<Extract, EntryError> {
        if let Some(e) = EntryError::unknown_key(&def.unknown, "an extract", EXTRACT_KEYS) {
            return Err(e);
        }
        if !is_identifier(&def.var) {
            return Err(EntryError::at(
                "var",
                format!(
                    "`var = {:?}` is not a usable template variable name (letters, digits and _, not starting with a digit)",
                    def.var
                ),
            ));
        }
        crate::entry_error::exactly_one(
            &[
                ("json", def.json.is_some()),
                ("header", def.header.is_some()),
                ("regex", def.regex.is_some()),
                ("css", def.css.is_some()),
                ("cookie", def.cookie.is_some()),
            ],
            "an extract needs exactly one of `json` (a JSON pointer), `header`, `regex`, `css` or `cookie`",
            "an extract has one source",
            "write two extracts",
        )?;
        if def.group.is_some() && def.regex.is_none() {
            return Err(EntryError::at("group", "`group` applies to `regex` only"));
        }
        if def.attr.is_some() && def.css.is_none() {
            return Err(EntryError::at("attr", "`attr` applies to `css` only"));
        }
        if def.max.is_some() && !def.append && !def.all {
            return Err(EntryError::at(
                "max",
                "`max` applies to `append = true` or `all = true` only",
            ));
        }
        if def.max == Some(0) {
            return Err(EntryError::at("max", "`max` must be at least 1"));
        }
        let max = def.max.unwrap_or(DEFAULT_LIST_MAX);
        let take = match (&def.pick, def.all) {
            (Some(_), true) => {
                return Err(EntryError::at(
                    "pick",
                    "use either `all = true` (every value, as a list) or `pick` (one of them), not both",
                ))
            }
            (None, true) => Take::All(max),
            (None, false) => Take::First,
            (Some(p), false) => match p.as_str() {
                "first" => Take::First,
                "last" => Take::Last,
                "random" => Take::Random,
                other => {
                    let hint = suggest(other, ["first", "last", "random"].into_iter())
                        .map(|s| format!("; did you mean {s:?}?"))
                        .unwrap_or_default();
                    return Err(EntryError::at(
                        "pick",
                        format!("`pick = {other:?}` is not one of \"first\", \"last\", \"random\"{hint}"),
                    ));
                }
            },
        };
        let source = if let Some(p) = &def.json {
            Source::Json(Pointer::parse(p).map_err(|m| EntryError::at("json", m))?)
        } else if let Some(h) = &def.header {
            Source::Header(header_name(h).map_err(|m| EntryError::at("header", m))?)
        } else if let Some(c) = &def.css {
            Source::Css(Css::parse(c, def.attr.as_deref()).map_err(|m| EntryError::at("css", m))?)
        } else if let Some(c) = &def.cookie {
            if c.is_empty() {
                return Err(EntryError::at("cookie", "`cookie` needs a cookie name"));
            }
            Source::Cookie(c.clone())
        } else {
            let src = def.regex.clone().unwrap_or_default();
            let re = Regex::new(&src)
                .map_err(|e| EntryError::at("regex", format!("invalid regex: {e}")))?;
            let group = def
                .group
                .unwrap_or(if re.captures_len() > 1 { 1 } else { 0 });
            if group >= re.captures_len() {
                return Err(EntryError::at(
                    "group",
                    format!(
                        "regex {src:?} has no capture group {group} (it has {})",
                        re.captures_len() - 1
                    ),
                ));
            }
            Source::Regex(re, group)
        };
        Ok(Extract {
            var: def.var.clone(),
            source,
            take,
            append: def.append.then_some(max),
        })
    }

    /// Stores the value(s); `Err` holds the failure string when nothing is found (never
    /// for `all = true`: no match leaves the variable unset, so a step that reads it is
    /// skipped until a later response fills it).
    pub fn apply(&self, resp: &Parsed<'_, '_>, vars: &mut UserVars) -> Result<(), String> {
        let taken = match &self.source {
            Source::Json(pointer) => {
                let doc = resp.json()?;
                if self.take == Take::First || !pointer.fans_out() {
                    self.take(pointer.first(doc).map(Found::Json).into_iter())
                } else {
                    let limit = match self.take {
                        Take::All(max) => max,
                        _ => usize::MAX,
                    };
                    let mut found: Vec<&Json> = Vec::new();
                    let _ = pointer.each(doc, &mut |v| {
                        found.push(v);
                        if found.len() >= limit {
                            std::ops::ControlFlow::Break(())
                        } else {
                            std::ops::ControlFlow::Continue(())
                        }
                    });
                    self.take(found.into_iter().map(Found::Json))
                }
            }
            Source::Header(name) => self.take(resp.header_all(name).map(Found::Text)),
            Source::Regex(re, group) => {
                let text = resp.text();
                self.take(
                    re.captures_iter(&text)
                        .filter_map(|c| c.get(*group))
                        .map(|m| Found::Text(m.as_str().to_string())),
                )
            }
            Source::Css(css) => self.take(css.values(resp.html()).map(Found::Text)),
            Source::Cookie(name) => self.take(resp.cookie(name).map(Found::Text).into_iter()),
        };
        match (taken, self.append) {
            (Taken::One(v), Some(max)) => vars.push(&self.var, v, max),
            (Taken::One(v), None) => vars.set(&self.var, v),
            (Taken::Many(items), Some(max)) => {
                for v in items {
                    vars.push(&self.var, v, max);
                }
            }
            (Taken::Many(items), None) if items.is_empty() => vars.remove(&self.var),
            (Taken::Many(items), None) => vars.set(&self.var, Value::from(items)),
            (Taken::Nothing, _) => return Err(self.fail(&self.miss(resp))),
        }
        Ok(())
    }

    /// Keeps the values `self.take` asks for.
    fn take<'x>(&self, mut items: impl Iterator<Item = Found<'x>>) -> Taken {
        let kept = match self.take {
            Take::First => items.next(),
            Take::Last => items.last(),
            Take::Random => {
                // Reservoir sampling: the n-th value replaces the choice with
                // probability 1/n, so each is kept with the same chance and none is stored.
                let mut rng = rand::rng();
                let mut chosen = None;
                for (i, item) in items.enumerate() {
                    if rng.random_range(0..=i) == 0 {
                        chosen = Some(item);
                    }
                }
                chosen
            }
            Take::All(max) => return Taken::Many(items.take(max).map(Found::into_value).collect()),
        };
        match kept {
            Some(found) => Taken::One(found.into_value()),
            None => Taken::Nothing,
        }
    }

    /// Why nothing was found.
    fn miss(&self, resp: &Parsed<'_, '_>) -> String {
        match &self.source {
            Source::Json(pointer) => format!("no value at JSON pointer {}", pointer.as_str()),
            Source::Header(name) => format!("no header {name} in the response"),
            Source::Regex(re, _) => format!("regex {:?} did not match the body", re.as_str()),
            Source::Css(css) => css.miss(resp.html()),
            Source::Cookie(name) => format!("cookie {name} is not set by the response"),
        }
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
        assert_eq!(
            apply(
                &ex("var = \"inst\"\nheader = \"X-Nope\""),
                "",
                &[],
                &mut vars
            )
            .unwrap_err(),
            "CatchResponseError('extract inst: no header x-nope in the response')"
        );
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

    const ITEMS: &str =
        r#"{"items": [{"id": 1}, {"id": 2, "x": {"id": 9}}, {"no": 0}, {"id": 3}]}"#;

    #[test]
    fn all_and_pick_over_a_fanned_out_pointer() {
        let mut vars = UserVars::new(0);
        apply(
            &ex("var = \"ids\"\njson = \"/items/*/id\"\nall = true"),
            ITEMS,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("ids").unwrap().to_string(), "[1, 2, 3]");
        apply(
            &ex("var = \"ids\"\njson = \"/items/*/id\"\nall = true\nmax = 2"),
            ITEMS,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("ids").unwrap().to_string(), "[1, 2]");
        apply(
            &ex("var = \"one\"\njson = \"/items/*/id\""),
            ITEMS,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("one").unwrap(), Value::from(1));
        apply(
            &ex("var = \"one\"\njson = \"/items/*/id\"\npick = \"last\""),
            ITEMS,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("one").unwrap(), Value::from(3));
        apply(
            &ex("var = \"one\"\njson = \"/items/*/id\"\npick = \"first\""),
            ITEMS,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("one").unwrap(), Value::from(1));
        // Whole objects keep their type.
        apply(
            &ex("var = \"objs\"\njson = \"/items/*\"\nall = true"),
            ITEMS,
            &[],
            &mut vars,
        )
        .unwrap();
        let objs = vars.get("objs").unwrap();
        assert_eq!(objs.len(), Some(4));
        assert_eq!(
            objs.get_item_by_index(1)
                .unwrap()
                .get_attr("x")
                .unwrap()
                .get_attr("id")
                .unwrap(),
            Value::from(9)
        );
        // A list found by `all` fills a list that `append` keeps.
        let e = ex("var = \"seen\"\njson = \"/items/*/id\"\nall = true\nappend = true\nmax = 4");
        apply(&e, ITEMS, &[], &mut vars).unwrap();
        apply(&e, ITEMS, &[], &mut vars).unwrap();
        assert_eq!(vars.get("seen").unwrap().to_string(), "[3, 1, 2, 3]");
        assert_eq!(vars.list_len("seen"), 4);
    }

    #[test]
    fn random_pick_reaches_every_value() {
        let e = ex("var = \"one\"\njson = \"/items/*/id\"\npick = \"random\"");
        let mut seen = std::collections::BTreeSet::new();
        let mut vars = UserVars::new(0);
        for _ in 0..300 {
            apply(&e, ITEMS, &[], &mut vars).unwrap();
            seen.insert(vars.get("one").unwrap().to_string());
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["1", "2", "3"]);
        let err = apply(&e, r#"{"items": []}"#, &[], &mut vars).unwrap_err();
        assert_eq!(
            err,
            "CatchResponseError('extract one: no value at JSON pointer /items/*/id')"
        );
    }

    #[test]
    fn all_with_no_match_unsets_the_variable() {
        let mut vars = UserVars::new(0);
        let e = ex("var = \"ids\"\njson = \"/items/*/id\"\nall = true");
        apply(&e, ITEMS, &[], &mut vars).unwrap();
        assert!(vars.is_ready("ids"));
        apply(&e, r#"{"items": []}"#, &[], &mut vars).unwrap();
        assert!(!vars.is_ready("ids"));
        assert!(vars.get("ids").is_none());
        let links = ex("var = \"links\"\ncss = \"a\"\nattr = \"href\"\nall = true");
        apply(&links, "<p>none</p>", &[], &mut vars).unwrap();
        assert!(!vars.is_ready("links"));
    }

    #[test]
    fn regex_all_gives_every_match() {
        let mut vars = UserVars::new(0);
        let body = "id=1 id=22 id=333";
        apply(
            &ex("var = \"ids\"\nregex = \"id=(\\\\d+)\"\nall = true"),
            body,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(
            vars.get("ids").unwrap().to_string(),
            r#"["1", "22", "333"]"#
        );
        apply(
            &ex("var = \"id\"\nregex = \"id=(\\\\d+)\"\npick = \"last\""),
            body,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("id").unwrap().as_str(), Some("333"));
        apply(
            &ex("var = \"m\"\nregex = \"id=\\\\d+\"\nall = true"),
            body,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(
            vars.get("m").unwrap().to_string(),
            r#"["id=1", "id=22", "id=333"]"#
        );
    }

    const PAGE: &str = r#"<html><body>
        <form><input type="hidden" name="authenticity_token" value="s3cr3t"></form>
        <ul class="toc">
          <li><a class="internal" href="/docs/a.html">A</a></li>
          <li><a class="internal" href="/docs/b.html"> B </a></li>
          <li><a class="external" href="https://elsewhere/">X</a></li>
        </ul></body></html>"#;

    #[test]
    fn css_extracts_attributes_and_text() {
        let mut vars = UserVars::new(0);
        let token =
            ex("var = \"token\"\ncss = \"input[name=authenticity_token]\"\nattr = \"value\"");
        assert!(token.reads_body());
        apply(&token, PAGE, &[], &mut vars).unwrap();
        assert_eq!(vars.get("token").unwrap().as_str(), Some("s3cr3t"));
        apply(
            &ex("var = \"links\"\ncss = \"a.internal\"\nattr = \"href\"\nall = true"),
            PAGE,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(
            vars.get("links").unwrap().to_string(),
            r#"["/docs/a.html", "/docs/b.html"]"#
        );
        apply(
            &ex("var = \"names\"\ncss = \"ul.toc a\"\nall = true"),
            PAGE,
            &[],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("names").unwrap().to_string(), r#"["A", "B", "X"]"#);
        let one = ex("var = \"page\"\ncss = \"a.internal\"\nattr = \"href\"\npick = \"random\"");
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            apply(&one, PAGE, &[], &mut vars).unwrap();
            seen.insert(vars.get("page").unwrap().to_string());
        }
        assert_eq!(seen.len(), 2);
        assert_eq!(
            apply(
                &ex("var = \"t\"\ncss = \"input[name=nope]\"\nattr = \"value\""),
                PAGE,
                &[],
                &mut vars
            )
            .unwrap_err(),
            r#"CatchResponseError('extract t: no element matches css "input[name=nope]"')"#
        );
        assert_eq!(
            apply(
                &ex("var = \"t\"\ncss = \"form input\"\nattr = \"data-x\""),
                PAGE,
                &[],
                &mut vars
            )
            .unwrap_err(),
            r#"CatchResponseError('extract t: no element matched by css "form input" has an attribute "data-x"')"#
        );
    }

    #[test]
    fn cookies_from_set_cookie() {
        let mut vars = UserVars::new(0);
        let headers = [
            (
                "set-cookie",
                "sessionid=xyz; Path=/; HttpOnly; SameSite=Lax",
            ),
            ("set-cookie", "csrftoken=abc; Path=/"),
        ];
        let sid = ex("var = \"sid\"\ncookie = \"sessionid\"");
        assert!(!sid.reads_body());
        apply(&sid, "", &headers, &mut vars).unwrap();
        assert_eq!(vars.get("sid").unwrap().as_str(), Some("xyz"));
        assert_eq!(
            apply(
                &ex("var = \"sid\"\ncookie = \"nope\""),
                "",
                &headers,
                &mut vars
            )
            .unwrap_err(),
            "CatchResponseError('extract sid: cookie nope is not set by the response')"
        );
        // Every value of a repeated header.
        apply(
            &ex("var = \"vias\"\nheader = \"Via\"\nall = true"),
            "",
            &[("via", "a"), ("via", "b")],
            &mut vars,
        )
        .unwrap();
        assert_eq!(vars.get("vias").unwrap().to_string(), r#"["a", "b"]"#);
    }

    #[test]
    fn invalid_extracts_are_rejected() {
        for (bad, key) in [
            ("var = \"1x\"\njson = \"/id\"", Some("var")),
            ("var = \"a-b\"\njson = \"/id\"", Some("var")),
            ("var = \"x\"", None),
            ("var = \"x\"\njson = \"/a\"\nheader = \"h\"", Some("header")),
            ("var = \"x\"\nregex = \"(\"", Some("regex")),
            ("var = \"x\"\nregex = \"a(b)\"\ngroup = 2", Some("group")),
            ("var = \"x\"\njson = \"/a\"\ngroup = 1", Some("group")),
            ("var = \"x\"\njson = \"/a\"\nmax = 3", Some("max")),
            (
                "var = \"x\"\njson = \"/a\"\nappend = true\nmax = 0",
                Some("max"),
            ),
            (
                "var = \"x\"\njson = \"/a\"\nall = true\nmax = 0",
                Some("max"),
            ),
            ("var = \"x\"\njson = \"a\"", Some("json")),
            (
                "var = \"x\"\njson = \"/a\"\nall = true\npick = \"random\"",
                Some("pick"),
            ),
            (
                "var = \"x\"\njson = \"/a\"\npick = \"rnadom\"",
                Some("pick"),
            ),
            ("var = \"x\"\njson = \"/a\"\nattr = \"href\"", Some("attr")),
            ("var = \"x\"\ncss = \"a[\"", Some("css")),
            ("var = \"x\"\ncookie = \"\"", Some("cookie")),
            ("var = \"x\"\njson = \"/a\"\nappnd = true", Some("appnd")),
        ] {
            let e = Extract::compile(&toml::from_str(bad).unwrap()).unwrap_err();
            assert_eq!(e.key.as_deref(), key, "{bad}: {}", e.message);
        }
        let e =
            Extract::compile(&toml::from_str("var = \"x\"\njson = \"/a\"\nappnd = true").unwrap())
                .unwrap_err();
        assert!(
            e.message.starts_with("unknown key `appnd` in an extract; did you mean `append`? (expected one of: var, json,"),
            "{}",
            e.message
        );
        let e = Extract::compile(
            &toml::from_str("var = \"x\"\njson = \"/a\"\npick = \"rnadom\"").unwrap(),
        )
        .unwrap_err();
        assert!(
            e.message.contains("did you mean \"random\"?"),
            "{}",
            e.message
        );
    }
}
