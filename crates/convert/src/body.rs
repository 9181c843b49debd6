//! A function body into steps: requests, `time.sleep` (think), assignments (`set`,
//! extraction from a response, a row of a CSV feeder), `if`, `for` over a range or a
//! list (`repeat`, `for`), `with` blocks (checks, `rename_request`), `raise`, `assert`,
//! calls of helper methods (inlined). Anything else is a TODO step at its line.

use rustpython_parser::ast::{self, Expr, Ranged, Stmt};

use crate::context::{const_str, dotted, Fx};
use crate::model::{Req, Step, Val};
use crate::pyexpr::{var_name, Tr};
use crate::response::Access;

/// Calls that only print or log: left out, with a note.
fn is_output(name: &str) -> bool {
    name == "print"
        || name.starts_with("logging.")
        || name.starts_with("logger.")
        || name.starts_with("log.")
        || name.starts_with("self.logger.")
}

impl Fx<'_, '_> {
    pub fn block(&mut self, stmts: &[Stmt]) -> Vec<Step> {
        let mut out = Vec::new();
        for s in stmts {
            self.stmt(s, &mut out);
        }
        out
    }

    pub fn todo_step(&self, node: &impl Ranged, why: impl Into<String>) -> Step {
        Step::Todo(self.m.todo(node, why))
    }

    fn note(&self, node: &impl Ranged, why: &str) -> Step {
        let line = self.m.src.line(node.start());
        Step::Note(format!(
            "{}:{line}: {} — {why}",
            self.m.src.name,
            self.m.src.line_text(line)
        ))
    }

    /// One statement's steps (or its TODO) appended to `out`.
    pub fn stmt_public(&mut self, s: &Stmt, out: &mut Vec<Step>) {
        self.stmt(s, out);
    }

    fn stmt(&mut self, s: &Stmt, out: &mut Vec<Step>) {
        if let Err(why) = self.try_stmt(s, out) {
            out.push(self.todo_step(s, why));
            let targets: Vec<&Expr> = match s {
                Stmt::Assign(a) => a.targets.iter().collect(),
                Stmt::AugAssign(a) => vec![a.target.as_ref()],
                Stmt::AnnAssign(a) => vec![a.target.as_ref()],
                _ => Vec::new(),
            };
            for t in targets {
                let names: Vec<&Expr> = match t {
                    Expr::Tuple(tuple) => tuple.elts.iter().collect(),
                    other => vec![other],
                };
                for n in names {
                    let name = match n {
                        Expr::Name(n) => Some(n.id.to_string()),
                        other => self.self_attr(other).map(String::from),
                    };
                    self.unconverted.extend(name);
                }
            }
        }
    }

    fn try_stmt(&mut self, s: &Stmt, out: &mut Vec<Step>) -> Tr<()> {
        match s {
            Stmt::Pass(_) => {}
            Stmt::Expr(e) if const_str(&e.value).is_some() => {}
            Stmt::Expr(e) => match e.value.as_ref() {
                Expr::Call(call) => self.call_stmt(s, call, out)?,
                _ => return Err("an expression statement with no effect on the load".into()),
            },
            Stmt::Assign(a) if a.targets.len() == 1 => self.assign(&a.targets[0], &a.value, out)?,
            Stmt::AnnAssign(a) if a.value.is_some() => {
                let value = a.value.as_deref().ok_or("no value")?;
                self.assign(&a.target, value, out)?
            }
            Stmt::AugAssign(a) => {
                let name = self
                    .target_name(&a.target)
                    .ok_or("an assignment to something other than a name")?;
                let op = match a.op {
                    ast::Operator::Add => "+",
                    ast::Operator::Sub => "-",
                    ast::Operator::Mult => "*",
                    _ => return Err("this operator has no counterpart".into()),
                };
                let value = self.code(&a.value)?;
                out.push(Step::Set(vec![(
                    name.clone(),
                    format!("{{{{ {name} {op} {value} }}}}"),
                )]));
            }
            Stmt::If(i) => self.if_stmt(i, out)?,
            Stmt::For(f) => self.for_stmt(f, out)?,
            Stmt::With(w) => self.with_stmt(w, out)?,
            Stmt::Raise(r) => out.push(self.raise(r)?),
            Stmt::Try(t) => {
                for step in self.block(&t.body) {
                    out.push(step);
                }
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    let kind = h.type_.as_deref().and_then(dotted).unwrap_or_default();
                    if kind == "StopIteration" || h.body.iter().all(|b| self.is_quiet(b)) {
                        out.push(self.note(h, "except clause left out: a failed request or a missing value already fails"));
                    } else {
                        out.push(self.todo_step(
                            h,
                            "an except clause has no counterpart: its steps are not converted",
                        ));
                    }
                }
                out.extend(self.block(&t.orelse));
                out.extend(self.block(&t.finalbody));
            }
            Stmt::Assert(a) => {
                let cond = self.code(&a.test)?;
                let message = match &a.msg {
                    Some(m) => self.template(m)?,
                    None => "AssertionError".into(),
                };
                out.push(Step::If {
                    cond: format!("not {cond}"),
                    then: vec![Step::Fail(message)],
                    otherwise: Vec::new(),
                });
            }
            Stmt::Return(r) if r.value.is_none() => {
                return Err("an early `return` has no counterpart: the steps after it run".into())
            }
            Stmt::Import(_) | Stmt::ImportFrom(_) => {}
            Stmt::While(_) => {
                return Err("a `while` loop has no counterpart (use `repeat` or `for`)".into())
            }
            Stmt::Break(_) | Stmt::Continue(_) => {
                return Err("`break`/`continue` have no counterpart".into())
            }
            _ => return Err("this statement has no counterpart in a scenario".into()),
        }
        Ok(())
    }

    /// A statement that only logs, passes or fails the response of a catch block.
    fn is_quiet(&self, s: &Stmt) -> bool {
        match s {
            Stmt::Pass(_) => true,
            Stmt::Expr(e) => match e.value.as_ref() {
                Expr::Call(c) => {
                    let name = dotted(&c.func).unwrap_or_default();
                    is_output(&name) || name.ends_with(".failure")
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn call_stmt(&mut self, s: &Stmt, call: &ast::ExprCall, out: &mut Vec<Step>) -> Tr<()> {
        if let Some(req) = self.client_call(call, false) {
            let req = req?;
            let r: Req = std::rc::Rc::new(std::cell::RefCell::new(req.request));
            out.push(Step::Request(r));
            return Ok(());
        }
        let name = dotted(&call.func).unwrap_or_default();
        match name.as_str() {
            "time.sleep" | "gevent.sleep" | "sleep" => {
                let arg = call.args.first().ok_or("sleep without a time")?;
                out.push(Step::Think(self.think(arg)?));
                return Ok(());
            }
            n if is_output(n) => {
                out.push(self.note(s, "output only, left out"));
                return Ok(());
            }
            _ => {}
        }
        let ast::Expr::Attribute(f) = call.func.as_ref() else {
            return Err(format!("`{name}(...)` has no counterpart in a scenario"));
        };
        // A helper method: its body, inlined.
        if self.is_self(&f.value) {
            if let Some(method) = self.methods.get(f.attr.as_str()).copied() {
                if self.depth > 8 {
                    return Err("helper methods nested too deep".into());
                }
                let params: Vec<String> = method
                    .args
                    .args
                    .iter()
                    .skip(1)
                    .map(|a| a.def.arg.to_string())
                    .collect();
                let mut sets = Vec::new();
                for (p, a) in params.iter().zip(&call.args) {
                    sets.push((var_name(p), self.set_value(a)?));
                }
                if !sets.is_empty() {
                    out.push(Step::Set(sets));
                }
                self.depth += 1;
                out.extend(self.block(&method.body));
                self.depth -= 1;
                return Ok(());
            }
            if f.attr.as_str() == "interrupt" {
                return Err(
                    "`interrupt()` has no counterpart: a nested TaskSet's tasks are the class's"
                        .into(),
                );
            }
        }
        // self.items.append(value)
        if matches!(f.attr.as_str(), "append" | "extend") && call.args.len() == 1 {
            let list = self
                .target_name(&f.value)
                .ok_or("append to something other than a name")?;
            let all = f.attr.as_str() == "extend";
            if self.extraction(&list, &call.args[0], true, all)? {
                return Ok(());
            }
            let value = self.code(&call.args[0])?;
            let joined = if all { value } else { format!("[{value}]") };
            out.push(Step::Set(vec![(
                list.clone(),
                format!("{{{{ {list} + {joined} }}}}"),
            )]));
            return Ok(());
        }
        if matches!(f.attr.as_str(), "failure" | "success") {
            return Err(
                "a response marked outside its `with ... catch_response=True` block".into(),
            );
        }
        Err(format!("`{name}(...)` has no counterpart in a scenario"))
    }

    /// `time.sleep(x)`: a number, or `random.uniform(a, b)`/`randint` as `between(a, b)`.
    fn think(&mut self, arg: &Expr) -> Tr<Val> {
        if let Some(v @ (Val::Int(_) | Val::Float(_))) = self.literal(arg) {
            return Ok(v);
        }
        if let Expr::Call(c) = arg {
            let name = dotted(&c.func).unwrap_or_default();
            if matches!(name.as_str(), "random.uniform" | "random.randint") && c.args.len() == 2 {
                let a = self
                    .literal(&c.args[0])
                    .ok_or("a sleep bound computed at run time")?;
                let b = self
                    .literal(&c.args[1])
                    .ok_or("a sleep bound computed at run time")?;
                let text = |v: &Val| crate::emit::value(v);
                return Ok(Val::Str(format!("between({}, {})", text(&a), text(&b))));
            }
        }
        Err("a sleep time computed at run time".into())
    }

    /// `self.x` or a local `x`: the variable name.
    pub fn target_name(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Name(n) => Some(var_name(n.id.as_str())),
            _ => self.self_attr(e).map(var_name),
        }
    }

    /// The value of a `set`: text stays text, anything else `{{ code }}`.
    pub fn set_value(&mut self, e: &Expr) -> Tr<String> {
        match e {
            Expr::JoinedStr(_) => self.template(e),
            _ => match self.literal(e) {
                Some(Val::Str(s)) => Ok(crate::pyexpr::literal_text(&s)),
                _ => Ok(format!("{{{{ {} }}}}", self.code(e)?)),
            },
        }
    }

    fn raise(&mut self, r: &ast::StmtRaise) -> Tr<Step> {
        let exc = r.exc.as_deref().ok_or("a bare `raise`")?;
        let (kind, args) = match exc {
            Expr::Call(c) => (dotted(&c.func).unwrap_or_default(), c.args.as_slice()),
            other => (dotted(other).unwrap_or_default(), &[][..]),
        };
        let short = kind.rsplit('.').next().unwrap_or_default();
        match short {
            "StopUser" => Ok(Step::StopUser),
            "RescheduleTask" | "InterruptTaskSet" | "StopTest" => {
                Err(format!("`{short}` has no counterpart"))
            }
            _ => {
                let message = match args.first() {
                    Some(m) => self.template(m)?,
                    None => short.to_string(),
                };
                Ok(Step::Fail(message))
            }
        }
    }

    fn for_stmt(&mut self, f: &ast::StmtFor, out: &mut Vec<Step>) -> Tr<()> {
        if !f.orelse.is_empty() {
            return Err("a `for ... else` has no counterpart".into());
        }
        let Expr::Name(var) = f.target.as_ref() else {
            return Err("a `for` over something other than one name".into());
        };
        let used = format!("{:?}", f.body).contains(&format!("Identifier(\"{}\")", var.id));
        if let Expr::Call(c) = f.iter.as_ref() {
            if dotted(&c.func).as_deref() == Some("range") && c.args.len() == 1 && !used {
                let times = match self.literal(&c.args[0]) {
                    Some(v @ Val::Int(_)) => v,
                    _ => Val::Str(format!("{{{{ {} }}}}", self.code(&c.args[0])?)),
                };
                let steps = self.block(&f.body);
                out.push(Step::Repeat { times, steps });
                return Ok(());
            }
        }
        let items = self.code(&f.iter)?;
        let steps = self.block(&f.body);
        out.push(Step::For {
            var: var_name(var.id.as_str()),
            items,
            steps,
        });
        Ok(())
    }

    fn if_stmt(&mut self, i: &ast::StmtIf, out: &mut Vec<Step>) -> Tr<()> {
        // `if r.status_code == 200:` around extractions only: an extraction is made
        // only from a response that passed, so the condition is implied.
        if self.status_test(&i.test) {
            let mut steps = Vec::new();
            for s in &i.body {
                self.stmt(s, &mut steps);
            }
            if steps.is_empty() && i.orelse.is_empty() {
                return Ok(());
            }
            return Err("a condition on a response's status outside a check: the steps under it are not converted".into());
        }
        let cond = self.code(&i.test)?;
        let then = self.block(&i.body);
        let otherwise = self.block(&i.orelse);
        out.push(Step::If {
            cond,
            then,
            otherwise,
        });
        Ok(())
    }

    /// Whether `test` is `r.status_code == N`, `r.ok` or `r` of a response outside checks.
    fn status_test(&mut self, test: &Expr) -> bool {
        let probe = match test {
            Expr::Compare(c) => c.left.as_ref(),
            other => other,
        };
        let checking = self.checking.is_some();
        matches!(
            self.resp_access(probe),
            Ok(Some(Access::Status(r) | Access::Ok(r) | Access::Whole(r))) if !(r.in_with && checking)
        )
    }
}
