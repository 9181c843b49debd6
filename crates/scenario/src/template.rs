//! minijinja templates: compiled once at load into one `Environment<'static>` (owned
//! sources, strict undefined, the builtins of `template_funcs.rs` and `vars` from
//! `--var`), with the load-time checks of `template_check.rs` on what each template uses
//! (found by `template_scan.rs`); and the fast path: text without `{{`, `{%` or `{#` is
//! never rendered, only reused.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::SystemTime;

use minijinja::value::{Kwargs, Rest, StringInput};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use crate::error::{Location, ScenarioError};
use crate::template_check;
use crate::template_funcs::{add_env, add_functions, Clock};
use crate::template_scan;
use crate::LoadOptions;

pub(crate) use crate::template_funcs::{context, BUILTIN_FUNCS, BUILTIN_VARS};

/// A compiled template: plain text reused as is, or a template stored in the environment.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    Static(Arc<str>),
    Dynamic(Arc<str>),
}

impl Template {
    pub fn is_static(&self) -> bool {
        matches!(self, Template::Static(_))
    }

    /// Renders with a context from [`context`]; static text is borrowed, not rendered.
    pub fn render<'a>(
        &'a self,
        env: &Environment<'static>,
        ctx: &Value,
    ) -> Result<Cow<'a, str>, Error> {
        match self {
            Template::Static(s) => Ok(Cow::Borrowed(s)),
            Template::Dynamic(name) => {
                render_bounded(&env.get_template(name)?, ctx).map(Cow::Owned)
            }
        }
    }
}

/// The deepest nesting of `(` a template may have: minijinja's own limit on nested
/// expressions. Its parser guards expressions, but not the targets of `{% for %}` and
/// `{% set %}`: `{% for ((((...` 10,000 deep overflowed the stack and aborted the process.
pub(crate) const MAX_NESTING: usize = 500;

/// Refuses a template whose `(` nest deeper than [`MAX_NESTING`].
pub(crate) fn check_nesting(source: &str) -> Result<(), String> {
    let mut depth = 0usize;
    for b in source.bytes() {
        match b {
            b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!("parentheses nest more than {MAX_NESTING} deep"));
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The largest count or width a builtin filter may take: minijinja allocates it up front
/// (`indent`, `tojson(indent=...)`) or loops over it outside its fuel (`batch`,
/// `slice`), so `{{ x | indent(10**15) }}` aborted the process on a failed allocation;
/// `format`'s widths likewise.
pub(crate) const MAX_FILTER_SIZE: usize = 100_000;

fn within(filter: &str, n: usize) -> Result<(), Error> {
    if n > MAX_FILTER_SIZE {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{filter}({n}) is over {MAX_FILTER_SIZE}"),
        ));
    }
    Ok(())
}

fn batch(state: &State, value: Value, count: usize, fill: Option<Value>) -> Result<Value, Error> {
    within("batch", count)?;
    minijinja::filters::batch(state, value, count, fill)
}

fn slice(state: &State, value: Value, count: usize, fill: Option<Value>) -> Result<Value, Error> {
    within("slice", count)?;
    minijinja::filters::slice(state, value, count, fill)
}

fn indent(
    value: StringInput<'_>,
    width: Option<usize>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let given = match width {
        Some(w) => Some(w),
        None => kwargs.peek::<Option<usize>>("width")?,
    };
    within("indent", given.unwrap_or(0))?;
    minijinja::filters::indent(value, width, first, blank, kwargs)
}

fn tojson(value: &Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let given = match &indent {
        Some(i) => Some(i.clone()),
        None => kwargs.peek::<Option<Value>>("indent")?,
    };
    if let Some(n) = given.as_ref().and_then(Value::as_usize) {
        within("tojson", n)?;
    }
    minijinja::filters::tojson(value, indent, kwargs)
}

fn format(state: &State, format_str: &Value, args: Rest<Value>) -> Result<Value, Error> {
    if let Some(text) = format_str.as_str() {
        check_format_widths(text)?;
    }
    minijinja::filters::format(state, format_str, args)
}

/// The widths and precisions of a printf-style format (`%(name)-10.3f`) are sizes too:
/// `'%999999999999999s' | format(x)` aborted the process on a failed allocation.
fn check_format_widths(text: &str) -> Result<(), Error> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        if bytes.get(i) == Some(&b'(') {
            while i < bytes.len() && bytes[i] != b')' {
                i += 1;
            }
            i += 1;
        }
        while i < bytes.len() && b"-+ #0".contains(&bytes[i]) {
            i += 1;
        }
        // The width, then the precision after a `.`.
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = text.get(start..i).unwrap_or("");
            within(
                "format",
                digits
                    .parse()
                    .unwrap_or(if digits.is_empty() { 0 } else { usize::MAX }),
            )?;
            if bytes.get(i) != Some(&b'.') {
                break;
            }
            i += 1;
        }
    }
    Ok(())
}

/// Replaces the builtin filters that take a size with ones that refuse a huge size.
pub(crate) fn add_size_guards(env: &mut Environment<'_>) {
    env.add_filter("format", format);
    env.add_filter("batch", batch);
    env.add_filter("slice", slice);
    env.add_filter("indent", indent);
    env.add_filter("tojson", tojson);
}

/// The most instructions one render may run (minijinja's fuel): a loop of loops ends in
/// an error instead of holding a user for hours. Ten million is about a million loop
/// rounds, well under a second in a release build.
pub(crate) const MAX_FUEL: u64 = 10_000_000;

/// The most bytes one render may write: `{% for i in range(100000) %}{{ 'x' * 99999999
/// }}{% endfor %}` ends in an error instead of taking all memory.
pub(crate) const MAX_RENDERED: usize = 64 * 1024 * 1024;

/// Renders `template` within [`MAX_RENDERED`] bytes (the environment's fuel bounds its
/// time); running out of either is an error that says so.
pub(crate) fn render_bounded(
    template: &minijinja::Template<'_, '_>,
    ctx: &Value,
) -> Result<String, Error> {
    let mut out = Capped {
        buf: Vec::new(),
        over: false,
    };
    match template.render_captured_to(ctx, &mut out) {
        Ok(_) => String::from_utf8(out.buf).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "the rendered text is not UTF-8",
            )
        }),
        Err(_) if out.over => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("the rendered text is over {} MiB", MAX_RENDERED >> 20),
        )),
        Err(e) if e.kind() == ErrorKind::OutOfFuel => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("the template ran over {MAX_FUEL} steps (a loop too long?)"),
        )),
        Err(e) => Err(e),
    }
}

/// A buffer that refuses to grow past [`MAX_RENDERED`], and says it did.
struct Capped {
    buf: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + buf.len() > MAX_RENDERED {
            self.over = true;
            return Err(std::io::Error::other("over the cap"));
        }
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// True when the text holds no template syntax at all.
pub(crate) fn is_plain(text: &str) -> bool {
    !(text.contains("{{") || text.contains("{%") || text.contains("{#"))
}

/// Builds the environment while a scenario is compiled; `finish` freezes it.
pub(crate) struct TemplateCompiler {
    env: Environment<'static>,
    env_snapshot: BTreeMap<String, String>,
    /// `--var KEY=VALUE`: what `vars.KEY` may read.
    vars: BTreeMap<String, String>,
}

impl TemplateCompiler {
    /// An environment with the builtins, the clock functions on the wall clock, and the
    /// load's `vars`.
    pub fn new(options: &LoadOptions) -> Self {
        Self::with_clock(options, Arc::new(SystemTime::now))
    }

    /// [`new`](Self::new) with another clock (tests use a fixed one).
    pub(crate) fn with_clock(options: &LoadOptions, clock: Clock) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.set_fuel(Some(MAX_FUEL));
        add_size_guards(&mut env);
        add_functions(&mut env, &clock);
        env.add_global("vars", Value::from_serialize(&options.vars));
        TemplateCompiler {
            env,
            env_snapshot: BTreeMap::new(),
            vars: options.vars.clone(),
        }
    }

    /// Compiles one template; returns it with the non-builtin variables it reads.
    /// Unknown filters, tests and functions, `vars.KEY` without `--var KEY=...`, unset
    /// `env("NAME")` and bad literal arguments of the clock functions are errors now.
    pub fn compile(
        &mut self,
        source: &str,
        at: &Location,
    ) -> Result<(Template, BTreeSet<String>), ScenarioError> {
        if is_plain(source) {
            return Ok((Template::Static(source.into()), BTreeSet::new()));
        }
        check_nesting(source).map_err(|message| ScenarioError::Template {
            at: at.clone(),
            message,
        })?;
        let name = format!("{}:{}", at.file.display(), at.key);
        self.env
            .add_template_owned(name.clone(), source.to_string())
            .map_err(|e| ScenarioError::Template {
                at: at.clone(),
                message: describe(&e),
            })?;
        let undeclared = self
            .env
            .get_template(&name)
            .map(|t| t.undeclared_variables(false))
            .unwrap_or_default();
        let uses = template_scan::scan(source);
        template_check::check_filters_and_tests(&self.env, source, &uses, at)?;
        template_check::check_functions(source, &uses, &undeclared, at)?;
        template_check::check_literal_calls(&mut self.env_snapshot, source, &uses, at)?;
        template_check::check_vars(&self.vars, source, &uses, at)?;
        let sliced = uses
            .subscripted
            .iter()
            .map(|u| u.name)
            .filter(|n| !uses.bound.contains(n))
            .map(str::to_string);
        let vars = undeclared
            .into_iter()
            .chain(sliced)
            .filter(|v| !BUILTIN_VARS.contains(&v.as_str()) && !BUILTIN_FUNCS.contains(&v.as_str()))
            .collect();
        Ok((Template::Dynamic(name.into()), vars))
    }

    /// `vars.KEY` reads in `source` (a check's template, which has its own environment)
    /// must name a `--var`, as in the class's templates.
    pub fn check_cli_vars(&self, source: &str, at: &Location) -> Result<(), ScenarioError> {
        template_check::check_vars(&self.vars, source, &template_scan::scan(source), at)
    }

    /// The value templates read as `vars` (the `--var`s).
    pub fn cli_vars(&self) -> Value {
        Value::from_serialize(&self.vars)
    }

    /// Adds `env()` (with the snapshot) and freezes the environment.
    pub fn finish(mut self) -> Arc<Environment<'static>> {
        add_env(&mut self.env, self.env_snapshot);
        Arc::new(self.env)
    }
}

/// minijinja's message plus the template line, without the internal template name.
pub(crate) fn describe(e: &Error) -> String {
    let what = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    match e.line() {
        Some(line) => format!("{what} (template line {line})"),
        None => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template_check::{BUILTIN_FILTERS, BUILTIN_TESTS, CUSTOM_FILTERS};
    use std::path::PathBuf;
    use std::sync::atomic::Ordering;

    use crate::vars::UserVars;

    fn at(key: &str) -> Location {
        Location {
            file: PathBuf::from("t.toml"),
            line: 3,
            column: 1,
            key: key.to_string(),
        }
    }

    fn render_one(src: &str, vars: &mut UserVars, seed: u64) -> Result<String, Error> {
        let mut c = TemplateCompiler::new(&LoadOptions::default());
        let (t, _) = c.compile(src, &at("k")).unwrap();
        let env = c.finish();
        let (ctx, rt) = context(vars, seed);
        let out = t.render(&env, &ctx).map(|s| s.into_owned());
        vars.counter = rt.counter.load(Ordering::Relaxed);
        out
    }

    #[test]
    fn plain_text_is_static_and_never_rendered() {
        let mut c = TemplateCompiler::new(&LoadOptions::default());
        let (t, vars) = c.compile("/users?skip=0&limit=10", &at("k")).unwrap();
        assert!(t.is_static());
        assert!(vars.is_empty());
        // An empty environment proves no lookup happens.
        let env = Environment::new();
        let out = t.render(&env, &Value::UNDEFINED).unwrap();
        assert!(matches!(out, Cow::Borrowed("/users?skip=0&limit=10")));
        assert!(!is_plain("{{ x }}") && !is_plain("{% if a %}{% endif %}") && !is_plain("{# c #}"));
    }

    #[test]
    fn undeclared_variables_exclude_builtins() {
        let mut c = TemplateCompiler::new(&LoadOptions::default());
        let (_, vars) = c
            .compile("/u/{{ ids | random }}/{{ user_id }}/{{ uuid() }}/{{ random_int(1, 2) }}/{{ other }}", &at("k"))
            .unwrap();
        assert_eq!(vars.into_iter().collect::<Vec<_>>(), vec!["ids", "other"]);
    }

    #[test]
    fn sliced_and_subscripted_names_are_variables_unless_bound() {
        let mut c = TemplateCompiler::new(&LoadOptions::default());
        let (_, vars) = c
            .compile(
                "{{ ids[:2] | join(',') }}{{ a.b[0] }}{% for x in rows %}{{ x[1:] }}{% endfor %}{% set y = [1] %}{{ y[0] }}{{ [1, 2][0] }}",
                &at("k"),
            )
            .unwrap();
        assert_eq!(
            vars.into_iter().collect::<Vec<_>>(),
            vec!["a", "ids", "rows"]
        );
    }

    #[test]
    fn syntax_error_is_reported_with_key_and_line() {
        let mut c = TemplateCompiler::new(&LoadOptions::default());
        let err = c
            .compile("a\n{{ x ", &at("users.A.tasks[0].requests[0].path"))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "t.toml:3:1: `users.A.tasks[0].requests[0].path`: template error: syntax error"
            ),
            "{msg}"
        );
        assert!(msg.contains("template line 2"), "{msg}");
    }

    #[test]
    fn builtins_render() {
        let mut vars = UserVars::new(7);
        vars.push("ids", 11, 10);
        vars.push("ids", 12, 10);
        let out = render_one(
            "{{ user_id }}-{{ counter() }}-{{ counter() }}",
            &mut vars,
            1,
        )
        .unwrap();
        assert_eq!(out, "7-1-2");
        assert_eq!(render_one("{{ counter() }}", &mut vars, 1).unwrap(), "3");
        for seed in 0..50 {
            let n: i64 = render_one("{{ random_int(3, 5) }}", &mut vars, seed)
                .unwrap()
                .parse()
                .unwrap();
            assert!((3..=5).contains(&n));
            let id = render_one("{{ ids | random }}", &mut vars, seed).unwrap();
            assert!(id == "11" || id == "12");
            let id = render_one("{{ random_choice(ids) }}", &mut vars, seed).unwrap();
            assert!(id == "11" || id == "12");
        }
        let u = render_one("{{ uuid() }}", &mut vars, 9).unwrap();
        let parsed = uuid::Uuid::parse_str(&u).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(u, render_one("{{ uuid() }}", &mut vars, 10).unwrap());
        assert_eq!(
            render_one(
                "{{ ids | last }} {{ ids | length }} {{ ids[0] }}",
                &mut vars,
                0
            )
            .unwrap(),
            "12 2 11"
        );
    }

    #[test]
    fn render_errors_are_values_not_panics() {
        let mut vars = UserVars::new(0);
        assert!(render_one("{{ missing }}", &mut vars, 0).is_err());
        assert!(render_one("{{ random_int(5, 1) }}", &mut vars, 0).is_err());
        vars.push("ids", 1, 1);
        vars.remove("ids");
        assert!(render_one("{{ random_choice([]) }}", &mut vars, 0).is_err());
    }

    #[test]
    fn env_is_checked_at_compile_time() {
        let mut c = TemplateCompiler::new(&LoadOptions::default());
        let err = c
            .compile(
                "{{ env(\"LOCUST_RS_SURELY_UNSET_VAR\") }}",
                &at("users.A.headers.Authorization"),
            )
            .unwrap_err();
        assert!(matches!(err, ScenarioError::EnvVar { .. }));
        assert!(
            err.to_string()
                .contains("LOCUST_RS_SURELY_UNSET_VAR is not set"),
            "{err}"
        );
        // PATH is set in any test environment.
        let mut vars = UserVars::new(0);
        let out = render_one("{{ env('PATH') }}", &mut vars, 0).unwrap();
        assert_eq!(out, std::env::var("PATH").unwrap());
    }

    /// 2009-02-13T23:31:30.250Z, the RFC 6238 test time 1234567890 plus 250 ms.
    fn fixed_clock() -> Clock {
        Arc::new(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_234_567_890_250))
    }

    fn options(vars: &[(&str, &str)]) -> LoadOptions {
        LoadOptions {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Compiles and renders with `--var`s and the fixed clock.
    fn render_at(src: &str, opts: &LoadOptions) -> Result<String, String> {
        let mut c = TemplateCompiler::with_clock(opts, fixed_clock());
        let (t, _) = c.compile(src, &at("k")).map_err(|e| e.to_string())?;
        let env = c.finish();
        let mut vars = UserVars::new(0);
        vars.set("name", "PATH");
        vars.set("fmt", "%Q");
        vars.set("secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let (ctx, _) = context(&vars, 0);
        t.render(&env, &ctx)
            .map(|s| s.into_owned())
            .map_err(|e| describe(&e))
    }

    fn compile_err(src: &str, opts: &LoadOptions) -> String {
        let mut c = TemplateCompiler::new(opts);
        match c.compile(src, &at("users.A.tasks[0].request.path")) {
            Ok(_) => panic!("{src}: expected a load-time error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn urlencode_is_available() {
        let none = options(&[]);
        assert_eq!(
            render_at(r#"{{ "a b&c" | urlencode }}"#, &none).unwrap(),
            "a%20b%26c"
        );
        assert_eq!(
            render_at(r#"{{ {"q": "x y", "n": 1} | urlencode }}"#, &none).unwrap(),
            "n=1&q=x%20y"
        );
    }

    #[test]
    fn unknown_filters_and_tests_are_load_time_errors() {
        let none = options(&[]);
        let e = compile_err("/u/{{ name | uper }}", &none);
        assert_eq!(
            e,
            "t.toml:3:1: `users.A.tasks[0].request.path`: template error: unknown filter `uper` (template line 1); did you mean `upper`?"
        );
        let e = compile_err("{{ q | urlencod }}", &none);
        assert!(e.ends_with("did you mean `urlencode`?"), "{e}");
        let e = compile_err("a\n{% if x is definied %}{% endif %}", &none);
        assert!(
            e.contains("unknown test `definied` (template line 2); did you mean `defined`?"),
            "{e}"
        );
        let e = compile_err("{{ xs | select('od') | list }}", &none);
        assert!(e.contains("unknown test `od`"), "{e}");
        let e = compile_err("{{ xs | map('uper') | list }}", &none);
        assert!(e.contains("unknown filter `uper`"), "{e}");
        let e = compile_err("{% filter uper %}x{% endfilter %}", &none);
        assert!(e.contains("unknown filter `uper`"), "{e}");
        let e = compile_err("{{ x | frobnicate }}", &none);
        assert!(
            e.ends_with("unknown filter `frobnicate` (template line 1)"),
            "{e}"
        );
        // Inside strings, comments and raw blocks nothing counts; our own filter is known.
        let ok =
            "{{ 'a | uper' }}{# x | uper #}{% raw %}{{ x | uper }}{% endraw %}{{ [1] | random }}";
        assert_eq!(render_at(ok, &none).unwrap(), "a | uper{{ x | uper }}1");
        assert_eq!(
            render_at(
                "{{ 3 is odd }} {{ [1, 2, 3] | select('odd') | list }}",
                &none
            )
            .unwrap(),
            "True [1, 3]"
        );
    }

    #[test]
    fn the_builtin_lists_match_the_crate() {
        let c = TemplateCompiler::new(&options(&[]));
        let env = &c.env;
        for name in CUSTOM_FILTERS.iter().chain(BUILTIN_FILTERS) {
            assert!(
                template_check::provides(&c.env, "filter", name),
                "filter {name}"
            );
            // Rendering it may fail on the argument, never as an unknown filter.
            let src = format!("{{{{ [1, 2] | {name} }}}}");
            if let Err(e) = env.render_str(&src, minijinja::context! {}) {
                assert_ne!(e.kind(), ErrorKind::UnknownFilter, "{name}: {e}");
            }
        }
        for name in BUILTIN_TESTS {
            assert!(
                template_check::provides(&c.env, "test", name),
                "test {name}"
            );
            let src = format!("{{{{ [1, 2] | select({name:?}, 1) | list }}}}");
            if let Err(e) = env.render_str(&src, minijinja::context! {}) {
                assert_ne!(e.kind(), ErrorKind::UnknownTest, "{name}: {e}");
            }
        }
        assert!(
            !template_check::provides(&c.env, "filter", "uper")
                && !template_check::provides(&c.env, "test", "definied")
        );
        // Every builtin function is a global of the finished environment, and every
        // global is a builtin (a function someone adds must be listed, or extracting
        // into its name would shadow it).
        let env = c.finish();
        let globals: BTreeSet<&str> = env.globals().map(|(n, _)| n).collect();
        let listed: BTreeSet<&str> = BUILTIN_FUNCS
            .iter()
            .chain(BUILTIN_VARS.iter().filter(|v| **v != "user_id"))
            .copied()
            .collect();
        assert_eq!(globals, listed);
    }

    #[test]
    fn unknown_functions_are_load_time_errors() {
        let none = options(&[]);
        let e = compile_err("/u/{{ uuidd() }}", &none);
        assert!(
            e.ends_with("unknown function `uuidd()` (template line 1); did you mean `uuid`?"),
            "{e}"
        );
        // Macros and methods are not functions of the environment.
        let ok = "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}{% for i in [1, 2] %}{{ loop.cycle('a', 'b') }}{% endfor %}";
        assert_eq!(render_at(ok, &none).unwrap(), "<1>ab");
    }

    #[test]
    fn env_takes_a_default() {
        let none = options(&[]);
        let unset = "LOCUST_RS_SURELY_UNSET_VAR";
        assert_eq!(
            render_at(&format!("{{{{ env('{unset}', 'dflt') }}}}"), &none).unwrap(),
            "dflt"
        );
        assert_eq!(
            render_at(&format!("{{{{ env('{unset}', default=3) + 1 }}}}"), &none).unwrap(),
            "4"
        );
        let path = std::env::var("PATH").unwrap();
        assert_eq!(render_at("{{ env('PATH', 'x') }}", &none).unwrap(), path);
        // A dynamic name is looked up at run time: unset without a default is an error of
        // that render, with a default it is the default.
        assert_eq!(render_at("{{ env(name) }}", &none).unwrap(), path);
        let e = render_at(&format!("{{{{ env('{unset}' ~ name) }}}}"), &none).unwrap_err();
        assert!(e.contains("is not set"), "{e}");
        assert_eq!(
            render_at(&format!("{{{{ env('{unset}' ~ name, 'd') }}}}"), &none).unwrap(),
            "d"
        );
        let e = render_at("{{ env('PATH', 'a', default='b') }}", &none).unwrap_err();
        assert!(e.contains("default given twice"), "{e}");
    }

    #[test]
    fn clock_functions_read_the_clock() {
        let none = options(&[]);
        let r = |src: &str| render_at(src, &none).unwrap();
        assert_eq!(r("{{ now() }}"), "1234567890.25");
        assert_eq!(r("{{ now() | int }}"), "1234567890");
        assert_eq!(r("{{ timestamp() }}"), "1234567890250");
        assert_eq!(r("{{ timestamp('s') }}"), "1234567890");
        assert_eq!(r("{{ timestamp('us') }}"), "1234567890250000");
        assert_eq!(r("{{ date() }}"), "2009-02-13");
        assert_eq!(r("{{ date('%Y-%m-%dT%H:%M:%S') }}"), "2009-02-13T23:31:30");
        assert_eq!(r("{{ date(format='%H:%M', minutes=30) }}"), "00:01");
        assert_eq!(r("{{ date('%d/%m/%Y', days=1) }}"), "14/02/2009");
        assert_eq!(r("{{ date(days=-1, hours=-1) }}"), "2009-02-12");
        assert_eq!(r("{{ isoformat() }}"), "2009-02-13T23:31:30.250Z");
        assert_eq!(
            r("{{ isoformat(seconds=0.5) }}"),
            "2009-02-13T23:31:30.750Z"
        );
        // RFC 6238's SHA-1 vector at 1234567890 is 89005924 (8 digits).
        assert_eq!(
            r("{{ totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') }}"),
            "005924"
        );
        assert_eq!(r("{{ totp(secret, digits=8) }}"), "89005924");
        // Bad literal arguments stop the load; computed ones fail that render only.
        let e = compile_err("{{ date('%Y-%Q') }}", &none);
        assert!(e.contains("invalid strftime format"), "{e}");
        let e = compile_err("{{ timestamp('h') }}", &none);
        assert!(e.contains("unknown unit; expected one of s, ms, us"), "{e}");
        let e = compile_err("x\n{{ totp('not-base32!') }}", &none);
        assert!(
            e.contains("not base32") && e.ends_with("(template line 2)"),
            "{e}"
        );
        for bad in [
            "{{ date(fmt) }}",
            "{{ date('%Y', weeks=1) }}",
            "{{ date('%Y', format='%Y') }}",
            "{{ totp(secret, digits=12) }}",
            "{{ totp(secret, algorithm='MD5') }}",
            "{{ totp(fmt) }}",
        ] {
            assert!(render_at(bad, &none).is_err(), "{bad}");
        }
    }

    #[test]
    fn vars_come_from_the_load_options() {
        let given = options(&[("TOKEN", "abc"), ("N", "3")]);
        assert_eq!(
            render_at("Bearer {{ vars.TOKEN }} {{ vars['N'] | int + 1 }}", &given).unwrap(),
            "Bearer abc 4"
        );
        let e = compile_err("{{ vars.TOKN }}", &given);
        assert!(
            e.starts_with("t.toml:3:1: `users.A.tasks[0].request.path`: template error: `vars.TOKN` is not set (template line 1): give it with --var TOKN=VALUE"),
            "{e}"
        );
        assert!(e.ends_with("did you mean `vars.TOKEN`?"), "{e}");
        assert!(
            e.contains("a class's own `vars` are read by name, as `{{ TOKN }}`"),
            "{e}"
        );
        let e = compile_err("{{ vars.TOKEN }}", &options(&[]));
        assert!(e.ends_with("(no --var was given)"), "{e}");
        // Guarded reads are optional.
        let none = options(&[]);
        assert_eq!(
            render_at("{{ vars.X | default('d') }}", &none).unwrap(),
            "d"
        );
        let guarded = "{% if vars.X is defined %}{{ vars.X }}{% else %}none{% endif %}";
        assert_eq!(render_at(guarded, &none).unwrap(), "none");
        assert_eq!(render_at(guarded, &options(&[("X", "1")])).unwrap(), "1");
        // `vars` is a builtin: not a variable some step must extract.
        let mut c = TemplateCompiler::new(&given);
        let (_, needs) = c
            .compile("{{ vars.TOKEN }}{{ now() }}{{ other }}", &at("k"))
            .unwrap();
        assert_eq!(needs.into_iter().collect::<Vec<_>>(), ["other"]);
    }
}
