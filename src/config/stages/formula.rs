//! Formula stages: `users = "<expression>"` (and `spawn-rate` as one) compiled with
//! minijinja's expression compiler into the engine's [`Formula`], before any request.
//! An expression knows `t` (seconds since the shape started, a float: whole seconds
//! unless a stage waited for its users) and `stage_t` (seconds since its stage
//! started), the constants `e` and `pi`, and the functions below; it has minijinja's
//! arithmetic (`+ - * / // % **`, where `/` is always a float division), comparisons
//! and `a if cond else b`. Unlike Python, `-x ** 2` is `(-x) ** 2` and `**` groups
//! left to right: use parentheses.

use std::sync::OnceLock;
use std::time::Duration;

use locust_engine::Formula;
use minijinja::value::Rest;
use minijinja::{context, Environment, Error, ErrorKind, Value};

/// The variables of an expression.
pub(crate) const VARIABLES: &[&str] = &["t", "stage_t"];
/// A spawn rate's variables: also the count the stage's formula gives at that tick.
const RATE_VARIABLES: &[&str] = &["t", "stage_t", "users"];
/// Its constants.
const CONSTANTS: &[&str] = &["e", "pi"];
/// Its functions.
pub(crate) const FUNCTIONS: &[&str] = &[
    "exp", "log", "sqrt", "sin", "cos", "tan", "abs", "min", "max", "floor", "ceil", "round",
];

/// True when `text` is meant as an expression rather than a plain number (which the
/// caller parses, with its own errors for a negative or fractional count).
pub(crate) fn is_expression(text: &str) -> bool {
    text.trim().parse::<f64>().is_err()
}

/// The one environment: no filters, tests or globals but the math above.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::empty();
        env.add_global("e", std::f64::consts::E);
        env.add_global("pi", std::f64::consts::PI);
        env.add_function("exp", |x: f64| x.exp());
        // Python's math.log: natural, or in `base`.
        env.add_function("log", |x: f64, base: Option<f64>| match base {
            None => x.ln(),
            Some(base) => x.ln() / base.ln(),
        });
        env.add_function("sqrt", |x: f64| x.sqrt());
        env.add_function("sin", |x: f64| x.sin());
        env.add_function("cos", |x: f64| x.cos());
        env.add_function("tan", |x: f64| x.tan());
        env.add_function("abs", |x: f64| x.abs());
        env.add_function("floor", |x: f64| x.floor());
        env.add_function("ceil", |x: f64| x.ceil());
        // Python's round(): to the nearest, halves to even.
        env.add_function("round", |x: f64| x.round_ties_even());
        env.add_function("min", |xs: Rest<f64>| extreme(&xs, f64::min, "min"));
        env.add_function("max", |xs: Rest<f64>| extreme(&xs, f64::max, "max"));
        env
    })
}

fn extreme(xs: &[f64], pick: fn(f64, f64) -> f64, name: &str) -> Result<f64, Error> {
    let (first, rest) = xs.split_first().ok_or_else(|| {
        Error::new(
            ErrorKind::MissingArgument,
            format!("{name}() needs at least one number"),
        )
    })?;
    Ok(rest.iter().copied().fold(*first, pick))
}

/// The first key of a stage that does not go with its formulas, and why.
pub(crate) fn conflict(keys: &super::Keys) -> Option<(&'static str, String)> {
    if keys.users_formula.is_none() {
        return keys.spawn_rate_formula.is_some().then(|| {
            let message = "a spawn rate computed by an expression needs a formula stage: give \
                           `users` as an expression too";
            ("spawn-rate", message.to_string())
        });
    }
    let given = [
        ("ramp", keys.ramp.is_some()),
        ("step", keys.step.is_some()),
        ("from", keys.from.is_some()),
        ("every", keys.every.is_some()),
    ];
    let (key, _) = given.into_iter().find(|(_, given)| *given)?;
    let message = format!(
        "a formula stage (`users` as an expression) computes its count: it takes no `{key}`"
    );
    Some((key, message))
}

/// A formula stage's spawn rate until its `spawn-rate` expression gives one > 0: its
/// value at the stage's start (`start` since the shape started, as if no stage waited).
pub(crate) fn start_rate(rate: &Formula, users: &Formula, start: Duration) -> Result<f64, String> {
    let t = start.as_secs_f64();
    let (count, _) = users.count(t, 0.0)?;
    match rate.eval(t, 0.0, count as f64)? {
        r if r.is_finite() && r > 0.0 => Ok(r),
        r => Err(format!(
            "\"{}\" gives {r} at the stage's start (t = {t} s): a spawn rate must be > 0",
            rate.source()
        )),
    }
}

/// An error's own words, without minijinja's `(in <expression>:1)`.
fn words(error: &Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// `source` compiled; checked for unknown names and evaluated once at (`t`, 0), so
/// that a mistake shows before any request. The error says what is wrong with it. A
/// spawn rate (`rate`) may read `users`, the count its stage's formula gives.
pub(crate) fn compile(source: &str, t: f64, rate: bool) -> Result<Formula, String> {
    let variables = if rate { RATE_VARIABLES } else { VARIABLES };
    let quoted = format!("\"{source}\"");
    let expression = environment()
        .compile_expression_owned(source.to_string())
        .map_err(|e| format!("{quoted} is not a valid expression: {}", words(&e)))?;
    let mut unknown: Vec<String> = expression
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| {
            ![variables, CONSTANTS, FUNCTIONS]
                .concat()
                .contains(&name.as_str())
        })
        .collect();
    unknown.sort();
    if !rate && unknown.iter().any(|name| name == "users") {
        return Err(format!(
            "{quoted}: `users` is what this expression computes; only a `spawn-rate` \
             expression reads it"
        ));
    }
    if let Some(name) = unknown.first() {
        let known = [variables, CONSTANTS, FUNCTIONS].concat();
        let hint = locust_scenario::closest(name, known.iter().copied())
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        return Err(format!(
            "{quoted}: unknown name `{name}` ({hint}an expression knows {}, {} and {})",
            variables.join(", "),
            CONSTANTS.join(", "),
            FUNCTIONS
                .iter()
                .map(|f| format!("{f}()"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let text = source.to_string();
    let formula = Formula::new(source, move |t, stage_t, users| {
        let value = expression
            .eval(context! { t => t, stage_t => stage_t, users => users })
            .map_err(|e| format!("\"{text}\" at t = {t} s: {}", words(&e)))?;
        number(&value).ok_or_else(|| format!("\"{text}\" gives {value:?}, not a number"))
    });
    formula.eval(t, 0.0, 0.0)?;
    Ok(formula)
}

fn number(value: &Value) -> Option<f64> {
    if value.kind() != minijinja::value::ValueKind::Number {
        return None;
    }
    f64::try_from(value.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(source: &str, t: f64, stage_t: f64) -> Result<f64, String> {
        compile(source, 0.0, true)?.eval(t, stage_t, 5.0)
    }

    #[test]
    fn expressions_have_python_arithmetic_and_math() {
        let e = std::f64::consts::E;
        let wave = "40 * e ** -((round(t) / 40 - 5) ** 2) + 20";
        for t in [0.0, 130.4, 200.0, 321.5] {
            let expected = 40.0 * e.powf(-((f64::round_ties_even(t) / 40.0 - 5.0).powi(2))) + 20.0;
            assert_eq!(eval(wave, t, 0.0), Ok(expected), "at {t}");
        }
        let cases = [
            ("t / 2", 3.0, 1.5),
            ("t // 2", 3.0, 1.0),
            ("stage_t * 2 + t", 1.0, 7.0),
            ("round(2.5) + round(3.5) + round(-0.5)", 0.0, 6.0),
            ("min(t, 4, 9) + max(1, t)", 3.0, 6.0),
            ("abs(-t) + floor(1.7) + ceil(1.2)", 1.0, 4.0),
            ("log(e ** 2) + log(8, 2) + sqrt(16)", 0.0, 9.0),
            ("sin(0) + cos(0) + tan(0) + exp(0)", 0.0, 2.0),
            ("10 if t < 5 else 20", 6.0, 20.0),
            ("-2 ** 2", 0.0, 4.0),
        ];
        for (source, t, expected) in cases {
            assert_eq!(eval(source, t, 3.0), Ok(expected), "{source}");
        }
        assert!((eval("pi", 0.0, 0.0).unwrap() - std::f64::consts::PI).abs() < 1e-15);
    }

    #[test]
    fn a_spawn_rate_reads_the_count_and_a_count_cannot_read_itself() {
        let rate = compile("users / 2 + t", 0.0, true).unwrap();
        assert_eq!(rate.eval(3.0, 0.0, 40.0), Ok(23.0));
        let users = compile("10 + t", 0.0, false).unwrap();
        assert_eq!(
            start_rate(
                &compile("users", 0.0, true).unwrap(),
                &users,
                Duration::from_secs(5)
            ),
            Ok(15.0)
        );
        let err = compile("users + 1", 0.0, false).unwrap_err();
        assert!(
            err.ends_with(
                "`users` is what this expression computes; only a `spawn-rate` expression reads it"
            ),
            "{err}"
        );
    }

    #[test]
    fn mistakes_are_found_when_compiled() {
        let err = |source: &str| compile(source, 0.0, false).unwrap_err();
        let unknown = err("40 * tt");
        assert!(
            unknown.contains("unknown name `tt` (did you mean `t`?"),
            "{unknown}"
        );
        assert!(
            unknown.contains("stage_t, e, pi and exp(), log()"),
            "{unknown}"
        );
        assert!(err("sqr(t)").contains("did you mean `sqrt`?"));
        let syntax = err("40 * (t");
        assert!(
            syntax.starts_with("\"40 * (t\" is not a valid expression: syntax error"),
            "{syntax}"
        );
        assert!(!syntax.contains("<expression>"), "{syntax}");
        let string = err("'a'");
        assert!(
            string.contains("\"'a'\" gives \"a\", not a number"),
            "{string}"
        );
        assert!(
            err("t | int").contains("unknown filter"),
            "{}",
            err("t | int")
        );
        assert!(err("min()").contains("min() needs at least one number"));
        assert!(is_expression("t"));
        assert!(!is_expression(" 12 ") && !is_expression("-3") && !is_expression("2.5"));
    }
}
