//! Which response headers are labelled (`X-Cache`, `X-Instance-ID` by default): their
//! names, parsed once, and the one call a user makes per answered request to count
//! their values. Counting itself is `locust_stats::labels`; this only reads headers.

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use locust_stats::RecordHandle;

/// At most this many labelled headers (a run has two: cache and instance).
const MAX_LABELS: usize = 4;

/// The labelled headers of a run, in configured order (the index is the label key).
#[derive(Debug, Clone, Default)]
pub struct LabelHeaders {
    names: Vec<HeaderName>,
}

impl LabelHeaders {
    /// Headers given by name; names that are not valid header names are skipped
    /// (settings validated them already).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        LabelHeaders {
            names: names
                .into_iter()
                .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                .take(MAX_LABELS)
                .collect(),
        }
    }

    /// Counts the labelled headers of an answer (`None`: no answer, nothing to count).
    /// A header that is absent is not counted; bytes that are not UTF-8 are latin-1.
    pub fn record(&self, stats: &RecordHandle, headers: Option<&HeaderMap>, elapsed: Duration) {
        let Some(headers) = headers else {
            return;
        };
        if self.names.is_empty() {
            return;
        }
        // Each header looked up once: this runs for every answered request.
        let mut values: [Option<&[u8]>; MAX_LABELS] = [None; MAX_LABELS];
        for (slot, name) in values.iter_mut().zip(&self.names) {
            *slot = headers.get(name).map(|v| v.as_bytes());
        }
        let present = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, (*v)?)));
        if present.clone().all(|(_, v)| std::str::from_utf8(v).is_ok()) {
            // The usual case: every value is text, counted without copying.
            let text = present.filter_map(|(i, v)| Some((i, std::str::from_utf8(v).ok()?.trim())));
            stats.record_labels(text, elapsed);
        } else {
            // Other bytes are read as latin-1, as Python reads a header value.
            let owned: Vec<(usize, String)> = present.map(|(i, v)| (i, latin1(v))).collect();
            stats.record_labels(owned.iter().map(|(i, v)| (*i, v.trim())), elapsed);
        }
    }
}

/// Bytes as latin-1 text, one character per byte.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
