//! `[feeders.<name>]` tables and the `{ feed = "<name>" }` step, loaded from real files
//! in a temporary folder: rows read once and shared, the variable a feed step produces
//! (templates and the task analysis know it), the orders, and the mistakes refused at
//! load with the scenario's file:line:column, the data file's line and a did-you-mean.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use locust_scenario::{load, Action, Feed, Order, Scenarios, Take, UserVars, WhenEmpty};
use rand::SeedableRng;

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

/// A folder with `s.toml` and the given data files.
fn folder(scenario: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("s.toml");
    std::fs::write(&path, scenario).unwrap();
    (dir, path)
}

fn load_ok(scenario: &str, files: &[(&str, &str)]) -> Scenarios {
    let (_dir, path) = folder(scenario, files);
    load(&[path]).unwrap_or_else(|e| panic!("{e}"))
}

/// The error, with the temporary folder's path replaced by `DIR`.
fn load_err(scenario: &str, files: &[(&str, &str)]) -> String {
    let (dir, path) = folder(scenario, files);
    match load(&[path]) {
        Err(e) => e
            .to_string()
            .replace(&dir.path().display().to_string(), "DIR"),
        Ok(_) => panic!("expected an error for:\n{scenario}"),
    }
}

const USERS_CSV: &str = "username,password\nalice,a1\nbob,b2\ncarol,c3\n";

fn feed_of(action: &Action) -> &Feed {
    match action {
        Action::Feed(feed) => feed,
        other => panic!("not a feed step: {other:?}"),
    }
}

fn take_into(feed: &Feed, vars: &mut UserVars) {
    match feed.feeder().take(&mut rng()) {
        Take::Row(row) => vars.set(feed.var(), row),
        Take::Dry(when) => panic!("dry: {when:?}"),
    }
}

const LOGIN: &str = r#"
[feeders.users]
file = "users.csv"
order = "unique"

[users.A]
on_start = [{ feed = "users", as = "user" }]

[[users.A.tasks]]
name = "login"
request = { method = "POST", path = "/login", json = { username = "{{ user.username }}", password = "{{ user.password }}" } }

[[users.A.tasks]]
name = "own_row"
steps = [{ feed = "users" }, { path = "/u/{{ users.username }}" }]
"#;

#[test]
fn a_fed_row_is_a_variable_templates_read() {
    let s = load_ok(LOGIN, &[("users.csv", USERS_CSV)]);
    let class = &s.classes[0];
    let feed = feed_of(&class.on_start[0]);
    assert_eq!(feed.var(), "user");
    assert_eq!(feed.feeder().name(), "users");
    assert_eq!(feed.feeder().len(), 3);
    assert_eq!(feed.feeder().order(), Order::Unique(WhenEmpty::StopUser));
    // One feeder, shared by every step that feeds from it.
    let own = feed_of(&class.tasks[1].steps[0]);
    assert!(Arc::ptr_eq(feed.feeder(), own.feeder()));

    let mut vars = UserVars::new(0);
    let login = class.tasks[0].steps[0].as_request().unwrap();
    assert!(
        login.render(&mut vars, &mut rng()).is_err(),
        "waits for the row"
    );
    take_into(feed, &mut vars);
    let rendered = login.render(&mut vars, &mut rng()).unwrap();
    let body = String::from_utf8(rendered.body.unwrap().to_vec()).unwrap();
    assert_eq!(body, r#"{"username":"alice","password":"a1"}"#);

    // The login task needs what on_start feeds; the task that feeds first needs nothing.
    assert_eq!(class.tasks[0].requires, ["user"]);
    assert!(class.tasks[1].requires.is_empty());
}

#[test]
fn orders_and_json_rows() {
    let scenario = r#"
[feeders.ids]
file = "ids.json"
order = "random"
[feeders.people]
file = "people.json"
[feeders.pool]
file = "people.json"
order = "unique"
when_empty = "fail"
[feeders.again]
file = "people.json"
order = "unique"
when_empty = "recycle"

[users.A]
[[users.A.tasks]]
name = "t"
steps = [
  { feed = "ids" }, { feed = "people" }, { feed = "pool" }, { feed = "again" },
  { path = "/{{ ids }}/{{ people.name }}/{{ pool.age + 1 }}" },
]
"#;
    let s = load_ok(
        scenario,
        &[
            ("ids.json", "[10, 20, 30]"),
            ("people.json", r#"[{"name": "ann", "age": 30}]"#),
        ],
    );
    let steps = &s.classes[0].tasks[0].steps;
    let orders: Vec<Order> = steps[..4]
        .iter()
        .map(|a| feed_of(a).feeder().order())
        .collect();
    assert_eq!(
        orders,
        [
            Order::Random,
            Order::Cycle,
            Order::Unique(WhenEmpty::Fail),
            Order::Unique(WhenEmpty::Recycle)
        ]
    );
    let mut vars = UserVars::new(0);
    for step in &steps[..4] {
        take_into(feed_of(step), &mut vars);
    }
    let request = steps[4]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap();
    assert!(
        ["/10/ann/31", "/20/ann/31", "/30/ann/31"].contains(&request.url.as_str()),
        "{}",
        request.url
    );
}

#[test]
fn setup_can_feed_and_every_user_reads_it() {
    let scenario = r#"
[feeders.tenants]
file = "t.csv"
[[setup]]
feed = "tenants"
[users.A]
[[users.A.tasks]]
name = "t"
request = { path = "/t/{{ tenants.id }}" }
"#;
    let s = load_ok(scenario, &[("t.csv", "id\nt1\n")]);
    assert_eq!(s.run_steps[0].globals, ["tenants"]);
    assert!(s.classes[0].tasks[0].requires.is_empty());
}

#[test]
fn reset_starts_again_from_the_first_row() {
    let s = load_ok(LOGIN, &[("users.csv", USERS_CSV)]);
    let feeder = feed_of(&s.classes[0].on_start[0]).feeder().clone();
    for _ in 0..4 {
        feeder.take(&mut rng());
    }
    assert_eq!(feeder.take(&mut rng()), Take::Dry(WhenEmpty::StopUser));
    locust_scenario::reset_feeders(&s.classes, &s.run_steps);
    assert!(matches!(feeder.take(&mut rng()), Take::Row(_)));
}

#[test]
fn a_headerless_csv_with_columns() {
    let scenario = "[feeders.creds]\nfile = \"c.csv\"\ncolumns = [\"email\", \"password\"]\n\
                    [users.A]\n[[users.A.tasks]]\nname = \"t\"\nsteps = [{ feed = \"creds\" }, { path = \"/{{ creds.email }}\" }]\n";
    let s = load_ok(scenario, &[("c.csv", "a@x,p1\nb@x,p2\n")]);
    let steps = &s.classes[0].tasks[0].steps;
    let mut vars = UserVars::new(0);
    take_into(feed_of(&steps[0]), &mut vars);
    let request = steps[1]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap();
    assert_eq!(request.url, "/a@x");
}

#[test]
fn a_column_the_rows_lack_is_a_template_error_at_run_time() {
    let scenario = "[feeders.creds]\nfile = \"c.csv\"\n\
                    [users.A]\n[[users.A.tasks]]\nname = \"t\"\nsteps = [{ feed = \"creds\" }, { path = \"/{{ creds.emial }}\" }]\n";
    let s = load_ok(scenario, &[("c.csv", "email\na@x\n")]);
    let steps = &s.classes[0].tasks[0].steps;
    let mut vars = UserVars::new(0);
    take_into(feed_of(&steps[0]), &mut vars);
    let err = steps[1]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng())
        .unwrap_err();
    assert!(
        matches!(err, locust_scenario::StepError::Render { .. }),
        "{err:?}"
    );
}

/// A class that feeds from `users` and reads `{{ users.username }}`, after `feeder`.
fn with_feeder(feeder: &str) -> String {
    format!(
        "{feeder}\n[users.A]\n[[users.A.tasks]]\nname = \"t\"\nsteps = [{{ feed = \"users\" }}, {{ path = \"/{{{{ users.username }}}}\" }}]\n"
    )
}

#[test]
fn mistakes_in_the_feeder_table() {
    let csv = [("users.csv", USERS_CSV)];
    let e = load_err(
        &with_feeder("[feeders.users]\nfile = \"users.csv\"\nordr = \"cycle\""),
        &csv,
    );
    assert!(
        e.starts_with(
            "DIR/s.toml:3:1: `feeders.users.ordr`: unknown key `ordr`; did you mean `order`?"
        ),
        "{e}"
    );
    let e = load_err(
        &with_feeder("[feeders.users]\nfile = \"users.csv\"\norder = \"uniqe\""),
        &csv,
    );
    assert_eq!(
        e,
        "DIR/s.toml:3:9: `feeders.users.order`: unknown order \"uniqe\"; did you mean `unique`? expected one of: cycle, random, unique"
    );
    let e = load_err(
        &with_feeder(
            "[feeders.users]\nfile = \"users.csv\"\norder = \"unique\"\nwhen_empty = \"stop\"",
        ),
        &csv,
    );
    assert!(
        e.contains("unknown when_empty \"stop\"; did you mean `stop_user`?"),
        "{e}"
    );
    let e = load_err(
        &with_feeder("[feeders.users]\nfile = \"users.csv\"\nwhen_empty = \"fail\""),
        &csv,
    );
    assert!(e.starts_with("DIR/s.toml:3:14: `feeders.users.when_empty`: `when_empty` goes with order = \"unique\""), "{e}");
    let e = load_err(&with_feeder("[feeders.users]\norder = \"cycle\""), &csv);
    assert!(
        e.contains("`feeders.users`: a feeder needs `file = \"data.csv\"`"),
        "{e}"
    );
    let e = load_err(&with_feeder("[feeders.users]\nfile = \"users.txt\""), &csv);
    assert!(
        e.ends_with("\"users.txt\" is neither a .csv nor a .json file"),
        "{e}"
    );
}

#[test]
fn mistakes_in_the_data_file() {
    let feeder = with_feeder("[feeders.users]\nfile = \"users.csv\"");
    let e = load_err(&feeder, &[]);
    assert!(
        e.starts_with(
            "DIR/s.toml:2:8: `feeders.users.file`: cannot read \"users.csv\" (DIR/users.csv): "
        ),
        "{e}"
    );
    let e = load_err(
        &feeder,
        &[("users.csv", "username,password\nalice,a1\nbob\n")],
    );
    assert_eq!(
        e,
        "DIR/s.toml:2:8: `feeders.users.file`: users.csv:3: this row has 1 field, the columns are 2 (username, password)"
    );
    let e = load_err(&feeder, &[("users.csv", "")]);
    assert!(
        e.ends_with("users.csv is empty: a feeder needs at least one row"),
        "{e}"
    );
    let e = load_err(&feeder, &[("users.csv", "username\n")]);
    assert!(
        e.ends_with("users.csv has no rows: a feeder needs at least one"),
        "{e}"
    );
    let json = with_feeder("[feeders.users]\nfile = \"u.json\"");
    let e = load_err(&json, &[("u.json", "[{\"username\": \"a\"},\n oops]")]);
    assert!(
        e.contains("`feeders.users.file`: u.json:2:2: expected value"),
        "{e}"
    );
    let e = load_err(
        &with_feeder("[feeders.users]\nfile = \"u.json\"\ncolumns = [\"a\"]"),
        &[("u.json", "[1]")],
    );
    assert!(
        e.contains("`feeders.users.columns`: `columns` names the columns of a CSV file"),
        "{e}"
    );
}

#[test]
fn mistakes_in_feed_steps() {
    let csv = [("users.csv", USERS_CSV)];
    let head =
        "[feeders.users]\nfile = \"users.csv\"\n[users.A]\n[[users.A.tasks]]\nname = \"t\"\n";
    let e = load_err(&format!("{head}steps = [{{ feed = \"user\" }}]\n"), &csv);
    assert_eq!(
        e,
        "DIR/s.toml:6:19: `users.A.tasks[0].steps[0].feed`: unknown feeder `user`; did you mean `users`? (this file declares: users)"
    );
    let e = load_err(
        "[users.A]\n[[users.A.tasks]]\nname = \"t\"\nsteps = [{ feed = \"users\" }]\n",
        &[],
    );
    assert!(
        e.contains("(this file declares none: add [feeders.users] with `file = \"data.csv\"`)"),
        "{e}"
    );
    let e = load_err(
        &format!("{head}steps = [{{ path = \"/\", as = \"x\" }}]\n"),
        &csv,
    );
    assert!(e.contains("`as` goes with `feed = \"name\"`"), "{e}");
    let e = load_err(
        &format!("{head}steps = [{{ feed = \"users\", path = \"/\" }}]\n"),
        &csv,
    );
    assert!(e.contains("this one has `path` and `feed`"), "{e}");
    let e = load_err(
        &format!("{head}steps = [{{ feed = \"users\", as = \"user_id\" }}]\n"),
        &csv,
    );
    assert!(
        e.contains("`user_id` is a builtin and cannot be fed into"),
        "{e}"
    );
    let e = load_err(
        &format!("{head}steps = [{{ feed = \"users\", name = \"x\" }}]\n"),
        &csv,
    );
    assert!(e.contains("`name` does not go with `feed`"), "{e}");
    // A template reading a misspelt fed variable: the usual message, with the suggestion.
    let e = load_err(
        &format!("{head}steps = [{{ feed = \"users\", as = \"user\" }}, {{ path = \"/{{{{ usr.username }}}}\" }}]\n"),
        &csv,
    );
    assert!(e.contains("template uses variable `usr`, which no step of A extracts and which is not a builtin; did you mean `user`?"), "{e}");
}
