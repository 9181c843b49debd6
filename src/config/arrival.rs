//! The open model's settings: `--arrival-rate R` (iterations/s, for `-t`) and
//! `--max-pool N` (users, i.e. iterations in flight), also the `arrival-rate` and
//! `max-pool` keys of a config file or profile, and a profile's ramping stages
//! `[[profiles.NAME.arrival]]` (`duration`, `target` iterations/s; the ramp starts at
//! `arrival-rate`, else 0). Checked before any request; errors name file, line and key.

use std::time::Duration;

use crate::config::cli::Cli;
use crate::config::file::StageTable;
use crate::config::stages;
use crate::config::timespan;
use crate::config::SettingsError;
use locust_engine::{Pool, RateStage, Schedule};

/// The pool size when only the rate is given.
pub const DEFAULT_MAX_POOL: u64 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// The peak rate (iterations/s).
    pub rate: f64,
    pub schedule: Schedule,
    pub pool: Pool,
}

/// None when the run uses the closed model (-u/-r).
pub fn from_cli(
    cli: &Cli,
    stages: Option<Vec<RateStage>>,
) -> Result<Option<Arrival>, SettingsError> {
    let schedule = match (stages, cli.arrival_rate) {
        (Some(stages), start) => {
            let start_rate = start.unwrap_or(0.0);
            Schedule::Ramping { start_rate, stages }
        }
        (None, Some(rate)) => {
            let Some(seconds) = cli.run_time.filter(|s| *s > 0) else {
                return Err(SettingsError::BadFlag {
                    flag: "--arrival-rate".into(),
                    message: "needs -t/--run-time: the schedule runs for the run time".into(),
                });
            };
            Schedule::Constant {
                rate,
                duration: Duration::from_secs(seconds),
            }
        }
        (None, None) if cli.max_pool.is_some() => {
            return Err(SettingsError::BadFlag {
                flag: "--max-pool".into(),
                message: "only applies with --arrival-rate (the open model)".into(),
            })
        }
        (None, None) => return Ok(None),
    };
    let rate = match &schedule {
        Schedule::Constant { rate, .. } => *rate,
        Schedule::Ramping { start_rate, stages } => {
            stages.iter().map(|s| s.target).fold(*start_rate, f64::max)
        }
    };
    let size = cli.max_pool.unwrap_or(DEFAULT_MAX_POOL);
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Some(Arrival {
        rate,
        schedule,
        // Starts wait for a free user while fewer than a pool's or a second's worth of
        // starts (at the peak rate) already wait; more are dropped.
        pool: Pool {
            size,
            backlog: size.max(rate.ceil() as usize),
        },
    }))
}

/// Validates and converts the `[[profiles.NAME.arrival]]` tables of `profile`.
pub fn parse_stages(profile: &str, tables: &[StageTable]) -> Result<Vec<RateStage>, SettingsError> {
    let mut stages = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        let here = format!("profiles.{profile}.arrival[{index}]");
        let mut duration = None;
        let mut target = None;
        for entry in &table.entries {
            let (key, text) = stages::entry_text(&here, entry, false)?;
            let bad = |message: String| stages::bad_value(entry, &key, message);
            match entry.key.as_str() {
                "duration" => {
                    let seconds = timespan::parse_arg(&text).map_err(bad)?;
                    if seconds == 0 {
                        return Err(bad("a stage must last longer than 0 s".into()));
                    }
                    duration = Some(Duration::from_secs(seconds));
                }
                "target" => target = Some(target_rate(&text).map_err(bad)?),
                other => {
                    return Err(SettingsError::UnknownKey {
                        origin: entry.origin.clone(),
                        key: key.clone(),
                        hint: format!(
                            " (an arrival stage takes duration and target, not `{other}`)"
                        ),
                    })
                }
            }
        }
        let missing = |what: &str| SettingsError::BadValue {
            origin: table.origin.clone(),
            key: here.clone(),
            message: format!("an arrival stage needs `{what}`"),
        };
        stages.push(RateStage {
            duration: duration.ok_or_else(|| missing("duration"))?,
            target: target.ok_or_else(|| missing("target"))?,
        });
    }
    Ok(stages)
}

fn target_rate(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of iterations per second, got '{text}'"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("must be a number >= 0 (got {text})"));
    }
    Ok(value)
}
