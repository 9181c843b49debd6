//! `with` blocks: `self.client.<method>(..., catch_response=True) as r` (and
//! FastHttpUser's `self.rest(...) as r`), whose `r.failure(...)`, `r.success()` and
//! `assert` statements become the request's `checks`, and
//! `self.client.rename_request(name)`, which names the requests inside it.

use std::cell::RefCell;
use std::rc::Rc;

use rustpython_parser::ast::{self, Expr, Stmt};

use crate::context::{Fx, RespRef};
use crate::model::{Req, Step, Val};
use crate::pyexpr::Tr;

/// Whether `stmts` judge a response (`.failure(`, `.success(` or `assert` anywhere in them).
fn marks(stmts: &[Stmt]) -> bool {
    let text = format!("{stmts:?}");
    text.contains("Identifier(\"failure\")")
        || text.contains("Identifier(\"success\")")
        || text.contains("StmtAssert")
}

/// Whether a condition compares `status` with a 4xx or 5xx code.
fn tests_error_status(cond: &str) -> bool {
    cond.contains("status")
        && cond
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<u32>().ok())
            .any(|n| (400..600).contains(&n))
}

fn check(expr: String, message: Option<String>) -> Val {
    let mut fields = vec![("expr".to_string(), Val::Str(expr))];
    if let Some(m) = message {
        fields.push(("message".into(), Val::Str(m)));
    }
    Val::Table(fields)
}

/// A condition as (its code, the code of its negation).
type Cond = (String, String);

/// The expression of a check that fails when every condition of `guard` holds.
fn guarded(guard: &[Cond]) -> String {
    match guard {
        [] => "false".into(),
        [(_, negated)] => negated.clone(),
        many => {
            let all: Vec<&str> = many.iter().map(|(c, _)| c.as_str()).collect();
            format!("not ({})", all.join(" and "))
        }
    }
}

impl Fx<'_, '_> {
    pub fn with_stmt(&mut self, w: &ast::StmtWith, out: &mut Vec<Step>) -> Tr<()> {
        let [item] = w.items.as_slice() else {
            return Err("a `with` of several context managers".into());
        };
        let Expr::Call(call) = &item.context_expr else {
            return Err("this `with` block has no counterpart".into());
        };
        if let Expr::Attribute(f) = call.func.as_ref() {
            if f.attr.as_str() == "rename_request" && self.is_client(&f.value) {
                let name = call.args.first().ok_or("rename_request without a name")?;
                let name = self.template(name)?;
                self.renames.push(name);
                out.extend(self.block(&w.body));
                self.renames.pop();
                return Ok(());
            }
        }
        let Some(made) = self.client_call(call, false) else {
            return Err("this `with` block has no counterpart".into());
        };
        let made = made?;
        let req: Req = Rc::new(RefCell::new(made.request.clone()));
        out.push(Step::Request(req.clone()));
        let Some(Expr::Name(var)) = item.optional_vars.as_deref() else {
            out.extend(self.block(&w.body));
            return Ok(());
        };
        let var = var.id.to_string();
        self.responses.insert(
            var.clone(),
            RespRef {
                req: req.clone(),
                json: None,
                in_with: true,
            },
        );
        if !made.catches && marks(&w.body) {
            out.push(self.todo_step(
                w,
                "`failure()`/`success()` of a request made without catch_response=True",
            ));
        }
        for s in &w.body {
            if marks(std::slice::from_ref(s)) || matches!(s, Stmt::Assert(_)) {
                self.checking = Some(var.clone());
                let checks = self.checks(s, &[]);
                self.checking = None;
                match checks {
                    Ok(checks) => req.borrow_mut().checks.extend(checks),
                    Err(why) => out.push(self.todo_step(s, why)),
                }
            } else {
                let mut steps = Vec::new();
                self.stmt_public(s, &mut steps);
                out.extend(steps);
            }
        }
        if let Some(r) = self.responses.get_mut(&var) {
            r.in_with = false;
        }
        Ok(())
    }

    /// The code of `not test`: a comparison with its operator turned round
    /// (`a != b` → `a == b`), `not x` → `x`, else `not (...)`.
    fn negated(&mut self, test: &Expr) -> Tr<String> {
        use ast::CmpOp::*;
        match test {
            Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::Not) => self.code(&u.operand),
            Expr::Compare(c) if c.ops.len() == 1 => {
                let op = match c.ops[0] {
                    Eq => "!=",
                    NotEq => "==",
                    Lt => ">=",
                    LtE => ">",
                    Gt => "<=",
                    GtE => "<",
                    In | NotIn | Is | IsNot => {
                        let mut flipped = c.clone();
                        flipped.ops[0] = match c.ops[0] {
                            In => NotIn,
                            NotIn => In,
                            Is => IsNot,
                            _ => Is,
                        };
                        return self.code(&Expr::Compare(flipped));
                    }
                };
                let (l, r) = (self.code(&c.left)?, self.code(&c.comparators[0])?);
                Ok(format!("({l} {op} {r})"))
            }
            _ => Ok(format!("not {}", self.code(test)?)),
        }
    }

    /// The checks of one statement of a catch block, under the conditions `guard`.
    fn checks(&mut self, s: &Stmt, guard: &[Cond]) -> Tr<Vec<Val>> {
        let Some(r) = self.checking.clone() else {
            return Err("not in a catch block".into());
        };
        match s {
            Stmt::Pass(_) => Ok(Vec::new()),
            Stmt::Expr(e) => {
                let Expr::Call(call) = e.value.as_ref() else {
                    return Err("an expression with no effect".into());
                };
                let Expr::Attribute(f) = call.func.as_ref() else {
                    return Err("this call has no counterpart in a check".into());
                };
                let on_response = matches!(f.value.as_ref(), Expr::Name(n) if n.id.as_str() == r);
                match (on_response, f.attr.as_str()) {
                    (true, "failure") => {
                        let message = match call.args.first() {
                            Some(m) => self.template(m)?,
                            None => "failure".into(),
                        };
                        Ok(vec![check(guarded(guard), Some(message))])
                    }
                    (true, "success") if guard.iter().any(|(g, _)| tests_error_status(g)) => Err(
                        "`success()` of an error status: list the statuses that pass in `success_status`"
                            .into(),
                    ),
                    (true, "success") => Ok(Vec::new()),
                    _ => Err("this call has no counterpart in a check".into()),
                }
            }
            Stmt::Assert(a) => {
                let cond = self.code(&a.test)?;
                let negated = self.negated(&a.test)?;
                let message = a.msg.as_ref().map(|m| self.template(m)).transpose()?;
                let mut guard = guard.to_vec();
                let expr = if guard.is_empty() {
                    cond
                } else {
                    guard.push((negated, cond));
                    guarded(&guard)
                };
                Ok(vec![check(expr, message)])
            }
            Stmt::If(i) => {
                let cond = self.code(&i.test)?;
                let negated = self.negated(&i.test)?;
                let mut inner = guard.to_vec();
                inner.push((cond.clone(), negated.clone()));
                let mut out = Vec::new();
                for s in &i.body {
                    out.extend(self.checks(s, &inner)?);
                }
                let mut other = guard.to_vec();
                other.push((negated, cond));
                for s in &i.orelse {
                    out.extend(self.checks(s, &other)?);
                }
                Ok(out)
            }
            _ => Err("this statement has no counterpart in a check".into()),
        }
    }
}
