//! The reports of a finished (or interrupted) run: the versioned JSON result
//! (`--report-json`) and the HTML report (`--html`), both from one redacted document
//! (`model`), so they always agree. Formatting only: the figures are computed before.

pub mod html;
pub mod model;
pub mod redact;
pub mod svg;

use std::path::Path;

pub use model::{build, open_model_doc, ResultDoc, RunFacts};
pub use redact::Redactor;

/// Locust's `--html` name substitution: `{u}` users, `{r}` spawn rate, `{t}` run time in
/// seconds; whole numbers print without a decimal part.
pub fn substitute(template: &str, users: u64, spawn_rate: f64, run_time: Option<u64>) -> String {
    let rate = if spawn_rate.fract() == 0.0 {
        format!("{spawn_rate:.0}")
    } else {
        spawn_rate.to_string()
    };
    let time = run_time.map_or_else(|| "None".to_string(), |t| t.to_string());
    template
        .replace("{u}", &users.to_string())
        .replace("{r}", &rate)
        .replace("{t}", &time)
}

fn write_file(path: &str, text: &str) -> std::io::Result<()> {
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Writes the requested reports; returns the paths written. Each failure is an error
/// naming the flag and the file.
pub fn write(
    doc: &ResultDoc,
    start: f64,
    redactor: &Redactor,
    html_path: Option<&str>,
    json_path: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut value = serde_json::to_value(doc)?;
    redactor.json(&mut value);
    let mut written = Vec::new();
    if let Some(path) = json_path {
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        write_file(path, &text).map_err(|e| anyhow::anyhow!("--report-json {path}: {e}"))?;
        written.push(path.to_string());
    }
    if let Some(path) = html_path {
        let page = html::render(doc, &value, start, redactor)
            .map_err(|e| anyhow::anyhow!("--html {path}: rendering the report failed: {e:#}"))?;
        write_file(path, &page).map_err(|e| anyhow::anyhow!("--html {path}: {e}"))?;
        written.push(path.to_string());
    }
    Ok(written)
}

/// The HTML report as a string (the web UI's `/stats/report`), redacted like the file.
pub fn html_page(doc: &ResultDoc, start: f64, redactor: &Redactor) -> anyhow::Result<String> {
    let mut value = serde_json::to_value(doc)?;
    redactor.json(&mut value);
    html::render(doc, &value, start, redactor)
        .map_err(|e| anyhow::anyhow!("rendering the report failed: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_names_substitute_like_locust() {
        assert_eq!(
            substitute("r_{u}_{r}_{t}.html", 10, 2.0, Some(60)),
            "r_10_2_60.html"
        );
        assert_eq!(substitute("{r}", 1, 0.5, None), "0.5");
        assert_eq!(substitute("{t}", 1, 1.0, None), "None");
    }
}
