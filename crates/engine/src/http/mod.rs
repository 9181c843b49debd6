//! The HTTP side of a user: one lightweight session per user (`client`), keep-alive
//! connections opened with one shared TLS config (`connection`), HTTP/1.1 framing with
//! httparse (`wire`), bodies decoded and bounded as they stream (`decode`), URLs
//! resolved against the parsed host (`target`), and Locust's error strings (`errors`).

mod client;
mod connection;
mod decode;
mod errors;
mod proxy;
mod target;
mod tls;
mod wire;

pub use client::{ClientFactory, HttpOptions, Outgoing, Timeouts, UserClient};
pub use proxy::ProxySettings;
pub use tls::TlsOptions;

/// Reads and checks the TLS files of `options`; the message names the flag or variable.
pub fn check_tls(options: &TlsOptions) -> Result<(), String> {
    tls::client_config(options)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
