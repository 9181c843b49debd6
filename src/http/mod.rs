//! The HTTP side of a user: one lightweight session per user (`client`), keep-alive
//! connections opened with one shared TLS config (`connection`), HTTP/1.1 framing with
//! httparse (`wire`), URLs resolved against the parsed host (`target`), and Locust's
//! error strings (`errors`).

mod client;
mod connection;
mod errors;
mod target;
mod wire;

pub use client::{ClientFactory, Outgoing, UserClient};
