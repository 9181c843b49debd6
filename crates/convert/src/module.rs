//! The module level of a locustfile: constants, functions, CSV files and readers (into
//! feeders), `@events.test_start`/`test_stop` listeners (into `[[setup]]` and
//! `[[teardown]]`), `HttpUser.host = ...`, and the classes, converted in file order.
//! Any other statement is a TODO at the top of the output.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr, Ranged, Stmt};

use crate::classes::{self, Classes, Kind};
use crate::context::{const_str, dotted, Fx, Module, Rows};
use crate::model::{Feeder, Scenario, Step};

/// The path of `open(path)` or `os.path.join(os.path.dirname(__file__), "x.csv")`.
fn file_path(e: &Expr) -> Option<String> {
    if let Some(s) = const_str(e) {
        return Some(s.to_string());
    }
    let Expr::Call(c) = e else { return None };
    match dotted(&c.func)?.as_str() {
        "open" => file_path(c.args.first()?),
        "os.path.join" => c.args.last().and_then(const_str).map(String::from),
        _ => None,
    }
}

fn feeder_name(path: &str) -> String {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.split('.').next().unwrap_or(stem);
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "rows".into()
    } else {
        name
    }
}

/// `csv.reader(f)` / `csv.DictReader(f)` (or wrapped in `list(...)`): (file, header row?, list?).
fn csv_source(m: &Module, e: &Expr) -> Option<(String, bool, bool)> {
    let Expr::Call(c) = e else { return None };
    let name = dotted(&c.func)?;
    if name == "list" {
        let (file, header, _) = csv_source(m, c.args.first()?)?;
        return Some((file, header, true));
    }
    let header = match name.as_str() {
        "csv.reader" | "reader" => false,
        "csv.DictReader" | "DictReader" => true,
        _ => return None,
    };
    let arg = c.args.first()?;
    let file = match arg {
        Expr::Name(n) => m.files.get(n.id.as_str()).cloned(),
        other => file_path(other),
    }?;
    Some((file, header, false))
}

fn add_feeder(m: &Module, file: &str, header: bool) -> String {
    let mut feeders = m.feeders.borrow_mut();
    if let Some(f) = feeders.iter().find(|f| f.file == file) {
        return f.name.clone();
    }
    let name = feeder_name(file);
    feeders.push(Feeder {
        name: name.clone(),
        file: file.to_string(),
        columns: if header { None } else { Some(Vec::new()) },
        order: "cycle",
    });
    name
}

/// Reads CSV readers and files bound at module level (also inside `with open(...)`).
fn csv_binding(m: &mut Module, s: &Stmt) {
    match s {
        Stmt::Assign(a) => {
            let [Expr::Name(n)] = a.targets.as_slice() else {
                return;
            };
            if let Some((file, header, list)) = csv_source(m, &a.value) {
                let feeder = add_feeder(m, &file, header);
                let rows = if list {
                    Rows::List { feeder }
                } else {
                    Rows::Reader { feeder }
                };
                m.rows.insert(n.id.to_string(), rows);
            } else if let Expr::Call(c) = a.value.as_ref() {
                if dotted(&c.func).as_deref() == Some("open") {
                    if let Some(path) = file_path(&a.value) {
                        m.files.insert(n.id.to_string(), path);
                    }
                }
            }
        }
        Stmt::With(w) => {
            for item in &w.items {
                if let (Some(Expr::Name(n)), Some(path)) =
                    (item.optional_vars.as_deref(), file_path(&item.context_expr))
                {
                    m.files.insert(n.id.to_string(), path);
                }
            }
            for inner in &w.body {
                csv_binding(m, inner);
            }
        }
        _ => {}
    }
}

/// The event an `@events.<event>.add_listener` decorator names.
fn listener_event(f: &ast::StmtFunctionDef) -> Option<String> {
    f.decorator_list.iter().find_map(|d| {
        let name = dotted(d)?;
        let rest = name
            .strip_prefix("events.")
            .or_else(|| name.strip_prefix("locust.events."))?;
        rest.strip_suffix(".add_listener").map(String::from)
    })
}

pub fn convert(
    src: &crate::source::Source,
    suite: &[Stmt],
) -> (Scenario, Vec<crate::ratio::Declared>) {
    let mut m = Module {
        src,
        consts: HashMap::new(),
        functions: HashMap::new(),
        files: HashMap::new(),
        rows: HashMap::new(),
        feeders: Default::default(),
        options: HashMap::new(),
        defined: None,
    };
    let mut classes = Classes {
        defs: HashMap::new(),
        order: Vec::new(),
    };
    for s in suite {
        match s {
            Stmt::Assign(a) => {
                if let [Expr::Name(n)] = a.targets.as_slice() {
                    m.consts.insert(n.id.to_string(), a.value.as_ref());
                }
            }
            Stmt::FunctionDef(f) => {
                m.functions.insert(f.name.to_string(), f);
                if listener_event(f).as_deref() == Some("init_command_line_parser") {
                    options(&mut m, f);
                }
            }
            Stmt::ClassDef(c) => {
                classes.defs.insert(c.name.to_string(), c);
                classes.order.push(c);
            }
            _ => {}
        }
        csv_binding(&mut m, s);
    }
    // Names bound to CSV readers or files are not constants.
    let bound: Vec<String> = m.rows.keys().chain(m.files.keys()).cloned().collect();
    for name in bound {
        m.consts.remove(&name);
    }
    let mut scenario = Scenario {
        file: src.name.to_string(),
        ..Scenario::default()
    };
    let mut default_host = None;
    for s in suite {
        match s {
            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::ClassDef(_) | Stmt::Pass(_) => {}
            Stmt::Expr(e) if const_str(&e.value).is_some() => {}
            Stmt::Assign(a) => {
                if let [Expr::Attribute(t)] = a.targets.as_slice() {
                    let base = dotted(&t.value).unwrap_or_default();
                    if t.attr.as_str() == "host" && matches!(base.as_str(), "HttpUser" | "FastHttpUser" | "User") {
                        match const_str(&a.value) {
                            Some(h) => default_host = Some(h.to_string()),
                            None => scenario.top_todos.push(m.todo(s, "a host computed at run time: give it with --host")),
                        }
                    } else {
                        scenario.top_todos.push(m.todo(s, "a module-level assignment to an attribute has no counterpart"));
                    }
                }
            }
            Stmt::FunctionDef(f) => match listener_event(f).as_deref() {
                Some(event @ ("test_start" | "test_stop")) => {
                    let mut fx = Fx::new(&m, "environment");
                    let steps = listener(&mut fx, f);
                    if event == "test_start" { scenario.setup.extend(steps) } else { scenario.teardown.extend(steps) }
                }
                Some("init_command_line_parser") => scenario.notes.push(format!(
                    "{}:{}: the options of `{}` are `--var NAME=VALUE` (read as vars.NAME, with the Python defaults): {}",
                    src.name,
                    src.line(f.start()),
                    f.name,
                    {
                        let mut names: Vec<&String> = m.options.keys().collect();
                        names.sort();
                        names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                    }
                )),
                Some("init") if format!("{:?}", f.body).contains("\"web_ui\"") => scenario.notes.push(format!(
                    "{}:{}: the init listener `{}` extends Locust's web UI (the target of the example), left out",
                    src.name,
                    src.line(f.start()),
                    f.name
                )),
                Some(event) => scenario.top_todos.push(m.todo(
                    &f.decorator_list[0],
                    format!("the `{event}` event listener has no counterpart"),
                )),
                None => {}
            },
            Stmt::If(i) if format!("{:?}", i.test).contains("\"__name__\"") => scenario.notes.push(format!(
                "{}:{}: `if __name__ == \"__main__\":` left out (run one user with -u 1 -i N)",
                src.name,
                src.line(i.start())
            )),
            Stmt::With(_) if !m.files.is_empty() => {}
            other => scenario.top_todos.push(m.todo(other, "a module-level statement has no counterpart")),
        }
    }
    // Two passes: the first finds the variables the classes set, so that the second
    // turns a read of any other name into a TODO.
    let first = classes_pass(&classes, &m, default_host.as_deref());
    m.defined = Some(crate::model::defined(&scenario.setup, &first.classes));
    let pass = classes_pass(&classes, &m, default_host.as_deref());
    scenario.classes = pass.classes;
    scenario.profile = pass.profile;
    scenario.top_todos.extend(pass.todos);
    let users = pass.users;
    if users.is_empty() {
        scenario.top_todos.push(crate::model::Todo {
            line: 1,
            source_line: src.line_text(1),
            why: "no HttpUser or FastHttpUser class in this file: nothing to run".into(),
        });
    }
    for f in m.feeders.borrow().iter() {
        if f.columns.as_ref().is_some_and(|c| c.is_empty()) {
            scenario.top_todos.push(crate::model::Todo {
                line: 1,
                source_line: format!("csv.reader of {}", f.file),
                why: "rows read without naming their columns: add `columns = [...]` to the feeder"
                    .into(),
            });
        }
    }
    scenario.feeders = m.feeders.borrow().clone();
    let declared = crate::ratio::declared(&classes, &m, &users);
    (scenario, declared)
}

/// `parser.add_argument("--my-arg", default=...)`: the option `my_arg` and its default.
fn options(m: &mut Module, f: &ast::StmtFunctionDef) {
    let fx = Fx::new(m, "parser");
    let mut found = Vec::new();
    for s in &f.body {
        let Stmt::Expr(e) = s else { continue };
        let Expr::Call(c) = e.value.as_ref() else {
            continue;
        };
        if !dotted(&c.func).is_some_and(|d| d.ends_with(".add_argument")) {
            continue;
        }
        let Some(flag) = c
            .args
            .iter()
            .filter_map(const_str)
            .find(|a| a.starts_with("--"))
        else {
            continue;
        };
        let name = flag.trim_start_matches('-').replace('-', "_");
        let default = crate::context::kwarg(c, "default")
            .and_then(|d| fx.literal(d))
            .map(|v| crate::pyexpr::val_code(&v));
        found.push((name, default.unwrap_or_else(|| "none".into())));
    }
    m.options.extend(found);
}

/// What the classes of a file become.
struct Pass<'a> {
    classes: Vec<crate::model::UserClass>,
    profile: Option<crate::model::Profile>,
    todos: Vec<crate::model::Todo>,
    users: Vec<&'a ast::StmtClassDef>,
}

fn classes_pass<'a>(classes: &Classes<'a>, m: &Module<'a>, default_host: Option<&str>) -> Pass<'a> {
    let mut pass = Pass {
        classes: Vec::new(),
        profile: None,
        todos: Vec::new(),
        users: Vec::new(),
    };
    for cd in &classes.order {
        let kind = classes.kind(cd);
        let abstract_ = classes::own_attr(cd, "abstract").is_some_and(
            |e| matches!(e, Expr::Constant(c) if matches!(c.value, ast::Constant::Bool(true))),
        );
        match kind {
            Kind::User if !abstract_ => {
                let user = crate::user::user_class(classes, m, cd, default_host);
                if user.tasks.is_empty() {
                    pass.todos.push(m.todo(
                        *cd,
                        "no task of this class could be converted, so the class is left out",
                    ));
                    pass.todos.extend(user.todos);
                } else {
                    pass.classes.push(user);
                }
                pass.users.push(*cd);
            }
            Kind::Shape if pass.profile.is_none() => {
                pass.profile = Some(crate::shape::shape(classes, m, cd));
            }
            Kind::Shape => pass
                .todos
                .push(m.todo(*cd, "a second LoadTestShape: a run has one shape")),
            Kind::Other if cd.bases.iter().any(|b| dotted(b).is_some_and(|n| n.ends_with("User"))) => {
                pass.todos.push(m.todo(
                    *cd,
                    "a User of another client library: locust-rs speaks HTTP (HttpUser, FastHttpUser)",
                ))
            }
            _ => {}
        }
    }
    pass
}

/// The requests of an event listener (`requests.post(...)`, `self.client`-less).
fn listener(fx: &mut Fx, f: &ast::StmtFunctionDef) -> Vec<Step> {
    let mut out = Vec::new();
    for s in &f.body {
        if let Stmt::Expr(e) = s {
            if let Expr::Call(call) = e.value.as_ref() {
                if let Some(req) = fx.client_call(call, true) {
                    match req {
                        Ok(c) => out.push(Step::Request(std::rc::Rc::new(
                            std::cell::RefCell::new(c.request),
                        ))),
                        Err(why) => out.push(fx.todo_step(s, why)),
                    }
                    continue;
                }
            }
        }
        fx.stmt_public(s, &mut out);
    }
    out
}
