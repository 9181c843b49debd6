//! locust-convert: a Python locustfile into a TOML scenario of locust-rs (and a
//! `locust.toml` profile for a `LoadTestShape`), for `locust-rs convert`.
//!
//! The file is parsed with rustpython-parser (a syntax error comes back with its line
//! and column), its module level, classes and function bodies are converted into a
//! model (`model`), and the model is written as TOML (`emit`). What has no counterpart
//! is kept visible as a TODO item at its place. The declared task ratios (`ratio`) are
//! computed from the Python alone, for `--check`.

mod assign;
mod body;
mod calls;
mod checks;
mod classes;
mod context;
pub mod emit;
pub mod model;
mod module;
mod pyexpr;
mod ratio;
mod request;
mod response;
mod shape;
mod source;
mod text;
mod user;

#[cfg(test)]
mod tests;

pub use model::Todo;
pub use ratio::{class_shares, Declared};

/// A file that is not valid Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What a conversion gives.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The TOML scenario.
    pub scenario: String,
    /// A `LoadTestShape` as a `locust.toml` profile: (profile name, its TOML text).
    pub profile: Option<(String, String)>,
    /// What could not be converted, in line order (each is also a comment in the output).
    pub todos: Vec<Todo>,
    /// The task ratios the Python declares.
    pub declared: Vec<Declared>,
    /// The files the feeders read (relative paths as the Python wrote them).
    pub data_files: Vec<String>,
}

impl Conversion {
    /// The TODO line of each item, as written in the output.
    pub fn todo_lines(&self, file: &str) -> Vec<String> {
        self.todos
            .iter()
            .map(|t| emit::todo_line(file, t))
            .collect()
    }
}

/// The deepest bracket nesting accepted (CPython's parser stops at 200 too).
const MAX_NESTING: usize = 200;

/// Converts `source`, the text of the file `file` (its name as shown in TODO comments).
pub fn convert(file: &str, source: &str) -> Result<Conversion, SyntaxError> {
    let (file, source) = (file.to_string(), source.to_string());
    // The syntax tree and the converter recurse over it: a thread with a stack that a
    // deeply nested (still valid) expression cannot overflow.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || convert_here(&file, &source));
    match worker.map(|h| h.join()) {
        Ok(Ok(result)) => result,
        _ => Err(SyntaxError {
            line: 1,
            column: 1,
            message: "the converter failed on this file".into(),
        }),
    }
}

fn nesting_error(src: &source::Source) -> Option<SyntaxError> {
    let mut depth = 0usize;
    for (i, c) in src.text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            let offset = rustpython_parser::text_size::TextSize::try_from(i).unwrap_or_default();
            let (line, column) = src.line_col(offset);
            return Some(SyntaxError {
                line,
                column,
                message: format!("too many nested parentheses (over {MAX_NESTING})"),
            });
        }
    }
    None
}

fn convert_here(file: &str, source: &str) -> Result<Conversion, SyntaxError> {
    let src = source::Source::new(file, source);
    if let Some(error) = nesting_error(&src) {
        return Err(error);
    }
    use rustpython_parser::Parse as _;
    let suite = rustpython_parser::ast::Suite::parse(source, file).map_err(|e| {
        let (line, column) = src.line_col(e.offset);
        SyntaxError {
            line,
            column,
            message: e.error.to_string(),
        }
    })?;
    let (scenario, declared) = module::convert(&src, &suite);
    let todos = scenario.todos();
    let profile = scenario
        .profile
        .as_ref()
        .map(|p| (p.name.clone(), emit::profile(file, p)));
    Ok(Conversion {
        scenario: emit::scenario(&scenario),
        profile,
        todos,
        declared,
        data_files: scenario.feeders.iter().map(|f| f.file.clone()).collect(),
    })
}
