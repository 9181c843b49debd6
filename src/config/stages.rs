//! A profile's `[[profiles.NAME.stages]]` read into the engine's `Stage` list and
//! checked before any request: each stage has `duration` (its length) or `until` (its
//! end since the start) as a Locust time span, `users` and `spawn-rate`, optionally
//! `user-classes`; stages must move forward in time. Errors name the file, the line and
//! the key.

use std::time::Duration;

use crate::config::file::{ConfigEntry, ConfigValue, ProjectConfig, StageTable};
use crate::config::timespan;
use crate::config::SettingsError;
use locust_engine::{Stage, StageClasses};

const STAGE_KEYS: &[&str] = &["duration", "until", "users", "spawn-rate", "user-classes"];

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

/// Validates and converts the stage tables of profile `profile`.
pub fn parse(profile: &str, tables: &[StageTable]) -> Result<Vec<Stage>, SettingsError> {
    let mut stages: Vec<Stage> = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        let here = format!("profiles.{profile}.stages[{index}]");
        let mut length = None;
        let mut until = None;
        let mut users = None;
        let mut spawn_rate = None;
        let mut user_classes = None;
        for entry in &table.entries {
            let (key, text) = entry_text(&here, entry, entry.key == "user-classes")?;
            let bad = |message: String| bad_value(entry, &key, message);
            match entry.key.as_str() {
                "duration" => length = Some(span(&text).map_err(bad)?),
                "until" => until = Some(span(&text).map_err(bad)?),
                "users" => users = Some(count(&text).map_err(bad)?),
                "spawn-rate" => spawn_rate = Some(rate(&text).map_err(bad)?),
                "user-classes" => {
                    let names = class_names(&entry.value);
                    if names.is_empty() {
                        return Err(bad(
                            "expected a list of user classes, e.g. [\"HighVolumeUser\"]".into(),
                        ));
                    }
                    user_classes = Some(StageClasses {
                        names,
                        origin: format!("{}: key `{key}`", entry.origin),
                    });
                }
                other => return Err(unknown(entry, &key, other)),
            }
        }
        let missing = |what: &str| SettingsError::BadValue {
            origin: table.origin.clone(),
            key: here.clone(),
            message: format!("a stage needs `{what}`"),
        };
        let previous = stages.last().map_or(Duration::ZERO, |s| s.end);
        let end = match (length, until) {
            (Some(_), Some(_)) => {
                return Err(SettingsError::BadValue {
                    origin: table.origin.clone(),
                    key: here,
                    message: "give either `duration` or `until`, not both".into(),
                })
            }
            (None, None) => return Err(missing("duration` or `until")),
            (Some(length), None) if length.is_zero() => {
                return Err(at(
                    table,
                    &here,
                    "duration",
                    "a stage must last longer than 0 s",
                ))
            }
            (Some(length), None) => previous + length,
            (None, Some(until)) if until <= previous => {
                return Err(at(
                    table,
                    &here,
                    "until",
                    &format!(
                        "stages must move forward in time: this stage ends at {} s, not after \
                         the previous one ({} s)",
                        until.as_secs(),
                        previous.as_secs()
                    ),
                ))
            }
            (None, Some(until)) => until,
        };
        stages.push(Stage {
            end,
            users: users.ok_or_else(|| missing("users"))?,
            spawn_rate: spawn_rate.ok_or_else(|| missing("spawn-rate"))?,
            user_classes,
        });
    }
    Ok(stages)
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

fn unknown(entry: &ConfigEntry, key: &str, name: &str) -> SettingsError {
    let hint = locust_scenario::closest(name, STAGE_KEYS.iter().copied())
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_else(|| format!(" (a stage takes {})", STAGE_KEYS[..4].join(", ")));
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
}
