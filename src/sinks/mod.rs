//! Where a run's figures go. Fed by a session (or, later, a master's merged worker
//! figures), never aggregating anything themselves: `Periodic` takes the figures every
//! second (the CSV files, the console table every two seconds); at the end `console`
//! prints the final tables and `--json`, `open_model` the corrected table, `report` the
//! verdict block and the HTML and JSON reports, `index` the index of `all`'s phases.

pub mod console;
pub mod index;
pub mod open_model;
pub mod report;

use locust_stats::report::csv::CsvWriter;
use locust_stats::Stats;

use crate::config::OutputSettings;
use crate::logging::MAIN;
use console::Console;

/// Locust's console table interval, in ticks of a second.
const CONSOLE_INTERVAL_TICKS: u64 = 2;

/// The outputs written while a run goes on.
pub struct Periodic {
    console: Console,
    csv: Option<CsvWriter>,
    ticks: u64,
}

impl Periodic {
    pub fn new(console: Console, csv: Option<CsvWriter>) -> Self {
        Periodic {
            console,
            csv,
            ticks: 0,
        }
    }

    /// One second of a run: the CSV rows, and every other second the console table.
    pub fn tick(&mut self, stats: &Stats, users: u64, now: f64) {
        self.ticks += 1;
        self.write_csv(stats, users, now);
        if self.ticks.is_multiple_of(CONSOLE_INTERVAL_TICKS) {
            self.console.periodic(stats);
        }
    }

    /// The last CSV rows, once the run has finished.
    pub fn finish(&mut self, stats: &Stats, users: u64, now: f64) {
        self.write_csv(stats, users, now);
    }

    fn write_csv(&mut self, stats: &Stats, users: u64, now: f64) {
        if let Some(writer) = self.csv.as_mut() {
            if let Err(e) = writer.write(stats, users, now) {
                tracing::error!(target: MAIN, "writing CSV files failed: {e}");
            }
        }
    }
}

/// `--csv`: the writer of the four files (created now, so a bad path fails early).
pub fn csv_writer(output: &OutputSettings, now: f64) -> anyhow::Result<Option<CsvWriter>> {
    output
        .csv_prefix
        .as_ref()
        .map(|prefix| {
            CsvWriter::create(prefix, output.csv_full_history, now)
                .map_err(|e| anyhow::anyhow!("--csv {prefix}: {e}"))
        })
        .transpose()
}
