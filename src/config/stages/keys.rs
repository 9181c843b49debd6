//! One stage table's keys, each read and checked on its own (values, units, did-you-mean).

use std::time::Duration;

use locust_engine::{Easing, Formula, StageClasses};

use super::*;

/// The keys of one stage table, parsed.
#[derive(Default)]
pub(super) struct Keys {
    pub(super) length: Option<Duration>,
    pub(super) until: Option<Duration>,
    pub(super) users: Option<u64>,
    /// `users = "<expression>"`: a formula stage.
    pub(super) users_formula: Option<Formula>,
    pub(super) spawn_rate: Option<f64>,
    pub(super) spawn_rate_formula: Option<Formula>,
    pub(super) user_classes: Option<StageClasses>,
    pub(super) ramp: Option<Easing>,
    pub(super) from: Option<u64>,
    pub(super) step: Option<u64>,
    pub(super) every: Option<Duration>,
    pub(super) wait_for_users: bool,
    pub(super) repeat: Option<u64>,
}

/// The keys of a stage table (not a group), each checked on its own.
pub(super) fn read_keys(table: &StageTable, here: &str) -> Result<Keys, SettingsError> {
    let mut keys = Keys::default();
    for entry in &table.entries {
        let list_ok = entry.key == "user-classes" || entry.key == "stages";
        let (key, text) = entry_text(here, entry, list_ok)?;
        let bad = |message: String| bad_value(entry, &key, message);
        match entry.key.as_str() {
            "duration" => keys.length = Some(span(&text).map_err(bad)?),
            "until" => keys.until = Some(span(&text).map_err(bad)?),
            "users" if formula::is_expression(&text) => {
                keys.users_formula = Some(formula::compile(&text, 0.0, false).map_err(bad)?);
            }
            "users" => keys.users = Some(count(&text).map_err(bad)?),
            "spawn-rate" if formula::is_expression(&text) => {
                keys.spawn_rate_formula = Some(formula::compile(&text, 0.0, true).map_err(bad)?);
            }
            "spawn-rate" => keys.spawn_rate = Some(rate(&text).map_err(bad)?),
            "user-classes" => {
                let names = class_names(&entry.value);
                if names.is_empty() {
                    return Err(bad(
                        "expected a list of user classes, e.g. [\"HighVolumeUser\"]".into(),
                    ));
                }
                keys.user_classes = Some(StageClasses {
                    names,
                    origin: format!("{}: key `{key}`", entry.origin),
                });
            }
            "ramp" => keys.ramp = Some(easing(&text).map_err(bad)?),
            "from" => keys.from = Some(count(&text).map_err(bad)?),
            "step" => keys.step = Some(at_least_one(&text).map_err(bad)?),
            "every" => match span(&text).map_err(bad)? {
                every if every.is_zero() => {
                    return Err(bad("the time between steps must be longer than 0 s".into()))
                }
                every => keys.every = Some(every),
            },
            "wait-for-users" => keys.wait_for_users = boolean(&text).map_err(bad)?,
            "repeat" => keys.repeat = Some(at_least_one(&text).map_err(bad)?),
            "stages" => {
                return Err(bad(
                    "expected a list of stage tables, e.g. stages = [{ duration = \"1m\", \
                     users = 10, spawn-rate = 5 }]"
                        .into(),
                ))
            }
            other => return Err(unknown(entry, &key, other, STAGE_KEYS)),
        }
    }
    Ok(keys)
}

/// `["A", "B"]`, or `"A B"` / `"A,B"` as one string.
pub(super) fn class_names(value: &ConfigValue) -> Vec<String> {
    let items = match value {
        ConfigValue::List(items) => items.clone(),
        ConfigValue::Text(text) => vec![text.clone()],
    };
    let mut names: Vec<String> = items
        .iter()
        .flat_map(|item| item.split([',', ' ']))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect();
    names.dedup();
    names
}

pub(super) fn span(text: &str) -> Result<Duration, String> {
    timespan::parse_arg(text).map(Duration::from_secs)
}

pub(super) fn count(text: &str) -> Result<u64, String> {
    if text.trim().starts_with('-') {
        return Err(format!("must not be negative (got {text})"));
    }
    text.trim()
        .parse()
        .map_err(|_| format!("expected a whole number of users, got '{text}'"))
}

pub(super) fn rate(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of users per second, got '{text}'"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("must be a number > 0 (got {text})"));
    }
    Ok(value)
}

pub(super) fn at_least_one(text: &str) -> Result<u64, String> {
    match count(text)? {
        0 => Err(format!("must be at least 1 (got {text})")),
        n => Ok(n),
    }
}

pub(super) fn boolean(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, got '{text}'")),
    }
}

pub(super) fn easing(text: &str) -> Result<Easing, String> {
    match text.trim() {
        "linear" => Ok(Easing::Linear),
        "smooth" => Ok(Easing::Smooth),
        other => Err(format!(
            "expected \"linear\" or \"smooth\", got '{other}'{}",
            locust_scenario::closest(other, RAMPS.iter().copied())
                .map(|r| format!(" (did you mean `{r}`?)"))
                .unwrap_or_default()
        )),
    }
}
