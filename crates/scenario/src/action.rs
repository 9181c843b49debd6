//! A task's steps as the engine runs them, in order: requests, pauses (`think`),
//! variables set without a request (`set`), conditions (`if` with `then`/`else`, or on a
//! request) and loops (`repeat`, `for`): their compiled form, what they read before they
//! set it (`requires`), and their evaluation with the user's variables at run time. They
//! are compiled from step tables in `action_compile.rs`.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use minijinja::{Environment, ErrorKind, Value};

use crate::error::StepError;
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
    /// Waits until the current ramp has started every user (`barrier.rs`).
    Barrier(crate::barrier::Barrier),
    /// A cookie stored in the user's jar (`cookie.rs`).
    SetCookie(Box<crate::cookie::SetCookie>),
    /// The user's next row of a feeder, into a variable (`feeder.rs`).
    Feed(Box<crate::feeder::Feed>),
    /// A pause inside the task (Locust's `time.sleep` in a task).
    Think(WaitTime),
    Set(SetVars),
    If(Box<Branch>),
    Repeat(Box<Repeat>),
    /// Steps timed as one stats row (`measure.rs`).
    Group(Box<crate::measure::Group>),
    /// A number recorded as a stats row (`measure.rs`).
    Metric(Box<crate::measure::Metric>),
    /// `fail = "message"`: the task raises an exception (`raise.rs`).
    Fail(Box<crate::raise::Fail>),
    /// `stop_user = true`: the user stops for good, after its on_stop (`raise.rs`).
    StopUser,
}

/// `set = { name = "template", ... }`: variables set without a request.
#[derive(Debug, Clone)]
pub struct SetVars {
    pub(crate) label: String,
    pub(crate) env: Arc<Environment<'static>>,
    /// The variable, its template, and whether the template is one expression whose
    /// value keeps its type (a list stays a list).
    pub(crate) items: Vec<(String, Template, bool)>,
    pub(crate) needs: Vec<String>,
}

/// A condition: a minijinja expression, true or false for the user's variables. One
/// that reads a variable not set yet is false (Python's `if self.cart:`).
#[derive(Debug, Clone)]
pub struct Condition {
    pub(crate) label: String,
    pub(crate) env: Arc<Environment<'static>>,
    pub(crate) template: Template,
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
    pub(crate) label: String,
    pub(crate) env: Arc<Environment<'static>>,
    pub(crate) template: Template,
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
                Action::Think(_) | Action::Barrier(_) | Action::Feed(_) | Action::StopUser => {}
                Action::SetCookie(set) => set.env = env.clone(),
                Action::Fail(fail) => fail.env = env.clone(),
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
                Action::Group(group) => Action::attach_env(&mut group.body, env),
                Action::Metric(metric) => metric.env = env.clone(),
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
            Action::Barrier(_) | Action::SetCookie(_) | Action::Feed(_) => {}
            Action::Group(group) => collect_requests(&group.body, out),
            Action::Think(_) | Action::Set(_) | Action::Metric(_) => {}
            Action::Fail(_) | Action::StopUser => {}
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
            Action::SetCookie(set) => {
                requires.extend(set.needs.iter().filter(|v| !produced.contains(*v)).cloned());
            }
            Action::Barrier(_) => {}
            Action::Feed(feed) => {
                produced.insert(feed.var.clone());
            }
            Action::Set(set) => {
                requires.extend(set.needs.iter().filter(|v| !produced.contains(*v)).cloned());
                produced.extend(set.items.iter().map(|(v, _, _)| v.clone()));
            }
            // A group's steps always run, as if written in its place.
            Action::Group(group) => walk_requires(&group.body, produced, requires),
            Action::Metric(metric) => {
                requires.extend(
                    metric
                        .needs()
                        .iter()
                        .filter(|v| !produced.contains(*v))
                        .cloned(),
                );
            }
            Action::Fail(fail) => {
                requires.extend(
                    fail.needs()
                        .iter()
                        .filter(|v| !produced.contains(*v))
                        .cloned(),
                );
            }
            Action::If(_) | Action::Repeat(_) | Action::Think(_) | Action::StopUser => {}
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
