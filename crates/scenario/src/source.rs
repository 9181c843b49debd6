//! Finding and parsing scenario files: `-f` paths (files or directories searched
//! recursively for `*.toml`, skipping names that start with `_`), TOML syntax errors
//! as `file:line:col`, unknown keys with a "did you mean". Knows nothing of semantics.

use std::path::{Path, PathBuf};

use crate::error::ScenarioError;
use crate::model::FileDef;

/// One scenario file, read and parsed.
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    pub def: FileDef,
    /// Files its requests send (`files`, `body_file`), each read once.
    pub assets: crate::body::Assets,
    /// Its `[feeders]`, read once when the file is compiled.
    pub feeders: crate::feeder::Feeders,
}

impl SourceFile {
    /// 1-based (line, column) of a byte offset into this file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.text, offset)
    }
}

/// Expands the given files and directories into a sorted list of scenario files.
/// Files found by a directory scan that have no top-level `users` table are ignored,
/// so a `locust.toml` next to the scenarios does not break `-f .`.
pub(crate) fn read_all(paths: &[PathBuf]) -> Result<Vec<SourceFile>, ScenarioError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            for file in found {
                let text = read(&file)?;
                if !declares_users(&text) {
                    continue;
                }
                out.push(parse(file, text)?);
            }
        } else if path.is_file() {
            let text = read(path)?;
            out.push(parse(path.clone(), text)?);
        } else {
            return Err(ScenarioError::NotFound { path: path.clone() });
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let io = |source| ScenarioError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let skipped = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('_') || n.starts_with('.'));
        if skipped {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
    Ok(())
}

/// A cheap pre-check for directory scans: a syntactically broken file is still
/// reported (it may be a scenario with a typo), a valid one without `users` is not ours.
fn declares_users(text: &str) -> bool {
    match text.parse::<toml::Table>() {
        Ok(table) => table.contains_key("users"),
        Err(_) => true,
    }
}

/// Parses one file into the serde model, turning toml errors into located errors.
pub(crate) fn parse(path: PathBuf, text: String) -> Result<SourceFile, ScenarioError> {
    match toml::from_str::<FileDef>(&text) {
        Ok(def) => Ok(SourceFile {
            path,
            text,
            def,
            assets: Default::default(),
            feeders: Default::default(),
        }),
        Err(err) => Err(convert_error(&path, &text, &err)),
    }
}

fn convert_error(path: &Path, text: &str, err: &toml::de::Error) -> ScenarioError {
    let offset = err.span().map(|s| s.start).unwrap_or(0);
    let message = err.message().trim().to_string();
    if let Some((key, expected)) = parse_unknown_field(&message) {
        // Point at the key itself: search for it from the reported span on.
        let key_offset = text
            .get(offset..)
            .and_then(|rest| rest.find(key.as_str()))
            .map(|i| offset + i)
            .unwrap_or(offset);
        let (line, column) = line_col(text, key_offset);
        let suggestion = suggest(&key, expected.iter().map(String::as_str));
        return ScenarioError::UnknownKey {
            file: path.to_path_buf(),
            line,
            column,
            table: enclosing_table(text, line),
            path: crate::key_path::key_path_at(text, key_offset),
            key,
            suggestion,
            expected,
        };
    }
    let (line, column) = line_col(text, offset);
    ScenarioError::Toml {
        file: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`",
/// or "there are no fields").
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let end = rest.find('`')?;
    let key = rest[..end].to_string();
    let expected = rest[end + 1..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((key, expected))
}

/// The longest word [`closest`] looks for a suggestion for.
const MAX_SUGGESTED_LEN: usize = 200;

/// The closest candidate, when it is close enough (Jaro-Winkler >= 0.8); ranked by
/// normalized edit distance; on a tie the earlier candidate wins (callers list the
/// most likely ones first, e.g. the class's own variables before the builtins).
/// The one "did you mean" of the project: scenario keys here, config keys, stage keys,
/// class names and criteria metrics in the binary.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // No one misspells a name this long; comparing it costs its length times each
    // candidate's (a 64 KiB key against a hundred options took seconds).
    if word.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let jw = strsim::jaro_winkler(word, c);
        if jw < 0.8 {
            continue;
        }
        let lev = strsim::normalized_damerau_levenshtein(word, c);
        if best.is_none_or(|(best_lev, _)| lev > best_lev) {
            best = Some((lev, c));
        }
    }
    best.map(|(_, c)| c)
}

/// [`closest`], owned, as scenario errors carry it.
pub(crate) fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(str::to_string)
}

/// The nearest `[table]` or `[[array]]` header at or above `line` (1-based).
fn enclosing_table(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .last()
        .map(|l| match l.find('#') {
            Some(i) => l[..i].trim().to_string(),
            None => l.to_string(),
        })
}

/// 1-based (line, column in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of(text: &str) -> ScenarioError {
        match parse(PathBuf::from("s.toml"), text.to_string()) {
            Err(e) => e,
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn toml_syntax_error_names_file_line_column() {
        let e = err_of("[users.A]\nweight = = 3\n");
        let msg = e.to_string();
        assert!(matches!(e, ScenarioError::Toml { line: 2, .. }), "{msg}");
        assert!(msg.starts_with("s.toml:2:"), "{msg}");
    }

    #[test]
    fn unknown_key_is_located_with_suggestion() {
        let text = "[users.A]\nwait_time = \"constant(1)\"\n\n[[users.A.tasks]]\nname = \"t\"\n[users.A.tasks.request]\nmetod = \"GET\"\npath = \"/\"\n";
        let e = err_of(text);
        let msg = e.to_string();
        match &e {
            ScenarioError::UnknownKey {
                line,
                column,
                key,
                suggestion,
                table,
                ..
            } => {
                assert_eq!((*line, *column), (7, 1));
                assert_eq!(key, "metod");
                assert_eq!(suggestion.as_deref(), Some("method"));
                assert_eq!(table.as_deref(), Some("[users.A.tasks.request]"));
            }
            other => panic!("{other:?}"),
        }
        assert!(msg.starts_with("s.toml:7:1: `users.A.tasks[0].request.metod`: unknown key `metod`; did you mean `method`?"), "{msg}");
    }

    #[test]
    fn unknown_class_key_in_inline_position() {
        let e = err_of("[users.A]\nwieght = 2\n");
        assert!(e.to_string().contains("did you mean `weight`?"), "{e}");
        assert!(e.to_string().starts_with("s.toml:2:1:"), "{e}");
    }

    #[test]
    fn unknown_key_without_close_match_lists_expected() {
        let e = err_of("[users.A]\nzzzzzz = 2\n");
        let msg = e.to_string();
        assert!(!msg.contains("did you mean"), "{msg}");
        assert!(
            msg.contains("expected one of: weight, fixed_count"),
            "{msg}"
        );
    }

    #[test]
    fn missing_path_and_directory_rules() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let err = read_all(std::slice::from_ref(&missing)).err().unwrap();
        assert!(matches!(err, ScenarioError::NotFound { .. }));
        assert!(err.to_string().contains("nope.toml"));

        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.toml"), "[users.B]\n").unwrap();
        std::fs::write(dir.path().join("a.toml"), "[users.A]\n").unwrap();
        std::fs::write(dir.path().join("_skip.toml"), "[users.S]\n").unwrap();
        std::fs::write(dir.path().join("locust.toml"), "[locust]\nusers = 3\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let files = read_all(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![PathBuf::from("a.toml"), PathBuf::from("sub/b.toml")]
        );
    }
}
