//! Template functions and load-time template checks through whole scenario files:
//! `--var`s as `vars.KEY`, `urlencode`, `env()` with a default, the clock functions and
//! `totp()`, and unknown filters, tests, functions and vars stopping the load.

use std::time::{SystemTime, UNIX_EPOCH};

use locust_scenario::{load_str_with, LoadOptions, ScenarioError, UserVars};
use rand::SeedableRng;

const LOGIN: &str = r#"
[users.A]
host = "http://localhost:8080"
[[users.A.tasks]]
name = "login"
[users.A.tasks.request]
method = "POST"
path = "/login?user={{ vars.USER | urlencode }}"
headers = { "X-Sent-At" = "{{ timestamp() }}", "X-Region" = "{{ vars.REGION | default('eu') }}" }
json = { code = "{{ totp(vars.SECRET) }}", day = "{{ date() }}", at = "{{ isoformat() }}", token = "{{ env('LOCUST_RS_SURELY_UNSET_VAR', 'none') }}" }
"#;

fn options(vars: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn err(text: &str, opts: &LoadOptions) -> String {
    match load_str_with("s.toml", text, opts) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

#[test]
fn a_2fa_login_renders_vars_clock_and_totp() {
    let opts = options(&[
        ("USER", "a b&c"),
        ("SECRET", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
    ]);
    let s = load_str_with("s.toml", LOGIN, &opts).unwrap();
    let step = s.classes[0].tasks[0].steps[0].as_request().unwrap();
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let r = step.render(&mut UserVars::new(0), &mut rng).unwrap();
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert_eq!(r.url, "/login?user=a%20b%26c");
    assert_eq!(r.headers["x-region"], "eu");
    let sent: u128 = r.headers["x-sent-at"].to_str().unwrap().parse().unwrap();
    assert!(before.as_millis() <= sent && sent <= after.as_millis());
    let body: serde_json::Value = serde_json::from_slice(&r.body.unwrap()).unwrap();
    let code = body["code"].as_str().unwrap();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    let day = body["day"].as_str().unwrap();
    assert!(regex::Regex::new(r"^\d{4}-\d{2}-\d{2}$")
        .unwrap()
        .is_match(day));
    let at = body["at"].as_str().unwrap();
    assert!(at.starts_with(day) || at > day, "{at} {day}");
    assert!(at.ends_with('Z') && at.len() == 24, "{at}");
    assert_eq!(body["token"], "none");
}

#[test]
fn missing_vars_stop_the_load_with_file_line_and_key() {
    let e = err(LOGIN, &options(&[("USER", "u"), ("SECRT", "x")]));
    assert!(
        e.starts_with(
            "s.toml:10:8: `users.A.tasks[0].request.json.code`: template error: `vars.SECRET` is not set (template line 1): give it with --var SECRET=VALUE"
        ),
        "{e}"
    );
    assert!(e.ends_with("did you mean `vars.SECRT`?"), "{e}");
    let e = err(LOGIN, &LoadOptions::default());
    assert!(e.contains("`vars.USER` is not set"), "{e}");
    assert!(e.ends_with("(no --var was given)"), "{e}");
}

#[test]
fn unknown_filters_tests_and_functions_stop_the_load() {
    let task = |path: &str| {
        format!("[users.A]\n[[users.A.tasks]]\nname = \"t\"\nrequest = {{ path = {path:?} }}\n")
    };
    let none = LoadOptions::default();
    assert_eq!(
        err(&task("/s?q={{ 'x' | urlencod }}"), &none),
        "s.toml:4:20: `users.A.tasks[0].request.path`: template error: unknown filter `urlencod` (template line 1); did you mean `urlencode`?"
    );
    let e = err(&task("/{% if 1 is od %}x{% endif %}"), &none);
    assert!(
        e.ends_with("unknown test `od` (template line 1); did you mean `odd`?"),
        "{e}"
    );
    let e = err(&task("/{{ timestap() }}"), &none);
    assert!(
        e.ends_with("unknown function `timestap()` (template line 1); did you mean `timestamp`?"),
        "{e}"
    );
    let e = err(&task("/{{ date('%Y-%Q') }}"), &none);
    assert!(e.contains("invalid strftime format"), "{e}");
    let e = err(&task("/{{ env('LOCUST_RS_SURELY_UNSET_VAR') }}"), &none);
    assert!(matches!(
        load_str_with(
            "s.toml",
            &task("/{{ env('LOCUST_RS_SURELY_UNSET_VAR') }}"),
            &none
        ),
        Err(ScenarioError::EnvVar { .. })
    ));
    assert!(e.contains("LOCUST_RS_SURELY_UNSET_VAR is not set"), "{e}");
}

#[test]
fn builtin_names_cannot_be_extracted_into() {
    for name in ["vars", "now", "totp"] {
        let text = format!(
            "[users.A]\n[[users.A.tasks]]\nname = \"t\"\nrequest = {{ path = \"/\", extract = [{{ var = \"{name}\", json = \"/x\" }}] }}\n"
        );
        let e = err(&text, &LoadOptions::default());
        assert!(e.contains("is a builtin"), "{name}: {e}");
    }
}
