//! Config-file keys (`locust.toml`'s `[tool.locust]` and profiles, `--config`) applied
//! to the command line's empty slots, so a value from a file is parsed and checked by the
//! same rules as its flag; errors name the file, line and key.

use crate::config::cli::{self, Cli};
use crate::config::file::{self, ConfigEntry, ConfigValue};
use crate::config::labels::header_name;
use crate::config::timespan;
use crate::config::SettingsError;

/// Keys a config file may set, with the Locust long option each maps to.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "locustfile",
    "host",
    "users",
    "spawn-rate",
    "arrival-rate",
    "max-pool",
    "run-time",
    "headless",
    "headful",
    "tags",
    "exclude-tags",
    "var",
    "csv",
    "csv-full-history",
    "print-stats",
    "only-summary",
    "reset-stats",
    "json",
    "json-file",
    "loglevel",
    "logfile",
    "exit-code-on-error",
    "stop-timeout",
    "iterations",
    "request-timeout",
    "connect-timeout",
    "read-timeout",
    "max-redirects",
    "max-body-size",
    "user-agent",
    "insecure",
    "cacert",
    "cert",
    "key",
    "proxy",
    "noproxy",
    "user-classes",
    "profile",
    "load-shape",
    "phases",
    "html",
    "report-json",
    "criteria",
    "cache-header",
    "cache-hit",
    "cache-miss",
    "instance-header",
    "expected-instances",
    "secret-headers",
    "web-host",
    "web-port",
    "autostart",
    "autoquit",
    "web-base-path",
    "web-auth",
    "web-auth-file",
    "web-allowed-hosts",
    "web-cors",
    "worker",
    "master-host",
    "master-port",
    "master",
    "master-bind-host",
    "master-bind-port",
    "expect-workers",
    "expect-workers-max-wait",
];

/// Fills unset fields of `cli` from config entries (earlier sources already won).
pub fn apply_entries(cli: &mut Cli, entries: &[ConfigEntry]) -> Result<(), SettingsError> {
    for entry in entries {
        apply_entry(cli, entry)?;
    }
    Ok(())
}

fn apply_entry(cli: &mut Cli, entry: &ConfigEntry) -> Result<(), SettingsError> {
    let key = entry.key.as_str();
    let bad = |message: String| SettingsError::BadValue {
        origin: entry.origin.clone(),
        key: key.to_string(),
        message,
    };
    let text = || match &entry.value {
        ConfigValue::Text(t) => Ok(t.clone()),
        ConfigValue::List(_) => Err(bad("expected a single value, not a list".into())),
    };
    let list = || match &entry.value {
        ConfigValue::Text(t) if t.starts_with('[') => file::parse_list(t),
        ConfigValue::Text(t) => vec![t.clone()],
        ConfigValue::List(l) => l.clone(),
    };
    let boolean = || -> Result<bool, SettingsError> { parse_bool(&text()?).map_err(bad) };
    match key {
        "locustfile" => fill(&mut cli.locustfile, || Ok(list().join(",")))?,
        "host" => fill(&mut cli.host, text)?,
        "users" => fill(&mut cli.users, || {
            cli::parse_config_users(&text()?).map_err(bad)
        })?,
        "spawn-rate" => fill(&mut cli.spawn_rate, || {
            cli::parse_spawn_rate(&text()?).map_err(bad)
        })?,
        "arrival-rate" => fill(&mut cli.arrival_rate, || {
            cli::parse_spawn_rate(&text()?).map_err(bad)
        })?,
        "max-pool" => fill(&mut cli.max_pool, || {
            cli::parse_max_pool(&text()?).map_err(bad)
        })?,
        "run-time" => fill(&mut cli.run_time, || {
            timespan::parse_arg(&text()?).map_err(bad)
        })?,
        "stop-timeout" => fill(&mut cli.stop_timeout, || {
            timespan::parse_arg(&text()?).map_err(bad)
        })?,
        "request-timeout" => fill(&mut cli.request_timeout, || {
            cli::parse_spawn_rate(&text()?).map_err(bad)
        })?,
        "connect-timeout" => fill(&mut cli.connect_timeout, || {
            cli::parse_positive_f64(&text()?).map_err(bad)
        })?,
        "read-timeout" => fill(&mut cli.read_timeout, || {
            cli::parse_positive_f64(&text()?).map_err(bad)
        })?,
        "max-redirects" => fill(&mut cli.max_redirects, || {
            text()?
                .parse()
                .map_err(|_| bad("expected a whole number".into()))
        })?,
        "max-body-size" => fill(&mut cli.max_body_size, || {
            cli::parse_size(&text()?).map_err(bad)
        })?,
        "user-agent" => fill(&mut cli.user_agent, text)?,
        "insecure" => cli.insecure |= boolean()?,
        "cacert" => fill(&mut cli.cacert, text)?,
        "cert" => fill(&mut cli.cert, text)?,
        "key" => fill(&mut cli.key, text)?,
        "proxy" => fill(&mut cli.proxy, text)?,
        "noproxy" => fill(&mut cli.noproxy, || Ok(list().join(",")))?,
        "iterations" => fill(&mut cli.iterations, || {
            text()?
                .parse()
                .map_err(|_| bad("expected a whole number".into()))
        })?,
        "exit-code-on-error" => fill(&mut cli.exit_code_on_error, || {
            text()?
                .parse()
                .map_err(|_| bad("expected an integer".into()))
        })?,
        "tags" => fill(&mut cli.tags, || Ok(list()))?,
        "exclude-tags" => fill(&mut cli.exclude_tags, || Ok(list()))?,
        // Merged by key: a higher source's KEY wins, the file adds the keys it lacks.
        "var" => {
            for item in list() {
                let (k, v) = cli::parse_var(&item).map_err(bad)?;
                if !cli.var.iter().any(|(known, _)| *known == k) {
                    cli.var.push((k, v));
                }
            }
        }
        "csv" => fill(&mut cli.csv, text)?,
        "json-file" => fill(&mut cli.json_file, text)?,
        "loglevel" => fill(&mut cli.loglevel, text)?,
        "logfile" => fill(&mut cli.logfile, text)?,
        "profile" => fill(&mut cli.profile, text)?,
        "html" => fill(&mut cli.html, text)?,
        "report-json" => fill(&mut cli.report_json, text)?,
        "cache-header" => fill(&mut cli.cache_header, || header_name(text()?).map_err(bad))?,
        "instance-header" => fill(&mut cli.instance_header, || {
            header_name(text()?).map_err(bad)
        })?,
        "cache-hit" => fill(&mut cli.cache_hit, || Ok(list()))?,
        "cache-miss" => fill(&mut cli.cache_miss, || Ok(list()))?,
        "secret-headers" => fill(&mut cli.secret_header, || {
            list()
                .into_iter()
                .map(header_name)
                .collect::<Result<_, _>>()
                .map_err(bad)
        })?,
        "expected-instances" => fill(&mut cli.expected_instances, || {
            text()?
                .parse()
                .map_err(|_| bad("expected a whole number of instances".into()))
        })?,
        "load-shape" | "phases" => {
            return Err(bad(format!(
                "`{key}` belongs in a [profiles.NAME] table, not in [tool.locust] or --config"
            )))
        }
        "user-classes" => {
            if cli.user_classes.is_empty() {
                cli.user_classes = list();
            }
        }
        "web-host" => fill(&mut cli.web_host, text)?,
        "web-port" => fill(&mut cli.web_port, || {
            text()?
                .parse()
                .map_err(|_| bad("expected a port number (0..65535)".into()))
        })?,
        "autoquit" => fill(&mut cli.autoquit, || {
            text()?
                .parse()
                .map_err(|_| bad("expected a whole number of seconds".into()))
        })?,
        "web-base-path" => fill(&mut cli.web_base_path, text)?,
        "web-auth" => fill(&mut cli.web_auth, text)?,
        "web-auth-file" => fill(&mut cli.web_auth_file, text)?,
        "web-allowed-hosts" => fill(&mut cli.web_allowed_hosts, || Ok(list().join(",")))?,
        "web-cors" => fill(&mut cli.web_cors, || Ok(list().join(",")))?,
        "worker" => cli.worker |= boolean()?,
        "master" => cli.master |= boolean()?,
        "master-host" => fill(&mut cli.master_host, text)?,
        "master-bind-host" => fill(&mut cli.master_bind_host, text)?,
        "master-port" | "master-bind-port" => {
            let port = text()?
                .parse()
                .map_err(|_| bad("expected a port number (0..65535)".into()))?;
            let slot = if key == "master-port" {
                &mut cli.master_port
            } else {
                &mut cli.master_bind_port
            };
            fill(slot, || Ok(port))?;
        }
        "expect-workers" | "expect-workers-max-wait" => {
            let n = text()?
                .parse()
                .map_err(|_| bad("expected a whole number".into()))?;
            let slot = if key == "expect-workers" {
                &mut cli.expect_workers
            } else {
                &mut cli.expect_workers_max_wait
            };
            fill(slot, || Ok(n))?;
        }
        "autostart" => cli.autostart |= boolean()?,
        "headless" => cli.headless |= boolean()?,
        "headful" => cli.headful |= boolean()?,
        "csv-full-history" => cli.csv_full_history |= boolean()?,
        "print-stats" => cli.print_stats |= boolean()?,
        "only-summary" => cli.only_summary |= boolean()?,
        "reset-stats" => cli.reset_stats |= boolean()?,
        "json" => cli.json |= boolean()?,
        _ => {
            let hint = locust_scenario::closest(key, KNOWN_KEYS.iter().copied())
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            return Err(SettingsError::UnknownKey {
                origin: entry.origin.clone(),
                key: key.to_string(),
                hint,
            });
        }
    }
    Ok(())
}

fn fill<T>(
    slot: &mut Option<T>,
    value: impl FnOnce() -> Result<T, SettingsError>,
) -> Result<(), SettingsError> {
    if slot.is_none() {
        *slot = Some(value()?);
    }
    Ok(())
}

/// Locust's boolean rule for config files and env vars.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!(
            "Unexpected value '{text}'. Expecting 'true', 'false', 'yes', 'no', 'on', 'off', '1' or '0'"
        )),
    }
}

/// `LOCUST_TAGS="[a, b]"` style: a single bracketed element becomes a list.
pub(crate) fn normalize_list(values: Option<Vec<String>>) -> Option<Vec<String>> {
    let values = values?;
    let values = match values.as_slice() {
        [single] if single.trim_start().starts_with('[') => file::parse_list(single),
        _ => values,
    };
    let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
    (!values.is_empty()).then_some(values)
}
