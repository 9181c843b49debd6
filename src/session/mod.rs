//! The one test run every entry point uses.

pub mod open;
pub mod ticker;
