//! Exit codes, documented in one place (this text is also `--help`'s epilogue).
//! Locust's codes are kept: 0 clean, `--exit-code-on-error` (1) on failures, 2 for bad
//! arguments, 1 for a missing scenario file or an unknown user class.

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    the run finished and no request failed
  1    requests failed (the value of --exit-code-on-error); also: scenario file
       missing, unknown user class, no user class found (as Locust)
  2    bad command line, config file or environment value (as Locust)
  4    ./load_test.sh and scripts/health.sh: the target is not reachable at start";

/// A clean run.
pub const OK: i32 = 0;
/// Missing scenario file, unknown user class, invalid scenario: Locust uses 1.
pub const SCENARIO_ERROR: i32 = 1;
/// Bad arguments or config values: argparse's 2.
pub const USAGE_ERROR: i32 = 2;
