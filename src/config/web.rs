//! The web UI's settings (`--web-host`, `--web-port`, `--web-base-path`, `--autostart`,
//! `--autoquit`, `--web-auth[-file]`, `--web-allowed-hosts`, `--web-cors`), validated
//! from the resolved command line. Unlike Locust, the UI binds 127.0.0.1 unless another
//! address is asked for, and answers other origins only when told to.

use std::time::Duration;

use crate::config::cli::Cli;
use crate::config::SettingsError;

pub const DEFAULT_WEB_HOST: &str = "127.0.0.1";
pub const DEFAULT_WEB_PORT: u16 = 8089;

/// Credentials for HTTP basic auth. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct WebAuth {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for WebAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebAuth {{ user: {:?}, password: \"***\" }}", self.user)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    pub host: String,
    pub port: u16,
    /// "" or a prefix such as "/locust" (no trailing slash).
    pub base_path: String,
    pub autostart: bool,
    /// Quit this long after an autostarted run ends; None leaves the UI running.
    pub autoquit: Option<Duration>,
    pub auth: Option<WebAuth>,
    /// `--web-allowed-hosts`: lowercase names (".example.com" also allows its
    /// subdomains), or `*` for any; loopback names and IP addresses need no entry.
    pub allowed_hosts: Vec<String>,
    /// `--web-cors`: origins such as "https://dash.example:8443" (lowercase, no default
    /// port, no trailing slash), or `*` for any.
    pub cors: Vec<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            host: DEFAULT_WEB_HOST.into(),
            port: DEFAULT_WEB_PORT,
            base_path: String::new(),
            autostart: false,
            autoquit: None,
            auth: None,
            allowed_hosts: Vec::new(),
            cors: Vec::new(),
        }
    }
}

impl WebSettings {
    /// True when the UI answers beyond this machine.
    pub fn beyond_loopback(&self) -> bool {
        match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => !ip.is_loopback(),
            Err(_) => self.host != "localhost",
        }
    }
}

fn flag(flag: &str, message: impl Into<String>) -> SettingsError {
    SettingsError::BadFlag {
        flag: flag.into(),
        message: message.into(),
    }
}

pub fn from_cli(cli: &Cli) -> Result<WebSettings, SettingsError> {
    let host = match cli.web_host.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_WEB_HOST.to_string(),
        // Locust's spelling for "every interface".
        Some("*") => "0.0.0.0".to_string(),
        Some(host) => host.to_string(),
    };
    Ok(WebSettings {
        host,
        port: cli.web_port.unwrap_or(DEFAULT_WEB_PORT),
        base_path: base_path(cli.web_base_path.as_deref().unwrap_or(""))?,
        autostart: cli.autostart,
        autoquit: cli
            .autoquit
            .filter(|s| *s >= 0)
            .map(|s| Duration::from_secs(s.unsigned_abs())),
        auth: auth(cli)?,
        allowed_hosts: allowed_hosts(cli.web_allowed_hosts.as_deref().unwrap_or(""))?,
        cors: cors_origins(cli.web_cors.as_deref().unwrap_or(""))?,
    })
}

fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// `--web-allowed-hosts`: names without scheme or port; `*` alone allows any.
fn allowed_hosts(text: &str) -> Result<Vec<String>, SettingsError> {
    let mut hosts = Vec::new();
    for item in items(text) {
        let name = item.to_ascii_lowercase();
        let bare = name.trim_start_matches('.');
        let name_chars = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
        let ipv6 = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(&name)
            .parse::<std::net::Ipv6Addr>()
            .is_ok();
        if !(name == "*" || ipv6 || (!bare.is_empty() && bare.chars().all(name_chars))) {
            return Err(flag(
                "--web-allowed-hosts",
                format!(
                    "'{item}' is not a host name: give names such as locust.example.com or .example.com (and its subdomains), comma-separated, without scheme or port, or * for any host"
                ),
            ));
        }
        hosts.push(name);
    }
    Ok(hosts)
}

/// `--web-cors`: origins `http[s]://host[:port]`, or `*`; normalized as browsers send them.
fn cors_origins(text: &str) -> Result<Vec<String>, SettingsError> {
    let mut origins = Vec::new();
    for item in items(text) {
        if item == "*" {
            origins.push(item.to_string());
            continue;
        }
        let origin = url::Url::parse(item)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .filter(|u| u.path() == "/" && u.query().is_none() && u.username().is_empty())
            .map(|u| u.origin().ascii_serialization());
        match origin {
            Some(origin) => origins.push(origin),
            None => {
                return Err(flag(
                    "--web-cors",
                    format!(
                        "'{item}' is not an origin: give scheme, host and optional port, such as https://dashboard.example.com:8443, comma-separated, or *"
                    ),
                ))
            }
        }
    }
    Ok(origins)
}

fn base_path(text: &str) -> Result<String, SettingsError> {
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let path = if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-_.~".contains(c);
    if !path.chars().all(allowed) || path.contains("//") {
        return Err(flag(
            "--web-base-path",
            format!("'{text}' is not a URL path prefix like /locust (letters, digits, / - _ . ~)"),
        ));
    }
    Ok(path)
}

fn auth(cli: &Cli) -> Result<Option<WebAuth>, SettingsError> {
    let (text, source) = match (&cli.web_auth, &cli.web_auth_file) {
        (Some(_), Some(_)) => {
            return Err(flag(
                "--web-auth",
                "give either --web-auth or --web-auth-file, not both",
            ))
        }
        (Some(text), None) => (text.clone(), "--web-auth".to_string()),
        (None, Some(path)) => {
            let content = std::fs::read_to_string(path)
                .map_err(|e| flag("--web-auth-file", format!("{path}: {e}")))?;
            let line = content.lines().next().unwrap_or("").trim().to_string();
            (line, format!("--web-auth-file {path}"))
        }
        (None, None) => return Ok(None),
    };
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() && !password.is_empty() => Ok(Some(WebAuth {
            user: user.to_string(),
            password: password.to_string(),
        })),
        _ => Err(SettingsError::BadFlag {
            flag: source,
            message: "expected user:password (both non-empty)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        use clap::Parser;
        let mut all = vec!["locust-rs"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap_or_default()
    }

    #[test]
    fn loopback_unless_asked() {
        let web = from_cli(&cli(&[])).unwrap();
        assert_eq!((web.host.as_str(), web.port), ("127.0.0.1", 8089));
        assert!(!web.beyond_loopback());
        let all = from_cli(&cli(&["--web-host", "*"])).unwrap();
        assert_eq!(all.host, "0.0.0.0");
        assert!(all.beyond_loopback());
    }

    #[test]
    fn base_path_is_normalized_and_checked() {
        assert_eq!(base_path("locust/").unwrap(), "/locust");
        assert_eq!(base_path("/").unwrap(), "");
        assert!(base_path("/a b").is_err());
        assert!(base_path("/<x>").is_err());
    }

    #[test]
    fn auth_needs_user_and_password_and_hides_it() {
        let web = from_cli(&cli(&["--web-auth", "admin:s3cret"])).unwrap();
        let auth = web.auth.unwrap();
        assert_eq!(auth.user, "admin");
        assert!(!format!("{auth:?}").contains("s3cret"));
        let error = from_cli(&cli(&["--web-auth", "admin"])).unwrap_err();
        assert!(error.to_string().contains("user:password"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth");
        std::fs::write(&file, "ops:pw\n").unwrap();
        let path = file.display().to_string();
        let web = from_cli(&cli(&["--web-auth-file", &path])).unwrap();
        assert_eq!(web.auth.unwrap().password, "pw");
    }

    #[test]
    fn allowed_hosts_and_cors_origins_are_checked_and_normalized() {
        let web = from_cli(&cli(&[
            "--web-allowed-hosts",
            "Locust.Example.com, .corp.example,[::2]",
            "--web-cors",
            "HTTPS://Dash.Example:443/,http://127.0.0.1:3000",
        ]))
        .unwrap();
        assert_eq!(
            web.allowed_hosts,
            ["locust.example.com", ".corp.example", "[::2]"]
        );
        assert_eq!(web.cors, ["https://dash.example", "http://127.0.0.1:3000"]);
        let none = from_cli(&cli(&[])).unwrap();
        assert!(none.allowed_hosts.is_empty() && none.cors.is_empty());
        for bad in ["http://x.example", "x.example:8089", "a b", "x/y"] {
            let error = from_cli(&cli(&["--web-allowed-hosts", bad])).unwrap_err();
            assert!(error.to_string().contains("--web-allowed-hosts"), "{error}");
        }
        for bad in [
            "dash.example",
            "http://x/path",
            "ftp://x",
            "http://x?q",
            "null",
        ] {
            let error = from_cli(&cli(&["--web-cors", bad])).unwrap_err();
            assert!(error.to_string().contains("--web-cors"), "{bad}: {error}");
        }
    }

    #[test]
    fn autoquit_negative_means_never() {
        let web = from_cli(&cli(&["--autostart", "--autoquit", "-1"])).unwrap();
        assert_eq!(web.autoquit, None);
        let web = from_cli(&cli(&["--autoquit", "5"])).unwrap();
        assert_eq!(web.autoquit, Some(Duration::from_secs(5)));
    }
}
