//! Log lines in Locust's format, `[YYYY-MM-DD HH:MM:SS,mmm] host/LEVEL/logger: message`,
//! to stderr or `--logfile`. The tracing target is the Locust logger name (`locust.main`,
//! `locust.runners`, `root`). Stats tables are not log lines: `output.rs` prints them to
//! stderr.

use std::fmt;
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Logger names, as Locust's modules call them (defined by the engine, the lowest floor
/// that logs).
pub use locust_engine::log_targets::{MAIN, ROOT};

struct LocustFormat {
    host: String,
}

impl<S, N> FormatEvent<S, N> for LocustFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = chrono::Local::now();
        let level = match *event.metadata().level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO => "INFO",
            Level::DEBUG | Level::TRACE => "DEBUG",
        };
        write!(
            writer,
            "[{}] {}/{}/{}: ",
            now.format("%Y-%m-%d %H:%M:%S,%3f"),
            self.host,
            level,
            event.metadata().target()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The host name cut at the first dot, as Locust prints it.
pub fn short_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .and_then(|h| h.trim().split('.').next().map(str::to_string))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn filter_for(level: &str) -> tracing::level_filters::LevelFilter {
    use tracing::level_filters::LevelFilter;
    match level {
        "DEBUG" => LevelFilter::DEBUG,
        "WARNING" => LevelFilter::WARN,
        "ERROR" | "CRITICAL" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    }
}

/// Installs the global logger. `level` is one of Locust's level names (validated).
pub fn init(level: &str, logfile: Option<&str>) -> std::io::Result<()> {
    let builder = tracing_subscriber::fmt()
        .event_format(LocustFormat {
            host: short_hostname(),
        })
        .with_max_level(filter_for(level));
    let result = match logfile {
        Some(path) => {
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)?;
            }
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            builder
                .with_writer(crate::log_buffer::Tee(Mutex::new(file)))
                .try_init()
        }
        None => builder
            .with_writer(crate::log_buffer::Tee(std::io::stderr))
            .try_init(),
    };
    // A second init (tests) keeps the first logger; that is fine.
    drop(result);
    Ok(())
}
