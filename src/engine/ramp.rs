//! The spawn-rate schedule, Locust's way: `max(1, floor(rate))` users per step, a step
//! every `users_per_step / rate` seconds, the first step at once and no sleep after the
//! last. Pure arithmetic, so it is tested without clocks.

use std::time::Duration;

/// One step of a ramp: at `offset` from the ramp start, have `count` users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub offset: Duration,
    pub count: u64,
}

/// The steps that take `from` users to `to` users at `rate` users per second.
pub fn steps(from: u64, to: u64, rate: f64) -> Vec<Step> {
    let per_step = (rate.floor() as u64).max(1);
    let interval = per_step as f64 / rate;
    let mut out = Vec::new();
    let mut current = from;
    let mut index = 0u32;
    while current != to {
        current = if to > current {
            (current + per_step).min(to)
        } else {
            current.saturating_sub(per_step).max(to)
        };
        out.push(Step {
            offset: Duration::from_secs_f64(interval * index as f64),
            count: current,
        });
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(steps: &[Step]) -> Vec<(f64, u64)> {
        steps
            .iter()
            .map(|s| ((s.offset.as_secs_f64() * 1000.0).round() / 1000.0, s.count))
            .collect()
    }

    #[test]
    fn observed_locust_ramps() {
        assert_eq!(at(&steps(0, 5, 2.0)), vec![(0.0, 2), (1.0, 4), (2.0, 5)]);
        assert_eq!(at(&steps(0, 3, 0.5)), vec![(0.0, 1), (2.0, 2), (4.0, 3)]);
        assert_eq!(at(&steps(5, 1, 2.0)), vec![(0.0, 3), (1.0, 1)]);
    }

    #[test]
    fn fractional_rates_above_one_step_by_floor() {
        // rate 2.5: 2 users a step, a step every 0.8 s
        assert_eq!(at(&steps(0, 5, 2.5)), vec![(0.0, 2), (0.8, 4), (1.6, 5)]);
        assert!(steps(4, 4, 1.0).is_empty());
    }
}
