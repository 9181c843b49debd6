//! The HTTP client's settings (`--request-timeout`, `--connect-timeout`,
//! `--read-timeout`, `--max-redirects`, `--max-body-size`, `--user-agent`, `--insecure`,
//! `--cacert`, `--cert`, `--key`, `--proxy`, `--noproxy`, and requests' environment
//! variables), validated once: a TLS file or proxy URL that cannot be used is an
//! argument error before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use http::HeaderValue;

use crate::config::cli::Cli;
use crate::config::SettingsError;
use locust_engine::http::{HttpOptions, ProxySettings, Timeouts, TlsOptions};

/// The default of `--request-timeout`, in seconds.
const DEFAULT_TIMEOUT: f64 = 60.0;
/// The default of `--max-body-size`.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;
/// Timeouts are capped at a day: they only bound a wait, and huge ones overflow timers.
const MAX_TIMEOUT: f64 = 86_400.0;

/// Builds and checks the HTTP options; `env` reads the process environment.
pub fn from_cli(
    cli: &Cli,
    env: impl Fn(&str) -> Option<String>,
) -> Result<HttpOptions, SettingsError> {
    let bad = |flag: &str, message: String| SettingsError::BadFlag {
        flag: flag.to_string(),
        message,
    };
    let seconds = |value: Option<f64>| {
        Duration::from_secs_f64(value.unwrap_or(DEFAULT_TIMEOUT).min(MAX_TIMEOUT))
    };
    let both = cli.request_timeout.unwrap_or(DEFAULT_TIMEOUT);
    let timeouts = Timeouts {
        connect: seconds(Some(cli.connect_timeout.unwrap_or(both))),
        read: seconds(Some(cli.read_timeout.unwrap_or(both))),
    };
    let user_agent = match &cli.user_agent {
        Some(text) => HeaderValue::from_str(text).map_err(|_| {
            bad(
                "--user-agent",
                format!("'{text}' is not a valid header value"),
            )
        })?,
        None => HttpOptions::with_timeout(timeouts.read).user_agent,
    };
    let tls = TlsOptions {
        insecure: cli.insecure,
        ca_bundle: cli.cacert.as_ref().map(PathBuf::from),
        ca_bundle_env: None,
        client_cert: cli.cert.as_ref().map(PathBuf::from),
        client_key: cli.key.as_ref().map(PathBuf::from),
    }
    .with_env_bundle(&env);
    // Reads and checks the files now, so a bad one stops the run before it starts.
    locust_engine::http::check_tls(&tls).map_err(SettingsError::Http)?;
    let proxies = if cli.proxy.is_some() || cli.noproxy.is_some() {
        ProxySettings::explicit(cli.proxy.as_deref(), cli.noproxy.as_deref(), &env)
    } else {
        ProxySettings::from_env(&env)
    }
    .map_err(|e| SettingsError::Http(e.to_string()))?;
    Ok(HttpOptions {
        timeouts,
        max_redirects: cli.max_redirects.unwrap_or(30),
        max_body: cli.max_body_size.unwrap_or(DEFAULT_MAX_BODY),
        user_agent,
        tls,
        proxies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn options(args: &[&str], env: &[(&str, &str)]) -> Result<HttpOptions, SettingsError> {
        let cli = Cli::try_parse_from([&["locust-rs"], args].concat()).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_cli(&cli, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn sizes_read_like_curl() {
        use crate::config::cli::parse_size;
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("500K"), Ok(500 << 10));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2 MB"), Ok(2 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn timeouts_default_to_request_timeout() {
        let o = options(&[], &[]).unwrap();
        assert_eq!(
            (o.timeouts.connect, o.timeouts.read),
            (Duration::from_secs(60), Duration::from_secs(60))
        );
        let o = options(&["--request-timeout", "5", "--read-timeout", "0.5"], &[]).unwrap();
        assert_eq!(
            (o.timeouts.connect, o.timeouts.read),
            (Duration::from_secs(5), Duration::from_millis(500))
        );
        assert_eq!((o.max_redirects, o.max_body), (30, DEFAULT_MAX_BODY));
    }

    #[test]
    fn bad_tls_files_and_proxies_are_argument_errors() {
        let e = options(&["--cacert", "/nonexistent/ca.pem"], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--cacert /nonexistent/ca.pem") && e.contains("not found"),
            "{e}"
        );
        let e = options(&[], &[("REQUESTS_CA_BUNDLE", "/nonexistent/b.pem")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("REQUESTS_CA_BUNDLE=/nonexistent/b.pem"), "{e}");
        let e = options(&["--proxy", "socks5://127.0.0.1:1080"], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--proxy") && e.contains("SOCKS"), "{e}");
        assert!(options(&["--user-agent", "bad\u{1}agent"], &[]).is_err());
    }

    #[test]
    fn proxies_come_from_the_environment_unless_given() {
        let o = options(
            &[],
            &[
                ("HTTP_PROXY", "http://127.0.0.1:3128"),
                ("NO_PROXY", "localhost"),
            ],
        )
        .unwrap();
        assert!(o.proxies.for_target(false, "127.0.0.1", 80).is_some());
        assert!(o.proxies.for_target(false, "localhost", 80).is_none());
        let o = options(&["--proxy", ""], &[("HTTP_PROXY", "http://127.0.0.1:3128")]).unwrap();
        assert!(o.proxies.for_target(false, "127.0.0.1", 80).is_none());
    }
}
