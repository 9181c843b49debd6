//! The HTTP side of a user, on hyper directly: one lightweight session per user
//! (`client`), connections opened with one shared TLS config (`connection`), URLs
//! resolved against the host once parsed (`target`), and Locust's error strings (`errors`).

mod client;
mod connection;
mod errors;
mod target;

pub use client::{ClientFactory, Outgoing, UserClient};
