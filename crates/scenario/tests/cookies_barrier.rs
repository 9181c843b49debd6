//! `cookies = {...}` on a request (rendered into the request's own Cookie text, fixed
//! ones at load), the `set_cookie` step (rendered per user) and the `barrier` step, with
//! the mistakes each refuses at load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use locust_scenario::{load_str, Action, Barrier, CookieToSet, StepError, UserVars};
use rand::SeedableRng;

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

fn err(text: &str) -> String {
    match load_str("s.toml", text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

/// A class `A` with one task of these steps (each an inline table).
fn steps(steps: &[&str]) -> String {
    format!(
        "[users.A]\n[[users.A.tasks]]\nname = \"t\"\nsteps = [\n{}\n]\n",
        steps
            .iter()
            .map(|s| format!("  {{ {s} }},"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn request_cookies_are_rendered_in_written_order() {
    let s = load_str(
        "s.toml",
        &steps(&[
            r#"path = "/fixed", cookies = { b = "2", a = "1" }"#,
            r#"set = { sid = "s-{{ user_id }}" }"#,
            r#"path = "/templated", cookies = { session = "{{ sid }}", lang = "en" }"#,
            r#"path = "/none""#,
        ]),
    )
    .unwrap();
    let requests = s.classes[0].requests();
    let mut vars = UserVars::new(4);
    let fixed = requests[0].render(&mut vars, &mut rng()).unwrap();
    assert_eq!(fixed.cookies.as_deref(), Some("b=2; a=1"));
    // The step that reads `sid` waits for it, as any templated request does.
    assert!(matches!(
        requests[1].render(&mut vars, &mut rng()),
        Err(StepError::MissingVariable { .. })
    ));
    vars.set("sid", "s-4");
    let templated = requests[1].render(&mut vars, &mut rng()).unwrap();
    assert_eq!(templated.cookies.as_deref(), Some("session=s-4; lang=en"));
    let none = requests[2].render(&mut vars, &mut rng()).unwrap();
    assert_eq!(none.cookies, None);
}

#[test]
fn a_rendered_cookie_value_that_would_break_the_header_is_a_step_error() {
    let s = load_str(
        "s.toml",
        &steps(&[
            r#"set = { v = "a;b" }"#,
            r#"path = "/x", cookies = { c = "{{ v }}" }"#,
        ]),
    )
    .unwrap();
    let mut vars = UserVars::new(0);
    vars.set("v", "a; admin=1");
    let error = s.classes[0].requests()[0]
        .render(&mut vars, &mut rng())
        .unwrap_err();
    assert!(
        matches!(&error, StepError::Invalid { message, .. } if message.contains("cookie c")),
        "{error}"
    );
}

fn set_cookie_of(text: &str) -> locust_scenario::SetCookie {
    let s = load_str("s.toml", text).unwrap();
    let on_start = s.classes[0].on_start.clone();
    match on_start.into_iter().next() {
        Some(Action::SetCookie(set)) => *set,
        other => panic!("not a set_cookie step: {other:?}"),
    }
}

#[test]
fn set_cookie_renders_per_user_with_its_defaults() {
    let set = set_cookie_of(
        r#"
[users.A]
on_start = [{ set_cookie = { name = "consent", value = "yes-{{ user_id }}" } }]
[[users.A.tasks]]
name = "t"
request = { path = "/" }
"#,
    );
    assert_eq!(
        set.render(&mut UserVars::new(3), &mut rng()).unwrap(),
        CookieToSet {
            name: "consent".into(),
            value: "yes-3".into(),
            domain: None,
            path: "/".into(),
        }
    );
    let scoped = set_cookie_of(
        r#"
[users.A]
on_start = [{ set_cookie = { name = "c", value = "1", domain = ".Example.com", path = "/api" } }]
[[users.A.tasks]]
name = "t"
request = { path = "/" }
"#,
    );
    let cookie = scoped.render(&mut UserVars::new(0), &mut rng()).unwrap();
    assert_eq!(
        (cookie.domain.as_deref(), cookie.path.as_str()),
        (Some("example.com"), "/api")
    );
}

#[test]
fn cookie_mistakes_are_found_at_load() {
    let e = err(&steps(&[r#"path = "/", cookies = { "bad name" = "1" }"#]));
    assert!(
        e.contains("users.A.tasks[0].steps[0].cookies.bad name"),
        "{e}"
    );
    assert!(e.contains("cannot hold"), "{e}");
    let e = err(&steps(&[r#"path = "/", cookies = { a = "x;y" }"#]));
    assert!(e.contains("would break the Cookie header"), "{e}");
    // An unknown key inside the inline table: at itself, with its whole path.
    let e = err(&steps(&[
        r#"set_cookie = { name = "a", value = "1", domian = "x" }"#,
    ]));
    assert_eq!(
        e,
        "s.toml:5:45: `users.A.tasks[0].steps[0].set_cookie.domian`: unknown key `domian` in a set_cookie; did you mean `domain`? (expected one of: name, value, domain, path)"
    );
    let e = err(&steps(&[r#"set_cookie = { name = "a" }"#]));
    assert_eq!(
        e,
        "s.toml:5:18: `users.A.tasks[0].steps[0].set_cookie`: a set_cookie needs `value` (value = \"yes\", or a template)"
    );
    let e = err(&steps(&[r#"set_cookie = { name = "a", value = 3 }"#]));
    assert_eq!(
        e,
        "s.toml:5:32: `users.A.tasks[0].steps[0].set_cookie.value`: `value` is text, not integer: write it in quotes"
    );
    let e = err(&steps(&[r#"path = "/", cookies = { a = true }"#]));
    assert_eq!(
        e,
        "s.toml:5:33: `users.A.tasks[0].steps[0].cookies.a`: a cookie value is text (a template) or an integer, not boolean"
    );
    let e = err(&steps(&[
        r#"path = "/", cookies = { s = "{{ sesion }}" }, extract = [{ var = "session", header = "X" }]"#,
    ]));
    assert!(
        e.starts_with("s.toml:5:33: `users.A.tasks[0].steps[0].cookies.s`: class A, task t: template uses variable `sesion`"),
        "{e}"
    );
    assert!(e.ends_with("did you mean `session`?"), "{e}");
    let e = err(&steps(&[
        r#"set_cookie = { name = "a", value = "1", domain = "http://x" }"#,
    ]));
    assert!(e.contains("set_cookie.domain"), "{e}");
    let e = err(&steps(&[
        r#"set_cookie = { name = "a", value = "1", path = "api" }"#,
    ]));
    assert!(e.contains("set_cookie.path"), "{e}");
    let e = err(&steps(&[
        r#"set_cookie = { name = "a", value = "{{ nope }}" }"#,
    ]));
    assert!(e.contains("`nope`"), "{e}");
    let e = err(&steps(&[
        r#"set_cookie = { name = "a", value = "1" }, name = "x""#,
    ]));
    assert!(e.contains("`name` does not go with `set_cookie`"), "{e}");
}

#[test]
fn a_barrier_compiles_and_only_spawned_is_known() {
    let s = load_str(
        "s.toml",
        r#"
[users.A]
on_start = [{ barrier = "spawned" }]
[[users.A.tasks]]
name = "t"
request = { path = "/" }
"#,
    )
    .unwrap();
    assert!(matches!(
        s.classes[0].on_start[..],
        [Action::Barrier(Barrier::Spawned)]
    ));
    let e = err(&steps(&[r#"barrier = "spawn""#]));
    assert!(e.contains("users.A.tasks[0].steps[0].barrier"), "{e}");
    assert!(e.contains("did you mean `spawned`?"), "{e}");
    let e = err(&steps(&[r#"barrier = "spawned", path = "/""#]));
    assert!(e.contains("one kind of step"), "{e}");
    let e = err(&steps(&[r#"barrier = true"#]));
    assert!(e.contains("expected a string"), "{e}");
}

#[test]
fn a_barrier_where_no_user_is_spawning_is_refused() {
    let task = "[[users.A.tasks]]\nname = \"t\"\nrequest = { path = \"/\" }\n";
    let e = err(&format!(
        "[users.A]\non_stop = [{{ barrier = \"spawned\" }}]\n{task}"
    ));
    assert!(e.contains("on_stop"), "{e}");
    let e = err(&format!(
        "[[setup]]\nbarrier = \"spawned\"\n[users.A]\n{task}"
    ));
    assert!(e.contains("[[setup]]"), "{e}");
    let e = err(&format!(
        "[[teardown]]\nbarrier = \"spawned\"\n[users.A]\n{task}"
    ));
    assert!(e.contains("[[teardown]]"), "{e}");
    // Nested in a loop of a task: fine.
    assert!(load_str(
        "s.toml",
        &steps(&[r#"repeat = 2, steps = [{ barrier = "spawned" }, { path = "/" }]"#])
    )
    .is_ok());
}

#[test]
fn request_keys_on_a_step_that_sends_nothing_are_refused() {
    for (step, kind) in [
        (r#"think = 1, cookies = { a = "1" }"#, "think"),
        (r#"barrier = "spawned", headers = { X = "1" }"#, "barrier"),
        (
            r#"set_cookie = { name = "a", value = "1" }, timeout = 3"#,
            "set_cookie",
        ),
        (
            r#"group = "g", cookies = { a = "1" }, steps = [{ path = "/" }]"#,
            "group",
        ),
        (r#"metric = "m", value = 1, json = { a = 1 }"#, "metric"),
    ] {
        let e = err(&steps(&[step, r#"path = "/""#]));
        assert!(
            e.starts_with("s.toml:5:3: `users.A.tasks[0].steps[0]`: `"),
            "{e}"
        );
        assert!(e.ends_with(&format!("` does not go with `{kind}`")), "{e}");
    }
}
