//! `locust-rs convert locustfile.py [-o scenario.toml] [--check]`: a Python locustfile
//! into a TOML scenario (and a load shape into a `locust.toml` profile) with the
//! `locust-convert` crate, a summary of what could not be converted on stderr, and with
//! `--check` the converted scenario's task ratios beside the ones the Python declares.
//! `main` dispatches here when the first argument is `convert`.
//!
//! Exit codes: 0 fully converted; 1 converted with TODO comments left; 2 bad command
//! line, unreadable input, a file that is not valid Python, or an output that cannot be
//! written; 3 with `--check`, the converted scenario does not load or its task ratios
//! differ from the Python's.

use std::path::{Component, Path, PathBuf};

use clap::Parser;

use crate::task_ratio;

pub const FULLY_CONVERTED: i32 = 0;
pub const TODOS_LEFT: i32 = 1;
pub const BAD_INPUT: i32 = 2;
pub const CHECK_FAILED: i32 = 3;

const EXIT_HELP: &str = "\
Exit codes:
  0    fully converted (with --check: and the task ratios are the same)
  1    converted, with `# TODO(convert)` comments left where Python had no counterpart
  2    bad command line, unreadable file, not valid Python (file:line:column), or the
       output could not be written
  3    --check: the converted scenario does not load, or its task ratios differ";

/// Convert a Python locustfile into a TOML scenario
#[derive(Parser, Debug)]
#[command(name = "locust-rs convert", after_help = EXIT_HELP)]
struct ConvertCli {
    /// The Python locustfile
    #[arg(value_name = "LOCUSTFILE")]
    locustfile: PathBuf,

    /// Where the scenario goes (default: the locustfile's name with .toml; - for stdout).
    /// A LoadTestShape becomes a profile in locust.toml next to it
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,

    /// Then show the converted scenario's --show-task-ratio beside the Python's
    #[arg(long)]
    check: bool,
}

/// Runs `locust-rs convert` with `args` (those after `convert`); the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    let argv = std::iter::once(std::ffi::OsString::from("locust-rs convert")).chain(args);
    let cli = match ConvertCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { BAD_INPUT } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match convert(&cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("locust-rs convert: error: {message}");
            BAD_INPUT
        }
    }
}

/// The text of the file, or where it stops being UTF-8.
fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        format!("{}:{line}: the file is not UTF-8 text", path.display())
    })
}

fn convert(cli: &ConvertCli) -> Result<i32, String> {
    let input = &cli.locustfile;
    let text = read(input)?;
    let shown = input.display().to_string();
    let result = match locust_convert::convert(&shown, &text) {
        Ok(result) => result,
        Err(e) => {
            eprintln!(
                "{shown}:{}:{}: syntax error: {}",
                e.line, e.column, e.message
            );
            return Ok(BAD_INPUT);
        }
    };
    let to_stdout = cli.output.as_deref() == Some(Path::new("-"));
    let output = match &cli.output {
        Some(o) if !to_stdout => o.clone(),
        _ => input.with_extension("toml"),
    };
    let in_dir = parent(input);
    let out_dir = parent(&output);
    let mut scenario = result.scenario.clone();
    for file in &result.data_files {
        let moved = relative(&in_dir.join(file), &out_dir);
        if moved != Path::new(file) {
            scenario = scenario.replace(
                &format!("file = {}", locust_convert::emit::quote(file)),
                &format!(
                    "file = {}",
                    locust_convert::emit::quote(&moved.display().to_string())
                ),
            );
        }
    }
    if to_stdout {
        print!("{scenario}");
        if let Some((_, profile)) = &result.profile {
            print!("\n# ---- locust.toml ----\n{profile}");
        }
    } else {
        if output == *input {
            return Err(format!(
                "{}: the output would replace the locustfile; give -o",
                output.display()
            ));
        }
        std::fs::write(&output, &scenario)
            .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        eprintln!("locust-rs convert: wrote {}", output.display());
        if let Some((name, profile)) = &result.profile {
            write_profile(&out_dir.join("locust.toml"), name, profile)?;
        }
    }
    summary(&shown, &result);
    let mut code = if result.todos.is_empty() {
        FULLY_CONVERTED
    } else {
        TODOS_LEFT
    };
    if cli.check && !check(&output, &scenario, &result.declared) {
        code = CHECK_FAILED;
    }
    Ok(code)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `target` as a path relative to the folder `base` (both made absolute first).
fn relative(target: &Path, base: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let norm = |p: &Path| -> Vec<Component<'static>> {
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        let mut parts: Vec<Component<'static>> = Vec::new();
        for c in abs.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    parts.pop();
                }
                Component::Normal(s) => parts.push(Component::Normal(Box::leak(
                    s.to_os_string().into_boxed_os_str(),
                ))),
                _ => {}
            }
        }
        parts
    };
    let (t, b) = (norm(target), norm(base));
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Adds the profile to `locust.toml` (created when missing); a profile of that name
/// already there is left as it is.
fn write_profile(path: &Path, name: &str, profile: &str) -> Result<(), String> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if existing.contains(&format!("[profiles.{name}]")) {
        eprintln!(
            "locust-rs convert: {} already has [profiles.{name}]; left as it is",
            path.display()
        );
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with("\n\n") {
        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
    }
    text.push_str(profile);
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "locust-rs convert: wrote the profile `{name}` to {} (run with --profile {name})",
        path.display()
    );
    Ok(())
}

fn summary(file: &str, result: &locust_convert::Conversion) {
    if result.todos.is_empty() {
        eprintln!("locust-rs convert: {file}: fully converted");
        return;
    }
    eprintln!(
        "locust-rs convert: {file}: {} TODO(s) left, marked `# TODO(convert)` in the output:",
        result.todos.len()
    );
    for line in result.todo_lines(file) {
        eprintln!("  {line}");
    }
}

/// Prints the task ratios of the converted scenario beside the Python's; whether they
/// are the same.
fn check(output: &Path, scenario: &str, declared: &[locust_convert::Declared]) -> bool {
    let loaded = match locust_scenario::load_str(output, scenario) {
        Ok(loaded) => loaded,
        Err(e) => {
            println!("the converted scenario does not load: {e}");
            return false;
        }
    };
    let refs: Vec<&locust_scenario::UserClass> = loaded.classes.iter().collect();
    let shares = task_ratio::shares(&refs, None);
    let python_shares = locust_convert::class_shares(declared);
    println!("\n Task ratio per User class: Python (declared) | converted scenario");
    println!("{}", "-".repeat(80));
    let mut same = shares.len() == declared.len();
    let row = |level: usize, name: &str, py: Option<f64>, rs: Option<f64>| {
        let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}", v * 100.0));
        let mark = match (py, rs) {
            (Some(a), Some(b)) if (a - b).abs() < 1e-9 => "",
            _ => "  <- differs",
        };
        let name = format!("{}{name}", "  ".repeat(level));
        println!(" {:<50} {:>7} | {:>7}{mark}", name, pct(py), pct(rs));
        mark.is_empty()
    };
    for (i, class) in declared.iter().enumerate() {
        let converted = shares.iter().find(|s| s.class == class.class);
        same &= row(
            0,
            &class.class,
            python_shares.get(i).copied(),
            converted.map(|c| c.ratio),
        );
        let mut names: Vec<&str> = class.tasks.iter().map(|(n, _)| n.as_str()).collect();
        if let Some(c) = converted {
            for t in &c.tasks {
                if !names.contains(&t.task.as_str()) {
                    names.push(&t.task);
                }
            }
        }
        for name in names {
            let py = class.tasks.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
            let rs = converted
                .and_then(|c| c.tasks.iter().find(|t| t.task == name))
                .map(|t| t.ratio_in_class);
            same &= row(1, name, py, rs);
        }
    }
    for s in &shares {
        if !declared.iter().any(|d| d.class == s.class) {
            same &= row(0, &s.class, None, Some(s.ratio));
        }
    }
    println!(
        "\n{}",
        if same {
            "The converted scenario runs the same task mix as the Python file."
        } else {
            "The task mix differs (see `<- differs`)."
        }
    );
    same
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_folders() {
        assert_eq!(
            relative(Path::new("/a/b/x.csv"), Path::new("/a/c")),
            PathBuf::from("../b/x.csv")
        );
        assert_eq!(
            relative(Path::new("/a/b/x.csv"), Path::new("/a/b")),
            PathBuf::from("x.csv")
        );
    }
}
