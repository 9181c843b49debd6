//! The outputs of `all` (a profile whose `phases` name other profiles, run one after
//! another): each phase's output names (`--csv`/`--html`/`--report-json` with `_PHASE`
//! added), and the index HTML and JSON that link the phases' reports with a summary
//! table; the exit code is the worst of the phases'.

use std::path::Path;

use crate::config::Settings;
use crate::outcome::RunSummary;

/// What one finished phase produced.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    pub name: String,
    pub description: Option<String>,
    pub exit_code: i32,
    pub summary: RunSummary,
    pub html: Option<String>,
    pub json: Option<String>,
    pub csv: Option<String>,
}

/// The phase's settings with the parent run's output names, suffixed with the phase.
pub fn for_phase(parent: &Settings, phase: &str, mut settings: Settings) -> Settings {
    settings.output.csv_prefix = parent
        .output
        .csv_prefix
        .as_ref()
        .map(|p| format!("{p}_{phase}"));
    settings.output.html = parent.output.html.as_deref().map(|p| suffixed(p, phase));
    settings.output.report_json = parent
        .output
        .report_json
        .as_deref()
        .map(|p| suffixed(p, phase));
    settings.output.csv_full_history =
        parent.output.csv_prefix.is_some() && settings.output.csv_full_history;
    settings
}

/// `dir/run.html` + `basic` -> `dir/run_basic.html` (no extension: appended).
pub fn suffixed(path: &str, phase: &str) -> String {
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    match path[name_start..].rfind('.') {
        Some(dot) if dot > 0 => {
            let dot = name_start + dot;
            format!("{}_{phase}{}", &path[..dot], &path[dot..])
        }
        _ => format!("{path}_{phase}"),
    }
}

/// The worst exit code: any failing phase fails the run.
pub fn worst(results: &[PhaseResult]) -> i32 {
    results.iter().map(|r| r.exit_code).max().unwrap_or(0)
}

/// Writes the index HTML and JSON (at the parent run's `--html`/`--report-json`).
pub fn write_index(parent: &Settings, results: &[PhaseResult]) -> anyhow::Result<()> {
    let code = worst(results);
    if let Some(path) = &parent.output.html {
        write(path, &index_html(parent, results, code))
            .map_err(|e| anyhow::anyhow!("--html {path}: {e}"))?;
        tracing::info!(target: crate::logging::MAIN, "Index report written to {path}");
    }
    if let Some(path) = &parent.output.report_json {
        let phases: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "phase": r.name,
                    "description": r.description,
                    "exit_code": r.exit_code,
                    "passed": r.exit_code == 0,
                    "requests": r.summary.requests,
                    "failures": r.summary.failures,
                    "avg_ms": r.summary.avg_ms,
                    "p95_ms": r.summary.p95_ms,
                    "rps": r.summary.rps,
                    "seconds": r.summary.seconds,
                    "html": r.html,
                    "report_json": r.json,
                    "csv_prefix": r.csv,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "kind": "locust-rs phases index",
            "profile": parent.profile,
            "exit_code": code,
            "passed": code == 0,
            "phases": phases,
        });
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        write(path, &text).map_err(|e| anyhow::anyhow!("--report-json {path}: {e}"))?;
    }
    Ok(())
}

fn write(path: &str, text: &str) -> std::io::Result<()> {
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A link relative to the index (phase files sit beside it).
fn link(target: &Option<String>, label: &str) -> String {
    match target {
        Some(path) => {
            let name = Path::new(path)
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            format!("<a href=\"{}\">{}</a>", esc(&name), esc(label))
        }
        None => "—".into(),
    }
}

fn index_html(parent: &Settings, results: &[PhaseResult], code: i32) -> String {
    let title = format!(
        "locust-rs: {}",
        parent.profile.as_deref().unwrap_or("phases")
    );
    let verdict = if code == 0 { "PASS" } else { "FAIL" };
    let mut rows = String::new();
    for r in results {
        rows.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.2}</td><td>{:.0}</td><td>{} {}</td><td>{}</td></tr>\n",
            if r.exit_code == 0 { "pass" } else { "fail" },
            esc(&r.name),
            esc(r.description.as_deref().unwrap_or("")),
            if r.exit_code == 0 { "PASS" } else { "FAIL" },
            r.exit_code,
            r.summary.requests,
            r.summary.avg_ms,
            r.summary.p95_ms,
            r.summary.rps,
            r.summary.seconds,
            link(&r.html, "report"),
            link(&r.json, "JSON"),
            r.summary.failures,
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}\
         tr.pass td:nth-child(3){{color:#070}}tr.fail td:nth-child(3){{color:#b00}}</style></head>\n\
         <body><h1>{title}</h1>\n<p>Overall: <strong>{verdict}</strong> (exit code {code}); \
         {n} phases.</p>\n<table><thead><tr><th>Phase</th><th>Description</th><th>Verdict</th>\
         <th>Exit code</th><th>Requests</th><th>Avg (ms)</th><th>95%ile (ms)</th><th>req/s</th>\
         <th>Duration (s)</th><th>Reports</th><th>Failures</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n\
         </body></html>\n",
        title = esc(&title),
        n = results.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_names_go_before_the_extension() {
        assert_eq!(suffixed("r/all_1.html", "basic"), "r/all_1_basic.html");
        assert_eq!(suffixed("r.d/all", "spike"), "r.d/all_spike");
        assert_eq!(suffixed(".hidden", "x"), ".hidden_x");
    }
}
