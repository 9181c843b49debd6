//! The load-time checks of what a template uses, so that a mistake stops the load
//! rather than failing every request: unknown filters, tests and functions (with a
//! did-you-mean among the builtin lists kept here), unset `env("NAME")` (and the snapshot
//! of those that are set), bad literal arguments of the clock functions, and `vars.KEY`
//! without `--var KEY=...`. What a template uses is found by `template_scan.rs`.

use std::collections::{BTreeMap, HashSet};

use minijinja::Environment;

use crate::clock;
use crate::error::{did_you_mean, Location, ScenarioError};
use crate::source::suggest;
use crate::template_funcs::BUILTIN_FUNCS;
use crate::template_scan;

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

/// True when the environment has this filter (`"filter"`) or test (`"test"`): asked
/// of minijinja itself (`name is filter`), so the answer cannot drift from the crate.
pub(crate) fn provides(env: &Environment<'static>, kind: &str, name: &str) -> bool {
    let expr = if kind == "filter" {
        "name is filter"
    } else {
        "name is test"
    };
    env.compile_expression(expr)
        .and_then(|e| e.eval(minijinja::context! { name }))
        .is_ok_and(|v| v.is_true())
}

/// Every `| filter` and `is test` must exist; minijinja would only say so when the
/// template renders, for every request.
pub(crate) fn check_filters_and_tests(
    env: &Environment<'static>,
    source: &str,
    uses: &template_scan::Uses<'_>,
    at: &Location,
) -> Result<(), ScenarioError> {
    let kinds = [
        ("filter", &uses.filters, CUSTOM_FILTERS, BUILTIN_FILTERS),
        ("test", &uses.tests, &[][..], BUILTIN_TESTS),
    ];
    for (kind, found, ours, builtin) in kinds {
        if let Some(u) = found.iter().find(|u| !provides(env, kind, u.name)) {
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
pub(crate) fn check_literal_calls(
    env_snapshot: &mut BTreeMap<String, String>,
    source: &str,
    uses: &template_scan::Uses<'_>,
    at: &Location,
) -> Result<(), ScenarioError> {
    let bad = |call: &template_scan::LiteralCall<'_>, message: String| ScenarioError::Template {
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
                    env_snapshot.insert(call.arg.to_string(), value);
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
pub(crate) fn check_vars(
    vars: &BTreeMap<String, String>,
    source: &str,
    uses: &template_scan::Uses<'_>,
    at: &Location,
) -> Result<(), ScenarioError> {
    let guarded = |key: &str| uses.vars.iter().any(|v| v.key == key && v.guarded);
    let Some(missing) = uses
        .vars
        .iter()
        .find(|v| !vars.contains_key(v.key) && !guarded(v.key))
    else {
        return Ok(());
    };
    let key = missing.key;
    let given = match suggest(key, vars.keys().map(String::as_str)) {
        Some(close) => format!("; did you mean `vars.{close}`?"),
        None if vars.is_empty() => " (no --var was given)".to_string(),
        None => String::new(),
    };
    Err(ScenarioError::Template {
        at: at.clone(),
        message: format!(
            "`vars.{key}` is not set (template line {}): give it with --var {key}=VALUE or `var = [\"{key}=...\"]` in locust.toml, or write `vars.{key} | default(...)`; a class's own `vars` are read by name, as `{{{{ {key} }}}}`{given}",
            template_scan::line_of(source, missing.at)
        ),
    })
}

/// A called name that is neither a builtin function nor defined in the template (a
/// macro) is unknown; the undefined-variable check would only call it a variable.
pub(crate) fn check_functions(
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
