//! minijinja over a response, for checks: `expr` and `if` (expressions judged for
//! truth, Jinja's rules) and templated `message`s. What they see is the response —
//! `status`, `reason`, `url`, `headers`, `cookies`, `json`, `text` — and the user's
//! variables (extracted, class `vars`, fed rows, setup globals, `user_id`, `vars.KEY`).
//! A response name wins over a variable of the same name; the request compiler refuses
//! a check that reads a name which is both. Checks run before the step's extraction, so
//! a variable the same step extracts still holds its previous value.
//!
//! Each check that has such a template keeps a small environment of its own: checks are
//! compiled and judged without the class's template environment (the step evaluates a
//! response without one), and a check's templates must not see the request builtins
//! (`counter()`, `random_int`, …) that need a render state. Expressions are parsed once
//! at load (stored as `{% if (expr) %}1{% endif %}`); undefined values are chainable
//! (`json.data.foo` is undefined, not an error, when `data` is missing, so
//! `json.data.foo == 1` is simply false). The names a template reads outside the
//! response are kept ([`ResponseTemplates::user_reads`]) for the request compiler, which
//! validates them as variables of the class (did-you-mean included); only those names
//! are copied from the user's context when the check is judged.
//!
//! The body is copied into the context only when a template reads `text`; `json` is the
//! parsed document shared, walked lazily (no conversion of the whole tree).

use std::collections::BTreeSet;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde_json::Value as Json;

use crate::response::Parsed;
use crate::template::describe;
use crate::template_funcs::BUILTIN_FUNCS;

/// The response names a check template can read (besides the user's variables).
pub(crate) const RESPONSE_VARS: &[&str] = &[
    "status", "reason", "url", "headers", "cookies", "json", "text",
];
/// minijinja's own globals, usable too.
const GLOBALS: &[&str] = &["range", "dict", "namespace", "debug"];
/// The longest rendered message kept (in characters); a longer one is cut and ends
/// with `...`, so that a template quoting the body cannot flood the error table.
pub(crate) const MESSAGE_MAX_CHARS: usize = 500;

/// Collects a check's templates while it is compiled.
pub(crate) struct TemplatesBuilder {
    env: Environment<'static>,
    uses: Vec<Uses>,
}

/// What one template of a check reads.
#[derive(Debug, Clone)]
struct Uses {
    /// The template's name, also its key: `if`, `expr` or `message`.
    name: &'static str,
    /// The response names put into its context (a name merely mentioned counts too).
    response: BTreeSet<String>,
    /// The response names it reads as variables (for the shadowing rule).
    response_read: BTreeSet<String>,
    /// The other names it reads: the user's variables (`user_id` and `vars` included).
    user: Vec<String>,
    /// Its source, for the load-time check of `vars.KEY`.
    source: String,
}

/// A check's compiled templates, by name (`if`, `expr`, `message`).
#[derive(Debug, Clone)]
pub(crate) struct ResponseTemplates {
    env: Arc<Environment<'static>>,
    uses: Vec<Uses>,
    /// `vars` (the `--var`s), when a template reads it.
    cli_vars: Option<Value>,
}

impl TemplatesBuilder {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(crate::template::MAX_FUEL));
        crate::template::add_size_guards(&mut env);
        TemplatesBuilder {
            env,
            uses: Vec::new(),
        }
    }

    /// Adds an expression (`if`, `expr`) under `name`; `key` names it in errors.
    pub fn expression(&mut self, name: &'static str, key: &str, src: &str) -> Result<(), String> {
        if src.trim().is_empty() {
            return Err(format!(
                "`{key}` is empty; write an expression such as \"json.status == 'ok'\""
            ));
        }
        self.env
            .compile_expression(src)
            .map_err(|e| format!("`{key} = {src:?}` is not an expression: {}", describe(&e)))?;
        self.add(name, key, format!("{{% if ({src}) %}}1{{% endif %}}"))
    }

    /// Adds a text template (`message`) under `name`.
    pub fn text(&mut self, name: &'static str, key: &str, src: &str) -> Result<(), String> {
        self.add(name, key, src.to_string())
            .map_err(|e| format!("{e} (in `{key}`)"))
    }

    fn add(&mut self, name: &'static str, key: &str, source: String) -> Result<(), String> {
        crate::template::check_nesting(&source).map_err(|e| format!("template error: {e}"))?;
        self.env
            .add_template_owned(name, source)
            .map_err(|e| format!("template error: {}", describe(&e)))?;
        let (vars, source) = match self.env.get_template(name) {
            Ok(t) => (t.undeclared_variables(false), t.source().to_string()),
            Err(_) => Default::default(),
        };
        // minijinja's analysis misses the value of a slice (`text[:250]`, `me[:3]`).
        let scanned = crate::template_scan::scan(&source);
        let sliced = scanned
            .subscripted
            .iter()
            .map(|u| u.name)
            .filter(|n| !scanned.bound.contains(n))
            .map(str::to_string);
        let mut uses = Uses {
            name,
            response: BTreeSet::new(),
            response_read: BTreeSet::new(),
            user: Vec::new(),
            source: String::new(),
        };
        for var in vars.into_iter().chain(sliced) {
            if GLOBALS.contains(&var.as_str()) {
                continue;
            }
            if RESPONSE_VARS.contains(&var.as_str()) {
                uses.response_read.insert(var);
            } else if BUILTIN_FUNCS.contains(&var.as_str()) {
                return Err(format!(
                    "`{key}` uses `{var}`, which a check cannot read (the request functions are not available in checks)"
                ));
            } else if !uses.user.contains(&var) {
                uses.user.push(var);
            }
        }
        uses.response = uses.response_read.clone();
        // A response name written anywhere counts as read, so the body is kept whenever
        // it may be needed.
        for var in RESPONSE_VARS {
            if mentions(&source, var) {
                uses.response.insert((*var).to_string());
            }
        }
        uses.source = source;
        self.uses.retain(|u| u.name != name);
        self.uses.push(uses);
        Ok(())
    }

    /// The templates, or `None` when none was added.
    pub fn finish(self) -> Option<ResponseTemplates> {
        (!self.uses.is_empty()).then(|| ResponseTemplates {
            env: Arc::new(self.env),
            uses: self.uses,
            cli_vars: None,
        })
    }
}

impl ResponseTemplates {
    /// Whether a template reads the body (`json` or `text`).
    pub fn reads_body(&self) -> bool {
        self.uses
            .iter()
            .any(|u| u.response.contains("json") || u.response.contains("text"))
    }

    /// Whether a template reads a user variable (the check then needs the user's
    /// context when it is judged).
    pub fn reads_user(&self) -> bool {
        self.uses.iter().any(|u| !u.user.is_empty())
    }

    /// The user's variables each template reads, as (key, name, template source).
    pub fn user_reads(&self) -> impl Iterator<Item = (&'static str, &str, &str)> + '_ {
        self.uses.iter().flat_map(|u| {
            u.user
                .iter()
                .map(move |v| (u.name, v.as_str(), u.source.as_str()))
        })
    }

    /// The response names each template reads as variables, as (key, name).
    pub fn response_reads(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.uses
            .iter()
            .flat_map(|u| u.response_read.iter().map(move |v| (u.name, v.as_str())))
    }

    /// Gives the templates the value of `vars` (the `--var`s), kept only when one reads it.
    pub fn bind_cli_vars(&mut self, vars: impl FnOnce() -> Value) {
        if self.uses.iter().any(|u| u.user.iter().any(|v| v == "vars")) {
            self.cli_vars = Some(vars());
        }
    }

    /// The context to evaluate the template `name` in, holding only what it reads: the
    /// response names, and the user's variables it reads taken from `user` (the user's
    /// render context, given when [`reads_user`](Self::reads_user)). With `need_json`, a
    /// body that is not JSON is the failure (Locust's text, as `response.json()` raising
    /// in a `catch_response` block); without, `json` is undefined then.
    pub fn context(
        &self,
        name: &str,
        resp: &Parsed<'_, '_>,
        need_json: bool,
        user: Option<&Value>,
    ) -> Result<Value, String> {
        let Some(uses) = self.uses.iter().find(|u| u.name == name) else {
            return Ok(Value::UNDEFINED);
        };
        let mut pairs: Vec<(&str, Value)> =
            Vec::with_capacity(uses.response.len() + uses.user.len());
        for var in &uses.user {
            let value = match (var.as_str(), user) {
                ("vars", _) => self.cli_vars.clone(),
                (_, Some(ctx)) => ctx.get_attr(var).ok().filter(|v| !v.is_undefined()),
                (_, None) => None,
            };
            if let Some(value) = value {
                pairs.push((var.as_str(), value));
            }
        }
        let uses = &uses.response;
        for var in RESPONSE_VARS {
            if !uses.contains(*var) {
                continue;
            }
            let value = match *var {
                "status" => Value::from(resp.resp.status),
                "reason" => Value::from(resp.resp.reason),
                "url" => Value::from(resp.resp.url),
                "headers" => Value::from_object(Headers::of(resp.resp.headers)),
                "cookies" => Value::from_iter(resp.cookies()),
                "json" => match resp.json_shared() {
                    Ok(doc) => json_value(doc, &[]),
                    Err(e) if need_json => return Err(e),
                    Err(_) => Value::UNDEFINED,
                },
                "text" => Value::from(resp.text().into_owned()),
                _ => Value::UNDEFINED,
            };
            pairs.push((var, value));
        }
        Ok(Value::from_iter(pairs))
    }

    /// Whether the expression stored under `name` holds.
    pub fn holds(&self, name: &str, ctx: &Value) -> Result<bool, String> {
        self.render(name, ctx).map(|out| out == "1")
    }

    /// Renders the template stored under `name`.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, String> {
        self.env
            .get_template(name)
            .and_then(|t| crate::template::render_bounded(&t, ctx))
            .map_err(|e| describe(&e))
    }
}

/// Whether `name` occurs in `source` as a whole word.
fn mentions(source: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source.match_indices(name).any(|(i, _)| {
        let before = source[..i].chars().next_back();
        let after = source[i + name.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// A message cut to [`MESSAGE_MAX_CHARS`].
pub(crate) fn bounded(message: String) -> String {
    match message.char_indices().nth(MESSAGE_MAX_CHARS) {
        None => message,
        Some((cut, _)) => format!("{}...", &message[..cut]),
    }
}

/// Response headers by name, case-insensitively (`headers['X-Cache']`); a header sent
/// several times reads as its values joined by `, ` (requests' `response.headers`).
#[derive(Debug)]
struct Headers(Vec<(String, String)>);

impl Headers {
    fn of(map: &http::HeaderMap) -> Headers {
        let mut out: Vec<(String, String)> = Vec::new();
        for name in map.keys() {
            let values: Vec<String> = map
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            out.push((name.as_str().to_string(), values.join(", ")));
        }
        Headers(out)
    }
}

impl Object for Headers {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(key))
            .map(|(_, v)| Value::from(v.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.0
                .iter()
                .map(|(n, _)| Value::from(n.as_str()))
                .collect(),
        )
    }
}

/// One step of the path from the document root to a [`JsonNode`].
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// An array or object inside the shared document, read lazily: `json.data.items[0].id`
/// walks the document, it never copies it into template values.
#[derive(Debug)]
struct JsonNode {
    root: Arc<Json>,
    path: Vec<Step>,
}

impl JsonNode {
    fn node(&self) -> &Json {
        let mut at: &Json = &self.root;
        for step in &self.path {
            let next = match (step, at) {
                (Step::Key(k), Json::Object(map)) => map.get(k.as_str()),
                (Step::Index(i), Json::Array(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => at = n,
                None => return &Json::Null,
            }
        }
        at
    }

    fn child(&self, step: Step) -> Value {
        let mut path = self.path.clone();
        path.push(step);
        json_value(&self.root, &path)
    }
}

/// The template value of the node at `path` in `root`: scalars as plain values, arrays
/// and objects as [`JsonNode`]s.
fn json_value(root: &Arc<Json>, path: &[Step]) -> Value {
    let node = JsonNode {
        root: root.clone(),
        path: path.to_vec(),
    };
    match node.node() {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(_) | Json::Object(_) => Value::from_object(node),
    }
}

impl Object for JsonNode {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.node() {
            Json::Array(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match self.node() {
            Json::Array(items) => {
                let idx = i64::try_from(key.clone()).ok()?;
                let len = items.len() as i64;
                let idx = if idx < 0 { len + idx } else { idx };
                let idx = usize::try_from(idx).ok().filter(|i| *i < items.len())?;
                Some(self.child(Step::Index(idx)))
            }
            Json::Object(map) => {
                let k = key.as_str()?;
                map.contains_key(k)
                    .then(|| self.child(Step::Key(k.to_string())))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Json::Array(items) => Enumerator::Seq(items.len()),
            Json::Object(map) => {
                Enumerator::Values(map.keys().map(|k| Value::from(k.as_str())).collect())
            }
            _ => Enumerator::Empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::with_parsed;

    fn templates(exprs: &[(&'static str, &str)], message: Option<&str>) -> ResponseTemplates {
        let mut b = TemplatesBuilder::new();
        for (name, src) in exprs {
            b.expression(name, name, src).unwrap();
        }
        if let Some(m) = message {
            b.text("message", "message", m).unwrap();
        }
        b.finish().unwrap()
    }

    fn holds(src: &str, body: &str, headers: &[(&str, &str)]) -> Result<bool, String> {
        let t = templates(&[("expr", src)], None);
        with_parsed(200, headers, body, |resp| {
            let ctx = t.context("expr", resp, true, None)?;
            t.holds("expr", &ctx)
        })
    }

    #[test]
    fn expressions_over_the_response() {
        let body = r#"{"data": {"foo": 1, "items": [{"id": 7}, {"id": 8}], "name": "bob"}}"#;
        for (src, want) in [
            ("json.data.foo == 1", true),
            ("json.data.foo == 2", false),
            ("json['data']['foo'] == 1", true),
            ("json.data.missing.deeper == 1", false),
            ("json.data.items | length == 2", true),
            ("json.data.items[-1].id == 8", true),
            ("json.data.items[0] == {'id': 7}", true),
            (
                "json.data.items | map(attribute='id') | list == [7, 8]",
                true,
            ),
            ("'name' in json.data", true),
            ("'nope' in json.data", false),
            ("status == 200 and 'bob' in text", true),
            ("headers['X-Cache'] == 'HIT'", true),
            ("headers['x-cache'] == 'HIT'", true),
            ("'X-Cache' in headers", true),
            ("url is endingwith('skip=0')", true),
            ("'localhost' in url", true),
            ("cookies.session == 'abc'", true),
            ("reason == 'OK'", true),
            ("json.data", true),
            ("json.data.nope", false),
        ] {
            assert_eq!(
                holds(
                    src,
                    body,
                    &[("x-cache", "HIT"), ("set-cookie", "session=abc; Path=/")]
                ),
                Ok(want),
                "{src}"
            );
        }
    }

    #[test]
    fn json_that_does_not_parse_is_locusts_failure_when_needed() {
        let err = holds("json.a == 1", "<html>", &[]).unwrap_err();
        assert!(
            err.starts_with("CatchResponseError('Could not parse response as JSON. <html>"),
            "{err}"
        );
        assert_eq!(holds("'html' in text", "<html>", &[]), Ok(true));
        // A message reading json renders without it.
        let t = templates(&[], Some("got [{{ json.a }}] from {{ text }}"));
        let out = with_parsed(200, &[], "<html>", |resp| {
            let ctx = t.context("message", resp, false, None).unwrap();
            t.render("message", &ctx).unwrap()
        });
        assert_eq!(out, "got [] from <html>");
    }

    #[test]
    fn unknown_names_and_bad_syntax_are_rejected_at_load() {
        let mut b = TemplatesBuilder::new();
        let err = b.expression("expr", "expr", "json.a ==").unwrap_err();
        assert!(err.contains("is not an expression"), "{err}");
        let err = b.expression("expr", "expr", "1 %}{% if 1").unwrap_err();
        assert!(err.contains("is not an expression"), "{err}");
        assert!(b.expression("expr", "expr", "  ").is_err());
        let err = b.text("message", "message", "{{ oops }").unwrap_err();
        assert!(err.contains("template error"), "{err}");
        let err = b.text("message", "message", "{{ uuid() }}").unwrap_err();
        assert!(err.contains("a check cannot read"), "{err}");
        assert!(b.finish().is_none());
        // Names outside the response are the user's, kept for the request compiler
        // (which validates them and reports `jsn` as a typo of `json`).
        let mut b = TemplatesBuilder::new();
        b.expression("expr", "expr", "jsn.a == 1 and status == 200")
            .unwrap();
        b.text("message", "message", "{{ me[:2] }} {{ 'text' }}")
            .unwrap();
        let t = b.finish().unwrap();
        assert!(t.reads_user());
        let user: Vec<_> = t.user_reads().map(|(k, n, _)| (k, n)).collect();
        assert_eq!(user, [("expr", "jsn"), ("message", "me")]);
        let response: Vec<_> = t.response_reads().collect();
        assert_eq!(response, [("expr", "status")]);
        assert!(t.reads_body(), "a mentioned `text` keeps the body");
        let mut b = TemplatesBuilder::new();
        b.text(
            "message",
            "message",
            "{% for i in range(2) %}{{ i }}{% endfor %}",
        )
        .unwrap();
        let t = b.finish().unwrap();
        assert!(!t.reads_body());
    }

    #[test]
    fn reads_body_only_for_json_and_text() {
        assert!(!templates(&[("expr", "status == 200 and headers.x")], None).reads_body());
        assert!(templates(&[("expr", "json.a")], None).reads_body());
        assert!(templates(&[], Some("{{ text[:10] }}")).reads_body());
        assert!(templates(&[], Some("{{ json['a'][1:] }}")).reads_body());
        assert!(!templates(&[], Some("{{ status }} {{ 'contexts' }}")).reads_body());
        assert!(mentions("a text", "text") && !mentions("context", "text"));
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(bounded("short".into()), "short");
        let long = "é".repeat(MESSAGE_MAX_CHARS + 10);
        let cut = bounded(long);
        assert_eq!(cut.chars().count(), MESSAGE_MAX_CHARS + 3);
        assert!(cut.ends_with("é..."));
    }
}
