//! `json = ...`: a JSON tree whose string leaves are templates, keys in written order
//! (toml's `preserve_order` and serde_json's keep it, as Python dicts do). A tree
//! without templates is serialized once at load.

use std::collections::BTreeSet;
use std::ops::Range;

use minijinja::{Environment, Value};
use serde_json::Value as Json;
use toml::Spanned;

use crate::error::ScenarioError;
use crate::request::Cx;

/// A JSON value with templated string leaves.
#[derive(Debug, Clone)]
pub(crate) enum JsonTpl {
    Literal(Json),
    Str(crate::template::Template),
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

/// The template tree of `value`; `key` names it in messages (`...json.user.name`).
pub(crate) fn compile(
    cx: &mut Cx<'_>,
    value: &toml::Value,
    span: Range<usize>,
    key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<JsonTpl, ScenarioError> {
    Ok(match value {
        toml::Value::String(s) => {
            JsonTpl::Str(cx.template(&Spanned::new(span, s.clone()), key, task, used)?)
        }
        toml::Value::Array(items) => JsonTpl::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| compile(cx, v, span.clone(), &format!("{key}[{i}]"), task, used))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => JsonTpl::Object(
            t.iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        compile(cx, v, span.clone(), &format!("{key}.{k}"), task, used)?,
                    ))
                })
                .collect::<Result<_, ScenarioError>>()?,
        ),
        // JSON has no date type: a TOML date or time is sent as its RFC 3339 text.
        toml::Value::Datetime(d) => JsonTpl::Literal(Json::String(d.to_string())),
        toml::Value::Integer(i) => JsonTpl::Literal(Json::from(*i)),
        toml::Value::Boolean(b) => JsonTpl::Literal(Json::Bool(*b)),
        toml::Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => JsonTpl::Literal(Json::Number(n)),
            None => {
                return Err(cx.invalid(
                    span,
                    key,
                    format!(
                        "{f} is not a JSON number (JSON has no nan or inf); write it as a string"
                    ),
                ))
            }
        },
    })
}
