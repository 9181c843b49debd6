//! The schedule of `constant_pacing`/`constant_throughput` for one user: task starts
//! on absolute deadlines one period apart, re-based to the end of a task that overran
//! (Locust's "no catch-up"). Pure arithmetic on instants; the user loop does the sleeping,
//! so a timer that fires late delays one start and never the ones after it.

use tokio::time::Instant;

/// About 30 years: where a deadline past `Instant`'s range is put (tokio does the same).
const FAR: std::time::Duration = std::time::Duration::from_secs(86_400 * 365 * 30);

#[derive(Debug, Clone)]
pub struct Pacer {
    period: std::time::Duration,
    /// When the task now running was due to start.
    due: Instant,
}

impl Pacer {
    /// A schedule whose first start is `origin`. Locust starts it when the user is
    /// created, so time spent in `on_start` counts against the first period.
    pub fn new(period: std::time::Duration, origin: Instant) -> Self {
        Pacer {
            period,
            due: origin,
        }
    }

    /// Called when a task ended at `now`: when the next one starts. One period after
    /// the previous start was due, or `now` if that is already past, so an overrun
    /// costs one late start instead of a burst of back-to-back ones.
    pub fn next_start(&mut self, now: Instant) -> Instant {
        let due = self
            .due
            .checked_add(self.period)
            .unwrap_or_else(|| now + FAR);
        self.due = due.max(now);
        self.due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const PERIOD: Duration = Duration::from_millis(100);

    /// Task durations that vary from one task to the next, all below the period even
    /// with the largest timer overshoot below added.
    fn duration_of(n: u32) -> Duration {
        Duration::from_micros(u64::from(n * 7919 % 98_000))
    }

    #[test]
    fn ten_thousand_periods_without_drift() {
        let origin = Instant::now();
        let mut pacer = Pacer::new(PERIOD, origin);
        let mut start = origin;
        for n in 1..=10_000u32 {
            // A real timer wakes a little late; the lateness must not carry over.
            let overshoot = Duration::from_micros(u64::from(n % 3) * 700);
            let ended = start + duration_of(n);
            start = pacer.next_start(ended) + overshoot;
            assert_eq!(start - overshoot, origin + PERIOD * n, "task {n}");
        }
        assert_eq!(
            pacer.next_start(start) - origin,
            Duration::from_secs(1000) + PERIOD
        );
    }

    #[test]
    fn an_overrun_restarts_at_once_without_catching_up() {
        let origin = Instant::now();
        let mut pacer = Pacer::new(PERIOD, origin);
        assert_eq!(pacer.next_start(origin + ms(30)), origin + ms(100));
        // The task started at 100 ms takes 350 ms: the next starts when it ends...
        assert_eq!(pacer.next_start(origin + ms(450)), origin + ms(450));
        // ...and the schedule goes on from there, one period apart, with no burst to
        // make up for the starts that were missed.
        assert_eq!(pacer.next_start(origin + ms(460)), origin + ms(550));
        assert_eq!(pacer.next_start(origin + ms(551)), origin + ms(650));
        // A task ending exactly on the next deadline starts the next one at once.
        assert_eq!(pacer.next_start(origin + ms(750)), origin + ms(750));
    }

    #[test]
    fn throughput_schedules_like_pacing_of_its_inverse() {
        use locust_scenario::WaitTime;
        let origin = Instant::now();
        for r in [3.0, 7.0, 0.25, 1000.0] {
            let period = |w: WaitTime| w.pacing_period().unwrap();
            let mut a = Pacer::new(period(WaitTime::ConstantThroughput(r)), origin);
            let mut b = Pacer::new(period(WaitTime::ConstantPacing(1.0 / r)), origin);
            let mut now = origin;
            for n in 0..1000u32 {
                let next = a.next_start(now);
                assert_eq!(next, b.next_start(now), "rate {r}, task {n}");
                now = next + duration_of(n) / 1000;
            }
        }
    }

    #[test]
    fn zero_period_and_huge_periods() {
        let origin = Instant::now();
        let mut every_time = Pacer::new(Duration::ZERO, origin);
        assert_eq!(every_time.next_start(origin + ms(5)), origin + ms(5));
        let mut never = Pacer::new(Duration::MAX, origin);
        assert!(never.next_start(origin) > origin + Duration::from_secs(86_400 * 365));
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
}
