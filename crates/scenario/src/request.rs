//! Compiling one request table (`request`, `requests[i]`, `on_start[i]`, `on_stop[i]`)
//! into a `Step`: method, URL, name, merged headers, body, status rule, checks and
//! extraction, with every template compiled and every variable accounted for.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use minijinja::Environment;
use toml::Spanned;

use crate::body::Body;
use crate::check::{Check, StatusRule};
use crate::error::{Location, ScenarioError};
use crate::extract::Extract;
use crate::model::{Pairs, RequestDef};
use crate::response_template::RESPONSE_VARS;
use crate::source::{suggest, SourceFile};
use crate::step::{
    default_name, encode_query, ClassHeader, MethodTpl, RenderedRequest, SendOptions, Step,
};
use crate::template::{Template, TemplateCompiler, BUILTIN_FUNCS, BUILTIN_VARS};

/// What compiling a request needs to know about its surroundings.
pub(crate) struct Cx<'a> {
    pub file: &'a SourceFile,
    pub class: &'a str,
    pub templates: &'a mut TemplateCompiler,
    /// Every variable some step of the class extracts.
    pub extracted: &'a BTreeSet<String>,
    /// The class's default headers (`users.X.headers`), merged into every request.
    pub class_headers: &'a Pairs<Spanned<String>>,
    /// Placeholder environment, replaced by the real one once all templates are in.
    pub env: Arc<Environment<'static>>,
}

impl Cx<'_> {
    pub fn loc(&self, span: Range<usize>, key: &str) -> Location {
        let (line, column) = self.file.line_col(span.start);
        Location {
            file: self.file.path.clone(),
            line,
            column,
            key: key.to_string(),
        }
    }

    pub(crate) fn invalid(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::Invalid {
            at: self.loc(span, key),
            message: message.into(),
        }
    }

    /// Compiles a template and checks each variable it reads against the class.
    pub(crate) fn template(
        &mut self,
        src: &Spanned<String>,
        key: &str,
        task: &str,
        used: &mut BTreeSet<String>,
    ) -> Result<Template, ScenarioError> {
        let at = self.loc(src.span(), key);
        let (t, vars) = self.templates.compile(src.get_ref(), &at)?;
        for var in vars {
            if !self.extracted.contains(&var) {
                let candidates = self
                    .extracted
                    .iter()
                    .map(String::as_str)
                    .chain(BUILTIN_VARS.iter().copied())
                    .chain(BUILTIN_FUNCS.iter().copied());
                return Err(ScenarioError::UndefinedVariable {
                    suggestion: suggest(&var, candidates),
                    at,
                    class: self.class.to_string(),
                    task: task.to_string(),
                    var,
                });
            }
            used.insert(var);
        }
        Ok(t)
    }
}

/// Compiles one request table. `key` is its dotted key, `task` the task name for messages.
pub(crate) fn compile_request(
    cx: &mut Cx<'_>,
    def: &Spanned<RequestDef>,
    key: &str,
    task: &str,
) -> Result<Step, ScenarioError> {
    let def = def.get_ref();
    let mut used = BTreeSet::new();

    let method = match &def.method {
        None => MethodTpl::Static(Method::GET),
        Some(m) if crate::template::is_plain(m.get_ref()) => {
            let upper = m.get_ref().trim().to_ascii_uppercase();
            let parsed =
                Method::from_bytes(upper.as_bytes()).map_err(|_| ScenarioError::Method {
                    at: cx.loc(m.span(), &format!("{key}.method")),
                    method: m.get_ref().clone(),
                })?;
            MethodTpl::Static(parsed)
        }
        Some(m) => MethodTpl::Dynamic(cx.template(m, &format!("{key}.method"), task, &mut used)?),
    };
    let Some(path_src) = &def.path else {
        return Err(ScenarioError::Invalid {
            at: cx.loc(0..0, key),
            message: "a request needs `path`".into(),
        });
    };
    let path = cx.template(path_src, &format!("{key}.path"), task, &mut used)?;
    let mut query = Vec::new();
    for (k, v) in &def.query.0 {
        let vkey = format!("{key}.query.{k}");
        let text = match v.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => {
                return Err(cx.invalid(
                    v.span(),
                    &vkey,
                    "a query value must be a string, number or boolean",
                ))
            }
        };
        let t = cx.template(&Spanned::new(v.span(), text), &vkey, task, &mut used)?;
        query.push((encode_query(k), t));
    }
    let name = match &def.name {
        Some(n) => Some(cx.template(n, &format!("{key}.name"), task, &mut used)?),
        None => None,
    };
    let (headers, dyn_headers, class_headers) = compile_headers(cx, def, key, task, &mut used)?;
    let cookies = crate::cookie::compile_request_cookies(cx, &def.cookies, key, task, &mut used)?;
    let (body, content_type) = crate::body::compile(cx, def, key, task, &mut used)?;
    let (mut headers, mut dyn_headers) = (headers, dyn_headers);
    let class_sets_type = class_headers
        .iter()
        .any(|h| h.name == http::header::CONTENT_TYPE);
    content_type.apply(&mut headers, &mut dyn_headers, class_sets_type);
    let status = match &def.success_status {
        None => StatusRule::Default,
        Some(list) => {
            let skey = format!("{key}.success_status");
            if list.get_ref().is_empty() {
                return Err(cx.invalid(
                    list.span(),
                    &skey,
                    "success_status must list at least one status code",
                ));
            }
            let mut codes = Vec::new();
            for code in list.get_ref() {
                match u16::try_from(*code) {
                    Ok(c) if (100..=599).contains(&c) => codes.push(c),
                    _ => {
                        return Err(cx.invalid(
                            list.span(),
                            &skey,
                            format!("{code} is not an HTTP status code (100-599)"),
                        ))
                    }
                }
            }
            StatusRule::Only(codes)
        }
    };
    let mut checks = Vec::new();
    for (i, c) in def.checks.iter().enumerate() {
        let entry_key = format!("{key}.checks[{i}]");
        let mut check =
            Check::compile(c.get_ref()).map_err(|e| e.locate(cx, c.span(), &entry_key))?;
        check_reads(cx, &mut check, c.span(), &entry_key, task, &mut used)?;
        checks.push(check);
    }
    let mut extracts = Vec::new();
    for (i, e) in def.extract.iter().enumerate() {
        extracts.push(
            Extract::compile(e.get_ref())
                .map_err(|m| m.locate(cx, e.span(), &format!("{key}.extract[{i}]")))?,
        );
    }
    let send = SendOptions {
        allow_redirects: def.allow_redirects.as_ref().map(|a| *a.get_ref()),
        ..compile_timeout(cx, def, key)?
    };
    let mut step = Step {
        label: key.strip_prefix("users.").unwrap_or(key).to_string(),
        env: cx.env.clone(),
        method,
        path,
        query,
        name,
        headers,
        dyn_headers,
        cookies,
        class_headers: class_headers.into(),
        stop_on_failure: def.stop_on_failure.as_ref().map(|s| *s.get_ref()),
        body,
        status,
        checks,
        extracts,
        needs: used.into_iter().collect(),
        send,
        fixed: None,
    };
    step.fixed = fixed_request(&step).map(Arc::new);
    Ok(step)
}

/// What a check's `if`, `expr` and `message` read beyond the response: each name must be
/// a variable of the class (or a builtin), checked as a request template's are, and is
/// required before the request is sent (as a variable of its path is). A response name
/// wins in a check, so a class variable of the same name read there is an error, and an
/// unknown name close to a response name (`jsn`) is taken for a typo of it.
fn check_reads(
    cx: &mut Cx<'_>,
    check: &mut Check,
    span: Range<usize>,
    entry_key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<(), ScenarioError> {
    let Some(templates) = check.templates_mut() else {
        return Ok(());
    };
    let at = |cx: &Cx<'_>, k: &str| {
        let text = cx.file.text.get(span.clone()).unwrap_or("");
        let offset = crate::entry_error::find_key(text, k).map_or(span.start, |i| span.start + i);
        cx.loc(offset..offset, &format!("{entry_key}.{k}"))
    };
    if let Some((k, name)) = templates
        .response_reads()
        .find(|(_, name)| cx.extracted.contains(*name))
    {
        return Err(ScenarioError::Invalid {
            at: at(cx, k),
            message: format!(
                "`{k}` reads `{name}`, which in a check is the response's `{name}`; the class also has a variable `{name}`, which a check therefore cannot read: rename the variable"
            ),
        });
    }
    let reads: Vec<(&'static str, String, String)> = templates
        .user_reads()
        .map(|(k, name, source)| (k, name.to_string(), source.to_string()))
        .collect();
    for (k, name, source) in reads {
        if name == "vars" {
            cx.templates.check_cli_vars(&source, &at(cx, k))?;
            continue;
        }
        if BUILTIN_VARS.contains(&name.as_str()) {
            continue;
        }
        if !cx.extracted.contains(&name) {
            if let Some(s) = suggest(&name, RESPONSE_VARS.iter().copied()) {
                return Err(ScenarioError::Invalid {
                    at: cx.loc(span.start..span.start, entry_key),
                    message: format!(
                        "`{k}` uses `{name}`, which a check cannot read; did you mean `{s}`? (a check sees the response: {}; and the user's variables)",
                        RESPONSE_VARS.join(", ")
                    ),
                });
            }
            let candidates = cx
                .extracted
                .iter()
                .map(String::as_str)
                .chain(BUILTIN_VARS.iter().copied());
            return Err(ScenarioError::UndefinedVariable {
                suggestion: suggest(&name, candidates),
                at: at(cx, k),
                class: cx.class.to_string(),
                task: task.to_string(),
                var: name,
            });
        }
        used.insert(name);
    }
    templates.bind_cli_vars(|| cx.templates.cli_vars());
    Ok(())
}

/// `timeout = 5` (both) or `timeout = { connect = 1, read = 5 }`, in seconds.
fn compile_timeout(cx: &Cx<'_>, def: &RequestDef, key: &str) -> Result<SendOptions, ScenarioError> {
    let Some(timeout) = &def.timeout else {
        return Ok(SendOptions::default());
    };
    let tkey = format!("{key}.timeout");
    let bad = |what: &str| {
        cx.invalid(
            timeout.span(),
            &tkey,
            format!("{what}: give seconds (`timeout = 5`) or `{{ connect = 1, read = 5 }}`, each a number > 0"),
        )
    };
    let seconds = |value: &toml::Value, what: &str| -> Result<std::time::Duration, ScenarioError> {
        let s = match value {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => return Err(bad(what)),
        };
        if !(s > 0.0 && s <= 86_400.0) {
            return Err(bad(what));
        }
        Ok(std::time::Duration::from_secs_f64(s))
    };
    match timeout.get_ref() {
        toml::Value::Table(table) => {
            if let Some(other) = table.keys().find(|k| *k != "connect" && *k != "read") {
                return Err(bad(&format!("unknown key `{other}`")));
            }
            Ok(SendOptions {
                connect_timeout: table
                    .get("connect")
                    .map(|v| seconds(v, "connect"))
                    .transpose()?,
                read_timeout: table.get("read").map(|v| seconds(v, "read")).transpose()?,
                ..SendOptions::default()
            })
        }
        value => {
            let both = seconds(value, "not a number of seconds")?;
            Ok(SendOptions {
                connect_timeout: Some(both),
                read_timeout: Some(both),
                ..SendOptions::default()
            })
        }
    }
}

/// The whole request, when nothing in it is a template.
fn fixed_request(step: &Step) -> Option<RenderedRequest> {
    let MethodTpl::Static(method) = &step.method else {
        return None;
    };
    let cookies = crate::cookie::static_request_cookies(&step.cookies)?;
    let all_static = step.path.is_static()
        && step.query.iter().all(|(_, t)| t.is_static())
        && step.name.as_ref().is_none_or(Template::is_static)
        && step.dyn_headers.is_empty()
        && step.class_headers.is_empty()
        && step.body.is_static();
    if !all_static {
        return None;
    }
    let text = |t: &Template| match t {
        Template::Static(s) => s.to_string(),
        Template::Dynamic(_) => String::new(),
    };
    let mut url = text(&step.path);
    for (i, (k, v)) in step.query.iter().enumerate() {
        url.push(if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        });
        url.push_str(&format!("{k}={}", encode_query(&text(v))));
    }
    let name = step
        .name
        .as_ref()
        .map(text)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| default_name(&url));
    let body = match &step.body {
        Body::Static(b) => Some(b.clone()),
        _ => None,
    };
    Some(RenderedRequest {
        method: method.clone(),
        url,
        name,
        headers: step.headers.clone(),
        body,
        cookies,
    })
}

type Headers = (HeaderMap, Vec<(HeaderName, Template)>, Vec<ClassHeader>);

/// Class headers, then the request's (a request header replaces a class one).
fn compile_headers(
    cx: &mut Cx<'_>,
    def: &RequestDef,
    key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<Headers, ScenarioError> {
    let class_key = format!("users.{}.headers", cx.class);
    let mut merged: Vec<(HeaderName, String, &Spanned<String>, bool)> = Vec::new();
    let class_headers = cx.class_headers;
    let sources = class_headers
        .0
        .iter()
        .map(|(n, v)| (n, v, class_key.clone(), true))
        .chain(
            def.headers
                .0
                .iter()
                .map(|(n, v)| (n, v, format!("{key}.headers"), false)),
        );
    for (name, value, prefix, of_class) in sources {
        let hkey = format!("{prefix}.{name}");
        let hname = HeaderName::from_bytes(name.as_bytes()).map_err(|_| ScenarioError::Header {
            at: cx.loc(value.span(), &hkey),
            name: name.clone(),
            reason: "not a valid header name".into(),
        })?;
        merged.retain(|(n, _, _, _)| *n != hname);
        merged.push((hname, hkey, value, of_class));
    }
    let mut fixed = HeaderMap::new();
    let mut dynamic = Vec::new();
    let mut class_dynamic = Vec::new();
    for (hname, hkey, value, of_class) in merged {
        // A class header's variables never hold a request back: until they are set, the
        // header is not sent (the login in on_start that sets a token runs without it).
        let mut own = BTreeSet::new();
        let needs = if of_class { &mut own } else { &mut *used };
        let t = cx.template(value, &hkey, task, needs)?;
        if of_class && !t.is_static() {
            class_dynamic.push(ClassHeader {
                name: hname,
                template: t,
                needs: own.into_iter().collect(),
                volatile: !crate::template_scan::scan(value.get_ref()).calls.is_empty(),
            });
            continue;
        }
        match &t {
            Template::Static(s) => {
                let v = HeaderValue::from_str(s).map_err(|_| ScenarioError::Header {
                    at: cx.loc(value.span(), &hkey),
                    name: hname.to_string(),
                    reason: format!("invalid value {s:?}"),
                })?;
                fixed.insert(hname, v);
            }
            Template::Dynamic(_) => dynamic.push((hname, t)),
        }
    }
    Ok((fixed, dynamic, class_dynamic))
}
