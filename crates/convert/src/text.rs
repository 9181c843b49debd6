//! Text templates: a Python string, f-string, `"..." % (...)`, `"...".format(...)` or
//! `a + "..."` as text with `{{ ... }}` pieces (`template`), and the same pieces joined
//! with `~` inside an expression (`concat`).

use rustpython_parser::ast::{self, Constant, Expr};

use crate::context::{const_str, Fx};
use crate::model::Val;
use crate::pyexpr::{is_text, jstr, literal_text, Tr};

impl Fx<'_, '_> {
    /// A value put into text: a constant as its text, anything else rendered.
    fn value_part(&mut self, e: &Expr) -> Tr<Part> {
        Ok(match self.literal(e) {
            Some(Val::Str(s)) => Part::Text(s),
            Some(Val::Int(i)) => Part::Text(i.to_string()),
            _ => Part::Code(self.code(e)?),
        })
    }

    /// Text with `{{ ... }}` for `e`: a string stays text, anything else is rendered.
    pub fn template(&mut self, e: &Expr) -> Tr<String> {
        if let Some(Val::Str(s)) = self.literal(e) {
            return Ok(literal_text(&s));
        }
        let parts = match e {
            Expr::JoinedStr(j) => self.fstring_parts(j)?,
            Expr::BinOp(b)
                if matches!(b.op, ast::Operator::Mod) && const_str(&b.left).is_some() =>
            {
                self.percent_parts(b)?
            }
            Expr::BinOp(b)
                if matches!(b.op, ast::Operator::Add)
                    && (is_text(&b.left) || is_text(&b.right)) =>
            {
                let mut parts = self.template_parts(&b.left)?;
                parts.extend(self.template_parts(&b.right)?);
                parts
            }
            Expr::Call(call) => match call.func.as_ref() {
                Expr::Attribute(a)
                    if a.attr.as_str() == "format" && const_str(&a.value).is_some() =>
                {
                    let text = const_str(&a.value).unwrap_or_default().to_string();
                    self.format_parts(&text, call)?
                }
                _ => vec![Part::Code(self.code(e)?)],
            },
            _ => vec![Part::Code(self.code(e)?)],
        };
        Ok(render(parts))
    }

    fn template_parts(&mut self, e: &Expr) -> Tr<Vec<Part>> {
        if let Some(s) = const_str(e) {
            return Ok(vec![Part::Text(s.to_string())]);
        }
        match e {
            Expr::JoinedStr(j) => self.fstring_parts(j),
            _ => Ok(vec![Part::Code(self.code(e)?)]),
        }
    }

    pub fn fstring_parts(&mut self, j: &ast::ExprJoinedStr) -> Tr<Vec<Part>> {
        let mut parts = Vec::new();
        for v in &j.values {
            match v {
                Expr::Constant(c) => {
                    if let Constant::Str(s) = &c.value {
                        parts.push(Part::Text(s.clone()));
                    }
                }
                Expr::FormattedValue(f) => {
                    if f.format_spec.is_some() {
                        return Err(
                            "a format spec (`{x:...}`) has no counterpart in a template".into()
                        );
                    }
                    parts.push(self.value_part(&f.value)?);
                }
                other => parts.push(Part::Code(self.code(other)?)),
            }
        }
        Ok(parts)
    }

    /// `"a %s b %d" % (x, y)`.
    pub fn percent_parts(&mut self, b: &ast::ExprBinOp) -> Tr<Vec<Part>> {
        let text = const_str(&b.left).unwrap_or_default();
        let values: Vec<&Expr> = match b.right.as_ref() {
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        let mut parts = Vec::new();
        let mut values = values.into_iter();
        let mut chars = text.chars().peekable();
        let mut buf = String::new();
        while let Some(c) = chars.next() {
            if c != '%' {
                buf.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => buf.push('%'),
                Some('s' | 'd' | 'i' | 'r') => {
                    parts.push(Part::Text(std::mem::take(&mut buf)));
                    let v = values.next().ok_or("fewer values than `%` placeholders")?;
                    parts.push(self.value_part(v)?);
                }
                _ => return Err("a `%` format other than %s and %d has no counterpart".into()),
            }
        }
        parts.push(Part::Text(buf));
        Ok(parts)
    }

    /// `"a {} b {name}".format(x, name=y)`.
    pub fn format_parts(&mut self, text: &str, call: &ast::ExprCall) -> Tr<Vec<Part>> {
        let mut parts = Vec::new();
        let mut next = 0usize;
        let mut buf = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    buf.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    buf.push('}');
                }
                '{' => {
                    let mut field = String::new();
                    for f in chars.by_ref() {
                        if f == '}' {
                            break;
                        }
                        field.push(f);
                    }
                    parts.push(Part::Text(std::mem::take(&mut buf)));
                    let value = if field.is_empty() {
                        next += 1;
                        call.args.get(next - 1)
                    } else if let Ok(i) = field.parse::<usize>() {
                        call.args.get(i)
                    } else {
                        crate::context::kwarg(call, &field)
                    };
                    let value = value.ok_or_else(|| format!("`{{{field}}}` has no value"))?;
                    parts.push(self.value_part(value)?);
                }
                c => buf.push(c),
            }
        }
        parts.push(Part::Text(buf));
        Ok(parts)
    }
}

/// A piece of a template: plain text or an expression.
pub enum Part {
    Text(String),
    Code(String),
}

fn render(parts: Vec<Part>) -> String {
    parts
        .into_iter()
        .map(|p| match p {
            Part::Text(t) => literal_text(&t),
            Part::Code(c) => format!("{{{{ {c} }}}}"),
        })
        .collect()
}

pub fn concat(parts: Vec<Part>) -> String {
    let items: Vec<String> = parts
        .into_iter()
        .filter(|p| !matches!(p, Part::Text(t) if t.is_empty()))
        .map(|p| match p {
            Part::Text(t) => jstr(&t),
            Part::Code(c) => format!("({c} | string)"),
        })
        .collect();
    if items.is_empty() {
        "''".into()
    } else {
        items.join(" ~ ")
    }
}
