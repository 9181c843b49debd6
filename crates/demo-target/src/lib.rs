//! The built-in "scaling system" demo target (see docs/target-api.md): a gateway, a
//! round-robin load balancer, app instances, a user store and a cache, all in one
//! process. `app` builds the `Router` (for oneshot tests), `start` serves it in the
//! background, `serve_until` serves it standalone. Prints nothing, binds only where told.

mod cache;
mod config;
mod counters;
mod fault;
mod knobs;
mod routes;
mod server;
mod state;
mod store;

pub use config::{ConfigError, DemoConfig, Mode, DEFAULT_INSTANCES};
pub use counters::{CountersSnapshot, UNMATCHED_ROUTE};
pub use server::{serve_listener, serve_until, start, DemoServer};
pub use state::DemoState;

/// Builds the demo target's router and a handle on its state. Does not validate:
/// bad values are clamped (see `DemoConfig::validate` for what `start` refuses).
pub fn app(config: DemoConfig, mode: Mode) -> (axum::Router, DemoState) {
    let state = DemoState::new(&config.settings(&mode));
    (routes::router(state.clone()), state)
}
