//! The task ratios a Python locustfile declares, from its syntax alone: each user
//! class's share (weights, `fixed_count`) and each task's share within its class, nested
//! TaskSets multiplied out to their leaf tasks (Locust's `--show-task-ratio` tree,
//! flattened), for `convert --check`.

use rustpython_parser::ast;

use crate::classes::{Classes, Entry, Kind};
use crate::context::{Fx, Module};
use crate::model::Val;

/// One user class as declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub class: String,
    pub weight: f64,
    pub fixed_count: u64,
    /// Leaf task name → share of the class's task runs.
    pub tasks: Vec<(String, f64)>,
}

pub fn declared<'a>(
    classes: &Classes<'a>,
    m: &Module<'a>,
    users: &[&'a ast::StmtClassDef],
) -> Vec<Declared> {
    let fx = Fx::new(m, "self");
    users
        .iter()
        .map(|cd| {
            let number = |name: &str| match classes.attr(cd, name).and_then(|e| fx.literal(e)) {
                Some(Val::Int(i)) => Some(i as f64),
                Some(Val::Float(f)) => Some(f),
                _ => None,
            };
            let mut tasks = Vec::new();
            leaves(classes, m, cd, 1.0, 0, &mut tasks);
            Declared {
                class: cd.name.to_string(),
                weight: number("weight").unwrap_or(1.0),
                fixed_count: number("fixed_count").unwrap_or(0.0).max(0.0) as u64,
                tasks,
            }
        })
        .collect()
}

fn leaves<'a>(
    classes: &Classes<'a>,
    m: &Module<'a>,
    cd: &'a ast::StmtClassDef,
    share: f64,
    depth: usize,
    out: &mut Vec<(String, f64)>,
) {
    let entries = classes.entries(m, cd);
    let total: u64 = entries
        .iter()
        .map(|e| match e {
            Entry::Function { weight, .. } | Entry::TaskSet { weight, .. } => *weight,
            Entry::Todo(_) => 0,
        })
        .sum();
    if total == 0 || depth > 10 {
        return;
    }
    let mut add = |name: String, s: f64| match out.iter_mut().find(|(n, _)| *n == name) {
        Some((_, v)) => *v += s,
        None => out.push((name, s)),
    };
    for e in entries {
        match e {
            Entry::Function { def, weight, .. } => {
                add(def.name.to_string(), share * weight as f64 / total as f64)
            }
            Entry::TaskSet { def, weight } if classes.kind(def) == Kind::Markov => {
                add(def.name.to_string(), share * weight as f64 / total as f64)
            }
            Entry::TaskSet { def, weight } => {
                let mut inner = Vec::new();
                leaves(
                    classes,
                    m,
                    def,
                    share * weight as f64 / total as f64,
                    depth + 1,
                    &mut inner,
                );
                for (n, s) in inner {
                    add(n, s);
                }
            }
            Entry::Todo(_) => {}
        }
    }
}

/// Each class's share of the users, as Locust's `--show-task-ratio` computes it
/// without `-u`: weights over their sum, or with `fixed_count` classes, one user.
pub fn class_shares(classes: &[Declared]) -> Vec<f64> {
    let fixed: u64 = classes.iter().map(|c| c.fixed_count).sum();
    let total: f64 = classes
        .iter()
        .filter(|c| c.fixed_count == 0)
        .map(|c| c.weight)
        .sum();
    let users = if fixed == 0 { total } else { 1.0 };
    let weighted = (users - fixed as f64).max(0.0);
    let counts: Vec<f64> = classes
        .iter()
        .map(|c| {
            if c.fixed_count > 0 {
                c.fixed_count as f64
            } else if total > 0.0 {
                (c.weight / total * weighted).round_ties_even()
            } else {
                0.0
            }
        })
        .collect();
    let sum: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| if sum > 0.0 { c / sum } else { 0.0 })
        .collect()
}
