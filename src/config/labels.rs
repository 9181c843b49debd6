//! The settings of verdicts and reports: where criteria come from (each source's
//! `criteria` list with the line of every item), which response headers are labelled
//! (cache, instance) and which request headers are secret. Read by `settings.rs`.

use crate::config::cli::Cli;
use crate::config::file::{self, ConfigEntry, ConfigValue};
use crate::config::{normalize_list, SettingsError};
use crate::criteria;

/// Which response headers are labelled and how they are read; which request headers
/// are secret.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSettings {
    pub cache_header: String,
    pub cache_hit: Vec<String>,
    pub cache_miss: Vec<String>,
    pub instance_header: String,
    pub expected_instances: Option<usize>,
    /// Always Authorization, Cookie and Proxy-Authorization, plus `secret-headers`.
    pub secret_headers: Vec<String>,
}

/// Request headers whose values never appear in a report.
pub const ALWAYS_SECRET: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Removes the `criteria` entry of one source and returns its items with their lines.
pub(crate) fn take_criteria(entries: &mut Vec<ConfigEntry>) -> Option<Vec<criteria::Source>> {
    let index = entries.iter().position(|e| e.key == "criteria")?;
    let entry = entries.remove(index);
    let items = match entry.value {
        ConfigValue::List(items) => items,
        ConfigValue::Text(t) if t.trim_start().starts_with('[') => file::parse_list(&t),
        ConfigValue::Text(t) => vec![t],
    };
    Some(
        items
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                let line = entry
                    .item_lines
                    .get(i)
                    .copied()
                    .unwrap_or(entry.origin.line);
                criteria::Source {
                    text,
                    origin: format!("{}:{line}", entry.origin.file.display()),
                    key: format!("criteria[{i}]"),
                }
            })
            .collect(),
    )
}

/// A header name as HTTP allows it (checked here so a typo fails before the run).
pub(crate) fn header_name(name: String) -> Result<String, String> {
    http::HeaderName::from_bytes(name.trim().as_bytes())
        .map(|_| name.trim().to_string())
        .map_err(|_| format!("'{name}' is not a valid HTTP header name"))
}

pub(crate) fn label_settings(cli: &Cli) -> Result<LabelSettings, SettingsError> {
    let flag = |flag: &str, message: String| SettingsError::BadFlag {
        flag: flag.into(),
        message,
    };
    let cache_header = match &cli.cache_header {
        Some(name) => header_name(name.clone()).map_err(|m| flag("--cache-header", m))?,
        None => "X-Cache".into(),
    };
    let instance_header = match &cli.instance_header {
        Some(name) => header_name(name.clone()).map_err(|m| flag("--instance-header", m))?,
        None => "X-Instance-ID".into(),
    };
    let mut secret_headers: Vec<String> = ALWAYS_SECRET.iter().map(|s| s.to_string()).collect();
    for name in cli.secret_header.iter().flatten() {
        let name = header_name(name.clone()).map_err(|m| flag("--secret-header", m))?;
        secret_headers.push(name.to_ascii_lowercase());
    }
    let values = |given: &Option<Vec<String>>, default: &str| {
        let list = normalize_list(given.clone()).unwrap_or_else(|| vec![default.to_string()]);
        list.iter()
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .collect()
    };
    Ok(LabelSettings {
        cache_hit: values(&cli.cache_hit, "HIT"),
        cache_miss: values(&cli.cache_miss, "MISS"),
        cache_header,
        instance_header,
        expected_instances: cli.expected_instances.filter(|n| *n > 0),
        secret_headers,
    })
}
