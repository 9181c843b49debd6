//! The web UI's settings (`--web-host`, `--web-port`, `--web-base-path`, `--autostart`,
//! `--autoquit`, `--web-auth[-file]`), validated from the resolved command line. Unlike
//! Locust, the UI binds 127.0.0.1 unless another address is asked for.

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
    })
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
    fn autoquit_negative_means_never() {
        let web = from_cli(&cli(&["--autostart", "--autoquit", "-1"])).unwrap();
        assert_eq!(web.autoquit, None);
        let web = from_cli(&cli(&["--autoquit", "5"])).unwrap();
        assert_eq!(web.autoquit, Some(Duration::from_secs(5)));
    }
}
