//! Oneshot tests of every route and status of the demo target's router, the
//! round-robin spread, the cache, failure injection and the counters. Timing tests
//! run on tokio's paused clock, so they assert exact virtual delays, not wall time.

// Helpers outside #[test] fns are test code too (clippy.toml only covers the fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use locust_demo_target::{app, DemoConfig, DemoState, Mode, UNMATCHED_ROUTE};
use serde_json::{json, Value};
use tokio::time::Instant;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(app: &Router, method: &str, uri: &str, body: Option<&str>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Body::from(body.unwrap_or_default().to_owned()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Answer {
    send(app, "GET", uri, None).await
}

fn instant_app() -> (Router, DemoState) {
    app(DemoConfig::instant(), Mode::Gateway)
}

async fn create(app: &Router, name: &str) -> u64 {
    let body = json!({ "name": name, "email": format!("{name}@example.com") }).to_string();
    let a = send(app, "POST", "/users", Some(&body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_u64().unwrap()
}

#[tokio::test]
async fn gateway_health_has_no_instance() {
    let (app, _) = instant_app();
    let a = get(&app, "/gateway-health").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, json!({ "status": "healthy", "service": "gateway" }));
    assert_eq!(a.header("x-instance-id"), None);
}

#[tokio::test]
async fn health_round_robins_evenly_over_three_instances() {
    let (app, state) = instant_app();
    let mut seen = Vec::new();
    for _ in 0..30 {
        let a = get(&app, "/health").await;
        assert_eq!(a.status, StatusCode::OK);
        let header = a.header("x-instance-id").unwrap().to_owned();
        assert_eq!(
            a.body["instance"],
            header.as_str(),
            "body names the same instance"
        );
        assert_eq!(a.body["status"], "healthy");
        assert_eq!(a.body["redis"], "connected");
        seen.push(header);
    }
    assert_eq!(&seen[..3], ["app1", "app2", "app3"]);
    let c = state.counters();
    for name in ["app1", "app2", "app3"] {
        assert_eq!(seen.iter().filter(|s| *s == name).count(), 10);
        assert_eq!(c.instance(name), 10);
    }
}

#[tokio::test]
async fn pinned_health_and_unknown_instance() {
    let (app, _) = instant_app();
    for name in ["app1", "app2", "app3", "app2"] {
        let a = get(&app, &format!("/{name}/health")).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("x-instance-id"), Some(name));
        assert_eq!(a.body["instance"], name);
    }
    let a = get(&app, "/app4/health").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.header("x-instance-id"), None);
    assert_eq!(a.body, json!({ "detail": "Not Found" }));
}

#[tokio::test]
async fn instance_mode_serves_as_that_instance_only() {
    let (app, _) = app(DemoConfig::instant(), Mode::Instance("app7".into()));
    for _ in 0..3 {
        let a = get(&app, "/health").await;
        assert_eq!(a.header("x-instance-id"), Some("app7"));
        assert_eq!(a.body["instance"], "app7");
    }
    assert_eq!(get(&app, "/app7/health").await.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/app1/health").await.status,
        StatusCode::NOT_FOUND
    );
    let a = get(&app, "/gateway-health").await;
    assert_eq!(
        (a.status, a.header("x-instance-id")),
        (StatusCode::OK, None)
    );
}

#[tokio::test]
async fn users_crud_round_trip() {
    let (app, state) = instant_app();
    let a = send(
        &app,
        "POST",
        "/users",
        Some(r#"{"name":"Ann","email":"ann@x.io"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(
        a.body,
        json!({ "id": 1, "name": "Ann", "email": "ann@x.io" })
    );
    assert!(a.header("x-instance-id").is_some());
    let id = a.body["id"].as_u64().unwrap();

    let a = get(&app, &format!("/users/{id}")).await;
    assert_eq!(
        (a.status, a.body["name"].clone()),
        (StatusCode::OK, json!("Ann"))
    );

    let body = r#"{"name":"Anna","email":"anna@x.io"}"#;
    let a = send(&app, "PUT", &format!("/users/{id}"), Some(body)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        json!({ "id": id, "name": "Anna", "email": "anna@x.io" })
    );
    assert_eq!(
        get(&app, &format!("/users/{id}")).await.body["name"],
        "Anna"
    );

    let a = send(&app, "DELETE", &format!("/users/{id}"), None).await;
    assert_eq!(
        (a.status, a.body.clone()),
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert!(a.header("x-instance-id").is_some());
    assert_eq!(state.user_count(), 0);

    let gone = json!({ "detail": "User not found" });
    let a = get(&app, &format!("/users/{id}")).await;
    assert_eq!((a.status, a.body), (StatusCode::NOT_FOUND, gone.clone()));
    let a = send(&app, "PUT", &format!("/users/{id}"), Some(body)).await;
    assert_eq!((a.status, a.body), (StatusCode::NOT_FOUND, gone.clone()));
    let a = send(&app, "DELETE", &format!("/users/{id}"), None).await;
    assert_eq!((a.status, a.body), (StatusCode::NOT_FOUND, gone));
}

#[tokio::test]
async fn list_pages_and_caps() {
    let (app, _) = instant_app();
    for i in 0..120 {
        create(&app, &format!("u{i}")).await;
    }
    let a = get(&app, "/users?skip=0&limit=10").await;
    assert_eq!(a.status, StatusCode::OK);
    let ids: Vec<u64> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert_eq!(
        get(&app, "/users?skip=115")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        get(&app, "/users").await.body.as_array().unwrap().len(),
        100
    );
    assert_eq!(
        get(&app, "/users?limit=5000")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        100
    );
    assert_eq!(
        get(&app, "/users?skip=99999999999999999999999").await.body,
        json!([])
    );
    for bad in ["/users?skip=abc", "/users?limit=-1", "/users?limit=%FF"] {
        let a = get(&app, bad).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(a.body["detail"].is_array(), "{bad}: {}", a.body);
    }
}

#[tokio::test]
async fn bad_bodies_and_ids_are_422_like_fastapi() {
    let (app, state) = instant_app();
    let bodies = [
        "",
        "{",
        "not json",
        "[]",
        "{}",
        r#"{"name":"a"}"#,
        r#"{"name":1,"email":"e"}"#,
        r#"{"name":"a","email":null}"#,
    ];
    for body in bodies {
        let a = send(&app, "POST", "/users", Some(body)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        let detail = a.body["detail"].as_array().unwrap();
        assert!(!detail.is_empty());
        for item in detail {
            assert!(item["type"].is_string() && item["loc"].is_array() && item["msg"].is_string());
        }
        assert!(
            a.header("x-instance-id").is_some(),
            "an app instance answered"
        );
    }
    let a = send(&app, "POST", "/users", Some("{}")).await;
    assert_eq!(a.body["detail"][0]["loc"], json!(["body", "name"]));
    assert_eq!(a.body["detail"][1]["loc"], json!(["body", "email"]));
    assert_eq!(state.user_count(), 0);

    for path in ["/users/abc", "/users/1.5", "/users/%FF%FE"] {
        for method in ["GET", "PUT", "DELETE"] {
            let body = (method == "PUT").then_some(r#"{"name":"a","email":"b"}"#);
            let a = send(&app, method, path, body).await;
            assert_eq!(
                a.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path}"
            );
            assert_eq!(a.body["detail"][0]["type"], "int_parsing");
            assert_eq!(a.body["detail"][0]["loc"], json!(["path", "user_id"]));
        }
    }
    // Both a bad id and a bad body are reported at once.
    let a = send(&app, "PUT", "/users/abc", Some("{}")).await;
    assert_eq!(a.body["detail"].as_array().unwrap().len(), 3);
    // Syntactically valid but impossible ids are simply not found.
    let huge = "9".repeat(400);
    for path in ["/users/0", "/users/-5", &format!("/users/{huge}")] {
        assert_eq!(
            get(&app, path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Oversized bodies are refused before parsing.
    let big = format!(r#"{{"name":"{}","email":"e"}}"#, "x".repeat(100_000));
    let a = send(&app, "POST", "/users", Some(&big)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.body["detail"].is_string());
    let a = send(&app, "POST", "/__demo/config", Some(&big)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let (app, state) = instant_app();
    let a = get(&app, "/nope").await;
    assert_eq!(
        (a.status, a.body),
        (StatusCode::NOT_FOUND, json!({ "detail": "Not Found" }))
    );
    let a = send(&app, "PATCH", "/users/1", Some("{}")).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.body, json!({ "detail": "Method Not Allowed" }));
    let c = state.counters();
    assert_eq!(c.route(UNMATCHED_ROUTE), 1);
    assert_eq!(c.route("PATCH /users/{id}"), 1);
    assert_eq!((c.status(404), c.status(405), c.total), (1, 1, 2));
}

#[tokio::test]
async fn cache_hit_after_miss_and_miss_after_put_or_delete() {
    let (app, _) = instant_app();
    let id = create(&app, "c").await;
    let uri = format!("/users/{id}");
    let cache = |a: Answer| a.header("x-cache").map(str::to_owned);
    assert_eq!(cache(get(&app, &uri).await).as_deref(), Some("MISS"));
    assert_eq!(cache(get(&app, &uri).await).as_deref(), Some("HIT"));
    assert_eq!(cache(get(&app, &uri).await).as_deref(), Some("HIT"));
    let body = r#"{"name":"d","email":"d@x"}"#;
    assert_eq!(
        send(&app, "PUT", &uri, Some(body)).await.status,
        StatusCode::OK
    );
    let a = get(&app, &uri).await;
    assert_eq!(a.header("x-cache"), Some("MISS"));
    assert_eq!(a.body["name"], "d", "the cache never serves the old copy");
    assert_eq!(cache(get(&app, &uri).await).as_deref(), Some("HIT"));
    send(&app, "DELETE", &uri, None).await;
    let a = get(&app, &uri).await;
    assert_eq!(
        (a.status, a.header("x-cache")),
        (StatusCode::NOT_FOUND, Some("MISS"))
    );
}

#[tokio::test]
async fn store_is_bounded_and_ids_are_shared() {
    let config = DemoConfig {
        max_users: 3,
        ..DemoConfig::instant()
    };
    let (app, state) = app(config, Mode::Gateway);
    let ids: Vec<u64> = create_many(&app, 5).await;
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5],
        "one counter across round-robin instances"
    );
    assert_eq!(state.user_count(), 3);
    assert_eq!(get(&app, "/users/1").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/users/5").await.status, StatusCode::OK);
}

async fn create_many(app: &Router, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(create(app, &format!("s{i}")).await);
    }
    ids
}

#[tokio::test]
async fn error_rate_one_fails_every_app_answer_and_zero_none() {
    let config = DemoConfig {
        error_rate: 1.0,
        ..DemoConfig::instant()
    };
    let (app, state) = app(config, Mode::Gateway);
    for uri in ["/health", "/app2/health", "/users", "/users/1"] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert_eq!(a.body, json!({ "detail": "injected failure" }));
        assert!(a.header("x-instance-id").is_some());
    }
    assert_eq!(
        get(&app, "/gateway-health").await.status,
        StatusCode::OK,
        "gateway never fails"
    );
    assert_eq!(state.counters().status(500), 4);

    state.set_error_rate(0.0);
    for _ in 0..50 {
        assert_eq!(get(&app, "/health").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn error_rate_fraction_is_roughly_kept() {
    let config = DemoConfig {
        error_rate: 0.2,
        ..DemoConfig::instant()
    };
    let (app, state) = app(config, Mode::Gateway);
    for _ in 0..1000 {
        get(&app, "/health").await;
    }
    let failed = state.counters().status(500);
    assert!((140..=260).contains(&failed), "{failed} of 1000 at 20%");
}

#[tokio::test(start_paused = true)]
async fn slow_answers_take_the_slow_time_on_top() {
    let config = DemoConfig {
        slow_rate: 1.0,
        slow_time: Duration::from_millis(600),
        ..DemoConfig::instant()
    };
    let (app, _state) = app(config, Mode::Gateway);
    let started = Instant::now();
    assert_eq!(get(&app, "/health").await.status, StatusCode::OK);
    assert_eq!(started.elapsed(), Duration::from_millis(600));
    let started = Instant::now();
    get(&app, "/gateway-health").await;
    assert_eq!(started.elapsed(), Duration::ZERO, "not an app answer");
}

#[tokio::test]
async fn dropped_connections_never_complete_an_answer() {
    let config = DemoConfig {
        drop_rate: 1.0,
        ..DemoConfig::instant()
    };
    let (app, _state) = app(config, Mode::Gateway);
    for uri in ["/health", "/users", "/app1/health"] {
        let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await;
        assert!(
            body.is_err(),
            "{uri}: the body fails, so hyper closes the connection"
        );
    }
    assert_eq!(get(&app, "/gateway-health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn counters_count_exactly_what_was_served() {
    let (app, state) = instant_app();
    get(&app, "/gateway-health").await;
    for _ in 0..3 {
        get(&app, "/health").await;
    }
    get(&app, "/app3/health").await;
    let id = create(&app, "k").await;
    get(&app, &format!("/users/{id}")).await;
    get(&app, &format!("/users/{id}")).await;
    get(&app, "/users/999").await;
    get(&app, "/__demo/stats").await;
    get(&app, "/__demo/config").await;

    let c = state.counters();
    assert_eq!(c.total, 9, "control routes are not counted: {c:?}");
    assert_eq!(c.route("GET /gateway-health"), 1);
    assert_eq!(c.route("GET /health"), 3);
    assert_eq!(c.route("GET /{instance}/health"), 1);
    assert_eq!(c.route("POST /users"), 1);
    assert_eq!(c.route("GET /users/{id}"), 3);
    assert_eq!(c.by_route.len(), 5);
    assert_eq!((c.status(200), c.status(201), c.status(404)), (7, 1, 1));
    assert_eq!(
        c.by_instance.values().sum::<u64>(),
        8,
        "all but the gateway answer"
    );
    assert_eq!(c.instance("app3"), 3, "2 round-robin + 1 pinned");

    let stats = get(&app, "/__demo/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    let from_http: locust_demo_target::CountersSnapshot =
        serde_json::from_value(stats.body.clone()).unwrap();
    assert_eq!(from_http, c);
    assert_eq!(stats.body["users"], 1);
    assert_eq!(stats.body["cached"], 1);
    assert_eq!(stats.body["instances"], json!(["app1", "app2", "app3"]));
    assert_eq!(state.counters(), c, "reading stats changed nothing");
}

#[tokio::test]
async fn config_route_changes_knobs_live() {
    let (app, state) = instant_app();
    let a = send(
        &app,
        "POST",
        "/__demo/config",
        Some(r#"{"service_time_ms":2.5,"miss_penalty_ms":20,"error_rate":0.5}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        json!({ "service_time_ms": 2.5, "miss_penalty_ms": 20.0, "error_rate": 0.5 })
    );
    assert_eq!(state.service_time(), Duration::from_micros(2500));
    assert_eq!(state.miss_penalty(), Duration::from_millis(20));
    assert_eq!(get(&app, "/__demo/config").await.body, a.body);
    for bad in [
        r#"{"error_rate":2}"#,
        r#"{"service_time_ms":-1}"#,
        r#"{"miss_penalty_ms":1e300}"#,
        r#"{"servce_time_ms":1}"#,
        "nope",
        r#"{"service_time_ms":1,"error_rate":7}"#,
    ] {
        let a = send(&app, "POST", "/__demo/config", Some(bad)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(a.body["detail"].is_string());
    }
    assert_eq!(
        state.service_time(),
        Duration::from_micros(2500),
        "all or nothing"
    );
    assert_eq!(state.error_rate(), 0.5);
}

#[tokio::test(start_paused = true)]
async fn miss_pays_the_penalty_and_hit_does_not() {
    let config = DemoConfig {
        service_time: Duration::from_millis(1),
        miss_penalty: Duration::from_millis(10),
        ..DemoConfig::default()
    };
    let (app, _) = app(config, Mode::Gateway);
    let id = create(&app, "t").await;
    let uri = format!("/users/{id}");

    let t = Instant::now();
    let miss = get(&app, &uri).await;
    let miss_time = t.elapsed();
    let t = Instant::now();
    let hit = get(&app, &uri).await;
    let hit_time = t.elapsed();

    assert_eq!(miss.header("x-cache"), Some("MISS"));
    assert_eq!(hit.header("x-cache"), Some("HIT"));
    assert!(
        miss_time >= Duration::from_millis(11) && miss_time < Duration::from_millis(13),
        "{miss_time:?}"
    );
    assert!(
        hit_time >= Duration::from_millis(1) && hit_time < Duration::from_millis(3),
        "{hit_time:?}"
    );
    assert!(miss_time >= hit_time * 4, "a miss is several times slower");
}

#[tokio::test(start_paused = true)]
async fn concurrency_limit_queues_in_arrival_order() {
    let config = DemoConfig {
        service_time: Duration::from_millis(10),
        concurrency: Some(2),
        ..DemoConfig::instant()
    };
    let (app, _) = app(config, Mode::Gateway);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let app = app.clone();
        tasks.spawn(async move {
            get(&app, "/health").await;
            start.elapsed()
        });
    }
    let mut done: Vec<Duration> = tasks.join_all().await;
    done.sort();
    let ms: Vec<u128> = done.iter().map(Duration::as_millis).collect();
    // Two at a time, 10 ms each: pairs finish at 10, 20, 30 ms.
    assert_eq!(ms, [10, 10, 20, 20, 30, 30]);

    // Without a limit all six run at once.
    let (app, _) = locust_demo_target::app(
        DemoConfig {
            service_time: Duration::from_millis(10),
            ..DemoConfig::instant()
        },
        Mode::Gateway,
    );
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let app = app.clone();
        tasks.spawn(async move {
            get(&app, "/health").await;
            start.elapsed()
        });
    }
    let all: Vec<Duration> = tasks.join_all().await;
    assert!(all.iter().all(|d| d.as_millis() == 10), "{all:?}");
}
