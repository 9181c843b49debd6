//! Every error this crate reports: `ScenarioError` for everything found while loading
//! and compiling (before the first request), `StepError` for run-time rendering.
//! Messages name the file, line, column and key, and say what was expected.

use std::fmt;
use std::path::PathBuf;

/// Where in a scenario file a problem is: `file:line:column`, plus the dotted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Dotted TOML key, e.g. `users.AdminUser.tasks[2].requests[0].path`.
    pub key: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: `{}`",
            self.file.display(),
            self.line,
            self.column,
            self.key
        )
    }
}

/// Renders `; did you mean `x`?` or nothing.
pub(crate) fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

/// A scenario that cannot be loaded. Nothing is sent when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("could not find {}: no such file or directory", path.display())]
    NotFound { path: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}:{line}:{column}: {message}", file.display())]
    Toml {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "{}:{line}:{column}: {}unknown key `{key}`{}{}{}",
        file.display(),
        path.as_ref().map(|p| format!("`{p}`: ")).unwrap_or_default(),
        table.as_ref().filter(|_| path.is_none()).map(|t| format!(" in {t}")).unwrap_or_default(),
        did_you_mean(suggestion),
        if expected.is_empty() { String::new() } else { format!(" (expected one of: {})", expected.join(", ")) }
    )]
    UnknownKey {
        file: PathBuf,
        line: usize,
        column: usize,
        key: String,
        /// The nearest `[table]` header above the key, when there is one.
        table: Option<String>,
        /// The key's full path (`users.A.tasks[0].steps[1].thinkk`), when it was found.
        path: Option<String>,
        suggestion: Option<String>,
        expected: Vec<String>,
    },

    #[error(
        "{at}: invalid wait_time {text:?}: {reason}{}",
        did_you_mean(suggestion)
    )]
    WaitTime {
        at: Location,
        text: String,
        reason: String,
        suggestion: Option<String>,
    },

    #[error("{at}: invalid weight {value}: {expected}")]
    Weight {
        at: Location,
        value: String,
        expected: &'static str,
    },

    #[error(
        "{at}: invalid HTTP method {method:?}: expected a token such as GET, POST, PUT, DELETE"
    )]
    Method { at: Location, method: String },

    #[error("{at}: invalid header {name:?}: {reason}")]
    Header {
        at: Location,
        name: String,
        reason: String,
    },

    #[error("{at}: template error: {message}")]
    Template { at: Location, message: String },

    #[error(
        "{at}: class {class}, task {task}: template uses variable `{var}`, which no step of {class} extracts and which is not a builtin{}",
        did_you_mean(suggestion)
    )]
    UndefinedVariable {
        at: Location,
        class: String,
        task: String,
        var: String,
        suggestion: Option<String>,
    },

    #[error("{at}: env(\"{var}\"): environment variable {var} is not set")]
    EnvVar { at: Location, var: String },

    #[error("{at}: {message}")]
    Invalid { at: Location, message: String },

    #[error("Duplicate user class names: {name} is defined in both {} and {}", first.display(), second.display())]
    DuplicateClass {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },

    #[error(
        "{at}: duplicate task name {name:?} in class {class}; give one of them another `name`"
    )]
    DuplicateTask {
        at: Location,
        class: String,
        name: String,
    },

    #[error(
        "{at}: user class {class} has no tasks; add at least one [[users.{class}.tasks]] entry"
    )]
    NoTasks { at: Location, class: String },

    #[error("No User class found!")]
    NoUserClass,
}

/// A step that could not be turned into a request at run time. The engine records it as
/// an exception (or, for `MissingVariable`, may quietly end the task).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A variable this step needs has not been extracted yet (or is an empty list).
    #[error("{step}: variable `{var}` is not set yet (it is extracted by another step)")]
    MissingVariable { step: String, var: String },

    /// minijinja failed while rendering (undefined attribute, bad filter argument, ...).
    #[error("{step}: {message}")]
    Render { step: String, message: String },

    /// A rendered method or header is not valid HTTP.
    #[error("{step}: {message}")]
    Invalid { step: String, message: String },
}
