//! Every kind of bad input is reported before any request: a clear message, Locust's
//! exit code, and a demo target that saw nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

const GOOD: &str = r#"
[users.Reader]
wait_time = "constant(0)"

[[users.Reader.tasks]]
name = "health"
request = { method = "GET", path = "/health" }
"#;

/// Runs the binary with `args` (plus `-H` pointing at a fresh demo target) and returns
/// (exit code, stderr); asserts the target saw zero requests.
async fn rejected(files: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        write(dir.path(), name, body);
    }
    let server = demo().await;
    let url = server.base_url();
    let mut all = vec!["--headless", "-H", url.as_str()];
    all.extend_from_slice(args);
    let output = run_in(dir.path(), &all).await;
    assert_eq!(
        server.counters().total,
        0,
        "bad input must not send a request; stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    (output.status.code().unwrap_or(-1), stderr)
}

#[tokio::test]
async fn missing_scenario_file() {
    let (code, err) = rejected(&[], &["-f", "nope.toml"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Could not find 'nope.toml'"), "{err}");
}

#[tokio::test]
async fn toml_syntax_error_names_file_and_line() {
    let (code, err) = rejected(
        &[("s.toml", "[users.Reader]\nweight = = 1\n")],
        &["-f", "s.toml"],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("s.toml:2"), "{err}");
}

#[tokio::test]
async fn unknown_key_suggests_the_right_one() {
    let body = GOOD.replace("wait_time", "wait_tme");
    let (code, err) = rejected(&[("s.toml", &body)], &["-f", "s.toml"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("wait_tme"), "{err}");
    assert!(err.contains("wait_time"), "did you mean: {err}");
    assert!(err.contains("s.toml:"), "{err}");
}

#[tokio::test]
async fn variable_nothing_extracts() {
    let body = GOOD.replace("/health", "/users/{{ user_id_list | random }}");
    let (code, err) = rejected(&[("s.toml", &body)], &["-f", "s.toml"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("user_id_list"), "{err}");
}

#[tokio::test]
async fn template_that_does_not_compile() {
    let body = GOOD.replace("/health", "/users/{{ broken ");
    let (code, err) = rejected(&[("s.toml", &body)], &["-f", "s.toml"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("s.toml"), "{err}");
}

#[tokio::test]
async fn unknown_user_class() {
    let (code, err) = rejected(&[("s.toml", GOOD)], &["-f", "s.toml", "Raeder"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Unknown User(s): Raeder"), "{err}");
    assert!(err.contains("Reader"), "{err}");
}

#[tokio::test]
async fn bad_user_counts_and_rates() {
    for args in [
        ["-u", "0"],
        ["-u", "-3"],
        ["-u", "ten"],
        ["-r", "0"],
        ["-r", "-1"],
        ["-r", "fast"],
    ] {
        let mut all = vec!["-f", "s.toml"];
        all.extend_from_slice(&args);
        let (code, err) = rejected(&[("s.toml", GOOD)], &all).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        let flag = if args[0] == "-u" {
            "--users"
        } else {
            "--spawn-rate"
        };
        assert!(err.contains(flag), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn bad_run_time() {
    let (code, err) = rejected(&[("s.toml", GOOD)], &["-f", "s.toml", "-t", "1x"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("Invalid time span format"), "{err}");
}

#[tokio::test]
async fn host_without_scheme() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", GOOD);
    let server = demo().await;
    let hostport = server.base_url().replace("http://", "");
    let output = run_in(dir.path(), &["--headless", "-f", "s.toml", "-H", &hostport]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("http://"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(server.counters().total, 0);
}

#[tokio::test]
async fn unknown_profile_lists_the_known_ones() {
    let project = "[tool.locust]\nlocustfile = \"s.toml\"\n\n[profiles.basic]\nusers = 1\n\n[profiles.stress]\nusers = 2\n";
    let (code, err) = rejected(
        &[("s.toml", GOOD), ("locust.toml", project)],
        &["--profile", "stres"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("known profiles: basic, stress"), "{err}");
}

#[tokio::test]
async fn unknown_key_in_locust_toml() {
    let project = "[tool.locust]\nlocustfile = \"s.toml\"\nspawn_rate = 2\n";
    let (code, err) = rejected(&[("s.toml", GOOD), ("locust.toml", project)], &[]).await;
    assert_eq!(code, 2);
    assert!(err.contains("locust.toml:3"), "{err}");
    assert!(err.contains("spawn-rate"), "{err}");
}

#[tokio::test]
async fn a_phase_that_is_not_a_profile() {
    let project = "[profiles.basic]\nrun-time = \"1s\"\n\n[profiles.all]\nphases = [\n  \"basic\",\n  \"spkie\",\n]\n";
    let (code, err) = rejected(
        &[("s.toml", GOOD), ("locust.toml", project)],
        &["-f", "s.toml", "--profile", "all"],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("locust.toml:7: key `phases[1]`: no profile `spkie`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_legacy_load_shape_key_points_at_stages() {
    let project = "[profiles.spike]\nload-shape = \"spike\"\n";
    let (code, err) = rejected(
        &[("s.toml", GOOD), ("locust.toml", project)],
        &["-f", "s.toml", "--profile", "spike"],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("locust.toml:2"), "{err}");
    assert!(err.contains("[[profiles.NAME.stages]]"), "{err}");
}

#[tokio::test]
async fn bad_stages_are_rejected_before_any_request() {
    let stage = "[[profiles.p.stages]]\n";
    for (stages, expected) in [
        (
            format!("{stage}until = \"5s\"\nusers = 2\nspawn-rate = 1\n{stage}until = \"3s\"\nusers = 1\nspawn-rate = 1\n"),
            "locust.toml:7: key `profiles.p.stages[1].until`: stages must move forward in time",
        ),
        (
            format!("{stage}duration = \"5s\"\nusers = -1\nspawn-rate = 1\n"),
            "locust.toml:4: key `profiles.p.stages[0].users`: must not be negative",
        ),
        (
            format!("{stage}duration = \"5s\"\nusers = 1\nspawn-rate = 0\n"),
            "locust.toml:5: key `profiles.p.stages[0].spawn-rate`: must be a number > 0",
        ),
        (
            format!("{stage}duration = \"5s\"\nusers = 1\nspawn-rate = 1\nusres = 3\n"),
            "locust.toml:6: unknown key `profiles.p.stages[0].usres`",
        ),
    ] {
        let project = format!("[profiles.p]\n{stages}");
        let (code, err) = rejected(
            &[("s.toml", GOOD), ("locust.toml", &project)],
            &["-f", "s.toml", "--profile", "p"],
        )
        .await;
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(expected), "{expected:?} not in {err}");
    }
}

#[tokio::test]
async fn tags_that_leave_no_task() {
    let body = GOOD.replace(
        "name = \"health\"",
        "name = \"health\"\ntags = [\"health\"]",
    );
    let (code, err) = rejected(&[("s.toml", &body)], &["-f", "s.toml", "-T", "nope"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("no task is left after filtering"), "{err}");
    assert!(
        err.contains(
            "/WARNING/root: Reader had no tasks left after filtering, instantiating it will fail!"
        ),
        "{err}"
    );
    assert!(err.contains("health"), "{err}");
}

/// The keys of chains, metrics, barriers and cookies: each mistake names file, line,
/// column and key, with a did-you-mean, before any request.
#[tokio::test]
async fn mistakes_in_chains_metrics_barriers_and_cookies_name_their_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[users.A]\n[[users.A.tasks]]\nname = \"browse\"\nnext = { chekout = 1 }\nrequest = { path = \"/b\" }\n[[users.A.tasks]]\nname = \"checkout\"\nnext = { browse = 1 }\nrequest = { path = \"/c\" }\n",
            "s.toml:4:10: `users.A.tasks[0].next.chekout`: no task of class A is named `chekout`; did you mean `checkout`?",
        ),
        (
            "[users.A]\n[[users.A.tasks]]\nsteps = [{ barrier = \"spawnd\" }, { path = \"/\" }]\n",
            "s.toml:3:22: `users.A.tasks[0].steps[0].barrier`: unknown barrier \"spawnd\"; did you mean `spawned`?",
        ),
        (
            "[users.A]\n[[users.A.tasks]]\nsteps = [{ set_cookie = { name = \"a\", value = \"b\", domian = \"x.com\" } }, { path = \"/\" }]\n",
            "s.toml:3:52: `users.A.tasks[0].steps[0].set_cookie.domian`: unknown key `domian` in a set_cookie; did you mean `domain`?",
        ),
        (
            "[users.A]\n[[users.A.tasks]]\nsteps = [{ metric = \"m\", value = \"{{ dept }}\" }, { set = { depth = \"3\" } }]\n",
            "s.toml:3:34: `users.A.tasks[0].steps[0].value`: class A, task steps: template uses variable `dept`",
        ),
        (
            "[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", cookeis = { a = \"1\" } }\n",
            "s.toml:3:25: `users.A.tasks[0].request.cookeis`: unknown key `cookeis`; did you mean `cookies`?",
        ),
    ];
    for (scenario, expected) in cases {
        let (code, err) = rejected(&[("s.toml", scenario)], &["-f", "s.toml"]).await;
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "expected {expected}\n got {err}");
    }
}
