//! Locust's output formats, byte for byte: console tables, the four CSV files, the
//! `--json` array and the stats message of the master/worker protocol (`wire`). Formatting only: nothing here aggregates or reads the clock.

pub mod console;
pub mod csv;
pub mod json;
pub mod wire;
pub mod wire_exact;
pub mod wire_read;
