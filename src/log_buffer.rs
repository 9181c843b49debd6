//! The last log lines, kept for the web UI's `/logs` (Locust keeps 500): a writer that
//! passes every formatted line on to stderr or the log file and remembers a copy.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;

/// Locust's web UI shows this many lines.
pub const KEPT_LINES: usize = 500;

fn lines() -> &'static Mutex<VecDeque<String>> {
    static LINES: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    LINES.get_or_init(|| Mutex::new(VecDeque::with_capacity(KEPT_LINES)))
}

/// The kept lines, oldest first, without their newline.
pub fn recent() -> Vec<String> {
    locust_stats::lock(lines()).iter().cloned().collect()
}

/// Lines remembered since the process started (the kept ones are the last of them).
static TOTAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn remember(text: &str) {
    let mut kept = locust_stats::lock(lines());
    if kept.len() == KEPT_LINES {
        kept.pop_front();
    }
    kept.push_back(text.to_string());
    TOTAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The kept lines logged after the first `seen` (at most the last `max` of them), and
/// the count to pass next time: what a worker's `logs` message sends.
pub fn since(seen: u64, max: usize) -> (Vec<String>, u64) {
    let kept = locust_stats::lock(lines());
    let total = TOTAL.load(std::sync::atomic::Ordering::Relaxed);
    let new = usize::try_from(total.saturating_sub(seen))
        .unwrap_or(usize::MAX)
        .min(kept.len())
        .min(max);
    (kept.iter().skip(kept.len() - new).cloned().collect(), total)
}

/// Wraps the real destination's `MakeWriter`.
pub struct Tee<M>(pub M);

/// Collects one event's bytes (it may come in several writes) and keeps it as one
/// entry when the writer is dropped, as Locust keeps a multi-line record as one line.
pub struct TeeWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Drop for TeeWriter<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.pending);
        let text = text.trim_end_matches('\n');
        if !text.is_empty() {
            remember(text);
        }
    }
}

impl<W: Write> Write for TeeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.inner.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Tee<M> {
    type Writer = TeeWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        TeeWriter {
            inner: self.0.make_writer(),
            pending: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_only() {
        let mut passed_on = 0;
        for i in 0..(KEPT_LINES + 20) {
            let mut writer = TeeWriter {
                inner: Vec::<u8>::new(),
                pending: Vec::new(),
            };
            writeln!(writer, "line {i}").unwrap();
            passed_on += writer.inner.len();
        }
        let kept = recent();
        assert_eq!(kept.len(), KEPT_LINES);
        assert_eq!(kept.last().map(String::as_str), Some("line 519"));
        assert_eq!(
            passed_on,
            (0..520).map(|i| format!("line {i}\n").len()).sum::<usize>()
        );
    }
}
