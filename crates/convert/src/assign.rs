//! Assignments: `r = self.client.get(...)` (a response to read later), a read of a
//! response (`self.id = r.json()["id"]`, `[u["id"] for u in r.json()]`,
//! `self.ids.append(...)`) into an `extract` on its request, a row of a CSV feeder
//! (`next(reader)`, `random.choice(rows)`, `rows.pop()`), and any other value into `set`.

use rustpython_parser::ast::{self, Expr};

use crate::context::{dotted, Fx, RespRef, Rows, Seg};
use crate::model::{Req, Step, Val};
use crate::pyexpr::{var_name, Tr};
use crate::response::{pointer, Access};

impl Fx<'_, '_> {
    pub fn assign(&mut self, target: &Expr, value: &Expr, out: &mut Vec<Step>) -> Tr<()> {
        // r = self.client.get(...)
        if let Expr::Call(call) = value {
            if let Some(req) = self.client_call(call, false) {
                let req: Req = std::rc::Rc::new(std::cell::RefCell::new(req?.request));
                out.push(Step::Request(req.clone()));
                let Expr::Name(n) = target else {
                    return Err("a response stored in something other than a local name".into());
                };
                self.responses.insert(
                    n.id.to_string(),
                    RespRef {
                        req,
                        json: None,
                        in_with: false,
                    },
                );
                return Ok(());
            }
            if let Some(step) = self.feed(target, call, out)? {
                out.push(step);
                return Ok(());
            }
        }
        if let Expr::Tuple(t) = target {
            let names = t
                .elts
                .iter()
                .map(|x| self.target_name(x))
                .collect::<Option<Vec<_>>>()
                .ok_or("unpacking into something other than names")?;
            let tmp = "py_unpacked".to_string();
            out.push(Step::Set(vec![(tmp.clone(), self.set_value(value)?)]));
            let sets = names
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, format!("{{{{ {tmp}[{i}] }}}}")))
                .collect();
            out.push(Step::Set(sets));
            return Ok(());
        }
        let name = self
            .target_name(target)
            .ok_or("an assignment to something other than a name")?;
        // x = r.json()["data"]: an alias of a part of the body, for later reads.
        if let (Expr::Name(n), Some(Access::Json(r, path))) = (target, self.resp_access(value)?) {
            if !r.in_with || self.checking.is_none() {
                let alias = RespRef {
                    json: Some(path),
                    ..r
                };
                self.responses.insert(n.id.to_string(), alias);
                return Ok(());
            }
        }
        if self.extraction(&name, value, false, false)? {
            return Ok(());
        }
        self.responses.remove(&name);
        let value = self.set_value(value)?;
        self.unconverted.retain(|u| var_name(u) != name);
        out.push(Step::Set(vec![(name, value)]));
        Ok(())
    }

    /// `var = <read of a response>` (or `[x["id"] for x in r.json()]`): an extraction
    /// on that response's request; false when `value` reads no response.
    pub fn extraction(&mut self, var: &str, value: &Expr, append: bool, all: bool) -> Tr<bool> {
        let value = strip_cast(value);
        let (access, all) = match value {
            Expr::ListComp(lc) => match self.comprehension(lc)? {
                Some(a) => (a, true),
                None => return Ok(false),
            },
            _ => match self.resp_access(value)? {
                Some(a) => (a, all),
                None => return Ok(false),
            },
        };
        let (r, source, what) = match access {
            Access::Json(r, path) => (r, "json", pointer(&path)),
            Access::Header(r, h) => (r, "header", h),
            Access::Cookie(r, c) => (r, "cookie", c),
            Access::Text(r) => (r, "regex", "(?s)^(.*)$".to_string()),
            _ => return Err("this part of a response cannot be extracted into a variable".into()),
        };
        let mut fields = vec![
            ("var".to_string(), Val::Str(var.to_string())),
            (source.to_string(), Val::Str(what)),
        ];
        if all {
            fields.push(("all".into(), Val::Bool(true)));
        }
        if append {
            fields.push(("append".into(), Val::Bool(true)));
        }
        r.req.borrow_mut().extract.push(Val::Table(fields));
        Ok(true)
    }

    /// `[x["id"] for x in r.json()["items"]]`: the JSON read with `*` for the items.
    fn comprehension(&mut self, lc: &ast::ExprListComp) -> Tr<Option<Access>> {
        let [generator] = lc.generators.as_slice() else {
            return Ok(None);
        };
        if !generator.ifs.is_empty() {
            return Ok(None);
        }
        let Expr::Name(item) = &generator.target else {
            return Ok(None);
        };
        let Some(Access::Json(r, mut path)) = self.resp_access(&generator.iter)? else {
            return Ok(None);
        };
        path.push(Seg::All);
        let saved = self.responses.insert(
            item.id.to_string(),
            RespRef {
                json: Some(path),
                ..r
            },
        );
        let access = self.resp_access(&lc.elt);
        match saved {
            Some(s) => self.responses.insert(item.id.to_string(), s),
            None => self.responses.remove(item.id.as_str()),
        };
        access
    }

    /// `row = next(reader)`, `a, b = next(reader)`, `random.choice(ROWS)`, `ROWS.pop()`.
    fn feed(
        &mut self,
        target: &Expr,
        call: &ast::ExprCall,
        out: &mut Vec<Step>,
    ) -> Tr<Option<Step>> {
        let name = dotted(&call.func).unwrap_or_default();
        let (rows, order) = match (name.as_str(), call.args.first()) {
            ("next", Some(Expr::Name(n))) => (n.id.to_string(), None),
            ("random.choice", Some(Expr::Name(n))) => (n.id.to_string(), Some("random")),
            (n, None) if n.ends_with(".pop") => {
                (n.trim_end_matches(".pop").to_string(), Some("unique"))
            }
            _ => return Ok(None),
        };
        let feeder = match self.m.rows.get(&rows) {
            Some(Rows::Reader { feeder }) | Some(Rows::List { feeder }) => feeder.clone(),
            None => return Ok(None),
        };
        if let Some(order) = order {
            self.m.feeder_order(&feeder, order);
        }
        match target {
            Expr::Tuple(t) => {
                let names = t
                    .elts
                    .iter()
                    .map(|x| self.target_name(x))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("unpacking a row into something other than names")?;
                self.m.feeder_columns(&feeder, names.clone());
                out.push(Step::Feed {
                    feeder: feeder.clone(),
                    var: "row".into(),
                });
                let sets = names
                    .iter()
                    .map(|n| (n.clone(), format!("{{{{ row.{n} }}}}")))
                    .collect();
                Ok(Some(Step::Set(sets)))
            }
            _ => {
                let var = self
                    .target_name(target)
                    .ok_or("a row stored in something other than a name")?;
                self.m.feeder_columns(&feeder, Vec::new());
                Ok(Some(Step::Feed { feeder, var }))
            }
        }
    }
}

/// `str(x)`, `int(x)`: `x` (an extraction keeps the JSON type).
fn strip_cast(e: &Expr) -> &Expr {
    if let Expr::Call(c) = e {
        if matches!(dotted(&c.func).as_deref(), Some("str" | "int" | "float")) && c.args.len() == 1
        {
            return &c.args[0];
        }
    }
    e
}
