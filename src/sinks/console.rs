//! Where Locust's console output goes: the periodic and final stats tables (stderr, as
//! Locust's `locust.stats_logger` writes them), `--json` to stdout and `--json-file`.
//! Formatting itself lives in `locust_stats::report`; this module only routes it.

use std::io::{IsTerminal, Write};

use locust_stats::report::{console, json};
use locust_stats::{Rates, Stats};

use crate::config::{OutputSettings, Settings};

#[derive(Clone)]
pub struct Console {
    name_width: usize,
    /// False with `--only-summary`, and in UI mode unless `--print-stats`: Locust then
    /// prints no periodic table at all.
    periodic: bool,
}

/// Locust's STATS_NAME_WIDTH: 80 off a terminal, else `clamp(columns - 80, 0, 80)`.
fn stats_name_width() -> usize {
    if !std::io::stdout().is_terminal() {
        return 80;
    }
    match terminal_size::terminal_size() {
        Some((terminal_size::Width(columns), _)) => {
            console::name_width_for_terminal(usize::from(columns))
        }
        None => 80,
    }
}

impl Console {
    pub fn new(settings: &Settings) -> Self {
        Console {
            name_width: stats_name_width(),
            periodic: if settings.headless {
                !settings.output.only_summary
            } else {
                settings.output.print_stats
            },
        }
    }

    /// The width of the name column of the tables.
    pub fn name_width(&self) -> usize {
        self.name_width
    }

    /// The periodic table with current rates, then an empty line; nothing with
    /// `--only-summary` (Locust starts no stats printer then, only the final summary).
    pub fn periodic(&self, stats: &Stats) {
        if !self.periodic {
            return;
        }
        let table = console::stats_table(stats, Rates::Current, self.name_width);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{table}");
    }

    /// Final output: `--json` to stdout, or `--json-file`, then the summary tables.
    pub fn final_summary(&self, stats: &Stats, output: &OutputSettings) -> std::io::Result<()> {
        if let Some(path) = &output.json_file {
            let path = format!("{path}.json");
            if let Some(parent) = std::path::Path::new(&path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, json::entries_json(stats))?;
            return Ok(());
        }
        if output.json {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", json::entries_json(stats))?;
        }
        let mut err = std::io::stderr().lock();
        write!(err, "{}", console::final_summary(stats, self.name_width))?;
        Ok(())
    }
}
