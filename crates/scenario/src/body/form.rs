//! `form = { ... }`: requests' `data=dict`. Fields in written order, a list giving its
//! field once per item (`doseq`); encoded as `application/x-www-form-urlencoded` exactly
//! as Python's `urlencode` does (`quote_plus`: space -> `+`, `~` kept, `*` encoded), or
//! used as the text fields of a multipart body.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::error::ScenarioError;
use crate::model::Pairs;
use crate::request::Cx;
use crate::step::encode_query;
use crate::template::Template;

/// The fields of `form`: (name as written, value template), in written order.
pub(crate) fn compile(
    cx: &mut Cx<'_>,
    form: &Pairs<Spanned<toml::Value>>,
    key: &str,
    task: &str,
    used: &mut BTreeSet<String>,
) -> Result<Vec<(String, Template)>, ScenarioError> {
    let mut fields = Vec::new();
    for (name, value) in &form.0 {
        let fkey = format!("{key}.{name}");
        match value.get_ref() {
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ikey = format!("{fkey}[{i}]");
                    let text = scalar(cx, item, value, &ikey)?;
                    let t = cx.template(&Spanned::new(value.span(), text), &ikey, task, used)?;
                    fields.push((name.clone(), t));
                }
            }
            item => {
                let text = scalar(cx, item, value, &fkey)?;
                let t = cx.template(&Spanned::new(value.span(), text), &fkey, task, used)?;
                fields.push((name.clone(), t));
            }
        }
    }
    Ok(fields)
}

/// A field value's text: a string (a template), or a number or boolean written as
/// `query` writes them.
fn scalar(
    cx: &Cx<'_>,
    item: &toml::Value,
    at: &Spanned<toml::Value>,
    key: &str,
) -> Result<String, ScenarioError> {
    match item {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(cx.invalid(
            at.span(),
            key,
            "a form value is a string, number or boolean, or a list of them (the field is sent once per item); for nested data use `json`",
        )),
    }
}

/// `name=value&...`, names and values `quote_plus`-encoded.
pub(crate) fn encode<S: AsRef<str>>(fields: &[(&str, S)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode_query(name));
        out.push('=');
        out.push_str(&encode_query(value.as_ref()));
    }
    out
}
