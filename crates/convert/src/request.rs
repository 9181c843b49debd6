//! `self.client.get(url, name=..., json=..., ...)`, `.request(method, url, ...)` and
//! FastHttpUser's `self.rest(method, url, ...)` into a request: method, path and the
//! requests keyword arguments Locust users pass (`name`, `json`, `data`, `params`,
//! `headers`, `files`, `cookies`, `allow_redirects`, `timeout`, `catch_response`).

use rustpython_parser::ast::{self, Expr};

use crate::context::{const_str, dotted, Fx};
use crate::model::{Request, Val};
use crate::pyexpr::Tr;

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

/// A recognised request call: the request, and whether it was made with
/// `catch_response=True` (or by `rest`, which always catches).
pub struct Call {
    pub request: Request,
    pub catches: bool,
}

impl Fx<'_, '_> {
    /// Whether `call` sends a request, and if so the request (or why it cannot be
    /// converted). `plain_requests` also accepts the `requests` library's functions
    /// (`requests.post(...)`, in event listeners).
    pub fn client_call(&mut self, call: &ast::ExprCall, plain_requests: bool) -> Option<Tr<Call>> {
        let Expr::Attribute(f) = call.func.as_ref() else {
            return None;
        };
        let verb = f.attr.as_str();
        let is_client = self.is_client(&f.value)
            || (plain_requests && dotted(&f.value).as_deref() == Some("requests"));
        let is_rest = verb == "rest" && self.is_self(&f.value);
        if !is_client && !is_rest {
            if METHODS.contains(&verb) || verb == "request" {
                if let Some(other) = self.self_attr(&f.value) {
                    if other.ends_with("client") || other.ends_with("session") {
                        return Some(Err(format!(
                            "`self.{other}` is a second HTTP session: write its requests with absolute URLs"
                        )));
                    }
                }
            }
            return None;
        }
        let (method, rest_args) = if is_rest || verb == "request" {
            let Some(m) = call.args.first().and_then(const_str) else {
                return Some(Err("a method computed at run time".into()));
            };
            let m = if m.is_empty() { "GET" } else { m };
            (m.to_ascii_uppercase(), &call.args[1..])
        } else if METHODS.contains(&verb) {
            (verb.to_ascii_uppercase(), &call.args[..])
        } else {
            return None;
        };
        Some(self.build(call, method, rest_args, is_rest))
    }

    fn build(
        &mut self,
        call: &ast::ExprCall,
        method: String,
        args: &[Expr],
        is_rest: bool,
    ) -> Tr<Call> {
        let url = args
            .first()
            .or_else(|| crate::context::kwarg(call, "url"))
            .ok_or("a request without a URL")?;
        let stripped = without_host(url);
        let url = stripped.as_ref().unwrap_or(url);
        let mut request = Request {
            method: method.clone(),
            path: self.template(url)?,
            ..Request::default()
        };
        let mut catches = is_rest;
        let mut headers: Vec<(String, Val)> = Vec::new();
        if is_rest {
            headers.push(("Content-Type".into(), Val::Str("application/json".into())));
            headers.push(("Accept".into(), Val::Str("application/json".into())));
        }
        // The second positional argument: `params` of get, `data` of the others.
        if let Some(second) = args.get(1) {
            let key = if method == "GET" { "params" } else { "data" };
            self.keyword(&mut request, &mut headers, &mut catches, key, second)?;
        }
        if args.len() > 2 {
            return Err("more positional arguments than url and data".into());
        }
        for k in &call.keywords {
            let Some(name) = &k.arg else {
                return Err("`**kwargs` passed to a request".into());
            };
            if name.as_str() == "url" {
                continue;
            }
            self.keyword(
                &mut request,
                &mut headers,
                &mut catches,
                name.as_str(),
                &k.value,
            )?;
        }
        if !headers.is_empty() {
            request.fields.push(("headers".into(), Val::Table(headers)));
        }
        if let Some(name) = self.renames.last() {
            if !request.fields.iter().any(|(k, _)| k == "name") {
                request
                    .fields
                    .insert(0, ("name".into(), Val::Str(name.clone())));
            }
        }
        Ok(Call { request, catches })
    }

    fn keyword(
        &mut self,
        request: &mut Request,
        headers: &mut Vec<(String, Val)>,
        catches: &mut bool,
        key: &str,
        value: &Expr,
    ) -> Tr<()> {
        let field = |k: &str, v: Val| (k.to_string(), v);
        match key {
            "name" => {
                let v = self.template(value)?;
                request.fields.insert(0, field("name", Val::Str(v)));
            }
            "json" => {
                let v = self.val(value)?;
                request.fields.push(field("json", v));
            }
            "data" => match self.val(value)? {
                Val::Str(s) => request.fields.push(field("body", Val::Str(s))),
                Val::Table(t) => request.fields.push(field("form", Val::Table(t))),
                _ => return Err("`data=` that is neither text nor a dict".into()),
            },
            "params" => match self.val(value)? {
                Val::Table(t) => request.fields.push(field("query", Val::Table(t))),
                _ => return Err("`params=` that is not a dict".into()),
            },
            "headers" => match self.val(value)? {
                Val::Table(t) => headers.extend(t),
                _ => return Err("`headers=` that is not a dict".into()),
            },
            "cookies" => match self.val(value)? {
                Val::Table(t) => request.fields.push(field("cookies", Val::Table(t))),
                _ => return Err("`cookies=` that is not a dict".into()),
            },
            "files" => {
                let files = self.files(value)?;
                request.fields.push(field("files", files));
            }
            "allow_redirects" => match self.literal(value) {
                Some(Val::Bool(b)) => request.fields.push(field("allow_redirects", Val::Bool(b))),
                _ => return Err("`allow_redirects=` computed at run time".into()),
            },
            "timeout" => match self.literal(value) {
                Some(v @ (Val::Int(_) | Val::Float(_))) => request.fields.push(field("timeout", v)),
                Some(Val::Arr(pair)) if pair.len() == 2 => request.fields.push(field(
                    "timeout",
                    Val::Table(vec![
                        ("connect".into(), pair[0].clone()),
                        ("read".into(), pair[1].clone()),
                    ]),
                )),
                _ => return Err("`timeout=` that is not a number or a (connect, read) pair".into()),
            },
            "catch_response" => match self.literal(value) {
                Some(Val::Bool(b)) => *catches = b,
                _ => return Err("`catch_response=` computed at run time".into()),
            },
            "verify" => return Err("`verify=` is a run-wide flag: --insecure or --cacert".into()),
            "cert" => return Err("`cert=` is a run-wide flag: --cert and --key".into()),
            "proxies" => return Err("`proxies=` is a run-wide flag: --proxy".into()),
            other => {
                return Err(format!(
                    "the request argument `{other}=` has no counterpart"
                ))
            }
        }
        Ok(())
    }

    /// `files={"f": open("a.png", "rb")}` or `{"f": ("a.png", open(...), "image/png")}`.
    fn files(&mut self, value: &Expr) -> Tr<Val> {
        let Expr::Dict(d) = value else {
            return Err("`files=` that is not a dict".into());
        };
        let mut out = Vec::new();
        for (k, v) in d.keys.iter().zip(&d.values) {
            let key = k
                .as_ref()
                .and_then(const_str)
                .ok_or("a files key computed at run time")?;
            let file = match v {
                Expr::Tuple(t) if t.elts.len() >= 2 => {
                    let mut fields = vec![("path".to_string(), Val::Str(open_path(&t.elts[1])?))];
                    if let Some(name) = const_str(&t.elts[0]) {
                        fields.push(("filename".into(), Val::Str(name.into())));
                    }
                    if let Some(ct) = t.elts.get(2).and_then(const_str) {
                        fields.push(("content_type".into(), Val::Str(ct.into())));
                    }
                    Val::Table(fields)
                }
                other => Val::Str(open_path(other)?),
            };
            out.push((key.to_string(), file));
        }
        Ok(Val::Table(out))
    }
}

/// `f"{self.host}/x"`, `environment.host + "/x"`: the URL without the host (requests go
/// to the class's host anyway).
fn without_host(url: &Expr) -> Option<Expr> {
    let is_host = |e: &Expr| dotted(e).is_some_and(|d| d.ends_with(".host"));
    match url {
        Expr::JoinedStr(j) => match j.values.first()? {
            Expr::FormattedValue(fv) if is_host(&fv.value) => {
                let mut rest = j.clone();
                rest.values.remove(0);
                Some(Expr::JoinedStr(rest))
            }
            _ => None,
        },
        Expr::BinOp(b) if matches!(b.op, ast::Operator::Add) && is_host(&b.left) => {
            Some(b.right.as_ref().clone())
        }
        _ => None,
    }
}

/// The path of `open("path", "rb")`.
fn open_path(e: &Expr) -> Tr<String> {
    if let Expr::Call(c) = e {
        if dotted(&c.func).as_deref() == Some("open") {
            if let Some(p) = c.args.first().and_then(const_str) {
                return Ok(p.to_string());
            }
        }
    }
    Err("a file that is not `open(\"literal path\", ...)`".into())
}
