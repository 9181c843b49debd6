//! The spawn-rate schedule, Locust's way: `max(1, floor(rate))` users per step, a step
//! every `users_per_step / rate` seconds, the first step at once and no sleep after the
//! last. Steps are computed on demand (a ramp to a billion users costs no memory), and
//! the arithmetic is pure, so it is tested without clocks.

use std::time::Duration;

/// Far enough in the future to never come (about 100 years).
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// One step of a ramp: at `offset` from the ramp start, have `count` users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub offset: Duration,
    pub count: u64,
}

/// The steps that take `from` users to `to` users at `rate` users per second.
#[derive(Debug, Clone)]
pub struct Ramp {
    from: u64,
    to: u64,
    per_step: u64,
    interval: f64,
    steps: u64,
}

impl Ramp {
    pub fn new(from: u64, to: u64, rate: f64) -> Self {
        let per_step = (rate.floor() as u64).max(1);
        Ramp {
            from,
            to,
            per_step,
            interval: per_step as f64 / rate,
            steps: from.abs_diff(to).div_ceil(per_step),
        }
    }

    /// How many steps the ramp takes.
    pub fn len(&self) -> u64 {
        self.steps
    }

    /// True when there is nothing to move: `from` is already `to`.
    pub fn is_empty(&self) -> bool {
        self.steps == 0
    }

    /// The `index`-th step (0-based), or `None` past the last one.
    pub fn step(&self, index: u64) -> Option<Step> {
        if index >= self.steps {
            return None;
        }
        let moved = (index + 1).saturating_mul(self.per_step);
        let count = if self.to > self.from {
            self.from.saturating_add(moved).min(self.to)
        } else {
            self.from.saturating_sub(moved).max(self.to)
        };
        Some(Step {
            // A vanishingly small rate saturates instead of overflowing.
            offset: Duration::try_from_secs_f64(self.interval * index as f64).unwrap_or(FAR),
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ramp: Ramp) -> Vec<(f64, u64)> {
        (0..ramp.len())
            .filter_map(|i| ramp.step(i))
            .map(|s| ((s.offset.as_secs_f64() * 1000.0).round() / 1000.0, s.count))
            .collect()
    }

    #[test]
    fn observed_locust_ramps() {
        assert_eq!(at(Ramp::new(0, 5, 2.0)), vec![(0.0, 2), (1.0, 4), (2.0, 5)]);
        assert_eq!(at(Ramp::new(0, 3, 0.5)), vec![(0.0, 1), (2.0, 2), (4.0, 3)]);
        assert_eq!(at(Ramp::new(5, 1, 2.0)), vec![(0.0, 3), (1.0, 1)]);
    }

    #[test]
    fn fractional_rates_above_one_step_by_floor() {
        // rate 2.5: 2 users a step, a step every 0.8 s
        assert_eq!(at(Ramp::new(0, 5, 2.5)), vec![(0.0, 2), (0.8, 4), (1.6, 5)]);
        assert_eq!(Ramp::new(4, 4, 1.0).len(), 0);
    }

    #[test]
    fn huge_ramps_cost_nothing_up_front() {
        let ramp = Ramp::new(0, 99_999_999_999, 1.0);
        assert_eq!(ramp.len(), 99_999_999_999);
        let last = ramp.step(ramp.len() - 1).unwrap();
        assert_eq!(last.count, 99_999_999_999);
        let tiny = Ramp::new(0, 2, 1e-300);
        assert_eq!(tiny.step(1).unwrap().offset, FAR);
    }
}
