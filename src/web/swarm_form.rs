//! The `/swarm` form (form-urlencoded, `user_classes` repeatable) checked with Locust's
//! rules and its exact error messages, so a script written against Locust's API sees
//! the same answers.

use crate::config::timespan;

/// What a valid `/swarm` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmRequest {
    pub user_count: u64,
    pub spawn_rate: f64,
    /// With `<` and `>` removed, as Locust does; None when the form had no host.
    pub host: Option<String>,
    /// Seconds; None when absent or empty.
    pub run_time: Option<u64>,
    pub profile: Option<String>,
    /// Empty: keep the classes (all of them for a new test).
    pub user_classes: Vec<String>,
}

pub const MISSING: &str = "Missing or invalid user_count or spawn_rate from /swarm request";
pub const BAD_RUN_TIME: &str =
    "Valid run_time formats are : 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.";

/// Python's `repr()` of a short string, for the messages that quote the value.
fn quoted(value: &str) -> String {
    locust_stats::pyrepr::repr_str(value)
}

/// Python's `int(text)`: surrounding whitespace, a sign and `_` between digits.
fn python_int(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    let digits = trimmed.trim_start_matches(['+', '-']);
    let valid_underscores =
        !digits.starts_with('_') && !digits.ends_with('_') && !digits.contains("__");
    if !valid_underscores {
        return None;
    }
    trimmed.replace('_', "").parse().ok()
}

/// Python's `float(text)` (inf and nan included; the caller rejects them).
fn python_float(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    match trimmed.to_ascii_lowercase().trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => {
            return Some(if trimmed.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        _ => {}
    }
    trimmed.replace('_', "").parse().ok()
}

/// Checks the form's fields in their order, like Locust, and returns the first error.
pub fn parse(fields: &[(String, String)]) -> Result<SwarmRequest, String> {
    let mut user_count: Option<i64> = None;
    let mut spawn_rate: Option<f64> = None;
    let mut host = None;
    let mut run_time = None;
    let mut profile = None;
    let mut user_classes = Vec::new();
    for (key, value) in fields {
        match key.as_str() {
            "user_count" => {
                user_count = Some(python_int(value).ok_or_else(|| {
                    format!(
                        "Invalid user_count value: {} (must be an integer)",
                        quoted(value)
                    )
                })?);
            }
            "spawn_rate" => {
                spawn_rate = Some(python_float(value).ok_or_else(|| {
                    format!(
                        "Invalid spawn_rate value: {} (must be a number)",
                        quoted(value)
                    )
                })?);
            }
            "host" => host = Some(value.replace(['<', '>'], "").trim().to_string()),
            "run_time" if value.trim().is_empty() => {}
            "run_time" => {
                run_time = Some(timespan::parse(value).ok_or_else(|| BAD_RUN_TIME.to_string())?)
            }
            "profile" => profile = Some(value.trim().to_string()).filter(|p| !p.is_empty()),
            "user_classes" => user_classes.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from),
            ),
            // Locust applies unknown fields to matching options; there are none here.
            _ => {}
        }
    }
    let (Some(users), Some(rate)) = (user_count, spawn_rate) else {
        return Err(MISSING.into());
    };
    if users < 0 || rate <= 0.0 || !rate.is_finite() {
        return Err(MISSING.into());
    }
    user_classes.sort();
    user_classes.dedup();
    Ok(SwarmRequest {
        user_count: users.unsigned_abs(),
        spawn_rate: rate,
        host: host.filter(|h| !h.is_empty()),
        run_time: run_time.filter(|s| *s > 0),
        profile,
        user_classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn locust_messages_for_bad_values() {
        let cases = [
            (vec![("spawn_rate", "1")], MISSING.to_string()),
            (
                vec![("user_count", "abc"), ("spawn_rate", "1")],
                "Invalid user_count value: 'abc' (must be an integer)".to_string(),
            ),
            (
                vec![("user_count", "2.5"), ("spawn_rate", "1")],
                "Invalid user_count value: '2.5' (must be an integer)".to_string(),
            ),
            (
                vec![("user_count", "2"), ("spawn_rate", "x")],
                "Invalid spawn_rate value: 'x' (must be a number)".to_string(),
            ),
            (
                vec![
                    ("user_count", "2"),
                    ("spawn_rate", "1"),
                    ("run_time", "abc"),
                ],
                BAD_RUN_TIME.to_string(),
            ),
            (
                vec![("user_count", "-1"), ("spawn_rate", "1")],
                MISSING.to_string(),
            ),
            (
                vec![("user_count", "1"), ("spawn_rate", "0")],
                MISSING.to_string(),
            ),
            (
                vec![("user_count", "1"), ("spawn_rate", "inf")],
                MISSING.to_string(),
            ),
        ];
        for (fields, message) in cases {
            assert_eq!(parse(&form(&fields)), Err(message), "{fields:?}");
        }
    }

    #[test]
    fn a_valid_form() {
        let request = parse(&form(&[
            ("user_count", " 10 "),
            ("spawn_rate", "2.5"),
            ("host", "http://127.0.0.1:8080<script>"),
            ("run_time", "1m30s"),
            ("user_classes", "B"),
            ("user_classes", "A"),
            ("profile", ""),
        ]))
        .unwrap();
        assert_eq!(request.user_count, 10);
        assert_eq!(request.spawn_rate, 2.5);
        assert_eq!(request.host.as_deref(), Some("http://127.0.0.1:8080script"));
        assert_eq!(request.run_time, Some(90));
        assert_eq!(request.user_classes, ["A", "B"]);
        assert_eq!(request.profile, None);
    }
}
