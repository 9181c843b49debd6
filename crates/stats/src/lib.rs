//! Request statistics for locust-rs: recording, merging and Locust's formats.
//! (Crate root; the stats owner fills in the modules.)

pub mod pyrepr;
