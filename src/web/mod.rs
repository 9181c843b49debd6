//! Interactive mode: the web UI and Locust's REST API on `--web-host:--web-port`
//! (127.0.0.1:8089 by default), under `--web-base-path`, behind optional basic auth.
//! The process runs until Ctrl-C, SIGTERM or `--autoquit`; then the last test's final
//! tables, CSV files and reports are written exactly as a headless run writes them.

mod api;
mod auth;
mod downloads;
mod json_reply;
mod origin_guard;
mod page;
mod phases;
#[cfg(test)]
mod profile_tests;
mod profiles;
mod session;
mod shape_plan;
mod stats_json;
mod swarm_form;
mod test_json;
mod test_run;

use std::future::IntoFuture;
use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use locust_stats::Stats;
use tokio_util::sync::CancellationToken;

use crate::config::cli::Cli;
use crate::config::Settings;
use crate::judge::{self, Judge};
use crate::logging::MAIN;
use crate::master::Master;
use crate::outcome::StopReason;
use crate::plan::Plan;
use crate::sinks::console::Console;
use crate::sinks::report::{self, ReportContext};
use locust_stats::epoch_now;
pub use session::Session;

/// Every route of the UI and the API, under the base path, behind the origin guard
/// (Host, Origin and CORS: `origin_guard`), and basic auth when configured.
pub fn router(session: Arc<Session>) -> Router {
    let web = session.base.web.clone();
    let guard = origin_guard::Guard::new(&web);
    let routes = Router::new()
        .route("/", get(page::index))
        .route("/assets/web.js", get(page::script))
        .route("/assets/charts.js", get(page::charts))
        .route("/assets/tables.js", get(page::tables))
        .route("/assets/panels.js", get(page::panels))
        .route("/assets/web.css", get(page::style))
        .route("/swarm", post(api::swarm))
        .route("/stop", post(api::stop))
        .route("/stats/reset", post(api::reset))
        .route("/stats/requests", get(api::requests))
        .route("/stats/requests/csv", get(downloads::requests_csv))
        .route(
            "/stats/requests_full_history/csv",
            get(downloads::full_history_csv),
        )
        .route("/stats/failures/csv", get(downloads::failures_csv))
        .route("/exceptions", get(api::exceptions))
        .route("/exceptions/csv", get(downloads::exceptions_csv))
        .route("/stats/report", get(downloads::report_page))
        .route("/tasks", get(api::tasks))
        .route("/logs", get(api::logs))
        .route("/worker-count", get(api::worker_count))
        .route("/test", get(test_json::test))
        .with_state(session);
    let mut app = if web.base_path.is_empty() {
        routes
    } else {
        let index = format!("{}/", web.base_path);
        Router::new()
            .route(&index, get(page_redirect(web.base_path.clone())))
            .nest(&web.base_path, routes)
    };
    if let Some(auth) = web.auth {
        app = app.layer(axum::middleware::from_fn_with_state(auth, auth::require));
    }
    app.layer(axum::middleware::from_fn_with_state(
        guard,
        origin_guard::check,
    ))
}

/// `/base/` shows the same page as `/base`.
fn page_redirect(base: String) -> axum::routing::MethodRouter {
    get(move || {
        let base = base.clone();
        async move { axum::response::Redirect::permanent(&base) }
    })
}

/// Serves the UI until the process is told to quit; returns the exit code.
pub async fn serve(
    settings: Settings,
    cli: Cli,
    cwd: PathBuf,
    plan: Plan,
    judge: Judge,
    report: ReportContext,
    master: Option<Arc<Master>>,
) -> anyhow::Result<i32> {
    let web = settings.web.clone();
    let listener = tokio::net::TcpListener::bind((web.host.as_str(), web.port))
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot serve the web UI on {}:{}: {e}", web.host, web.port)
        })?;
    let address = listener.local_addr()?;
    let mut session = Session::new(settings, cli, cwd, plan, judge, report);
    session.master = master;
    let session = Arc::new(session);
    let quit = CancellationToken::new();
    let server = tokio::spawn(
        axum::serve(
            listener,
            router(session.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(quit.clone().cancelled_owned())
        .into_future(),
    );
    tracing::info!(
        target: MAIN,
        "Starting web interface at http://{address}{}",
        web.base_path
    );
    if web.beyond_loopback() && web.auth.is_none() {
        tracing::warn!(
            target: MAIN,
            "The web UI listens on {} without authentication: anyone who can reach it can start load from this machine. Use --web-auth user:password, or --web-host 127.0.0.1",
            web.host
        );
    }
    if web.allowed_hosts.iter().any(|h| h == "*") || web.cors.iter().any(|o| o == "*") {
        tracing::warn!(
            target: MAIN,
            "--web-allowed-hosts * or --web-cors * is set: any web page (another site, DNS rebinding) can drive this UI"
        );
    }
    if web.autostart {
        autostart(&session, &quit).await?;
    }
    let reason = tokio::select! {
        _ = tokio::signal::ctrl_c() => StopReason::Interrupt,
        _ = crate::signals::sigterm() => StopReason::Terminate,
        _ = quit.cancelled() => StopReason::RunTime,
    };
    if reason == StopReason::Terminate {
        tracing::info!(target: MAIN, "Got SIGTERM signal");
    }
    quit.cancel();
    session.stop(reason).await;
    server.abort();
    finish(&session).await
}

/// `--autostart`: the test starts with -u/-r/-t; when it ends, `--autoquit N` quits
/// N seconds later, as Locust does.
async fn autostart(session: &Arc<Session>, quit: &CancellationToken) -> anyhow::Result<()> {
    let base = &session.base;
    let request = swarm_form::SwarmRequest {
        user_count: base.spec.users,
        spawn_rate: base.spec.spawn_rate,
        host: None,
        run_time: base.spec.run_time.map(|d| d.as_secs()),
        profile: None,
        user_classes: Vec::new(),
    };
    session
        .swarm(request)
        .await
        .map_err(|message| anyhow::anyhow!("--autostart: {message}"))?;
    let Some(test) = session.current() else {
        return Ok(());
    };
    let autoquit = base.web.autoquit;
    let quit = quit.clone();
    tokio::spawn(async move {
        test.done.cancelled().await;
        match autoquit {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                quit.cancel();
            }
            None => tracing::info!(
                target: MAIN,
                "--autoquit not specified, leaving web ui running indefinitely"
            ),
        }
    });
    Ok(())
}

/// The end of the process: the last test's final tables, CSV rows, verdict and reports.
async fn finish(session: &Session) -> anyhow::Result<i32> {
    let Some(test) = session.current() else {
        tracing::info!(target: MAIN, "Shutting down (exit code 0)");
        Console::new(&session.base)
            .final_summary(&Stats::new(epoch_now(), false), &session.base.output)?;
        return Ok(crate::exit::OK);
    };
    // The test stopped already (Stop, run time, quitting): this returns that run.
    let finished = test.finish(StopReason::Interrupt).await;
    let judged = judge::judge(
        &test.settings,
        &test.judge,
        &finished.stats,
        None,
        finished.reason,
        finished.end - finished.start,
    );
    let exit_code = judged.exit_code;
    tracing::info!(target: MAIN, "Shutting down (exit code {exit_code})");
    Console::new(&test.settings).final_summary(&finished.stats, &test.settings.output)?;
    report::conclude(&test.settings, &test.report, judged, &finished)?;
    Ok(exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{to_bytes, Body};
    use axum::http::{Request, StatusCode};
    use clap::Parser;
    use tower::ServiceExt;

    const SCENARIO: &str = "[users.A]\nwait_time = \"constant(0.05)\"\n[[users.A.tasks]]\nname = \"h\"\nrequest = { path = \"/health\" }\n";

    /// A session whose host is the discard port on loopback: nothing listens, so every
    /// request is a recorded connection failure.
    fn app(extra: &[&str]) -> (tempfile::TempDir, Router) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(&file, SCENARIO).unwrap();
        let file = file.display().to_string();
        let mut args = vec!["locust-rs", "-f", &file, "-H", "http://127.0.0.1:9"];
        args.extend_from_slice(extra);
        let cli = Cli::try_parse_from(args).unwrap();
        let settings = crate::config::resolve(cli.clone(), dir.path()).unwrap();
        let plan = crate::plan::build(&settings).unwrap();
        let judge = Judge::prepare(&settings, &plan).unwrap();
        let report = ReportContext::prepare(&settings, &plan, String::new());
        let cwd = dir.path().to_path_buf();
        let session = Arc::new(Session::new(settings, cli, cwd, plan, judge, report));
        (dir, router(session))
    }

    async fn call(app: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8089")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 22).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn api_routes_answer_as_locust_does() {
        let (_dir, app) = app(&[]);
        let (status, body) = call(&app, "GET", "/stats/requests", "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.starts_with("{\n  \"cache\""),
            "2-space indent, sorted: {body}"
        );
        assert_eq!(json(&body)["state"], "ready");
        let (_, body) = call(&app, "GET", "/worker-count", "").await;
        assert_eq!(json(&body), serde_json::json!({"worker_count": 0}));
        let (status, _) = call(&app, "GET", "/stop", "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        let (_, body) = call(&app, "POST", "/swarm", "user_count=x&spawn_rate=1").await;
        assert_eq!(
            json(&body)["message"],
            "Invalid user_count value: 'x' (must be an integer)"
        );
        let (_, page) = call(&app, "GET", "/", "").await;
        assert!(page.contains("window.templateArgs = {"));
        let (_, body) = call(&app, "GET", "/tasks", "").await;
        assert_eq!(json(&body)["total"]["A"]["ratio"], 1.0);
        let (status, body) = call(&app, "POST", "/stats/reset", "").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    }

    #[tokio::test]
    async fn a_swarm_against_a_dead_port_records_failures_and_stops() {
        let (_dir, app) = app(&[]);
        let (_, body) = call(&app, "POST", "/swarm", "user_count=2&spawn_rate=10").await;
        let answer = json(&body);
        assert_eq!(answer["success"], true, "{answer}");
        assert_eq!(answer["host"], "http://127.0.0.1:9");
        let mut failures = 0;
        for _ in 0..200 {
            let (_, body) = call(&app, "GET", "/stats/requests", "").await;
            let stats = json(&body);
            failures = stats["stats"].as_array().unwrap().last().unwrap()["num_failures"]
                .as_u64()
                .unwrap();
            if failures > 0 {
                assert!(stats["errors"][0]["error"]
                    .as_str()
                    .unwrap()
                    .contains("ConnectionRefusedError"));
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(failures > 0, "connection failures are recorded");
        let (_, body) = call(&app, "POST", "/stop", "").await;
        assert_eq!(json(&body)["message"], "Test stopped");
        let (_, body) = call(&app, "GET", "/stats/requests", "").await;
        assert_eq!(json(&body)["state"], "stopped");
    }

    #[tokio::test]
    async fn basic_auth_guards_the_api() {
        let (_dir, app) = app(&["--web-auth", "u:p"]);
        let (status, _) = call(&app, "GET", "/stats/requests", "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = call(&app, "POST", "/swarm", "user_count=1&spawn_rate=1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
