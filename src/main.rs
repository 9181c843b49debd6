//! locust-rs: parse the command line, build one validated plan (scenarios, criteria),
//! check the target is reachable, run it, and map the outcome to the exit codes of
//! `exit.rs`. Every step is a named function below; errors are
//! printed once as `locust-rs: error: ...` without a backtrace.
//!
//! Memory comes from the system allocator: mimalloc (used until issue 12's soak) held
//! what a long run freed, in 2 MiB transparent-huge-page steps and, with those off, a
//! slow creep, while glibc's malloc stays flat (LOAD_TESTING.md, Soak).

mod app;
mod config;
mod convert_cmd;
mod criteria;
mod demo;
mod exit;
mod fd_limit;
mod judge;
mod log_buffer;
mod logging;
mod master;
mod outcome;
mod plan;
mod probe;
mod protocol;
mod report;
mod session;
mod signals;
mod sinks;
mod task_ratio;
mod web;
mod worker;

use std::process::ExitCode;

use clap::Parser;

use crate::config::cli::Cli;

fn main() -> ExitCode {
    // `locust-rs convert ...` is its own command (Locust reads positionals as class names).
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == "convert") {
        return ExitCode::from(u8::try_from(convert_cmd::run(args.collect())).unwrap_or(2));
    }
    let code = match Cli::try_parse() {
        Err(error) => config::cli_errors::report(error),
        Ok(cli) => match app::run(cli) {
            Ok(code) => code,
            Err(failure) => {
                if !failure.message.is_empty() {
                    eprintln!("locust-rs: error: {}", failure.message);
                }
                failure.code
            }
        },
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
