//! The builtin functions of every template (`random_int`, `random_choice` and
//! `| random`, `uuid`, `counter`, `env`, and the clock functions `now`, `timestamp`,
//! `date`, `isoformat` and `totp` over `clock.rs`), the names every template may use
//! without extracting them, and the per-render state the functions read: the render's
//! rng stream, the user's counter, and the root context over the user's variables.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::clock;
use crate::vars::{Store, UserVars};

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
/// Hidden context key through which functions reach the per-render state.
const RT_KEY: &str = "__locust_rt";

/// Where the clock functions read the time.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Adds every builtin function but `env()` (added at the end, with its snapshot), the
/// clock functions reading `clock`.
pub(crate) fn add_functions(env: &mut Environment<'static>, clock: &Clock) {
    env.add_function("random_int", random_int);
    env.add_function("random_choice", random_choice);
    env.add_filter("random", random_choice);
    env.add_function("uuid", uuid);
    env.add_function("counter", counter);
    add_clock_functions(env, clock);
}

/// Adds `env(name, default)`: a name checked at load is read from `snapshot`, any other
/// from the process environment at the call.
pub(crate) fn add_env(env: &mut Environment<'static>, snapshot: BTreeMap<String, String>) {
    env.add_function(
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
                (Err(_), None) => Err(invalid(format!("environment variable {name} is not set"))),
            }
        },
    );
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
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
