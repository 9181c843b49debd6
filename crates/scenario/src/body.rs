//! Request bodies: none, fixed bytes, a text template (`body = "..."`), or a JSON tree
//! (`json = {...}`) whose string leaves are templates. A tree without templates is
//! serialized once at load and reused as shared bytes.

use bytes::Bytes;
use minijinja::{Environment, Value};
use serde_json::Value as Json;

use crate::template::Template;

#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Static(Bytes),
    Text(Template),
    Json(JsonTpl),
}

/// A JSON value with templated string leaves.
#[derive(Debug, Clone)]
pub(crate) enum JsonTpl {
    Literal(Json),
    Str(Template),
    Array(Vec<JsonTpl>),
    Object(Vec<(String, JsonTpl)>),
}

impl JsonTpl {
    pub fn is_static(&self) -> bool {
        match self {
            JsonTpl::Literal(_) => true,
            JsonTpl::Str(t) => t.is_static(),
            JsonTpl::Array(items) => items.iter().all(JsonTpl::is_static),
            JsonTpl::Object(fields) => fields.iter().all(|(_, v)| v.is_static()),
        }
    }

    pub fn render(
        &self,
        env: &Environment<'static>,
        ctx: &Value,
    ) -> Result<Json, minijinja::Error> {
        Ok(match self {
            JsonTpl::Literal(v) => v.clone(),
            JsonTpl::Str(t) => Json::String(t.render(env, ctx)?.into_owned()),
            JsonTpl::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|i| i.render(env, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTpl::Object(fields) => {
                let mut map = serde_json::Map::with_capacity(fields.len());
                for (k, v) in fields {
                    map.insert(k.clone(), v.render(env, ctx)?);
                }
                Json::Object(map)
            }
        })
    }
}

impl Body {
    pub fn is_static(&self) -> bool {
        matches!(self, Body::None | Body::Static(_))
    }

    pub fn render(
        &self,
        env: &Environment<'static>,
        ctx: &Value,
    ) -> Result<Option<Bytes>, minijinja::Error> {
        Ok(match self {
            Body::None => None,
            Body::Static(b) => Some(b.clone()),
            Body::Text(t) => Some(Bytes::from(t.render(env, ctx)?.into_owned())),
            Body::Json(tree) => {
                let v = tree.render(env, ctx)?;
                Some(Bytes::from(serde_json::to_vec(&v).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })?))
            }
        })
    }
}
