//! Request bodies, as requests builds them: none, fixed bytes, a text template (`body`),
//! a JSON tree (`json`) whose strings are templates, form fields (`form`, requests'
//! `data=dict`), a multipart upload (`files`, with `form` fields first) or a file's bytes
//! (`body_file`). Everything without a template is encoded once at load and shared; a
//! file is read once at load, never per request.
//!
//! `compile` turns a request table's body keys into a [`Body`] and the Content-Type it
//! implies ([`ContentType`]); `Body::render` builds the bytes of one request.

mod compile;
mod file;
mod form;
mod json;
mod multipart;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue};
use minijinja::{Environment, ErrorKind, Value};

use crate::template::Template;

pub(crate) use compile::compile;
pub(crate) use file::Assets;
pub(crate) use json::JsonTpl;
pub(crate) use multipart::Multipart;

/// A request body, ready to render.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    /// Built at load: no template in it (or read from a file).
    Static(Bytes),
    Text(Template),
    Json(JsonTpl),
    /// `form` fields with a template: (name as written, value).
    Form(Vec<(String, Template)>),
    /// A multipart body with templated fields: built per request, with a fresh boundary.
    Multipart(Multipart),
}

/// The Content-Type a body implies, decided at load.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ContentType {
    /// None of its own (`body`, `body_file` without `content_type`).
    None,
    /// Set unless a class or request header sets one (`json`, `form`), as requests does.
    Default(HeaderValue),
    /// Set in place of a class header's (`files` built at load, `body_file`'s
    /// `content_type`): the body is only understood with this type.
    Replace(HeaderValue),
    /// Set by [`Body::render`] in place of a class header's (`files` with templated
    /// fields: the boundary changes with each request).
    PerRequest,
}

impl ContentType {
    /// Applies the type to a request's load-time headers: `headers` (fixed) and
    /// `dyn_headers` (templated); `set_elsewhere` tells whether a header kept outside
    /// them sets a Content-Type too.
    pub fn apply(
        &self,
        headers: &mut HeaderMap,
        dyn_headers: &mut Vec<(HeaderName, Template)>,
        set_elsewhere: bool,
    ) {
        match self {
            ContentType::None => {}
            ContentType::Default(value) => {
                let set = set_elsewhere
                    || headers.contains_key(CONTENT_TYPE)
                    || dyn_headers.iter().any(|(n, _)| n == CONTENT_TYPE);
                if !set {
                    headers.insert(CONTENT_TYPE, value.clone());
                }
            }
            ContentType::Replace(value) => {
                dyn_headers.retain(|(n, _)| n != CONTENT_TYPE);
                headers.insert(CONTENT_TYPE, value.clone());
            }
            ContentType::PerRequest => {
                dyn_headers.retain(|(n, _)| n != CONTENT_TYPE);
                headers.remove(CONTENT_TYPE);
            }
        }
    }
}

impl Body {
    pub fn is_static(&self) -> bool {
        matches!(self, Body::None | Body::Static(_))
    }

    /// The body of one request. A multipart body also sets its Content-Type (with the
    /// request's boundary) in `headers`.
    pub fn render(
        &self,
        env: &Environment<'static>,
        ctx: &Value,
        headers: &mut HeaderMap,
    ) -> Result<Option<Bytes>, minijinja::Error> {
        Ok(match self {
            Body::None => None,
            Body::Static(b) => Some(b.clone()),
            Body::Text(t) => Some(Bytes::from(t.render(env, ctx)?.into_owned())),
            Body::Json(tree) => {
                let v = tree.render(env, ctx)?;
                Some(Bytes::from(serde_json::to_vec(&v).map_err(|e| {
                    minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string())
                })?))
            }
            Body::Form(fields) => {
                let mut values = Vec::with_capacity(fields.len());
                for (name, value) in fields {
                    values.push((name.as_str(), value.render(env, ctx)?));
                }
                Some(Bytes::from(form::encode(&values)))
            }
            Body::Multipart(parts) => {
                let boundary = multipart::boundary();
                let content_type = multipart::content_type(&boundary).ok_or_else(|| {
                    minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!("multipart boundary {boundary:?} is not a header value"),
                    )
                })?;
                let bytes = parts.encode(&boundary, env, ctx)?;
                headers.insert(CONTENT_TYPE, content_type);
                Some(Bytes::from(bytes))
            }
        })
    }
}

#[cfg(test)]
mod tests;
