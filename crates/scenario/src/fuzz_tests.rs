//! The `fuzz_*` tests of this crate's parsers of user input: scenario files (TOML parsed
//! and compiled into classes) and templates (compiled, then rendered), under seeded
//! mutations of real files. Every case ends in a value or a clear error naming the file,
//! never a panic or a hang; `make fuzz` runs more cases.

use std::path::{Path, PathBuf};

use crate::error::Location;
use crate::fuzz::{cases, mutate, run_case, Rng, Watchdog, MAX_INPUT};
use crate::template::{context, describe, TemplateCompiler, MAX_RENDERED};
use crate::vars::UserVars;
use crate::LoadOptions;

/// The scenario files of the repository: `scenarios/` and the examples.
fn scenario_corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["scenarios", "examples"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    assert!(files.len() >= 10, "the scenario corpus is missing");
    files
}

/// Pieces of scenario syntax and hostile values to insert.
const SCENARIO_SNIPPETS: &[&str] = &[
    "[users.A]\n",
    "[[users.A.tasks]]\n",
    "request = { method = \"GET\", path = \"/\" }\n",
    "wait_time = \"between(1, 99999999999999999999)\"\n",
    "wait_time = \"constant(nan)\"\n",
    "weight = 99999999999999999999\n",
    "weight = -0.0\n",
    "weight = inf\n",
    "repeat = 4294967296\n",
    "path = \"{{ ((((((((((x \"\n",
    "path = \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"\n",
    "body = \"{{ 'x' * 10**12 }}\"\n",
    "\"\"\"",
    "'''",
    "\\u0000",
    "\\uD800",
    "\\U0010FFFF",
    "= { a = { a = { a = {",
    "[feeders.f]\nfile = \"/dev/null\"\n",
    "[feeders.f]\nfile = \"testdata_from_csv.csv\"\n",
    "1979-05-27T07:32:00Z",
    "{{ vars.X }}",
    "{{ env('LOCUST_RS_SURELY_UNSET') }}",
];

/// Seeded mutations of every scenario file of the repository, compiled: a scenario or an
/// error that names the file. Invalid UTF-8 goes through a real file.
#[test]
fn fuzz_scenario_files() {
    let corpus = scenario_corpus();
    let seeds: Vec<&[u8]> = corpus.iter().map(|(_, b)| b.as_slice()).collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let on_disk = dir.path().join("mutated.toml");
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    let watchdog = Watchdog::start("fuzz_scenario_files");
    let (mut ok, mut errors) = (0u64, 0u64);
    for case in 0..cases(4_000, 20) {
        watchdog.case(case);
        let index = rng.below(corpus.len() as u64) as usize;
        let (path, seed) = &corpus[index];
        let mut data = seed.clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut data, &seeds, SCENARIO_SNIPPETS);
        }
        data.truncate(MAX_INPUT);
        let (result, named) =
            run_case(
                "fuzz_scenario_files",
                case,
                &data,
                || match std::str::from_utf8(&data) {
                    Ok(text) => (crate::load_str(path, text).map(|_| ()), path.as_path()),
                    Err(_) => {
                        std::fs::write(&on_disk, &data).unwrap_or_else(|e| panic!("{e}"));
                        (
                            crate::load(std::slice::from_ref(&on_disk)).map(|_| ()),
                            on_disk.as_path(),
                        )
                    }
                },
            );
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                errors += 1;
                check_names_file(case, &e, named);
            }
        }
    }
    eprintln!("fuzz_scenario_files: {ok} compiled, {errors} refused");
    assert!(ok > 0 && errors > 0, "{ok} compiled, {errors} refused");
}

/// An error of a scenario file says what and names the file (Locust's "No User class
/// found!" names none, as in Locust).
fn check_names_file(case: u64, e: &crate::ScenarioError, path: &Path) {
    let message = e.to_string();
    assert!(!message.trim().is_empty(), "case {case}: an empty message");
    if !matches!(e, crate::ScenarioError::NoUserClass) {
        assert!(
            message.contains(&path.display().to_string()),
            "case {case}: the message does not name {}: {message}",
            path.display()
        );
    }
}

/// Scenario files built to exhaust a parser: deep nesting, huge arrays, huge numbers.
#[test]
fn fuzz_scenario_hostile_shapes() {
    let path = Path::new("hostile.toml");
    let head = "[users.A]\nhost = \"http://h\"\n[[users.A.tasks]]\nrequest = { method = \"GET\", path = \"/\" }\n";
    let deep_array = format!("{head}x = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_table = format!(
        "{head}x = {}1{}\n",
        "{a=".repeat(10_000),
        "}".repeat(10_000)
    );
    let dotted = format!("{head}{} = 1\n", vec!["a"; 10_000].join("."));
    // 50,000 elements written compactly: time and memory grow with the input's size
    // (about 30 µs an element in a debug build, so no more here).
    let long_array = format!("{head}x = [{}0]\n", "0,".repeat(50_000));
    let headers = format!("[{}]\n", "a.".repeat(5_000) + "b");
    let watchdog = Watchdog::start("fuzz_scenario_hostile_shapes");
    let mut texts = vec![deep_array, deep_table, dotted, long_array, headers];
    for number in crate::fuzz::HOSTILE_NUMBERS {
        texts.push(format!(
            "[users.A]\nweight = {number}\nhost = \"http://h\"\nwait_time = \"between(0, {number})\"\n[[users.A.tasks]]\nweight = {number}\nrequest = {{ method = \"GET\", path = \"/\", timeout = {number} }}\n"
        ));
    }
    for (case, text) in texts.iter().enumerate() {
        watchdog.case(case as u64);
        let result = run_case("hostile shapes", case as u64, text.as_bytes(), || {
            crate::load_str(path, text)
        });
        if let Err(e) = result {
            check_names_file(case as u64, &e, path);
        }
    }
}

/// Templates as users write them: builtins, filters, loops, macros, `vars` and `env`.
const TEMPLATES: &[&str] = &[
    "/users/{{ user_id }}?q={{ ids | random }}&n={{ x }}",
    "{% for i in range(3) %}{{ i }},{% endfor %}{{ loop is defined }}",
    "{{ now() }} {{ date('%Y-%m-%d', days=1) }} {{ timestamp('ms') }} {{ isoformat(seconds=0.5) }}",
    "{{ random_int(1, 100) }}-{{ uuid() }}-{{ counter() }}-{{ random_choice([1, 2]) }}",
    "{% if x is defined %}{{ x | upper }}{% else %}none{% endif %}",
    "{{ {'a': [1, 2, {'b': 'c'}], 'n': 1.5e3} | tojson }}",
    "{% set s = 'ab' %}{{ s * 3 }}{{ s[1:] }}{{ s | length }}{{ s ~ x }}",
    "{% macro m(a) %}<{{ a }}>{% endmacro %}{{ m(1) }}{{ m(x) }}",
    "Bearer {{ vars.TOKEN }} {{ env('PATH', 'd') }}",
    "{{ totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits=8) }}",
    "{{ 'a b&c' | urlencode }}{{ [3, 1, 2] | sort | join(',') }}{{ ids | map('string') | list }}",
    "{% raw %}{{ x }}{% endraw %}{# comment #}{{ '{{' }}",
    "{% for r in ids %}{{ loop.index }}:{{ r }}{% if not loop.last %},{% endif %}{% endfor %}",
    "{{ (x | int + 1) * 2 // 3 % 5 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ -x | int }}",
    "{% with a = 1 %}{{ a }}{% endwith %}{% filter upper %}x{% endfilter %}",
];

/// Template syntax and hostile pieces to insert into templates.
const TEMPLATE_SNIPPETS: &[&str] = &[
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "{# ",
    " #}",
    "(",
    ")",
    "[",
    "]",
    "|",
    "~",
    "**",
    "//",
    "{% for i in range(100000) %}",
    "{% endfor %}",
    "{% if x %}",
    "{% endif %}",
    "range(999999999)",
    "range(-99999999999999999999)",
    " * 99999999",
    " * 10**12",
    "10**12",
    "2**64",
    "99999999999999999999",
    "1e308",
    "nan",
    "inf",
    "-0",
    "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}",
    "loop.cycle(",
    "recursive",
    "{% include 'x' %}",
    "{% extends x %}",
    "{% import 'x' as y %}",
    "{% set %}",
    "|tojson",
    "|join",
    "|replace('x', x * 1000)",
    "|batch(99999999)",
    "|slice(0)",
    "|indent(99999999)",
    "|center(99999999)",
    "|truncate(-1)",
    "|round(99999999)",
    "|format(x)",
    "'%99999999s' % x",
    "|reverse",
    "|sum",
    "|dictsort",
    "|items",
    "date('%Q')",
    "date(days=99999999999)",
    "timestamp('h')",
    "totp('!')",
    "random_int(99999999999999999999, 1)",
    "env(x)",
    "vars.NOPE",
    "\\u{0}",
    "\u{0}",
];

/// Seeded mutations of templates, compiled and rendered: text or a clear error.
#[test]
fn fuzz_templates() {
    let seeds: Vec<&[u8]> = TEMPLATES.iter().map(|t| t.as_bytes()).collect();
    let mut options = LoadOptions::default();
    options.vars.insert("TOKEN".into(), "abc".into());
    let mut vars = UserVars::new(7);
    vars.set("x", "5");
    vars.push("ids", 11, 10);
    vars.push("ids", 12, 10);
    let at = Location {
        file: PathBuf::from("fz.toml"),
        line: 3,
        column: 1,
        key: "users.A.tasks[0].request.path".into(),
    };
    let mut rng = Rng(0x1405_7b7e_f767_814f);
    let watchdog = Watchdog::start("fuzz_templates");
    let (mut rendered, mut refused, mut failed) = (0u64, 0u64, 0u64);
    for case in 0..cases(15_000, 4) {
        watchdog.case(case);
        let mut data = rng.pick(&seeds).to_vec();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut data, &seeds, TEMPLATE_SNIPPETS);
        }
        data.truncate(16 * 1024);
        // Templates live in TOML strings: always UTF-8 by the time they compile.
        let source = String::from_utf8_lossy(&data).into_owned();
        let seed = rng.next_u64();
        let outcome = run_case("fuzz_templates", case, source.as_bytes(), || {
            let mut compiler = TemplateCompiler::new(&options);
            let (template, _) = match compiler.compile(&source, &at) {
                Ok(t) => t,
                Err(e) => return Err(e.to_string()),
            };
            let env = compiler.finish();
            let (ctx, _) = context(&vars, seed);
            Ok(template
                .render(&env, &ctx)
                .map(|s| s.len())
                .map_err(|e| describe(&e)))
        });
        match outcome {
            Err(message) => {
                refused += 1;
                assert!(
                    message.starts_with("fz.toml:3:1: `users.A.tasks[0].request.path`: "),
                    "case {case}: {message}"
                );
            }
            Ok(Ok(len)) => {
                rendered += 1;
                assert!(len <= MAX_RENDERED, "case {case}: {len} bytes rendered");
            }
            Ok(Err(message)) => {
                failed += 1;
                assert!(!message.trim().is_empty(), "case {case}: an empty message");
            }
        }
    }
    eprintln!(
        "fuzz_templates: {rendered} rendered, {refused} refused at load, {failed} failed to render"
    );
    assert!(rendered > 0 && refused > 0 && failed > 0);
}

/// Templates built to hang or to exhaust memory: each ends in a clear error (or renders
/// what it may, as `{:>...}`, which is no format of minijinja's), in bounded time and memory (fuel, minijinja's caps on ranges and repeated strings, and the cap
/// on rendered text).
#[test]
fn fuzz_template_hostile_shapes() {
    let deep_parens = format!("{{{{ {}x{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    let deep_ifs = format!(
        "{}x{}",
        "{% if x %}".repeat(10_000),
        "{% endif %}".repeat(10_000)
    );
    let deep_lists = format!("{{{{ {}1{} }}}}", "[".repeat(10_000), "]".repeat(10_000));
    let unclosed = "{{ (".repeat(10_000);
    let for_target = format!(
        "{{% for {}x{} in y %}}{{% endfor %}}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let set_target = format!(
        "{{% set {}x{} = 1 %}}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let for_500 = format!(
        "{{% for {}x{} in [1] %}}{{{{ x }}}}{{% endfor %}}",
        "(".repeat(500),
        ")".repeat(500)
    );
    let cases: Vec<(String, &str)> = vec![
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
                .into(),
            "steps",
        ),
        (
            "{% for i in range(100000) %}{{ 'x' * 99999999 }}{% endfor %}".into(),
            "over",
        ),
        ("{{ 'x' * 10**12 }}".into(), ""),
        ("{{ range(999999999) | list }}".into(), "too many"),
        ("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}".into(), ""),
        (deep_parens, ""),
        (deep_ifs, ""),
        (deep_lists, ""),
        (unclosed, ""),
        ("{{ 'a' | indent(10**15) }}".into(), "is over 100000"),
        ("{{ 'a' | indent(width=10**18) }}".into(), "is over 100000"),
        ("{{ 'a' | indent(10**19) }}".into(), ""),
        ("{{ [1] | tojson(indent=10**15) }}".into(), "is over 100000"),
        ("{{ [1] | tojson(10**15) }}".into(), "is over 100000"),
        (
            "{{ [1, 2] | batch(10**15, 0) | list }}".into(),
            "is over 100000",
        ),
        (
            "{{ [1, 2] | slice(10**15) | list }}".into(),
            "is over 100000",
        ),
        (
            "{{ '%999999999999999s' | format('a') }}".into(),
            "is over 100000",
        ),
        (
            "{{ '%(a)-0.99999999999999999999f' | format(a=1) }}".into(),
            "is over 100000",
        ),
        ("{{ '{:>999999999999999}' | format('a') }}".into(), ""),
        ("{{ ([1] * 10**15) | length }}".into(), ""),
        (for_target, "nest more than 500"),
        (set_target, "nest more than 500"),
    ];
    let at = Location {
        file: PathBuf::from("fz.toml"),
        line: 1,
        column: 1,
        key: "k".into(),
    };
    let mut vars = UserVars::new(1);
    vars.set("x", "1");
    let watchdog = Watchdog::start("fuzz_template_hostile_shapes");
    for (case, (source, expected)) in cases.iter().enumerate() {
        watchdog.case(case as u64);
        let message = run_case("hostile templates", case as u64, source.as_bytes(), || {
            let mut compiler = TemplateCompiler::new(&LoadOptions::default());
            match compiler.compile(source, &at) {
                Err(e) => e.to_string(),
                Ok((template, _)) => {
                    let env = compiler.finish();
                    let (ctx, _) = context(&vars, 0);
                    match template.render(&env, &ctx) {
                        Ok(out) => {
                            assert!(out.len() <= MAX_RENDERED, "case {case}");
                            format!("rendered {} bytes", out.len())
                        }
                        Err(e) => describe(&e),
                    }
                }
            }
        });
        eprintln!(
            "case {case}: {}",
            message.chars().take(300).collect::<String>()
        );
        assert!(
            !message.is_empty() && message.contains(expected),
            "case {case}: {message}"
        );
    }
    // The deepest nesting allowed compiles and renders on a test thread's 2 MiB stack.
    let mut compiler = TemplateCompiler::new(&LoadOptions::default());
    let compiled = compiler.compile(&for_500, &at).map(|(t, _)| t);
    let template = compiled.unwrap_or_else(|e| panic!("{e}"));
    let env = compiler.finish();
    let (ctx, _) = context(&vars, 0);
    assert_eq!(
        template
            .render(&env, &ctx)
            .map_err(|e| describe(&e))
            .as_deref(),
        Ok("1")
    );
}
