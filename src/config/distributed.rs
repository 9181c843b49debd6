//! Distributed mode's settings: whether this process is a worker (`--worker`,
//! `--master-host`, `--master-port`) or a master (`--master`, `--master-bind-host`,
//! `--master-bind-port`, `--expect-workers`, `--expect-workers-max-wait`), with
//! Locust's defaults except one: a master listens on 127.0.0.1 unless told otherwise.

use std::time::Duration;

use super::cli::Cli;
use super::SettingsError;

/// Locust's default master port.
pub const DEFAULT_MASTER_PORT: u16 = 5557;

#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// One process runs the users.
    Standalone,
    Worker {
        master_host: String,
        master_port: u16,
    },
    Master(MasterSettings),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MasterSettings {
    /// The interface to listen on (`*` for every one).
    pub bind_host: String,
    /// 0: a free port, logged.
    pub bind_port: u16,
    /// Workers a headless master waits for before the test starts.
    pub expect_workers: u64,
    /// How long it waits for them; None: as long as it takes.
    pub expect_workers_max_wait: Option<Duration>,
}

pub fn from_cli(cli: &Cli) -> Result<Role, SettingsError> {
    let bad = |flag: &str, message: &str| SettingsError::BadFlag {
        flag: flag.into(),
        message: message.into(),
    };
    match (cli.master, cli.worker) {
        (true, true) => Err(bad(
            "--master",
            "a process is a master or a worker, not both: drop --master or --worker",
        )),
        (false, true) => Ok(Role::Worker {
            master_host: cli
                .master_host
                .clone()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| "127.0.0.1".into()),
            master_port: match cli.master_port {
                Some(0) => return Err(bad("--master-port", "port 0 cannot be connected to")),
                Some(port) => port,
                None => DEFAULT_MASTER_PORT,
            },
        }),
        (true, false) => {
            let bind_host = match cli.master_bind_host.as_deref().map(str::trim) {
                None | Some("") => "127.0.0.1".to_string(),
                Some(host) => host.to_string(),
            };
            if bind_host.contains(['/', ' ']) {
                return Err(bad(
                    "--master-bind-host",
                    "expected an interface: an IP address, a host name or '*'",
                ));
            }
            let expect_workers = cli.expect_workers.unwrap_or(1);
            if expect_workers == 0 {
                return Err(bad("--expect-workers", "a master needs at least 1 worker"));
            }
            Ok(Role::Master(MasterSettings {
                bind_host,
                bind_port: cli.master_bind_port.unwrap_or(DEFAULT_MASTER_PORT),
                expect_workers,
                expect_workers_max_wait: cli
                    .expect_workers_max_wait
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs),
            }))
        }
        (false, false) => Ok(Role::Standalone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn role(args: &[&str]) -> Result<Role, SettingsError> {
        let mut argv = vec!["locust-rs"];
        argv.extend_from_slice(args);
        from_cli(&Cli::try_parse_from(argv).unwrap())
    }

    #[test]
    fn roles_and_their_defaults() {
        assert_eq!(role(&[]).unwrap(), Role::Standalone);
        assert_eq!(
            role(&["--worker"]).unwrap(),
            Role::Worker {
                master_host: "127.0.0.1".into(),
                master_port: 5557
            }
        );
        let Role::Master(m) = role(&["--master", "--expect-workers", "3"]).unwrap() else {
            panic!("a master")
        };
        assert_eq!(m.bind_host, "127.0.0.1", "loopback unless told otherwise");
        assert_eq!((m.bind_port, m.expect_workers), (5557, 3));
        assert_eq!(m.expect_workers_max_wait, None);
    }

    #[test]
    fn contradictions_name_the_flag() {
        let both = role(&["--master", "--worker"]).unwrap_err().to_string();
        assert!(both.contains("--master"), "{both}");
        let none = role(&["--master", "--expect-workers", "0"])
            .unwrap_err()
            .to_string();
        assert!(none.contains("--expect-workers"), "{none}");
        let port = role(&["--worker", "--master-port", "0"])
            .unwrap_err()
            .to_string();
        assert!(port.contains("--master-port"), "{port}");
    }
}
