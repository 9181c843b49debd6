//! Interactive mode: the web UI and Locust's REST API on `--web-host:--web-port`
//! (127.0.0.1:8089 by default), under `--web-base-path`, behind optional basic auth.
//! The process runs until Ctrl-C, SIGTERM or `--autoquit`; then the last test's final
//! tables, CSV files and reports are written exactly as a headless run writes them.

mod api;
mod auth;
mod downloads;
mod json_reply;
mod page;
mod session;
mod stats_json;
mod swarm_form;
mod test_run;

use std::future::IntoFuture;
use std::path::PathBuf;
use std::sync::Arc;

use axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use locust_stats::{History, Stats};
use tokio_util::sync::CancellationToken;

use crate::cli::Cli;
use crate::logging::MAIN;
use crate::output::Console;
use crate::plan::Plan;
use crate::run::{now_epoch, StopReason};
use crate::settings::Settings;
use crate::verdict::{self, Ending, Judge};
pub use session::Session;

/// Every route of the UI and the API, under the base path, with CORS `*` as Locust
/// answers, and basic auth when configured.
pub fn router(session: Arc<Session>) -> Router {
    let web = session.base.web.clone();
    let routes = Router::new()
        .route("/", get(page::index))
        .route("/assets/web.js", get(page::script))
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
    app.layer(axum::middleware::map_response(allow_any_origin))
}

/// `/base/` shows the same page as `/base`.
fn page_redirect(base: String) -> axum::routing::MethodRouter {
    get(move || {
        let base = base.clone();
        async move { axum::response::Redirect::permanent(&base) }
    })
}

async fn allow_any_origin(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Serves the UI until the process is told to quit; returns the exit code.
pub async fn serve(
    settings: Settings,
    cli: Cli,
    cwd: PathBuf,
    plan: Plan,
    judge: Judge,
) -> anyhow::Result<i32> {
    let web = settings.web.clone();
    let listener = tokio::net::TcpListener::bind((web.host.as_str(), web.port))
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot serve the web UI on {}:{}: {e}", web.host, web.port)
        })?;
    let address = listener.local_addr()?;
    let session = Arc::new(Session::new(settings, cli, cwd, plan, judge));
    let quit = CancellationToken::new();
    let server = tokio::spawn(
        axum::serve(listener, router(session.clone()))
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
    if web.autostart {
        autostart(&session, &quit).await?;
    }
    let reason = tokio::select! {
        _ = tokio::signal::ctrl_c() => StopReason::Interrupt,
        _ = crate::run::sigterm() => StopReason::Terminate,
        _ = quit.cancelled() => StopReason::RunTime,
    };
    if reason == StopReason::Terminate {
        tracing::info!(target: MAIN, "Got SIGTERM signal");
    }
    quit.cancel();
    session.stop(reason).await;
    server.abort();
    finish(&session)
}

/// `--autostart`: the test starts with -u/-r/-t; when it ends, `--autoquit N` quits
/// N seconds later, as Locust does.
async fn autostart(session: &Arc<Session>, quit: &CancellationToken) -> anyhow::Result<()> {
    let base = &session.base;
    let request = swarm_form::SwarmRequest {
        user_count: base.users,
        spawn_rate: base.spawn_rate,
        host: None,
        run_time: base.run_time.map(|d| d.as_secs()),
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
fn finish(session: &Session) -> anyhow::Result<i32> {
    let Some(test) = session.current() else {
        tracing::info!(target: MAIN, "Shutting down (exit code 0)");
        Console::new(&session.base)
            .final_summary(&Stats::new(now_epoch(), false), &session.base)?;
        return Ok(crate::exit::OK);
    };
    let (end, reason) = test
        .ending()
        .unwrap_or((now_epoch(), StopReason::Interrupt));
    let stats = test.with_stats(Stats::clone);
    let history: History = test.history();
    let judged = verdict::judge(&test.settings, &test.judge, &stats);
    let exit_code = judged.exit_code;
    tracing::info!(target: MAIN, "Shutting down (exit code {exit_code})");
    Console::new(&test.settings).final_summary(&stats, &test.settings)?;
    let ending = Ending {
        stats: &stats,
        open: None,
        history: &history,
        reason,
        start: test.started,
        end,
    };
    verdict::conclude(&test.settings, &test.judge, judged, &ending)?;
    Ok(exit_code)
}
