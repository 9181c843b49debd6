//! What a locustfile becomes before it is written: user classes, tasks, steps,
//! requests, feeders, setup and teardown, and TODO items where Python could not be
//! converted. `emit` writes it as TOML.

use std::cell::RefCell;
use std::rc::Rc;

/// A TOML value: `Str` is a template (or plain text).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Arr(Vec<Val>),
    Table(Vec<(String, Val)>),
}

/// Something that could not be converted: where, the line, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    pub line: usize,
    pub source_line: String,
    pub why: String,
}

/// A shared request, so that a later statement (`self.id = r.json()["id"]`) can add an
/// extraction or check to the request that made `r`.
pub type Req = Rc<RefCell<Request>>;

#[derive(Debug, Default, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// key → value, in written order (method, path and the rest are added by `emit`).
    pub fields: Vec<(String, Val)>,
    pub checks: Vec<Val>,
    pub extract: Vec<Val>,
    pub condition: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Step {
    Request(Req),
    Think(Val),
    Set(Vec<(String, String)>),
    If {
        cond: String,
        then: Vec<Step>,
        otherwise: Vec<Step>,
    },
    Repeat {
        times: Val,
        steps: Vec<Step>,
    },
    For {
        var: String,
        items: String,
        steps: Vec<Step>,
    },
    Feed {
        feeder: String,
        var: String,
    },
    Fail(String),
    StopUser,
    /// Not converted: written as a `# TODO(convert)` comment in place.
    Todo(Todo),
    /// A comment line (something left out on purpose, such as a `print`).
    Note(String),
}

#[derive(Debug, Clone, Default)]
pub struct Task {
    pub name: String,
    pub weight: u64,
    pub tags: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Default)]
pub struct UserClass {
    pub name: String,
    pub line: usize,
    pub host: Option<String>,
    pub weight: Option<Val>,
    pub fixed_count: Option<i64>,
    pub wait_time: Option<String>,
    pub sequential: bool,
    pub tags: Vec<String>,
    /// Per-user variables: class attributes computed when the class is defined.
    pub vars: Vec<(String, String)>,
    pub on_start: Vec<Step>,
    pub on_stop: Vec<Step>,
    pub tasks: Vec<Task>,
    /// Class-level TODOs (an attribute that could not be converted).
    pub todos: Vec<Todo>,
}

#[derive(Debug, Clone, Default)]
pub struct Feeder {
    pub name: String,
    pub file: String,
    pub columns: Option<Vec<String>>,
    pub order: &'static str,
}

/// A load shape: the stages of a `locust.toml` profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: String,
    pub class: String,
    pub stages: Vec<Val>,
    pub todos: Vec<Todo>,
}

#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub file: String,
    pub top_todos: Vec<Todo>,
    pub notes: Vec<String>,
    pub feeders: Vec<Feeder>,
    pub setup: Vec<Step>,
    pub teardown: Vec<Step>,
    pub classes: Vec<UserClass>,
    pub profile: Option<Profile>,
}

impl Scenario {
    /// Every TODO, in the order of the output.
    pub fn todos(&self) -> Vec<Todo> {
        let mut all = self.top_todos.clone();
        collect(&self.setup, &mut all);
        collect(&self.teardown, &mut all);
        for class in &self.classes {
            all.extend(class.todos.iter().cloned());
            collect(&class.on_start, &mut all);
            collect(&class.on_stop, &mut all);
            for task in &class.tasks {
                collect(&task.steps, &mut all);
            }
        }
        if let Some(profile) = &self.profile {
            all.extend(profile.todos.iter().cloned());
        }
        all.sort_by_key(|t| t.line);
        all.dedup();
        all
    }
}

/// Every variable the steps, class `vars` and extractions of `classes` and `setup` set.
pub fn defined(setup: &[Step], classes: &[UserClass]) -> std::collections::HashSet<String> {
    fn walk(steps: &[Step], out: &mut std::collections::HashSet<String>) {
        for step in steps {
            match step {
                Step::Set(vars) => out.extend(vars.iter().map(|(k, _)| k.clone())),
                Step::Feed { var, .. } => {
                    out.insert(var.clone());
                }
                Step::Request(r) => {
                    for e in &r.borrow().extract {
                        if let Val::Table(fields) = e {
                            if let Some((_, Val::Str(var))) = fields.first() {
                                out.insert(var.clone());
                            }
                        }
                    }
                }
                Step::If {
                    then, otherwise, ..
                } => {
                    walk(then, out);
                    walk(otherwise, out);
                }
                Step::For { var, steps, .. } => {
                    out.insert(var.clone());
                    walk(steps, out);
                }
                Step::Repeat { steps, .. } => walk(steps, out),
                _ => {}
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    walk(setup, &mut out);
    for c in classes {
        out.extend(c.vars.iter().map(|(k, _)| k.clone()));
        walk(&c.on_start, &mut out);
        walk(&c.on_stop, &mut out);
        for t in &c.tasks {
            walk(&t.steps, &mut out);
        }
    }
    out
}

fn collect(steps: &[Step], out: &mut Vec<Todo>) {
    for step in steps {
        match step {
            Step::Todo(todo) => out.push(todo.clone()),
            Step::If {
                then, otherwise, ..
            } => {
                collect(then, out);
                collect(otherwise, out);
            }
            Step::Repeat { steps, .. } | Step::For { steps, .. } => collect(steps, out),
            _ => {}
        }
    }
}
