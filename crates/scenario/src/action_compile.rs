//! Compiling a task's step tables into [`Action`]s: which keys make which kind of step
//! (a request, `think`, `set`, `set_cookie`, `barrier`, `feed`, `if`/`then`/`else`,
//! `repeat`/`for`, `group`, `metric`, `fail`, `stop_user`), which keys go together, and
//! the `set` tables, conditions and loop lists as templates.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::action::{Action, Branch, Condition, Items, Repeat, Rounds, SetVars, MAX_ROUNDS};
use crate::error::ScenarioError;
use crate::model::RequestDef;
use crate::request::{compile_request, Cx};
use crate::wait::WaitTime;

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
    "`path` (a request), `think`, `set`, `set_cookie`, `barrier`, `feed`, `if` with `then`, `repeat` or `for` with `steps`, `group` with `steps`, `metric` with `value`, `fail`, `stop_user`";

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
        ("barrier", def.barrier.is_some()),
        ("set_cookie", def.set_cookie.is_some()),
        ("feed", def.feed.is_some()),
        ("set", def.set.is_some()),
        ("then", def.then.is_some()),
        ("repeat", def.repeat.is_some()),
        ("for", def.for_each.is_some()),
        ("group", def.group.is_some()),
        ("metric", def.metric.is_some()),
        ("fail", def.fail.is_some()),
        ("stop_user", def.stop_user.is_some()),
    ];
    if let (Some(alias), None) = (&def.feed_as, &def.feed) {
        return Err(cx.invalid(
            alias.span(),
            key,
            "`as` goes with `feed = \"name\"` (the variable the row goes into)",
        ));
    }
    if def.value.is_some() && def.metric.is_none() {
        return Err(cx.invalid(
            span,
            key,
            "`value` goes with `metric = \"name\"` (the row it is recorded in)",
        ));
    }
    let present: Vec<&str> = kinds
        .iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| *k)
        .collect();
    match present.as_slice() {
        [] if def.condition.is_some() => Err(cx.invalid(
            span,
            key,
            "`if` needs `then = [...]` (the steps to run when it holds), or sits on a request with `path`, a `fail` or a `stop_user`",
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
        ["group"] => crate::measure::compile_group(cx, spanned, key, task),
        ["metric"] => crate::measure::compile_metric(cx, spanned, key, task),
        ["fail"] => crate::raise::compile_fail(cx, spanned, key, task),
        ["stop_user"] => crate::raise::compile_stop_user(cx, spanned, key, task),
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
        ["barrier"] => {
            guard_only_with(cx, spanned, key, &["barrier"])?;
            let Some(text) = &def.barrier else {
                return Err(cx.invalid(span, key, "`barrier` needs a value: \"spawned\""));
            };
            crate::barrier::compile_barrier(cx, text, key).map(Action::Barrier)
        }
        ["set_cookie"] => {
            guard_only_with(cx, spanned, key, &["set_cookie"])?;
            let Some(set) = &def.set_cookie else {
                return Err(cx.invalid(span, key, "`set_cookie` needs a table"));
            };
            crate::cookie::compile_set_cookie(cx, set, key, task)
                .map(|set| Action::SetCookie(Box::new(set)))
        }
        ["feed"] => {
            guard_only_with(cx, spanned, key, &["feed", "as"])?;
            let Some(name) = &def.feed else {
                return Err(cx.invalid(span, key, "`feed` needs a feeder's name"));
            };
            crate::feeder::compile_feed(cx, name, def.feed_as.as_ref(), key)
                .map(|feed| Action::Feed(Box::new(feed)))
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
pub(crate) fn guard_only_with(
    cx: &Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    allowed: &[&str],
) -> Result<(), ScenarioError> {
    let def = spanned.get_ref();
    // Every key that is not a step's kind: a step takes those of them it reads
    // (`allowed`), and anything else would be ignored.
    let other_keys = [
        ("method", def.method.is_some()),
        ("name", def.name.is_some()),
        ("if", def.condition.is_some()),
        ("else", def.otherwise.is_some()),
        ("steps", def.steps.is_some()),
        ("value", def.value.is_some()),
        ("as", def.feed_as.is_some()),
        ("stop_on_failure", def.stop_on_failure.is_some()),
        ("headers", !def.headers.0.is_empty()),
        ("query", !def.query.0.is_empty()),
        ("json", def.json.is_some()),
        ("body", def.body.is_some()),
        ("form", def.form.is_some()),
        ("files", def.files.is_some()),
        ("body_file", def.body_file.is_some()),
        ("success_status", def.success_status.is_some()),
        ("checks", !def.checks.is_empty()),
        ("extract", !def.extract.is_empty()),
        ("allow_redirects", def.allow_redirects.is_some()),
        ("timeout", def.timeout.is_some()),
        ("cookies", !def.cookies.0.is_empty()),
    ];
    match (other_keys.iter()).find(|(k, on)| *on && !allowed.contains(k)) {
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

pub(crate) fn compile_condition(
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
