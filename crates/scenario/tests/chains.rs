//! Markov chains of tasks (`next`), `group` and `metric` steps as compiled from whole
//! scenario files: what a chain becomes, every mistake found at load with its file,
//! line, column and key, and a metric's value at run time.

use locust_scenario::{load_str, Action, ScenarioError, StepError, Transition, UserVars};
use rand::SeedableRng;

fn err(text: &str) -> String {
    match load_str("s.toml", text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(42)
}

const SHOP: &str = r#"
[users.Shop]
tags = ["shop"]
[[users.Shop.tasks]]
name = "browse"
next = { product = 1 }
request = { path = "/catalog" }
[[users.Shop.tasks]]
name = "product"
next = { cart = 3, browse = 1, checkout = 1 }
request = { path = "/product" }
[[users.Shop.tasks]]
name = "cart"
next = { product = 1, checkout = 1 }
request = { path = "/cart" }
[[users.Shop.tasks]]
name = "checkout"
next = { browse = 1, cart = 0 }
request = { path = "/checkout" }
"#;

#[test]
fn a_chain_keeps_its_transitions_by_task_position() {
    let s = load_str("s.toml", SHOP).unwrap();
    let class = &s.classes[0];
    assert!(class.is_chain());
    let t = |to, weight| Transition { to, weight };
    assert_eq!(class.tasks[0].next, [t(1, 1)]);
    assert_eq!(class.tasks[1].next, [t(2, 3), t(0, 1), t(3, 1)]);
    // A weight-0 transition is never taken: it is dropped.
    assert_eq!(class.tasks[3].next, [t(0, 1)]);
    assert!(class.unreachable_tasks().is_empty());
    // The class's tags keep or drop the chain whole.
    assert_eq!(
        class.filter_tags(Some(&["shop".into()]), None).tasks.len(),
        4
    );
    assert!(class
        .filter_tags(None, Some(&["shop".into()]))
        .tasks
        .is_empty());
    // Long-run shares: every task has some, and they add up to 1.
    let ratios = class.task_ratios();
    let names: Vec<&str> = ratios.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["browse", "product", "cart", "checkout"]);
    let sum: f64 = ratios.iter().map(|(_, r)| r).sum();
    assert!((sum - 1.0).abs() < 1e-9, "{ratios:?}");
    assert!(ratios.iter().all(|(_, r)| *r > 0.05), "{ratios:?}");
}

#[test]
fn a_class_without_next_is_no_chain() {
    let s = load_str(
        "s.toml",
        "[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\" }\n",
    )
    .unwrap();
    assert!(!s.classes[0].is_chain());
    assert!(s.classes[0].tasks[0].next.is_empty());
    assert!(s.classes[0].unreachable_tasks().is_empty());
}

#[test]
fn a_cycle_prints_even_ratios_and_a_task_only_weight_0_leads_to_is_unreachable() {
    let text = r#"
[users.C]
[[users.C.tasks]]
name = "a"
next = { b = 1, d = 0 }
request = { path = "/a" }
[[users.C.tasks]]
name = "b"
next = { c = 1 }
request = { path = "/b" }
[[users.C.tasks]]
name = "c"
next = { a = 1 }
request = { path = "/c" }
[[users.C.tasks]]
name = "d"
next = { a = 1 }
request = { path = "/d" }
"#;
    let s = load_str("s.toml", text).unwrap();
    let class = &s.classes[0];
    assert_eq!(class.unreachable_tasks(), ["d"]);
    let ratios = class.task_ratios();
    for (name, expected) in [
        ("a", 1.0 / 3.0),
        ("b", 1.0 / 3.0),
        ("c", 1.0 / 3.0),
        ("d", 0.0),
    ] {
        let got = ratios.iter().find(|(n, _)| n == name).unwrap().1;
        assert!((got - expected).abs() < 1e-6, "{name}: {ratios:?}");
    }
}

#[test]
fn an_unknown_target_names_its_place_and_the_nearest_task() {
    let e = err(r#"[users.Shop]
[[users.Shop.tasks]]
name = "browse"
next = { chekout = 1 }
request = { path = "/b" }
[[users.Shop.tasks]]
name = "checkout"
next = { browse = 1 }
request = { path = "/c" }
"#);
    assert_eq!(
        e,
        "s.toml:4:10: `users.Shop.tasks[0].next.chekout`: no task of class Shop is named `chekout`; did you mean `checkout`? (its tasks: browse, checkout)"
    );
}

#[test]
fn a_target_with_spaces_is_quoted_in_the_key() {
    let e = err(r#"[users.A]
[[users.A.tasks]]
request = { path = "/a" }
next = { "GET /b" = 1 }
"#);
    assert!(
        e.starts_with(
            "s.toml:4:10: `users.A.tasks[0].next.\"GET /b\"`: no task of class A is named `GET /b`"
        ),
        "{e}"
    );
}

#[test]
fn every_task_of_a_chain_needs_next() {
    let e = err(r#"[users.A]
[[users.A.tasks]]
name = "a"
next = { a = 1 }
request = { path = "/a" }
[[users.A.tasks]]
name = "b"
request = { path = "/b" }
"#);
    assert!(e.starts_with("s.toml:6:1: `users.A.tasks[1]`: task `b` has no `next`: when a task of a class has `next` (here `tasks[0]`), the class is a Markov chain"), "{e}");
}

#[test]
fn a_dead_end_and_bad_weights_are_rejected() {
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = { a = 0 }\nrequest = { path = \"/a\" }\n");
    assert!(
        e.starts_with(
            "s.toml:4:8: `users.A.tasks[0].next`: task `a` is a dead end: no task may follow it"
        ),
        "{e}"
    );
    assert!(e.ends_with("e.g. `a = 1` to start over"), "{e}");
    let e =
        err("[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = {}\nrequest = { path = \"/a\" }\n");
    assert!(e.contains("is a dead end"), "{e}");
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = { a = -1 }\nrequest = { path = \"/a\" }\n");
    assert_eq!(e, "s.toml:4:14: `users.A.tasks[0].next.a`: invalid weight -1: a transition weight is an integer >= 0 (0: never taken)");
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = { a = 1.5 }\nrequest = { path = \"/a\" }\n");
    assert!(e.starts_with("s.toml:4:"), "{e}");
}

#[test]
fn a_chain_rejects_sequential_task_weights_and_task_tags() {
    let task = "[[users.A.tasks]]\nname = \"a\"\nnext = { a = 1 }\nrequest = { path = \"/a\" }\n";
    let e = err(&format!("[users.A]\nsequential = true\n{task}"));
    assert!(e.starts_with("s.toml:2:14: `users.A.sequential`: `sequential = true` does not go with `next` (on `tasks[0]`)"), "{e}");
    // `sequential = false` says nothing against a chain.
    assert!(load_str("s.toml", &format!("[users.A]\nsequential = false\n{task}")).is_ok());
    let e = err(&format!("[users.A]\n{task}weight = 3\n"));
    assert!(
        e.starts_with("s.toml:6:10: `users.A.tasks[0].weight`: `weight` does not go with `next`"),
        "{e}"
    );
    let e = err(&format!("[users.A]\n{task}tags = [\"x\"]\n"));
    assert!(
        e.starts_with(
            "s.toml:2:1: `users.A.tasks[0].tags`: a task of a chain has no `tags` of its own"
        ),
        "{e}"
    );
}

const GROUPED: &str = r#"
[users.G]
[[users.G.tasks]]
name = "buy"
[[users.G.tasks.steps]]
group = "checkout flow"
steps = [
  { path = "/cart", name = "/cart" },
  { group = "pay", steps = [{ method = "POST", path = "/pay" }] },
  { metric = "fixed", value = 2.5 },
]
[[users.G.tasks.steps]]
metric = "queue_depth"
value = "{{ depth }}"
[[users.G.tasks.steps]]
set = { depth = "{{ 7 }}" }
"#;

#[test]
fn groups_and_metrics_compile_and_name_their_rows() {
    let s = load_str("s.toml", GROUPED).unwrap();
    let class = &s.classes[0];
    // The requests inside groups are requests of the class (criteria, secrets).
    let names: Vec<String> = class
        .requests()
        .iter()
        .filter_map(|r| r.static_name())
        .collect();
    assert_eq!(names, ["/cart", "/pay"]);
    assert_eq!(
        class.measure_names(),
        ["checkout flow", "pay", "fixed", "queue_depth"]
    );
    let Action::Group(group) = &class.tasks[0].steps[0] else {
        panic!("a group")
    };
    assert_eq!(group.name, "checkout flow");
    assert_eq!(group.body.len(), 3);
    // The metric reads `depth`, set by a later step of the same task: the task waits
    // for it, as for any variable another step sets.
    assert_eq!(class.tasks[0].requires, ["depth"]);
}

#[test]
fn a_metric_value_is_rendered_checked_and_never_shown_in_its_error() {
    let s = load_str("s.toml", GROUPED).unwrap();
    let Action::Metric(metric) = &s.classes[0].tasks[0].steps[1] else {
        panic!("a metric")
    };
    assert_eq!(metric.name, "queue_depth");
    let mut vars = UserVars::new(0);
    assert!(matches!(
        metric.value(&mut vars, &mut rng()),
        Err(StepError::MissingVariable { .. })
    ));
    vars.set("depth", 42);
    assert_eq!(metric.value(&mut vars, &mut rng()), Ok(42.0));
    vars.set("depth", "12.5");
    assert_eq!(metric.value(&mut vars, &mut rng()), Ok(12.5));
    vars.set("depth", "secret-word");
    let e = metric.value(&mut vars, &mut rng()).unwrap_err().to_string();
    assert_eq!(
        e,
        "G.tasks[0].steps[1].value: metric `queue_depth`: the value is not a number"
    );
    vars.set("depth", -3);
    let e = metric.value(&mut vars, &mut rng()).unwrap_err().to_string();
    assert!(e.contains("the value is negative"), "{e}");
    let Action::Group(group) = &s.classes[0].tasks[0].steps[0] else {
        panic!("a group")
    };
    let Action::Metric(fixed) = &group.body[2] else {
        panic!("a metric")
    };
    assert_eq!(fixed.value(&mut UserVars::new(0), &mut rng()), Ok(2.5));
}

fn step_err(step: &str) -> String {
    err(&format!(
        "[users.A]\n[[users.A.tasks]]\n[[users.A.tasks.steps]]\n{step}\n"
    ))
}

#[test]
fn group_mistakes_are_found_at_load() {
    let e = step_err("group = \"g\"");
    assert!(
        e.starts_with("s.toml:3:1: `users.A.tasks[0].steps[0]`: a group needs `steps = [...]`"),
        "{e}"
    );
    let e = step_err("group = \"g\"\nsteps = []");
    assert!(e.contains("a group needs `steps = [...]`"), "{e}");
    let e = step_err("group = \"g {{ user_id }}\"\nsteps = [{ path = \"/\" }]");
    assert!(e.starts_with("s.toml:4:9: `users.A.tasks[0].steps[0].group`: a group's name is fixed text, not a template"), "{e}");
    let e = step_err("group = \" \"\nsteps = [{ path = \"/\" }]");
    assert!(e.contains("a group needs a name"), "{e}");
    let e = step_err("group = \"g\"\nmethod = \"POST\"\nsteps = [{ path = \"/\" }]");
    assert!(e.ends_with("`method` does not go with `group`"), "{e}");
    let e = step_err("group = \"g\"\npath = \"/\"");
    assert!(
        e.contains("a step is one kind of step, but this one has `path` and `group`"),
        "{e}"
    );
    // Mistakes inside the group name their own place.
    let e = step_err("group = \"g\"\nsteps = [{ path = \"/{{ nope }}\" }]");
    assert!(
        e.contains("`users.A.tasks[0].steps[0].steps[0].path`"),
        "{e}"
    );
}

#[test]
fn metric_mistakes_are_found_at_load() {
    let e = step_err("metric = \"m\"");
    assert!(e.contains("a metric needs `value`"), "{e}");
    let e = step_err("value = 3\npath = \"/\"");
    assert!(
        e.ends_with("`value` goes with `metric = \"name\"` (the row it is recorded in)"),
        "{e}"
    );
    let e = step_err("metric = \"m\"\nvalue = \"abc\"");
    assert!(
        e.starts_with("s.toml:5:9: `users.A.tasks[0].steps[0].value`: the value is not a number"),
        "{e}"
    );
    let e = step_err("metric = \"m\"\nvalue = -1");
    assert!(e.contains("the value is negative"), "{e}");
    let e = step_err("metric = \"m\"\nvalue = true");
    assert!(e.contains("is neither a number nor a template"), "{e}");
    let e = step_err("metric = \"m\"\nvalue = \"{{ dpeth }}\"");
    assert!(e.contains("template uses variable `dpeth`"), "{e}");
    let e = step_err("metric = \"m\"\nvalue = 1\nname = \"x\"");
    assert!(e.ends_with("`name` does not go with `metric`"), "{e}");
    let e = step_err("metric = \"{{ x }}\"\nvalue = 1");
    assert!(e.contains("a metric's name is fixed text"), "{e}");
}

#[test]
fn errors_are_scenario_errors() {
    // Chain errors are ordinary load errors: nothing is sent.
    let r = load_str(
        "s.toml",
        "[users.A]\n[[users.A.tasks]]\nnext = { x = 1 }\nrequest = { path = \"/\" }\n",
    );
    assert!(matches!(r, Err(ScenarioError::Invalid { .. })));
}

#[test]
fn a_next_that_is_no_table_or_a_weight_that_is_no_integer_names_its_key() {
    let e = err(
        "[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = [\"a\"]\nrequest = { path = \"/a\" }\n",
    );
    assert_eq!(
        e,
        "s.toml:4:8: `users.A.tasks[0].next`: `next` is a table of the tasks that may follow this one and their weights, e.g. `next = { checkout = 1, browse = 3 }`, not an array"
    );
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = { a = \"x\" }\nrequest = { path = \"/a\" }\n");
    assert_eq!(
        e,
        "s.toml:4:14: `users.A.tasks[0].next.a`: invalid weight \"x\": a transition weight is an integer >= 0 (0: never taken)"
    );
    let e = err("[users.A]\n[[users.A.tasks]]\nname = \"a\"\nnext = { a = 1.5 }\nrequest = { path = \"/a\" }\n");
    assert!(
        e.starts_with("s.toml:4:14: `users.A.tasks[0].next.a`: invalid weight 1.5"),
        "{e}"
    );
}
