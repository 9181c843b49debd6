//! The steps that record a stats row of their own rather than send a request:
//! `{ group = "checkout flow", steps = [...] }` times its steps as one transaction (type
//! `GROUP`), and `{ metric = "queue_depth", value = "{{ depth }}" }` records a number as
//! the response time of a row (type `METRIC`), as Locust users do with
//! `events.request.fire(...)`. Compiled and checked here; the engine runs, times and
//! records them.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use minijinja::Environment;
use toml::Spanned;

use crate::action::Action;
use crate::action_compile::{compile_actions, guard_only_with};
use crate::error::{ScenarioError, StepError};
use crate::model::RequestDef;
use crate::request::Cx;
use crate::template::{context, is_plain, Template};
use crate::vars::UserVars;

/// The type column (Locust's request_type) of a group's row.
pub const GROUP_TYPE: &str = "GROUP";
/// The type column of a metric's row.
pub const METRIC_TYPE: &str = "METRIC";
/// The largest metric value: a value is recorded as milliseconds in a histogram whose
/// memory grows with the largest value it holds, so a runaway number cannot bloat it.
const MAX_METRIC: f64 = 1e12;

/// `group = "name"` with its steps.
#[derive(Debug, Clone)]
pub struct Group {
    /// The row's name (fixed text).
    pub name: String,
    pub body: Vec<Action>,
}

/// `metric = "name"` with its `value`.
#[derive(Debug, Clone)]
pub struct Metric {
    /// The row's name (fixed text).
    pub name: String,
    label: String,
    pub(crate) env: Arc<Environment<'static>>,
    value: MetricValue,
    needs: Vec<String>,
}

#[derive(Debug, Clone)]
enum MetricValue {
    Fixed(f64),
    Rendered(Template),
}

impl Metric {
    /// The number to record. A variable it reads that is not set yet skips the step
    /// (`MissingVariable`); a template error, a value that is no number, a negative or
    /// huge one is a `Render` error (its text never holds the value, as no template
    /// error does).
    pub fn value<R: rand::Rng + ?Sized>(
        &self,
        vars: &mut UserVars,
        rng: &mut R,
    ) -> Result<f64, StepError> {
        let template = match &self.value {
            MetricValue::Fixed(value) => return Ok(*value),
            MetricValue::Rendered(template) => template,
        };
        if let Some(var) = self.needs.iter().find(|v| !vars.is_ready(v)) {
            return Err(StepError::MissingVariable {
                step: self.label.clone(),
                var: var.clone(),
            });
        }
        let (ctx, rt) = context(vars, rng.next_u64());
        let rendered = template.render(&self.env, &ctx);
        vars.counter = rt.counter.load(Ordering::Relaxed);
        let text = rendered.map_err(|e| StepError::Render {
            step: self.label.clone(),
            message: format!("{e}"),
        })?;
        number(&text).map_err(|problem| StepError::Render {
            step: self.label.clone(),
            message: format!("metric `{}`: the value {problem}", self.name),
        })
    }

    /// The variables the value reads.
    pub(crate) fn needs(&self) -> &[String] {
        &self.needs
    }
}

/// A metric value: a finite number from 0 to `MAX_METRIC`, or what is wrong with it.
fn number(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "is not a number".to_string())?;
    if !value.is_finite() {
        return Err("is not a finite number".into());
    }
    if value < 0.0 {
        return Err(
            "is negative; a metric is recorded as a response time, which is 0 or more".into(),
        );
    }
    if value > MAX_METRIC {
        return Err(format!(
            "is above {MAX_METRIC:e}, the largest value a metric records"
        ));
    }
    Ok(value)
}

/// Every group and metric name in these actions, nested ones included: rows the stats
/// can have besides the requests' (criteria may name them).
pub(crate) fn row_names<'a>(actions: &'a [Action], out: &mut Vec<&'a str>) {
    for action in actions {
        match action {
            Action::Group(group) => {
                out.push(&group.name);
                row_names(&group.body, out);
            }
            Action::Metric(metric) => out.push(&metric.name),
            Action::If(branch) => {
                row_names(&branch.then, out);
                row_names(&branch.otherwise, out);
            }
            Action::Repeat(repeat) => row_names(&repeat.body, out),
            _ => {}
        }
    }
}

impl crate::class::UserClass {
    /// The names of the group and metric rows this class can record (on_start, on_stop
    /// and its tasks), in written order, possibly repeated.
    pub fn measure_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        row_names(&self.on_start, &mut out);
        row_names(&self.on_stop, &mut out);
        for task in &self.tasks {
            row_names(&task.steps, &mut out);
        }
        out
    }
}

impl crate::class::RunSteps {
    /// The names of the group and metric rows `[[setup]]` and `[[teardown]]` can record.
    pub fn measure_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        row_names(&self.setup, &mut out);
        row_names(&self.teardown, &mut out);
        out
    }

    /// The requests of `[[setup]]` and `[[teardown]]`, in written order.
    pub fn requests(&self) -> Vec<&crate::step::Step> {
        let mut all = Action::requests(&self.setup);
        all.extend(Action::requests(&self.teardown));
        all
    }
}

/// `{ group = "name", steps = [...] }`.
pub(crate) fn compile_group(
    cx: &mut Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    task: &str,
) -> Result<Action, ScenarioError> {
    guard_only_with(cx, spanned, key, &["group", "steps"])?;
    let def = spanned.get_ref();
    let Some(name) = &def.group else {
        return Err(cx.invalid(spanned.span(), key, "a group needs `group = \"name\"`"));
    };
    let name = row_name(cx, name, &format!("{key}.group"), "group")?;
    let steps = match &def.steps {
        Some(steps) if !steps.is_empty() => steps,
        _ => {
            return Err(cx.invalid(
                spanned.span(),
                key,
                "a group needs `steps = [...]`, the steps it times as one row",
            ))
        }
    };
    let body = compile_actions(cx, steps, &format!("{key}.steps"), task)?;
    Ok(Action::Group(Box::new(Group { name, body })))
}

/// `{ metric = "name", value = 3 }` or `value = "{{ template }}"`.
pub(crate) fn compile_metric(
    cx: &mut Cx<'_>,
    spanned: &Spanned<RequestDef>,
    key: &str,
    task: &str,
) -> Result<Action, ScenarioError> {
    guard_only_with(cx, spanned, key, &["metric", "value"])?;
    let def = spanned.get_ref();
    let Some(name) = &def.metric else {
        return Err(cx.invalid(spanned.span(), key, "a metric needs `metric = \"name\"`"));
    };
    let name = row_name(cx, name, &format!("{key}.metric"), "metric")?;
    let vkey = format!("{key}.value");
    let Some(value) = &def.value else {
        return Err(cx.invalid(
            spanned.span(),
            key,
            "a metric needs `value`, a number or a template that gives one (`value = \"{{ depth }}\"`)",
        ));
    };
    let wrong = |cx: &Cx<'_>, problem: String| {
        cx.invalid(
            value.span(),
            &vkey,
            format!("the value {problem}: give a number from 0 up, or a template that gives one (`value = \"{{{{ depth }}}}\"`)"),
        )
    };
    let mut needs = BTreeSet::new();
    let value = match value.get_ref() {
        toml::Value::Integer(i) => {
            MetricValue::Fixed(number(&i.to_string()).map_err(|p| wrong(cx, p))?)
        }
        toml::Value::Float(f) => {
            MetricValue::Fixed(number(&f.to_string()).map_err(|p| wrong(cx, p))?)
        }
        toml::Value::String(text) if is_plain(text) => {
            MetricValue::Fixed(number(text).map_err(|p| wrong(cx, p))?)
        }
        toml::Value::String(text) => {
            let source = Spanned::new(value.span(), text.clone());
            MetricValue::Rendered(cx.template(&source, &vkey, task, &mut needs)?)
        }
        _ => return Err(wrong(cx, "is neither a number nor a template".into())),
    };
    Ok(Action::Metric(Box::new(Metric {
        name,
        label: vkey.strip_prefix("users.").unwrap_or(&vkey).to_string(),
        env: cx.env.clone(),
        value,
        needs: needs.into_iter().collect(),
    })))
}

/// A row's name: fixed, non-empty text (a template would scatter one measure over many
/// rows, and could fail where nothing reports it).
fn row_name(
    cx: &Cx<'_>,
    name: &Spanned<String>,
    key: &str,
    kind: &str,
) -> Result<String, ScenarioError> {
    let text = name.get_ref();
    if text.trim().is_empty() {
        return Err(cx.invalid(
            name.span(),
            key,
            format!("a {kind} needs a name: it names its stats row"),
        ));
    }
    if !is_plain(text) {
        return Err(cx.invalid(
            name.span(),
            key,
            format!("a {kind}'s name is fixed text, not a template: it names one stats row"),
        ));
    }
    Ok(text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_values_are_finite_numbers_from_zero() {
        assert_eq!(number(" 42 "), Ok(42.0));
        assert_eq!(number("0.5"), Ok(0.5));
        assert_eq!(number("1e3"), Ok(1000.0));
        assert_eq!(number("abc"), Err("is not a number".into()));
        assert_eq!(number(""), Err("is not a number".into()));
        assert_eq!(number("inf"), Err("is not a finite number".into()));
        assert_eq!(number("NaN"), Err("is not a finite number".into()));
        assert!(number("-1").unwrap_err().starts_with("is negative"));
        assert!(number("1e13").unwrap_err().starts_with("is above 1e12"));
    }
}
