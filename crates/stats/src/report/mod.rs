//! Locust's output formats, byte for byte: console tables, the four CSV files and the
//! `--json` array. Formatting only: nothing here aggregates or reads the clock.

pub mod console;
pub mod csv;
pub mod json;
