//! The run modes the command line chooses between: a headless run, the web UI, and the
//! phases of `all`.

pub mod headless;
