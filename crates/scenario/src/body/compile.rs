//! A request table's body keys (`json`, `body`, `form`, `files`, `body_file`) compiled
//! into a [`Body`] and its [`ContentType`]. One body per request: the keys exclude each
//! other, except `form` with `files` (requests' `data=` with `files=`).

use std::collections::BTreeSet;
use std::ops::Range;

use bytes::Bytes;
use http::HeaderValue;
use minijinja::Value;
use toml::Spanned;

use super::{file, form, json, multipart, Body, ContentType, Multipart};
use crate::error::ScenarioError;
use crate::model::RequestDef;
use crate::request::Cx;
use crate::template::Template;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");

/// The body of the request `def` (dotted key `key`, in task `task`); the variables its
/// templates read go into `used`.
pub(crate) fn compile(
    cx: &mut Cx<'_>,
    def: &RequestDef,
    key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<(Body, ContentType), ScenarioError> {
    check_one_body(cx, def, key)?;
    if let Some(files) = &def.files {
        return multipart_body(cx, def, files, key, task, used);
    }
    if let Some(j) = &def.json {
        let jkey = format!("{key}.json");
        let tree = json::compile(cx, j.get_ref(), j.span(), &jkey, task, used)?;
        if !tree.is_static() {
            return Ok((Body::Json(tree), ContentType::Default(JSON)));
        }
        let env = minijinja::Environment::new();
        let bytes = tree
            .render(&env, &Value::UNDEFINED)
            .ok()
            .and_then(|v| serde_json::to_vec(&v).ok())
            .ok_or_else(|| cx.invalid(j.span(), &jkey, "cannot be written as JSON"))?;
        return Ok((Body::Static(Bytes::from(bytes)), ContentType::Default(JSON)));
    }
    if let Some(b) = &def.body {
        let t = cx.template(b, &format!("{key}.body"), task, used)?;
        let body = match t {
            Template::Static(s) => Body::Static(Bytes::copy_from_slice(s.as_bytes())),
            t => Body::Text(t),
        };
        return Ok((body, ContentType::None));
    }
    if let Some(f) = &def.form {
        let fields = form::compile(cx, f.get_ref(), &format!("{key}.form"), task, used)?;
        if fields.is_empty() {
            // requests sends no body (and no Content-Type) for an empty `data`.
            return Ok((Body::None, ContentType::None));
        }
        if fields.iter().all(|(_, v)| v.is_static()) {
            let text: Vec<(&str, &str)> = fields
                .iter()
                .map(|(n, v)| (n.as_str(), static_text(v)))
                .collect();
            let bytes = Bytes::from(form::encode(&text));
            return Ok((Body::Static(bytes), ContentType::Default(FORM)));
        }
        return Ok((Body::Form(fields), ContentType::Default(FORM)));
    }
    if let Some(f) = &def.body_file {
        let fkey = format!("{key}.body_file");
        let loaded = file::load(cx, f, &fkey, &["content_type"])?;
        let content_type = match loaded.content_type {
            Some(ct) => {
                no_content_type_header(cx, def, key, "`body_file.content_type` sets it")?;
                ContentType::Replace(ct)
            }
            None => ContentType::None,
        };
        return Ok((Body::Static(loaded.bytes), content_type));
    }
    Ok((Body::None, ContentType::None))
}

/// `form` fields first, then the files, as requests orders them.
fn multipart_body(
    cx: &mut Cx<'_>,
    def: &RequestDef,
    files: &Spanned<crate::model::Pairs<Spanned<toml::Value>>>,
    key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<(Body, ContentType), ScenarioError> {
    let fkey = format!("{key}.files");
    if files.get_ref().0.is_empty() {
        return Err(cx.invalid(
            files.span(),
            &fkey,
            "`files` is empty; give at least one file (`files = { upload = \"data/photo.png\" }`), or send `form` alone",
        ));
    }
    no_content_type_header(
        cx,
        def,
        key,
        "`files` sets it (multipart/form-data with the request's boundary)",
    )?;
    let mut parts = Multipart::default();
    if let Some(f) = &def.form {
        for (name, value) in form::compile(cx, f.get_ref(), &format!("{key}.form"), task, used)? {
            parts.field(&name, value);
        }
    }
    for (name, value) in &files.get_ref().0 {
        let ekey = format!("{fkey}.{name}");
        let entries: Vec<(Spanned<toml::Value>, String)> = match value.get_ref() {
            toml::Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    (
                        Spanned::new(value.span(), item.clone()),
                        format!("{ekey}[{i}]"),
                    )
                })
                .collect(),
            _ => vec![(Spanned::new(value.span(), value.get_ref().clone()), ekey)],
        };
        for (entry, ekey) in entries {
            let loaded = file::load(cx, &entry, &ekey, &["filename", "content_type"])?;
            let filename = loaded
                .filename
                .unwrap_or_else(|| file::base_name(&loaded.path));
            let content_type = loaded.content_type.as_ref().and_then(|c| c.to_str().ok());
            parts.file(name, &filename, content_type, loaded.bytes);
        }
    }
    if !parts.is_static() {
        return Ok((Body::Multipart(parts), ContentType::PerRequest));
    }
    // Nothing templated: built once, with one boundary, and shared by every request.
    let boundary = multipart::boundary();
    let env = minijinja::Environment::new();
    let built = parts.encode(&boundary, &env, &Value::UNDEFINED).ok();
    match (built, multipart::content_type(&boundary)) {
        (Some(bytes), Some(ct)) => Ok((Body::Static(Bytes::from(bytes)), ContentType::Replace(ct))),
        _ => Err(cx.invalid(files.span(), &fkey, "cannot build the multipart body")),
    }
}

/// The text of a template known to be static.
fn static_text(t: &Template) -> &str {
    match t {
        Template::Static(s) => s,
        Template::Dynamic(_) => "",
    }
}

/// A request header may not set Content-Type when the body sets it (`why`).
fn no_content_type_header(
    cx: &Cx<'_>,
    def: &RequestDef,
    key: &str,
    why: &str,
) -> Result<(), ScenarioError> {
    match def
        .headers
        .0
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        Some((name, value)) => Err(cx.invalid(
            value.span(),
            &format!("{key}.headers.{name}"),
            format!("this request's Content-Type is set by its body: {why}; remove this header"),
        )),
        None => Ok(()),
    }
}

/// At most one body: `json`, `body`, `form`, `body_file` or `files` (`form` may go with
/// `files`). The error points at the second of two keys that conflict.
fn check_one_body(cx: &Cx<'_>, def: &RequestDef, key: &str) -> Result<(), ScenarioError> {
    let mut present: Vec<(&str, Range<usize>)> = [
        ("json", def.json.as_ref().map(|v| v.span())),
        ("body", def.body.as_ref().map(|v| v.span())),
        ("form", def.form.as_ref().map(|v| v.span())),
        ("body_file", def.body_file.as_ref().map(|v| v.span())),
        ("files", def.files.as_ref().map(|v| v.span())),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect();
    present.sort_by_key(|(_, s)| s.start);
    for (i, (second, at)) in present.iter().enumerate() {
        for (first, _) in &present[..i] {
            let pair = [*first, *second];
            if pair == ["form", "files"] || pair == ["files", "form"] {
                continue;
            }
            return Err(cx.invalid(
                at.clone(),
                &format!("{key}.{second}"),
                format!(
                    "use either `{first}` or `{second}`, not both: a request has one body (`json`, `body`, `form`, `body_file` or `files`; only `form` goes with `files`, as its multipart fields)"
                ),
            ));
        }
    }
    Ok(())
}
