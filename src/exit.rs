//! Exit codes, documented in one place (this text is also `--help`'s epilogue, and the
//! README's table copies it). Locust's codes are kept: 0 clean, `--exit-code-on-error`
//! (1) on failures, 2 for bad arguments, 1 for a missing scenario file or an unknown
//! user class; locust-rs adds 3 (criteria failed) and 4 (target unreachable at start).

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    the run finished and every success criterion passed; without criteria:
       no request failed
  1    without criteria: requests failed (the value of --exit-code-on-error, as
       Locust); also: scenario file missing or invalid, unknown user class
  2    bad command line, config file, environment value or criterion (nothing ran)
  3    one or more success criteria failed, or an \"... abort\" criterion stopped
       the run early (request failures are then judged only by the criteria,
       e.g. \"error_rate < 1%\")
  4    the target was not reachable at start (TCP connect refused, name not
       resolved, or no answer): no user was started";

/// A clean run.
pub const OK: i32 = 0;
/// Missing scenario file, unknown user class, invalid scenario: Locust uses 1.
pub const SCENARIO_ERROR: i32 = 1;
/// Bad arguments or config values: argparse's 2.
pub const USAGE_ERROR: i32 = 2;
/// At least one success criterion failed.
pub const CRITERIA_FAILED: i32 = 3;
/// The target did not accept a TCP connection before the run.
pub const UNREACHABLE: i32 = 4;

/// The exit code of a finished run: criteria decide when there are any (`Some(all
/// passed)`); otherwise Locust's rule (failures or exceptions → `--exit-code-on-error`).
pub fn decide(criteria_passed: Option<bool>, had_failures: bool, exit_code_on_error: i32) -> i32 {
    match criteria_passed {
        Some(true) => OK,
        Some(false) => CRITERIA_FAILED,
        None if had_failures => exit_code_on_error,
        None => OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_decide_when_present() {
        assert_eq!(decide(Some(true), true, 1), OK);
        assert_eq!(decide(Some(false), false, 1), CRITERIA_FAILED);
        assert_eq!(decide(None, true, 7), 7);
        assert_eq!(decide(None, false, 7), OK);
    }
}
