//! JSON answers as Flask's `jsonify` writes them: keys sorted at every level, two-space
//! indent, `application/json`.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Sorts object keys recursively (serde_json here keeps insertion order).
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

pub fn reply(value: Value) -> Response {
    let body = serde_json::to_string_pretty(&sorted(value)).unwrap_or_else(|_| "{}".into());
    ([(CONTENT_TYPE, "application/json")], format!("{body}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_level() {
        let value = serde_json::json!({"b": 1, "a": {"d": 2, "c": [{"z": 1, "y": 2}]}});
        assert_eq!(
            serde_json::to_string(&sorted(value)).unwrap(),
            r#"{"a":{"c":[{"y":2,"z":1}],"d":2},"b":1}"#
        );
    }
}
