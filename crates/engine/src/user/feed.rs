//! A user's `feed` step: the next row of a shared feeder into one of its variables, and
//! what the user does when a `unique` feeder has no row left for it (`when_empty`).

use std::time::Duration;

use locust_scenario::{Feed, Take, WhenEmpty};

use super::{Interrupted, UserRun};

/// The logger of feeder warnings.
const FEED_TARGET: &str = "locust.user.feed";

impl UserRun {
    /// Takes a row. On an empty pool: `stop_user` stops this user (as Locust's `raise
    /// StopUser()`: on_stop still runs), `fail` records a failure row `FEED <name>` and
    /// removes the variable, so that the steps reading it are skipped and the task goes
    /// on as after a failed request. The first time a pool runs dry is logged once.
    pub(super) fn feed(&mut self, feed: &Feed) -> Result<(), Interrupted> {
        let feeder = feed.feeder();
        let taken = feeder.take(&mut self.rng);
        if let Some(warning) = feeder.dry_warning() {
            tracing::warn!(target: FEED_TARGET, "{warning}");
        }
        match taken {
            Take::Row(row) => {
                self.vars.set(feed.var(), row);
                Ok(())
            }
            // The user stops itself, as a `stop_user` step does.
            Take::Dry(WhenEmpty::StopUser) => Err(Interrupted::Stopped),
            Take::Dry(WhenEmpty::Fail | WhenEmpty::Recycle) => {
                self.vars.remove(feed.var());
                let error = feed.dry_error();
                self.stats
                    .record("FEED", feeder.name(), Duration::ZERO, 0, Some(&error));
                self.tally(0, Some(&error));
                Err(Interrupted::Failed)
            }
        }
    }
}
