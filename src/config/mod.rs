//! One validated `Settings` from every source, in Locust's precedence:
//! command line > `LOCUST_*` env > `--config` file > `locust.toml` profile >
//! `locust.toml` `[tool.locust]` > defaults. Each lower source only fills what is unset.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod arrival;
pub mod cli;
pub mod cli_errors;
pub mod distributed;
pub mod file;
#[cfg(test)]
mod fuzz_tests;
pub mod http;
pub mod keys;
pub mod labels;
pub mod spec;
pub mod stages;
pub mod timespan;
pub mod web;

pub use spec::{OutputSettings, RunSpec};

use crate::config::cli::Cli;
use crate::config::file::{ConfigEntry, ConfigValue, Origin, ProjectConfig};
use crate::config::labels::{label_settings, take_criteria, LabelSettings};
use crate::criteria;

pub(crate) use crate::config::keys::{apply_entries, normalize_list};

/// The project file read from the working directory.
pub const PROJECT_FILE: &str = "locust.toml";
/// Where scenarios are looked for when nothing names them.
pub const DEFAULT_LOCUSTFILE: &str = "scenarios";

/// Everything a run needs from the user, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What the load needs (a session starts from it).
    pub spec: RunSpec,
    /// Where the figures go.
    pub output: OutputSettings,
    pub locustfiles: Vec<PathBuf>,
    pub headless: bool,
    pub tags: Option<Vec<String>>,
    pub exclude_tags: Option<Vec<String>>,
    /// `--var KEY=VALUE` and `var = [...]`: what templates read as `vars.KEY`.
    pub vars: std::collections::BTreeMap<String, String>,
    pub loglevel: String,
    pub logfile: Option<String>,
    pub exit_code_on_error: i32,
    pub profile: Option<String>,
    pub profile_description: Option<String>,
    pub user_classes: Vec<String>,
    pub list: bool,
    pub show_task_ratio: bool,
    pub show_task_ratio_json: bool,
    pub demo: bool,
    /// A profile's legacy `load-shape` key (refused with a pointer to stages and phases).
    pub load_shape: Option<(String, Origin)>,
    /// -u or -r came from the command line or environment (ignored beside stages).
    pub users_on_command_line: bool,
    /// A profile's `phases` (e.g. `all`): the profiles to run in sequence, validated.
    pub phases: Option<Vec<String>>,
    /// Success criteria as written, from the highest source that has any.
    pub criteria: Vec<criteria::Source>,
    pub labels: LabelSettings,
    pub web: crate::config::web::WebSettings,
    /// Standalone, a worker of a master, or a master of workers.
    pub role: distributed::Role,
}

/// The command line as typed, quoted where needed, for the report.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    File(#[from] file::ConfigError),
    #[error("{origin}: unknown key `{key}`{hint}")]
    UnknownKey {
        origin: Origin,
        key: String,
        hint: String,
    },
    #[error("{origin}: key `{key}`: {message}")]
    BadValue {
        origin: Origin,
        key: String,
        message: String,
    },
    #[error("--profile {name}: no such profile in {file}{known}")]
    UnknownProfile {
        name: String,
        file: String,
        known: String,
    },
    #[error("argument -H/--host: '{0}' is not a base URL: it must start with http:// or https://")]
    BadHost(String),
    #[error("'--csv-full-history' requires '--csv'.")]
    FullHistoryWithoutCsv,
    #[error("argument --loglevel: '{0}' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")]
    BadLogLevel(String),
    #[error("argument {flag}: {message}")]
    BadFlag { flag: String, message: String },
    /// A TLS file or proxy URL that cannot be used; the text names the flag or variable.
    #[error("{0}")]
    Http(String),
}

impl SettingsError {
    /// Locust exits 2 for argument errors; config-file errors are argument errors too.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// Reads the project file (if present) and the `--config` file, then resolves.
pub fn resolve(mut cli: Cli, project_dir: &Path) -> Result<Settings, SettingsError> {
    let mut load_shape = None;
    let mut stages = None;
    let mut arrival_stages = None;
    let mut phases = None;
    let users_on_command_line = cli.users.is_some() || cli.spawn_rate.is_some();
    let project_path = project_dir.join(PROJECT_FILE);
    let mut project = if project_path.is_file() {
        refuse_loose_options(file::read_project_toml(&project_path)?)?
    } else {
        ProjectConfig::default()
    };
    // Where profiles were looked for, for the message when one is not found.
    let mut profile_files: Vec<String> = Vec::new();
    if project_path.is_file() {
        profile_files.push(project_path.display().to_string());
    }
    // Criteria lists do not merge: the highest source that sets `criteria` wins.
    let mut criteria_sources: Vec<Option<Vec<criteria::Source>>> =
        vec![(!cli.criterion.is_empty()).then(|| {
            cli.criterion
                .iter()
                .enumerate()
                .map(|(i, text)| criteria::Source {
                    text: text.clone(),
                    origin: "--criterion".into(),
                    key: format!("criteria[{i}]"),
                })
                .collect()
        })];
    if let Some(path) = cli.config.clone() {
        let path = Path::new(&path);
        let mut entries = if path.extension().is_some_and(|e| e == "toml") {
            // A TOML --config may hold profiles too; its own win over locust.toml's.
            let config = refuse_loose_options(file::read_project_toml(path)?)?;
            project.profiles.extend(config.profiles);
            profile_files.insert(0, format!("--config {}", path.display()));
            config.base
        } else {
            file::read_config_file(path)?
        };
        criteria_sources.push(take_criteria(&mut entries));
        apply_entries(&mut cli, &entries)?;
    }
    let mut profile_description = None;
    if let Some(name) = cli.profile.clone() {
        let profile = project.profiles.get(&name).ok_or_else(|| {
            let mut known: Vec<&str> = project.profiles.keys().map(String::as_str).collect();
            known.sort_unstable();
            SettingsError::UnknownProfile {
                name: name.clone(),
                file: if profile_files.is_empty() {
                    format!(
                        "{} (there is none) or a --config TOML file",
                        project_path.display()
                    )
                } else {
                    profile_files.join(" or ")
                },
                known: if known.is_empty() {
                    " (it defines no [profiles.*] tables)".into()
                } else {
                    format!(" (known profiles: {})", known.join(", "))
                },
            }
        })?;
        profile_description = profile.description.clone();
        if !profile.stages.is_empty() {
            stages = Some(crate::config::stages::parse(&name, &profile.stages)?);
        }
        if !profile.arrival.is_empty() {
            arrival_stages = Some(crate::config::arrival::parse_stages(
                &name,
                &profile.arrival,
            )?);
        }
        let (shapes, mut options): (Vec<ConfigEntry>, Vec<ConfigEntry>) = profile
            .entries
            .iter()
            .cloned()
            .partition(|e| e.key == "load-shape");
        if let Some(index) = options.iter().position(|e| e.key == "phases") {
            let entry = options.remove(index);
            phases = Some(crate::config::stages::phases(&project, &entry)?);
        }
        criteria_sources.push(take_criteria(&mut options));
        load_shape = shapes.into_iter().next().map(|e| {
            let name = match e.value {
                ConfigValue::Text(t) => t,
                ConfigValue::List(l) => l.join(","),
            };
            (name, e.origin)
        });
        apply_entries(&mut cli, &options)?;
    }
    let mut base = project.base.clone();
    criteria_sources.push(take_criteria(&mut base));
    apply_entries(&mut cli, &base)?;
    let arrival = crate::config::arrival::from_cli(&cli, arrival_stages)?;
    let mut settings = finish(cli, profile_description)?;
    if arrival.is_some() && stages.is_some() {
        return Err(SettingsError::BadFlag {
            flag: "--arrival-rate".into(),
            message: "the open model cannot be combined with the profile's user stages \
                      ([[profiles.NAME.stages]]); use [[profiles.NAME.arrival]] stages"
                .into(),
        });
    }
    settings.spec.arrival = arrival;
    settings.load_shape = load_shape;
    if let Some(stages) = &stages {
        // The report and `{u}`/`{r}` in file names show the shape's peak.
        settings.spec.users = stages.iter().map(|s| s.users).max().unwrap_or(0);
        settings.spec.spawn_rate = stages.iter().map(|s| s.spawn_rate).fold(0.0, f64::max);
    }
    settings.spec.stages = stages;
    settings.phases = phases;
    settings.users_on_command_line = users_on_command_line;
    settings.criteria = criteria_sources
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    Ok(settings)
}

/// A TOML config file whose options sit at the top level (`criteria = [...]` above any
/// table) would otherwise be ignored without a word, as Locust ignores them.
fn refuse_loose_options(config: ProjectConfig) -> Result<ProjectConfig, file::ConfigError> {
    match (config.loose.iter()).find(|(key, _)| keys::KNOWN_KEYS.contains(&key.as_str())) {
        Some((key, origin)) => Err(file::ConfigError::Value {
            origin: origin.clone(),
            key: key.clone(),
            message: "an option at the top level of a TOML file is not read: put it under \
                      [tool.locust] (or under a [profiles.NAME] table)"
                .into(),
        }),
        None => Ok(config),
    }
}

fn finish(cli: Cli, profile_description: Option<String>) -> Result<Settings, SettingsError> {
    if let Some(host) = &cli.host {
        if !(host.starts_with("http://") || host.starts_with("https://")) {
            return Err(SettingsError::BadHost(host.clone()));
        }
    }
    if cli.csv_full_history && cli.csv.is_none() {
        return Err(SettingsError::FullHistoryWithoutCsv);
    }
    let loglevel = cli.loglevel.clone().unwrap_or_else(|| "INFO".into());
    let loglevel = loglevel.to_ascii_uppercase();
    if !["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"].contains(&loglevel.as_str()) {
        return Err(SettingsError::BadLogLevel(loglevel));
    }
    let labels = label_settings(&cli)?;
    let web = crate::config::web::from_cli(&cli)?;
    let role = distributed::from_cli(&cli)?;
    let http = crate::config::http::from_cli(&cli, |k| std::env::var(k).ok())?;
    let locustfile = cli
        .locustfile
        .clone()
        .unwrap_or_else(|| DEFAULT_LOCUSTFILE.into());
    let locustfiles = locustfile
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    let user_classes = cli
        .user_classes
        .iter()
        .flat_map(|c| c.split_whitespace())
        .map(String::from)
        .collect();
    let spec = RunSpec {
        host: cli.host.map(|h| h.trim_end_matches('/').to_string()),
        users: cli.users.unwrap_or(1),
        spawn_rate: cli.spawn_rate.unwrap_or(1.0),
        stages: None,
        arrival: None,
        run_time: cli.run_time.filter(|s| *s > 0).map(Duration::from_secs),
        stop_timeout: Duration::from_secs(cli.stop_timeout.unwrap_or(0)),
        iterations: cli.iterations.filter(|n| *n > 0),
        reset_stats: cli.reset_stats,
        http,
        label_headers: [labels.cache_header.clone(), labels.instance_header.clone()],
    };
    let output = OutputSettings {
        csv_prefix: cli.csv,
        csv_full_history: cli.csv_full_history,
        only_summary: cli.only_summary,
        print_stats: cli.print_stats,
        json: cli.json,
        json_file: cli.json_file,
        html: cli.html,
        report_json: cli.report_json,
    };
    Ok(Settings {
        spec,
        output,
        locustfiles,
        headless: cli.headless && !cli.headful,
        tags: normalize_list(cli.tags),
        exclude_tags: normalize_list(cli.exclude_tags),
        // The last of a repeated --var KEY wins.
        vars: cli.var.into_iter().collect(),
        loglevel,
        logfile: cli.logfile,
        exit_code_on_error: cli.exit_code_on_error.unwrap_or(1),
        profile: cli.profile,
        profile_description,
        user_classes,
        list: cli.list,
        show_task_ratio: cli.show_task_ratio,
        show_task_ratio_json: cli.show_task_ratio_json,
        demo: cli.demo,
        load_shape: None,
        users_on_command_line: false,
        phases: None,
        criteria: Vec::new(),
        web,
        role,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn project(dir: &Path, text: &str) {
        std::fs::write(dir.join(PROJECT_FILE), text).unwrap();
    }

    const PROJECT: &str = "[tool.locust]\nhost = \"http://localhost:8080\"\nusers = 2\nheadless = true\n\n[profiles.basic]\ndescription = \"quick\"\nusers = 10\nspawn-rate = 2\nrun-time = \"60s\"\n";

    #[test]
    fn profile_beats_tool_locust_and_cli_beats_profile() {
        let dir = tempfile::tempdir().unwrap();
        project(dir.path(), PROJECT);
        let cli = Cli::try_parse_from(["x", "--profile", "basic", "-u", "4"]).unwrap();
        let s = resolve(cli, dir.path()).unwrap();
        assert_eq!(s.spec.users, 4);
        assert_eq!(s.spec.spawn_rate, 2.0);
        assert_eq!(s.spec.run_time, Some(Duration::from_secs(60)));
        assert_eq!(s.spec.host.as_deref(), Some("http://localhost:8080"));
        assert!(s.headless);
        assert_eq!(s.profile_description.as_deref(), Some("quick"));
    }

    #[test]
    fn config_file_beats_project_file() {
        let dir = tempfile::tempdir().unwrap();
        project(dir.path(), PROJECT);
        let conf = dir.path().join("extra.conf");
        std::fs::write(&conf, "users = 7\n").unwrap();
        let cli = Cli::try_parse_from(["x", "--config", conf.to_str().unwrap()]).unwrap();
        assert_eq!(resolve(cli, dir.path()).unwrap().spec.users, 7);
    }

    #[test]
    fn vars_merge_by_key_across_sources() {
        let dir = tempfile::tempdir().unwrap();
        project(
            dir.path(),
            "[tool.locust]\nvar = [\"A=tool\", \"B=tool\", \"C=tool\"]\n\n[profiles.p]\nvar = [\"B=profile\", \"C=profile\"]\n",
        );
        let cli = Cli::try_parse_from(["x", "--profile", "p", "--var", "C=cli"]).unwrap();
        let vars = resolve(cli, dir.path()).unwrap().vars;
        let got: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("A", "tool"), ("B", "profile"), ("C", "cli")]);
        project(dir.path(), "[tool.locust]\nvar = [\"nope\"]\n");
        let err = resolve(Cli::default(), dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("key `var`") && err.contains("not KEY=VALUE"),
            "{err}"
        );
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        project(dir.path(), PROJECT);
        let cli = Cli::try_parse_from(["x", "--profile", "basci"]).unwrap();
        let err = resolve(cli, dir.path()).unwrap_err().to_string();
        assert!(err.contains("no such profile"), "{err}");
        assert!(err.contains("known profiles: basic"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_line_and_suggests() {
        let dir = tempfile::tempdir().unwrap();
        project(
            dir.path(),
            "[tool.locust]\nhost = \"http://h\"\nspawn_rate = 3\n",
        );
        let err = resolve(Cli::default(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("locust.toml:3"), "{err}");
        assert!(err.contains("did you mean `spawn-rate`"), "{err}");
    }

    #[test]
    fn bad_values_in_files_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        project(dir.path(), "[tool.locust]\nusers = 0\n");
        let err = resolve(Cli::default(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("locust.toml:2: key `users`"), "{err}");
    }

    #[test]
    fn options_above_every_table_are_refused_other_keys_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        project(
            dir.path(),
            "name = \"mine\"\n# options\ncriteria = [\"avg < 1\"]\n",
        );
        let err = resolve(Cli::default(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("locust.toml:3: key `criteria`"), "{err}");
        assert!(err.contains("under [tool.locust]"), "{err}");
        // A key no option has is another tool's business, as in any pyproject file.
        project(dir.path(), "name = \"mine\"\n[tool.locust]\nusers = 2\n");
        assert!(resolve(Cli::default(), dir.path()).is_ok());
    }

    #[test]
    fn criteria_come_from_the_highest_source_and_labels_from_keys() {
        let dir = tempfile::tempdir().unwrap();
        project(
            dir.path(),
            "[tool.locust]\ncriteria = [\"avg < 1\"]\n\n[profiles.ci]\ncache-header = \"X-Served-From\"\ncache-hit = [\"redis\", \"memory\"]\nexpected-instances = 3\ncriteria = [\n  \"p95 < 500\",\n  \"error_rate < 1%\",\n]\n",
        );
        let base = resolve(Cli::default(), dir.path()).unwrap();
        assert_eq!(base.criteria[0].text, "avg < 1");
        let cli = Cli::try_parse_from(["x", "--profile", "ci"]).unwrap();
        let s = resolve(cli, dir.path()).unwrap();
        let texts: Vec<&str> = s.criteria.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["p95 < 500", "error_rate < 1%"]);
        assert!(
            s.criteria[1].origin.ends_with("locust.toml:10"),
            "{:?}",
            s.criteria[1]
        );
        assert_eq!(s.criteria[1].key, "criteria[1]");
        assert_eq!(s.labels.cache_header, "X-Served-From");
        assert_eq!(s.labels.cache_hit, ["redis", "memory"]);
        assert_eq!(s.labels.cache_miss, ["MISS"]);
        assert_eq!(s.labels.expected_instances, Some(3));
        let cli = Cli::try_parse_from(["x", "--profile", "ci", "--criterion", "rps > 1"]).unwrap();
        let s = resolve(cli, dir.path()).unwrap();
        assert_eq!(s.criteria.len(), 1);
        assert_eq!(s.criteria[0].origin, "--criterion");
    }

    #[test]
    fn host_needs_a_scheme() {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli::try_parse_from(["x", "-H", "localhost:8080"]).unwrap();
        assert!(matches!(
            resolve(cli, dir.path()),
            Err(SettingsError::BadHost(_))
        ));
    }

    #[test]
    fn bracketed_env_style_lists() {
        assert_eq!(
            normalize_list(Some(vec!["[a, b]".into()])),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            normalize_list(Some(vec!["p q".into()])),
            Some(vec!["p q".into()])
        );
    }
}
