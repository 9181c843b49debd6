//! Reading config files into key/value entries that remember their file and line:
//! Locust's conf format, the `[tool.locust]` table of a TOML file, and locust-rs's
//! named `[profiles.NAME]` tables in `locust.toml`. Interpreting the keys is `settings.rs`'s job.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item, Value};

/// Where a config value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    pub key: String,
    pub value: ConfigValue,
    pub origin: Origin,
    /// For a TOML array: the line of each item (empty otherwise), so that one bad
    /// criterion in a multi-line list is reported at its own line.
    pub item_lines: Vec<usize>,
}

/// A named profile of `locust.toml` (`[profiles.basic]`).
#[derive(Debug, Clone)]
pub struct Profile {
    pub description: Option<String>,
    pub entries: Vec<ConfigEntry>,
    /// `[[profiles.NAME.stages]]`: each stage's keys, in file order.
    pub stages: Vec<StageTable>,
    /// `[[profiles.NAME.arrival]]`: the open model's rate stages, in file order.
    pub arrival: Vec<StageTable>,
}

/// One `[[profiles.NAME.stages]]` table: where it starts and its keys.
#[derive(Debug, Clone)]
pub struct StageTable {
    pub origin: Origin,
    pub entries: Vec<ConfigEntry>,
    /// A group's own stages (`stages = [{ ... }, ...]`), read the same way (always
    /// empty for `arrival`).
    pub stages: Vec<StageTable>,
}

/// What `locust.toml` holds: the `[tool.locust]` options and the named profiles.
#[derive(Debug, Clone, Default)]
pub struct ProjectConfig {
    pub base: Vec<ConfigEntry>,
    pub profiles: BTreeMap<String, Profile>,
    /// Top-level keys holding a value, not a table: read by no one (Locust reads only
    /// `[tool.locust]`), kept so that an option written there can be refused.
    pub loose: Vec<(String, Origin)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: Couldn't parse TOML file: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: key `{key}`: {message}")]
    Value {
        origin: Origin,
        key: String,
        message: String,
    },
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a `--config` file: TOML when it ends in `.toml`, Locust's conf format otherwise.
pub fn read_config_file(path: &Path) -> Result<Vec<ConfigEntry>, ConfigError> {
    if path.extension().is_some_and(|e| e == "toml") {
        Ok(read_project_toml(path)?.base)
    } else {
        let text = read(path)?;
        Ok(parse_conf(path, &text))
    }
}

/// Locust's conf format: `key = value`, `key: value`, `key value` or `--key value`;
/// `#`, `;`, `[` and `---` lines are ignored; `[a, b]` is a list; a bare key means true.
pub fn parse_conf(path: &Path, text: &str) -> Vec<ConfigEntry> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with(';')
            || line.starts_with('[')
            || line.starts_with("---")
        {
            continue;
        }
        let line = line.trim_start_matches("--");
        let line = match line.find(" #") {
            Some(i) => line[..i].trim_end(),
            None => line,
        };
        let split = line
            .find(['=', ':', ' '])
            .map(|i| (line[..i].trim(), line[i + 1..].trim()));
        let (key, value) = split.unwrap_or((line, ""));
        let value = value.trim_start_matches(['=', ':']).trim();
        let value = unquote(value);
        let value = if value.is_empty() {
            ConfigValue::Text("true".into())
        } else if value.starts_with('[') && value.ends_with(']') {
            ConfigValue::List(parse_list(&value))
        } else {
            ConfigValue::Text(value)
        };
        entries.push(ConfigEntry {
            key: key.to_string(),
            value,
            origin: Origin {
                file: path.to_path_buf(),
                line: index + 1,
            },
            item_lines: Vec::new(),
        });
    }
    entries
}

fn unquote(value: &str) -> String {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    if quoted {
        value[1..value.len() - 1].to_string()
    } else {
        value.to_string()
    }
}

/// Locust reads `[a, b]` as JSON first and otherwise splits on commas.
pub fn parse_list(text: &str) -> Vec<String> {
    if let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text) {
        return items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect();
    }
    let inner = text.trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .map(|s| unquote(s.trim()))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Reads `locust.toml`: `[tool.locust]` and `[profiles.*]`. Other top-level tables are
/// left for other tools (pyproject-style files carry many).
pub fn read_project_toml(path: &Path) -> Result<ProjectConfig, ConfigError> {
    let text = read(path)?;
    let doc = ImDocument::parse(text.as_str()).map_err(|e| {
        let (line, column) = line_col(&text, e.span().map_or(0, |s| s.start));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let origin_of = |span: Option<std::ops::Range<usize>>| Origin {
        file: path.to_path_buf(),
        line: line_col(&text, span.map_or(0, |s| s.start)).0,
    };
    let mut config = ProjectConfig::default();
    let root = doc.as_table();
    for (key, item) in root.iter() {
        if item.is_value() {
            let span = root.get_key_value(key).and_then(|(k, _)| k.span());
            config.loose.push((key.to_string(), origin_of(span)));
        }
    }
    if let Some(tool) = root.get("tool").and_then(Item::as_table_like) {
        if let Some(locust) = tool.get("locust").and_then(Item::as_table_like) {
            config.base = table_entries(locust, &origin_of, &[])?;
        }
    }
    if let Some((key, item)) = root.get_key_value("profiles") {
        let profiles = item.as_table_like().ok_or_else(|| ConfigError::Value {
            origin: origin_of(key.span()),
            key: "profiles".into(),
            message: "expected a table of named profiles, e.g. [profiles.basic]".into(),
        })?;
        for (name, item) in profiles.iter() {
            let origin = origin_of(profiles.get_key_value(name).and_then(|(k, _)| k.span()));
            let table = item.as_table_like().ok_or_else(|| ConfigError::Value {
                origin,
                key: format!("profiles.{name}"),
                message: "expected a table of options".into(),
            })?;
            let stages = stage_tables(table.get("stages"), &origin_of, true)?;
            let arrival = stage_tables(table.get("arrival"), &origin_of, false)?;
            let mut entries = table_entries(table, &origin_of, &["stages", "arrival"])?;
            let description = take_text(&mut entries, "description");
            config.profiles.insert(
                name.to_string(),
                Profile {
                    description,
                    entries,
                    stages,
                    arrival,
                },
            );
        }
    }
    Ok(config)
}

fn take_text(entries: &mut Vec<ConfigEntry>, key: &str) -> Option<String> {
    let index = entries.iter().position(|e| e.key == key)?;
    match entries.remove(index).value {
        ConfigValue::Text(t) => Some(t),
        ConfigValue::List(l) => Some(l.join(", ")),
    }
}

/// The tables of a list of stages: `[[...stages]]` or `stages = [{ ... }, ...]`, with
/// their own nested `stages` when `nested` (a repeated group's).
fn stage_tables(
    item: Option<&Item>,
    origin_of: &dyn Fn(Option<std::ops::Range<usize>>) -> Origin,
    nested: bool,
) -> Result<Vec<StageTable>, ConfigError> {
    let mut tables: Vec<(&dyn toml_edit::TableLike, _)> = Vec::new();
    match item {
        Some(Item::ArrayOfTables(array)) => tables.extend(
            array
                .iter()
                .map(|t| (t as &dyn toml_edit::TableLike, t.span())),
        ),
        Some(Item::Value(Value::Array(array))) if is_table_list(item) => {
            tables.extend(array.iter().filter_map(|v| {
                v.as_inline_table()
                    .map(|t| (t as &dyn toml_edit::TableLike, v.span()))
            }))
        }
        _ => {}
    }
    let skip: &[&str] = if nested { &["stages"] } else { &[] };
    tables
        .into_iter()
        .map(|(table, span)| {
            Ok(StageTable {
                origin: origin_of(span),
                entries: table_entries(table, origin_of, skip)?,
                stages: if nested {
                    stage_tables(table.get("stages"), origin_of, true)?
                } else {
                    Vec::new()
                },
            })
        })
        .collect()
}

/// An array of tables, or a non-empty array of inline tables only.
fn is_table_list(item: Option<&Item>) -> bool {
    match item {
        Some(Item::ArrayOfTables(_)) => true,
        Some(Item::Value(Value::Array(a))) => !a.is_empty() && a.iter().all(Value::is_inline_table),
        _ => false,
    }
}

/// The keys of a table with their values; the keys in `lists` that hold a list of
/// tables (stages, read by `stage_tables`) are left out.
fn table_entries(
    table: &dyn toml_edit::TableLike,
    origin_of: &dyn Fn(Option<std::ops::Range<usize>>) -> Origin,
    lists: &[&str],
) -> Result<Vec<ConfigEntry>, ConfigError> {
    let mut entries = Vec::new();
    for (key, item) in table.iter() {
        if lists.contains(&key) && is_table_list(Some(item)) {
            continue;
        }
        let span = table.get_key_value(key).and_then(|(k, _)| k.span());
        let origin = origin_of(span);
        let mut item_lines = Vec::new();
        let value = match item {
            Item::Value(Value::Array(items)) => {
                let mut list = Vec::new();
                for item in items.iter() {
                    if let Some(text) = scalar_text(item) {
                        list.push(text);
                        item_lines.push(origin_of(item.span()).line);
                    }
                }
                ConfigValue::List(list)
            }
            Item::Value(v) => match scalar_text(v) {
                Some(t) => ConfigValue::Text(t),
                None => {
                    return Err(ConfigError::Value {
                        origin,
                        key: key.to_string(),
                        message: "expected a string, number, boolean or list".into(),
                    })
                }
            },
            _ => {
                return Err(ConfigError::Value {
                    origin,
                    key: key.to_string(),
                    message: "expected a value, not a table".into(),
                })
            }
        };
        entries.push(ConfigEntry {
            key: key.to_string(),
            value,
            origin,
            item_lines,
        });
    }
    Ok(entries)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.value().clone()),
        Value::Integer(i) => Some(i.value().to_string()),
        Value::Float(f) => Some(f.value().to_string()),
        Value::Boolean(b) => Some(b.value().to_string()),
        Value::Datetime(d) => Some(d.value().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_format_variants() {
        let text = "# comment\n[section]\nusers = 5\nspawn-rate: 2\nhost http://x:1\n--headless\ntags = [a, b]\nrun-time = '10s' # trailing\n";
        let entries = parse_conf(Path::new("locust.conf"), text);
        let get = |k: &str| entries.iter().find(|e| e.key == k).map(|e| e.value.clone());
        assert_eq!(get("users"), Some(ConfigValue::Text("5".into())));
        assert_eq!(get("spawn-rate"), Some(ConfigValue::Text("2".into())));
        assert_eq!(get("host"), Some(ConfigValue::Text("http://x:1".into())));
        assert_eq!(get("headless"), Some(ConfigValue::Text("true".into())));
        assert_eq!(
            get("tags"),
            Some(ConfigValue::List(vec!["a".into(), "b".into()]))
        );
        assert_eq!(get("run-time"), Some(ConfigValue::Text("10s".into())));
        assert_eq!(entries[0].origin.line, 3);
    }

    #[test]
    fn toml_tables_and_profiles_keep_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locust.toml");
        std::fs::write(
            &path,
            "[tool.locust]\nhost = \"http://h:1\"\nusers = 3\n\n[profiles.basic]\ndescription = \"quick\"\nusers = 10\nrun-time = \"60s\"\n",
        )
        .unwrap();
        let config = read_project_toml(&path).unwrap();
        assert_eq!(config.base.len(), 2);
        assert_eq!(config.base[1].origin.line, 3);
        let basic = &config.profiles["basic"];
        assert_eq!(basic.description.as_deref(), Some("quick"));
        assert_eq!(basic.entries[1].key, "run-time");
        assert_eq!(basic.entries[1].origin.line, 8);
    }

    #[test]
    fn toml_syntax_error_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locust.toml");
        std::fs::write(&path, "[tool.locust]\nusers = = 3\n").unwrap();
        let err = read_project_toml(&path).unwrap_err().to_string();
        assert!(err.contains("locust.toml:2:"), "{err}");
        assert!(err.contains("Couldn't parse TOML file"), "{err}");
    }
}
