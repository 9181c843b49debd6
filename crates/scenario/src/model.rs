//! Serde types mirroring the TOML scenario format one to one (see docs/scenario-format.md).
//! No validation beyond what serde does: unknown keys are rejected here
//! (`deny_unknown_fields`), everything semantic is checked in `compile.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileDef {
    #[serde(default)]
    pub users: BTreeMap<String, Spanned<ClassDef>>,
    /// `[[setup]]`: steps run once before any user starts (Locust's `test_start`); what
    /// they extract every user can read.
    #[serde(default)]
    pub setup: Vec<Spanned<RequestDef>>,
    /// `[[teardown]]`: steps run once after the last user stopped (`test_stop`).
    #[serde(default)]
    pub teardown: Vec<Spanned<RequestDef>>,
    /// `[feeders.<name>]`: rows of a CSV or JSON file handed to users (`feeder.rs`).
    #[serde(default)]
    pub feeders: BTreeMap<String, Spanned<crate::feeder::FeederDef>>,
}

/// `[users.<ClassName>]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassDef {
    pub weight: Option<Spanned<f64>>,
    pub fixed_count: Option<Spanned<i64>>,
    pub wait_time: Option<Spanned<String>>,
    pub host: Option<Spanned<String>>,
    #[serde(default)]
    pub headers: Pairs<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Per-user variables set when the user starts, without a request.
    #[serde(default)]
    pub vars: Pairs<Spanned<String>>,
    /// Locust's SequentialTaskSet: tasks run in written order, one after the other.
    pub sequential: Option<Spanned<bool>>,
    #[serde(default)]
    pub on_start: Vec<Spanned<RequestDef>>,
    #[serde(default)]
    pub on_stop: Vec<Spanned<RequestDef>>,
    #[serde(default)]
    pub tasks: Vec<Spanned<TaskDef>>,
}

/// `[[users.<ClassName>.tasks]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskDef {
    pub name: Option<Spanned<String>>,
    pub weight: Option<Spanned<i64>>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub request: Option<Spanned<RequestDef>>,
    /// The task's steps, in order (`steps`, or `requests` as before).
    #[serde(alias = "steps")]
    pub requests: Option<Vec<Spanned<RequestDef>>>,
    /// A failed request ends the task (Locust goes on with the task's next line).
    pub stop_on_failure: Option<Spanned<bool>>,
    /// Markov chain: the tasks that may follow this one, with weights (`chain.rs`).
    pub next: Option<Spanned<crate::chain::NextDef>>,
}

/// One step of a task, `on_start`, `on_stop`, `setup` or `teardown`: an HTTP request
/// (it has a `path`), or a pause (`think`), variables set without a request (`set`), a
/// condition (`if` with `then`/`else`, or on a request), or a loop (`repeat`/`for` with
/// `steps`). Which keys go together is checked in `action_compile.rs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestDef {
    pub method: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    /// A pause: a number of seconds or a wait_time text (`between(1, 3)`).
    pub think: Option<Spanned<toml::Value>>,
    pub set: Option<Spanned<Pairs<Spanned<String>>>>,
    #[serde(rename = "if")]
    pub condition: Option<Spanned<String>>,
    pub then: Option<Vec<Spanned<RequestDef>>>,
    #[serde(rename = "else")]
    pub otherwise: Option<Vec<Spanned<RequestDef>>>,
    pub repeat: Option<Spanned<i64>>,
    #[serde(rename = "for")]
    pub for_each: Option<Spanned<ForDef>>,
    pub steps: Option<Vec<Spanned<RequestDef>>>,
    /// `group = "name"` with `steps`: the steps timed as one stats row (`measure.rs`).
    pub group: Option<Spanned<String>>,
    /// `metric = "name"` with `value`: a number recorded as a stats row (`measure.rs`).
    pub metric: Option<Spanned<String>>,
    pub value: Option<Spanned<toml::Value>>,
    /// `fail = "message"`: the task raises an exception with this message (`raise.rs`).
    pub fail: Option<Spanned<toml::Value>>,
    /// `stop_user = true`: the user stops for good, after its on_stop (`raise.rs`).
    pub stop_user: Option<Spanned<toml::Value>>,
    /// On a request: a failure ends the task.
    pub stop_on_failure: Option<Spanned<bool>>,
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub headers: Pairs<Spanned<String>>,
    #[serde(default)]
    pub query: Pairs<Spanned<toml::Value>>,
    pub json: Option<Spanned<toml::Value>>,
    pub body: Option<Spanned<String>>,
    /// requests' `data=dict`: fields form-encoded in written order, or multipart fields
    /// (sent before the files) with `files`.
    pub form: Option<Spanned<Pairs<Spanned<toml::Value>>>>,
    /// requests' `files=`: field name -> path, `{ path, filename, content_type }`, or a
    /// list of them; sent as `multipart/form-data`.
    pub files: Option<Spanned<Pairs<Spanned<toml::Value>>>>,
    /// The body read from a file at load and sent as is: a path or `{ path, content_type }`.
    pub body_file: Option<Spanned<toml::Value>>,
    pub success_status: Option<Spanned<Vec<i64>>>,
    #[serde(default)]
    pub checks: Vec<Spanned<CheckDef>>,
    #[serde(default)]
    pub extract: Vec<Spanned<ExtractDef>>,
    /// requests' `allow_redirects`: `false` records the 3xx itself.
    pub allow_redirects: Option<Spanned<bool>>,
    /// requests' `timeout`: seconds, or `{ connect = s, read = s }`.
    pub timeout: Option<Spanned<toml::Value>>,
    /// requests' `cookies=`: sent with this request after the jar's, never stored.
    #[serde(default)]
    pub cookies: Pairs<Spanned<toml::Value>>,
    /// `barrier = "spawned"`: wait until the current ramp has started every user.
    pub barrier: Option<Spanned<String>>,
    /// `set_cookie = { name, value, domain, path }`: a cookie into the user's jar.
    pub set_cookie: Option<Spanned<crate::cookie::SetCookieDef>>,
    /// `feed = "users"`: the user's next row of a feeder, into a variable (`feeder.rs`).
    pub feed: Option<Spanned<String>>,
    /// With `feed`: the variable the row goes into (default: the feeder's name).
    #[serde(rename = "as")]
    pub feed_as: Option<Spanned<String>>,
}

/// `for = { var = "id", in = "ids" }`: the steps once per item of a list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForDef {
    pub var: String,
    #[serde(rename = "in")]
    pub items: String,
}

/// One entry of `checks`: one subject (`json`, `header`, `cookie`, `css`,
/// `body_contains`, `body_matches`, `status`, `url`, `url_contains` or `expr`), the tests
/// on its value, an optional `if` and `message`. Unknown keys are collected in `unknown`
/// (not denied by serde) so that `Check::compile` reports them with their full path and a
/// did-you-mean.
#[derive(Debug, Deserialize)]
pub(crate) struct CheckDef {
    pub json: Option<String>,
    pub header: Option<String>,
    pub cookie: Option<String>,
    pub css: Option<String>,
    pub attr: Option<String>,
    pub body_contains: Option<String>,
    pub body_matches: Option<String>,
    pub status: Option<toml::Value>,
    pub url: Option<String>,
    pub url_contains: Option<String>,
    pub expr: Option<String>,
    pub equals: Option<toml::Value>,
    pub ne: Option<toml::Value>,
    pub lt: Option<toml::Value>,
    pub le: Option<toml::Value>,
    pub gt: Option<toml::Value>,
    pub ge: Option<toml::Value>,
    pub contains: Option<toml::Value>,
    pub matches: Option<String>,
    #[serde(rename = "in")]
    pub one_of: Option<Vec<toml::Value>>,
    pub exists: Option<bool>,
    #[serde(rename = "if")]
    pub condition: Option<String>,
    pub message: Option<String>,
    #[serde(flatten)]
    pub unknown: toml::Table,
}

/// One entry of `extract`: a variable name, exactly one source (`json`, `header`,
/// `regex`, `css`, `cookie`) and how to take its matches (`all`, `pick`, `append`).
/// Unknown keys are collected in `unknown`, reported by `Extract::compile`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExtractDef {
    pub var: String,
    pub json: Option<String>,
    pub header: Option<String>,
    pub regex: Option<String>,
    pub group: Option<usize>,
    pub css: Option<String>,
    pub attr: Option<String>,
    pub cookie: Option<String>,
    #[serde(default)]
    pub all: bool,
    pub pick: Option<String>,
    #[serde(default)]
    pub append: bool,
    pub max: Option<usize>,
    #[serde(flatten)]
    pub unknown: toml::Table,
}

/// A TOML table read as an ordered list of pairs (document order), so that
/// `query = { skip = 0, limit = 10 }` renders as `?skip=0&limit=10`.
#[derive(Debug)]
pub(crate) struct Pairs<V>(pub Vec<(String, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        deserializer.deserialize_map(PairsVisitor(PhantomData))
    }
}
