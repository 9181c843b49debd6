//! Files a request sends (`files` entries, `body_file`): paths relative to the scenario
//! file's folder (absolute paths as they are), read whole at load into shared bytes, once
//! per scenario file however many requests send them, never per request. There is no
//! size cap: a file is held in memory once for the whole run (a `files` upload with
//! templated `form` fields is also copied into each request's body while it is sent).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http::HeaderValue;
use toml::Spanned;

use crate::error::ScenarioError;
use crate::request::Cx;
use crate::source::suggest;

/// The files read so far for one scenario file, by canonical path.
#[derive(Debug, Default)]
pub(crate) struct Assets(Mutex<HashMap<PathBuf, Bytes>>);

impl Assets {
    /// The file's bytes, read on first use.
    fn read(&self, path: &Path) -> std::io::Result<Bytes> {
        let canonical = std::fs::canonicalize(path)?;
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bytes) = cache.get(&canonical) {
            return Ok(bytes.clone());
        }
        let bytes = Bytes::from(std::fs::read(&canonical)?);
        cache.insert(canonical, bytes.clone());
        Ok(bytes)
    }
}

/// A file to send: `"path"` or `{ path = "...", <options> }`.
pub(crate) struct FileRef {
    /// As written, for messages and the default multipart filename.
    pub path: String,
    pub bytes: Bytes,
    pub filename: Option<String>,
    pub content_type: Option<HeaderValue>,
}

/// Reads the file `value` names. `options` are the table keys allowed besides `path`
/// (`filename`, `content_type`); `key` names the entry in messages.
pub(crate) fn load(
    cx: &Cx<'_>,
    value: &Spanned<toml::Value>,
    key: &str,
    options: &[&str],
) -> Result<FileRef, ScenarioError> {
    let span = value.span();
    let usage = || {
        let mut example = String::from("path = \"data/photo.png\"");
        for option in options {
            example.push_str(match *option {
                "filename" => ", filename = \"photo.png\"",
                _ => ", content_type = \"image/png\"",
            });
        }
        format!("give a path (\"data/photo.png\") or a table {{ {example} }}")
    };
    let text = |field: &str, v: &toml::Value| match v {
        toml::Value::String(s) => Ok(s.clone()),
        _ => Err(cx.invalid(
            span.clone(),
            &format!("{key}.{field}"),
            format!("`{field}` is a string; {}", usage()),
        )),
    };
    let mut file = FileRef {
        path: String::new(),
        bytes: Bytes::new(),
        filename: None,
        content_type: None,
    };
    match value.get_ref() {
        toml::Value::String(path) => file.path = path.clone(),
        toml::Value::Table(table) => {
            for (field, v) in table {
                match field.as_str() {
                    "path" => file.path = text(field, v)?,
                    "filename" if options.contains(&"filename") => {
                        file.filename = Some(text(field, v)?)
                    }
                    "content_type" if options.contains(&"content_type") => {
                        let ct = text(field, v)?;
                        let parsed = HeaderValue::from_str(&ct).map_err(|_| {
                            cx.invalid(
                                span.clone(),
                                &format!("{key}.content_type"),
                                format!("invalid content_type {ct:?}: not a valid header value (one line of visible text, e.g. \"image/png\")"),
                            )
                        })?;
                        file.content_type = Some(parsed);
                    }
                    other => {
                        let allowed: Vec<&str> = std::iter::once("path")
                            .chain(options.iter().copied())
                            .collect();
                        let hint = match suggest(other, allowed.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`? "),
                            None => String::new(),
                        };
                        return Err(cx.invalid(
                            span,
                            &format!("{key}.{other}"),
                            format!(
                                "unknown key `{other}`; {hint}expected one of: {}",
                                allowed.join(", ")
                            ),
                        ));
                    }
                }
            }
            if !table.contains_key("path") {
                return Err(cx.invalid(span, key, format!("`path` is missing; {}", usage())));
            }
        }
        _ => return Err(cx.invalid(span, key, usage())),
    }
    if file.path.is_empty() {
        return Err(cx.invalid(span, key, format!("the path is empty; {}", usage())));
    }
    let folder = cx.file.path.parent().unwrap_or(Path::new(""));
    let full = folder.join(&file.path);
    file.bytes = cx.file.assets.read(&full).map_err(|e| {
        let shown = std::path::absolute(&full).unwrap_or_else(|_| full.clone());
        cx.invalid(
            span,
            key,
            format!(
                "cannot read file {:?} ({}): {e}; a path is relative to the folder of the scenario file",
                file.path,
                shown.display()
            ),
        )
    })?;
    Ok(file)
}

/// The multipart filename requests sends for an opened file: the path's last part.
pub(crate) fn base_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names() {
        assert_eq!(base_name("data/photo.png"), "photo.png");
        assert_eq!(base_name("/abs/x.bin"), "x.bin");
        assert_eq!(base_name("plain"), "plain");
    }

    #[test]
    fn a_file_is_read_once_per_scenario_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"first").unwrap();
        let assets = Assets::default();
        let one = assets.read(&path).unwrap();
        std::fs::write(&path, b"second").unwrap();
        let two = assets.read(&dir.path().join(".").join("a.bin")).unwrap();
        assert_eq!((&one[..], &two[..]), (&b"first"[..], &b"first"[..]));
        assert_eq!(one.as_ptr(), two.as_ptr(), "the same bytes, shared");
        assert!(assets.read(&dir.path().join("missing")).is_err());
    }
}
