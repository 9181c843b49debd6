//! Scenario pieces shared by the HTTP client's hardening tests (`tests/hostile_http*.rs`):
//! a user class whose one task sends given requests, and a one-user, one-iteration
//! headless run of it.

use super::headless::{run, Run};

/// For `-i 1` runs: the user asks for its next iteration at once and stops.
pub const NO_WAIT: &str = "constant(0)";

/// One user, one iteration of its task, then the run ends (bounded by 20 s anyway).
pub async fn run_once(scenario: &str, host: &str, extra: &[&str]) -> Run {
    let args = [&["-u", "1", "-r", "1", "-i", "1", "-t", "20s"][..], extra].concat();
    run(scenario, host, &args).await
}

/// A user class whose one task sends `requests` (each a block of `key = value` lines)
/// in order.
pub fn class(name: &str, wait: &str, requests: &[&str]) -> String {
    let mut out = format!(
        "[users.{name}]\nfixed_count = 1\nwait_time = \"{wait}\"\n\n[[users.{name}.tasks]]\nname = \"task\"\n"
    );
    for request in requests {
        out.push_str(&format!("[[users.{name}.tasks.requests]]\n{request}\n"));
    }
    out.push('\n');
    out
}
