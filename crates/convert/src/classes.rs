//! The classes of a locustfile: which are users, TaskSets and load shapes (by their
//! bases, followed through the file), their attributes and methods through their bases,
//! and their tasks (`@task` methods and `tasks = [...]`/`{...}` lists, TaskSets
//! flattened into the class with their weights), converted with on_start/on_stop.

use std::collections::HashMap;

use rustpython_parser::ast::{self, Expr, Stmt};

use crate::context::{const_int, const_str, dotted, Fx, Module};
use crate::model::{Task, Todo, UserClass};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    TaskSet,
    Sequential,
    Markov,
    Shape,
    Other,
}

/// The classes of the file by name.
pub struct Classes<'a> {
    pub defs: HashMap<String, &'a ast::StmtClassDef>,
    pub order: Vec<&'a ast::StmtClassDef>,
}

impl<'a> Classes<'a> {
    pub fn kind(&self, cd: &ast::StmtClassDef) -> Kind {
        self.kind_at(cd, 0)
    }

    fn kind_at(&self, cd: &ast::StmtClassDef, depth: usize) -> Kind {
        for base in &cd.bases {
            let name = dotted(base).unwrap_or_default();
            let short = name.rsplit('.').next().unwrap_or_default();
            let kind = match short {
                "HttpUser" | "FastHttpUser" | "User" => Kind::User,
                "TaskSet" => Kind::TaskSet,
                "SequentialTaskSet" => Kind::Sequential,
                "MarkovTaskSet" => Kind::Markov,
                "LoadTestShape" => Kind::Shape,
                _ => match self.defs.get(short) {
                    Some(parent) if depth < 20 => self.kind_at(parent, depth + 1),
                    _ => Kind::Other,
                },
            };
            if kind != Kind::Other {
                return kind;
            }
        }
        Kind::Other
    }

    /// The class and its bases defined in this file, nearest first.
    pub fn chain(&self, cd: &'a ast::StmtClassDef) -> Vec<&'a ast::StmtClassDef> {
        let mut chain = vec![cd];
        let mut at = cd;
        while chain.len() < 20 {
            let Some(parent) = at
                .bases
                .iter()
                .filter_map(|b| self.defs.get(dotted(b)?.rsplit('.').next()?))
                .next()
            else {
                break;
            };
            chain.push(parent);
            at = parent;
        }
        chain
    }

    /// A class attribute (`name = value`), looked up through the chain.
    pub fn attr(&self, cd: &'a ast::StmtClassDef, name: &str) -> Option<&'a Expr> {
        self.chain(cd).into_iter().find_map(|c| own_attr(c, name))
    }

    /// The methods of the class and its bases, nearest first.
    pub fn methods(&self, cd: &'a ast::StmtClassDef) -> HashMap<String, &'a ast::StmtFunctionDef> {
        let mut out = HashMap::new();
        for c in self.chain(cd).into_iter().rev() {
            for s in &c.body {
                if let Stmt::FunctionDef(f) = s {
                    out.insert(f.name.to_string(), f);
                }
            }
        }
        out
    }

    pub fn consts(&self, cd: &'a ast::StmtClassDef) -> HashMap<String, &'a Expr> {
        let mut out = HashMap::new();
        for c in self.chain(cd).into_iter().rev() {
            for s in &c.body {
                if let Stmt::Assign(a) = s {
                    if let [Expr::Name(n)] = a.targets.as_slice() {
                        out.insert(n.id.to_string(), a.value.as_ref());
                    }
                }
            }
        }
        out
    }
}

pub fn own_attr<'a>(cd: &'a ast::StmtClassDef, name: &str) -> Option<&'a Expr> {
    cd.body.iter().rev().find_map(|s| match s {
        Stmt::Assign(a) => match a.targets.as_slice() {
            [Expr::Name(n)] if n.id.as_str() == name => Some(a.value.as_ref()),
            _ => None,
        },
        Stmt::AnnAssign(a) => match (a.target.as_ref(), &a.value) {
            (Expr::Name(n), Some(v)) if n.id.as_str() == name => Some(v.as_ref()),
            _ => None,
        },
        _ => None,
    })
}

/// One entry of a class's task list, before conversion.
pub enum Entry<'a> {
    Function {
        def: &'a ast::StmtFunctionDef,
        /// The class whose method it is (None: a module-level function).
        owner: Option<&'a ast::StmtClassDef>,
        weight: u64,
        tags: Vec<String>,
    },
    TaskSet {
        def: &'a ast::StmtClassDef,
        weight: u64,
    },
    Todo(Todo),
}

/// `@task`, `@task(3)`: the weight; None without a task decorator.
pub fn task_weight(f: &ast::StmtFunctionDef) -> Option<u64> {
    f.decorator_list.iter().find_map(|d| match d {
        Expr::Call(c)
            if dotted(&c.func)
                .as_deref()
                .is_some_and(|n| n.ends_with("task")) =>
        {
            Some(
                c.args
                    .first()
                    .and_then(const_int)
                    .map_or(1, |w| w.max(0) as u64),
            )
        }
        other
            if dotted(other)
                .as_deref()
                .is_some_and(|n| n == "task" || n.ends_with(".task")) =>
        {
            Some(1)
        }
        _ => None,
    })
}

/// `@tag("a", "b")` on a function or class.
pub fn tags_of(decorators: &[Expr]) -> Vec<String> {
    decorators
        .iter()
        .filter_map(|d| match d {
            Expr::Call(c)
                if dotted(&c.func)
                    .as_deref()
                    .is_some_and(|n| n == "tag" || n.ends_with(".tag")) =>
            {
                Some(
                    c.args
                        .iter()
                        .filter_map(const_str)
                        .map(String::from)
                        .collect::<Vec<_>>(),
                )
            }
            _ => None,
        })
        .flatten()
        .collect()
}

impl<'a> Classes<'a> {
    /// The task list of a user class or TaskSet, in Locust's order: the bases' tasks,
    /// the `tasks` attribute, then the `@task` methods.
    pub fn entries(&self, m: &Module<'a>, cd: &'a ast::StmtClassDef) -> Vec<Entry<'a>> {
        let mut out = Vec::new();
        let chain = self.chain(cd);
        for c in chain.into_iter().rev() {
            if let Some(tasks) = own_attr(c, "tasks") {
                self.task_attr(m, c, tasks, &mut out);
            }
            for s in &c.body {
                if let Stmt::FunctionDef(f) = s {
                    if let Some(weight) = task_weight(f) {
                        out.retain(
                            |e| !matches!(e, Entry::Function { def, .. } if def.name == f.name),
                        );
                        out.push(Entry::Function {
                            def: f,
                            owner: Some(c),
                            weight,
                            tags: tags_of(&f.decorator_list),
                        });
                    }
                }
            }
        }
        out
    }

    fn task_attr(
        &self,
        m: &Module<'a>,
        c: &'a ast::StmtClassDef,
        tasks: &'a Expr,
        out: &mut Vec<Entry<'a>>,
    ) {
        let items: Vec<(&Expr, u64)> = match tasks {
            Expr::List(l) => l.elts.iter().map(|e| (e, 1)).collect(),
            Expr::Tuple(t) => t.elts.iter().map(|e| (e, 1)).collect(),
            Expr::Dict(d) => {
                let mut items = Vec::new();
                for (k, v) in d.keys.iter().zip(&d.values) {
                    match (k, const_int(v)) {
                        (Some(k), Some(w)) => items.push((k, w.max(0) as u64)),
                        _ => out.push(Entry::Todo(m.todo(v, "a task weight computed at run time"))),
                    }
                }
                items
            }
            other => {
                out.push(Entry::Todo(
                    m.todo(other, "a `tasks` value that is not a list or dict"),
                ));
                return;
            }
        };
        for (e, weight) in items {
            let name = dotted(e).unwrap_or_default();
            let own = c.body.iter().find_map(|s| match s {
                Stmt::FunctionDef(f) if f.name.as_str() == name => Some(f),
                _ => None,
            });
            if let Some(def) = own {
                out.push(Entry::Function {
                    def,
                    owner: Some(c),
                    weight,
                    tags: tags_of(&def.decorator_list),
                });
            } else if let Some(def) = m.functions.get(&name) {
                out.push(Entry::Function {
                    def,
                    owner: None,
                    weight,
                    tags: tags_of(&def.decorator_list),
                });
            } else if let Some(def) = self.defs.get(&name) {
                out.push(Entry::TaskSet { def, weight });
            } else {
                out.push(Entry::Todo(m.todo(
                    e,
                    "a task that is not a function or TaskSet of this file",
                )));
            }
        }
    }

    /// The converted tasks, on_start and on_stop of `cd` (a user class or a TaskSet),
    /// weights multiplied so that nested TaskSets keep their share.
    pub fn tasks(
        &self,
        m: &Module<'a>,
        cd: &'a ast::StmtClassDef,
        user: &mut UserClass,
        depth: usize,
    ) -> Vec<(Task, u64)> {
        let methods = self.methods(cd);
        let consts = self.consts(cd);
        let fx = |self_name: &str| {
            let mut fx = Fx::new(m, self_name);
            fx.methods = methods.clone();
            fx.class_consts = consts.clone();
            fx
        };
        for (hook, steps) in [("on_start", 0), ("on_stop", 1)] {
            if let Some(f) = methods.get(hook) {
                let converted = fx(&first_param(f)).block(&f.body);
                if steps == 0 {
                    user.on_start.extend(converted)
                } else {
                    user.on_stop.extend(converted)
                }
            }
        }
        let entries = self.entries(m, cd);
        let mut out: Vec<(Task, u64, u64)> = Vec::new();
        let class_tags = tags_of(&cd.decorator_list);
        let mut mixed = false;
        let sets = entries
            .iter()
            .filter(|e| matches!(e, Entry::TaskSet { .. }))
            .count();
        if sets > 0 && entries.len() > sets {
            mixed = true;
        }
        for entry in entries {
            match entry {
                Entry::Function {
                    def,
                    owner,
                    weight,
                    tags,
                } => {
                    let mut f = fx(&first_param(def));
                    if owner.is_none() {
                        f.methods.clear();
                        f.class_consts.clear();
                    }
                    let steps = f.block(&def.body);
                    let mut all_tags = class_tags.clone();
                    all_tags.extend(tags);
                    out.push((
                        Task {
                            name: def.name.to_string(),
                            weight: 1,
                            tags: all_tags,
                            steps,
                        },
                        weight,
                        1,
                    ));
                }
                Entry::TaskSet { def, weight } => {
                    let kind = self.kind(def);
                    if kind == Kind::Markov {
                        user.todos.push(m.todo(
                            def,
                            "a MarkovTaskSet: write its tasks with `next` tables by hand",
                        ));
                        continue;
                    }
                    if kind == Kind::Sequential {
                        user.sequential = true;
                    }
                    if depth > 10 || weight == 0 {
                        continue;
                    }
                    let inner = self.tasks(m, def, user, depth + 1);
                    let sum: u64 = inner.iter().map(|(_, w)| *w).sum();
                    for (mut task, w) in inner {
                        task.tags.splice(0..0, class_tags.iter().cloned());
                        // the share weight * w / sum
                        out.push((task, weight.saturating_mul(w), sum.max(1)));
                    }
                }
                Entry::Todo(todo) => user.todos.push(todo),
            }
        }
        if mixed {
            if let Some(tasks) = own_attr(cd, "tasks") {
                user.todos.push(m.todo(tasks, "a TaskSet beside other tasks is flattened into the class: Locust stays in a TaskSet until it calls self.interrupt()"));
            }
        }
        normalise(out)
    }
}

pub fn first_param(f: &ast::StmtFunctionDef) -> String {
    f.args
        .args
        .first()
        .map_or_else(|| "self".into(), |a| a.def.arg.to_string())
}

/// Weights given as fractions (numerator, denominator) made whole and as small as they
/// can be, their ratios kept.
fn normalise(tasks: Vec<(Task, u64, u64)>) -> Vec<(Task, u64)> {
    let lcm = tasks
        .iter()
        .map(|(_, _, d)| *d)
        .fold(1u64, |a, b| (a / gcd(a, b)).saturating_mul(b));
    let mut out: Vec<(Task, u64)> = tasks
        .into_iter()
        .map(|(t, n, d)| (t, n.saturating_mul(lcm / d.max(1))))
        .collect();
    let g = out.iter().map(|(_, w)| *w).filter(|w| *w > 0).fold(0, gcd);
    if g > 1 {
        for (_, w) in out.iter_mut() {
            *w /= g;
        }
    }
    out
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
