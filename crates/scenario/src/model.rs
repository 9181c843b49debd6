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
    pub requests: Option<Vec<Spanned<RequestDef>>>,
}

/// One HTTP request: a task's `request`, an entry of `requests`, `on_start` or `on_stop`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestDef {
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub headers: Pairs<Spanned<String>>,
    #[serde(default)]
    pub query: Pairs<Spanned<toml::Value>>,
    pub json: Option<Spanned<toml::Value>>,
    pub body: Option<Spanned<String>>,
    pub success_status: Option<Spanned<Vec<i64>>>,
    #[serde(default)]
    pub checks: Vec<Spanned<CheckDef>>,
    #[serde(default)]
    pub extract: Vec<Spanned<ExtractDef>>,
    /// requests' `allow_redirects`: `false` records the 3xx itself.
    pub allow_redirects: Option<Spanned<bool>>,
    /// requests' `timeout`: seconds, or `{ connect = s, read = s }`.
    pub timeout: Option<Spanned<toml::Value>>,
}

/// One entry of `checks`: a subject (`json`, `header` or `body_contains`) and a test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckDef {
    pub json: Option<String>,
    pub header: Option<String>,
    pub body_contains: Option<String>,
    pub equals: Option<toml::Value>,
    pub exists: Option<bool>,
    pub message: Option<String>,
}

/// One entry of `extract`: a variable name and exactly one source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtractDef {
    pub var: String,
    pub json: Option<String>,
    pub header: Option<String>,
    pub regex: Option<String>,
    pub group: Option<usize>,
    #[serde(default)]
    pub append: bool,
    pub max: Option<usize>,
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
