//! The page and its assets, embedded in the binary: `templates/web/index.html` rendered
//! with minijinja (auto-escaped, the data as script-safe JSON), `web.js` (the page),
//! `charts.js`, `tables.js` and `panels.js` (what it draws and fills with) and
//! `web.css` served as they are.
//! Nothing is fetched from the network.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::{context, AutoEscape, Environment};

use super::api::Shared;

const INDEX: &str = include_str!("../../templates/web/index.html");
const SCRIPT: &str = include_str!("../../templates/web/web.js");
const CHARTS: &str = include_str!("../../templates/web/charts.js");
const TABLES: &str = include_str!("../../templates/web/tables.js");
const PANELS: &str = include_str!("../../templates/web/panels.js");
const STYLE: &str = include_str!("../../templates/web/web.css");

/// JSON that cannot close the `<script>` it sits in nor start markup inside it.
pub fn script_safe_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

pub fn render_index(
    template_args: &serde_json::Value,
    base_path: &str,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("index.html", INDEX)?;
    env.get_template("index.html")?.render(context! {
        template_args => script_safe_json(template_args),
        base_path => base_path,
        version => env!("CARGO_PKG_VERSION"),
    })
}

pub async fn index(State(session): State<Shared>) -> Response {
    let args = super::json_reply::sorted(session.template_args());
    match render_index(&args, &session.base.web.base_path) {
        Ok(page) => (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CACHE_CONTROL, "no-store"),
            ],
            page,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")).into_response(),
    }
}

pub async fn script() -> Response {
    javascript(SCRIPT)
}

pub async fn charts() -> Response {
    javascript(CHARTS)
}

pub async fn tables() -> Response {
    javascript(TABLES)
}

pub async fn panels() -> Response {
    javascript(PANELS)
}

fn javascript(text: &'static str) -> Response {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], text).into_response()
}

pub async fn style() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_cannot_leave_the_script() {
        let args = serde_json::json!({"host": "</script><script>alert(1)</script>&"});
        let page = render_index(&args, "/base").unwrap();
        assert!(!page.contains("</script><script>alert(1)"));
        assert!(page.contains("\\u003c/script\\u003e"));
        assert!(page.contains("base/assets/web.js"), "{page}");
    }
}
