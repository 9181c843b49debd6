//! Reading a peer's `stats` message (§9.3) back into figures: each StatsEntry and
//! StatsError of Locust's wire form, from a Python worker or a locust-rs one. Any
//! value may be hostile: a missing or mistyped field is an error naming it, never a
//! panic, and no count or length it announces sizes an allocation.

use std::collections::BTreeMap;

use rmpv::Value;

use super::wire_exact::{hdr_from_value, labels_from_value, HDR_KEY, LABELS_KEY};
use crate::error::StatsError;
use crate::labels::LabelSet;
use crate::percentile::add_response_times;
use crate::StatsEntry;

/// One worker's report, ready to merge into the master's `Stats`.
#[derive(Debug)]
pub struct StatsReport {
    pub entries: Vec<StatsEntry>,
    pub total: StatsEntry,
    pub errors: Vec<StatsError>,
    pub user_classes_count: BTreeMap<String, u64>,
    pub user_count: u64,
    /// A locust-rs worker's response-header labels (empty from a Python worker).
    pub labels: LabelSet,
}

fn get<'a>(map: &'a [(Value, Value)], name: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
}

fn map_of<'a>(v: &'a Value, what: &str) -> Result<&'a [(Value, Value)], String> {
    v.as_map()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{what} is not a map"))
}

fn field<'a>(map: &'a [(Value, Value)], name: &str) -> Result<&'a Value, String> {
    get(map, name).ok_or_else(|| format!("`{name}` is missing"))
}

fn text(map: &[(Value, Value)], name: &str) -> Result<String, String> {
    field(map, name)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("`{name}` is not a string"))
}

/// A count: a non-negative integer (Python ints; msgpack uint or int).
fn count(v: &Value, name: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("`{name}` is not a count: {v}"))
}

/// A finite float or int (Python sends an int when every sample was one).
fn number(v: &Value, name: &str) -> Result<f64, String> {
    let n = v
        .as_f64()
        .or_else(|| v.as_i64().map(|i| i as f64))
        .or_else(|| v.as_u64().map(|u| u as f64))
        .ok_or_else(|| format!("`{name}` is not a number: {v}"))?;
    if n.is_finite() {
        Ok(n)
    } else {
        Err(format!("`{name}` is not finite"))
    }
}

fn opt_number(v: &Value, name: &str) -> Result<Option<f64>, String> {
    if v.is_nil() {
        Ok(None)
    } else {
        number(v, name).map(Some)
    }
}

/// Each (int key, count) of an int-keyed map (`response_times`, `num_reqs_per_sec`).
fn each_int(v: &Value, name: &str, mut add: impl FnMut(i64, u64)) -> Result<(), String> {
    for (k, n) in map_of(v, name)? {
        let key = k
            .as_i64()
            .or_else(|| k.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
            .ok_or_else(|| format!("`{name}` has a key that is not an integer: {k}"))?;
        add(key, count(n, name)?);
    }
    Ok(())
}

/// Adds `n` at `second`, keeping at most [`crate::MAX_PER_SECOND_HISTORY`] seconds (the
/// latest), however many a peer sends.
fn add_second(map: &mut BTreeMap<i64, u64>, second: i64, n: u64) {
    let slot = map.entry(second).or_insert(0);
    *slot = slot.saturating_add(n);
    while map.len() > crate::MAX_PER_SECOND_HISTORY {
        map.pop_first();
    }
}

/// One StatsEntry of the wire form.
pub fn entry_from_value(v: &Value) -> Result<StatsEntry, String> {
    let m = map_of(v, "a stats entry")?;
    let mut e = StatsEntry::new(&text(m, "name")?, &text(m, "method")?, 0.0);
    e.start_time = number(field(m, "start_time")?, "start_time")?;
    e.last_request_timestamp = opt_number(
        get(m, "last_request_timestamp").unwrap_or(&Value::Nil),
        "last_request_timestamp",
    )?;
    e.num_requests = count(field(m, "num_requests")?, "num_requests")?;
    e.num_none_requests = count(
        get(m, "num_none_requests").unwrap_or(&Value::from(0)),
        "num_none_requests",
    )?;
    e.num_failures = count(field(m, "num_failures")?, "num_failures")?;
    e.total_response_time = number(field(m, "total_response_time")?, "total_response_time")?;
    e.max_response_time = number(field(m, "max_response_time")?, "max_response_time")?;
    e.min_response_time = opt_number(field(m, "min_response_time")?, "min_response_time")?;
    e.total_content_length = count(field(m, "total_content_length")?, "total_content_length")?;
    match get(m, HDR_KEY) {
        // A locust-rs worker's exact histogram stands for its rounded buckets.
        Some(exact) => e.histogram = hdr_from_value(exact)?,
        None => {
            let mut bucket = BTreeMap::new();
            each_int(field(m, "response_times")?, "response_times", |ms, n| {
                // One bucket at a time: the histogram's size follows the values, not
                // the count of keys a peer sends.
                bucket.clear();
                bucket.insert(u64::try_from(ms).unwrap_or(0), n);
                add_response_times(&mut e.histogram, &bucket);
            })?;
        }
    }
    let reqs = &mut e.num_reqs_per_sec;
    each_int(field(m, "num_reqs_per_sec")?, "num_reqs_per_sec", |s, n| {
        add_second(reqs, s, n)
    })?;
    let fails = &mut e.num_fail_per_sec;
    each_int(field(m, "num_fail_per_sec")?, "num_fail_per_sec", |s, n| {
        add_second(fails, s, n)
    })?;
    Ok(e)
}

/// One StatsError of the wire form.
pub fn error_from_value(v: &Value) -> Result<StatsError, String> {
    let m = map_of(v, "an error")?;
    Ok(StatsError {
        method: text(m, "method")?,
        name: text(m, "name")?,
        error: text(m, "error")?,
        occurrences: count(field(m, "occurrences")?, "occurrences")?,
        first_seen: opt_number(get(m, "first_seen").unwrap_or(&Value::Nil), "first_seen")?,
        last_seen: opt_number(get(m, "last_seen").unwrap_or(&Value::Nil), "last_seen")?,
    })
}

/// The data of a `stats` message. `user_classes_count` is required, as a Locust
/// master requires it.
pub fn report_from_value(data: &Value) -> Result<StatsReport, String> {
    let m = map_of(data, "the stats message")?;
    let entries = field(m, "stats")?
        .as_array()
        .ok_or("`stats` is not a list")?
        .iter()
        .map(entry_from_value)
        .collect::<Result<_, _>>()?;
    let total = entry_from_value(field(m, "stats_total")?)?;
    let errors = map_of(field(m, "errors")?, "`errors`")?
        .iter()
        .map(|(_, e)| error_from_value(e))
        .collect::<Result<_, _>>()?;
    let mut user_classes_count = BTreeMap::new();
    for (name, n) in map_of(field(m, "user_classes_count")?, "`user_classes_count`")? {
        let name = name.as_str().ok_or("a class name is not a string")?;
        user_classes_count.insert(name.to_string(), count(n, "user_classes_count")?);
    }
    let user_count = count(
        get(m, "user_count").unwrap_or(&Value::from(0)),
        "user_count",
    )?;
    let labels = match get(m, LABELS_KEY) {
        Some(labels) => labels_from_value(labels)?,
        None => LabelSet::default(),
    };
    Ok(StatsReport {
        entries,
        total,
        errors,
        user_classes_count,
        user_count,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::wire::stats_data;
    use crate::{Recorder, Stats};
    use rand::{Rng, SeedableRng};

    fn sample() -> Stats {
        let recorder = Recorder::new(1);
        let h = recorder.handle(0);
        for i in 0..50 {
            h.record_at(
                "GET",
                "/",
                Some(f64::from(i) * 1.5),
                6,
                None,
                1_795_717_464.0 + f64::from(i) * 0.1,
            );
        }
        h.record_at(
            "POST",
            "/x",
            Some(1200.0),
            0,
            Some("HTTPError('500')"),
            1_795_717_470.0,
        );
        let mut stats = Stats::new(1_795_717_464.0, false);
        stats.absorb(&recorder);
        stats
    }

    #[test]
    fn what_a_worker_sends_a_master_reads_back() {
        let stats = sample();
        let data = stats_data(&stats, [("U", 3)], 3);
        let report = report_from_value(&data).unwrap();
        assert_eq!(report.user_classes_count["U"], 3);
        assert_eq!(report.user_count, 3);
        assert_eq!(report.entries.len(), 2);
        let mut merged = Stats::new(1_795_717_464.0, false);
        for e in &report.entries {
            merged.merge_entry(e);
        }
        merged.merge_total(&report.total);
        for e in &report.errors {
            merged.merge_error(e);
        }
        let (a, b) = (stats.total(), merged.total());
        assert_eq!(
            (a.num_requests, a.num_failures),
            (b.num_requests, b.num_failures)
        );
        assert_eq!(a.total_response_time, b.total_response_time);
        assert_eq!(
            (a.min_response_time, a.max_response_time),
            (b.min_response_time, b.max_response_time)
        );
        assert_eq!(a.num_reqs_per_sec, b.num_reqs_per_sec);
        // The buckets Locust would print are the same after the trip.
        assert_eq!(a.response_times(), b.response_times());
        assert_eq!(merged.errors()[0].occurrences, 1);
        assert_eq!(merged.errors()[0].key(), stats.errors()[0].key());
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let data = stats_data(&sample(), [("U", 1)], 1);
        let without = |name: &str| {
            let Value::Map(mut m) = data.clone() else {
                unreachable!()
            };
            m.retain(|(k, _)| k.as_str() != Some(name));
            report_from_value(&Value::Map(m)).unwrap_err()
        };
        assert!(without("user_classes_count").contains("`user_classes_count` is missing"));
        assert!(without("stats_total").contains("`stats_total` is missing"));
        assert!(report_from_value(&Value::from(3))
            .unwrap_err()
            .contains("not a map"));
    }

    #[test]
    fn fuzz_hostile_stats_messages_are_errors_never_panics() {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &stats_data(&sample(), [("U", 1)], 1)).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let cases: usize = std::env::var("LOCUST_RS_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5_000);
        let mut read = 0;
        for _ in 0..cases {
            let mut frame = bytes.clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..frame.len());
                match rng.random_range(0..3) {
                    0 => frame[i] = rng.random(),
                    1 => frame.truncate(i),
                    // A huge uint (a count, a bucket, a second) in place of a byte.
                    _ => frame
                        .splice(
                            i..=i.min(frame.len() - 1),
                            [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                        )
                        .for_each(drop),
                }
                if frame.is_empty() {
                    frame.push(0xc0);
                }
            }
            let mut reader = frame.as_slice();
            if let Ok(value) = rmpv::decode::read_value_with_max_depth(&mut reader, 32) {
                read += usize::from(report_from_value(&value).is_ok());
            }
        }
        assert!(read < cases, "mutations must break some reports");
    }
}
