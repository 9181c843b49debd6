//! Which response headers are labelled (`X-Cache`, `X-Instance-ID` by default): their
//! names, parsed once, and the one call a user makes per answered request to count
//! their values. Counting itself is `locust_stats::labels`; this only reads headers.

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use locust_stats::RecordHandle;

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
                .collect(),
        }
    }

    /// Counts the labelled headers of an answer (`None`: no answer, nothing to count).
    /// A header that is absent or not text is not counted.
    pub fn record(&self, stats: &RecordHandle, headers: Option<&HeaderMap>, elapsed: Duration) {
        let Some(headers) = headers else {
            return;
        };
        if self.names.is_empty() {
            return;
        }
        let values = self.names.iter().enumerate().filter_map(|(i, name)| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((i, value.trim()))
        });
        stats.record_labels(values, elapsed);
    }
}
