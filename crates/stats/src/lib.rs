//! Request statistics for locust-rs: hot-path recording into sharded HDR histograms,
//! merging (threads, timers, workers), Locust's percentile/median rules and its exact
//! output formats (console tables, CSV files, `--json`), plus response-header labels,
//! cache/balance analysis and the bounded chart history. No HTTP, async runtime or
//! engine types in here: callers pass in names, header values, times and timestamps.

pub mod analysis;
pub mod entry;
pub mod error;
pub mod history;
pub mod labels;
pub mod percentile;
pub mod pyrepr;
pub mod recorder;
pub mod report;
mod ring;
pub mod rounding;
pub mod stats;
pub mod sync;

pub use analysis::{BalanceSummary, CacheRole, CacheSummary, InstanceShare};
pub use entry::{Median, StatsEntry, MAX_PER_SECOND_HISTORY};
pub use error::{error_key, ExceptionRecord, StatsError};
pub use history::{History, HistoryPoint, MAX_HISTORY_POINTS};
pub use labels::{HeaderLabels, LabelSet, LabelValue, MAX_LABEL_VALUES, OTHER_LABEL};
pub use percentile::PERCENTILES_TO_REPORT;
pub use recorder::{epoch_now, RecordHandle, Recorder, LOCAL_NODE};
pub use ring::{CURRENT_WINDOW_SECS, MAX_SNAPSHOTS};
pub use stats::{Rates, Stats};
pub use sync::lock;
