//! A profile's `[[profiles.NAME.stages]]` read into the engine's `Stage` list and
//! checked before any request: each stage has `duration` (its length) or `until` (its
//! end since the start) as a Locust time span, `users` and `spawn-rate`, optionally
//! `user-classes`; stages must move forward in time. A stage may instead ramp
//! (`ramp = "linear"` or `"smooth"`, from `from` or the previous stage's users to
//! `users`) or step (`step` users every `every`, up to `users`), wait for its users
//! before its time starts (`wait-for-users = true`), and repeat (`repeat = N`), alone
//! or as a group of stages (`repeat = N` with `stages = [{ ... }, ...]`), which is
//! expanded here into the flat list the engine plays. A formula stage computes its
//! count every second from the time (`users = "<expression>"`, see `formula`). Errors
//! name the file, the line and the key.

use std::time::Duration;

use crate::config::file::{ConfigEntry, ConfigValue, Origin, ProjectConfig, StageTable};
use crate::config::timespan;
use crate::config::SettingsError;
use locust_engine::{Curve, Stage};

mod formula;
mod keys;

use keys::{at_least_one, read_keys, Keys};

const STAGE_KEYS: &[&str] = &[
    "duration",
    "until",
    "users",
    "spawn-rate",
    "user-classes",
    "ramp",
    "from",
    "step",
    "every",
    "wait-for-users",
    "repeat",
    "stages",
];

/// The keys of a group (a stage table with its own `stages`).
const GROUP_KEYS: &[&str] = &["repeat", "stages"];

/// The values of `ramp`.
const RAMPS: &[&str] = &["linear", "smooth"];

/// At most this many stages once repeats are expanded.
const MAX_STAGES: usize = 100_000;

/// An error about one key of a stage table, named by its full path.
pub(crate) fn bad_value(entry: &ConfigEntry, key: &str, message: String) -> SettingsError {
    SettingsError::BadValue {
        origin: entry.origin.clone(),
        key: key.to_string(),
        message,
    }
}

/// The full key path (`profiles.P.stages[i].key`) and the scalar text of one entry of a
/// stage table; a list is an error unless `list_ok`.
pub(crate) fn entry_text(
    here: &str,
    entry: &ConfigEntry,
    list_ok: bool,
) -> Result<(String, String), SettingsError> {
    let key = format!("{here}.{}", entry.key);
    match &entry.value {
        ConfigValue::Text(t) => Ok((key, t.clone())),
        ConfigValue::List(_) if list_ok => Ok((key, String::new())),
        ConfigValue::List(_) => Err(bad_value(entry, &key, "expected a single value".into())),
    }
}

/// Validates and converts the stage tables of profile `profile`, repeats expanded.
pub fn parse(profile: &str, tables: &[StageTable]) -> Result<Vec<Stage>, SettingsError> {
    let mut plan = Plan::default();
    for (index, table) in tables.iter().enumerate() {
        plan.table(table, &format!("profiles.{profile}.stages[{index}]"), false)?;
    }
    Ok(plan.stages)
}

/// The stages so far, and what later stages depend on.
#[derive(Default)]
struct Plan {
    stages: Vec<Stage>,
    /// Where the first stage that waits for its users is: `until` after it is refused.
    waits: Option<Origin>,
}

impl Plan {
    /// One table of a stage list at `here`: a stage, or a group of stages; `in_group`
    /// when it is repeated (`until` cannot be).
    fn table(
        &mut self,
        table: &StageTable,
        here: &str,
        in_group: bool,
    ) -> Result<(), SettingsError> {
        if !table.stages.is_empty() {
            return self.group(table, here, in_group);
        }
        let keys = read_keys(table, here)?;
        let repeat = keys.repeat.unwrap_or(1);
        for _ in 0..repeat {
            self.stage(table, here, &keys, in_group || keys.repeat.is_some())?;
            if keys.repeat.is_some() {
                self.check_size(table, here)?;
            }
        }
        Ok(())
    }

    /// `repeat = N` with `stages = [...]`: those stages N times.
    fn group(
        &mut self,
        table: &StageTable,
        here: &str,
        in_group: bool,
    ) -> Result<(), SettingsError> {
        let mut repeat = None;
        for entry in &table.entries {
            let (key, text) = entry_text(here, entry, false)?;
            match entry.key.as_str() {
                "repeat" => {
                    repeat = Some(at_least_one(&text).map_err(|m| bad_value(entry, &key, m))?);
                }
                other if STAGE_KEYS.contains(&other) => {
                    return Err(bad_value(
                        entry,
                        &key,
                        format!(
                            "a group (a stage table with `stages`) takes only `repeat` and \
                             `stages`: put `{other}` on the stages inside it"
                        ),
                    ))
                }
                other => return Err(unknown(entry, &key, other, GROUP_KEYS)),
            }
        }
        for _ in 0..repeat.unwrap_or(1) {
            for (index, child) in table.stages.iter().enumerate() {
                let repeated = in_group || repeat.is_some();
                self.table(child, &format!("{here}.stages[{index}]"), repeated)?;
            }
            if repeat.is_some() {
                self.check_size(table, here)?;
            }
        }
        Ok(())
    }

    fn check_size(&self, table: &StageTable, here: &str) -> Result<(), SettingsError> {
        if self.stages.len() > MAX_STAGES {
            return Err(at(
                table,
                here,
                "repeat",
                &format!("the repeats make more than {MAX_STAGES} stages"),
            ));
        }
        Ok(())
    }

    /// One stage after the ones so far.
    fn stage(
        &mut self,
        table: &StageTable,
        here: &str,
        keys: &Keys,
        repeated: bool,
    ) -> Result<(), SettingsError> {
        let needs = |message: &str| SettingsError::BadValue {
            origin: table.origin.clone(),
            key: here.to_string(),
            message: message.to_string(),
        };
        let missing = |what: &str| needs(&format!("a stage needs `{what}`"));
        let previous = self.stages.last();
        let previous_end = previous.map_or(Duration::ZERO, |s| s.end);
        let from = keys.from.unwrap_or(previous.map_or(0, |s| s.users));
        if let Some((key, message)) = formula::conflict(keys) {
            return Err(at(table, here, key, &message));
        }
        let curve = match (&keys.users_formula, keys.ramp, keys.step) {
            (Some(users), ..) => Curve::Formula {
                users: users.clone(),
                spawn_rate: keys.spawn_rate_formula.clone(),
            },
            (None, Some(_), Some(_)) => {
                return Err(at(
                    table,
                    here,
                    "step",
                    "give either `ramp` or `step`, not both",
                ))
            }
            (None, Some(easing), None) => Curve::Ramp { from, easing },
            (None, None, Some(step)) => Curve::Steps {
                from,
                step,
                every: keys
                    .every
                    .ok_or_else(|| needs("a step stage needs `every` (the time between steps)"))?,
            },
            (None, None, None) => {
                if keys.from.is_some() {
                    return Err(at(
                        table,
                        here,
                        "from",
                        "`from` is where a ramp or steps start: add `ramp = \"linear\"` or \
                         `step`",
                    ));
                }
                if keys.every.is_some() {
                    return Err(at(
                        table,
                        here,
                        "every",
                        "`every` is how often `step` users are added: add `step`",
                    ));
                }
                Curve::Hold
            }
        };
        if keys.wait_for_users && curve != Curve::Hold {
            return Err(at(
                table,
                here,
                "wait-for-users",
                "only a stage that holds its users can wait for them (no `ramp` or `step`)",
            ));
        }
        if keys.until.is_some() {
            if repeated {
                return Err(at(
                    table,
                    here,
                    "until",
                    "a repeated stage takes `duration`: `until` (the time since the start) \
                     cannot repeat",
                ));
            }
            if let Some(origin) = &self.waits {
                return Err(at(
                    table,
                    here,
                    "until",
                    &format!(
                        "after a stage that waits for its users ({origin}), give `duration`: \
                         the wait moves every later stage"
                    ),
                ));
            }
        }
        let length = match (keys.length, keys.until) {
            (Some(_), Some(_)) => {
                return Err(SettingsError::BadValue {
                    origin: table.origin.clone(),
                    key: here.to_string(),
                    message: "give either `duration` or `until`, not both".into(),
                })
            }
            (None, None) => steps_length(table, here, &curve, keys.users)?
                .ok_or_else(|| missing("duration` or `until"))?,
            (Some(length), None) if length.is_zero() => {
                return Err(at(
                    table,
                    here,
                    "duration",
                    "a stage must last longer than 0 s",
                ))
            }
            (Some(length), None) => length,
            (None, Some(until)) if until <= previous_end => {
                return Err(at(
                    table,
                    here,
                    "until",
                    &format!(
                        "stages must move forward in time: this stage ends at {} s, not after \
                         the previous one ({} s)",
                        until.as_secs(),
                        previous_end.as_secs()
                    ),
                ))
            }
            (None, Some(until)) => until - previous_end,
        };
        let end = previous_end
            .checked_add(length)
            .ok_or_else(|| at(table, here, "duration", "the stages last too long"))?;
        let users = match (&curve, keys.users) {
            (_, Some(users)) => users,
            // Uncapped steps: where the last step of the stage leaves the count.
            (Curve::Steps { from, step, every }, None) => {
                let steps = length.as_nanos().div_ceil(every.as_nanos().max(1));
                let steps = u64::try_from(steps).unwrap_or(u64::MAX);
                from.saturating_add(steps.saturating_mul(*step))
            }
            // A formula: where it stands at the stage's end (as if no stage waited).
            (Curve::Formula { users, .. }, None) => {
                users
                    .count(end.as_secs_f64(), length.as_secs_f64())
                    .map_err(|m| at(table, here, "users", &m))?
                    .0
            }
            _ => return Err(missing("users")),
        };
        let spawn_rate = match (keys.spawn_rate, curve.at_once_rate(users, length)) {
            (Some(rate), _) | (None, Some(rate)) => rate,
            (None, None) => match &keys.spawn_rate_formula {
                // The rate until the expression gives one > 0: its value at the start.
                Some(rate) => keys
                    .users_formula
                    .as_ref()
                    .ok_or_else(|| "a spawn rate expression needs a formula stage".to_string())
                    .and_then(|users| formula::start_rate(rate, users, previous_end))
                    .map_err(|m| at(table, here, "spawn-rate", &m))?,
                None => return Err(missing("spawn-rate")),
            },
        };
        if keys.wait_for_users && self.waits.is_none() {
            self.waits = Some(
                table
                    .entries
                    .iter()
                    .find(|e| e.key == "wait-for-users")
                    .map_or(table.origin.clone(), |e| e.origin.clone()),
            );
        }
        self.stages.push(Stage {
            end,
            users,
            spawn_rate,
            user_classes: keys.user_classes.clone(),
            curve,
            wait_for_users: keys.wait_for_users,
        });
        Ok(())
    }
}

/// The length of a step stage given `users` but no `duration` or `until`: until its
/// last step has lasted `every`. None for the other stages.
fn steps_length(
    table: &StageTable,
    here: &str,
    curve: &Curve,
    users: Option<u64>,
) -> Result<Option<Duration>, SettingsError> {
    let &Curve::Steps { from, step, every } = curve else {
        return Ok(None);
    };
    let Some(users) = users else {
        return Err(SettingsError::BadValue {
            origin: table.origin.clone(),
            key: here.to_string(),
            message: "a step stage needs `duration`, `until` or `users` (where the steps stop)"
                .into(),
        });
    };
    let steps = from.abs_diff(users).div_ceil(step.max(1));
    if steps == 0 {
        return Err(at(
            table,
            here,
            "users",
            &format!(
                "the steps have nowhere to go: they start at {from} users, which is `users`; \
                 give `duration`"
            ),
        ));
    }
    u32::try_from(steps)
        .ok()
        .and_then(|steps| every.checked_mul(steps))
        .map(Some)
        .ok_or_else(|| at(table, here, "every", "the steps last too long"))
}

/// A profile's `phases = ["basic", ...]`: each must name another profile of the project
/// that has no phases itself. Errors point at the item's own line.
pub fn phases(project: &ProjectConfig, entry: &ConfigEntry) -> Result<Vec<String>, SettingsError> {
    let names = match &entry.value {
        ConfigValue::List(names) => names.clone(),
        ConfigValue::Text(name) => vec![name.clone()],
    };
    if names.is_empty() {
        return Err(SettingsError::BadValue {
            origin: entry.origin.clone(),
            key: "phases".into(),
            message: "expected a list of profile names, e.g. [\"basic\", \"spike\"]".into(),
        });
    }
    for (index, name) in names.iter().enumerate() {
        let mut origin = entry.origin.clone();
        if let Some(line) = entry.item_lines.get(index) {
            origin.line = *line;
        }
        let bad = |message: String| SettingsError::BadValue {
            origin: origin.clone(),
            key: format!("phases[{index}]"),
            message,
        };
        match project.profiles.get(name) {
            None => {
                let known: Vec<&str> = project.profiles.keys().map(String::as_str).collect();
                return Err(bad(format!(
                    "no profile `{name}` in this file (known profiles: {})",
                    known.join(", ")
                )));
            }
            Some(profile) if profile.entries.iter().any(|e| e.key == "phases") => {
                return Err(bad(format!(
                    "profile `{name}` has phases itself; phases cannot be nested"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(names)
}

/// An error at `key` of a stage (its own line when the key is there).
fn at(table: &StageTable, here: &str, key: &str, message: &str) -> SettingsError {
    let origin = table
        .entries
        .iter()
        .find(|e| e.key == key)
        .map_or(table.origin.clone(), |e| e.origin.clone());
    SettingsError::BadValue {
        origin,
        key: format!("{here}.{key}"),
        message: message.into(),
    }
}

fn unknown(entry: &ConfigEntry, key: &str, name: &str, known: &[&str]) -> SettingsError {
    let hint = locust_scenario::closest(name, known.iter().copied())
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_else(|| {
            let what = if known == GROUP_KEYS {
                "a group"
            } else {
                "a stage"
            };
            format!(" ({what} takes {})", known.join(", "))
        });
    SettingsError::UnknownKey {
        origin: entry.origin.clone(),
        key: key.to_string(),
        hint,
    }
}

#[cfg(test)]
mod locust_examples;

#[cfg(test)]
mod tests;
