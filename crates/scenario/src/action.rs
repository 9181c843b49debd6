//! A task's steps as the engine runs them, in order: requests, pauses (`think`),
//! variables set without a request (`set`), conditions (`if` with `then`/`else`, or on a
//! request) and loops (`repeat`, `for`). Compiled from step tables here, with the rules
//! of which keys go together; evaluated with the user's variables at run time.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use minijinja::{Environment, ErrorKind, Value};
use toml::Spanned;

use crate::error::{ScenarioError, StepError};
use crate::model::RequestDef;
use crate::request::{compile_request, Cx};
use crate::step::Step;
use crate::template::{context, Template};
use crate::vars::UserVars;
use crate::wait::WaitTime;

/// At most this many rounds of a `repeat` (and items of a `for`): every loop is bounded.
pub const MAX_ROUNDS: usize = 100_000;

/// One step of a task.
#[derive(Debug, Clone)]
pub enum Action {
    Request(Box<Step>),
    /// A pause inside the task (Locust's `time.sleep` in a task).
    Think(WaitTime),
    Set(SetVars),
    If(Box<Branch>),
    Repeat(Box<Repeat>),
}

/// `set = { name = "template", ... }`: variables set without a request.
#[derive(Debug, Clone)]
pub struct SetVars {
    label: String,
    env: Arc<Environment<'static>>,
    /// The variable, its template, and whether the template is one expression whose
    /// value keeps its type (a list stays a list).
    items: Vec<(String, Template, bool)>,
    needs: Vec<String>,
}

/// A condition: a minijinja expression, true or false for the user's variables. One
/// that reads a variable not set yet is false (Python's `if self.cart:`).
#[derive(Debug, Clone)]
pub struct Condition {
    label: String,
    env: Arc<Environment<'static>>,
    template: Template,
}

/// `if = "..."` with the steps for either answer.
#[derive(Debug, Clone)]
pub struct Branch {
    pub condition: Condition,
    pub then: Vec<Action>,
    pub otherwise: Vec<Action>,
}

/// How often a loop runs.
#[derive(Debug, Clone)]
pub enum Rounds {
    Count(usize),
    /// Once per item of a list, the item in `var`.
    Each {
        var: String,
        items: Items,
    },
}

/// The list a `for` walks: an expression rendered to JSON.
#[derive(Debug, Clone)]
pub struct Items {
    label: String,
    env: Arc<Environment<'static>>,
    template: Template,
}

/// `repeat = N` or `for = { var, in }` with its steps.
#[derive(Debug, Clone)]
pub struct Repeat {
    pub rounds: Rounds,
    pub body: Vec<Action>,
}

impl Action {
    /// The request of a request step.
    pub fn as_request(&self) -> Option<&Step> {
        match self {
            Action::Request(step) => Some(step),
            _ => None,
        }
    }

    /// Every request step in these actions, nested ones included, in written order.
    pub fn requests(actions: &[Action]) -> Vec<&Step> {
        let mut out = Vec::new();
        collect_requests(actions, &mut out);
        out
    }

    /// Gives every template of these actions the class's finished environment.
    pub(crate) fn attach_env(actions: &mut [Action], env: &Arc<Environment<'static>>) {
        for action in actions {
            match action {
                Action::Request(step) => step.env = env.clone(),
                Action::Think(_) => {}
                Action::Set(set) => set.env = env.clone(),
                Action::If(branch) => {
                    branch.condition.env = env.clone();
                    Action::attach_env(&mut branch.then, env);
                    Action::attach_env(&mut branch.otherwise, env);
                }
                Action::Repeat(repeat) => {
                    if let Rounds::Each { items, .. } = &mut repeat.rounds {
                        items.env = env.clone();
                    }
                    Action::attach_env(&mut repeat.body, env);
                }
            }
        }
    }

    /// Variables these actions read before they set them themselves: what must come from
    /// elsewhere before a task using them can run (guards excluded).
    pub(crate) fn requires(actions: &[Action]) -> BTreeSet<String> {
        let mut produced = BTreeSet::new();
        let mut requires = BTreeSet::new();
        walk_requires(actions, &mut produced, &mut requires);
        requires
    }
}

fn collect_requests<'a>(actions: &'a [Action], out: &mut Vec<&'a Step>) {
    for action in actions {
        match action {
            Action::Request(step) => out.push(step),
            Action::If(branch) => {
                collect_requests(&branch.then, out);
                collect_requests(&branch.otherwise, out);
            }
            Action::Repeat(repeat) => collect_requests(&repeat.body, out),
            Action::Think(_) | Action::Set(_) => {}
        }
    }
}

/// A task is held back only by what its unconditional steps read first: a step inside
/// a branch or a loop is skipped on its own when its variable is not set yet.
fn walk_requires(
    actions: &[Action],
    produced: &mut BTreeSet<String>,
    requires: &mut BTreeSet<String>,
) {
    for action in actions {
        match action {
            Action::Request(step) => {
                requires.extend(
                    step.needs()
                        .iter()
                        .filter(|v| !produced.contains(*v))
                        .cloned(),
                );
                produced.extend(step.extracts().map(str::to_string));
            }
            Action::Set(set) => {
                requires.extend(set.needs.iter().filter(|v| !produced.contains(*v)).cloned());
                produced.extend(set.items.iter().map(|(v, _, _)| v.clone()));
            }
            Action::If(_) | Action::Repeat(_) | Action::Think(_) => {}
        }
    }
}

impl SetVars {
    /// Renders each template and sets its variable; a variable it reads that is not set
    /// yet skips the whole step (`MissingVariable`).
    pub fn apply<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<(), StepError> {
        if let Some(var) = self.needs.iter().find(|v| !vars.is_ready(v)) {
            return Err(StepError::MissingVariable {
                step: self.label.clone(),
                var: var.clone(),
            });
        }
        for (name, template, typed) in &self.items {
            let (ctx, rt) = context(vars, rng.next_u64());
            let text = template
                .render(&self.env, &ctx)
                .map_err(|e| StepError::Render {
                    step: self.label.clone(),
                    message: format!("{e}"),
                });
            vars.counter = rt.counter.load(Ordering::Relaxed);
            let text = text?;
            let value = if *typed {
                serde_json::from_str::<serde_json::Value>(&text)
                    .map(Value::from_serialize)
                    .unwrap_or_else(|_| Value::from(text.into_owned()))
            } else {
                Value::from(text.into_owned())
            };
            vars.set(name, value);
        }
        Ok(())
    }

    /// The variables this step sets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(n, _, _)| n.as_str())
    }
}

impl Condition {
    /// Whether the condition holds for these variables.
    pub fn holds<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<bool, StepError> {
        let (ctx, rt) = context(vars, rng.next_u64());
        let rendered = self.template.render(&self.env, &ctx);
        vars.counter = rt.counter.load(Ordering::Relaxed);
        match rendered {
            Ok(text) => Ok(text == "1"),
            Err(e) if e.kind() == ErrorKind::UndefinedError => Ok(false),
            Err(e) => Err(StepError::Render {
                step: self.label.clone(),
                message: format!("{e}"),
            }),
        }
    }
}

impl Items {
    /// The list to walk (a single value counts as a list of one; nothing as empty).
    pub fn values<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<Vec<Value>, StepError> {
        let (ctx, rt) = context(vars, rng.next_u64());
        let rendered = self.template.render(&self.env, &ctx);
        vars.counter = rt.counter.load(Ordering::Relaxed);
        let text = match rendered {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::UndefinedError => return Ok(Vec::new()),
            Err(e) => {
                return Err(StepError::Render {
                    step: self.label.clone(),
                    message: format!("{e}"),
                })
            }
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| StepError::Render {
                step: self.label.clone(),
                message: format!("`in` gave no list: {e}"),
            })?;
        let items = match json {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Null => Vec::new(),
            other => vec![other],
        };
        Ok(items
            .into_iter()
            .take(MAX_ROUNDS)
            .map(Value::from_serialize)
            .collect())
    }
}

/// Compiles a list of step tables (`key` is the list's dotted key).
pub(crate) fn compile_actions(
    cx: &mut Cx<'_>,
    defs: &[Spanned<RequestDef>],
    key: &str,
    task: &str,
) -> Result<Vec<Action>, ScenarioError> {
    defs.iter()
        .enumerate()
        .map(|(i, def)| compile_action(cx, def, &format!("{key}[{i}]"), task))
        .collect()
}

/// The keys that make a step of each kind, for messages.
const KINDS: &str =
    "`path` (a request), `think`, `set`, `if` with `then`, `repeat` or `for` with `steps`";

/// Compiles one step table, checking that its keys make one kind of step.
pub(crate) fn compile_action(
    cx: &mut Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    task: &str,
) -> Result<Action, ScenarioError> {
    let def = spanned.get_ref();
    let span = spanned.span();
    let kinds = [
        ("path", def.path.is_some()),
        ("think", def.think.is_some()),
        ("set", def.set.is_some()),
        ("then", def.then.is_some()),
        ("repeat", def.repeat.is_some()),
        ("for", def.for_each.is_some()),
    ];
    let present: Vec<&str> = kinds
        .iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| *k)
        .collect();
    match present.as_slice() {
        [] if def.condition.is_some() => Err(cx.invalid(
            span,
            key,
            "`if` needs `then = [...]` (the steps to run when it holds), or sits on a request with `path`",
        )),
        [] => Err(cx.invalid(span, key, format!("a step needs one of {KINDS}"))),
        [_, _, ..] if !(present == ["repeat", "for"] || present == ["for", "repeat"]) => Err(cx.invalid(
            span,
            key,
            format!(
                "a step is one kind of step, but this one has {}: split it into several steps",
                present.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
            ),
        )),
        _ if def.repeat.is_some() && def.for_each.is_some() => Err(cx.invalid(
            span,
            key,
            "a loop is either `repeat = N` or `for = { var, in }`, not both",
        )),
        ["path"] => {
            if let Some(extra) = [("else", def.otherwise.is_some()), ("steps", def.steps.is_some())]
                .iter()
                .find(|(_, on)| *on)
            {
                return Err(cx.invalid(span, key, format!("`{}` does not go with a request (`path`)", extra.0)));
            }
            let step = compile_request(cx, spanned, key, task)?;
            let request = Action::Request(Box::new(step));
            match &def.condition {
                None => Ok(request),
                Some(condition) => Ok(Action::If(Box::new(Branch {
                    condition: compile_condition(cx, condition, &format!("{key}.if"), task)?,
                    then: vec![request],
                    otherwise: Vec::new(),
                }))),
            }
        }
        ["think"] => {
            guard_only_with(cx, spanned, key, &["think"])?;
            let think = def.think.as_ref().map(|t| (t.span(), t.get_ref()));
            let Some((tspan, value)) = think else {
                return Err(cx.invalid(span, key, "`think` needs a value"));
            };
            let wait = match value {
                toml::Value::Integer(i) if *i >= 0 => WaitTime::Constant(*i as f64),
                toml::Value::Float(f) if f.is_finite() && *f >= 0.0 => WaitTime::Constant(*f),
                toml::Value::String(text) => WaitTime::parse(text)
                    .map_err(|e| cx.invalid(tspan.clone(), &format!("{key}.think"), e))?,
                _ => {
                    return Err(cx.invalid(
                        tspan,
                        &format!("{key}.think"),
                        "give seconds (`think = 2`) or a wait_time (`think = \"between(1, 3)\"`)",
                    ))
                }
            };
            Ok(Action::Think(wait))
        }
        ["set"] => {
            guard_only_with(cx, spanned, key, &["set"])?;
            let Some(set) = &def.set else {
                return Err(cx.invalid(span, key, "`set` needs a table"));
            };
            compile_set_table(cx, set.get_ref(), set.span(), &format!("{key}.set"), task).map(Action::Set)
        }
        ["then"] => {
            guard_only_with(cx, spanned, key, &["if", "then", "else"])?;
            let Some(condition) = &def.condition else {
                return Err(cx.invalid(span, key, "`then` needs `if = \"...\"` (the condition)"));
            };
            let then = compile_actions(cx, def.then.as_deref().unwrap_or_default(), &format!("{key}.then"), task)?;
            let otherwise = compile_actions(
                cx,
                def.otherwise.as_deref().unwrap_or_default(),
                &format!("{key}.else"),
                task,
            )?;
            Ok(Action::If(Box::new(Branch {
                condition: compile_condition(cx, condition, &format!("{key}.if"), task)?,
                then,
                otherwise,
            })))
        }
        ["repeat"] | ["for"] => {
            guard_only_with(cx, spanned, key, &["repeat", "for", "steps"])?;
            let rounds = match (&def.repeat, &def.for_each) {
                (Some(count), _) => {
                    let n = usize::try_from(*count.get_ref())
                        .ok()
                        .filter(|n| *n <= MAX_ROUNDS)
                        .ok_or_else(|| {
                            cx.invalid(
                                count.span(),
                                &format!("{key}.repeat"),
                                format!("`repeat` is a whole number from 0 to {MAX_ROUNDS}"),
                            )
                        })?;
                    Rounds::Count(n)
                }
                (None, Some(each)) => {
                    let fkey = format!("{key}.for");
                    let f = each.get_ref();
                    if !crate::extract::is_identifier(&f.var) {
                        return Err(cx.invalid(each.span(), &fkey, format!("`var = {:?}` is not a usable variable name", f.var)));
                    }
                    let source = Spanned::new(each.span(), as_expression(&f.items, "tojson"));
                    let mut used = BTreeSet::new();
                    let template = cx.template(&source, &format!("{fkey}.in"), task, &mut used)?;
                    Rounds::Each {
                        var: f.var.clone(),
                        items: Items {
                            label: label_of(key),
                            env: cx.env.clone(),
                            template,
                        },
                    }
                }
                (None, None) => return Err(cx.invalid(span, key, "a loop needs `repeat` or `for`")),
            };
            let Some(steps) = &def.steps else {
                return Err(cx.invalid(span, key, "a loop needs `steps = [...]`, the steps to repeat"));
            };
            let body = compile_actions(cx, steps, &format!("{key}.steps"), task)?;
            Ok(Action::Repeat(Box::new(Repeat { rounds, body })))
        }
        _ => Err(cx.invalid(span, key, format!("a step needs one of {KINDS}"))),
    }
}

/// A step of a kind other than a request takes only its own keys (and `if` guards
/// nothing but `then`).
fn guard_only_with(
    cx: &Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    allowed: &[&str],
) -> Result<(), ScenarioError> {
    let def = spanned.get_ref();
    let request_keys = [
        ("method", def.method.is_some()),
        ("name", def.name.is_some()),
        ("if", def.condition.is_some() && !allowed.contains(&"if")),
        (
            "else",
            def.otherwise.is_some() && !allowed.contains(&"else"),
        ),
        ("steps", def.steps.is_some() && !allowed.contains(&"steps")),
        ("stop_on_failure", def.stop_on_failure.is_some()),
    ];
    match request_keys.iter().find(|(_, on)| *on) {
        Some((extra, _)) => Err(cx.invalid(
            spanned.span(),
            key,
            format!("`{extra}` does not go with `{}`", allowed[0]),
        )),
        None => Ok(()),
    }
}

/// `set = { ... }` (and a class's `vars`): each value a template.
pub(crate) fn compile_set_table(
    cx: &mut Cx<'_>,
    set: &crate::model::Pairs<Spanned<String>>,
    span: std::ops::Range<usize>,
    key: &str,
    task: &str,
) -> Result<SetVars, ScenarioError> {
    let mut used = BTreeSet::new();
    let mut items = Vec::new();
    for (name, value) in &set.0 {
        if !crate::extract::is_identifier(name) {
            return Err(cx.invalid(
                span.clone(),
                &format!("{key}.{name}"),
                format!("`{name}` is not a usable variable name (letters, digits and _)"),
            ));
        }
        let (source, typed) = match single_expression(value.get_ref()) {
            Some(inner) => (format!("{{{{ ({inner}) | tojson }}}}"), true),
            None => (value.get_ref().clone(), false),
        };
        let template = cx.template(
            &Spanned::new(value.span(), source),
            &format!("{key}.{name}"),
            task,
            &mut used,
        )?;
        items.push((name.clone(), template, typed));
    }
    Ok(SetVars {
        label: label_of(key),
        env: cx.env.clone(),
        items,
        needs: used.into_iter().collect(),
    })
}

fn compile_condition(
    cx: &mut Cx<'_>,
    condition: &Spanned<String>,
    key: &str,
    task: &str,
) -> Result<Condition, ScenarioError> {
    let expression = single_expression(condition.get_ref()).unwrap_or(condition.get_ref().trim());
    if expression.is_empty() {
        return Err(cx.invalid(
            condition.span(),
            key,
            "`if` needs an expression, e.g. `if = \"cart_id is defined\"`",
        ));
    }
    let source = Spanned::new(
        condition.span(),
        format!("{{% if {expression} %}}1{{% endif %}}"),
    );
    let mut used = BTreeSet::new();
    let template = cx.template(&source, key, task, &mut used)?;
    Ok(Condition {
        label: label_of(key),
        env: cx.env.clone(),
        template,
    })
}

/// `{{ expr }}` alone: the expression inside.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

/// An expression written bare or as `{{ ... }}`, rendered through `filter`.
fn as_expression(text: &str, filter: &str) -> String {
    let inner = single_expression(text).unwrap_or(text.trim());
    format!("{{{{ ({inner}) | {filter} }}}}")
}

/// `users.X.tasks[0].steps[1]` -> `X.tasks[0].steps[1]`, the label of errors at run time.
fn label_of(key: &str) -> String {
    key.strip_prefix("users.").unwrap_or(key).to_string()
}
