//! What is wrong with one `checks`, `extract` or `set_cookie` entry ([`EntryError`]):
//! the key at fault, a did-you-mean for an unknown key, and where the key sits in the
//! entry's text ([`find_key`]), so that the error points at it.

use std::ops::Range;

use crate::error::ScenarioError;
use crate::request::Cx;
use crate::source::suggest;

/// What is wrong with one `checks` or `extract` entry, and the key inside it that is
/// wrong (none: the entry as a whole). [`EntryError::locate`] turns it into a
/// `ScenarioError`: an unknown key is reported at itself, with its full path
/// (`users.A.tasks[0].request.checks[1].equalz`); any other problem at the entry
/// (`...checks[1]`), its message naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryError {
    pub key: Option<String>,
    pub message: String,
    /// The key is not one the entry takes.
    pub unknown: bool,
}

/// The one key of `keys` an entry sets (its subject, or its source): none is the
/// error `none`; two are an error at the second, saying `thing` takes one.
pub(crate) fn exactly_one(
    keys: &[(&'static str, bool)],
    none: &str,
    thing: &str,
    again: &str,
) -> Result<(), EntryError> {
    let given: Vec<&str> = keys
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect();
    match given[..] {
        [_] => Ok(()),
        [] => Err(EntryError::entry(none)),
        [first, second, ..] => Err(EntryError::at(
            second,
            format!("{thing}; this one has both `{first}` and `{second}` ({again})"),
        )),
    }
}

impl EntryError {
    /// An error about the key `key` of the entry.
    pub fn at(key: &str, message: impl Into<String>) -> EntryError {
        EntryError {
            key: Some(key.to_string()),
            message: message.into(),
            unknown: false,
        }
    }

    /// An error about the entry as a whole.
    pub fn entry(message: impl Into<String>) -> EntryError {
        EntryError {
            key: None,
            message: message.into(),
            unknown: false,
        }
    }

    /// The first unknown key of an entry, with a did-you-mean among `known`.
    pub fn unknown_key(table: &toml::Table, what: &str, known: &[&str]) -> Option<EntryError> {
        let key = table.keys().next()?;
        let hint = match suggest(key, known.iter().copied()) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => String::new(),
        };
        Some(EntryError {
            unknown: true,
            ..EntryError::at(
                key,
                format!(
                    "unknown key `{key}` in {what}{hint} (expected one of: {})",
                    known.join(", ")
                ),
            )
        })
    }

    /// Located in the entry at `span` whose dotted key is `entry_key` (e.g.
    /// `users.A.tasks[0].request.checks[1]`); an unknown key at its own position in the
    /// entry's text when it can be found there.
    pub fn locate(self, cx: &Cx<'_>, span: Range<usize>, entry_key: &str) -> ScenarioError {
        let (offset, key) = match &self.key {
            Some(k) if self.unknown => {
                let text = cx.file.text.get(span.clone()).unwrap_or("");
                let offset = find_key(text, k).map_or(span.start, |i| span.start + i);
                (offset, format!("{entry_key}.{k}"))
            }
            _ => (span.start, entry_key.to_string()),
        };
        ScenarioError::Invalid {
            at: cx.loc(offset..offset, &key),
            message: self.message,
        }
    }
}

/// Lets a caller that only wants text (`cx.invalid(..., message)`) keep working.
impl From<EntryError> for String {
    fn from(e: EntryError) -> String {
        match e.key {
            Some(k) => format!("`{k}`: {}", e.message),
            None => e.message,
        }
    }
}

/// Where `key = ...` starts in an entry's text (a bare or quoted key), looking past
/// strings and comments, so that `message = "x equals = y"` is not taken for `equals`.
pub(crate) fn find_key(text: &str, key: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let key_bytes = key.as_bytes();
    let is_key_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let assigned_at = |end: usize| {
        text.get(end..)
            .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('='))
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                let close = i + 1 + key_bytes.len();
                if bytes.get(i + 1..close) == Some(key_bytes)
                    && bytes.get(close) == Some(&q)
                    && assigned_at(close + 1)
                {
                    return Some(i);
                }
                let triple = [q, q, q];
                if bytes[i..].starts_with(&triple) {
                    let after = i + 3;
                    i = bytes
                        .get(after..)
                        .and_then(|rest| rest.windows(3).position(|w| w == triple))
                        .map_or(bytes.len(), |p| after + p + 3);
                    continue;
                }
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if q == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {
                let starts_word = i == 0 || !is_key_char(bytes[i - 1]);
                if starts_word && bytes[i..].starts_with(key_bytes) && assigned_at(i + key.len()) {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_the_entry_text() {
        let entry = r#"{ json = "/equals", message = 'x equals = y', "equals" = 1, equalz=2 }"#;
        assert_eq!(find_key(entry, "equals"), entry.find("\"equals\" ="));
        assert_eq!(find_key(entry, "equalz"), entry.find("equalz="));
        assert_eq!(find_key(entry, "json"), Some(2));
        assert_eq!(find_key(entry, "nope"), None);
        assert_eq!(find_key("xjson = 1", "json"), None);
        let table = "json = \"/a\" # equals = 2\nm = \"\"\"\nequals = 3\"\"\"\nequals = 1\n";
        assert_eq!(find_key(table, "equals"), table.rfind("equals = 1"));
        assert_eq!(find_key("x = \"é\"\nequals = 1", "equals"), Some(9));
    }
}
