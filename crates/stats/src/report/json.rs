//! `--json` output (§4.2): the StatsEntry wire form of every entry that saw a request or
//! failure, in creation order, as Python's `json.dumps(..., indent=4)` prints it
//! (ASCII-only escapes, Python float repr). Unlike Locust, it does not reset anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::entry::StatsEntry;
use crate::pyrepr::repr_float;
use crate::stats::Stats;

/// Python's `json.dumps` string with `ensure_ascii=True`.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c.is_ascii() && (c as u32) >= 0x20 => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// A float Locust starts as the int 0 (total/max response time): `0` until a timed
/// sample arrived, then the float's repr.
fn int_zero_or_float(x: f64, timed: bool) -> String {
    if !timed && x == 0.0 {
        "0".into()
    } else {
        repr_float(x)
    }
}

fn opt_float(x: Option<f64>) -> String {
    x.map_or_else(|| "null".into(), repr_float)
}

/// A map with int keys written as strings, nested at 8 spaces.
fn int_map<K: ToString>(map: impl IntoIterator<Item = (K, u64)>) -> String {
    let items: Vec<String> = map
        .into_iter()
        .map(|(k, v)| format!("            {}: {v}", json_str(&k.to_string())))
        .collect();
    if items.is_empty() {
        "{}".into()
    } else {
        format!("{{\n{}\n        }}", items.join(",\n"))
    }
}

fn seconds_map(map: &BTreeMap<i64, u64>) -> String {
    int_map(map.iter().map(|(&k, &v)| (k, v)))
}

/// One entry as a JSON object at indent level 1 (Locust's `StatsEntry.serialize`).
pub fn entry_json(e: &StatsEntry) -> String {
    let timed = !e.histogram.is_empty();
    let fields = [
        ("name", json_str(&e.name)),
        ("method", json_str(&e.method)),
        (
            "last_request_timestamp",
            opt_float(e.last_request_timestamp),
        ),
        ("start_time", repr_float(e.start_time)),
        ("num_requests", e.num_requests.to_string()),
        ("num_none_requests", e.num_none_requests.to_string()),
        ("num_failures", e.num_failures.to_string()),
        (
            "total_response_time",
            int_zero_or_float(e.total_response_time, timed),
        ),
        (
            "max_response_time",
            int_zero_or_float(e.max_response_time, timed),
        ),
        ("min_response_time", opt_float(e.min_response_time)),
        ("total_content_length", e.total_content_length.to_string()),
        ("response_times", int_map(e.response_times())),
        ("num_reqs_per_sec", seconds_map(&e.num_reqs_per_sec)),
        ("num_fail_per_sec", seconds_map(&e.num_fail_per_sec)),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("        {}: {v}", json_str(k)))
        .collect();
    format!("    {{\n{}\n    }}", body.join(",\n"))
}

/// The `--json` array: entries with requests or failures, creation order, no
/// Aggregated object; `[]` when there are none. No trailing newline (print adds one).
pub fn entries_json(stats: &Stats) -> String {
    let objects: Vec<String> = stats
        .entries()
        .iter()
        .filter(|e| !e.is_empty())
        .map(entry_json)
        .collect();
    if objects.is_empty() {
        "[]".into()
    } else {
        format!("[\n{}\n]", objects.join(",\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_python_ensure_ascii() {
        assert_eq!(json_str("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(json_str("é😀\u{1}"), r#""\u00e9\ud83d\ude00\u0001""#);
    }
}
