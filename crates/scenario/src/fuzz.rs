//! Seeded mutations for the `fuzz_*` tests of the parsers of user input (scenario TOML,
//! templates, and the binary's criteria, config files, time spans and command line):
//! a replayable random source, the mutations, a hang watchdog and a panic catcher. Test
//! support only; nothing on a run's path calls it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most bytes a mutated input may have: every input stays small, so a parser that
/// allocates in proportion to its input is bounded.
pub const MAX_INPUT: usize = 256 * 1024;

/// How long one case may run before the watchdog calls it a hang (a generous bound on a
/// debug build on a loaded machine, not a speed assertion).
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// xorshift64: a fixed sequence per seed, so that a failing case can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// `cases`, or `LOCUST_RS_FUZZ_CASES / divisor` when that is set (as `make fuzz` sets it):
/// a slow parser takes a divisor so that `make fuzz` stays within minutes.
pub fn cases(cases: u64, divisor: u64) -> u64 {
    std::env::var("LOCUST_RS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(cases, |n| (n / divisor.max(1)).max(1))
}

/// Numbers a parser must refuse or bound: past u64 and f64, signed zero, not-a-number.
pub const HOSTILE_NUMBERS: &[&str] = &[
    "99999999999999999999",
    "18446744073709551616",
    "-9223372036854775809",
    "1e308",
    "1e309",
    "-1e308",
    "1e-400",
    "-0",
    "-0.0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "0x7fffffffffffffff",
    "1_000_000_000_000",
    "4294967296",
    "-1",
    "0",
    "0.0000001",
    "100000000000000000000000000000000000000000000000000",
];

/// Byte sequences that are not UTF-8: a lone continuation byte, an overlong form, a
/// surrogate, past U+10FFFF, a cut sequence, 0xff; and a NUL and a BOM, which are UTF-8.
pub const INVALID_UTF8: &[&[u8]] = &[
    b"\x80",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"\xff",
    b"\x00",
    b"\xef\xbb\xbf",
];

/// Single bytes worth inserting: the syntax of TOML, templates, INI and criteria.
const ALPHABET: &[u8] = b"[]{}()=:,.\"'\\#;%|~<>!*+-_ \t\r\n0123456789aeshmkdx\x00\xff";

/// Applies one random mutation to `data`; `corpus` gives pieces to splice in and
/// `snippets` text of the format (template syntax, keys) to insert.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[&[u8]], snippets: &[&str]) {
    let at = rng.below(data.len() as u64 + 1) as usize;
    match rng.below(12) {
        0 if at < data.len() => data[at] ^= 1 << rng.below(8),
        1 => data.insert(at, ALPHABET[rng.below(ALPHABET.len() as u64) as usize]),
        2 if at < data.len() => {
            let end = (at + 1 + rng.below(16) as usize).min(data.len());
            data.drain(at..end);
        }
        3 => data.truncate(at),
        4 => {
            // Splice: a piece of another seed here.
            let other = rng.pick(corpus);
            let start = rng.below(other.len() as u64 + 1) as usize;
            let end = start + rng.below((other.len() - start) as u64 + 1) as usize;
            data.splice(at..at, other[start..end].iter().copied());
        }
        5 => replace_number(rng, data, at),
        6 => {
            // Deep nesting, up to 10,000 levels.
            let depth = [10, 100, 1000, 10_000][rng.below(4) as usize];
            let open: &[&str] = &["[", "{a=", "{{ (", "{% if a %}", "((", "[[a]]\n", "{\"a\":"];
            let piece = rng.pick(open).repeat(depth);
            data.splice(at..at, piece.into_bytes());
        }
        7 => {
            let bad = rng.pick(INVALID_UTF8);
            data.splice(at..at, bad.iter().copied());
        }
        8 => {
            // A very long key or value.
            let len = [256, 4096, 65_536][rng.below(3) as usize];
            data.splice(at..at, std::iter::repeat_n(b'k', len));
        }
        9 if !snippets.is_empty() => {
            let s = rng.pick(snippets);
            data.splice(at..at, s.bytes());
        }
        10 => {
            // A line of the input repeated elsewhere (duplicate keys and tables).
            let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
            let line = lines[rng.below(lines.len() as u64) as usize].to_vec();
            data.splice(at..at, line.into_iter().chain([b'\n']));
        }
        _ => {
            let n = rng.below(8) as usize;
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
    }
}

/// Replaces the run of digits at or after `at` with a hostile number.
fn replace_number(rng: &mut Rng, data: &mut Vec<u8>, at: usize) {
    let number = rng.pick(HOSTILE_NUMBERS).as_bytes();
    let Some(start) = data[at..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|i| i + at)
    else {
        data.splice(at..at, number.iter().copied());
        return;
    };
    let end = data[start..]
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'.'))
        .map_or(data.len(), |i| i + start);
    data.splice(start..end, number.iter().copied());
}

/// A seed of `corpus` with one to four mutations, at most [`MAX_INPUT`] bytes.
pub fn mutated(rng: &mut Rng, corpus: &[&[u8]], snippets: &[&str]) -> Vec<u8> {
    let mut data = rng.pick(corpus).to_vec();
    for _ in 0..1 + rng.below(4) {
        mutate(rng, &mut data, corpus, snippets);
    }
    data.truncate(MAX_INPUT);
    data
}

/// Runs `f` for case `case` of test `name`: a panic fails the test naming the case and
/// its input, so that it can be replayed.
pub fn run_case<T>(name: &str, case: u64, input: &[u8], f: impl FnOnce() -> T) -> T {
    if trace() {
        let shown = String::from_utf8_lossy(&input[..input.len().min(600)]);
        eprintln!("{name}: case {case} input {shown:?}");
    }
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let shown = String::from_utf8_lossy(&input[..input.len().min(2000)]);
            panic!("{name}: case {case} panicked ({message}) on input {shown:?}");
        }
    }
}

/// `LOCUST_RS_FUZZ_TRACE` is set: every case is printed before it runs (to find the case
/// of a crash that a test cannot catch, such as a stack overflow).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("LOCUST_RS_FUZZ_TRACE").is_some())
}

/// Aborts the process when one case runs longer than [`HANG_LIMIT`]: a hang fails the
/// test run instead of stalling it. Set the case with [`Watchdog::case`].
pub struct Watchdog {
    name: &'static str,
    base: Instant,
    case: Arc<AtomicU64>,
    started_ms: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
}

impl Watchdog {
    pub fn start(name: &'static str) -> Watchdog {
        let base = Instant::now();
        let case = Arc::new(AtomicU64::new(0));
        let started_ms = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (c, s, d) = (case.clone(), started_ms.clone(), done.clone());
        std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = base.elapsed().as_millis() as u64;
                let ran = now.saturating_sub(s.load(Ordering::Relaxed));
                if ran > HANG_LIMIT.as_millis() as u64 && !d.load(Ordering::Relaxed) {
                    eprintln!(
                        "{name}: case {} ran over {HANG_LIMIT:?}: a hang",
                        c.load(Ordering::Relaxed)
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog {
            name,
            base,
            case,
            started_ms,
            done,
        }
    }

    /// Case `n` starts now.
    pub fn case(&self, n: u64) {
        if trace() {
            eprintln!("{}: case {n}", self.name);
        }
        self.case.store(n, Ordering::Relaxed);
        let now = self.base.elapsed().as_millis() as u64;
        self.started_ms.store(now, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}
