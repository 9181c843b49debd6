//! What locust-rs nodes add to Locust's `stats` message for each other (§9.3 allows
//! extra keys; a Python master ignores them): each entry's exact HDR histogram as
//! `hdr_us` (a flat list of bucket value and count, in microseconds), so a locust-rs
//! master's percentiles are exact instead of rebuilt from Locust's rounded buckets;
//! and the response-header labels (cache, instance) as `labels`, so the cache and
//! load-balancer analysis and criteria work across workers. Reading them back trusts
//! no announced size: every value is checked, and the histograms' memory follows the
//! largest value, never a count.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use rmpv::Value;

use crate::labels::{LabelSet, LabelValue, SecondCount};
use crate::percentile::new_histogram;

/// The entry key of the exact histogram.
pub const HDR_KEY: &str = "hdr_us";
/// The message key of the labels.
pub const LABELS_KEY: &str = "labels";
/// Label headers a report may carry (locust-rs has two: cache and instance).
pub const MAX_LABEL_HEADERS: usize = 8;

/// A histogram as `[value, count, value, count, ...]` over its non-empty buckets.
pub fn hdr_value(hist: &Histogram<u64>) -> Value {
    let mut flat = Vec::new();
    for bucket in hist.iter_recorded() {
        flat.push(Value::from(bucket.value_iterated_to()));
        flat.push(Value::from(bucket.count_at_value()));
    }
    Value::Array(flat)
}

/// Reads `hdr_value`'s form back into a fresh histogram.
pub fn hdr_from_value(v: &Value) -> Result<Histogram<u64>, String> {
    let flat = v.as_array().ok_or("`hdr_us` is not a list")?;
    if flat.len() % 2 != 0 {
        return Err("`hdr_us` has an odd number of items".into());
    }
    let mut hist = new_histogram();
    for pair in flat.chunks_exact(2) {
        let (Some(value), Some(count)) = (pair[0].as_u64(), pair[1].as_u64()) else {
            return Err("`hdr_us` holds something other than counts".into());
        };
        if hist.record_n(value, count).is_err() {
            hist.saturating_record(value);
        }
    }
    Ok(hist)
}

/// The labels as `[[{value, count, total_ms, hdr_us, per_sec}, ...], ...]`, one list
/// per configured header.
pub fn labels_value(labels: &LabelSet) -> Value {
    let headers = (0..)
        .map_while(|i| labels.header(i))
        .map(|header| {
            Value::Array(
                header
                    .values()
                    .map(|v| {
                        let per_sec = v
                            .per_sec
                            .iter()
                            .map(|(s, c)| {
                                let pair = vec![Value::from(c.count), Value::from(c.total_ms)];
                                (Value::from(*s), Value::Array(pair))
                            })
                            .collect();
                        Value::Map(vec![
                            (Value::from("value"), Value::from(v.value.as_str())),
                            (Value::from("count"), Value::from(v.count)),
                            (Value::from("total_ms"), Value::from(v.total_ms)),
                            (Value::from(HDR_KEY), hdr_value(&v.histogram)),
                            (Value::from("per_sec"), Value::Map(per_sec)),
                        ])
                    })
                    .collect(),
            )
        })
        .collect();
    Value::Array(headers)
}

fn get<'a>(map: &'a [(Value, Value)], name: &str) -> Result<&'a Value, String> {
    map.iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
        .ok_or_else(|| format!("a label has no `{name}`"))
}

fn float(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_i64().map(|i| i as f64))
        .or_else(|| v.as_u64().map(|u| u as f64))
        .filter(|f| f.is_finite())
}

/// Reads `labels_value`'s form back (values beyond the cap go to "(other)", as when
/// recorded).
pub fn labels_from_value(v: &Value) -> Result<LabelSet, String> {
    let headers = v.as_array().ok_or("`labels` is not a list")?;
    if headers.len() > MAX_LABEL_HEADERS {
        return Err(format!("`labels` has {} headers", headers.len()));
    }
    let mut set = LabelSet::default();
    for (index, values) in headers.iter().enumerate() {
        for value in values.as_array().ok_or("a label header is not a list")? {
            let m = value.as_map().ok_or("a label is not a map")?;
            let name = get(m, "value")?
                .as_str()
                .ok_or("a label value is not a string")?;
            let mut label = LabelValue::empty(name);
            label.count = get(m, "count")?
                .as_u64()
                .ok_or("a label count is not a count")?;
            label.total_ms = float(get(m, "total_ms")?).ok_or("a label total is not a number")?;
            label.histogram = hdr_from_value(get(m, HDR_KEY)?)?;
            let mut per_sec = BTreeMap::new();
            for (second, pair) in get(m, "per_sec")?
                .as_map()
                .ok_or("`per_sec` is not a map")?
            {
                let second = second.as_i64().ok_or("a label second is not an integer")?;
                let pair = pair
                    .as_array()
                    .filter(|p| p.len() == 2)
                    .ok_or("a label second is not [count, ms]")?;
                let count = pair[0]
                    .as_u64()
                    .ok_or("a label second's count is not a count")?;
                let total_ms = float(&pair[1]).ok_or("a label second's ms is not a number")?;
                per_sec.insert(second, SecondCount { count, total_ms });
                crate::labels::trim(&mut per_sec);
            }
            label.per_sec = per_sec;
            set.add_value(index, &label);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_and_labels_round_trip_exactly() {
        let mut hist = new_histogram();
        for us in [1_189_000u64, 1_190_500, 1_191_000, 3, 77_777] {
            hist.record(us).unwrap();
        }
        let back = hdr_from_value(&hdr_value(&hist)).unwrap();
        assert_eq!(back.len(), hist.len());
        for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(back.value_at_quantile(q), hist.value_at_quantile(q));
        }
        let mut labels = LabelSet::default();
        labels.record(1, "HIT", 2.0, 100.5);
        labels.record(1, "MISS", 9.0, 101.5);
        labels.record(0, "app2", 4.0, 101.5);
        let back = labels_from_value(&labels_value(&labels)).unwrap();
        let cache = back.header(1).unwrap();
        assert_eq!(cache.get("HIT").unwrap().count, 1);
        assert_eq!(cache.get("MISS").unwrap().percentile_ms(0.5), Some(9.0));
        assert_eq!(cache.get("MISS").unwrap().per_sec[&101].count, 1);
        assert_eq!(back.header(0).unwrap().get("app2").unwrap().total_ms, 4.0);
    }

    #[test]
    fn hostile_extras_are_errors_or_bounded() {
        assert!(hdr_from_value(&Value::from(3)).is_err());
        assert!(hdr_from_value(&Value::Array(vec![Value::from(1)])).is_err());
        let huge = Value::Array(vec![Value::from(u64::MAX), Value::from(u64::MAX)]);
        let hist = hdr_from_value(&huge).unwrap();
        assert!(hist.len() >= 1, "a huge value is clamped, not a crash");
        let many = Value::Array(vec![Value::Array(vec![]); MAX_LABEL_HEADERS + 1]);
        assert!(labels_from_value(&many).is_err());
        let bad_label = Value::Array(vec![Value::Array(vec![Value::from("x")])]);
        assert!(labels_from_value(&bad_label).is_err());
    }
}
