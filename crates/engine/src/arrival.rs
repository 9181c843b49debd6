//! Open-model scheduling (k6's constant- and ramping-arrival-rate executors): iteration
//! starts follow a fixed schedule whatever the response times, from a pool of at most
//! `max_pool` iterations in flight; a start that finds the pool full waits for a free
//! slot (a late start) while fewer than `backlog` starts already wait, otherwise it is
//! dropped; both are counted. Each iteration gets its intended start so latency can be
//! measured from it (wrk2's correction).

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A linear change of the arrival rate to `target` iterations/s over `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateStage {
    pub duration: Duration,
    pub target: f64,
}

/// When iterations should start.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Constant {
        rate: f64,
        duration: Duration,
    },
    Ramping {
        start_rate: f64,
        stages: Vec<RateStage>,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArrivalCounts {
    pub started: u64,
    /// Started after waiting for a free slot in the pool.
    pub late: u64,
    pub dropped: u64,
}

/// The pool: at most `size` iterations in flight, at most `backlog` starts waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub size: usize,
    pub backlog: usize,
}

impl Schedule {
    /// How long the schedule lasts (its stages' durations added up).
    pub fn duration(&self) -> Duration {
        self.stages().iter().map(|(_, stage)| stage.duration).sum()
    }

    fn stages(&self) -> Vec<(f64, RateStage)> {
        match self {
            Schedule::Constant { rate, duration } => vec![(
                *rate,
                RateStage {
                    duration: *duration,
                    target: *rate,
                },
            )],
            Schedule::Ramping { start_rate, stages } => {
                let mut from = *start_rate;
                stages
                    .iter()
                    .map(|s| {
                        let pair = (from, s.clone());
                        from = s.target;
                        pair
                    })
                    .collect()
            }
        }
    }

    /// Offsets since the start of every intended iteration start: the n-th (from 0) is
    /// where the integral of the rate reaches n.
    pub fn starts(&self) -> Vec<Duration> {
        let mut starts = Vec::new();
        let mut offset = 0.0_f64;
        let mut done = 0.0_f64; // iterations due before this stage
        let mut next = 0.0_f64; // index of the next start
        for (from, stage) in self.stages() {
            let length = stage.duration.as_secs_f64();
            let slope = if length > 0.0 {
                (stage.target - from) / length
            } else {
                0.0
            };
            let in_stage = from * length + slope * length * length / 2.0;
            while next < done + in_stage - 1e-9 {
                let need = next - done;
                // Solve from*t + slope*t^2/2 = need for t in [0, length].
                let t = if slope.abs() < 1e-12 {
                    need / from
                } else {
                    let disc = (from * from + 2.0 * slope * need).max(0.0);
                    (disc.sqrt() - from) / slope
                };
                starts.push(Duration::from_secs_f64((offset + t).max(0.0)));
                next += 1.0;
            }
            offset += length;
            done += in_stage;
        }
        starts
    }
}

/// Runs `schedule`: at each intended start, an iteration (`launch(intended)`) starts if
/// fewer than `pool.size` are in flight, otherwise it waits for a slot or is dropped
/// (see the module header) and `dropped(intended)` is told, so that every intended
/// start is accounted for. Returns when the schedule is over (or `stop` is cancelled)
/// and every started iteration has finished.
pub async fn run<F, Fut, D>(
    schedule: &Schedule,
    pool: Pool,
    stop: &CancellationToken,
    launch: F,
    mut dropped: D,
) -> ArrivalCounts
where
    F: Fn(Instant) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
    D: FnMut(Instant),
{
    let slots = Arc::new(Semaphore::new(pool.size));
    let waiting = Arc::new(AtomicUsize::new(0));
    let late = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut counts = ArrivalCounts::default();
    let mut warned = false;
    let tasks = tokio_util::task::TaskTracker::new();
    for offset in schedule.starts() {
        let intended = began + offset;
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep_until(intended) => {}
        }
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => Some(slot),
            Err(_) => {
                if !warned {
                    warned = true;
                    tracing::warn!(
                        target: crate::log_targets::RUNNERS,
                        "The arrival-rate pool is exhausted ({} iterations in flight): starts are late or dropped; raise --max-pool, or the target is too slow for this rate",
                        pool.size
                    );
                }
                if waiting.load(Ordering::SeqCst) >= pool.backlog {
                    counts.dropped += 1;
                    dropped(intended);
                    continue;
                }
                None
            }
        };
        counts.started += 1;
        let iteration = launch(intended);
        let (slots, waiting, late) = (slots.clone(), waiting.clone(), late.clone());
        waiting.fetch_add(usize::from(slot.is_none()), Ordering::SeqCst);
        tasks.spawn(async move {
            let slot = match slot {
                Some(slot) => slot,
                None => {
                    let slot = slots.acquire_owned().await;
                    waiting.fetch_sub(1, Ordering::SeqCst);
                    late.fetch_add(1, Ordering::SeqCst);
                    match slot {
                        Ok(slot) => slot,
                        Err(_) => return,
                    }
                }
            };
            iteration.await;
            drop(slot);
        });
    }
    tasks.close();
    tasks.wait().await;
    counts.late = late.load(Ordering::SeqCst);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn ms(d: &[Duration]) -> Vec<u128> {
        d.iter()
            .map(|d| (d.as_secs_f64() * 1000.0).round() as u128)
            .collect()
    }

    #[test]
    fn constant_and_ramping_schedules() {
        let constant = Schedule::Constant {
            rate: 10.0,
            duration: Duration::from_secs(2),
        };
        let starts = ms(&constant.starts());
        assert_eq!(starts.len(), 20);
        assert_eq!((starts[0], starts[1], starts[19]), (0, 100, 1900));
        // 0 -> 10/s over 2 s: 10 iterations, the n-th at sqrt(0.4 n) s; then 10/s for 1 s.
        let ramping = Schedule::Ramping {
            start_rate: 0.0,
            stages: vec![
                RateStage {
                    duration: Duration::from_secs(2),
                    target: 10.0,
                },
                RateStage {
                    duration: Duration::from_secs(1),
                    target: 10.0,
                },
            ],
        };
        let starts = ms(&ramping.starts());
        assert_eq!(starts.len(), 20);
        assert_eq!(&starts[..4], &[0, 632, 894, 1095]);
        assert_eq!(&starts[10..12], &[2000, 2100]);
    }

    #[tokio::test(start_paused = true)]
    async fn starts_keep_the_schedule_and_a_full_pool_drops_them() {
        let schedule = Schedule::Constant {
            rate: 10.0,
            duration: Duration::from_secs(2),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let began = Instant::now();
        let s = seen.clone();
        // Iterations take 1.05 s: 10/s needs ~11 in flight, the pool holds 5.
        let pool = Pool {
            size: 5,
            backlog: 0,
        };
        let mut drops = Vec::new();
        let counts = run(
            &schedule,
            pool,
            &CancellationToken::new(),
            move |intended| {
                let s = s.clone();
                async move {
                    let late = Instant::now().duration_since(intended);
                    s.lock()
                        .unwrap()
                        .push((intended.duration_since(began), late));
                    tokio::time::sleep(Duration::from_millis(1050)).await;
                }
            },
            |intended| drops.push(intended.duration_since(began)),
        )
        .await;
        // Every start the pool could not take is handed on with its intended time.
        assert_eq!(
            ms(&drops),
            vec![500, 600, 700, 800, 900, 1000, 1600, 1700, 1800, 1900]
        );
        assert_eq!(
            counts,
            ArrivalCounts {
                started: 10,
                late: 0,
                dropped: 10
            }
        );
        let seen = seen.lock().unwrap();
        let offsets: Vec<Duration> = seen.iter().map(|(o, _)| *o).collect();
        assert_eq!(
            ms(&offsets),
            vec![0, 100, 200, 300, 400, 1100, 1200, 1300, 1400, 1500]
        );
        assert!(seen
            .iter()
            .all(|(_, late)| *late < Duration::from_millis(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_pool_makes_starts_late_until_the_backlog_is_full() {
        let schedule = Schedule::Constant {
            rate: 10.0,
            duration: Duration::from_secs(1),
        };
        let late = Arc::new(Mutex::new(Vec::new()));
        let l = late.clone();
        // Iterations take 500 ms from at most 2 users: 4/s. Starts at 0, 100, ... 900 ms.
        let pool = Pool {
            size: 2,
            backlog: 3,
        };
        let counts = run(
            &schedule,
            pool,
            &CancellationToken::new(),
            move |intended| {
                let l = l.clone();
                async move {
                    let lateness = Instant::now().duration_since(intended);
                    l.lock().unwrap().push(lateness.as_millis());
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            },
            |_| {},
        )
        .await;
        assert_eq!(counts.started + counts.dropped, 10);
        assert!(counts.late > 0 && counts.dropped > 0, "{counts:?}");
        let late = late.lock().unwrap();
        assert_eq!(late.len() as u64, counts.started);
        assert_eq!(
            late.iter().filter(|ms| **ms > 0).count() as u64,
            counts.late
        );
        assert_eq!(late[..2], [0, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_the_schedule_early() {
        let schedule = Schedule::Constant {
            rate: 10.0,
            duration: Duration::from_secs(10),
        };
        let stop = CancellationToken::new();
        let s = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(450)).await;
            s.cancel();
        });
        let pool = Pool {
            size: 5,
            backlog: 5,
        };
        let counts = run(&schedule, pool, &stop, |_| async {}, |_| {}).await;
        assert_eq!(counts.started, 5);
    }
}
