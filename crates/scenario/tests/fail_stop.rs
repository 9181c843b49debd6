//! The `fail` and `stop_user` steps: what they compile to (with and without `if`), the
//! rendered message of a `fail`, and the mistakes each refuses at load, with
//! file:line:column.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use locust_scenario::{load_str, Action, StepError, UserVars, MAX_FAIL_MESSAGE};
use rand::SeedableRng;

fn err(text: &str) -> String {
    match load_str("s.toml", text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

/// A class `A` with one task of these steps (each an inline table), and `extra` after.
fn steps(steps: &[&str], extra: &str) -> String {
    format!(
        "[users.A]\n[[users.A.tasks]]\nname = \"t\"\nsteps = [\n{}\n]\n{extra}",
        steps
            .iter()
            .map(|s| format!("  {{ {s} }},"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn fail_renders_its_message_and_if_guards_both_steps() {
    let s = load_str(
        "s.toml",
        &steps(
            &[
                r#"set = { sku = "x1" }"#,
                r#"fail = "out of stock: {{ sku }}""#,
                r#"fail = "guarded", if = "sku == 'no'""#,
                r#"stop_user = true"#,
                r#"stop_user = true, if = "sku""#,
            ],
            "",
        ),
    )
    .unwrap();
    let task = &s.classes[0].tasks[0];
    let Action::Fail(fail) = &task.steps[1] else {
        panic!("{:?}", task.steps[1]);
    };
    assert_eq!(fail.label(), "A.tasks[0].steps[1]");
    let mut vars = UserVars::new(0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    // Not set yet: a template error, not a silent skip.
    assert!(matches!(
        fail.message(&mut vars, &mut rng),
        Err(StepError::Render { .. })
    ));
    vars.set("sku", minijinja::Value::from("x1"));
    assert_eq!(
        fail.message(&mut vars, &mut rng).unwrap(),
        "out of stock: x1"
    );
    vars.set("sku", minijinja::Value::from("y".repeat(2000)));
    let long = fail.message(&mut vars, &mut rng).unwrap();
    assert_eq!(long.chars().count(), MAX_FAIL_MESSAGE + "...".len());
    assert!(long.ends_with("yyy..."), "{long}");
    assert!(matches!(&task.steps[2], Action::If(b) if matches!(b.then[..], [Action::Fail(_)])));
    assert!(matches!(task.steps[3], Action::StopUser));
    assert!(matches!(&task.steps[4], Action::If(b) if matches!(b.then[..], [Action::StopUser])));
}

#[test]
fn bad_values_and_keys_are_refused_where_they_are() {
    let e = err(&steps(&["fail = 3"], ""));
    assert!(
        e.starts_with("s.toml:5:12: `users.A.tasks[0].steps[0].fail`: `fail` is the exception's message, a string"),
        "{e}"
    );
    let e = err(&steps(&["stop_user = false"], ""));
    assert!(
        e.starts_with("s.toml:5:17: `users.A.tasks[0].steps[0].stop_user`: `stop_user = false` would be a step that does nothing"),
        "{e}"
    );
    let e = err(&steps(&[r#"stop_user = "yes""#], ""));
    assert!(e.contains("`stop_user` takes `true`"), "{e}");
    let e = err(&steps(&["stop_usr = true"], ""));
    assert!(
        e.contains("unknown key `stop_usr`") && e.contains("did you mean `stop_user`?"),
        "{e}"
    );
    let e = err(&steps(&[r#"fial = "x""#], ""));
    assert!(e.contains("did you mean `fail`?"), "{e}");
    let e = err(&steps(&[r#"fail = "x", name = "n""#], ""));
    assert!(e.contains("`name` does not go with `fail`"), "{e}");
    let e = err(&steps(&[r#"fail = "x", think = 1"#], ""));
    assert!(e.contains("has `think` and `fail`"), "{e}");
    let e = err(&steps(&[r#"fail = "{{ nope }}""#], ""));
    assert!(e.contains("template uses variable `nope`"), "{e}");
    let e = err(&steps(
        &[r#"path = "/""#],
        "[[users.A.on_stop]]\nstop_user = true\n",
    ));
    assert!(e.contains("`stop_user` cannot sit in on_stop"), "{e}");
    let e = err(&steps(&[r#"path = "/""#], "[[setup]]\nstop_user = true\n"));
    assert!(e.contains("`stop_user` cannot sit in [[setup]]"), "{e}");
}
