//! `GET /stats/requests` in Locust's shape (§8): each entry's `to_dict`, the Aggregated
//! row last, the errors, the current rates and percentiles, keys sorted as Flask's
//! `jsonify` sorts them; plus the cache and per-instance figures the page charts.

use locust_stats::analysis::{balance, CacheRole};
use locust_stats::{Median, Stats, StatsEntry, StatsError};
use serde::Serialize;
use serde_json::{json, Value};

use crate::outcome::CACHE_LABEL;
use crate::outcome::INSTANCE_LABEL;

/// Locust shows at most this many rows and errors.
const MAX_ROWS: usize = 500;

/// Python's `round(x + tiny)` as Locust's `proper_round` does it: halves go up, and the
/// result stays a float.
fn proper_round(value: f64) -> f64 {
    (value + 1e-12).round()
}

fn median_value(median: Median) -> Value {
    match median {
        Median::Bucket(ms) => json!(ms),
        Median::Exact(ms) => json!(ms),
    }
}

/// Locust's `StatsEntry.to_dict()`.
pub fn entry_dict(stats: &Stats, entry: &StatsEntry) -> Value {
    let percentile = |p: f64| -> Value {
        if entry.num_timed() == 0 {
            json!(0)
        } else {
            json!(entry.locust_percentile(p))
        }
    };
    let avg_content_length = match entry.avg_content_length() {
        Some(v) => json!(v),
        None => json!(0),
    };
    let min = match entry.min_response_time {
        Some(ms) => json!(proper_round(ms)),
        None => json!(0),
    };
    // serde_json keeps insertion order here (preserve_order), so this is sorted by hand.
    json!({
        "avg_content_length": avg_content_length,
        "avg_response_time": entry.avg_response_time(),
        "current_fail_per_sec": stats.current_fail_per_sec(entry),
        "current_rps": stats.current_rps(entry),
        "max_response_time": proper_round(entry.max_response_time),
        "median_response_time": median_value(entry.median()),
        "method": entry.method,
        "min_response_time": min,
        "name": entry.name,
        "num_failures": entry.num_failures,
        "num_requests": entry.num_requests,
        "response_time_percentile_0.95": percentile(0.95),
        "response_time_percentile_0.99": percentile(0.99),
        "total_fail_per_sec": stats.total_fail_per_sec(entry),
        "total_rps": stats.total_rps(entry),
    })
}

fn error_dict(error: &StatsError) -> Value {
    json!({
        "error": error.error,
        "first_seen": error.first_seen,
        "last_seen": error.last_seen,
        "method": error.method,
        "name": error.name,
        "occurrences": error.occurrences,
    })
}

/// The cache figures the page charts (all null before any labelled answer).
#[derive(Serialize)]
struct CacheNow {
    hit_ms: Option<f64>,
    hit_ratio: Option<f64>,
    miss_ms: Option<f64>,
    speedup: Option<f64>,
}

/// The whole `/stats/requests` body.
pub fn requests(
    stats: &Stats,
    state: &str,
    user_count: u64,
    cache_role: &CacheRole,
    now: f64,
) -> Value {
    let total = stats.total();
    let mut rows: Vec<Value> = stats
        .sorted_entries()
        .into_iter()
        .take(MAX_ROWS)
        .map(|e| entry_dict(stats, e))
        .collect();
    rows.push(entry_dict(stats, total));
    let errors: Vec<Value> = stats
        .errors()
        .iter()
        .take(MAX_ROWS)
        .map(error_dict)
        .collect();
    let current = |p: f64| total.current_percentile(p, now);
    let cache = cache_role.summarize(stats.labels().header(CACHE_LABEL));
    let spread = balance(stats.labels().header(INSTANCE_LABEL), None);
    json!({
        "cache": CacheNow {
            hit_ms: cache.hit_median_ms,
            hit_ratio: cache.hit_ratio,
            miss_ms: cache.miss_median_ms,
            speedup: cache.speedup,
        },
        "current_fail_per_sec": stats.current_fail_per_sec(total),
        "current_response_time_percentiles": {
            "response_time_percentile_0.5": current(0.5),
            "response_time_percentile_0.95": current(0.95),
        },
        "current_rps": stats.current_rps(total),
        "errors": errors,
        "fail_ratio": total.fail_ratio(),
        "instances": spread.instances.iter().map(|i| json!({
            "count": i.count,
            "id": i.id,
            "share": i.share,
        })).collect::<Vec<_>>(),
        "state": state,
        "stats": rows,
        "total_fail_per_sec": stats.total_fail_per_sec(total),
        "total_rps": stats.total_rps(total),
        "user_count": user_count,
    })
}

/// `GET /exceptions`.
pub fn exceptions(stats: &Stats) -> Value {
    let rows: Vec<Value> = stats
        .exceptions()
        .iter()
        .map(|e| {
            json!({
                "count": e.count,
                "msg": e.msg,
                "nodes": e.nodes.join(", "),
                "traceback": e.traceback,
            })
        })
        .collect();
    json!({ "exceptions": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_dict_keys_and_types_follow_locust() {
        let mut stats = Stats::new(1000.0, false);
        let mut entry = StatsEntry::new("/health", "GET", 1000.0);
        entry.log(Some(3.4), 58, 1001.0);
        entry.log(Some(9.6), 58, 1002.0);
        stats.merge_entry(&entry);
        stats.merge_total(&entry);
        let row = entry_dict(&stats, stats.entry("GET", "/health").unwrap());
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "Flask sorts keys");
        assert_eq!(row["min_response_time"], json!(3.0));
        assert_eq!(row["max_response_time"], json!(10.0));
        assert_eq!(row["num_requests"], json!(2));
        assert_eq!(row["avg_content_length"], json!(58.0));
        let empty = entry_dict(&stats, &StatsEntry::new("Aggregated", "", 1000.0));
        assert_eq!(empty["min_response_time"], json!(0));
        assert_eq!(empty["median_response_time"], json!(0));
    }

    #[test]
    fn requests_body_ends_with_aggregated_and_sorts_top_level_keys() {
        let stats = Stats::new(1000.0, false);
        let role = CacheRole {
            header: CACHE_LABEL,
            hit: vec!["HIT".into()],
            miss: vec!["MISS".into()],
        };
        let body = requests(&stats, "ready", 0, &role, 1001.0);
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(body["stats"][0]["name"], "Aggregated");
        assert_eq!(body["state"], "ready");
        assert_eq!(body["cache"]["hit_ratio"], Value::Null);
    }
}
