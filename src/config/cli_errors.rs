//! Command-line errors in argparse's words, as Locust prints them:
//! `locust-rs: error: argument -t/--run-time: <reason>` and
//! `locust-rs: error: unrecognized arguments: X` (+ `Did you mean '--x'?`), exit 2.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use crate::config::cli::Cli;
use crate::exit;

/// Prints the error (or the help/version text clap produced) and returns the exit code.
pub fn report(error: clap::Error) -> i32 {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            exit::OK
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = context(&error, ContextKind::InvalidArg).unwrap_or_default();
            let reason = std::error::Error::source(&error)
                .map(|e| e.to_string())
                .or_else(|| {
                    context(&error, ContextKind::InvalidValue)
                        .map(|v| format!("invalid value: '{v}'"))
                })
                .unwrap_or_else(|| "invalid value".into());
            eprintln!("locust-rs: error: argument {}: {reason}", flag_names(&arg));
            exit::USAGE_ERROR
        }
        ErrorKind::UnknownArgument => {
            let arg = context(&error, ContextKind::InvalidArg).unwrap_or_default();
            eprintln!("locust-rs: error: unrecognized arguments: {arg}");
            if let Some(suggestion) = context(&error, ContextKind::SuggestedArg) {
                eprintln!("Did you mean '{suggestion}'?");
            }
            exit::USAGE_ERROR
        }
        _ => {
            let _ = error.print();
            exit::USAGE_ERROR
        }
    }
}

fn context(error: &clap::Error, kind: ContextKind) -> Option<String> {
    match error.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        other => Some(other.to_string()),
    }
}

/// `--run-time <TIME STRING>` -> `-t/--run-time`, argparse's way of naming an option.
fn flag_names(display: &str) -> String {
    let long = display.split_whitespace().next().unwrap_or(display);
    let command = Cli::command();
    let found = command
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long));
    match found {
        Some(arg) => match (arg.get_short(), arg.get_long()) {
            (Some(short), Some(long)) => format!("-{short}/--{long}"),
            (None, Some(long)) => format!("--{long}"),
            _ => long.to_string(),
        },
        None => display.trim_matches(['<', '>']).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn options_are_named_like_argparse() {
        assert_eq!(flag_names("--run-time <TIME STRING>"), "-t/--run-time");
        assert_eq!(flag_names("--csv-full-history"), "--csv-full-history");
    }

    #[test]
    fn validation_errors_carry_the_reason() {
        let error = Cli::try_parse_from(["x", "-t", "1x"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ValueValidation);
        assert_eq!(
            std::error::Error::source(&error).map(|e| e.to_string()),
            Some(crate::config::timespan::INVALID.to_string())
        );
    }
}
