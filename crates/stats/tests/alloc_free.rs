//! The hot path allocates nothing once an entry (and its error) exists: a counting
//! global allocator around repeated records. One test only, so nothing else allocates
//! concurrently in this binary.

use std::alloc::System;

use locust_stats::Recorder;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn repeat_records_do_not_allocate() {
    let recorder = Recorder::new(2);
    let handle = recorder.handle(1);
    let error = "HTTPError('500 Server Error: Internal Server Error for url: /x')";
    // Warm up: creates the entry, the error key and the per-second slot.
    for i in 0..100 {
        handle.record_at(
            "GET",
            "/x",
            Some((i % 40) as f64 * 1.7),
            10,
            Some(error),
            1000.5,
        );
        handle.record_at("GET", "/x", Some((i % 40) as f64 * 1.7), 10, None, 1000.5);
        handle.record_labels_at([(0, "HIT"), (1, "app1")], (i % 40) as f64, 1000.5);
        handle.record_labels_at([(0, "MISS"), (1, "app2")], (i % 40) as f64, 1000.5);
    }
    let region = Region::new(GLOBAL);
    for i in 0..100_000 {
        let failed = (i % 3 == 0).then_some(error);
        handle.record_at("GET", "/x", Some((i % 40) as f64 * 1.7), 10, failed, 1000.5);
        let (cache, instance) = if i % 2 == 0 {
            ("HIT", "app1")
        } else {
            ("MISS", "app2")
        };
        handle.record_labels_at([(0, cache), (1, instance)], (i % 40) as f64, 1000.5);
    }
    let change = region.change();
    // The allocator is global: libtest's own threads sometimes allocate a few bytes while
    // this runs. One allocation per record would show as 100,000+; allow a handful.
    assert!(change.allocations < 16, "{change:?}");
    assert!(change.reallocations < 16, "{change:?}");
    // The counter works: a new entry does allocate.
    let region = Region::new(GLOBAL);
    handle.record_at("GET", "/new", Some(1.0), 10, None, 1000.5);
    assert!(region.change().allocations > 0);
}
