//! A user class into the model: host, weight, fixed_count, wait_time, tags, computed
//! class attributes as per-user `vars`, and its tasks (from `Classes::tasks`), with
//! names kept unique and `self.ids = []` dropped where extractions fill the list.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr, Ranged};

use crate::classes::{tags_of, Classes};
use crate::context::{const_str, dotted, Fx, Module};
use crate::model::{Step, UserClass, Val};

/// The user class `cd` in the model.
pub fn user_class<'a>(
    classes: &Classes<'a>,
    m: &Module<'a>,
    cd: &'a ast::StmtClassDef,
    default_host: Option<&str>,
) -> UserClass {
    let mut user = UserClass {
        name: cd.name.to_string(),
        line: m.src.line(cd.start()),
        ..UserClass::default()
    };
    let fx = Fx::new(m, "self");
    match classes.attr(cd, "host") {
        Some(e) => match fx.literal(e) {
            Some(Val::Str(h)) if !h.is_empty() => user.host = Some(h),
            Some(_) => {}
            None => match env_default(e) {
                Some(h) => user.host = Some(h),
                None => user
                    .todos
                    .push(m.todo(e, "a host computed at run time: give it with --host")),
            },
        },
        None => user.host = default_host.map(String::from),
    }
    if let Some(e) = classes.attr(cd, "weight") {
        match fx.literal(e) {
            Some(v @ (Val::Int(_) | Val::Float(_))) => user.weight = Some(v),
            _ => user.todos.push(m.todo(e, "a weight computed at run time")),
        }
    }
    if let Some(e) = classes.attr(cd, "fixed_count") {
        match fx.literal(e) {
            Some(Val::Int(n)) if n > 0 => user.fixed_count = Some(n),
            Some(Val::Int(_)) => {}
            _ => user
                .todos
                .push(m.todo(e, "a fixed_count computed at run time")),
        }
    }
    if let Some(e) = classes.attr(cd, "wait_time") {
        match wait_time(&fx, e) {
            Some(w) => user.wait_time = Some(w),
            None => user.todos.push(m.todo(
                e,
                "a wait_time other than between, constant, constant_pacing and constant_throughput",
            )),
        }
    }
    if let Some(init) = classes.methods(cd).get("__init__") {
        user.todos.push(m.todo(
            *init,
            "__init__ is not converted: set per-user values in on_start (or class attributes)",
        ));
    }
    user.tags = tags_of(&cd.decorator_list);
    class_vars(classes, m, cd, &mut user);
    let tasks = classes.tasks(m, cd, &mut user, 0);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (mut task, weight) in tasks {
        if weight == 0 {
            continue;
        }
        if let Some(same) = user.tasks.iter_mut().find(|t| {
            t.name == task.name && format!("{:?}", t.steps) == format!("{:?}", task.steps)
        }) {
            // The same function listed twice (`tasks = [a, a]`): one task, weights added.
            same.weight += weight;
            continue;
        }
        let n = seen.entry(task.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            task.name = format!("{}_{n}", task.name);
        }
        task.weight = weight;
        task.tags.retain(|t| !user.tags.contains(t));
        if user.sequential && weight > 1 {
            task.steps.push(Step::Note(format!("{}: weight {weight} in a SequentialTaskSet runs the task {weight} times in a row in Locust; here once", task.name)));
        }
        user.tasks.push(task);
    }
    drop_empty_list_sets(&mut user);
    user
}

/// `self.ids = []` where `ids` is filled by `append` extractions: the extraction makes the
/// list itself (and a task reading it waits until it has an item, as `if self.ids:` does).
fn drop_empty_list_sets(user: &mut UserClass) {
    fn appended(steps: &[Step], out: &mut Vec<String>) {
        for step in steps {
            match step {
                Step::Request(r) => {
                    for e in &r.borrow().extract {
                        if let Val::Table(fields) = e {
                            if fields
                                .iter()
                                .any(|(k, v)| k == "append" && *v == Val::Bool(true))
                            {
                                if let Some((_, Val::Str(var))) = fields.first() {
                                    out.push(var.clone());
                                }
                            }
                        }
                    }
                }
                Step::If {
                    then, otherwise, ..
                } => {
                    appended(then, out);
                    appended(otherwise, out);
                }
                Step::Repeat { steps, .. } | Step::For { steps, .. } => appended(steps, out),
                _ => {}
            }
        }
    }
    fn drop(steps: &mut Vec<Step>, lists: &[String]) {
        for step in steps.iter_mut() {
            match step {
                Step::Set(vars) => vars.retain(|(k, v)| !(lists.contains(k) && v == "{{ [] }}")),
                Step::If {
                    then, otherwise, ..
                } => {
                    drop(then, lists);
                    drop(otherwise, lists);
                }
                Step::Repeat { steps, .. } | Step::For { steps, .. } => drop(steps, lists),
                _ => {}
            }
        }
        steps.retain(|s| !matches!(s, Step::Set(vars) if vars.is_empty()));
    }
    let mut lists = Vec::new();
    appended(&user.on_start, &mut lists);
    for task in &user.tasks {
        appended(&task.steps, &mut lists);
    }
    drop(&mut user.on_start, &lists);
    for task in &mut user.tasks {
        drop(&mut task.steps, &lists);
    }
}

/// Attributes Locust reads itself, not data of the user.
const SPECIAL: &[&str] = &[
    "host",
    "weight",
    "fixed_count",
    "wait_time",
    "tasks",
    "abstract",
    "tags",
    "stages",
    "connection_timeout",
    "network_timeout",
    "insecure",
    "max_redirects",
    "max_retries",
];

/// Class attributes that are computed (`token = os.getenv(...)`): per-user `vars`.
fn class_vars<'a>(
    classes: &Classes<'a>,
    m: &Module<'a>,
    cd: &'a ast::StmtClassDef,
    user: &mut UserClass,
) {
    let mut fx = Fx::new(m, "self");
    let mut consts: Vec<(String, &Expr)> = classes.consts(cd).into_iter().collect();
    consts.sort_by_key(|(_, e)| e.start());
    for (name, e) in consts {
        if SPECIAL.contains(&name.as_str()) || fx.literal(e).is_some() {
            continue;
        }
        match fx.code(e) {
            Ok(code) => user
                .vars
                .push((crate::pyexpr::var_name(&name), format!("{{{{ {code} }}}}"))),
            Err(why) => user.todos.push(m.todo(e, why)),
        }
    }
}

/// `os.getenv("X", "default")`: the default.
fn env_default(e: &Expr) -> Option<String> {
    let Expr::Call(c) = e else { return None };
    let name = dotted(&c.func)?;
    if !matches!(name.as_str(), "os.getenv" | "os.environ.get") {
        return None;
    }
    c.args.get(1).and_then(const_str).map(String::from)
}

/// `between(1, 3)` and the other wait helpers, as their text.
pub fn wait_time(fx: &Fx, e: &Expr) -> Option<String> {
    let Expr::Call(c) = e else { return None };
    let name = dotted(&c.func)?;
    let short = name.rsplit('.').next()?;
    let arity = match short {
        "between" => 2,
        "constant" | "constant_pacing" | "constant_throughput" => 1,
        _ => return None,
    };
    if c.args.len() != arity || !c.keywords.is_empty() {
        return None;
    }
    let args = c
        .args
        .iter()
        .map(|a| match fx.literal(a)? {
            Val::Int(i) => Some(i.to_string()),
            Val::Float(f) => Some(format!("{f}")),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(format!("{short}({})", args.join(", ")))
}
