//! minijinja templates: compiled once at load into one `Environment<'static>` (owned
//! sources, strict undefined), the builtin functions (`random_int`, `random_choice`,
//! `| random`, `uuid`, `counter`, `env`, `user_id`), the per-render context, and the
//! fast path: text without `{{`, `{%` or `{#` is never rendered, only reused.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use crate::error::{Location, ScenarioError};
use crate::vars::{Store, UserVars};

/// Variables every template may use without extracting them.
pub(crate) const BUILTIN_VARS: &[&str] = &["user_id"];
/// Functions every template may call (ours plus minijinja's globals).
pub(crate) const BUILTIN_FUNCS: &[&str] = &[
    "random_int",
    "random_choice",
    "uuid",
    "counter",
    "env",
    "range",
    "dict",
    "namespace",
    "debug",
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
}

impl TemplateCompiler {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.add_function("random_int", random_int);
        env.add_function("random_choice", random_choice);
        env.add_filter("random", random_choice);
        env.add_function("uuid", uuid);
        env.add_function("counter", counter);
        TemplateCompiler {
            env,
            env_snapshot: BTreeMap::new(),
        }
    }

    /// Compiles one template; returns it with the non-builtin variables it reads.
    pub fn compile(
        &mut self,
        source: &str,
        at: &Location,
    ) -> Result<(Template, BTreeSet<String>), ScenarioError> {
        if is_plain(source) {
            return Ok((Template::Static(source.into()), BTreeSet::new()));
        }
        self.check_env_calls(source, at)?;
        let name = format!("{}:{}", at.file.display(), at.key);
        self.env
            .add_template_owned(name.clone(), source.to_string())
            .map_err(|e| ScenarioError::Template {
                at: at.clone(),
                message: describe(&e),
            })?;
        let vars = self
            .env
            .get_template(&name)
            .map(|t| t.undeclared_variables(false))
            .unwrap_or_default()
            .into_iter()
            .filter(|v| !BUILTIN_VARS.contains(&v.as_str()) && !BUILTIN_FUNCS.contains(&v.as_str()))
            .collect();
        Ok((Template::Dynamic(name.into()), vars))
    }

    /// `env("NAME")` with a literal name is checked now, so a missing variable stops the
    /// run before the first request; the value is snapshotted.
    fn check_env_calls(&mut self, source: &str, at: &Location) -> Result<(), ScenarioError> {
        let Some(re) = env_call_regex() else {
            return Ok(());
        };
        for cap in re.captures_iter(source) {
            let Some(name) = cap.get(1).or_else(|| cap.get(2)) else {
                continue;
            };
            let name = name.as_str();
            match std::env::var(name) {
                Ok(value) => {
                    self.env_snapshot.insert(name.to_string(), value);
                }
                Err(_) => {
                    return Err(ScenarioError::EnvVar {
                        at: at.clone(),
                        var: name.to_string(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Adds `env()` (with the snapshot) and freezes the environment.
    pub fn finish(mut self) -> Arc<Environment<'static>> {
        let snapshot = self.env_snapshot;
        self.env
            .add_function("env", move |name: &str| -> Result<String, Error> {
                match snapshot.get(name) {
                    Some(v) => Ok(v.clone()),
                    None => std::env::var(name).map_err(|_| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("environment variable {name} is not set"),
                        )
                    }),
                }
            });
        Arc::new(self.env)
    }
}

fn env_call_regex() -> Option<&'static regex::Regex> {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r#"\benv\(\s*(?:"([^"]*)"|'([^']*)')\s*\)"#).ok())
        .as_ref()
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
            _ => self.store.scalars.get(key).cloned().or_else(|| {
                self.store
                    .lists
                    .get(key)
                    .map(|l| Value::from_dyn_object(l.clone()))
            }),
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
        let mut c = TemplateCompiler::new();
        let (t, _) = c.compile(src, &at("k")).unwrap();
        let env = c.finish();
        let (ctx, rt) = context(vars, seed);
        let out = t.render(&env, &ctx).map(|s| s.into_owned());
        vars.counter = rt.counter.load(Ordering::Relaxed);
        out
    }

    #[test]
    fn plain_text_is_static_and_never_rendered() {
        let mut c = TemplateCompiler::new();
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
        let mut c = TemplateCompiler::new();
        let (_, vars) = c
            .compile("/u/{{ ids | random }}/{{ user_id }}/{{ uuid() }}/{{ random_int(1, 2) }}/{{ other }}", &at("k"))
            .unwrap();
        assert_eq!(vars.into_iter().collect::<Vec<_>>(), vec!["ids", "other"]);
    }

    #[test]
    fn syntax_error_is_reported_with_key_and_line() {
        let mut c = TemplateCompiler::new();
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
        let mut c = TemplateCompiler::new();
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
}
