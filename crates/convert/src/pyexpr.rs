//! Python expressions into minijinja: `code` (an expression, for conditions, `set`
//! and `for`), `template` (text with `{{ ... }}`: f-strings, `%` and `.format`) and
//! `val` (a TOML value: dicts and lists of JSON bodies, query strings, headers).
//! Reads of a response (`r.json()["id"]`, `r.headers["X"]`) become the check names
//! (`json.id`, `headers['X']`) inside a `with ... as r` block, and an extraction
//! into a variable elsewhere (`response`).

use rustpython_parser::ast::{self, Constant, Expr};

use crate::context::{const_str, dotted, Fx};
use crate::model::Val;
use crate::text::concat;

pub type Tr<T> = Result<T, String>;

/// A minijinja string literal.
pub fn jstr(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A TOML value as a minijinja literal.
pub fn val_code(v: &Val) -> String {
    match v {
        Val::Str(s) => jstr(s),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => format!("{f:?}"),
        Val::Bool(b) => b.to_string(),
        Val::Arr(items) => format!(
            "[{}]",
            items.iter().map(val_code).collect::<Vec<_>>().join(", ")
        ),
        Val::Table(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}: {}", jstr(k), val_code(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Text that is sent as is: `{{` and `{%` are escaped so that it is not a template.
pub fn literal_text(s: &str) -> String {
    if s.contains("{{") || s.contains("{%") || s.contains("{#") {
        format!("{{% raw %}}{s}{{% endraw %}}")
    } else {
        s.to_string()
    }
}

fn binop(op: ast::Operator) -> Option<&'static str> {
    use ast::Operator::*;
    Some(match op {
        Add => "+",
        Sub => "-",
        Mult => "*",
        Div => "/",
        FloorDiv => "//",
        Mod => "%",
        Pow => "**",
        _ => return None,
    })
}

fn cmpop(op: ast::CmpOp) -> &'static str {
    use ast::CmpOp::*;
    match op {
        Eq => "==",
        NotEq => "!=",
        Lt => "<",
        LtE => "<=",
        Gt => ">",
        GtE => ">=",
        Is => "is",
        IsNot => "is not",
        In => "in",
        NotIn => "not in",
    }
}

/// Names of the minijinja and locust-rs builtins a variable may not take.
pub const RESERVED: &[&str] = &[
    "vars",
    "user_id",
    "range",
    "env",
    "uuid",
    "now",
    "counter",
    "random_int",
    "random_choice",
    "timestamp",
    "date",
    "isoformat",
    "totp",
    "loop",
    "none",
    "true",
    "false",
    "dict",
    "namespace",
    "debug",
];

/// A Python name as a variable name (a builtin's name gets a `py_` prefix).
pub fn var_name(name: &str) -> String {
    if RESERVED.contains(&name) {
        format!("py_{name}")
    } else {
        name.to_string()
    }
}

impl Fx<'_, '_> {
    /// The value of a constant expression (module or class constants folded in).
    pub fn literal(&self, e: &Expr) -> Option<Val> {
        self.literal_at(e, 0)
    }

    fn literal_at(&self, e: &Expr, depth: usize) -> Option<Val> {
        if depth > 20 {
            return None;
        }
        match e {
            Expr::Constant(c) => match &c.value {
                Constant::Str(s) => Some(Val::Str(s.clone())),
                Constant::Int(i) => i64::try_from(i).ok().map(Val::Int),
                Constant::Float(f) => Some(Val::Float(*f)),
                Constant::Bool(b) => Some(Val::Bool(*b)),
                _ => None,
            },
            Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::USub) => {
                match self.literal_at(&u.operand, depth + 1)? {
                    Val::Int(i) => i.checked_neg().map(Val::Int),
                    Val::Float(f) => Some(Val::Float(-f)),
                    _ => None,
                }
            }
            Expr::List(l) => l
                .elts
                .iter()
                .map(|x| self.literal_at(x, depth + 1))
                .collect::<Option<Vec<_>>>()
                .map(Val::Arr),
            Expr::Tuple(t) => t
                .elts
                .iter()
                .map(|x| self.literal_at(x, depth + 1))
                .collect::<Option<Vec<_>>>()
                .map(Val::Arr),
            Expr::Dict(d) => d
                .keys
                .iter()
                .zip(&d.values)
                .map(|(k, v)| {
                    let k = const_str(k.as_ref()?)?.to_string();
                    Some((k, self.literal_at(v, depth + 1)?))
                })
                .collect::<Option<Vec<_>>>()
                .map(Val::Table),
            Expr::Name(n) => {
                let value = self.m.consts.get(n.id.as_str())?;
                self.literal_at(value, depth + 1)
            }
            Expr::Attribute(_) => {
                let name = self.self_attr(e)?;
                let value = self.class_consts.get(name)?;
                self.literal_at(value, depth + 1)
            }
            _ => None,
        }
    }

    /// The variable `name`, when the scenario sets it.
    fn defined_var(&self, name: &str) -> Tr<String> {
        let var = var_name(name);
        match &self.m.defined {
            Some(defined) if !defined.contains(&var) => Err(format!(
                "reads `{name}`, which nothing converted sets (an attribute set in __init__, a module name, or an assignment that was not converted)"
            )),
            _ => Ok(var),
        }
    }

    /// A minijinja expression for `e`.
    pub fn code(&mut self, e: &Expr) -> Tr<String> {
        if let Some(v) = self.literal(e) {
            return Ok(val_code(&v));
        }
        if let Some(access) = self.resp_access(e)? {
            return self.resp_code(access);
        }
        match e {
            Expr::Constant(c) => match &c.value {
                Constant::None => Ok("none".into()),
                _ => Err("this constant has no counterpart in a template".into()),
            },
            Expr::Name(n) => {
                let id = n.id.as_str();
                if let Some(v) = self.m.consts.get(id).copied() {
                    // A computed module constant (`REGION = os.getenv(...)`): its expression.
                    if !self.expanding.iter().any(|e| e == id) && self.expanding.len() < 20 {
                        self.expanding.push(id.to_string());
                        let inlined = self.code(v);
                        self.expanding.pop();
                        if let Ok(code) = inlined {
                            return Ok(code);
                        }
                    }
                    return Err(format!(
                        "module-level `{id}` is not a constant a template can hold: {}",
                        self.m.src.line_text(self.m.src.line(ast::Ranged::start(v)))
                    ));
                }
                if self.unconverted.iter().any(|u| u == id) {
                    return Err(format!("reads `{id}`, whose assignment was not converted"));
                }
                match id {
                    "True" => Ok("true".into()),
                    "False" => Ok("false".into()),
                    "None" => Ok("none".into()),
                    _ => self.defined_var(id),
                }
            }
            Expr::Attribute(a) => {
                if let Some(name) = self.self_attr(e) {
                    if self.unconverted.iter().any(|u| u == name) {
                        return Err(format!(
                            "reads `self.{name}`, whose assignment was not converted"
                        ));
                    }
                    return self.defined_var(name);
                }
                let path = dotted(e).unwrap_or_default();
                if let Some(rest) = path
                    .split_once(".parsed_options.")
                    .map(|(_, r)| r.to_string())
                {
                    return Ok(match self.m.options.get(&rest) {
                        Some(default) => format!("(vars.{rest} | default({default}))"),
                        None => format!("vars.{rest}"),
                    });
                }
                if a.attr.as_str() == "hex" && self.is_uuid(&a.value) {
                    return Ok("(uuid() | replace('-', ''))".into());
                }
                let base = self.code(&a.value)?;
                Ok(format!("{base}.{}", a.attr))
            }
            Expr::Subscript(s) => {
                if dotted(&s.value).as_deref() == Some("os.environ") {
                    let var =
                        const_str(&s.slice).ok_or("an environment variable named at run time")?;
                    return Ok(format!("env({})", jstr(var)));
                }
                let base = self.code(&s.value)?;
                if let Expr::Slice(sl) = s.slice.as_ref() {
                    let part = |fx: &mut Self, x: &Option<Box<Expr>>| -> Tr<String> {
                        x.as_ref().map_or(Ok(String::new()), |x| fx.code(x))
                    };
                    let (lo, hi) = (part(self, &sl.lower)?, part(self, &sl.upper)?);
                    return Ok(format!("{base}[{lo}:{hi}]"));
                }
                let index = self.code(&s.slice)?;
                Ok(format!("{base}[{index}]"))
            }
            Expr::BinOp(b) => {
                if matches!(b.op, ast::Operator::Mod) && const_str(&b.left).is_some() {
                    return Ok(format!("({})", concat(self.percent_parts(b)?)));
                }
                let op = binop(b.op).ok_or("this operator has no counterpart in a template")?;
                let (l, r) = (self.code(&b.left)?, self.code(&b.right)?);
                let op = if op == "+" && (is_text(&b.left) || is_text(&b.right)) {
                    "~"
                } else {
                    op
                };
                Ok(format!("({l} {op} {r})"))
            }
            Expr::UnaryOp(u) => {
                let inner = self.code(&u.operand)?;
                match u.op {
                    ast::UnaryOp::Not => Ok(format!("(not {inner})")),
                    ast::UnaryOp::USub => Ok(format!("(-{inner})")),
                    ast::UnaryOp::UAdd => Ok(inner),
                    ast::UnaryOp::Invert => Err("`~` has no counterpart in a template".into()),
                }
            }
            Expr::BoolOp(b) => {
                let op = match b.op {
                    ast::BoolOp::And => " and ",
                    ast::BoolOp::Or => " or ",
                };
                let parts = b
                    .values
                    .iter()
                    .map(|v| self.code(v))
                    .collect::<Tr<Vec<_>>>()?;
                Ok(format!("({})", parts.join(op)))
            }
            Expr::Compare(c) => {
                // "X-Cache" in r.headers: whether the response has the header.
                if let ([op @ (ast::CmpOp::In | ast::CmpOp::NotIn)], [right]) =
                    (c.ops.as_slice(), c.comparators.as_slice())
                {
                    if let Some(crate::response::Access::Named(r, what)) =
                        self.resp_access(right)?
                    {
                        let name = self.code(&c.left)?;
                        let whole = self.resp_code(crate::response::Access::Named(r, what))?;
                        let test = if matches!(op, ast::CmpOp::In) {
                            "is defined"
                        } else {
                            "is not defined"
                        };
                        return Ok(format!("({whole}[{name}] {test})"));
                    }
                }
                let mut out = self.code(&c.left)?;
                let mut prev = out.clone();
                let mut parts = Vec::new();
                for (op, right) in c.ops.iter().zip(&c.comparators) {
                    let r = if matches!(right, Expr::Constant(k) if matches!(k.value, Constant::None))
                    {
                        "none".to_string()
                    } else {
                        self.code(right)?
                    };
                    parts.push(format!("{prev} {} {r}", cmpop(*op)));
                    prev = r;
                }
                if parts.len() == 1 {
                    out = parts.remove(0);
                    Ok(format!("({out})"))
                } else {
                    Ok(format!("({})", parts.join(" and ")))
                }
            }
            Expr::IfExp(i) => {
                let (t, b, o) = (
                    self.code(&i.test)?,
                    self.code(&i.body)?,
                    self.code(&i.orelse)?,
                );
                Ok(format!("({b} if {t} else {o})"))
            }
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                let items = elts.iter().map(|x| self.code(x)).collect::<Tr<Vec<_>>>()?;
                Ok(format!("[{}]", items.join(", ")))
            }
            Expr::Dict(d) => {
                let mut items = Vec::new();
                for (k, v) in d.keys.iter().zip(&d.values) {
                    let k = k.as_ref().ok_or("`**` in a dict has no counterpart")?;
                    items.push(format!("{}: {}", self.code(k)?, self.code(v)?));
                }
                Ok(format!("{{{}}}", items.join(", ")))
            }
            Expr::JoinedStr(j) => Ok(format!("({})", concat(self.fstring_parts(j)?))),
            Expr::FormattedValue(f) => self.code(&f.value),
            Expr::Call(call) => self.call_code(call),
            Expr::NamedExpr(n) => {
                if let (Expr::Name(target), Some(crate::response::Access::Json(r, path))) =
                    (n.target.as_ref(), self.resp_access(&n.value)?)
                {
                    let alias = crate::context::RespRef {
                        json: Some(path),
                        ..r
                    };
                    self.responses.insert(target.id.to_string(), alias);
                    return self.code(&n.value);
                }
                Err("an assignment expression (`:=`) has no counterpart".into())
            }
            _ => Err("this expression has no counterpart in a template".into()),
        }
    }
}

/// Whether `e` is text (a string or an f-string).
pub fn is_text(e: &Expr) -> bool {
    const_str(e).is_some() || matches!(e, Expr::JoinedStr(_))
}
