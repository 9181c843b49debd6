//! The steps that end a task or a user on purpose, as a Python task does with `raise`:
//! `{ fail = "message" }` is `raise Exception("message")` (the message a template
//! rendered when the step runs), and `{ stop_user = true }` is `raise StopUser()`. Both
//! take an optional `if`. Compiled and checked here; the engine records the failure
//! (`user/raise.rs`) and stops the user.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use minijinja::Environment;
use toml::Spanned;

use crate::action::{Action, Branch};
use crate::action_compile::guard_only_with;
use crate::error::{ScenarioError, StepError};
use crate::model::RequestDef;
use crate::request::Cx;
use crate::template::{context, Template};
use crate::vars::UserVars;

/// The longest message a `fail` records, in characters: a message rendered from a
/// response cannot fill the failures and exceptions tables with whole bodies.
pub const MAX_FAIL_MESSAGE: usize = 500;

/// `fail = "message"`: the task raises an exception with this message.
#[derive(Debug, Clone)]
pub struct Fail {
    /// The step's label (`U.tasks[0].steps[2]`), where the exception is raised: it tells
    /// one `fail` step's exceptions from another's, as a traceback does in Locust.
    label: String,
    pub(crate) env: Arc<Environment<'static>>,
    message: Template,
    needs: Vec<String>,
}

impl Fail {
    /// The message, rendered (and cut at `MAX_FAIL_MESSAGE` characters). A template that
    /// fails to render, a variable not set yet included, is a `Render` error: the step
    /// raises all the same, with a template error instead of its message.
    pub fn message<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<String, StepError> {
        if let Some(var) = self.needs.iter().find(|v| !vars.is_ready(v)) {
            return Err(StepError::Render {
                step: self.label.clone(),
                message: format!("the `fail` message reads `{var}`, which is not set yet"),
            });
        }
        let (ctx, rt) = context(vars, rng.next_u64());
        let rendered = self.message.render(&self.env, &ctx);
        vars.counter = rt.counter.load(Ordering::Relaxed);
        let text = rendered.map_err(|e| StepError::Render {
            step: self.label.clone(),
            message: format!("{e}"),
        })?;
        Ok(match text.char_indices().nth(MAX_FAIL_MESSAGE) {
            Some((end, _)) => format!("{}...", &text[..end]),
            None => text.into_owned(),
        })
    }

    /// Where the step is: `U.tasks[0].steps[2]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The variables the message reads.
    pub(crate) fn needs(&self) -> &[String] {
        &self.needs
    }
}

/// `{ fail = "message" }`, optionally with `if`.
pub(crate) fn compile_fail(
    cx: &mut Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    task: &str,
) -> Result<Action, ScenarioError> {
    guard_only_with(cx, spanned, key, &["fail", "if"])?;
    let def = spanned.get_ref();
    let fkey = format!("{key}.fail");
    let Some(value) = &def.fail else {
        return Err(cx.invalid(spanned.span(), key, "`fail` needs a message"));
    };
    let toml::Value::String(text) = value.get_ref() else {
        return Err(cx.invalid(
            value.span(),
            &fkey,
            format!(
                "`fail` is the exception's message, a string (a template may read variables): `fail = \"out of stock\"`, not {}",
                value.get_ref().type_str()
            ),
        ));
    };
    let mut needs = BTreeSet::new();
    let message = cx.template(
        &Spanned::new(value.span(), text.clone()),
        &fkey,
        task,
        &mut needs,
    )?;
    let fail = Action::Fail(Box::new(Fail {
        label: key.strip_prefix("users.").unwrap_or(key).to_string(),
        env: cx.env.clone(),
        message,
        needs: needs.into_iter().collect(),
    }));
    guarded(cx, spanned, key, task, fail)
}

/// `{ stop_user = true }`, optionally with `if`. `stop_user = false` is refused: a step
/// that does nothing is a mistake (a condition goes in `if`).
pub(crate) fn compile_stop_user(
    cx: &mut Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    task: &str,
) -> Result<Action, ScenarioError> {
    guard_only_with(cx, spanned, key, &["stop_user", "if"])?;
    let def = spanned.get_ref();
    let skey = format!("{key}.stop_user");
    let Some(value) = &def.stop_user else {
        return Err(cx.invalid(spanned.span(), key, "`stop_user` needs `true`"));
    };
    match value.get_ref() {
        toml::Value::Boolean(true) => {}
        toml::Value::Boolean(false) => {
            return Err(cx.invalid(
                value.span(),
                &skey,
                "`stop_user = false` would be a step that does nothing: remove it, or stop only when a condition holds with `{ stop_user = true, if = \"...\" }`",
            ))
        }
        other => {
            return Err(cx.invalid(
                value.span(),
                &skey,
                format!(
                    "`stop_user` takes `true` (the user runs its on_stop and stops for good), not {}",
                    other.type_str()
                ),
            ))
        }
    }
    let place = if key.starts_with("setup[") {
        Some("[[setup]], which runs before any user starts")
    } else if key.starts_with("teardown[") {
        Some("[[teardown]], which runs after every user stopped")
    } else if key.contains(".on_stop[") {
        Some("on_stop, which runs as the user stops anyway")
    } else {
        None
    };
    if let Some(place) = place {
        return Err(cx.invalid(
            value.span(),
            &skey,
            format!("`stop_user` cannot sit in {place}: put it in on_start or a task"),
        ));
    }
    guarded(cx, spanned, key, task, Action::StopUser)
}

/// The step itself, or, with `if`, the step run only when the condition holds.
fn guarded(
    cx: &mut Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    task: &str,
    action: Action,
) -> Result<Action, ScenarioError> {
    match &spanned.get_ref().condition {
        None => Ok(action),
        Some(condition) => Ok(Action::If(Box::new(Branch {
            condition: crate::action_compile::compile_condition(
                cx,
                condition,
                &format!("{key}.if"),
                task,
            )?,
            then: vec![action],
            otherwise: Vec::new(),
        }))),
    }
}
