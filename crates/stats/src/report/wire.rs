//! The stats of Locust's master/worker protocol (§9.3) as msgpack values: each
//! StatsEntry in its wire form (keys in Locust's order, int-keyed maps), the errors
//! under Locust's SHA-256 keys, and the `stats` message's data around them.

use rmpv::Value;

use super::wire_exact::{hdr_value, labels_value, HDR_KEY, LABELS_KEY};
use crate::error::StatsError;
use crate::{Stats, StatsEntry};

fn key(name: &str) -> Value {
    Value::from(name)
}

fn opt_f64(v: Option<f64>) -> Value {
    v.map_or(Value::Nil, Value::from)
}

fn int_map<K: Copy + Into<i64>>(map: impl IntoIterator<Item = (K, u64)>) -> Value {
    Value::Map(
        map.into_iter()
            .map(|(k, n)| (Value::from(k.into()), Value::from(n)))
            .collect(),
    )
}

/// One StatsEntry as Locust serializes it (`StatsEntry.serialize`).
pub fn entry_value(e: &StatsEntry) -> Value {
    let buckets = e
        .response_times()
        .into_iter()
        .map(|(ms, n)| (i64::try_from(ms).unwrap_or(i64::MAX), n));
    Value::Map(vec![
        (key("name"), Value::from(e.name.as_str())),
        (key("method"), Value::from(e.method.as_str())),
        (
            key("last_request_timestamp"),
            opt_f64(e.last_request_timestamp),
        ),
        (key("start_time"), Value::from(e.start_time)),
        (key("num_requests"), Value::from(e.num_requests)),
        (key("num_none_requests"), Value::from(e.num_none_requests)),
        (key("num_failures"), Value::from(e.num_failures)),
        (
            key("total_response_time"),
            Value::from(e.total_response_time),
        ),
        (key("max_response_time"), Value::from(e.max_response_time)),
        (key("min_response_time"), opt_f64(e.min_response_time)),
        (
            key("total_content_length"),
            Value::from(e.total_content_length),
        ),
        (key("response_times"), int_map(buckets)),
        (
            key("num_reqs_per_sec"),
            int_map(e.num_reqs_per_sec.iter().map(|(s, n)| (*s, *n))),
        ),
        (
            key("num_fail_per_sec"),
            int_map(e.num_fail_per_sec.iter().map(|(s, n)| (*s, *n))),
        ),
        (key(HDR_KEY), hdr_value(&e.histogram)),
    ])
}

/// One StatsError as Locust serializes it (`StatsError.serialize`).
pub fn error_value(e: &StatsError) -> Value {
    Value::Map(vec![
        (key("name"), Value::from(e.name.as_str())),
        (key("method"), Value::from(e.method.as_str())),
        (key("error"), Value::from(e.error.as_str())),
        (key("occurrences"), Value::from(e.occurrences)),
        (key("first_seen"), opt_f64(e.first_seen)),
        (key("last_seen"), opt_f64(e.last_seen)),
    ])
}

/// The `stats` message's data for a delta: `stats` (entries with something in them),
/// `stats_total`, `errors` by key, and the worker's `user_classes_count` and
/// `user_count`, which a Locust master requires; and for a locust-rs master, each
/// entry's exact histogram and the labels (`wire_exact`).
pub fn stats_data<'a>(
    delta: &Stats,
    user_classes_count: impl IntoIterator<Item = (&'a str, u64)>,
    user_count: u64,
) -> Value {
    let entries = delta
        .entries()
        .iter()
        .filter(|e| !e.is_empty())
        .map(entry_value)
        .collect();
    let errors = delta
        .errors_by_key()
        .into_iter()
        .map(|(k, e)| (Value::from(k), error_value(e)))
        .collect();
    let classes = user_classes_count
        .into_iter()
        .map(|(name, n)| (Value::from(name), Value::from(n)))
        .collect();
    Value::Map(vec![
        (key("stats"), Value::Array(entries)),
        (key("stats_total"), entry_value(delta.total())),
        (key("errors"), Value::Map(errors)),
        (key("user_classes_count"), Value::Map(classes)),
        (key("user_count"), Value::from(user_count)),
        (key(LABELS_KEY), labels_value(delta.labels())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recorder;

    fn get<'a>(map: &'a Value, name: &str) -> &'a Value {
        map.as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(name)))
            .map(|(_, v)| v)
            .unwrap_or(&Value::Nil)
    }

    #[test]
    fn a_delta_in_locusts_wire_form() {
        let recorder = Recorder::new(1);
        let h = recorder.handle(0);
        h.record_at("GET", "/", Some(1.3), 6, None, 1_795_717_464.4);
        h.record_at("GET", "/", Some(2.6), 6, None, 1_795_717_465.2);
        h.record_at(
            "GET",
            "/missing",
            Some(3.0),
            0,
            Some("HTTPError('404')"),
            1_795_717_465.5,
        );
        let mut stats = Stats::new(1_795_717_464.0, false);
        stats.absorb(&recorder);
        let data = stats_data(&stats, [("U", 4)], 4);
        let entries = get(&data, "stats").as_array().unwrap();
        assert_eq!(entries.len(), 2);
        let root = entries
            .iter()
            .find(|e| get(e, "name").as_str() == Some("/"))
            .unwrap();
        let keys: Vec<&str> = root
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "name",
                "method",
                "last_request_timestamp",
                "start_time",
                "num_requests",
                "num_none_requests",
                "num_failures",
                "total_response_time",
                "max_response_time",
                "min_response_time",
                "total_content_length",
                "response_times",
                "num_reqs_per_sec",
                "num_fail_per_sec",
                "hdr_us"
            ],
            "Locust's keys in Locust's order, then locust-rs's exact histogram"
        );
        assert_eq!(get(root, "num_requests").as_u64(), Some(2));
        assert_eq!(get(root, "min_response_time").as_f64(), Some(1.3));
        // Int keys, as Python's msgpack sends them: bucket ms and epoch seconds.
        let buckets = get(root, "response_times").as_map().unwrap();
        assert_eq!(
            buckets,
            &vec![
                (Value::from(1), Value::from(1u64)),
                (Value::from(3), Value::from(1u64))
            ]
        );
        let per_sec = get(root, "num_reqs_per_sec").as_map().unwrap();
        assert_eq!(per_sec[0].0.as_i64(), Some(1_795_717_464));
        let total = get(&data, "stats_total");
        assert_eq!(get(total, "name").as_str(), Some("Aggregated"));
        assert_eq!(get(total, "method").as_str(), Some(""));
        assert_eq!(get(total, "num_failures").as_u64(), Some(1));
        let errors = get(&data, "errors").as_map().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].0.as_str(),
            Some(crate::error_key("GET", "/missing", "HTTPError('404')").as_str())
        );
        assert_eq!(get(&errors[0].1, "occurrences").as_u64(), Some(1));
        assert_eq!(get(get(&data, "user_classes_count"), "U").as_u64(), Some(4));
    }
}
