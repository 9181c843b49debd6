//! The web UI's profiles through its router: every profile of locust.toml is offered
//! with what picking it fills in; one with stages runs them (its plan and stage in
//! `/test`, Edit refused) and ends by itself; one with phases runs them in turn. The
//! host is the discard port on loopback, so requests fail fast and nothing is served.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::http::Request;
use axum::Router;
use clap::Parser;
use serde_json::Value;
use tower::ServiceExt;

use super::{router, Session};
use crate::config::cli::Cli;
use crate::judge::Judge;
use crate::sinks::report::ReportContext;

const SCENARIO: &str = "[users.A]\nwait_time = \"constant(0.05)\"\n[[users.A.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n";

const PROJECT: &str = "[profiles.plain]\nusers = 3\nspawn-rate = 3\nrun-time = \"1s\"\n\n\
[profiles.shape]\ndescription = \"two stages\"\n\
[[profiles.shape.stages]]\nduration = \"1s\"\nusers = 2\nspawn-rate = 10\n\
[[profiles.shape.stages]]\nduration = \"1s\"\nusers = 1\nspawn-rate = 10\n\n\
[profiles.seq]\nphases = [\"plain\", \"shape\"]\n";

fn app() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    std::fs::write(dir.path().join("locust.toml"), PROJECT).unwrap();
    let file = dir.path().join("s.toml").display().to_string();
    let args = ["locust-rs", "-f", &file, "-H", "http://127.0.0.1:9"];
    let cli = Cli::try_parse_from(args).unwrap();
    let settings = crate::config::resolve(cli.clone(), dir.path()).unwrap();
    let plan = crate::plan::build(&settings).unwrap();
    let judge = Judge::prepare(&settings, &plan).unwrap();
    let report = ReportContext::prepare(&settings, &plan, String::new());
    let cwd = dir.path().to_path_buf();
    let session = Arc::new(Session::new(settings, cli, cwd, plan, judge, report));
    (dir, router(session))
}

async fn call(app: &Router, method: &str, uri: &str, body: &str) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:8089")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = to_bytes(response.into_body(), 1 << 22).await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// Polls `/test` until `check` holds (at most 20 s).
async fn wait_test(app: &Router, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let test = call(app, "GET", "/test", "").await["test"].clone();
        if check(&test) {
            return test;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/test never showed {what}");
}

#[tokio::test]
async fn every_profile_is_offered_with_what_it_fills_in() {
    let (dir, _app) = app();
    let infos = super::profiles::all(
        &Cli::try_parse_from(["locust-rs", "-f", "s.toml"]).unwrap(),
        dir.path(),
    );
    let kinds: Vec<(String, Value)> = infos
        .iter()
        .map(|p| (p.name.clone(), p.details["kind"].clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("plain".to_string(), "users".into()),
            ("seq".to_string(), "phases".into()),
            ("shape".to_string(), "stages".into()),
        ]
    );
    let plain = &infos[0].details;
    assert_eq!(
        (plain["users"].as_u64(), plain["run_time"].as_str()),
        (Some(3), Some("1s"))
    );
    let shape = &infos[2].details;
    assert_eq!(shape["plan"]["stages"].as_array().unwrap().len(), 2);
    assert_eq!(
        infos[1].details["phases"],
        serde_json::json!(["plain", "shape"])
    );
}

#[tokio::test]
async fn a_profile_with_stages_runs_them_refuses_edit_and_ends_by_itself() {
    let (_dir, app) = app();
    let started = call(
        &app,
        "POST",
        "/swarm",
        "user_count=1&spawn_rate=1&profile=shape",
    )
    .await;
    assert_eq!(started["success"], true, "{started}");
    let test = wait_test(&app, "stage 1", |t| t["stage"]["index"] == 1).await;
    assert_eq!(test["kind"], "stages");
    assert_eq!(test["editable"], false);
    assert_eq!(test["plan"]["unit"], "users");
    assert_eq!(test["stage"]["label"], "2 users at 10/s");
    let edit = call(&app, "POST", "/swarm", "user_count=5&spawn_rate=1").await;
    assert_eq!(edit["success"], false, "{edit}");
    wait_test(&app, "the shape's end", |t| t["state"] == "stopped").await;
}

#[tokio::test]
async fn a_profile_with_phases_runs_them_in_turn() {
    let (_dir, app) = app();
    let started = call(
        &app,
        "POST",
        "/swarm",
        "user_count=1&spawn_rate=1&profile=seq",
    )
    .await;
    assert_eq!(started["success"], true, "{started}");
    let first = wait_test(&app, "phase 1", |t| t["phase"]["index"] == 1).await;
    assert_eq!(
        (first["users"].as_u64(), first["profile"].as_str()),
        (Some(3), Some("seq"))
    );
    let second = wait_test(&app, "phase 2", |t| t["phase"]["name"] == "shape").await;
    assert_eq!(second["kind"], "stages");
    wait_test(&app, "the last phase's end", |t| {
        t["phase"]["index"] == 2 && t["state"] == "stopped"
    })
    .await;
    // Stop during a sequence ends it: a new one, stopped in phase 1, stays there.
    call(
        &app,
        "POST",
        "/swarm",
        "user_count=1&spawn_rate=1&profile=seq",
    )
    .await;
    wait_test(&app, "phase 1 again", |t| t["phase"]["index"] == 1).await;
    call(&app, "POST", "/stop", "").await;
    wait_test(&app, "the stop", |t| t["state"] == "stopped").await;
    // Were the sequence still on, its next phase would start at once after the stop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = call(&app, "GET", "/test", "").await["test"].clone();
    assert_eq!(
        (after["phase"]["index"].as_u64(), after["state"].as_str()),
        (Some(1), Some("stopped"))
    );
}
