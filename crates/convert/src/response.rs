//! Reading a response: `r.json()["a"][0]`, `r.status_code`, `r.text`, `r.headers[...]`,
//! `r.cookies[...]`, `r.url`. Inside `with ... catch_response=True as r` they are the
//! names a check reads (`json.a[0]`, `status`); elsewhere a value read from a response
//! becomes an `extract` on the request that made it, into a variable. Also `val`, a
//! Python value as a TOML value.

use rustpython_parser::ast::{self, Expr};

use crate::context::{const_int, const_str, Fx, RespRef, Seg};
use crate::model::{Req, Val};
use crate::pyexpr::{jstr, Tr};

/// What an expression reads from a response.
pub enum Access {
    Whole(RespRef),
    Json(RespRef, Vec<Seg>),
    Status(RespRef),
    Text(RespRef),
    Url(RespRef),
    Ok(RespRef),
    Header(RespRef, String),
    Cookie(RespRef, String),
    /// `r.headers` or `r.cookies` as a whole (`"X" in r.headers`).
    Named(RespRef, &'static str),
}

/// A JSON pointer of `segs`.
pub fn pointer(segs: &[Seg]) -> String {
    segs.iter()
        .map(|s| match s {
            Seg::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => format!("/{i}"),
            Seg::All => "/*".to_string(),
        })
        .collect()
}

fn json_code(segs: &[Seg]) -> String {
    let mut out = String::from("json");
    for s in segs {
        match s {
            Seg::Key(k) => out.push_str(&format!("[{}]", jstr(k))),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::All => {}
        }
    }
    out
}

impl Fx<'_, '_> {
    /// What `e` reads from a response, if it reads one.
    pub fn resp_access(&mut self, e: &Expr) -> Tr<Option<Access>> {
        Ok(match e {
            Expr::Name(n) => self.responses.get(n.id.as_str()).map(|r| match &r.json {
                Some(path) => Access::Json(r.clone(), path.clone()),
                None => Access::Whole(r.clone()),
            }),
            Expr::Attribute(a) => {
                let Some(Access::Whole(r)) = self.resp_access(&a.value)? else {
                    return Ok(None);
                };
                Some(match a.attr.as_str() {
                    "status_code" => Access::Status(r),
                    "text" | "content" => Access::Text(r),
                    "url" => Access::Url(r),
                    "ok" => Access::Ok(r),
                    "js" => Access::Json(r, Vec::new()),
                    "headers" => Access::Named(r, "headers"),
                    "cookies" => Access::Named(r, "cookies"),
                    other => {
                        return Err(format!(
                            "`response.{other}` has no counterpart (a check reads status, text, json, headers, cookies and url)"
                        ))
                    }
                })
            }
            Expr::Subscript(s) => {
                let key = const_str(&s.slice)
                    .map(|k| Seg::Key(k.to_string()))
                    .or_else(|| const_int(&s.slice).map(Seg::Index));
                self.sub_access(&s.value, key)?
            }
            Expr::Call(call) => {
                let Expr::Attribute(m) = call.func.as_ref() else {
                    return Ok(None);
                };
                match (m.attr.as_str(), call.args.len()) {
                    ("json", 0) => match self.resp_access(&m.value)? {
                        Some(Access::Whole(r)) => Some(Access::Json(r, Vec::new())),
                        _ => None,
                    },
                    ("get", 1) => {
                        let key = const_str(&call.args[0]).map(|k| Seg::Key(k.to_string()));
                        self.sub_access(&m.value, key)?
                    }
                    _ => None,
                }
            }
            _ => None,
        })
    }

    fn sub_access(&mut self, base: &Expr, key: Option<Seg>) -> Tr<Option<Access>> {
        // r.headers["X"], r.cookies["x"]
        if let Expr::Attribute(a) = base {
            if matches!(a.attr.as_str(), "headers" | "cookies") {
                if let Some(Access::Whole(r)) = self.resp_access(&a.value)? {
                    let Some(Seg::Key(k)) = key else {
                        return Err("a header or cookie named at run time".into());
                    };
                    return Ok(Some(if a.attr.as_str() == "headers" {
                        Access::Header(r, k)
                    } else {
                        Access::Cookie(r, k)
                    }));
                }
            }
        }
        match self.resp_access(base)? {
            Some(Access::Json(r, mut path)) => {
                let seg = key.ok_or("a JSON key computed at run time cannot be extracted")?;
                path.push(seg);
                Ok(Some(Access::Json(r, path)))
            }
            Some(_) => Err("this part of a response has no counterpart".into()),
            None => Ok(None),
        }
    }

    /// The code of a response read: a check name inside the response's `with` block, else
    /// an extraction into a variable.
    pub fn resp_code(&mut self, access: Access) -> Tr<String> {
        let in_check = |fx: &Self, r: &RespRef| r.in_with && fx.checking.is_some();
        match access {
            Access::Json(r, path) if in_check(self, &r) => Ok(json_code(&path)),
            Access::Status(r) if in_check(self, &r) => Ok("status".into()),
            Access::Text(r) if in_check(self, &r) => Ok("text".into()),
            Access::Url(r) if in_check(self, &r) => Ok("url".into()),
            Access::Ok(r) if in_check(self, &r) => Ok("(status < 400)".into()),
            Access::Header(r, h) if in_check(self, &r) => Ok(format!("headers[{}]", jstr(&h))),
            Access::Cookie(r, c) if in_check(self, &r) => Ok(format!("cookies[{}]", jstr(&c))),
            Access::Named(r, what) if in_check(self, &r) => Ok(what.to_string()),
            Access::Json(r, path) => {
                let hint = path.iter().rev().find_map(|s| match s {
                    Seg::Key(k) => Some(k.clone()),
                    _ => None,
                });
                Ok(self.extract_fresh(&r.req, hint, Val::Str(pointer(&path)), "json"))
            }
            Access::Header(r, h) => Ok(self.extract_fresh(&r.req, Some(h.clone()), Val::Str(h), "header")),
            Access::Cookie(r, c) => Ok(self.extract_fresh(&r.req, Some(c.clone()), Val::Str(c), "cookie")),
            Access::Whole(_) => Err("a whole response has no counterpart outside a check".into()),
            _ => Err(
                "a response's status, text or url can be tested only in a check (`with ... catch_response=True as r`)"
                    .into(),
            ),
        }
    }

    /// An extraction of `source = what` on `req` into a new variable (or the variable an
    /// earlier identical extraction made); its name.
    pub fn extract_fresh(
        &mut self,
        req: &Req,
        hint: Option<String>,
        what: Val,
        source: &str,
    ) -> String {
        let mut r = req.borrow_mut();
        for e in &r.extract {
            if let Val::Table(fields) = e {
                if fields.get(1) == Some(&(source.to_string(), what.clone())) && fields.len() == 2 {
                    if let Some((_, Val::Str(var))) = fields.first() {
                        return var.clone();
                    }
                }
            }
        }
        self.fresh += 1;
        let base: String = hint
            .unwrap_or_else(|| "value".into())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let var = format!("resp_{base}_{}", self.fresh);
        r.extract.push(Val::Table(vec![
            ("var".into(), Val::Str(var.clone())),
            (source.into(), what),
        ]));
        var
    }

    /// A Python value as a TOML value: dicts and lists kept, other expressions rendered.
    pub fn val(&mut self, e: &Expr) -> Tr<Val> {
        if let Some(v) = self.literal(e) {
            return Ok(match v {
                Val::Str(s) => Val::Str(crate::pyexpr::literal_text(&s)),
                other => other,
            });
        }
        match e {
            Expr::Dict(d) => {
                let mut fields = Vec::new();
                for (k, v) in d.keys.iter().zip(&d.values) {
                    let k = k.as_ref().ok_or("`**` in a dict has no counterpart")?;
                    let key = match self.literal(k) {
                        Some(Val::Str(s)) => s,
                        Some(Val::Int(i)) => i.to_string(),
                        _ => return Err("a dict key computed at run time".into()),
                    };
                    fields.push((key, self.val(v)?));
                }
                Ok(Val::Table(fields))
            }
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                Ok(Val::Arr(
                    elts.iter().map(|x| self.val(x)).collect::<Tr<Vec<_>>>()?,
                ))
            }
            _ => Ok(Val::Str(self.template(e)?)),
        }
    }
}
