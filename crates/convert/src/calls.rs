//! Python calls inside expressions: `uuid.uuid4()`, `str`/`int`/`len`, `range`,
//! `random.choice`/`randint`/`uniform`, `time.time()`, `os.getenv`/`os.environ.get`, and
//! string and dict methods (`.format`, `.join`, `.upper()`, `.get(k, d)`), as minijinja.

use rustpython_parser::ast::{self, Expr};

use crate::context::{const_str, dotted, Fx};
use crate::pyexpr::{jstr, Tr};
use crate::text::concat;

impl Fx<'_, '_> {
    pub fn is_uuid(&self, e: &Expr) -> bool {
        matches!(e, Expr::Call(c) if matches!(dotted(&c.func).as_deref(), Some("uuid.uuid4" | "uuid4" | "uuid.uuid1" | "uuid1")))
    }

    pub fn call_code(&mut self, call: &ast::ExprCall) -> Tr<String> {
        let name = dotted(&call.func).unwrap_or_default();
        let args = &call.args;
        let arg = |i: usize| {
            args.get(i)
                .ok_or_else(|| format!("`{name}` without argument {i}"))
        };
        match name.as_str() {
            "uuid.uuid4" | "uuid4" | "uuid.uuid1" | "uuid1" => return Ok("uuid()".into()),
            "str" if args.len() == 1 => return Ok(format!("({} | string)", self.code(arg(0)?)?)),
            "int" if args.len() == 1 => return Ok(format!("({} | int)", self.code(arg(0)?)?)),
            "float" if args.len() == 1 => return Ok(format!("({} | float)", self.code(arg(0)?)?)),
            "len" if args.len() == 1 => return Ok(format!("({} | length)", self.code(arg(0)?)?)),
            "list" | "tuple" if args.len() == 1 => {
                return Ok(format!("({} | list)", self.code(arg(0)?)?))
            }
            "abs" if args.len() == 1 => return Ok(format!("({} | abs)", self.code(arg(0)?)?)),
            "range" => {
                let parts = args.iter().map(|a| self.code(a)).collect::<Tr<Vec<_>>>()?;
                return Ok(format!("range({})", parts.join(", ")));
            }
            "random.choice" | "choice" if args.len() == 1 => {
                return Ok(format!("({} | random)", self.code(arg(0)?)?))
            }
            "random.randint" | "randint" if args.len() == 2 => {
                let (a, b) = (self.code(arg(0)?)?, self.code(arg(1)?)?);
                return Ok(format!("random_int({a}, {b})"));
            }
            "random.randrange" if args.len() == 1 => {
                return Ok(format!("random_int(0, {} - 1)", self.code(arg(0)?)?))
            }
            "random.randrange" if args.len() == 2 => {
                let (a, b) = (self.code(arg(0)?)?, self.code(arg(1)?)?);
                return Ok(format!("random_int({a}, {b} - 1)"));
            }
            "random.random" if args.is_empty() => {
                return Ok("(random_int(0, 999999) / 1000000)".into())
            }
            "random.uniform" if args.len() == 2 => {
                let (a, b) = (self.code(arg(0)?)?, self.code(arg(1)?)?);
                return Ok(format!(
                    "({a} + ({b} - {a}) * random_int(0, 1000000) / 1000000)"
                ));
            }
            "time.time" => return Ok("now()".into()),
            "os.getenv" | "os.environ.get" | "getenv" => {
                let var = const_str(arg(0)?).ok_or("an environment variable named at run time")?;
                return match args.get(1).or_else(|| kwarg_default(call)) {
                    Some(d) => Ok(format!("env({}, {})", jstr(var), self.code(d)?)),
                    None => Ok(format!("env({})", jstr(var))),
                };
            }
            _ => {}
        }
        let ast::Expr::Attribute(method) = call.func.as_ref() else {
            return Err(format!("`{name}(...)` has no counterpart in a template"));
        };
        let m = method.attr.as_str();
        if m == "format" {
            if let Some(text) = const_str(&method.value) {
                return Ok(format!("({})", concat(self.format_parts(text, call)?)));
            }
        }
        if m == "join" && args.len() == 1 {
            let sep = self.code(&method.value)?;
            return Ok(format!("({} | join({sep}))", self.code(arg(0)?)?));
        }
        let base = self.code(&method.value)?;
        match (m, args.len()) {
            ("upper" | "lower" | "strip" | "title" | "capitalize", 0) => {
                let filter = if m == "strip" { "trim" } else { m };
                Ok(format!("({base} | {filter})"))
            }
            ("get", 1) => Ok(format!("{base}[{}]", self.code(arg(0)?)?)),
            ("get", 2) => Ok(format!(
                "({base}[{}] | default({}))",
                self.code(arg(0)?)?,
                self.code(arg(1)?)?
            )),
            ("replace", 2) => Ok(format!(
                "({base} | replace({}, {}))",
                self.code(arg(0)?)?,
                self.code(arg(1)?)?
            )),
            ("keys" | "values" | "items", 0) => Ok(format!("{base}.{m}()")),
            _ => Err(format!("`.{m}(...)` has no counterpart in a template")),
        }
    }
}

fn kwarg_default(call: &ast::ExprCall) -> Option<&Expr> {
    crate::context::kwarg(call, "default")
}
