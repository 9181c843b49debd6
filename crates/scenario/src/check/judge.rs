//! The tests of a check applied to the value its subject found: whether a value passes
//! `equals`, `ne`, `lt`/`le`/`gt`/`ge`, `contains`, `matches`, `in` or `exists`, with
//! numbers compared by value and text read as a number where one is expected, and the
//! problem text of the first test that fails (`JSON /n is 7, expected < 5`).

use serde_json::Value as Json;

use super::{Cmp, Test};

/// Applies the tests to an optional actual value; `Some(problem)` for the first that
/// fails. `missing` says the value is absent (`JSON /id is missing`).
pub(super) fn judge(
    what: &str,
    actual: Option<&Json>,
    tests: &[Test],
    missing: &str,
) -> Option<String> {
    tests.iter().find_map(|test| match (test, actual) {
        (Test::Exists, Some(_)) | (Test::Absent, None) => None,
        (Test::Exists, None) => Some(missing.to_string()),
        (Test::Absent, Some(v)) => Some(format!("{what} is present ({v})")),
        (test, None) => Some(format!("{missing}, expected {}", expectation(test))),
        (test, Some(got)) => {
            (!passes(test, got)).then(|| format!("{what} is {got}, expected {}", expectation(test)))
        }
    })
}

/// Whether a present value passes a value test.
fn passes(test: &Test, got: &Json) -> bool {
    match test {
        Test::Exists => true,
        Test::Absent => false,
        Test::Equals(want) => json_equal(got, want),
        Test::NotEquals(want) => !json_equal(got, want),
        Test::Compare(cmp, bound, _) => as_number(got).is_some_and(|n| match cmp {
            Cmp::Lt => n < *bound,
            Cmp::Le => n <= *bound,
            Cmp::Gt => n > *bound,
            Cmp::Ge => n >= *bound,
        }),
        Test::Contains(want) => match got {
            Json::String(s) => s.contains(&text_of(want)),
            Json::Array(items) => items.iter().any(|i| json_equal(i, want)),
            Json::Object(map) => want.as_str().is_some_and(|k| map.contains_key(k)),
            _ => false,
        },
        Test::Matches(re) => re.is_match(&text_of(got)),
        Test::OneOf(list) => list.iter().any(|w| json_equal(got, w)),
    }
}

/// What a test expects, after "expected " in a message.
fn expectation(test: &Test) -> String {
    match test {
        Test::Exists => "a value".into(),
        Test::Absent => "no value".into(),
        Test::Equals(want) => want.to_string(),
        Test::NotEquals(want) => format!("anything but {want}"),
        Test::Compare(cmp, _, bound) => {
            let op = match cmp {
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
            };
            format!("{op} {bound}")
        }
        Test::Contains(want) => format!("to contain {want}"),
        Test::Matches(re) => format!("to match {:?}", re.as_str()),
        Test::OneOf(list) => {
            let items: Vec<String> = list.iter().map(Json::to_string).collect();
            format!("one of {}", items.join(", "))
        }
    }
}

/// A JSON number, or text that parses as one (a header's value, `"42"`).
fn as_number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string as itself, anything else as its JSON text.
fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Equality with numbers compared by value (`3` equals `3.0`), and a header's text
/// equal to a number written without quotes.
fn json_equal(got: &Json, want: &Json) -> bool {
    match (got, want) {
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (Json::String(s), Json::Number(n)) => s.parse::<f64>().ok() == n.as_f64(),
        _ => got == want,
    }
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
