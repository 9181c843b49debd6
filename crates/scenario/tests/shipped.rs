//! The scenarios shipped in `scenarios/` load, compile and behave as the seed describes:
//! three classes, tags usable with -T/-E, ids extracted then reused.

use std::path::PathBuf;

use locust_scenario::{load, Outcome, ResponseView, UserVars, WaitTime};
use rand::SeedableRng;

fn shipped() -> locust_scenario::Scenarios {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    load(&[dir]).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn all_three_classes_compile() {
    let s = shipped();
    assert_eq!(
        s.names(),
        vec!["AdminUser", "HighVolumeUser", "ScalingSystemUser"]
    );
    let main = s.get("ScalingSystemUser").unwrap();
    assert_eq!(main.weight, 3.0);
    assert_eq!(main.wait_time, WaitTime::Between(1.0, 3.0));
    assert_eq!(main.host.as_deref(), Some("http://localhost:8080"));
    assert_eq!(main.on_start.len(), 1);
    assert_eq!(
        s.get("HighVolumeUser").unwrap().wait_time,
        WaitTime::Between(0.1, 0.5)
    );
    assert_eq!(
        s.get("AdminUser").unwrap().wait_time,
        WaitTime::Between(2.0, 5.0)
    );
    let ratios = main.task_ratios();
    let total: f64 = ratios.iter().map(|(_, r)| r).sum();
    assert!((total - 1.0).abs() < 1e-9);
}

#[test]
fn every_tag_selects_something() {
    let s = shipped();
    for tag in [
        "crud",
        "health",
        "cache",
        "loadbalancer",
        "bulk",
        "monitoring",
    ] {
        let include = vec![tag.to_string()];
        let kept: usize = s
            .classes
            .iter()
            .map(|c| c.filter_tags(Some(&include), None).tasks.len())
            .sum();
        assert!(kept > 0, "tag {tag} selects no task");
    }
    let bulk = vec!["bulk".to_string()];
    let admin = s.get("AdminUser").unwrap().filter_tags(None, Some(&bulk));
    assert_eq!(admin.tasks.len(), 1);
    assert_eq!(admin.tasks[0].name, "system_monitoring");
}

#[test]
fn create_then_read_flow() {
    let s = shipped();
    let class = s.get("ScalingSystemUser").unwrap();
    let task = |name: &str| class.tasks.iter().find(|t| t.name == name).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut vars = UserVars::new(0);

    let read = task("read_user");
    assert!(!read.runnable(&vars), "read_user must wait for an id");
    assert!(task("list_users").runnable(&vars));

    let create = &task("create_user").steps[0].as_request().unwrap();
    let req = create.render(&mut vars, &mut rng).unwrap();
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.url, "/users");
    assert_eq!(req.name, "/users");
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers["accept"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
    assert!(body["email"].as_str().unwrap().starts_with("loadtest-"));
    assert_eq!(
        body["name"].as_str().unwrap().len(),
        "Load Test User ".len() + 8
    );

    let headers = http::HeaderMap::new();
    let resp = ResponseView {
        reason: "Created",
        status: 201,
        url: "http://localhost:8080/",
        headers: &headers,
        body: br#"{"id": 17, "name": "x", "email": "y"}"#,
    };
    assert_eq!(create.evaluate(&resp, &mut vars), Outcome::Success);
    assert!(read.runnable(&vars));
    let r = read.steps[0]
        .as_request()
        .unwrap()
        .render(&mut vars, &mut rng)
        .unwrap();
    assert_eq!(
        (r.url.as_str(), r.name.as_str()),
        ("/users/17", "/users/[id]")
    );

    let missing = ResponseView {
        reason: "Not Found",
        status: 404,
        url: "http://localhost:8080/",
        headers: &headers,
        body: b"{}",
    };
    assert_eq!(
        read.steps[0]
            .as_request()
            .unwrap()
            .evaluate(&missing, &mut vars),
        Outcome::Failure("HTTPError('404 Client Error: Not Found for url: /users/[id]')".into())
    );

    // create_and_delete reads only the id it creates itself: runnable from the start.
    let cd = task("create_and_delete_user");
    assert!(cd.runnable(&UserVars::new(1)));
}

#[test]
fn health_check_failure_string() {
    let s = shipped();
    let class = s.get("AdminUser").unwrap();
    let monitoring = class
        .tasks
        .iter()
        .find(|t| t.name == "system_monitoring")
        .unwrap();
    let step = &monitoring.steps[0].as_request().unwrap();
    let mut vars = UserVars::new(0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let req = step.render(&mut vars, &mut rng).unwrap();
    assert_eq!(req.url, "/gateway-health");
    let headers = http::HeaderMap::new();
    let bad = ResponseView {
        reason: "OK",
        status: 200,
        url: "http://localhost:8080/",
        headers: &headers,
        body: br#"{"status":"degraded"}"#,
    };
    assert_eq!(
        step.evaluate(&bad, &mut vars),
        Outcome::Failure(
            r#"CatchResponseError('JSON /status is "degraded", expected "healthy"')"#.into()
        )
    );
}

#[test]
fn documented_example_compiles() {
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/scenario-format.md");
    let text = std::fs::read_to_string(doc).unwrap();
    let start = text.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + text[start..].find("```").unwrap();
    let s = locust_scenario::load_str("example.toml", &text[start..end])
        .unwrap_or_else(|e| panic!("{e}"));
    let class = s.get("WebsiteUser").unwrap();
    assert_eq!(class.tasks.len(), 3);
    assert_eq!(class.tasks[2].requires, vec!["user_ids".to_string()]);
}
