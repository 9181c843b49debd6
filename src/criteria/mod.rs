//! Success criteria: parsed from `criteria = [...]` (profile, `[tool.locust]`, `--config`)
//! or `--criterion`, checked against the scenarios' request names before any request,
//! evaluated on the final figures, and printed as the console's verdict block.
//! Grammar in `parse`, measuring in `eval`; the exit code is decided in `exit.rs`.

pub mod eval;
#[cfg(test)]
mod fuzz_tests;
pub mod parse;

pub use eval::{check_abort, evaluate, Figures, Verdict};
pub use parse::Criterion;

/// A criterion as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub text: String,
    /// `locust.toml:31`, or `--criterion`.
    pub origin: String,
    /// `criteria[2]`.
    pub key: String,
}

/// A criterion that cannot be used, naming where it was written.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: key `{key}`: criterion \"{text}\": {message}")]
pub struct CriteriaError {
    pub origin: String,
    pub key: String,
    pub text: String,
    pub message: String,
}

impl CriteriaError {
    fn at(source: &Source, message: String) -> Self {
        CriteriaError {
            origin: source.origin.clone(),
            key: source.key.clone(),
            text: source.text.clone(),
            message,
        }
    }
}

/// Parses every criterion (the first bad one is the error).
pub fn parse_all(sources: &[Source]) -> Result<Vec<(Criterion, Source)>, CriteriaError> {
    sources
        .iter()
        .map(|s| {
            parse::parse(&s.text)
                .map(|c| (c, s.clone()))
                .map_err(|m| CriteriaError::at(s, m))
        })
        .collect()
}

/// Every `for "name"` must be a request name the scenarios can produce (names fixed
/// at load; a templated name cannot be targeted). Unknown: an error with a suggestion.
pub fn check_names(
    criteria: &[(Criterion, Source)],
    known: &[String],
) -> Result<(), CriteriaError> {
    let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
    for (criterion, source) in criteria {
        let Some(name) = &criterion.scope else {
            continue;
        };
        if candidates.contains(&name.as_str()) {
            continue;
        }
        let hint = locust_scenario::closest(name, candidates.iter().copied())
            .map(|n| format!("; did you mean \"{n}\"?"))
            .unwrap_or_default();
        let listed = if candidates.len() <= 12 {
            format!(" (request names: {})", candidates.join(", "))
        } else {
            String::new()
        };
        return Err(CriteriaError::at(
            source,
            format!("no request of the selected scenarios is named \"{name}\"{hint}{listed}"),
        ));
    }
    Ok(())
}

/// `corrected.` criteria measure the open model's latency from the intended start; in a
/// closed run there is none, which is a configuration error rather than a failed run.
pub fn check_no_corrected(criteria: &[(Criterion, Source)]) -> Result<(), CriteriaError> {
    match criteria.iter().find(|(c, _)| c.corrected) {
        Some((_, source)) => Err(CriteriaError::at(
            source,
            "`corrected.` latencies exist only in open-model runs: add --arrival-rate (or \
             `arrival-rate`/[[profiles.NAME.arrival]]), or drop the prefix"
                .into(),
        )),
        None => Ok(()),
    }
}

/// The verdict block printed after Locust's final tables.
pub fn console_block(verdicts: &[Verdict], exit_code: i32) -> String {
    if verdicts.is_empty() {
        return String::new();
    }
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let width = verdicts
        .iter()
        .map(|v| v.criterion.len())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "Success criteria: {passed} of {} passed -> {} (exit code {exit_code})\n",
        verdicts.len(),
        if passed == verdicts.len() {
            "PASS"
        } else {
            "FAIL"
        }
    );
    if let Some(v) = verdicts.iter().find(|v| v.aborted) {
        out.push_str(&format!(
            "  The run was aborted by criterion '{}'\n",
            v.criterion
        ));
    }
    for v in verdicts {
        out.push_str(&format!(
            "  {}  {:<width$}  measured {}  ({})\n",
            if v.passed { "PASS" } else { "FAIL" },
            v.criterion,
            v.measured_text,
            v.detail
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            text: text.into(),
            origin: "locust.toml:9".into(),
            key: "criteria[1]".into(),
        }
    }

    #[test]
    fn errors_name_file_line_key_and_suggest() {
        let err = parse_all(&[source("avrg < 200")]).unwrap_err().to_string();
        assert_eq!(
            err.split(" (expected").next().unwrap(),
            "locust.toml:9: key `criteria[1]`: criterion \"avrg < 200\": unknown metric `avrg`; did you mean `avg`?"
        );
        let parsed = parse_all(&[source("p95 for \"/users/[di]\" < 5")]).unwrap();
        let known = vec!["/users/[id]".to_string(), "/health".to_string()];
        let err = check_names(&parsed, &known).unwrap_err().to_string();
        assert!(err.contains("locust.toml:9: key `criteria[1]`"), "{err}");
        assert!(err.contains("did you mean \"/users/[id]\"?"), "{err}");
        assert!(check_names(&parse_all(&[source("avg < 5")]).unwrap(), &known).is_ok());
    }
}
