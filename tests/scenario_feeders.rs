//! End-to-end tests of data feeders (issue 11): the real binary, headless and bounded
//! (`-i` and/or `-t`), against `common::hostile::HostileServer` on 127.0.0.1, asserting
//! which rows the server received: `cycle` in file order across users, `unique` rows
//! never repeated, a dry pool that stops the users it cannot serve (with one warning),
//! one that fails the feed step (rows in the failures CSV, the task going on or not as
//! `stop_on_failure` says), and `random` staying within the rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::headless::run;
use common::hostile::*;

fn ok() -> Behaviour {
    Behaviour::raw(response("HTTP/1.1 200 OK", &[], "ok"))
}

/// A folder holding `rows.csv`: a header `id,name` and rows `1,user1` .. `n,usern`.
/// Its absolute path goes into `file = ...` (the scenario is written elsewhere).
fn rows_csv(n: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,name\n");
    for i in 1..=n {
        text.push_str(&format!("{i},user{i}\n"));
    }
    let path = dir.path().join("rows.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

/// The `X-Row` header of each request to `target`, in the order received.
fn rows_at(server: &HostileServer, target: &str) -> Vec<String> {
    server
        .requests_to(target)
        .iter()
        .map(|r| r.header_str("X-Row").unwrap_or_default())
        .collect()
}

fn tally(rows: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.clone()).or_insert(0) += 1;
    }
    counts
}

/// Rows are taken in file order from one cursor shared by all users, starting again
/// after the last: 8 tasks of 3 users over 3 rows take rows 1, 2, 3, 1, 2, 3, 1, 2.
#[tokio::test]
async fn cycle_hands_out_rows_in_order_across_users() {
    let server = HostileServer::start([("/c", ok())]).await;
    let (_data, csv) = rows_csv(3);
    let scenario = format!(
        r#"
[feeders.users]
file = "{csv}"

[users.Cycler]
wait_time = "constant(0)"
[[users.Cycler.tasks]]
name = "t"
steps = [{{ feed = "users" }}, {{ path = "/c", headers = {{ X-Row = "{{{{ users.id }}}}-{{{{ users.name }}}}" }} }}]
"#
    );
    let run = run(
        &scenario,
        &server.url(),
        &["-u", "3", "-r", "1000", "-i", "8", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    let seen = rows_at(&server, "/c");
    assert_eq!(seen.len(), 8, "{}", run.describe());
    let expected: BTreeMap<String, usize> = [
        ("1-user1".to_string(), 3),
        ("2-user2".to_string(), 3),
        ("3-user3".to_string(), 2),
    ]
    .into();
    assert_eq!(tally(&seen), expected, "{}", run.describe());

    // One user alone sees the exact file order, wrapping around.
    let server = HostileServer::start([("/c", ok())]).await;
    let run = common::headless::run(
        &scenario,
        &server.url(),
        &["-u", "1", "-i", "5", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    assert_eq!(
        rows_at(&server, "/c"),
        ["1-user1", "2-user2", "3-user3", "1-user1", "2-user2"]
    );
}

/// Locust's credential pool (`USER_CREDENTIALS.pop()` in on_start): each of 5 users
/// gets its own row, the first 5 of the file, and keeps it for all its tasks.
#[tokio::test]
async fn unique_rows_are_never_shared_between_users() {
    let server = HostileServer::start([("/login", ok()), ("/me", ok())]).await;
    let (_data, csv) = rows_csv(10);
    let scenario = format!(
        r#"
[feeders.credentials]
file = "{csv}"
order = "unique"

[users.Member]
wait_time = "constant(0.05)"
on_start = [
  {{ feed = "credentials", as = "me" }},
  {{ method = "POST", path = "/login", headers = {{ X-Row = "{{{{ me.name }}}}" }} }},
]
[[users.Member.tasks]]
name = "me"
request = {{ path = "/me", headers = {{ X-Row = "{{{{ me.name }}}}" }} }}
"#
    );
    let run = run(
        &scenario,
        &server.url(),
        &["-u", "5", "-r", "1000", "-t", "2s"],
    )
    .await;
    run.assert_exit(0);
    let logins = rows_at(&server, "/login");
    let distinct: BTreeSet<&String> = logins.iter().collect();
    assert_eq!(logins.len(), 5, "one login per user\n{}", run.describe());
    let first_five: BTreeSet<String> = (1..=5).map(|i| format!("user{i}")).collect();
    assert_eq!(distinct, first_five.iter().collect(), "{}", run.describe());
    // A user keeps its row: every request on one connection carries one row.
    let mut by_connection: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for r in server.requests() {
        by_connection
            .entry(r.connection_id)
            .or_default()
            .insert(r.header_str("X-Row").unwrap_or_default());
    }
    assert!(
        by_connection.values().all(|rows| rows.len() == 1),
        "{by_connection:?}"
    );
    assert!(server.count("/me") > 5, "{}", run.describe());
}

/// A pool of 3 rows for 5 users, `when_empty = "stop_user"` (the default): 3 users
/// get a row and work, the 2 others stop in on_start, and the warning says so once.
#[tokio::test]
async fn a_dry_pool_stops_the_users_it_cannot_serve() {
    let server = HostileServer::start([("/work", ok())]).await;
    let (_data, csv) = rows_csv(3);
    let scenario = format!(
        r#"
[feeders.pool]
file = "{csv}"
order = "unique"

[users.Worker]
wait_time = "constant(0.05)"
on_start = [{{ feed = "pool" }}]
[[users.Worker.tasks]]
name = "work"
request = {{ path = "/work", headers = {{ X-Row = "{{{{ pool.id }}}}" }} }}
"#
    );
    let run = run(
        &scenario,
        &server.url(),
        &["-u", "5", "-r", "1000", "-t", "2s"],
    )
    .await;
    run.assert_exit(0);
    let seen: BTreeSet<String> = rows_at(&server, "/work").into_iter().collect();
    assert_eq!(
        seen,
        ["1", "2", "3"].map(String::from).into(),
        "{}",
        run.describe()
    );
    let connections: BTreeSet<u64> = server.requests().iter().map(|r| r.connection_id).collect();
    assert_eq!(
        connections.len(),
        3,
        "only 3 users send anything\n{}",
        run.describe()
    );
    let warning = format!(
        "WARNING/locust.user.feed: Feeder pool ran dry: all 3 rows of {csv} were handed out; \
         users that ask for another row stop (when_empty = \"stop_user\")"
    );
    assert_eq!(
        run.stderr.matches(&warning).count(),
        1,
        "{}",
        run.describe()
    );
}

/// `when_empty = "fail"`: a feed on a dry pool is a failure row `FEED <feeder>`, the
/// steps reading the row are skipped, and the task goes on (or ends, with
/// `stop_on_failure`), as after a failed request. Each user runs its task once.
#[tokio::test]
async fn a_dry_pool_fails_the_feed_step() {
    let server = HostileServer::start([
        ("/row-a", ok()),
        ("/after-a", ok()),
        ("/row-b", ok()),
        ("/after-b", ok()),
    ])
    .await;
    let (_data, csv) = rows_csv(2);
    let class = |name: &str, x: &str, flag: &str| {
        format!(
            r#"
[feeders.pool_{x}]
file = "{csv}"
order = "unique"
when_empty = "fail"

[users.{name}]
fixed_count = 1
wait_time = "constant(100)"
[[users.{name}.tasks]]
name = "t"
{flag}
steps = [{{ repeat = 4, steps = [
  {{ feed = "pool_{x}", as = "row" }},
  {{ path = "/row-{x}", headers = {{ X-Row = "{{{{ row.id }}}}" }} }},
  {{ path = "/after-{x}" }},
] }}]
"#
        )
    };
    let scenario = [
        class("GoesOn", "a", ""),
        class("Stops", "b", "stop_on_failure = true"),
    ]
    .concat();
    let run = run(
        &scenario,
        &server.url(),
        &["-u", "2", "-r", "1000", "-t", "3s"],
    )
    .await;
    run.assert_exit(1);
    assert_eq!(rows_at(&server, "/row-a"), ["1", "2"], "{}", run.describe());
    assert_eq!(
        server.count("/after-a"),
        4,
        "the task goes on\n{}",
        run.describe()
    );
    assert_eq!(rows_at(&server, "/row-b"), ["1", "2"], "{}", run.describe());
    assert_eq!(
        server.count("/after-b"),
        2,
        "the task ends\n{}",
        run.describe()
    );
    let error =
        |x: &str| format!("FeederEmpty('feeder pool_{x} ran dry: all 2 rows were handed out')");
    assert_eq!(run.counts("FEED", "pool_a"), (2, 2), "{}", run.describe());
    assert_eq!(run.errors("FEED", "pool_a"), [(error("a"), 2)]);
    assert_eq!(run.counts("FEED", "pool_b"), (1, 1), "{}", run.describe());
    assert_eq!(run.errors("FEED", "pool_b"), [(error("b"), 1)]);
}

/// `order = "random"`: every row drawn is one of the file's (JSON here), and the
/// draws are not all the same row.
#[tokio::test]
async fn random_rows_stay_within_the_file() {
    let server = HostileServer::start([("/r", ok())]).await;
    let data = tempfile::tempdir().unwrap();
    let json = data.path().join("skus.json");
    std::fs::write(&json, r#"["sku-a", "sku-b", "sku-c"]"#).unwrap();
    let scenario = format!(
        r#"
[feeders.skus]
file = "{}"
order = "random"

[users.Shopper]
wait_time = "constant(0)"
[[users.Shopper.tasks]]
name = "t"
steps = [{{ feed = "skus", as = "sku" }}, {{ path = "/r", headers = {{ X-Row = "{{{{ sku }}}}" }} }}]
"#,
        json.display()
    );
    let run = run(
        &scenario,
        &server.url(),
        &["-u", "2", "-r", "1000", "-i", "30", "-t", "20s"],
    )
    .await;
    run.assert_exit(0);
    let seen = rows_at(&server, "/r");
    assert_eq!(seen.len(), 30, "{}", run.describe());
    let distinct: BTreeSet<&str> = seen.iter().map(String::as_str).collect();
    assert!(
        distinct.is_subset(&["sku-a", "sku-b", "sku-c"].into()),
        "{distinct:?}"
    );
    assert!(distinct.len() >= 2, "30 draws of 3 rows: {distinct:?}");
}
