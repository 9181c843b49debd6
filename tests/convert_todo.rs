//! `locust-rs convert`, part 3: what cannot be converted stays visible. Each unsupported
//! construct of `tests/convert/unsupported.py` gives its `# TODO(convert): <file>:<line>:
//! <source line> — <why>` comment in the output (at its place) and on stderr, with the
//! right line number, and exit 1; the output still loads. A file that is not Python
//! gives exit 2 with the parser's line and column; unreadable input and a bad command
//! line give exit 2 with a clear message, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::convert::*;
use common::*;

/// (line, start of the source line) of every construct unsupported.py must flag.
const EXPECTED: &[(usize, &str)] = &[
    (6, "print(\"loading\")"),
    (10, "wait_time = lambda self"),
    (15, "while count < 3:"),
    (21, "self.client.get(\"/health\", verify=False)"),
    (22, "self.interrupt()"),
    (23, "raise RescheduleTask()"),
    (27, "self.client.get(\"/users\", stream=True)"),
    (28, "data = {k: v for k, v in"),
    (29, "self.client.post(\"/users\", json=data)"),
    (32, "class Chain(MarkovTaskSet):"),
    (38, "class Walker(HttpUser):"),
    (43, "def tick(self):"),
    (47, "@events.request.add_listener"),
];

#[tokio::test]
async fn every_unsupported_construct_has_its_todo_line() {
    let dir = folder_with("unsupported.py", &[]);
    let out = convert_in(dir.path(), &["unsupported.py"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let toml = std::fs::read_to_string(dir.path().join("unsupported.toml")).unwrap();
    let profile = std::fs::read_to_string(dir.path().join("locust.toml")).unwrap();
    let text_of_source = fixture("unsupported.py");
    let source: Vec<&str> = text_of_source.lines().collect();
    for (line, start) in EXPECTED {
        assert!(
            source[line - 1].trim().starts_with(start),
            "fixture line {line}: {}",
            source[line - 1]
        );
        let todo = format!("# TODO(convert): unsupported.py:{line}: {start}");
        assert!(
            toml.contains(&todo) || profile.contains(&todo),
            "{todo} is not in the output:\n{toml}\n{profile}"
        );
        assert!(stderr.contains(&todo), "{todo} is not on stderr:\n{stderr}");
    }
    let count = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("# TODO(convert)"))
        .count();
    assert_eq!(count, EXPECTED.len(), "{stderr}");
    assert!(
        stderr.contains(&format!("{} TODO(s) left", EXPECTED.len())),
        "{stderr}"
    );
    // In place: the TODO of the `while` loop is inside the task `loop`.
    let task = toml.find("name = \"loop\"").unwrap();
    let next = toml[task..].find("[[users").unwrap_or(toml.len() - task) + task;
    assert!(toml[task..next].contains("unsupported.py:15:"), "{toml}");
    // The output loads (the TODOs are comments, a task left empty waits 0 s).
    let ratio = run_in(dir.path(), &["-f", "unsupported.toml", "--show-task-ratio"]).await;
    assert_eq!(ratio.status.code(), Some(0), "{}", text(&ratio.stderr));
}

#[tokio::test]
async fn a_syntax_error_gives_exit_2_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.py",
        "from locust import task\n\ndef f(:\n    pass\n",
    );
    let out = convert_in(dir.path(), &["bad.py"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.py:3:7: syntax error"), "{stderr}");
    assert!(!dir.path().join("bad.toml").exists());
    // An unclosed bracket: reported where the parser stopped.
    write(dir.path(), "open.py", "x = [1,\n");
    let out = convert_in(dir.path(), &["open.py"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("open.py:"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn unreadable_input_and_bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = convert_in(dir.path(), &["nope.py"]).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("cannot read nope.py"),
        "{}",
        text(&missing.stderr)
    );
    std::fs::write(dir.path().join("latin.py"), b"x = 1\ny = '\xe9'\n").unwrap();
    let latin = convert_in(dir.path(), &["latin.py"]).await;
    assert_eq!(latin.status.code(), Some(2));
    assert!(
        text(&latin.stderr).contains("latin.py:2: the file is not UTF-8 text"),
        "{}",
        text(&latin.stderr)
    );
    let none = convert_in(dir.path(), &[]).await;
    assert_eq!(none.status.code(), Some(2));
    let help = convert_in(dir.path(), &["--help"]).await;
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    assert!(
        help.contains("locust-rs convert")
            && help.contains("--check")
            && help.contains("Exit codes"),
        "{help}"
    );
    for out in [missing, latin, none] {
        assert!(!text(&out.stderr).contains("panicked"));
    }
}
