//! Real-socket tests: `start` on 127.0.0.1:0 driven by a reqwest client (a bounded
//! number of requests, hundreds of concurrent connections), shutdown and drop, and the
//! standalone `serve_until` / `serve_listener` entry points.

// Helpers outside #[test] fns are test code too (clippy.toml only covers the fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use locust_demo_target::{serve_listener, serve_until, start, DemoConfig, Mode};
use serde_json::{json, Value};

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test]
async fn serves_the_api_over_http() {
    let server = start(localhost(), DemoConfig::instant(), Mode::Gateway)
        .await
        .unwrap();
    assert!(server.addr().ip().is_loopback());
    assert_ne!(server.addr().port(), 0);
    let base = server.base_url();
    assert_eq!(base, format!("http://{}", server.addr()));
    let client = reqwest::Client::new();

    let res = client
        .get(format!("{base}/gateway-health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["service"], "gateway");

    for i in 0..9 {
        let res = client.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let expected = format!("app{}", i % 3 + 1);
        assert_eq!(res.headers()["x-instance-id"], expected.as_str());
        assert!(
            res.headers().get("connection").is_none(),
            "keep-alive stays on"
        );
    }

    let res = client
        .post(format!("{base}/users"))
        .json(&json!({ "name": "Net", "email": "net@x.io" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let first = client
        .get(format!("{base}/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.headers()["x-cache"], "MISS");
    let second = client
        .get(format!("{base}/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.headers()["x-cache"], "HIT");
    let bad = client
        .post(format!("{base}/users"))
        .header("content-type", "application/json")
        .body("{broken")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);

    let stats: Value = client
        .get(format!("{base}/__demo/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counters = server.counters();
    assert_eq!(counters.total, 14);
    assert_eq!(stats["total"], 14);
    assert_eq!(counters.route("GET /health"), 9);
    assert_eq!(counters.status(422), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn hundreds_of_concurrent_connections() {
    let config = DemoConfig {
        service_time: Duration::from_millis(50),
        ..DemoConfig::instant()
    };
    let server = start(localhost(), config, Mode::Gateway).await.unwrap();
    let url = format!("{}/health", server.base_url());
    let client = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let (client, url) = (client.clone(), url.clone());
        tasks.spawn(async move { client.get(url).send().await.map(|r| r.status().as_u16()) });
    }
    let statuses = tasks.join_all().await;
    assert!(
        statuses.iter().all(|s| matches!(s, Ok(200))),
        "{statuses:?}"
    );
    let c = server.counters();
    assert_eq!(c.total, 300);
    for name in ["app1", "app2", "app3"] {
        assert_eq!(c.instance(name), 100);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_and_drop_stop_listening() {
    let server = start(localhost(), DemoConfig::instant(), Mode::Gateway)
        .await
        .unwrap();
    let addr = server.addr();
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let server = start(localhost(), DemoConfig::instant(), Mode::Gateway)
        .await
        .unwrap();
    let addr = server.addr();
    drop(server);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "a dropped server stops listening");
}

#[tokio::test]
async fn standalone_instance_until_shutdown() {
    let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(serve_listener(
        listener,
        DemoConfig::instant(),
        Mode::Instance("app2".into()),
        async move {
            let _ = stopped.await;
        },
    ));
    let res = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(res.headers()["x-instance-id"], "app2");
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();

    // serve_until returns once its shutdown future completes.
    let done = serve_until(localhost(), DemoConfig::instant(), Mode::Gateway, async {});
    tokio::time::timeout(Duration::from_secs(5), done)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn invalid_config_is_refused_before_binding() {
    let config = DemoConfig {
        error_rate: 3.0,
        ..DemoConfig::default()
    };
    let err = start(localhost(), config.clone(), Mode::Gateway)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("error rate"), "{err}");
    let err = serve_until(
        localhost(),
        DemoConfig::default(),
        Mode::Instance("a b".into()),
        async {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
