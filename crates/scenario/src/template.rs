//! minijinja templates: compiled once at load into one `Environment<'static>` (owned
//! sources, strict undefined), the builtin functions (`random_int`, `random_choice`,
//! `| random`, `uuid`, `counter`, `env`, `user_id`, the clock functions of `clock.rs`,
//! `vars` from `--var`), the load-time checks of what a template uses (unknown filters,
//! tests and functions, unset `env()`/`vars`, bad literal arguments; see
//! `template_scan.rs`), the per-render context, and the fast path: text without `{{`,
//! `{%` or `{#` is never rendered, only reused.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use crate::clock;
use crate::error::{did_you_mean, Location, ScenarioError};
use crate::source::suggest;
use crate::template_scan;
use crate::vars::{Store, UserVars};
use crate::LoadOptions;

/// Variables every template may use without extracting them (`vars` holds `--var`s).
pub(crate) const BUILTIN_VARS: &[&str] = &["user_id", "vars"];
/// Functions every template may call (ours plus minijinja's globals).
pub(crate) const BUILTIN_FUNCS: &[&str] = &[
    "random_int",
    "random_choice",
    "uuid",
    "counter",
    "env",
    "now",
    "timestamp",
    "date",
    "isoformat",
    "totp",
    "range",
    "dict",
    "namespace",
    "debug",
];
/// Filters we add to minijinja's.
pub(crate) const CUSTOM_FILTERS: &[&str] = &["random"];
/// minijinja's builtin filters (2.x with the `builtins`, `json` and `urlencode`
/// features), for did-you-mean suggestions; a test renders each so the list cannot name
/// one the crate lacks. Whether a filter exists is asked of minijinja itself.
pub(crate) const BUILTIN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];
/// minijinja's builtin tests (`x is odd`, `select("odd")`), as [`BUILTIN_FILTERS`].
pub(crate) const BUILTIN_TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
];
/// Hidden context key through which functions reach the per-render state.
const RT_KEY: &str = "__locust_rt";

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
            Template::Dynamic(name) => env.get_template(name)?.render(ctx).map(Cow::Owned),
        }
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
        env.add_function("random_int", random_int);
        env.add_function("random_choice", random_choice);
        env.add_filter("random", random_choice);
        env.add_function("uuid", uuid);
        env.add_function("counter", counter);
        add_clock_functions(&mut env, &clock);
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
        self.check_filters_and_tests(source, &uses, at)?;
        check_functions(source, &uses, &undeclared, at)?;
        self.check_literal_calls(source, &uses, at)?;
        self.check_vars(source, &uses, at)?;
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

    /// True when the environment has this filter (`"filter"`) or test (`"test"`): asked
    /// of minijinja itself (`name is filter`), so the answer cannot drift from the crate.
    fn provides(&self, kind: &str, name: &str) -> bool {
        let expr = if kind == "filter" {
            "name is filter"
        } else {
            "name is test"
        };
        self.env
            .compile_expression(expr)
            .and_then(|e| e.eval(minijinja::context! { name }))
            .is_ok_and(|v| v.is_true())
    }

    /// Every `| filter` and `is test` must exist; minijinja would only say so when the
    /// template renders, for every request.
    fn check_filters_and_tests(
        &self,
        source: &str,
        uses: &template_scan::Uses<'_>,
        at: &Location,
    ) -> Result<(), ScenarioError> {
        let kinds = [
            ("filter", &uses.filters, CUSTOM_FILTERS, BUILTIN_FILTERS),
            ("test", &uses.tests, &[][..], BUILTIN_TESTS),
        ];
        for (kind, found, ours, builtin) in kinds {
            if let Some(u) = found.iter().find(|u| !self.provides(kind, u.name)) {
                let candidates = ours.iter().chain(builtin).copied();
                return Err(ScenarioError::Template {
                    at: at.clone(),
                    message: format!(
                        "unknown {kind} `{}` (template line {}){}",
                        u.name,
                        template_scan::line_of(source, u.at),
                        did_you_mean(&suggest(u.name, candidates))
                    ),
                });
            }
        }
        Ok(())
    }

    /// Literal first arguments are checked now: `env("NAME")` must be set (unless a
    /// default follows) and is snapshotted; `date("%Q")`, `timestamp("h")` and
    /// `totp("not base32")` would fail every request.
    fn check_literal_calls(
        &mut self,
        source: &str,
        uses: &template_scan::Uses<'_>,
        at: &Location,
    ) -> Result<(), ScenarioError> {
        let bad =
            |call: &template_scan::LiteralCall<'_>, message: String| ScenarioError::Template {
                at: at.clone(),
                message: format!(
                    "{message} (template line {})",
                    template_scan::line_of(source, call.at)
                ),
            };
        for call in &uses.literal_calls {
            match call.function {
                "env" => match std::env::var(call.arg) {
                    Ok(value) => {
                        self.env_snapshot.insert(call.arg.to_string(), value);
                    }
                    Err(_) if call.more => {}
                    Err(_) => {
                        return Err(ScenarioError::EnvVar {
                            at: at.clone(),
                            var: call.arg.to_string(),
                        })
                    }
                },
                "date" => clock::check_format(call.arg).map_err(|m| bad(call, m))?,
                "timestamp" if !clock::TIMESTAMP_UNITS.contains(&call.arg) => {
                    return Err(bad(call, clock::unknown_unit(call.arg)))
                }
                "totp" => {
                    clock::decode_secret(call.arg).map_err(|m| bad(call, m))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `vars.KEY` needs `--var KEY=VALUE`, unless the template guards it with
    /// `| default(...)` or `is defined` somewhere.
    fn check_vars(
        &self,
        source: &str,
        uses: &template_scan::Uses<'_>,
        at: &Location,
    ) -> Result<(), ScenarioError> {
        let guarded = |key: &str| uses.vars.iter().any(|v| v.key == key && v.guarded);
        let Some(missing) = uses
            .vars
            .iter()
            .find(|v| !self.vars.contains_key(v.key) && !guarded(v.key))
        else {
            return Ok(());
        };
        let key = missing.key;
        let given = match suggest(key, self.vars.keys().map(String::as_str)) {
            Some(close) => format!("; did you mean `vars.{close}`?"),
            None if self.vars.is_empty() => " (no --var was given)".to_string(),
            None => String::new(),
        };
        Err(ScenarioError::Template {
            at: at.clone(),
            message: format!(
                "`vars.{key}` is not set (template line {}): give it with --var {key}=VALUE or `var = [\"{key}=...\"]` in locust.toml, or write `vars.{key} | default(...)`{given}",
                template_scan::line_of(source, missing.at)
            ),
        })
    }

    /// Adds `env()` (with the snapshot) and freezes the environment.
    pub fn finish(mut self) -> Arc<Environment<'static>> {
        let snapshot = self.env_snapshot;
        self.env.add_function(
            "env",
            move |name: &str, default: Option<Value>, kwargs: Kwargs| -> Result<Value, Error> {
                let default = match (default, kwargs.get::<Option<Value>>("default")?) {
                    (Some(_), Some(_)) => return Err(invalid("env(): default given twice")),
                    (positional, keyword) => positional.or(keyword),
                };
                kwargs.assert_all_used()?;
                if let Some(v) = snapshot.get(name) {
                    return Ok(Value::from(v.as_str()));
                }
                match (std::env::var(name), default) {
                    (Ok(v), _) => Ok(Value::from(v)),
                    (Err(_), Some(default)) => Ok(default),
                    (Err(_), None) => {
                        Err(invalid(format!("environment variable {name} is not set")))
                    }
                }
            },
        );
        Arc::new(self.env)
    }
}

/// Where the clock functions read the time.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// A called name that is neither a builtin function nor defined in the template (a
/// macro) is unknown; the undefined-variable check would only call it a variable.
fn check_functions(
    source: &str,
    uses: &template_scan::Uses<'_>,
    undeclared: &HashSet<String>,
    at: &Location,
) -> Result<(), ScenarioError> {
    let unknown = uses
        .calls
        .iter()
        .find(|c| undeclared.contains(c.name) && !BUILTIN_FUNCS.contains(&c.name));
    match unknown {
        None => Ok(()),
        Some(call) => Err(ScenarioError::Template {
            at: at.clone(),
            message: format!(
                "unknown function `{}()` (template line {}){}",
                call.name,
                template_scan::line_of(source, call.at),
                did_you_mean(&suggest(call.name, BUILTIN_FUNCS.iter().copied()))
            ),
        }),
    }
}

/// `days=`, `hours=`, `minutes=`, `seconds=` of `date()` and `isoformat()`, in seconds.
fn offset_seconds(kwargs: &Kwargs) -> Result<f64, Error> {
    let mut total = 0.0;
    for (key, unit) in [
        ("days", 86_400.0),
        ("hours", 3_600.0),
        ("minutes", 60.0),
        ("seconds", 1.0),
    ] {
        if let Some(n) = kwargs.get::<Option<f64>>(key)? {
            total += n * unit;
        }
    }
    Ok(total)
}

/// `now()`, `timestamp(unit)`, `date(format)`, `isoformat()` and `totp(secret)`, reading
/// the time from `clock` at each call (see `clock.rs`).
fn add_clock_functions(env: &mut Environment<'static>, clock: &Clock) {
    let c = clock.clone();
    env.add_function("now", move || clock::epoch_seconds(c()));
    let c = clock.clone();
    env.add_function("timestamp", move |unit: Option<&str>| {
        clock::timestamp(c(), unit.unwrap_or("ms")).map_err(invalid)
    });
    let c = clock.clone();
    env.add_function(
        "date",
        move |format: Option<&str>, kwargs: Kwargs| -> Result<String, Error> {
            let keyword = kwargs.get::<Option<&str>>("format")?;
            let offset = offset_seconds(&kwargs)?;
            kwargs.assert_all_used()?;
            let format = match (format, keyword) {
                (Some(_), Some(_)) => return Err(invalid("date(): format given twice")),
                (positional, keyword) => {
                    positional.or(keyword).unwrap_or(clock::DEFAULT_DATE_FORMAT)
                }
            };
            let at = clock::utc(c(), offset).map_err(invalid)?;
            clock::format_utc(at, format).map_err(invalid)
        },
    );
    let c = clock.clone();
    env.add_function(
        "isoformat",
        move |kwargs: Kwargs| -> Result<String, Error> {
            let offset = offset_seconds(&kwargs)?;
            kwargs.assert_all_used()?;
            Ok(clock::isoformat(clock::utc(c(), offset).map_err(invalid)?))
        },
    );
    let c = clock.clone();
    env.add_function(
        "totp",
        move |secret: &str, kwargs: Kwargs| -> Result<String, Error> {
            let defaults = clock::TotpParams::default();
            let params = clock::TotpParams {
                digits: kwargs
                    .get::<Option<u8>>("digits")?
                    .unwrap_or(defaults.digits),
                period: kwargs
                    .get::<Option<u64>>("period")?
                    .unwrap_or(defaults.period),
                algorithm: kwargs
                    .get::<Option<String>>("algorithm")?
                    .unwrap_or(defaults.algorithm),
            };
            kwargs.assert_all_used()?;
            clock::totp(secret, c(), &params).map_err(invalid)
        },
    );
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

/// Per-render state reached by the builtin functions: a splitmix64 stream seeded from
/// the caller's rng, and the user's counter.
#[derive(Debug)]
pub(crate) struct RenderRt {
    rng: AtomicU64,
    pub counter: AtomicU64,
}

impl Object for RenderRt {}

impl RenderRt {
    fn next_u64(&self) -> u64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self
            .rng
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, n).
    fn below(&self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

/// The root context of one render: the user's variables and the render state.
#[derive(Debug)]
struct Ctx {
    store: Arc<Store>,
    rt: Arc<RenderRt>,
}

impl Object for Ctx {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        match key {
            "user_id" => Some(Value::from(self.store.user_id)),
            RT_KEY => Some(Value::from_dyn_object(self.rt.clone())),
            _ => self.store.lookup(key),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

/// A render context for `vars`; `seed` drives the random functions.
pub(crate) fn context(vars: &UserVars, seed: u64) -> (Value, Arc<RenderRt>) {
    let rt = Arc::new(RenderRt {
        rng: AtomicU64::new(seed),
        counter: AtomicU64::new(vars.counter),
    });
    let ctx = Ctx {
        store: vars.store.clone(),
        rt: rt.clone(),
    };
    (Value::from_object(ctx), rt)
}

fn rt(state: &State<'_, '_>) -> Result<Arc<RenderRt>, Error> {
    state
        .lookup(RT_KEY)
        .and_then(|v| v.downcast_object::<RenderRt>())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "render state missing"))
}

/// `random_int(a, b)`: uniform integer in [a, b], both ends included (Python's randint).
fn random_int(state: &State<'_, '_>, a: i64, b: i64) -> Result<i64, Error> {
    if a > b {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("random_int({a}, {b}): the first bound must not exceed the second"),
        ));
    }
    let span = (b as i128 - a as i128 + 1) as u128;
    let r = rt(state)?;
    let pick = if span > u64::MAX as u128 {
        r.next_u64() as i128
    } else {
        r.below(span as u64) as i128
    };
    Ok((a as i128 + pick) as i64)
}

/// `random_choice(list)` and `list | random`: one item, uniformly.
fn random_choice(state: &State<'_, '_>, seq: Value) -> Result<Value, Error> {
    let len = seq.len().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("random_choice needs a list, got {}", seq.kind()),
        )
    })?;
    if len == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "random_choice of an empty list",
        ));
    }
    let i = rt(state)?.below(len as u64) as usize;
    seq.get_item_by_index(i)
}

/// `uuid()`: a random (v4) UUID as text, drawn from the render's rng.
fn uuid(state: &State<'_, '_>) -> Result<String, Error> {
    let r = rt(state)?;
    let bits = (r.next_u64() as u128) << 64 | r.next_u64() as u128;
    Ok(uuid::Builder::from_random_bytes(bits.to_le_bytes())
        .into_uuid()
        .to_string())
}

/// `counter()`: 1, 2, 3, ... per user, across all of its renders.
fn counter(state: &State<'_, '_>) -> Result<u64, Error> {
    Ok(rt(state)?.counter.fetch_add(1, Ordering::Relaxed) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
            assert!(c.provides("filter", name), "filter {name}");
            // Rendering it may fail on the argument, never as an unknown filter.
            let src = format!("{{{{ [1, 2] | {name} }}}}");
            if let Err(e) = env.render_str(&src, minijinja::context! {}) {
                assert_ne!(e.kind(), ErrorKind::UnknownFilter, "{name}: {e}");
            }
        }
        for name in BUILTIN_TESTS {
            assert!(c.provides("test", name), "test {name}");
            let src = format!("{{{{ [1, 2] | select({name:?}, 1) | list }}}}");
            if let Err(e) = env.render_str(&src, minijinja::context! {}) {
                assert_ne!(e.kind(), ErrorKind::UnknownTest, "{name}: {e}");
            }
        }
        assert!(!c.provides("filter", "uper") && !c.provides("test", "definied"));
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
