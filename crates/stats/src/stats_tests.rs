//! Unit tests of `Stats`: absorb, merge, reset, rates and concurrency.

use super::*;
use crate::entry::Median;

fn rec(h: &crate::RecordHandle, method: &str, name: &str, ms: f64, err: Option<&str>, now: f64) {
    h.record_at(method, name, Some(ms), 10, err, now);
}

#[test]
fn absorb_drains_deltas_once() {
    let r = Recorder::new(4);
    let mut stats = Stats::new(100.0, false);
    rec(&r.handle(0), "GET", "/a", 1.0, None, 100.5);
    rec(&r.handle(1), "GET", "/a", 3.0, Some("boom"), 101.5);
    rec(&r.handle(2), "POST", "/b", 2.0, None, 101.7);
    stats.absorb(&r);
    stats.absorb(&r); // nothing new: no double counting
    let a = stats.entry("GET", "/a").expect("entry");
    assert_eq!((a.num_requests, a.num_failures), (2, 1));
    assert_eq!(a.start_time, 100.5);
    assert_eq!(stats.total().num_requests, 3);
    assert_eq!(stats.total().start_time, 100.0);
    assert_eq!(stats.last_request_timestamp(), Some(101.7));
    assert_eq!(stats.errors().len(), 1);
    assert_eq!(stats.errors()[0].occurrences, 1);
    rec(&r.handle(3), "GET", "/a", 5.0, Some("boom"), 102.0);
    stats.absorb(&r);
    assert_eq!(stats.entry("GET", "/a").map(|e| e.num_requests), Some(3));
    assert_eq!(stats.errors()[0].occurrences, 2);
    assert_eq!(stats.errors()[0].first_seen, Some(101.5));
    assert_eq!(stats.errors()[0].last_seen, Some(102.0));
}

#[test]
fn creation_order_follows_first_request_across_shards() {
    let r = Recorder::new(2);
    let mut stats = Stats::new(0.0, false);
    rec(&r.handle(1), "GET", "/late", 1.0, Some("e2"), 12.0);
    rec(&r.handle(0), "GET", "/early", 1.0, Some("e1"), 11.0);
    stats.absorb(&r);
    let names: Vec<&str> = stats.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["/early", "/late"]);
    assert_eq!(stats.errors()[0].error, "e1");
    assert_eq!(stats.entry("GET", "/late").map(|e| e.num_requests), Some(1));
    let sorted: Vec<&str> = stats
        .sorted_entries()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(sorted, ["/early", "/late"]);
}

#[test]
fn exceptions_group_by_traceback() {
    let r = Recorder::new(1);
    let h = r.handle(0);
    h.record_exception("division by zero", "Traceback:\n  x\nZeroDivisionError");
    h.record_exception("division by zero", "Traceback:\n  x\nZeroDivisionError");
    h.record_exception("other", "tb2");
    let mut stats = Stats::new(0.0, false);
    stats.absorb(&r);
    assert_eq!(stats.exceptions().len(), 2);
    assert_eq!(stats.exceptions()[0].count, 2);
    assert_eq!(stats.exceptions()[0].nodes, ["local"]);
    stats.log_exception("worker_1", "other", "tb2");
    assert_eq!(stats.exceptions()[1].nodes, ["local", "worker_1"]);
}

#[test]
fn merging_aggregates_adds_everything() {
    let (r1, r2) = (Recorder::new(1), Recorder::new(1));
    rec(&r1.handle(0), "GET", "/", 1.0, Some("x"), 50.0);
    rec(&r2.handle(0), "GET", "/", 9.0, Some("x"), 60.0);
    rec(&r2.handle(0), "GET", "/other", 4.0, None, 61.0);
    let (mut a, mut b) = (Stats::new(40.0, false), Stats::new(30.0, false));
    a.absorb(&r1);
    b.absorb(&r2);
    a += &b;
    let e = a.entry("GET", "/").expect("entry");
    assert_eq!(
        (e.num_requests, e.min_response_time, e.max_response_time),
        (2, Some(1.0), 9.0)
    );
    assert_eq!(a.total().num_requests, 3);
    assert_eq!(a.start_time(), 30.0);
    assert_eq!(a.last_request_timestamp(), Some(61.0));
    assert_eq!(a.errors().len(), 1);
    assert_eq!(a.errors()[0].occurrences, 2);
    assert_eq!(
        (a.errors()[0].first_seen, a.errors()[0].last_seen),
        (Some(50.0), Some(60.0))
    );
    assert_eq!(a.total().histogram.len(), 3);
}

#[test]
fn reset_keeps_entries_and_restarts_the_clock() {
    let r = Recorder::new(2);
    let mut stats = Stats::new(0.0, false);
    rec(&r.handle(0), "GET", "/", 1.0, Some("x"), 1.0);
    stats.absorb(&r);
    rec(&r.handle(1), "GET", "/", 1.0, Some("x"), 2.0); // recorded before the reset
    r.reset();
    stats.reset(5.0);
    stats.absorb(&r);
    assert_eq!(stats.entries().len(), 1);
    assert_eq!(stats.total().num_requests, 0);
    assert!(stats.errors().is_empty());
    assert_eq!(stats.start_time(), 5.0);
    assert_eq!(stats.total().median(), Median::Bucket(0));
}

#[test]
fn current_rate_window_skips_the_last_two_seconds() {
    let r = Recorder::new(1);
    let h = r.handle(0);
    let mut stats = Stats::new(1000.0, false);
    // 4 requests in each of seconds 1000..=1004, last request at 1004.5.
    for s in 1000..=1004 {
        for _ in 0..4 {
            rec(&h, "GET", "/", 1.0, Some("f"), s as f64 + 0.5);
        }
    }
    stats.absorb(&r);
    let e = stats.entry("GET", "/").expect("entry").clone();
    // Window: range(max(1004-12, 1000), 1002) = seconds 1000 and 1001.
    assert_eq!(stats.current_rps(&e), 4.0);
    assert_eq!(stats.current_fail_per_sec(&e), 4.0);
    assert_eq!(stats.total_rps(&e), 20.0 / 4.5);
    // Too early for a window: 0.
    let early = Stats::new(1003.0, false);
    assert_eq!(early.current_rps(&e), 0.0);
    assert_eq!(early.total_rps(&e), 0.0);
}

#[test]
fn current_percentiles_come_from_the_snapshot_ring() {
    let r = Recorder::new(1);
    let h = r.handle(0);
    let mut stats = Stats::new(1000.0, true);
    for _ in 0..50 {
        rec(&h, "GET", "/", 400.0, None, 1000.5);
    }
    stats.absorb(&r);
    stats.tick(1001.0); // snapshot for second 1000
    for _ in 0..5 {
        rec(&h, "GET", "/", 3.0, None, 1005.5);
    }
    stats.absorb(&r);
    assert_eq!(stats.total().current_percentile(1.0, 1010.2), Some(3));
    let e = stats.entry("GET", "/").expect("entry");
    assert_eq!(e.current_percentile(0.5, 1010.2), Some(3));
    assert_eq!(e.locust_percentile(0.5), 400);
    assert_eq!(stats.total().current_percentile(0.5, 1030.0), None);
}

#[test]
fn many_threads_record_exact_totals() {
    let r = Recorder::new(4);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let h = r.handle(t);
            std::thread::spawn(move || {
                for i in 0..10_000u64 {
                    let err =
                        (i % 10 == 0).then_some("HTTPError('500 Server Error: x for url: /')");
                    h.record_at(
                        "GET",
                        if i % 2 == 0 { "/a" } else { "/b" },
                        Some(1.0 + (i % 7) as f64),
                        2,
                        err,
                        100.0 + (i % 5) as f64,
                    );
                }
            })
        })
        .collect();
    let mut stats = Stats::new(99.0, false);
    // Absorb concurrently with recording too.
    for _ in 0..5 {
        stats.absorb(&r);
        std::thread::yield_now();
    }
    for t in threads {
        t.join().expect("thread");
    }
    stats.absorb(&r);
    assert_eq!(stats.total().num_requests, 80_000);
    assert_eq!(stats.total().num_failures, 8_000);
    assert_eq!(stats.total().histogram.len(), 80_000);
    assert_eq!(stats.total().total_content_length, 160_000);
    assert_eq!(
        stats.entry("GET", "/a").map(|e| e.num_requests),
        Some(40_000)
    );
    let errors: u64 = stats.errors().iter().map(|e| e.occurrences).sum();
    assert_eq!(errors, 8_000);
    let per_sec: u64 = stats.total().num_reqs_per_sec.values().sum();
    assert_eq!(per_sec, 80_000);
}
