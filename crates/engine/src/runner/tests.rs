//! Tests of the runner: ramps and their timing, per-class counts, class switches, stops
//! and the published status.

use super::super::dispatch::weighted as classes;
use super::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Users that send nothing and leave when told to.
fn idle_users() -> Launcher {
    Arc::new(|_, _, signals: StopSignals| {
        Box::pin(async move { signals.graceful.cancelled().await })
    })
}

/// (seconds since the ramp started, user count) at each change until `Running`.
async fn record_ramp(handle: &RunnerHandle, users: u64, rate: f64) -> Vec<(f64, u64)> {
    let mut status = handle.status();
    let started = Instant::now();
    handle.ramp_to(users, rate).await;
    let mut seen = Vec::new();
    loop {
        let current = status.borrow_and_update().clone();
        let point = (
            (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
            current.user_count,
        );
        if seen.last().map(|p: &(f64, u64)| p.1) != Some(point.1) && current.user_count > 0 {
            seen.push(point);
        }
        if current.state == RunState::Running && current.user_count == users {
            return seen;
        }
        status.changed().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn ramp_up_follows_locust_spawn_timing() {
    let handle = spawn(classes(&[("A", 1.0)]), idle_users(), Duration::ZERO);
    assert_eq!(
        record_ramp(&handle, 5, 2.0).await,
        vec![(0.0, 2), (1.0, 4), (2.0, 5)]
    );
    let slow = spawn(classes(&[("A", 1.0)]), idle_users(), Duration::ZERO);
    assert_eq!(
        record_ramp(&slow, 3, 0.5).await,
        vec![(0.0, 1), (2.0, 2), (4.0, 3)]
    );
}

#[tokio::test(start_paused = true)]
async fn users_spread_over_classes_and_ramp_down_is_lifo() {
    let handle = spawn(
        classes(&[("A", 3.0), ("B", 1.0)]),
        idle_users(),
        Duration::ZERO,
    );
    record_ramp(&handle, 8, 100.0).await;
    let counts = handle.status().borrow().class_counts.clone();
    assert_eq!(counts["A"], 6);
    assert_eq!(counts["B"], 2);
    // Sequence ABAAABAA: dropping to 5 removes the last three (A, A, B).
    let mut status = handle.status();
    handle.ramp_to(5, 100.0).await;
    loop {
        let current = status.borrow_and_update().clone();
        if current.state == RunState::Running && current.user_count == 5 {
            assert_eq!(current.class_counts["A"], 4);
            assert_eq!(current.class_counts["B"], 1);
            break;
        }
        status.changed().await.unwrap();
    }
    handle.stop().await;
    let stopped = handle.status().borrow().clone();
    assert_eq!((stopped.state, stopped.user_count), (RunState::Stopped, 0));
}

/// Waits until the published counts are `want` (bounded by the paused clock).
async fn counts_become(handle: &RunnerHandle, want: &[(&str, u64)]) -> RunnerStatus {
    let mut status = handle.status();
    loop {
        let current = status.borrow_and_update().clone();
        if want.iter().all(|(c, n)| current.class_counts[*c] == *n) {
            return current;
        }
        status.changed().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn set_counts_applies_absolute_counts_per_class_at_once() {
    let handle = spawn(
        classes(&[("A", 3.0), ("B", 1.0), ("C", 1.0)]),
        idle_users(),
        Duration::ZERO,
    );
    let started = Instant::now();
    let counts = |a, b, c| {
        BTreeMap::from([
            ("A".to_string(), a),
            ("B".to_string(), b),
            ("C".to_string(), c),
        ])
    };
    handle.set_counts(counts(1, 4, 0)).await;
    let status = counts_become(&handle, &[("A", 1), ("B", 4), ("C", 0)]).await;
    assert_eq!((status.state, status.user_count), (RunState::Running, 5));
    // No spawn rate: the counts are reached without the clock moving.
    assert_eq!(started.elapsed(), Duration::ZERO);
    handle.set_counts(counts(2, 1, 3)).await;
    let status = counts_become(&handle, &[("A", 2), ("B", 1), ("C", 3)]).await;
    assert_eq!(status.user_count, 6);
    // A class left out has no users.
    handle
        .set_counts(BTreeMap::from([("C".to_string(), 1)]))
        .await;
    let status = counts_become(&handle, &[("A", 0), ("B", 0), ("C", 1)]).await;
    assert_eq!(status.user_count, 1);
    handle.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stop_timeout_lets_busy_users_finish_then_kills_the_rest() {
    let finished = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicU64::new(0));
    let (f, k) = (finished.clone(), killed.clone());
    // Even users finish a 2 s task after the graceful signal; odd ones never do.
    let launch: Launcher = Arc::new(move |index, _, signals: StopSignals| {
        let (f, k) = (f.clone(), k.clone());
        Box::pin(async move {
            signals.graceful.cancelled().await;
            let task = tokio::time::sleep(if index % 2 == 0 {
                Duration::from_secs(2)
            } else {
                Duration::from_secs(3600)
            });
            tokio::select! {
                _ = task => { f.fetch_add(1, Ordering::SeqCst); }
                _ = signals.kill.cancelled() => { k.fetch_add(1, Ordering::SeqCst); }
            }
        })
    });
    let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::from_secs(5));
    record_ramp(&handle, 4, 100.0).await;
    let started = Instant::now();
    handle.stop().await;
    assert_eq!(finished.load(Ordering::SeqCst), 2);
    assert_eq!(killed.load(Ordering::SeqCst), 2);
    assert_eq!(started.elapsed().as_secs(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_new_target_while_ramping_starts_from_the_current_count() {
    let handle = spawn(classes(&[("A", 1.0)]), idle_users(), Duration::ZERO);
    let mut status = handle.status();
    handle.ramp_to(10, 1.0).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(status.borrow_and_update().user_count, 3);
    handle.ramp_to(2, 10.0).await;
    loop {
        let current = status.borrow_and_update().clone();
        if current.state == RunState::Running {
            assert_eq!(current.user_count, 2);
            break;
        }
        status.changed().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn switching_classes_stops_the_excluded_and_rebalances() {
    let handle = spawn(
        classes(&[("A", 1.0), ("B", 1.0), ("C", 2.0)]),
        idle_users(),
        Duration::ZERO,
    );
    let running = |handle: &RunnerHandle| {
        let mut status = handle.status();
        async move {
            loop {
                let current = status.borrow_and_update().clone();
                if current.state == RunState::Running {
                    return current.class_counts;
                }
                status.changed().await.unwrap();
            }
        }
    };
    handle
        .ramp_to_classes(6, 100.0, Some(vec!["A".into(), "B".into()]))
        .await;
    let counts = running(&handle).await;
    assert_eq!((counts["A"], counts["B"], counts["C"]), (3, 3, 0));
    handle
        .ramp_to_classes(4, 100.0, Some(vec!["C".into()]))
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let counts = running(&handle).await;
    assert_eq!((counts["A"], counts["B"], counts["C"]), (0, 0, 4));
    // All classes again at the same count: rebalanced to the weights 1:1:2.
    handle.ramp_to(4, 100.0).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let counts = running(&handle).await;
    assert_eq!((counts["A"], counts["B"], counts["C"]), (1, 1, 2));
    handle.ramp_to(8, 100.0).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let counts = running(&handle).await;
    assert_eq!((counts["A"], counts["B"], counts["C"]), (2, 2, 4));
}

/// Users as the real ones behave toward stopping: odd ones sleep in a long wait and
/// leave on the graceful signal, even ones are forever in the middle of a request and
/// leave only when killed. `ended` counts the users that left.
fn sleeping_and_busy_users(ended: Arc<AtomicU64>) -> Launcher {
    Arc::new(move |index, _, signals: StopSignals| {
        let ended = ended.clone();
        Box::pin(async move {
            let leave = if index % 2 == 1 {
                signals.graceful.clone()
            } else {
                signals.kill.clone()
            };
            loop {
                tokio::select! {
                    biased;
                    _ = leave.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                }
            }
            ended.fetch_add(1, Ordering::SeqCst);
        })
    })
}

#[tokio::test(start_paused = true)]
async fn stop_with_thousands_of_users_takes_no_time_at_stop_timeout_zero() {
    let ended = Arc::new(AtomicU64::new(0));
    let handle = spawn(
        classes(&[("A", 1.0), ("B", 1.0)]),
        sleeping_and_busy_users(ended.clone()),
        Duration::ZERO,
    );
    record_ramp(&handle, 2500, 2500.0).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let started = Instant::now();
    handle.stop().await;
    // Paused time moves only when every task waits on a timer, so any wait for a
    // sleeping user, a request or a timeout would show here.
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(ended.load(Ordering::SeqCst), 2500);
    let stopped = handle.status().borrow().clone();
    assert_eq!((stopped.state, stopped.user_count), (RunState::Stopped, 0));
}

#[tokio::test(start_paused = true)]
async fn sleeping_users_leave_at_once_even_with_a_stop_timeout() {
    let ended = Arc::new(AtomicU64::new(0));
    // Every user sleeps (odd indices only, as launched with 1, 3, 5, ...).
    let sleepers = sleeping_and_busy_users(ended.clone());
    let launch: Launcher =
        Arc::new(move |index, class, signals| (sleepers)(index * 2 + 1, class, signals));
    let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::from_secs(30));
    record_ramp(&handle, 2000, 2000.0).await;
    let started = Instant::now();
    handle.stop().await;
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(ended.load(Ordering::SeqCst), 2000);
}

#[tokio::test(start_paused = true)]
async fn spawn_rate_is_kept_while_users_are_busy_with_slow_requests() {
    // Each user spends 5 s in its first request (as a slow on_start would) and then
    // sends 2 s requests back to back: nothing the ramp may wait for.
    let launch: Launcher = Arc::new(|_, _, signals: StopSignals| {
        Box::pin(async move {
            let mut request = Duration::from_secs(5);
            loop {
                tokio::select! {
                    biased;
                    _ = signals.graceful.cancelled() => return,
                    _ = tokio::time::sleep(request) => request = Duration::from_secs(2),
                }
            }
        })
    });
    let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::ZERO);
    let status = handle.status();
    let started = Instant::now();
    handle.ramp_to(2000, 100.0).await;
    // Steps of 100 users at 0 s, 1 s, ..., 19 s (Locust: the first at once).
    for second in 0..25u64 {
        let expected = (100 * (second + 1)).min(2000);
        for at in [1, 500, 999] {
            let when = started + Duration::from_secs(second) + Duration::from_millis(at);
            tokio::time::sleep_until(when).await;
            let current = status.borrow().clone();
            assert_eq!(current.user_count, expected, "at {second}.{at:03} s");
            let running = second >= 19;
            assert_eq!(current.state == RunState::Running, running, "at {second} s");
        }
    }
    handle.stop().await;
}

#[tokio::test(start_paused = true)]
async fn users_that_end_by_themselves_no_longer_count() {
    // Odd users leave after 1 s on their own (as -i does); even ones stay.
    let launch: Launcher = Arc::new(|index, _, signals: StopSignals| {
        Box::pin(async move {
            if index % 2 == 1 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            } else {
                signals.graceful.cancelled().await;
            }
        })
    });
    let handle = spawn(classes(&[("A", 1.0)]), launch, Duration::ZERO);
    record_ramp(&handle, 6, 100.0).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = handle.status().borrow().clone();
    assert_eq!((status.state, status.user_count), (RunState::Running, 3));
    assert_eq!(status.class_counts["A"], 3);
    handle.stop().await;
    assert_eq!(handle.status().borrow().user_count, 0);
}
