//! The logger names engine log lines go out under: Locust's module names, so that a line
//! reads as Locust writes it (`locust.runners`, `locust.main`, and Python's `root`).

pub const MAIN: &str = "locust.main";
pub const RUNNERS: &str = "locust.runners";
/// Python's root logger: Locust's tag filtering and locust-plugins' `-i` log through it.
pub const ROOT: &str = "root";
