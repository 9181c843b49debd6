//! FastAPI-shaped input checking and error bodies: the JSON user body, the `{id}` path
//! parameter and the `skip`/`limit` query, turned into values or into pydantic-v2-like
//! `{"detail": [{"type","loc","msg","input"}]}` items. Never panics on any input.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// Largest page `GET /users` returns, and its default size.
pub(crate) const MAX_PAGE: usize = 100;

/// A validated `{"name","email"}` body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UserInput {
    pub name: String,
    pub email: String,
}

/// A syntactically valid user id: one that may exist, or one that cannot (zero,
/// negative, beyond u64), which is a 404 rather than a 422, as in FastAPI.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UserId {
    Id(u64),
    Absent,
}

/// A 422 answer from error items.
pub(crate) fn unprocessable(items: Vec<Value>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "detail": items })),
    )
        .into_response()
}

/// An answer with `{"detail": msg}`.
pub(crate) fn detail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({ "detail": msg }))).into_response()
}

/// The answer for a body that could not be read (too large, or the connection
/// failed): the rejection's own status with a `{"detail"}` body.
pub(crate) fn body_rejected(rejection: &BytesRejection) -> Response {
    detail(rejection.status(), &rejection.body_text())
}

/// One pydantic-style error item.
fn item(kind: &str, loc: Value, msg: &str, input: Value) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg, "input": input })
}

/// Checks a request body holding `{"name": string, "email": string}` (extra fields
/// are ignored).
pub(crate) fn user_body(bytes: &[u8]) -> Result<UserInput, Vec<Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(vec![item(
            "missing",
            json!(["body"]),
            "Field required",
            Value::Null,
        )]);
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Err(vec![json!({
                "type": "json_invalid",
                "loc": ["body", e.column()],
                "msg": "JSON decode error",
                "input": {},
                "ctx": { "error": e.to_string() },
            })])
        }
    };
    let Value::Object(map) = &value else {
        return Err(vec![item(
            "model_attributes_type",
            json!(["body"]),
            "Input should be a valid dictionary or object to extract fields from",
            value,
        )]);
    };
    let mut errors = Vec::new();
    let name = string_field(map, "name", &value, &mut errors);
    let email = string_field(map, "email", &value, &mut errors);
    match (name, email) {
        (Some(name), Some(email)) => Ok(UserInput { name, email }),
        _ => Err(errors),
    }
}

/// A required string field of the body, or an error item pushed to `errors`.
fn string_field(
    map: &Map<String, Value>,
    field: &str,
    whole: &Value,
    errors: &mut Vec<Value>,
) -> Option<String> {
    match map.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(item(
                "string_type",
                json!(["body", field]),
                "Input should be a valid string",
                other.clone(),
            ));
            None
        }
        None => {
            errors.push(item(
                "missing",
                json!(["body", field]),
                "Field required",
                whole.clone(),
            ));
            None
        }
    }
}

/// Checks the `{id}` path segment (already percent-decoded).
pub(crate) fn user_id(raw: &str) -> Result<UserId, Value> {
    let Some(n) = parse_int(raw) else {
        return Err(int_parsing(json!(["path", "user_id"]), raw));
    };
    Ok(match u64::try_from(n) {
        Ok(id) if id > 0 => UserId::Id(id),
        _ => UserId::Absent,
    })
}

/// The error item for an undecodable `{id}` segment (invalid UTF-8 escapes).
pub(crate) fn bad_path_segment() -> Value {
    int_parsing(json!(["path", "user_id"]), "")
}

/// Checks `skip` (default 0, at least 0) and `limit` (default and cap `MAX_PAGE`, at
/// least 0) from query pairs; a repeated key uses its last value, as FastAPI does.
pub(crate) fn page(pairs: &[(String, String)]) -> Result<(usize, usize), Vec<Value>> {
    let last = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
    let mut errors = Vec::new();
    let skip = query_count(last("skip"), "skip", 0, &mut errors);
    let limit = query_count(last("limit"), "limit", MAX_PAGE, &mut errors);
    if errors.is_empty() {
        Ok((skip, limit.min(MAX_PAGE)))
    } else {
        Err(errors)
    }
}

/// The error item for a query string that is not `key=value` pairs.
pub(crate) fn bad_query(reason: &str) -> Value {
    item("query_invalid", json!(["query"]), reason, Value::Null)
}

/// A non-negative integer query value (saturating at `usize::MAX`), or its default.
fn query_count(raw: Option<&String>, key: &str, default: usize, errors: &mut Vec<Value>) -> usize {
    let Some(raw) = raw else {
        return default;
    };
    match parse_int(raw) {
        None => errors.push(int_parsing(json!(["query", key]), raw)),
        Some(n) if n < 0 => errors.push(json!({
            "type": "greater_than_equal",
            "loc": ["query", key],
            "msg": "Input should be greater than or equal to 0",
            "input": raw,
            "ctx": { "ge": 0 },
        })),
        Some(n) => return usize::try_from(n).unwrap_or(usize::MAX),
    }
    default
}

fn int_parsing(loc: Value, raw: &str) -> Value {
    item(
        "int_parsing",
        loc,
        "Input should be a valid integer, unable to parse string as an integer",
        json!(raw),
    )
}

/// An integer written as pydantic's lax mode accepts it (surrounding whitespace, an
/// optional sign, ASCII digits); values beyond i128 saturate instead of failing.
fn parse_int(raw: &str) -> Option<i128> {
    let t = raw.trim();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_body_accepts_strings_and_ignores_extras() {
        let ok = user_body(br#"{"name":"a","email":"a@x","age":3}"#);
        assert_eq!(
            ok,
            Ok(UserInput {
                name: "a".into(),
                email: "a@x".into()
            })
        );
    }

    #[test]
    fn user_body_errors_look_like_fastapi() {
        let types = |body: &[u8]| -> Vec<String> {
            user_body(body)
                .unwrap_err()
                .iter()
                .map(|e| e["type"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(types(b""), ["missing"]);
        assert_eq!(types(b"{nope"), ["json_invalid"]);
        assert_eq!(types(b"[1,2]"), ["model_attributes_type"]);
        assert_eq!(types(b"{}"), ["missing", "missing"]);
        assert_eq!(types(br#"{"name":1,"email":"e"}"#), ["string_type"]);
        let deep = "[".repeat(100_000);
        assert_eq!(
            types(deep.as_bytes()),
            ["json_invalid"],
            "deep nesting is refused"
        );
        let errs = user_body(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(errs[0]["loc"], json!(["body", "email"]));
        assert_eq!(errs[0]["msg"], "Field required");
    }

    #[test]
    fn user_id_kinds() {
        assert_eq!(user_id("17"), Ok(UserId::Id(17)));
        assert_eq!(user_id(" +17 "), Ok(UserId::Id(17)));
        assert_eq!(user_id("0"), Ok(UserId::Absent));
        assert_eq!(user_id("-3"), Ok(UserId::Absent));
        assert_eq!(user_id(&"9".repeat(500)), Ok(UserId::Absent));
        for bad in ["", "abc", "1.5", "-", "1e3", "١"] {
            let err = user_id(bad).unwrap_err();
            assert_eq!(err["type"], "int_parsing", "{bad:?}");
            assert_eq!(err["loc"], json!(["path", "user_id"]));
        }
    }

    #[test]
    fn page_defaults_caps_and_errors() {
        let q = |pairs: &[(&str, &str)]| {
            let owned: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            page(&owned)
        };
        assert_eq!(q(&[]), Ok((0, MAX_PAGE)));
        assert_eq!(q(&[("skip", "5"), ("limit", "10")]), Ok((5, 10)));
        assert_eq!(q(&[("limit", "100000")]), Ok((0, MAX_PAGE)));
        assert_eq!(q(&[("limit", "1"), ("limit", "2")]), Ok((0, 2)));
        assert_eq!(q(&[("skip", &"9".repeat(60))]), Ok((usize::MAX, MAX_PAGE)));
        let errs = q(&[("skip", "x"), ("limit", "-1")]).unwrap_err();
        assert_eq!(errs[0]["type"], "int_parsing");
        assert_eq!(errs[1]["type"], "greater_than_equal");
        assert_eq!(errs[1]["loc"], json!(["query", "limit"]));
    }
}
