//! Compile-time behaviour of whole scenario files: every error kind names file, line
//! and key; tag filtering; skip-while-absent; the static fast path; request building.

use std::path::PathBuf;

use locust_scenario::{load, load_str, Outcome, ResponseView, ScenarioError, StepError, UserVars};
use rand::SeedableRng;

const OK_TASK: &str = "[[users.A.tasks]]\nrequest = { path = \"/\" }\n";

fn err(text: &str) -> ScenarioError {
    match load_str("s.toml", text) {
        Err(e) => e,
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(42)
}

#[test]
fn bad_wait_time_names_line_and_key() {
    let e = err(&format!(
        "[users.A]\nwait_time = \"betwen(1, 3)\"\n{OK_TASK}"
    ));
    let msg = e.to_string();
    assert!(
        msg.starts_with("s.toml:2:13: `users.A.wait_time`: invalid wait_time \"betwen(1, 3)\""),
        "{msg}"
    );
    assert!(msg.ends_with("did you mean `between`?"), "{msg}");
    let e = err(&format!(
        "[users.A]\nwait_time = \"between(3, 1)\"\n{OK_TASK}"
    ));
    assert!(e.to_string().contains("min <= max"), "{e}");
}

#[test]
fn bad_weights() {
    let e = err(&format!("[users.A]\nweight = -1\n{OK_TASK}"));
    assert!(
        e.to_string()
            .starts_with("s.toml:2:10: `users.A.weight`: invalid weight -1"),
        "{e}"
    );
    let e = err("[users.A]\n[[users.A.tasks]]\nweight = 0\nrequest = { path = \"/\" }\n");
    assert!(e.to_string().starts_with("s.toml:3:10: `users.A.tasks[0].weight`: invalid weight 0: a task weight is an integer >= 1"), "{e}");
    let e = err(&format!("[users.A]\nfixed_count = -2\n{OK_TASK}"));
    assert!(e.to_string().contains("`users.A.fixed_count`"), "{e}");
}

#[test]
fn bad_method_and_headers() {
    let e = err("[users.A]\n[[users.A.tasks]]\nrequest = { method = \"GE T\", path = \"/\" }\n");
    assert!(
        e.to_string().starts_with(
            "s.toml:3:22: `users.A.tasks[0].request.method`: invalid HTTP method \"GE T\""
        ),
        "{e}"
    );
    let e = err(&format!(
        "[users.A]\nheaders = {{ \"Bad Name\" = \"x\" }}\n{OK_TASK}"
    ));
    assert!(
        e.to_string()
            .contains("`users.A.headers.Bad Name`: invalid header \"Bad Name\""),
        "{e}"
    );
    let e = err(
        "[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", headers = { X = \"a\\nb\" } }\n",
    );
    assert!(
        e.to_string()
            .contains("`users.A.tasks[0].request.headers.X`: invalid header \"x\": invalid value"),
        "{e}"
    );
}

#[test]
fn template_syntax_error() {
    let e = err("[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/u/{{ x \" }\n");
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "s.toml:3:20: `users.A.tasks[0].request.path`: template error: syntax error"
        ),
        "{msg}"
    );
}

#[test]
fn undefined_variable_names_class_task_and_suggests() {
    let text = "[users.A]\n[[users.A.tasks]]\nname = \"make\"\nrequest = { method = \"POST\", path = \"/u\", extract = [{ var = \"user_ids\", json = \"/id\", append = true }] }\n[[users.A.tasks]]\nname = \"read\"\nrequest = { path = \"/u/{{ user_idz | random }}\" }\n";
    let e = err(text);
    let msg = e.to_string();
    assert!(msg.starts_with("s.toml:7:20: `users.A.tasks[1].request.path`: class A, task read: template uses variable `user_idz`"), "{msg}");
    assert!(msg.ends_with("did you mean `user_ids`?"), "{msg}");
}

#[test]
fn unknown_keys_suggest() {
    let e = err("[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", extract = [{ var = \"x\", jsn = \"/id\" }] }\n");
    let msg = e.to_string();
    assert!(msg.starts_with("s.toml:3:"), "{msg}");
    assert!(msg.contains("unknown key `jsn`"), "{msg}");
    assert!(msg.contains("did you mean `json`?"), "{msg}");
    let e = err("[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\" }\ntag = [\"x\"]\n");
    assert!(
        e.to_string().starts_with(
            "s.toml:4:1: `users.A.tasks[0].tag`: unknown key `tag`; did you mean `tags`?"
        ),
        "{e}"
    );
    let e = err("[user.A]\n");
    assert!(e.to_string().contains("did you mean `users`?"), "{e}");
}

#[test]
fn class_and_task_structure_errors() {
    let e = err("[users.A]\nweight = 2\n");
    assert_eq!(e.to_string(), "s.toml:1:1: `users.A`: user class A has no tasks; add at least one [[users.A.tasks]] entry");
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"t\"\n");
    assert!(e.to_string().contains("a task needs `request"), "{e}");
    let e = err(
        "[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", json = {a = 1}, body = \"x\" }\n",
    );
    assert!(e.to_string().contains("either `json` or `body`"), "{e}");
    let e = err(
        "[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", success_status = [200, 999] }\n",
    );
    assert!(
        e.to_string().contains("999 is not an HTTP status code"),
        "{e}"
    );
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"x\"\nrequest = { path = \"/\" }\n[[users.A.tasks]]\nname = \"x\"\nrequest = { path = \"/b\" }\n");
    assert!(
        e.to_string()
            .contains("duplicate task name \"x\" in class A"),
        "{e}"
    );
    let e = err(
        "[users.A]\nhost = \"localhost:8080\"\n[[users.A.tasks]]\nrequest = { path = \"/\" }\n",
    );
    assert!(e.to_string().contains("must start with http://"), "{e}");
    let e = err("[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", checks = [{ json = \"status\" }] }\n");
    assert!(e.to_string().starts_with("s.toml:3:35: `users.A.tasks[0].request.checks[0]`: JSON pointer \"status\" must start with `/`"), "{e}");
    let e = err("[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", extract = [{ var = \"v\", json = \"/a\" }, { var = \"v\", json = \"/b\", append = true }] }\n");
    assert!(
        e.to_string()
            .contains("both with and without `append = true`"),
        "{e}"
    );
    assert!(matches!(err(""), ScenarioError::NoUserClass));
    assert_eq!(err("").to_string(), "No User class found!");
}

#[test]
fn files_directories_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    std::fs::write(&a, format!("[users.A]\n{OK_TASK}")).unwrap();
    std::fs::write(&b, format!("[users.A]\n{OK_TASK}")).unwrap();
    let e = load(&[a.clone(), b.clone()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Duplicate user class names: A is defined in both {} and {}",
            a.display(),
            b.display()
        )
    );
    // The same file twice is not a duplicate.
    assert_eq!(load(&[a.clone(), a.clone()]).unwrap().classes.len(), 1);
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(&[empty.path().to_path_buf()]),
        Err(ScenarioError::NoUserClass)
    ));
    let e = load(&[PathBuf::from("/nonexistent/x.toml")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "could not find /nonexistent/x.toml: no such file or directory"
    );
}

#[test]
fn tag_filtering_follows_locust() {
    let text = r#"
[users.A]
tags = ["api"]
[[users.A.tasks]]
name = "t1"
tags = ["crud"]
request = { path = "/1" }
[[users.A.tasks]]
name = "t2"
request = { path = "/2" }
[users.B]
[[users.B.tasks]]
name = "untagged"
request = { path = "/b" }
[[users.B.tasks]]
name = "h"
tags = ["health", "crud"]
request = { path = "/h" }
"#;
    let s = load_str("s.toml", text).unwrap();
    let (a, b) = (s.get("A").unwrap(), s.get("B").unwrap());
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(a.tasks[0].tags, v(&["api", "crud"]));
    let names =
        |c: &locust_scenario::UserClass| c.tasks.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    // --tags crud: untagged tasks dropped
    assert_eq!(names(&a.filter_tags(Some(&v(&["crud"])), None)), v(&["t1"]));
    assert_eq!(names(&b.filter_tags(Some(&v(&["crud"])), None)), v(&["h"]));
    // class tags apply to every task
    assert_eq!(
        names(&a.filter_tags(Some(&v(&["api"])), None)),
        v(&["t1", "t2"])
    );
    // --exclude-tags: any listed tag drops; untagged stay
    assert_eq!(
        names(&b.filter_tags(None, Some(&v(&["health"])))),
        v(&["untagged"])
    );
    // both
    assert!(a
        .filter_tags(Some(&v(&["api"])), Some(&v(&["api"])))
        .tasks
        .is_empty());
    assert_eq!(
        a.task_ratios(),
        vec![("t1".to_string(), 0.5), ("t2".to_string(), 0.5)]
    );
    assert_eq!(a.task_indices(), vec![0, 1]);
}

#[test]
fn skip_while_absent_and_missing_variable() {
    let text = r#"
[users.A]
[[users.A.tasks]]
name = "make"
request = { method = "post", path = "/u", extract = [{ var = "ids", json = "/id", append = true, max = 2 }, { var = "last", json = "/id" }] }
[[users.A.tasks]]
name = "read"
request = { path = "/u/{{ ids | random }}", name = "/u/[id]" }
"#;
    let s = load_str("s.toml", text).unwrap();
    let a = s.get("A").unwrap();
    assert_eq!(a.tasks[0].name, "make");
    assert_eq!(a.tasks[1].requires, vec!["ids".to_string()]);
    let mut vars = UserVars::new(3);
    assert!(!a.tasks[1].runnable(&vars));
    let e = a.tasks[1].steps[0]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap_err();
    assert_eq!(
        e,
        StepError::MissingVariable {
            step: "A.tasks[1].request".into(),
            var: "ids".into()
        }
    );
    let make = a.tasks[0].steps[0].as_request().unwrap();
    let req = make.render(&mut vars, &mut rng()).unwrap();
    assert_eq!(req.method, http::Method::POST);
    let h = http::HeaderMap::new();
    for id in [5, 6, 7] {
        let body = format!("{{\"id\": {id}}}");
        let resp = ResponseView {
            reason: "Created",
            status: 201,
            url: "http://localhost:8080/",
            headers: &h,
            body: body.as_bytes(),
        };
        assert_eq!(make.evaluate(&resp, &mut vars), Outcome::Success);
    }
    assert!(a.tasks[1].runnable(&vars));
    assert_eq!(vars.list_len("ids"), 2);
    assert_eq!(vars.get("last").unwrap().to_string(), "7");
    // A failed response removes the single-value variable it would have set.
    let resp = ResponseView {
        reason: "Internal Server Error",
        status: 500,
        url: "http://localhost:8080/",
        headers: &h,
        body: b"",
    };
    assert!(!make.evaluate(&resp, &mut vars).is_success());
    assert!(vars.get("last").is_none());
    assert_eq!(vars.list_len("ids"), 2);
}

#[test]
fn static_requests_are_prebuilt_and_dynamic_ones_rendered() {
    let text = r#"
[users.A]
host = "http://localhost:8080"
headers = { Accept = "application/json", "X-User" = "u{{ user_id }}" }
[[users.A.tasks]]
name = "static"
request = { path = "/users", query = { skip = 0, limit = 10 }, json = { a = [1, "b"] }, headers = { Accept = "text/plain" } }
[[users.A.tasks]]
name = "dynamic"
request = { method = "PUT", path = "/users/{{ counter() }}", query = { q = "a b{{ user_id }}" }, body = "n={{ counter() }}" }
[[users.A.tasks]]
name = "absolute"
request = { path = "http://other.example:81/x?y=1" }
"#;
    let s = load_str("s.toml", text).unwrap();
    let a = s.get("A").unwrap();
    let mut vars = UserVars::new(9);
    let r = a.tasks[0].steps[0]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap();
    assert_eq!(r.url, "/users?skip=0&limit=10");
    assert_eq!(r.name, "/users?skip=0&limit=10");
    assert_eq!(r.headers["accept"], "text/plain");
    assert_eq!(r.headers["x-user"], "u9");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(&r.body.unwrap()[..], br#"{"a":[1,"b"]}"#);

    let r = a.tasks[1].steps[0]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap();
    assert_eq!(r.method, http::Method::PUT);
    assert_eq!(r.url, "/users/1?q=a+b9");
    assert_eq!(r.name, "/users/1?q=a+b9");
    assert_eq!(&r.body.unwrap()[..], b"n=2");
    assert!(r.headers.get("content-type").is_none());
    let r = a.tasks[1].steps[0]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap();
    assert_eq!(
        r.url, "/users/3?q=a+b9",
        "counter() carries over between renders"
    );

    let r = a.tasks[2].steps[0]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap();
    assert_eq!(r.url, "http://other.example:81/x?y=1");
    assert_eq!(r.name, "/x?y=1");
}

#[test]
fn runtime_render_errors_are_values() {
    let text = r#"
[users.A]
[[users.A.tasks]]
name = "bad"
request = { path = "/{{ random_int(5, 1) }}", method = "{{ 'GE T' }}" }
"#;
    let s = load_str("s.toml", text).unwrap();
    let e = s.classes[0].tasks[0].steps[0]
        .as_request()
        .unwrap()
        .render(&mut UserVars::new(0), &mut rng())
        .unwrap_err();
    assert!(
        matches!(e, StepError::Invalid { .. } | StepError::Render { .. }),
        "{e:?}"
    );
}

#[test]
fn evaluate_uses_the_last_rendered_name() {
    let text = r#"
[users.A]
[[users.A.tasks]]
name = "t"
request = { path = "/items/{{ counter() }}", name = "/items/[n]" }
"#;
    let s = load_str("s.toml", text).unwrap();
    let step = &s.classes[0].tasks[0].steps[0].as_request().unwrap();
    let mut vars = UserVars::new(0);
    let req = step.render(&mut vars, &mut rng()).unwrap();
    assert_eq!(req.url, "/items/1");
    let h = http::HeaderMap::new();
    let resp = ResponseView {
        reason: "Service Unavailable",
        status: 503,
        url: "http://localhost:8080/",
        headers: &h,
        body: b"",
    };
    let expected = "HTTPError('503 Server Error: Service Unavailable for url: /items/[n]')";
    assert_eq!(
        step.evaluate(&resp, &mut vars),
        Outcome::Failure(expected.into())
    );
    assert_eq!(
        step.evaluate_named("/other", &resp, &mut vars),
        Outcome::Failure(expected.replace("/items/[n]", "/other"))
    );
}
