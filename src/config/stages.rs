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
use locust_engine::{Curve, Easing, Formula, Stage, StageClasses};

mod formula;

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

/// The keys of one stage table, parsed.
#[derive(Default)]
struct Keys {
    length: Option<Duration>,
    until: Option<Duration>,
    users: Option<u64>,
    /// `users = "<expression>"`: a formula stage.
    users_formula: Option<Formula>,
    spawn_rate: Option<f64>,
    spawn_rate_formula: Option<Formula>,
    user_classes: Option<StageClasses>,
    ramp: Option<Easing>,
    from: Option<u64>,
    step: Option<u64>,
    every: Option<Duration>,
    wait_for_users: bool,
    repeat: Option<u64>,
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

/// The keys of a stage table (not a group), each checked on its own.
fn read_keys(table: &StageTable, here: &str) -> Result<Keys, SettingsError> {
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

/// `["A", "B"]`, or `"A B"` / `"A,B"` as one string.
fn class_names(value: &ConfigValue) -> Vec<String> {
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

fn span(text: &str) -> Result<Duration, String> {
    timespan::parse_arg(text).map(Duration::from_secs)
}

fn count(text: &str) -> Result<u64, String> {
    if text.trim().starts_with('-') {
        return Err(format!("must not be negative (got {text})"));
    }
    text.trim()
        .parse()
        .map_err(|_| format!("expected a whole number of users, got '{text}'"))
}

fn rate(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of users per second, got '{text}'"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("must be a number > 0 (got {text})"));
    }
    Ok(value)
}

fn at_least_one(text: &str) -> Result<u64, String> {
    match count(text)? {
        0 => Err(format!("must be at least 1 (got {text})")),
        n => Ok(n),
    }
}

fn boolean(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, got '{text}'")),
    }
}

fn easing(text: &str) -> Result<Easing, String> {
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

#[cfg(test)]
mod locust_examples;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::read_project_toml;

    fn stages(body: &str) -> Result<Vec<Stage>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("locust.toml");
        std::fs::write(&path, format!("[profiles.p]\nheadless = true\n{body}"))
            .map_err(|e| e.to_string())?;
        let config = read_project_toml(&path).map_err(|e| e.to_string())?;
        parse("p", &config.profiles["p"].stages).map_err(|e| e.to_string())
    }

    const S: &str = "[[profiles.p.stages]]\n";

    #[test]
    fn durations_and_until_add_up() {
        let got = stages(&format!(
            "{S}duration = \"10s\"\nusers = 1\nspawn-rate = 1\n{S}until = \"1m\"\nusers = 50\nspawn-rate = 12.5\n"
        ))
        .unwrap();
        assert_eq!(got[0].end, Duration::from_secs(10));
        assert_eq!(got[1].end, Duration::from_secs(60));
        assert_eq!((got[1].users, got[1].spawn_rate), (50, 12.5));
    }

    #[test]
    fn bad_stages_name_file_line_and_key() {
        let cases = [
            // (body, expected fragments)
            (
                format!("{S}until = \"20s\"\nusers = 1\nspawn-rate = 1\n{S}until = \"10s\"\nusers = 2\nspawn-rate = 1\n"),
                vec!["locust.toml:8", "stages[1].until", "move forward"],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = -3\nspawn-rate = 1\n"),
                vec!["locust.toml:5", "stages[0].users", "negative"],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 3\nspawn-rate = -1\n"),
                vec!["locust.toml:6", "stages[0].spawn-rate", "> 0"],
            ),
            (
                format!("{S}duraton = \"5s\"\nusers = 3\nspawn-rate = 1\n"),
                vec!["locust.toml:4", "unknown key", "did you mean `duration`"],
            ),
            (
                format!("{S}duration = \"5s\"\nuntil = \"9s\"\nusers = 3\nspawn-rate = 1\n"),
                vec!["locust.toml:3", "not both"],
            ),
            (
                format!("{S}duration = \"5x\"\nusers = 3\nspawn-rate = 1\n"),
                vec!["locust.toml:4", "Invalid time span"],
            ),
            (
                format!("{S}users = 3\nspawn-rate = 1\n"),
                vec!["locust.toml:3", "needs `duration` or `until`"],
            ),
        ];
        for (body, fragments) in cases {
            let err = stages(&body).unwrap_err();
            for fragment in fragments {
                assert!(err.contains(fragment), "{fragment:?} not in {err}");
            }
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// (end in s, users, curve) of each stage.
    fn plan(body: &str) -> Vec<(u64, u64, Curve)> {
        stages(body)
            .unwrap()
            .iter()
            .map(|s| (s.end.as_secs(), s.users, s.curve.clone()))
            .collect()
    }

    fn linear(from: u64) -> Curve {
        Curve::Ramp {
            from,
            easing: Easing::Linear,
        }
    }

    #[test]
    fn ramps_start_from_the_previous_stage_or_from() {
        let got = stages(&format!(
            "{S}duration = \"1m\"\nusers = 100\nramp = \"linear\"\n\
             {S}duration = \"30s\"\nusers = 10\nramp = \"smooth\"\nspawn-rate = 2\n\
             {S}duration = \"10s\"\nfrom = 50\nusers = 0\nramp = \"linear\"\n"
        ))
        .unwrap();
        let curves: Vec<(u64, u64, Curve, f64)> = got
            .iter()
            .map(|s| (s.end.as_secs(), s.users, s.curve.clone(), s.spawn_rate))
            .collect();
        assert_eq!(
            curves,
            [
                // Without spawn-rate: each tick's change at once (100 users over 60 s:
                // 2 at most a tick).
                (60, 100, linear(0), 2.0),
                (
                    90,
                    10,
                    Curve::Ramp {
                        from: 100,
                        easing: Easing::Smooth
                    },
                    2.0
                ),
                (100, 0, linear(50), 5.0),
            ]
        );
        assert!(got.iter().all(|s| !s.wait_for_users));
    }

    #[test]
    fn steps_last_until_their_last_step_has_held_unless_timed() {
        let steps = |from, step, every| Curve::Steps {
            from,
            step,
            every: secs(every),
        };
        // 10 users every 30 s up to 100: 10 steps, 300 s; then down to 40 by 20s every
        // 5 s (3 steps, 15 s); then uncapped for a minute: 6 steps of 5 from 40.
        let got = stages(&format!(
            "{S}step = 10\nevery = \"30s\"\nusers = 100\n\
             {S}step = 20\nevery = \"5s\"\nusers = 40\nspawn-rate = 100\n\
             {S}step = 5\nevery = \"10s\"\nduration = \"1m\"\n"
        ))
        .unwrap();
        let summary: Vec<(u64, u64, Curve, f64)> = got
            .iter()
            .map(|s| (s.end.as_secs(), s.users, s.curve.clone(), s.spawn_rate))
            .collect();
        assert_eq!(
            summary,
            [
                (300, 100, steps(0, 10, 30), 10.0),
                (315, 40, steps(100, 20, 5), 100.0),
                (375, 70, steps(40, 5, 10), 5.0),
            ]
        );
    }

    #[test]
    fn groups_and_repeated_stages_expand_in_order() {
        let wave = "{S}repeat = 3\nstages = [\n  { duration = \"20s\", users = 50, ramp = \"linear\" },\n  { duration = \"10s\", users = 10, ramp = \"linear\" },\n]\n";
        let got = plan(&format!(
            "{S}duration = \"5s\"\nusers = 10\nspawn-rate = 10\n{}",
            wave.replace("{S}", S)
        ));
        let mut want = vec![(5, 10, Curve::Hold)];
        for i in 0..3 {
            want.push((5 + 30 * i + 20, 50, linear(10)));
            want.push((5 + 30 * i + 30, 10, linear(50)));
        }
        assert_eq!(got, want);

        // The same group as sub-tables, nested in another, and a repeated single stage
        // (a sawtooth: `from` each time).
        let got = plan(&format!(
            "{S}repeat = 2\n\
             [[profiles.p.stages.stages]]\nrepeat = 2\n\
             [[profiles.p.stages.stages.stages]]\nduration = \"4s\"\nusers = 8\nspawn-rate = 8\n\
             [[profiles.p.stages.stages]]\nduration = \"2s\"\nusers = 0\nspawn-rate = 8\n\
             {S}repeat = 2\nduration = \"3s\"\nfrom = 0\nusers = 3\nramp = \"linear\"\n"
        ));
        assert_eq!(
            got,
            [
                (4, 8, Curve::Hold),
                (8, 8, Curve::Hold),
                (10, 0, Curve::Hold),
                (14, 8, Curve::Hold),
                (18, 8, Curve::Hold),
                (20, 0, Curve::Hold),
                (23, 3, linear(0)),
                (26, 3, linear(0)),
            ]
        );
    }

    /// The examples of LOAD_TESTING.md "Ramps, steps, waits and repeats".
    #[test]
    fn documented_profiles_read_as_described() {
        let soak = plan(
            "stages = [\n  { duration = \"5m\", users = 100, ramp = \"linear\" },\n  \
             { duration = \"10m\", users = 100, spawn-rate = 10 },\n  \
             { duration = \"2m\", users = 0, ramp = \"linear\" },\n]\n",
        );
        assert_eq!(
            soak,
            [
                (300, 100, linear(0)),
                (900, 100, Curve::Hold),
                (1020, 0, linear(100))
            ]
        );
        let waves = plan(&format!(
            "{S}step = 10\nevery = \"30s\"\nusers = 100\n{S}repeat = 3\nstages = [\n  \
             {{ duration = \"1m\", users = 300, ramp = \"smooth\" }},\n  \
             {{ duration = \"1m\", users = 100, ramp = \"smooth\" }},\n]\n"
        ));
        let smooth = |from| Curve::Ramp {
            from,
            easing: Easing::Smooth,
        };
        let mut want = vec![(
            300,
            100,
            Curve::Steps {
                from: 0,
                step: 10,
                every: secs(30),
            },
        )];
        for wave in 0..3 {
            want.push((360 + 120 * wave, 300, smooth(100)));
            want.push((420 + 120 * wave, 100, smooth(300)));
        }
        assert_eq!(waves, want);
    }

    #[test]
    fn wait_for_users_is_kept_and_until_still_works_before_it() {
        let got = stages(&format!(
            "{S}until = \"10s\"\nusers = 1\nspawn-rate = 1\n\
             {S}users = 10\nspawn-rate = 100\nwait-for-users = true\nduration = \"10s\"\n\
             {S}users = 20\nspawn-rate = 100\nwait-for-users = false\nduration = \"15s\"\n"
        ))
        .unwrap();
        let waits: Vec<(u64, bool)> = got
            .iter()
            .map(|s| (s.end.as_secs(), s.wait_for_users))
            .collect();
        assert_eq!(waits, [(10, false), (20, true), (35, false)]);
    }

    #[test]
    fn formula_stages_compile_their_expressions() {
        let got = stages(&format!(
            "{S}duration = \"10s\"\nusers = 5\nspawn-rate = 5\n\
             {S}until = \"1m\"\nusers = \"5 + t / 2 + stage_t\"\nspawn-rate = \"t\"\n\
             {S}duration = \"10s\"\nusers = \"max(0, 10 - stage_t)\"\nspawn-rate = 2.5\n\
             {S}duration = \"10s\"\nusers = 0\nramp = \"linear\"\n"
        ))
        .unwrap();
        let Curve::Formula { users, spawn_rate } = &got[1].curve else {
            panic!("{:?}", got[1].curve);
        };
        assert_eq!(users.source(), "5 + t / 2 + stage_t");
        assert_eq!(spawn_rate.as_ref().map(Formula::source), Some("t"));
        assert_eq!(users.eval(20.0, 10.0, 0.0), Ok(25.0));
        // `users`: where the formula stands at the stage's end (60 s, 50 s into it);
        // the spawn rate until the expression gives one: its value at the start.
        assert_eq!(
            (got[1].end.as_secs(), got[1].users, got[1].spawn_rate),
            (60, 85, 10.0)
        );
        assert!(matches!(
            &got[2].curve,
            Curve::Formula {
                spawn_rate: None,
                ..
            }
        ));
        assert_eq!((got[2].users, got[2].spawn_rate), (0, 2.5));
        // The next ramp starts where the formula ended.
        assert_eq!(got[3].curve, linear(0));

        // LOAD_TESTING.md "Formula stages".
        let sine = stages(&format!(
            "{S}duration = \"10m\"\nusers = \"50 + 30 * sin(2 * pi * t / 120)\"\nspawn-rate = 10\n"
        ))
        .unwrap();
        let at = |t: u64| {
            let target = sine[0]
                .curve
                .target_at(0, secs(600), secs(0), secs(t))
                .unwrap();
            target.users
        };
        assert_eq!(
            (at(0), at(30), at(60), at(90), at(120)),
            (50, 80, 50, 20, 50)
        );
    }

    #[test]
    fn bad_formulas_name_file_line_and_key() {
        let formula =
            |users: &str, more: &str| format!("{S}duration = \"5s\"\nusers = \"{users}\"\n{more}");
        let cases = [
            (
                formula("40 * e ** -tt", "spawn-rate = 1\n"),
                vec![
                    "locust.toml:5",
                    "stages[0].users",
                    "unknown name `tt` (did you mean `t`?",
                ],
            ),
            (
                formula("exp(t", "spawn-rate = 1\n"),
                vec![
                    "locust.toml:5",
                    "stages[0].users",
                    "\"exp(t\" is not a valid expression: syntax error",
                ],
            ),
            (
                formula("t - 'x'", "spawn-rate = 1\n"),
                vec![
                    "locust.toml:5",
                    "stages[0].users",
                    "\"t - 'x'\" at t = 0 s: invalid operation",
                ],
            ),
            (
                formula("t", ""),
                vec!["locust.toml:3", "stages[0]`", "needs `spawn-rate`"],
            ),
            (
                formula("t", "spawn-rate = \"t\"\n"),
                vec![
                    "locust.toml:6",
                    "stages[0].spawn-rate",
                    "gives 0 at the stage's start (t = 0 s)",
                    "> 0",
                ],
            ),
            (
                formula("t", "spawn-rate = \"rat\"\n"),
                vec![
                    "locust.toml:6",
                    "stages[0].spawn-rate",
                    "unknown name `rat`",
                ],
            ),
            (
                formula("t", "spawn-rate = 1\nramp = \"linear\"\n"),
                vec!["locust.toml:7", "stages[0].ramp", "takes no `ramp`"],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 5\nspawn-rate = \"t + 1\"\n"),
                vec![
                    "locust.toml:6",
                    "stages[0].spawn-rate",
                    "give `users` as an expression too",
                ],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 2.5\nspawn-rate = 1\n"),
                vec!["locust.toml:5", "stages[0].users", "whole number"],
            ),
            (
                formula("t", "spawn-rate = 1\nwait-for-users = true\n"),
                vec![
                    "locust.toml:7",
                    "stages[0].wait-for-users",
                    "holds its users",
                ],
            ),
        ];
        for (body, fragments) in cases {
            let err = stages(&body).unwrap_err();
            for fragment in fragments {
                assert!(err.contains(fragment), "{fragment:?} not in {err}\n{body}");
            }
        }
    }

    #[test]
    fn bad_new_keys_name_file_line_and_key() {
        let group = |inner: &str| format!("{S}repeat = 2\nstages = [\n  {inner},\n]\n");
        let cases = [
            (
                format!("{S}duration = \"5s\"\nusers = 3\nramp = \"linaer\"\n"),
                vec!["locust.toml:6", "stages[0].ramp", "did you mean `linear`"],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 3\nspawn_rate = 1\n"),
                vec!["locust.toml:6", "unknown key", "did you mean `spawn-rate`"],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 3\nfrom = 1\nspawn-rate = 1\n"),
                vec!["locust.toml:6", "stages[0].from", "ramp = \"linear\""],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 3\nevery = \"1s\"\nspawn-rate = 1\n"),
                vec!["locust.toml:6", "stages[0].every", "add `step`"],
            ),
            (
                format!("{S}duration = \"5s\"\nusers = 3\nstep = 1\n"),
                vec!["locust.toml:3", "stages[0]`", "needs `every`"],
            ),
            (
                format!("{S}users = 3\nstep = 1\nevery = \"0s\"\n"),
                vec!["locust.toml:6", "stages[0].every", "longer than 0 s"],
            ),
            (
                format!("{S}step = 1\nevery = \"1s\"\n"),
                vec!["locust.toml:3", "`duration`, `until` or `users`"],
            ),
            (
                format!("{S}step = 0\nevery = \"1s\"\nusers = 3\n"),
                vec!["locust.toml:4", "stages[0].step", "at least 1"],
            ),
            (
                format!("{S}step = 2\nevery = \"1s\"\nramp = \"linear\"\nusers = 3\n"),
                vec!["locust.toml:4", "stages[0].step", "not both"],
            ),
            (
                format!("{S}ramp = \"linear\"\nusers = 3\nduration = \"5s\"\nwait-for-users = true\n"),
                vec!["locust.toml:7", "stages[0].wait-for-users", "holds its users"],
            ),
            (
                format!("{S}users = 3\nspawn-rate = 1\nduration = \"5s\"\nwait-for-users = \"yes\"\n"),
                vec!["locust.toml:7", "true or false"],
            ),
            (
                format!("{S}users = 3\nspawn-rate = 1\nduration = \"5s\"\nwait-for-users = true\n{S}users = 1\nspawn-rate = 1\nuntil = \"1m\"\n"),
                vec!["locust.toml:11", "stages[1].until", "waits for its users (", "locust.toml:7)"],
            ),
            (
                group("{ until = \"5s\", users = 3, spawn-rate = 1 }"),
                vec!["locust.toml:6", "stages[0].stages[0].until", "cannot repeat"],
            ),
            (
                format!("{S}repeat = 2\nuntil = \"5s\"\nusers = 3\nspawn-rate = 1\n"),
                vec!["locust.toml:5", "stages[0].until", "cannot repeat"],
            ),
            (
                group("{ duration = \"5s\", users = 3, spawn-rat = 1 }"),
                vec!["locust.toml:6", "stages[0].stages[0].spawn-rat", "did you mean `spawn-rate`"],
            ),
            (
                group("{ duration = \"5s\", users = 3 }"),
                vec!["locust.toml:6", "stages[0].stages[0]`", "needs `spawn-rate`"],
            ),
            (
                format!("{S}repeat = 2\nusers = 4\nstages = [{{ duration = \"5s\", users = 3, spawn-rate = 1 }}]\n"),
                vec!["locust.toml:5", "stages[0].users", "put `users` on the stages inside"],
            ),
            (
                format!("{S}repet = 2\nstages = [{{ duration = \"5s\", users = 3, spawn-rate = 1 }}]\n"),
                vec!["locust.toml:4", "stages[0].repet", "did you mean `repeat`"],
            ),
            (
                format!("{S}repeat = 0\nstages = [{{ duration = \"5s\", users = 3, spawn-rate = 1 }}]\n"),
                vec!["locust.toml:4", "stages[0].repeat", "at least 1"],
            ),
            (
                format!("{S}repeat = 2\nstages = []\n"),
                vec!["locust.toml:5", "stages[0].stages", "expected a list of stage tables"],
            ),
            (
                format!("{S}repeat = 1000\nstages = [{{ repeat = 1000, stages = [{{ duration = \"1s\", users = 1, spawn-rate = 1 }}] }}]\n"),
                vec![
                    "locust.toml:5",
                    "stages[0].stages[0].repeat",
                    "more than 100000 stages",
                ],
            ),
            (
                format!("{S}users = 5\nspawn-rate = 1\nduration = \"5s\"\n{S}step = 5\nevery = \"1s\"\nusers = 5\n"),
                vec!["locust.toml:10", "stages[1].users", "nowhere to go"],
            ),
        ];
        for (body, fragments) in cases {
            let err = stages(&body).unwrap_err();
            for fragment in fragments {
                assert!(err.contains(fragment), "{fragment:?} not in {err}\n{body}");
            }
        }
    }
}
