//! The web UI's downloads: Locust's CSV files of the current test (`/stats/requests/csv`,
//! `/stats/failures/csv`, `/exceptions/csv`, `/stats/requests_full_history/csv`) and the
//! HTML report (`/stats/report`), named as Locust names them.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use locust_stats::report::csv;
use locust_stats::{History, Stats};

use super::api::{with_stats, Shared};
use super::session::Session;
use crate::judge;
use crate::outcome::Finished;
use crate::outcome::StopReason;
use crate::report;
use crate::sinks::report as sinks_report;
use locust_stats::epoch_now;

/// `Locust_<start, local time>_<locustfile>[_<host>]`, Locust's download name stem.
fn file_stem(session: &Session) -> String {
    let start = session.current().map_or_else(epoch_now, |t| t.started());
    let local = chrono::DateTime::from_timestamp(start.trunc() as i64, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d-%Hh%M")
                .to_string()
        })
        .unwrap_or_default();
    let host = session.host();
    let mut stem = format!("Locust_{local}_{}", session.locustfile_label());
    if !host.is_empty() {
        stem.push('_');
        stem.push_str(&host);
    }
    stem
}

fn attachment(content_type: &'static str, name: String, body: String) -> Response {
    // A quote or line break in a host must not break the header.
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (CONTENT_DISPOSITION, format!("attachment;filename={name}")),
        ],
        body,
    )
        .into_response()
}

fn csv_download(session: &Session, kind: &str, render: impl FnOnce(&Stats) -> String) -> Response {
    let body = with_stats(session, render);
    attachment(
        "text/csv",
        format!("{}_{kind}.csv", file_stem(session)),
        body,
    )
}

pub async fn requests_csv(State(session): State<Shared>) -> Response {
    csv_download(&session, "requests", csv::stats_csv)
}

pub async fn failures_csv(State(session): State<Shared>) -> Response {
    csv_download(&session, "failures", csv::failures_csv)
}

pub async fn exceptions_csv(State(session): State<Shared>) -> Response {
    csv_download(&session, "exceptions", csv::exceptions_csv)
}

pub async fn full_history_csv(State(session): State<Shared>) -> Response {
    let not_enabled = || {
        (
            StatusCode::NOT_FOUND,
            "Error: Server was not started with option to generate full history.",
        )
            .into_response()
    };
    let Some(prefix) = session
        .base
        .output
        .csv_prefix
        .as_ref()
        .filter(|_| session.base.output.csv_full_history)
    else {
        return not_enabled();
    };
    match std::fs::read_to_string(format!("{prefix}_stats_history.csv")) {
        Ok(body) => attachment(
            "text/csv",
            format!("{}_requests_full_history.csv", file_stem(&session)),
            body,
        ),
        Err(_) => not_enabled(),
    }
}

/// `/stats/report[?download=1]`: the report of the current (or last) test so far.
pub async fn report_page(
    State(session): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page = match session.current() {
        Some(test) => {
            let (end, reason) = test
                .ending()
                .unwrap_or((epoch_now(), StopReason::StillRunning));
            let so_far = Finished {
                stats: test.with_stats(Stats::clone),
                history: test.history(),
                open: None,
                reason,
                start: test.started(),
                end,
            };
            let judged = judge::judge(
                &test.settings,
                &test.judge,
                &so_far.stats,
                None,
                so_far.reason,
                so_far.end - so_far.start,
            );
            let doc = sinks_report::document(&test.settings, &test.report, judged, &so_far);
            report::html_page(&doc, so_far.start, &test.report.redactor)
        }
        None => {
            let now = epoch_now();
            let (judge, context) = session.base_judge();
            let nothing = Finished {
                stats: Stats::new(now, false),
                history: History::default(),
                open: None,
                reason: StopReason::StillRunning,
                start: now,
                end: now,
            };
            let judged = judge::judge(
                &session.base,
                &judge,
                &nothing.stats,
                None,
                nothing.reason,
                0.0,
            );
            let doc = sinks_report::document(&session.base, &context, judged, &nothing);
            report::html_page(&doc, now, &context.redactor)
        }
    };
    let page = match page {
        Ok(page) => page,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")).into_response(),
    };
    if query
        .get("download")
        .is_some_and(|v| !v.is_empty() && v != "0")
    {
        return attachment(
            "text/html; charset=utf-8",
            format!("{}.html", file_stem(&session)),
            page,
        );
    }
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}
