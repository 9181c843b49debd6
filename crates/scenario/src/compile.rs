//! Compiling one `[users.<Name>]` table into a `UserClass`: weights, wait_time, host,
//! tags, tasks and their steps, and the variable analysis (what each task needs that
//! another step extracts). All checks run here, before any request is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use minijinja::Environment;
use toml::Spanned;

use crate::class::{Task, UserClass};
use crate::error::ScenarioError;
use crate::extract::is_identifier;
use crate::model::{ClassDef, RequestDef, TaskDef};
use crate::request::{compile_request, Cx};
use crate::source::SourceFile;
use crate::step::Step;
use crate::template::{TemplateCompiler, BUILTIN_FUNCS, BUILTIN_VARS};
use crate::wait::WaitTime;

/// Compiles every class of one file.
/// The file's classes in the order they are written.
pub(crate) fn compile_file(file: &SourceFile) -> Result<Vec<UserClass>, ScenarioError> {
    let mut defs: Vec<_> = file.def.users.iter().collect();
    defs.sort_by_key(|(_, def)| def.span().start);
    defs.into_iter()
        .map(|(name, def)| compile_class(file, name, def))
        .collect()
}

fn compile_class(
    file: &SourceFile,
    name: &str,
    def: &Spanned<ClassDef>,
) -> Result<UserClass, ScenarioError> {
    let class_key = format!("users.{name}");
    let loc = |span: std::ops::Range<usize>, key: &str| {
        let (line, column) = file.line_col(span.start);
        crate::error::Location {
            file: file.path.clone(),
            line,
            column,
            key: key.to_string(),
        }
    };
    let span = def.span();
    let def = def.get_ref();
    if !is_identifier(name) {
        return Err(ScenarioError::Invalid {
            at: loc(span, &class_key),
            message: format!(
                "user class name {name:?} must be letters, digits and _ (like a Python class name)"
            ),
        });
    }
    let weight = match &def.weight {
        None => 1.0,
        Some(w) if w.get_ref().is_finite() && *w.get_ref() >= 0.0 => *w.get_ref(),
        Some(w) => {
            return Err(ScenarioError::Weight {
                at: loc(w.span(), &format!("{class_key}.weight")),
                value: w.get_ref().to_string(),
                expected: "a class weight is a number >= 0",
            })
        }
    };
    let fixed_count = match &def.fixed_count {
        None => 0,
        Some(c) => u32::try_from(*c.get_ref()).map_err(|_| ScenarioError::Weight {
            at: loc(c.span(), &format!("{class_key}.fixed_count")),
            value: c.get_ref().to_string(),
            expected: "fixed_count is an integer >= 0",
        })?,
    };
    let wait_time = match &def.wait_time {
        None => WaitTime::default(),
        Some(w) => WaitTime::parse_detailed(w.get_ref()).map_err(|e| ScenarioError::WaitTime {
            at: loc(w.span(), &format!("{class_key}.wait_time")),
            text: w.get_ref().clone(),
            reason: e.reason,
            suggestion: e.suggestion,
        })?,
    };
    let host = match &def.host {
        None => None,
        Some(h) if h.get_ref().starts_with("http://") || h.get_ref().starts_with("https://") => {
            Some(h.get_ref().clone())
        }
        Some(h) => {
            return Err(ScenarioError::Invalid {
                at: loc(h.span(), &format!("{class_key}.host")),
                message: format!("host {:?} must start with http:// or https://", h.get_ref()),
            })
        }
    };
    if def.tasks.is_empty() {
        return Err(ScenarioError::NoTasks {
            at: loc(span, &class_key),
            class: name.to_string(),
        });
    }

    let extracted = extracted_vars(file, &class_key, def)?;
    let mut templates = TemplateCompiler::new();
    let placeholder = Arc::new(Environment::new());
    let mut cx = Cx {
        file,
        class: name,
        templates: &mut templates,
        extracted: &extracted,
        class_headers: &def.headers,
        env: placeholder,
    };

    let mut on_start = Vec::new();
    for (i, r) in def.on_start.iter().enumerate() {
        on_start.push(compile_request(
            &mut cx,
            r,
            &format!("{class_key}.on_start[{i}]"),
            "on_start",
        )?);
    }
    let mut on_stop = Vec::new();
    for (i, r) in def.on_stop.iter().enumerate() {
        on_stop.push(compile_request(
            &mut cx,
            r,
            &format!("{class_key}.on_stop[{i}]"),
            "on_stop",
        )?);
    }
    let tags = dedup(def.tags.iter().cloned());
    let mut tasks: Vec<Task> = Vec::new();
    for (i, t) in def.tasks.iter().enumerate() {
        let task = compile_task(&mut cx, t, &format!("{class_key}.tasks[{i}]"), &tags)?;
        if tasks.iter().any(|other| other.name == task.name) {
            return Err(ScenarioError::DuplicateTask {
                at: cx.loc(t.span(), &format!("{class_key}.tasks[{i}]")),
                class: name.to_string(),
                name: task.name,
            });
        }
        tasks.push(task);
    }

    let env = templates.finish();
    let attach = |s: &mut Step| s.env = env.clone();
    on_start.iter_mut().for_each(attach);
    on_stop.iter_mut().for_each(attach);
    tasks
        .iter_mut()
        .flat_map(|t| t.steps.iter_mut())
        .for_each(attach);

    Ok(UserClass {
        name: name.to_string(),
        weight,
        fixed_count,
        wait_time,
        host,
        tags,
        tasks,
        on_start,
        on_stop,
        source: file.path.clone(),
        order: 0,
    })
}

fn compile_task(
    cx: &mut Cx<'_>,
    def: &Spanned<TaskDef>,
    key: &str,
    class_tags: &[String],
) -> Result<Task, ScenarioError> {
    let span = def.span();
    let def = def.get_ref();
    let requests: Vec<(&Spanned<RequestDef>, String)> = match (&def.request, &def.requests) {
        (Some(r), None) => vec![(r, format!("{key}.request"))],
        (None, Some(list)) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, r)| (r, format!("{key}.requests[{i}]")))
            .collect(),
        (Some(_), Some(_)) => {
            return Err(ScenarioError::Invalid {
                at: cx.loc(span, key),
                message: "a task has either `request` (one) or `requests` (a list), not both"
                    .into(),
            })
        }
        _ => {
            return Err(ScenarioError::Invalid {
                at: cx.loc(span, key),
                message: "a task needs `request = { ... }` or at least one `[[...requests]]` entry"
                    .into(),
            })
        }
    };
    let weight = match &def.weight {
        None => 1,
        Some(w) => u32::try_from(*w.get_ref())
            .ok()
            .filter(|w| *w >= 1)
            .ok_or_else(|| ScenarioError::Weight {
                at: cx.loc(w.span(), &format!("{key}.weight")),
                value: w.get_ref().to_string(),
                expected: "a task weight is an integer >= 1",
            })?,
    };
    let name = match &def.name {
        Some(n) => n.get_ref().clone(),
        None => default_task_name(requests[0].0.get_ref()),
    };
    let mut steps = Vec::new();
    for (r, rkey) in &requests {
        steps.push(compile_request(cx, r, rkey, &name)?);
    }
    // Variables read before this task extracts them itself come from elsewhere.
    let mut produced = BTreeSet::new();
    let mut requires = BTreeSet::new();
    for s in &steps {
        requires.extend(s.needs().iter().filter(|v| !produced.contains(*v)).cloned());
        produced.extend(s.extracts().map(str::to_string));
    }
    Ok(Task {
        name,
        weight,
        tags: dedup(class_tags.iter().chain(def.tags.iter()).cloned()),
        steps,
        requires: requires.into_iter().collect(),
    })
}

/// `GET /health`, or the request's `name` when it has one.
fn default_task_name(r: &RequestDef) -> String {
    let method = r
        .method
        .as_ref()
        .map(|m| m.get_ref().to_ascii_uppercase())
        .unwrap_or_else(|| "GET".into());
    let target = r.name.as_ref().unwrap_or(&r.path).get_ref();
    format!("{method} {target}")
}

/// Every variable extracted anywhere in the class; a name is either always a list
/// (`append = true`) or never, and never shadows a builtin.
fn extracted_vars(
    file: &SourceFile,
    class_key: &str,
    def: &ClassDef,
) -> Result<BTreeSet<String>, ScenarioError> {
    let requests = def
        .on_start
        .iter()
        .chain(def.on_stop.iter())
        .chain(def.tasks.iter().flat_map(|t| {
            let t = t.get_ref();
            t.request.iter().chain(t.requests.iter().flatten())
        }));
    let mut kinds: BTreeMap<String, bool> = BTreeMap::new();
    for r in requests {
        for e in &r.get_ref().extract {
            let ex = e.get_ref();
            let invalid = |message: String| {
                let (line, column) = file.line_col(e.span().start);
                ScenarioError::Invalid {
                    at: crate::error::Location {
                        file: file.path.clone(),
                        line,
                        column,
                        key: format!("{class_key}: extract {}", ex.var),
                    },
                    message,
                }
            };
            if BUILTIN_VARS.contains(&ex.var.as_str()) || BUILTIN_FUNCS.contains(&ex.var.as_str()) {
                return Err(invalid(format!(
                    "`{}` is a builtin and cannot be extracted into",
                    ex.var
                )));
            }
            match kinds.insert(ex.var.clone(), ex.append) {
                Some(prev) if prev != ex.append => {
                    return Err(invalid(format!(
                        "variable `{}` is extracted both with and without `append = true`; a variable is either a list or a single value",
                        ex.var
                    )))
                }
                _ => {}
            }
        }
    }
    Ok(kinds.into_keys().collect())
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
