//! The model written as TOML text: the scenario file (feeders, setup, teardown, user
//! classes, tasks as arrays of one-line steps) and a `locust.toml` profile for a load
//! shape. TODO items become `# TODO(convert): <file>:<line>: <source> — <why>` comments
//! where they belong.

use std::fmt::Write as _;

use crate::model::{Feeder, Profile, Request, Scenario, Step, Todo, UserClass, Val};

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key: bare when it can be, else quoted.
pub fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A value on one line.
pub fn value(v: &Val) -> String {
    match v {
        Val::Str(s) => quote(s),
        Val::Int(i) => i.to_string(),
        Val::Float(f) if f.is_finite() => {
            let s = format!("{f:?}");
            if s.contains(['.', 'e']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Val::Float(f) => quote(&f.to_string()),
        Val::Bool(b) => b.to_string(),
        Val::Arr(items) => {
            let inner: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", inner.join(", "))
        }
        Val::Table(fields) if fields.is_empty() => "{}".to_string(),
        Val::Table(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), value(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}

/// Text that a TOML comment may hold: control characters (but tab) become `?`.
pub fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c.is_control() && c != '\t') || c == '\u{7f}' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// The TODO comment line for `todo` of `file`.
pub fn todo_line(file: &str, todo: &Todo) -> String {
    comment_safe(&format!(
        "# TODO(convert): {file}:{}: {} — {}",
        todo.line, todo.source_line, todo.why
    ))
}

fn request_fields(r: &Request) -> Vec<(String, Val)> {
    let mut fields = Vec::new();
    if r.method != "GET" {
        fields.push(("method".to_string(), Val::Str(r.method.clone())));
    }
    fields.push(("path".to_string(), Val::Str(r.path.clone())));
    fields.extend(r.fields.iter().cloned());
    if let Some(cond) = &r.condition {
        fields.push(("if".to_string(), Val::Str(cond.clone())));
    }
    if !r.checks.is_empty() {
        fields.push(("checks".to_string(), Val::Arr(r.checks.clone())));
    }
    if !r.extract.is_empty() {
        fields.push(("extract".to_string(), Val::Arr(r.extract.clone())));
    }
    fields
}

/// Steps as the lines of a TOML array (without the brackets), each indented.
fn step_lines(file: &str, steps: &[Step], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for step in steps {
        match step {
            Step::Todo(todo) => {
                let _ = writeln!(out, "{pad}{}", todo_line(file, todo));
            }
            Step::Note(note) => {
                let _ = writeln!(out, "{pad}# {}", comment_safe(note));
            }
            Step::If {
                cond,
                then,
                otherwise,
            } => {
                let _ = writeln!(out, "{pad}{{ if = {}, then = [", quote(cond));
                step_lines(file, then, indent + 2, out);
                if otherwise.is_empty() {
                    let _ = writeln!(out, "{pad}] }},");
                } else {
                    let _ = writeln!(out, "{pad}], else = [");
                    step_lines(file, otherwise, indent + 2, out);
                    let _ = writeln!(out, "{pad}] }},");
                }
            }
            Step::Repeat { times, steps } => {
                let _ = writeln!(out, "{pad}{{ repeat = {}, steps = [", value(times));
                step_lines(file, steps, indent + 2, out);
                let _ = writeln!(out, "{pad}] }},");
            }
            Step::For { var, items, steps } => {
                let _ = writeln!(
                    out,
                    "{pad}{{ for = {{ var = {}, in = {} }}, steps = [",
                    quote(var),
                    quote(items)
                );
                step_lines(file, steps, indent + 2, out);
                let _ = writeln!(out, "{pad}] }},");
            }
            other => {
                let _ = writeln!(out, "{pad}{},", simple_step(other));
            }
        }
    }
}

fn simple_step(step: &Step) -> String {
    let table = match step {
        Step::Request(r) => Val::Table(request_fields(&r.borrow())),
        Step::Think(v) => Val::Table(vec![("think".into(), v.clone())]),
        Step::Set(vars) => Val::Table(vec![(
            "set".into(),
            Val::Table(
                vars.iter()
                    .map(|(k, v)| (k.clone(), Val::Str(v.clone())))
                    .collect(),
            ),
        )]),
        Step::Feed { feeder, var } => {
            let mut fields = vec![("feed".to_string(), Val::Str(feeder.clone()))];
            if var != feeder {
                fields.push(("as".into(), Val::Str(var.clone())));
            }
            Val::Table(fields)
        }
        Step::Fail(message) => Val::Table(vec![("fail".into(), Val::Str(message.clone()))]),
        Step::StopUser => Val::Table(vec![("stop_user".into(), Val::Bool(true))]),
        _ => Val::Table(Vec::new()),
    };
    value(&table)
}

/// `key = [ ...steps... ]` lines.
fn steps_key(file: &str, name: &str, steps: &[Step], out: &mut String) {
    let _ = writeln!(out, "{name} = [");
    step_lines(file, steps, 2, out);
    let _ = writeln!(out, "]");
}

fn feeder(f: &Feeder, out: &mut String) {
    let _ = writeln!(out, "[feeders.{}]", key(&f.name));
    let _ = writeln!(out, "file = {}", quote(&f.file));
    if let Some(columns) = &f.columns {
        let cols: Vec<Val> = columns.iter().map(|c| Val::Str(c.clone())).collect();
        let _ = writeln!(out, "columns = {}", value(&Val::Arr(cols)));
    }
    let _ = writeln!(out, "order = {}\n", quote(f.order));
}

fn class(file: &str, c: &UserClass, out: &mut String) {
    let name = key(&c.name);
    let _ = writeln!(out, "[users.{name}]");
    for todo in &c.todos {
        let _ = writeln!(out, "{}", todo_line(file, todo));
    }
    if let Some(host) = &c.host {
        let _ = writeln!(out, "host = {}", quote(host));
    }
    if let Some(weight) = &c.weight {
        let _ = writeln!(out, "weight = {}", value(weight));
    }
    if let Some(n) = c.fixed_count {
        let _ = writeln!(out, "fixed_count = {n}");
    }
    if let Some(wait) = &c.wait_time {
        let _ = writeln!(out, "wait_time = {}", quote(wait));
    }
    if c.sequential {
        let _ = writeln!(out, "sequential = true");
    }
    if !c.tags.is_empty() {
        let _ = writeln!(out, "tags = {}", value(&strings(&c.tags)));
    }
    if !c.vars.is_empty() {
        let vars = c
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), Val::Str(v.clone())))
            .collect();
        let _ = writeln!(out, "vars = {}", value(&Val::Table(vars)));
    }
    if !c.on_start.is_empty() {
        steps_key(file, "on_start", &c.on_start, out);
    }
    if !c.on_stop.is_empty() {
        steps_key(file, "on_stop", &c.on_stop, out);
    }
    for task in &c.tasks {
        let _ = writeln!(out, "\n[[users.{name}.tasks]]");
        let _ = writeln!(out, "name = {}", quote(&task.name));
        if task.weight != 1 {
            let _ = writeln!(out, "weight = {}", task.weight);
        }
        if !task.tags.is_empty() {
            let _ = writeln!(out, "tags = {}", value(&strings(&task.tags)));
        }
        let sends_nothing = !task
            .steps
            .iter()
            .any(|s| !matches!(s, Step::Todo(_) | Step::Note(_)));
        if sends_nothing {
            let mut steps = task.steps.clone();
            steps.push(Step::Think(Val::Int(0)));
            steps_key(file, "steps", &steps, out);
        } else {
            steps_key(file, "steps", &task.steps, out);
        }
    }
    out.push('\n');
}

fn strings(items: &[String]) -> Val {
    Val::Arr(items.iter().map(|s| Val::Str(s.clone())).collect())
}

/// The scenario file.
pub fn scenario(s: &Scenario) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted from {} by `locust-rs convert`.\n",
        comment_safe(&s.file)
    );
    for note in &s.notes {
        let _ = writeln!(out, "# {}", comment_safe(note));
    }
    for todo in &s.top_todos {
        let _ = writeln!(out, "{}", todo_line(&s.file, todo));
    }
    if !s.notes.is_empty() || !s.top_todos.is_empty() {
        out.push('\n');
    }
    for f in &s.feeders {
        feeder(f, &mut out);
    }
    for (name, steps) in [("setup", &s.setup), ("teardown", &s.teardown)] {
        for step in steps.iter() {
            match step {
                Step::Request(r) => {
                    let _ = writeln!(out, "[[{name}]]");
                    for (k, v) in request_fields(&r.borrow()) {
                        let _ = writeln!(out, "{} = {}", key(&k), value(&v));
                    }
                    out.push('\n');
                }
                Step::Todo(todo) => {
                    let _ = writeln!(out, "{}\n", todo_line(&s.file, todo));
                }
                Step::Note(note) => {
                    let _ = writeln!(out, "# {}\n", comment_safe(note));
                }
                other => {
                    let _ = writeln!(out, "[[{name}]]");
                    let line = simple_step(other);
                    let inner = line
                        .strip_prefix("{ ")
                        .and_then(|l| l.strip_suffix(" }"))
                        .unwrap_or(&line);
                    for part in split_top(inner) {
                        let _ = writeln!(out, "{part}");
                    }
                    out.push('\n');
                }
            }
        }
    }
    for c in &s.classes {
        class(&s.file, c, &mut out);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Splits `a = 1, b = { c = 2 }` at its top-level commas.
fn split_top(s: &str) -> Vec<String> {
    let (mut parts, mut depth, mut cur, mut in_str, mut esc) =
        (Vec::new(), 0i32, String::new(), false, false);
    for c in s.chars() {
        if in_str {
            cur.push(c);
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        parts.push(cur.trim().to_string());
    }
    parts
}

/// The `locust.toml` profile of a load shape.
pub fn profile(file: &str, p: &Profile) -> String {
    let mut out = String::new();
    let header = format!(
        "# {} of {file}, converted by `locust-rs convert`: run with --profile {}",
        p.class, p.name
    );
    let _ = writeln!(out, "{}", comment_safe(&header));
    for todo in &p.todos {
        let _ = writeln!(out, "{}", todo_line(file, todo));
    }
    let _ = writeln!(out, "[profiles.{}]", key(&p.name));
    let _ = writeln!(
        out,
        "description = {}",
        quote(&format!("{} of {file}", p.class))
    );
    if !p.stages.is_empty() {
        let _ = writeln!(out, "stages = [");
        for stage in &p.stages {
            let _ = writeln!(out, "  {},", value(stage));
        }
        let _ = writeln!(out, "]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_keys_are_escaped() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(key("Content-Type"), "Content-Type");
        assert_eq!(key("user[email]"), "\"user[email]\"");
        assert_eq!(value(&Val::Float(2.0)), "2.0");
        assert_eq!(
            value(&Val::Table(vec![("a".into(), Val::Arr(vec![Val::Int(1)]))])),
            "{ a = [1] }"
        );
    }

    #[test]
    fn top_level_split_keeps_nested_commas() {
        assert_eq!(
            split_top("a = 1, b = { c = \"x,y\", d = [1, 2] }"),
            vec!["a = 1", "b = { c = \"x,y\", d = [1, 2] }"]
        );
    }
}
