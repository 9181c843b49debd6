//! What a worker's heartbeat says about its process: CPU use since the last sample
//! (percent of one core, as psutil's `cpu_percent`) and resident memory in bytes,
//! read from /proc; zero where /proc is not there.

use std::time::Instant;

/// CPU time consumed, sampled between heartbeats.
pub struct CpuMeter {
    last: Option<(Instant, u64)>,
}

impl CpuMeter {
    pub fn new() -> Self {
        CpuMeter {
            last: cpu_ns().map(|ns| (Instant::now(), ns)),
        }
    }

    /// Percent of one core used since the previous call.
    pub fn sample(&mut self) -> f64 {
        let (Some((then, before)), Some(now_ns)) = (self.last, cpu_ns()) else {
            return 0.0;
        };
        let now = Instant::now();
        self.last = Some((now, now_ns));
        let wall = now.duration_since(then).as_nanos() as f64;
        if wall <= 0.0 {
            return 0.0;
        }
        (now_ns.saturating_sub(before) as f64 / wall * 100.0 * 10.0).round() / 10.0
    }
}

/// Nanoseconds this process has run on a CPU (first field of /proc/self/schedstat).
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resident set size in bytes (VmRSS of /proc/self/status).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
