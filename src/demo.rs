//! The built-in demo target as the CLI offers it: `--demo` (in-process, the run points
//! at it) and `--serve-demo ADDR [--demo-instance ID]` (serve only, for nginx set-ups
//! and tests). The server itself is the `locust-demo-target` crate.

use std::net::SocketAddr;
use std::time::Duration;

use locust_demo_target::{DemoConfig, DemoServer, Mode};

use crate::config::cli::Cli;

/// Milliseconds from a validated (finite, non-negative) flag; absurd values saturate.
fn millis(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX)
}

fn config(cli: &Cli) -> DemoConfig {
    let mut config = DemoConfig::default();
    if let Some(ms) = cli.demo_service_time {
        config.service_time = millis(ms);
    }
    if let Some(ms) = cli.demo_miss_penalty {
        config.miss_penalty = millis(ms);
    }
    if let Some(n) = cli.demo_concurrency {
        config.concurrency = Some(n);
    }
    if let Some(rate) = cli.demo_error_rate {
        config.error_rate = rate;
    }
    if let Some(rate) = cli.demo_slow_rate {
        config.slow_rate = rate;
    }
    if let Some(ms) = cli.demo_slow_time {
        config.slow_time = millis(ms);
    }
    if let Some(rate) = cli.demo_drop_rate {
        config.drop_rate = rate;
    }
    config
}

fn mode(cli: &Cli) -> Mode {
    match &cli.demo_instance {
        Some(id) => Mode::Instance(id.clone()),
        None => Mode::Gateway,
    }
}

/// `--demo`: the whole scaling system on a free loopback port.
pub async fn start_in_process(cli: &Cli) -> Result<DemoServer, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    locust_demo_target::start(addr, config(cli), Mode::Gateway)
        .await
        .map_err(|e| format!("--demo: cannot start the demo target: {e}"))
}

/// `--serve-demo ADDR`: serve until Ctrl-C or SIGTERM; prints the URL on stdout.
pub fn serve_standalone(cli: &Cli, addr: &str) -> Result<i32, String> {
    let addr: SocketAddr = addr.parse().map_err(|_| {
        format!("argument --serve-demo: '{addr}' is not an address like 127.0.0.1:9001")
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let server = locust_demo_target::start(addr, config(cli), mode(cli))
            .await
            .map_err(|e| format!("--serve-demo {addr}: {e}"))?;
        println!("demo target listening on {}", server.base_url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        server.shutdown().await;
        Ok(crate::exit::OK)
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
