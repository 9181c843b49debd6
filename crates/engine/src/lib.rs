//! The load engine: which class each user gets (`dispatch`), the spawn-rate schedule
//! (`ramp`), run control (`runner`), the user lifecycle (`user`) and its pacing
//! deadlines (`pacer`), load shapes (`shape`), the labelled response headers (`labels`),
//! the open model (`arrival` schedules starts, `open` runs them on a pool of users), and
//! the HTTP/1.1 client the users speak (`http`). It sees compiled scenarios and plain
//! values only, never clap, TOML or the binary's settings: being a crate of its own, the
//! compiler holds it to that.

mod arrival;
pub mod dispatch;
pub mod http;
mod labels;
pub mod log_targets;
mod open;
mod pacer;
pub mod ramp;
mod runner;
mod shape;
mod shared;
mod spawn_gate;
mod user;

pub use labels::LabelHeaders;
pub use open::{
    dropped_error, run as run_open, ArrivalCounts, Pool, RateStage, Schedule, DROPPED_METHOD,
    DROPPED_NAME,
};
pub use runner::remote::{spawn_remote, Placement};
pub use runner::{RunState, RunnerHandle, RunnerStatus};
pub use shape::{
    drive as drive_shape, rehearse as rehearse_shape, Curve, Easing, Formula, Stage, StageClasses,
    Target as ShapeTarget,
};
pub use shared::Shared;
pub use spawn_gate::SpawnGate;
pub use user::run_alone;

use std::sync::Arc;
use std::time::Duration;

use locust_scenario::UserClass;

/// Starts a runner whose users run the given classes with the shared state.
pub fn start(
    classes: Vec<Arc<UserClass>>,
    shared: Arc<Shared>,
    stop_timeout: Duration,
) -> RunnerHandle {
    let weights = class_weights(&classes);
    let gate = shared.clone();
    let launch: runner::Launcher = Arc::new(move |index, class, signals| {
        shared.user_started();
        Box::pin(user::run_user(
            index,
            classes[class].clone(),
            shared.clone(),
            signals,
        ))
    });
    let runner = runner::spawn(weights, launch, stop_timeout);
    // Before any user starts (they start on the first ramp): barriers follow its ramps.
    gate.spawn_gate.attach(runner.status());
    runner
}

/// Starts a master's runner: users of the given classes are placed on the workers
/// `ready` names, through the driver that reads `placements`.
pub fn start_on_workers(
    classes: &[Arc<UserClass>],
    ready: tokio::sync::watch::Receiver<Vec<String>>,
    placements: tokio::sync::mpsc::UnboundedSender<Placement>,
) -> RunnerHandle {
    spawn_remote(class_weights(classes), ready, placements)
}

fn class_weights(classes: &[Arc<UserClass>]) -> Vec<runner::ClassWeight> {
    classes
        .iter()
        .map(|c| runner::ClassWeight {
            name: c.name.clone(),
            weight: c.weight,
            fixed_count: u64::from(c.fixed_count),
        })
        .collect()
}
