//! The command line: Locust's flags with Locust's names, env variables and meanings.
//! Every value is optional here so that config files can fill what the command line and
//! the environment left unset (see `settings.rs`); defaults are applied only there.

use clap::{ArgAction, Parser};

use crate::config::timespan;

/// `locust-rs [options] [UserClass ...]` — the flags of `locust --help` that a
/// declarative tool can honour, plus locust-rs's own (`--demo`, `--serve-demo`, ...).
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "locust-rs",
    version,
    about = "A Locust-compatible load-testing tool with declarative TOML scenarios",
    infer_long_args = true,
    args_override_self = true,
    after_help = crate::exit::EXIT_CODES_HELP
)]
pub struct Cli {
    /// Scenario file(s): a .toml file, a comma-separated list, or a directory searched for *.toml
    #[arg(
        short = 'f',
        long = "locustfile",
        env = "LOCUST_LOCUSTFILE",
        value_name = "FILENAME"
    )]
    pub locustfile: Option<String>,

    /// Config file (Locust's conf format, or TOML with a [tool.locust] table)
    #[arg(long = "config", value_name = "FILENAME")]
    pub config: Option<String>,

    /// Host to load test, in the form http://10.21.32.33
    #[arg(
        short = 'H',
        long = "host",
        env = "LOCUST_HOST",
        value_name = "BASE URL"
    )]
    pub host: Option<String>,

    /// Peak number of concurrent users
    #[arg(short = 'u', long = "users", env = "LOCUST_USERS", value_name = "INT", value_parser = parse_users, allow_negative_numbers = true)]
    pub users: Option<u64>,

    /// Rate to spawn users at (users per second)
    #[arg(short = 'r', long = "spawn-rate", env = "LOCUST_SPAWN_RATE", value_name = "FLOAT", value_parser = parse_spawn_rate, allow_negative_numbers = true)]
    pub spawn_rate: Option<f64>,

    /// Open model: start this many task iterations per second whatever the response times (needs -t)
    #[arg(long = "arrival-rate", env = "LOCUST_ARRIVAL_RATE", value_name = "FLOAT", value_parser = parse_spawn_rate, allow_negative_numbers = true)]
    pub arrival_rate: Option<f64>,

    /// Open model: at most this many users (iterations in flight); default 100
    #[arg(long = "max-pool", env = "LOCUST_MAX_POOL", value_name = "INT", value_parser = parse_max_pool, allow_negative_numbers = true)]
    pub max_pool: Option<u64>,

    /// Stop after the specified amount of time, e.g. (300s, 20m, 3h, 1h30m, etc.); 0 = no limit
    #[arg(short = 't', long = "run-time", env = "LOCUST_RUN_TIME", value_name = "TIME STRING", value_parser = timespan::parse_arg)]
    pub run_time: Option<u64>,

    /// Write an HTML report to FILE at the end ({u}, {r}, {t}: users, spawn rate, run time)
    #[arg(long = "html", env = "LOCUST_HTML", value_name = "FILE")]
    pub html: Option<String>,

    /// Write the versioned JSON result (figures and verdicts, schema locust-rs/result/v1) to FILE
    #[arg(long = "report-json", env = "LOCUST_REPORT_JSON", value_name = "FILE")]
    pub report_json: Option<String>,

    /// A success criterion, e.g. "p95 < 500", or "error_rate < 5% abort after 10s" to stop the
    /// run when it fails (repeatable; replaces the profile's criteria)
    #[arg(long = "criterion", value_name = "TEXT", action = ArgAction::Append)]
    pub criterion: Vec<String>,

    /// Response header telling cache hits from misses (default X-Cache)
    #[arg(long = "cache-header", value_name = "NAME")]
    pub cache_header: Option<String>,

    /// Values of the cache header that mean a hit (default HIT)
    #[arg(long = "cache-hit", value_name = "VALUE", num_args = 1..)]
    pub cache_hit: Option<Vec<String>>,

    /// Values of the cache header that mean a miss (default MISS)
    #[arg(long = "cache-miss", value_name = "VALUE", num_args = 1..)]
    pub cache_miss: Option<Vec<String>>,

    /// Response header naming the app instance that answered (default X-Instance-ID)
    #[arg(long = "instance-header", value_name = "NAME")]
    pub instance_header: Option<String>,

    /// Instances that should share the load (an unseen one counts as 100 % deviation)
    #[arg(long = "expected-instances", value_name = "N")]
    pub expected_instances: Option<usize>,

    /// More request headers whose values never appear in reports (Authorization, Cookie and Proxy-Authorization always)
    #[arg(long = "secret-header", value_name = "NAME", num_args = 1..)]
    pub secret_header: Option<Vec<String>>,

    /// Show list of possible User classes and exit
    #[arg(short = 'l', long = "list", action = ArgAction::SetTrue)]
    pub list: bool,

    /// Run as a worker of a Locust master (Python Locust 2.x or locust-rs)
    #[arg(long = "worker", env = "LOCUST_MODE_WORKER", action = ArgAction::SetTrue)]
    pub worker: bool,

    /// Hostname of the Locust master node to connect to (--worker) [default: 127.0.0.1]
    #[arg(
        long = "master-host",
        env = "LOCUST_MASTER_NODE_HOST",
        value_name = "MASTER_NODE_HOST"
    )]
    pub master_host: Option<String>,

    /// Port to connect to on the master node (--worker) [default: 5557]
    #[arg(
        long = "master-port",
        env = "LOCUST_MASTER_NODE_PORT",
        value_name = "MASTER_NODE_PORT"
    )]
    pub master_port: Option<u16>,

    /// Run as the master of distributed load generation: workers (locust-rs or Python Locust) connect and run the users
    #[arg(long = "master", env = "LOCUST_MODE_MASTER", action = ArgAction::SetTrue)]
    pub master: bool,

    /// Interface the master listens on for workers ('*' for all) [default: 127.0.0.1]
    #[arg(
        long = "master-bind-host",
        env = "LOCUST_MASTER_BIND_HOST",
        value_name = "MASTER_BIND_HOST"
    )]
    pub master_bind_host: Option<String>,

    /// Port the master listens on for workers (0: a free port, logged) [default: 5557]
    #[arg(
        long = "master-bind-port",
        env = "LOCUST_MASTER_BIND_PORT",
        value_name = "MASTER_BIND_PORT"
    )]
    pub master_bind_port: Option<u16>,

    /// Workers a headless master waits for before it starts the test [default: 1]
    #[arg(
        long = "expect-workers",
        env = "LOCUST_EXPECT_WORKERS",
        value_name = "EXPECT_WORKERS"
    )]
    pub expect_workers: Option<u64>,

    /// Seconds a headless master waits for --expect-workers before giving up (0: forever)
    #[arg(
        long = "expect-workers-max-wait",
        env = "LOCUST_EXPECT_WORKERS_MAX_WAIT",
        value_name = "EXPECT_WORKERS_MAX_WAIT"
    )]
    pub expect_workers_max_wait: Option<u64>,

    /// Disable the web interface, and start the test immediately
    #[arg(long = "headless", env = "LOCUST_HEADLESS", action = ArgAction::SetTrue)]
    pub headless: bool,

    /// Cancel a `headless` set in a config file
    #[arg(long = "headful", env = "LOCUST_HEADFUL", action = ArgAction::SetTrue, hide = true)]
    pub headful: bool,

    /// Host to bind the web interface to (default 127.0.0.1; 0.0.0.0 must be asked for)
    #[arg(long = "web-host", env = "LOCUST_WEB_HOST", value_name = "WEB_HOST")]
    pub web_host: Option<String>,

    /// Port on which to run the web host
    #[arg(short = 'P', long = "web-port", env = "LOCUST_WEB_PORT", value_name = "WEB_PORT", value_parser = parse_port)]
    pub web_port: Option<u16>,

    /// Starts the test immediately (like --headless, but keeping the web UI)
    #[arg(long = "autostart", env = "LOCUST_AUTOSTART", action = ArgAction::SetTrue)]
    pub autostart: bool,

    /// Quits the process this many seconds after the run ends (with --autostart)
    #[arg(
        long = "autoquit",
        env = "LOCUST_AUTOQUIT",
        value_name = "AUTOQUIT",
        allow_negative_numbers = true
    )]
    pub autoquit: Option<i64>,

    /// Serve the web interface under this path prefix, e.g. /locust
    #[arg(
        long = "web-base-path",
        env = "LOCUST_WEB_BASE_PATH",
        value_name = "WEB_BASE_PATH"
    )]
    pub web_base_path: Option<String>,

    /// HTTP basic auth for the web interface, as user:password
    #[arg(
        long = "web-auth",
        env = "LOCUST_WEB_AUTH",
        value_name = "USER:PASSWORD"
    )]
    pub web_auth: Option<String>,

    /// A file whose first line is user:password for the web interface's basic auth
    #[arg(
        long = "web-auth-file",
        env = "LOCUST_WEB_AUTH_FILE",
        value_name = "FILE"
    )]
    pub web_auth_file: Option<String>,

    /// Host names the web interface answers to, comma-separated, besides localhost, IP
    /// addresses and --web-host; `*` allows any (unsafe: DNS rebinding)
    #[arg(
        long = "web-allowed-hosts",
        env = "LOCUST_WEB_ALLOWED_HOSTS",
        value_name = "HOST[,HOST]"
    )]
    pub web_allowed_hosts: Option<String>,

    /// Origins (http[s]://host[:port]) whose pages may call the web API, comma-separated;
    /// `*` sends Access-Control-Allow-Origin: * and trusts every page, as Locust does (unsafe)
    #[arg(
        long = "web-cors",
        env = "LOCUST_WEB_CORS",
        value_name = "ORIGIN[,ORIGIN]"
    )]
    pub web_cors: Option<String>,

    /// Only run tasks that have one of these tags
    #[arg(short = 'T', long = "tags", env = "LOCUST_TAGS", num_args = 0.., value_name = "TAG")]
    pub tags: Option<Vec<String>>,

    /// Skip tasks that have any of these tags
    #[arg(short = 'E', long = "exclude-tags", env = "LOCUST_EXCLUDE_TAGS", num_args = 0.., value_name = "TAG")]
    pub exclude_tags: Option<Vec<String>>,

    /// A variable for the scenarios' templates, read as {{ vars.KEY }} (repeatable; like k6's -e)
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var, action = ArgAction::Append)]
    pub var: Vec<(String, String)>,

    /// Store request stats to files in CSV format (PREFIX_stats.csv, ...)
    #[arg(long = "csv", env = "LOCUST_CSV", value_name = "CSV_PREFIX")]
    pub csv: Option<String>,

    /// Store each stats entry in CSV format to _stats_history.csv (requires --csv)
    #[arg(long = "csv-full-history", env = "LOCUST_CSV_FULL_HISTORY", action = ArgAction::SetTrue)]
    pub csv_full_history: bool,

    /// Enable periodic printing of request stats in UI runs
    #[arg(long = "print-stats", env = "LOCUST_PRINT_STATS", action = ArgAction::SetTrue)]
    pub print_stats: bool,

    /// Disable periodic printing of request stats during --headless run
    #[arg(long = "only-summary", env = "LOCUST_ONLY_SUMMARY", action = ArgAction::SetTrue)]
    pub only_summary: bool,

    /// Reset statistics once spawning has been completed
    #[arg(long = "reset-stats", env = "LOCUST_RESET_STATS", action = ArgAction::SetTrue)]
    pub reset_stats: bool,

    /// Prints the final stats in JSON format to stdout
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub json: bool,

    /// Writes the final stats in JSON format to FILENAME.json
    #[arg(long = "json-file", value_name = "FILENAME")]
    pub json_file: Option<String>,

    /// Choose between DEBUG/INFO/WARNING/ERROR/CRITICAL
    #[arg(
        short = 'L',
        long = "loglevel",
        env = "LOCUST_LOGLEVEL",
        value_name = "LEVEL"
    )]
    pub loglevel: Option<String>,

    /// Path to log file. If not set, log will go to stderr
    #[arg(long = "logfile", env = "LOCUST_LOGFILE", value_name = "FILENAME")]
    pub logfile: Option<String>,

    /// Print table of the User classes' task execution ratio
    #[arg(long = "show-task-ratio", action = ArgAction::SetTrue)]
    pub show_task_ratio: bool,

    /// Print json data of the User classes' task execution ratio
    #[arg(long = "show-task-ratio-json", action = ArgAction::SetTrue)]
    pub show_task_ratio_json: bool,

    /// Exit code to use when a test result contains any failure or error
    #[arg(
        long = "exit-code-on-error",
        env = "LOCUST_EXIT_CODE_ON_ERROR",
        value_name = "INT"
    )]
    pub exit_code_on_error: Option<i32>,

    /// Number of seconds to wait for a simulated user to complete any executing task before exiting
    #[arg(short = 's', long = "stop-timeout", env = "LOCUST_STOP_TIMEOUT", value_name = "TIME STRING", value_parser = timespan::parse_arg)]
    pub stop_timeout: Option<u64>,

    /// Stop after this many task iterations (locust-plugins' -i)
    #[arg(
        short = 'i',
        long = "iterations",
        env = "LOCUST_ITERATIONS",
        value_name = "INT"
    )]
    pub iterations: Option<u64>,

    /// Profile from locust.toml to run (basic, stress, cache, ...); also the report label
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profile: Option<String>,

    /// requests' timeout in seconds: the longest wait for a connection, and for each read of an answer (default 60); a timeout is a failure
    #[arg(long = "request-timeout", env = "LOCUST_REQUEST_TIMEOUT", value_name = "SECONDS", value_parser = parse_positive_f64)]
    pub request_timeout: Option<f64>,

    /// Connect timeout in seconds (TCP, proxy tunnel and TLS handshake); default: --request-timeout
    #[arg(long = "connect-timeout", env = "LOCUST_CONNECT_TIMEOUT", value_name = "SECONDS", value_parser = parse_positive_f64)]
    pub connect_timeout: Option<f64>,

    /// Read timeout in seconds: the longest wait for the next bytes of an answer; default: --request-timeout
    #[arg(long = "read-timeout", env = "LOCUST_READ_TIMEOUT", value_name = "SECONDS", value_parser = parse_positive_f64)]
    pub read_timeout: Option<f64>,

    /// Redirects followed per request before it fails with TooManyRedirects (requests' default: 30)
    #[arg(long = "max-redirects", env = "LOCUST_MAX_REDIRECTS", value_name = "N")]
    pub max_redirects: Option<usize>,

    /// Largest decoded body kept for checks and extraction, e.g. 64M, 1G, 500K (default 64M); bodies nothing reads are only counted
    #[arg(long = "max-body-size", env = "LOCUST_MAX_BODY_SIZE", value_name = "SIZE", value_parser = parse_size)]
    pub max_body_size: Option<u64>,

    /// User-Agent header of every request (default: locust-rs/VERSION); a request's own header wins
    #[arg(long = "user-agent", env = "LOCUST_USER_AGENT", value_name = "TEXT")]
    pub user_agent: Option<String>,

    /// Do not verify TLS certificates (as curl -k; HttpUser verifies by default)
    #[arg(long = "insecure", env = "LOCUST_INSECURE", action = ArgAction::SetTrue)]
    pub insecure: bool,

    /// Trust only the CA certificates in this PEM file (default: REQUESTS_CA_BUNDLE, SSL_CERT_FILE, else Mozilla's and the OS's roots)
    #[arg(long = "cacert", env = "LOCUST_CACERT", value_name = "FILE")]
    pub cacert: Option<String>,

    /// Client certificate (PEM) for TLS; the file may also hold the key
    #[arg(long = "cert", env = "LOCUST_CERT", value_name = "FILE")]
    pub cert: Option<String>,

    /// Private key (PEM) of --cert
    #[arg(long = "key", env = "LOCUST_KEY", value_name = "FILE")]
    pub key: Option<String>,

    /// Proxy for every request, e.g. http://user:pass@proxy:3128 (default: HTTP_PROXY/HTTPS_PROXY/ALL_PROXY)
    #[arg(
        long = "proxy",
        env = "LOCUST_PROXY",
        value_name = "URL",
        hide_env_values = true
    )]
    pub proxy: Option<String>,

    /// Hosts reached without the proxy, comma-separated (default: NO_PROXY)
    #[arg(long = "noproxy", env = "LOCUST_NOPROXY", value_name = "LIST")]
    pub noproxy: Option<String>,

    /// Start the built-in demo target on a free 127.0.0.1 port and run against it
    #[arg(long = "demo", action = ArgAction::SetTrue)]
    pub demo: bool,

    /// Only serve the demo target on ADDR (e.g. 127.0.0.1:9001) until interrupted; no load test
    #[arg(long = "serve-demo", value_name = "ADDR")]
    pub serve_demo: Option<String>,

    /// With --serve-demo: serve one app instance with this id instead of the whole gateway
    #[arg(long = "demo-instance", value_name = "ID")]
    pub demo_instance: Option<String>,

    /// Demo target: service time added to every app answer, in milliseconds
    #[arg(long = "demo-service-time", value_name = "MS", value_parser = parse_non_negative_f64)]
    pub demo_service_time: Option<f64>,

    /// Demo target: extra time a cache miss costs, in milliseconds
    #[arg(long = "demo-miss-penalty", value_name = "MS", value_parser = parse_non_negative_f64)]
    pub demo_miss_penalty: Option<f64>,

    /// Demo target: requests served at once; the rest queue
    #[arg(long = "demo-concurrency", value_name = "N")]
    pub demo_concurrency: Option<usize>,

    /// Demo target: fraction (0..1) of app answers that become 500
    #[arg(long = "demo-error-rate", value_name = "FRACTION", value_parser = parse_fraction)]
    pub demo_error_rate: Option<f64>,

    /// Demo target: fraction (0..1) of app answers that take --demo-slow-time longer
    #[arg(long = "demo-slow-rate", value_name = "FRACTION", value_parser = parse_fraction)]
    pub demo_slow_rate: Option<f64>,

    /// Demo target: extra time of a slow answer, in milliseconds (default 1000)
    #[arg(long = "demo-slow-time", value_name = "MS", value_parser = parse_non_negative_f64)]
    pub demo_slow_time: Option<f64>,

    /// Demo target: fraction (0..1) of app answers whose connection is dropped mid-answer
    #[arg(long = "demo-drop-rate", value_name = "FRACTION", value_parser = parse_fraction)]
    pub demo_drop_rate: Option<f64>,

    /// User classes to run (default: all in the scenario files)
    #[arg(
        value_name = "UserClass",
        env = "LOCUST_USER_CLASSES",
        value_delimiter = ' '
    )]
    pub user_classes: Vec<String>,
}

/// A size in bytes: a whole number with an optional K, M or G (powers of 1024, as curl
/// reads `--max-filesize`), `B`/`iB` allowed after it: `500K`, `64M`, `1GiB`, `1048576`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let number_end = upper
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(upper.len());
    let (digits, unit) = upper.split_at(number_end);
    let unit = unit.trim();
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B'))
        .unwrap_or(unit);
    let factor: u64 = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => {
            return Err(format!(
                "'{text}' is not a size (e.g. 500K, 64M, 1G, or bytes)"
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{text}' is not a size (e.g. 500K, 64M, 1G, or bytes)"))
}

/// `--var KEY=VALUE` (and `var = ["KEY=VALUE"]` in a config file): KEY is what templates
/// read as `vars.KEY`, so a name (letters, digits, `_`, not starting with a digit);
/// VALUE is any text, `=` included.
pub fn parse_var(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not KEY=VALUE"))?;
    let key = key.trim();
    let mut chars = key.chars();
    let is_name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name {
        return Err(format!(
            "'{key}' is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

fn parse_users(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n as u64),
        Ok(_) => Err("must be a positive whole number of users (at least 1)".into()),
        Err(_) => Err(format!("invalid int value: '{text}'")),
    }
}

pub fn parse_max_pool(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n as u64),
        Ok(_) => Err("the pool must hold at least 1 user".into()),
        Err(_) => Err(format!("invalid int value: '{text}'")),
    }
}

pub fn parse_spawn_rate(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("invalid float value: '{text}'"))?;
    if !value.is_finite() {
        return Err("must be a finite number".into());
    }
    if value <= 0.0 {
        return Err("must be > 0".into());
    }
    Ok(value)
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("invalid int value: '{text}' (a port is 0..65535)"))
}

pub fn parse_positive_f64(text: &str) -> Result<f64, String> {
    parse_spawn_rate(text)
}

fn parse_non_negative_f64(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number >= 0, got '{text}'")),
    }
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("expected a fraction between 0 and 1, got '{text}'")),
    }
}

/// Parses a value that came from a config file for the flag `key`, with the same rules
/// as the command line, so a bad `users = "x"` fails exactly like `-u x`.
pub fn parse_config_users(text: &str) -> Result<u64, String> {
    parse_users(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_must_be_positive_integers() {
        assert_eq!(parse_users("10"), Ok(10));
        assert!(parse_users("0").is_err());
        assert!(parse_users("-3").is_err());
        assert!(parse_users("ten").is_err());
    }

    #[test]
    fn spawn_rate_rules_follow_locust() {
        assert_eq!(parse_spawn_rate("0.5"), Ok(0.5));
        assert_eq!(parse_spawn_rate("0"), Err("must be > 0".into()));
        assert_eq!(
            parse_spawn_rate("inf"),
            Err("must be a finite number".into())
        );
        assert!(parse_spawn_rate("x").is_err());
    }

    #[test]
    fn long_options_accept_unique_prefixes() {
        let cli = Cli::try_parse_from(["locust-rs", "--run-tim", "1s", "--headless"]).unwrap();
        assert_eq!(cli.run_time, Some(1));
    }

    #[test]
    fn vars_are_key_value_pairs() {
        assert_eq!(parse_var("TOKEN=a=b"), Ok(("TOKEN".into(), "a=b".into())));
        assert_eq!(parse_var("_x1="), Ok(("_x1".into(), String::new())));
        assert!(parse_var("TOKEN").unwrap_err().contains("not KEY=VALUE"));
        assert!(parse_var("1X=a")
            .unwrap_err()
            .contains("not a variable name"));
        assert!(parse_var("a-b=1").is_err());
        assert!(parse_var("=1").is_err());
        let cli = Cli::try_parse_from([
            "locust-rs",
            "--var",
            "A=1",
            "--var",
            "B=x y",
            "--var",
            "A=2",
        ])
        .unwrap();
        let expected: Vec<(String, String)> = vec![
            ("A".into(), "1".into()),
            ("B".into(), "x y".into()),
            ("A".into(), "2".into()),
        ];
        assert_eq!(cli.var, expected);
        assert!(Cli::try_parse_from(["locust-rs", "--var", "nope"]).is_err());
    }

    #[test]
    fn positional_user_classes() {
        let cli = Cli::try_parse_from(["locust-rs", "-u", "3", "A", "B"]).unwrap();
        assert_eq!(cli.user_classes, vec!["A", "B"]);
        assert_eq!(cli.users, Some(3));
    }
}
