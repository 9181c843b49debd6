//! Compiling one scenario file: its `[users.<Name>]` tables into `UserClass`es (weights,
//! wait_time, host, tags, per-user variables, tasks and their steps) and its `[[setup]]`
//! and `[[teardown]]` steps, with the variable analysis (what each task needs that
//! another step sets). All checks run here, before any request is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use minijinja::Environment;
use toml::Spanned;

use crate::action::{Action, SetVars};
use crate::action_compile::compile_actions;
use crate::class::{RunSteps, Task, UserClass};
use crate::error::ScenarioError;
use crate::extract::is_identifier;
use crate::model::{ClassDef, Pairs, RequestDef, TaskDef};
use crate::request::Cx;
use crate::source::SourceFile;
use crate::template::{TemplateCompiler, BUILTIN_FUNCS, BUILTIN_VARS};
use crate::wait::WaitTime;
use crate::LoadOptions;

/// Compiles one file: its classes in the order they are written, and its run steps.
pub(crate) fn compile_file(
    file: &SourceFile,
    options: &LoadOptions,
) -> Result<(Vec<UserClass>, RunSteps), ScenarioError> {
    // Feeders first: their rows are read once, and every feed step refers to them.
    crate::feeder::load_all(file)?;
    let run = compile_run_steps(file, options)?;
    let globals: BTreeSet<String> = run.globals.iter().cloned().collect();
    let mut defs: Vec<_> = file.def.users.iter().collect();
    defs.sort_by_key(|(_, def)| def.span().start);
    let classes = defs
        .into_iter()
        .map(|(name, def)| compile_class(file, name, def, &globals, options))
        .collect::<Result<_, _>>()?;
    Ok((classes, run))
}

/// `[[setup]]` and `[[teardown]]`: steps of the run, not of a class. What setup
/// extracts or sets becomes the globals every user can read (and teardown too).
fn compile_run_steps(file: &SourceFile, options: &LoadOptions) -> Result<RunSteps, ScenarioError> {
    let setup_defs = &file.def.setup;
    let teardown_defs = &file.def.teardown;
    let mut globals = BTreeSet::new();
    steps_vars(setup_defs.iter(), &mut globals);
    let mut known = globals.clone();
    steps_vars(teardown_defs.iter(), &mut known);
    check_vars(
        file,
        "setup",
        setup_defs.iter().chain(teardown_defs.iter()),
        &BTreeSet::new(),
    )?;
    let mut templates = TemplateCompiler::new(options);
    let no_headers = Pairs::default();
    let mut cx = Cx {
        file,
        class: "setup",
        templates: &mut templates,
        extracted: &known,
        class_headers: &no_headers,
        env: Arc::new(Environment::new()),
    };
    let mut setup = compile_actions(&mut cx, setup_defs, "setup", "setup")?;
    let mut teardown = compile_actions(&mut cx, teardown_defs, "teardown", "teardown")?;
    let env = templates.finish();
    Action::attach_env(&mut setup, &env);
    Action::attach_env(&mut teardown, &env);
    Ok(RunSteps {
        source: file.path.clone(),
        setup,
        teardown,
        globals: globals.into_iter().collect(),
    })
}

fn compile_class(
    file: &SourceFile,
    name: &str,
    def: &Spanned<ClassDef>,
    globals: &BTreeSet<String>,
    options: &LoadOptions,
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

    let mut extracted = extracted_vars(file, &class_key, def, globals)?;
    extracted.extend(globals.iter().cloned());
    let mut templates = TemplateCompiler::new(options);
    let placeholder = Arc::new(Environment::new());
    let mut cx = Cx {
        file,
        class: name,
        templates: &mut templates,
        extracted: &extracted,
        class_headers: &def.headers,
        env: placeholder,
    };

    let vars = compile_class_vars(&mut cx, &def.vars, &format!("{class_key}.vars"))?;
    let mut on_start = compile_actions(
        &mut cx,
        &def.on_start,
        &format!("{class_key}.on_start"),
        "on_start",
    )?;
    let mut on_stop = compile_actions(
        &mut cx,
        &def.on_stop,
        &format!("{class_key}.on_stop"),
        "on_stop",
    )?;
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
    crate::chain::compile_chain(&cx, &class_key, def, &mut tasks)?;

    let env = templates.finish();
    Action::attach_env(&mut on_start, &env);
    Action::attach_env(&mut on_stop, &env);
    for task in &mut tasks {
        Action::attach_env(&mut task.steps, &env);
    }
    let vars = vars.map(|vars| {
        let mut wrapped = [Action::Set(vars)];
        Action::attach_env(&mut wrapped, &env);
        let [Action::Set(vars)] = wrapped else {
            unreachable!("one set step in, one out")
        };
        vars
    });
    let sequential = def.sequential.as_ref().is_some_and(|s| *s.get_ref());
    // Per-user variables are set before anything else runs: never "not ready".
    let ready: BTreeSet<&str> = vars.iter().flat_map(SetVars::names).collect();
    for task in &mut tasks {
        task.requires
            .retain(|v| !ready.contains(v.as_str()) && !globals.contains(v));
    }

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
        vars,
        sequential,
        source: file.path.clone(),
        order: 0,
    })
}

/// `vars = { name = "template" }`: set once per user, before `on_start`.
fn compile_class_vars(
    cx: &mut Cx<'_>,
    vars: &Pairs<Spanned<String>>,
    key: &str,
) -> Result<Option<SetVars>, ScenarioError> {
    if vars.0.is_empty() {
        return Ok(None);
    }
    let start = vars
        .0
        .iter()
        .map(|(_, v)| v.span().start)
        .min()
        .unwrap_or(0);
    crate::action_compile::compile_set_table(cx, vars, start..start, key, "vars").map(Some)
}

fn compile_task(
    cx: &mut Cx<'_>,
    def: &Spanned<TaskDef>,
    key: &str,
    class_tags: &[String],
) -> Result<Task, ScenarioError> {
    let span = def.span();
    let def = def.get_ref();
    let (defs, list_key): (&[Spanned<RequestDef>], String) = match (&def.request, &def.requests) {
        (Some(r), None) => (std::slice::from_ref(r), format!("{key}.request")),
        (None, Some(list)) if !list.is_empty() => (list, format!("{key}.steps")),
        (Some(_), Some(_)) => {
            return Err(ScenarioError::Invalid {
                at: cx.loc(span, key),
                message: "a task has either `request` (one) or `steps` (a list), not both".into(),
            })
        }
        _ => {
            return Err(ScenarioError::Invalid {
                at: cx.loc(span, key),
                message: "a task needs `request = { ... }` or at least one `[[...steps]]` entry"
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
        None => default_task_name(defs),
    };
    let steps = if def.request.is_some() {
        // One request: its key stays `tasks[i].request` in messages.
        let action = crate::action_compile::compile_action(cx, &defs[0], &list_key, &name)?;
        vec![action]
    } else {
        compile_actions(cx, defs, &list_key, &name)?
    };
    let requires = Action::requires(&steps);
    Ok(Task {
        name,
        weight,
        tags: dedup(class_tags.iter().chain(def.tags.iter()).cloned()),
        steps,
        requires: requires.into_iter().collect(),
        stop_on_failure: def.stop_on_failure.as_ref().is_some_and(|s| *s.get_ref()),
        next: Vec::new(),
    })
}

/// `GET /health` for the task's first request, or that request's `name`.
fn default_task_name(defs: &[Spanned<RequestDef>]) -> String {
    let Some(r) = first_request(defs) else {
        return "steps".into();
    };
    let method = r
        .method
        .as_ref()
        .map(|m| m.get_ref().to_ascii_uppercase())
        .unwrap_or_else(|| "GET".into());
    let target = r
        .name
        .as_ref()
        .or(r.path.as_ref())
        .map(|t| t.get_ref().as_str())
        .unwrap_or_default();
    format!("{method} {target}")
}

fn first_request(defs: &[Spanned<RequestDef>]) -> Option<&RequestDef> {
    defs.iter().map(Spanned::get_ref).find_map(|d| {
        if d.path.is_some() {
            return Some(d);
        }
        let nested = d
            .then
            .iter()
            .chain(d.otherwise.iter())
            .chain(d.steps.iter())
            .flatten();
        nested.map(Spanned::get_ref).find(|n| n.path.is_some())
    })
}

/// Every variable set anywhere in the class (extracted, `set`, `for`, `vars`); a name
/// is either always a list (`append = true`) or never, and never shadows a builtin.
fn extracted_vars(
    file: &SourceFile,
    class_key: &str,
    def: &ClassDef,
    globals: &BTreeSet<String>,
) -> Result<BTreeSet<String>, ScenarioError> {
    let tasks = def.tasks.iter().flat_map(|t| {
        let t = t.get_ref();
        t.request.iter().chain(t.requests.iter().flatten())
    });
    let steps: Vec<&Spanned<RequestDef>> = def
        .on_start
        .iter()
        .chain(def.on_stop.iter())
        .chain(tasks)
        .collect();
    let mut names: BTreeSet<String> = def.vars.0.iter().map(|(k, _)| k.clone()).collect();
    steps_vars(steps.iter().copied(), &mut names);
    check_vars(file, class_key, steps.into_iter(), globals)?;
    Ok(names)
}

/// The names the steps (nested ones too) extract, set or bind in a loop.
fn steps_vars<'a>(
    steps: impl Iterator<Item = &'a Spanned<RequestDef>>,
    names: &mut BTreeSet<String>,
) {
    for step in steps {
        let r = step.get_ref();
        names.extend(r.extract.iter().map(|e| e.get_ref().var.clone()));
        if let Some(set) = &r.set {
            names.extend(set.get_ref().0.iter().map(|(k, _)| k.clone()));
        }
        if let Some(each) = &r.for_each {
            names.insert(each.get_ref().var.clone());
        }
        names.extend(crate::feeder::fed_var(r));
        let nested = r
            .then
            .iter()
            .chain(r.otherwise.iter())
            .chain(r.steps.iter())
            .flatten();
        steps_vars(nested, names);
    }
}

/// No extraction into a builtin or a global, and a list is always a list.
fn check_vars<'a>(
    file: &SourceFile,
    class_key: &str,
    steps: impl Iterator<Item = &'a Spanned<RequestDef>>,
    globals: &BTreeSet<String>,
) -> Result<(), ScenarioError> {
    let mut kinds: BTreeMap<String, bool> = BTreeMap::new();
    let mut pending: Vec<&Spanned<RequestDef>> = steps.collect();
    while let Some(step) = pending.pop() {
        let r = step.get_ref();
        pending.extend(
            r.then
                .iter()
                .chain(r.otherwise.iter())
                .chain(r.steps.iter())
                .flatten(),
        );
        for e in &r.extract {
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
            if globals.contains(&ex.var) {
                return Err(invalid(format!(
                    "`{}` is set by [[setup]] for every user and cannot be extracted into here",
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
    Ok(())
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
