//! `--html FILE`: the result document rendered with minijinja from `templates/`
//! (embedded at build time, auto-escaped), with the charts drawn as inline SVG by
//! `svg.rs`. One self-contained file: no script or style is loaded from anywhere, and a
//! Content-Security-Policy allows only the page's own one-line script.

use base64::Engine as _;
use minijinja::{context, AutoEscape, Environment, Value};
use sha2::{Digest, Sha256};

use super::model::{ResultDoc, REPORT_PERCENTILES};
use super::redact::Redactor;
use super::svg::{bar_chart, line_chart, Format, Series, PALETTE};

const TEMPLATE: &str = include_str!("../../templates/report.html");
const STYLE: &str = include_str!("../../templates/report.css");
/// The page's only script: marks the document as rendered (tests read the marker) with
/// the number of charts; it runs only if nothing before it broke.
const SCRIPT: &str = "document.documentElement.setAttribute('data-report-ready', String(document.querySelectorAll('svg[data-chart]').length));";

/// Renders the report from the (already redacted) result `value`; `doc` and `start`
/// feed the charts.
pub fn render(
    doc: &ResultDoc,
    value: &serde_json::Value,
    start: f64,
    redactor: &Redactor,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.add_filter("num", num);
    env.add_filter("ms", ms);
    env.add_filter("pct", pct);
    env.add_template("report.html", TEMPLATE)?;
    let charts: std::collections::BTreeMap<&str, Value> = charts(doc, start)
        .into_iter()
        .map(|(k, svg)| (k, Value::from_safe_string(redactor.text(&svg).into_owned())))
        .collect();
    let percentile_keys: Vec<Value> = REPORT_PERCENTILES
        .iter()
        .map(|p| context! { key => format!("{p}"), label => format!("{}%", p * 100.0) })
        .collect();
    let hash = Sha256::digest(SCRIPT.as_bytes());
    let script_hash = format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    );
    env.get_template("report.html")?.render(context! {
        r => Value::from_serialize(value),
        charts => charts,
        percentile_keys => percentile_keys,
        style => Value::from_safe_string(STYLE.to_string()),
        script => Value::from_safe_string(SCRIPT.to_string()),
        script_hash => script_hash,
    })
}

/// Up to 2 decimals, trailing zeros dropped; `—` for none.
fn num(value: Option<f64>) -> String {
    match value {
        None => "\u{2014}".into(),
        Some(v) if !v.is_finite() => "\u{221e}".into(),
        Some(v) => {
            let text = format!("{v:.2}");
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

fn ms(value: Option<f64>) -> String {
    match value {
        None => "\u{2014}".into(),
        v => format!("{} ms", num(v)),
    }
}

fn pct(value: Option<f64>) -> String {
    match value {
        None => "\u{2014}".into(),
        Some(v) => format!("{} %", num(Some(v * 100.0))),
    }
}

/// Every chart of the report, by the name the template uses.
fn charts(doc: &ResultDoc, start: f64) -> Vec<(&'static str, String)> {
    let points = &doc.history.points;
    let line = |name: &str,
                color: &'static str,
                f: &dyn Fn(&locust_stats::HistoryPoint) -> Option<f64>| Series {
        name: name.to_string(),
        color,
        points: points.iter().map(|p| (p.time - start, f(p))).collect(),
    };
    let mut out = vec![
        (
            "rps",
            line_chart(
                "rps",
                "Total Requests per Second",
                "requests / s",
                &[
                    line("RPS", PALETTE[2], &|p| Some(p.current_rps)),
                    line("Failures/s", PALETTE[1], &|p| Some(p.current_fail_per_sec)),
                ],
                Format::Number,
                None,
            ),
        ),
        (
            "response_times",
            line_chart(
                "response_times",
                "Response Times (ms)",
                "response time (ms)",
                &[
                    line("50th percentile", PALETTE[0], &|p| p.p50),
                    line("95th percentile", PALETTE[3], &|p| p.p95),
                    line("Average (whole run)", PALETTE[4], &|p| Some(p.total_avg)),
                ],
                Format::Ms,
                None,
            ),
        ),
        (
            "users",
            line_chart(
                "users",
                "Number of Users",
                "users",
                &[line("Users", PALETTE[0], &|p| Some(p.user_count))],
                Format::Number,
                None,
            ),
        ),
    ];
    let cache = &doc.cache;
    let mut latency = Vec::new();
    if let Some(v) = cache.summary.hit_median_ms {
        latency.push((format!("hit ({})", cache.hit_values.join("/")), v));
    }
    if let Some(v) = cache.summary.miss_median_ms {
        latency.push((format!("miss ({})", cache.miss_values.join("/")), v));
    }
    out.push((
        "cache_latency",
        bar_chart(
            "cache_latency",
            &format!("Cache hit vs miss: median response time ({})", cache.header),
            "median response time (ms)",
            &latency,
            Format::Ms,
            None,
        ),
    ));
    out.push((
        "cache_ratio",
        line_chart(
            "cache_ratio",
            "Cache hit ratio over time",
            "hit ratio",
            &[line("hit ratio", PALETTE[2], &|p| p.cache_hit_ratio)],
            Format::Percent,
            Some(1.0),
        ),
    ));
    out.push((
        "cache_latency_over_time",
        line_chart(
            "cache_latency_over_time",
            "Cache hit vs miss response time over time (mean per interval)",
            "response time (ms)",
            &[
                line("hit", PALETTE[2], &|p| p.cache_hit_ms),
                line("miss", PALETTE[1], &|p| p.cache_miss_ms),
            ],
            Format::Ms,
            None,
        ),
    ));
    let balance = &doc.balance;
    let shares: Vec<(String, f64)> = balance
        .instances
        .iter()
        .map(|i| (i.id.clone(), i.share))
        .collect();
    let even = (balance.instances_expected > 0).then(|| 1.0 / balance.instances_expected as f64);
    out.push((
        "instance_share",
        bar_chart(
            "instance_share",
            &format!("Share of responses per instance ({})", balance.header),
            "share of responses",
            &shares,
            Format::Percent,
            even.map(|e| (e, "even share")),
        ),
    ));
    let instance_series: Vec<Series> = balance
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| line(&inst.id, PALETTE[i % PALETTE.len()], &|p| p.share(&inst.id)))
        .collect();
    out.push((
        "instance_over_time",
        line_chart(
            "instance_over_time",
            "Share of responses per instance over time",
            "share of responses",
            &instance_series,
            Format::Percent,
            Some(1.0),
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_filters() {
        assert_eq!(num(Some(2.0)), "2");
        assert_eq!(num(Some(2.456)), "2.46");
        assert_eq!(num(None), "\u{2014}");
        assert_eq!(pct(Some(0.125)), "12.5 %");
        assert_eq!(ms(Some(3.0)), "3 ms");
    }
}
