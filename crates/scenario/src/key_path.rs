//! The full path of the key written at a byte offset of a TOML file
//! (`users.A.tasks[0].steps[1].thinkk`), for errors serde reports with a span only:
//! a key inside an inline table or an array of tables is named exactly, not by the
//! nearest `[table]` header above it.

use toml_edit::{ImDocument, Item, Table, Value};

/// The dotted path of the key that starts at `offset`, with array indexes; `None` when
/// the text does not parse or no key starts there.
pub(crate) fn key_path_at(text: &str, offset: usize) -> Option<String> {
    let doc = ImDocument::parse(text).ok()?;
    let mut path = String::new();
    in_table(doc.as_table(), offset, &mut path).then_some(path)
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

fn contains(span: Option<std::ops::Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|span| span.contains(&offset))
}

fn in_table(table: &Table, offset: usize, path: &mut String) -> bool {
    for (key, item) in table.iter() {
        let Some((k, _)) = table.get_key_value(key) else {
            continue;
        };
        let before = path.len();
        push_key(path, key);
        if k.span().is_some_and(|span| span.start == offset) || in_item(item, offset, path) {
            return true;
        }
        path.truncate(before);
    }
    false
}

fn in_item(item: &Item, offset: usize, path: &mut String) -> bool {
    match item {
        Item::Table(table) => in_table(table, offset, path),
        Item::ArrayOfTables(array) => array.iter().enumerate().any(|(i, table)| {
            let before = path.len();
            path.push_str(&format!("[{i}]"));
            let found = in_table(table, offset, path);
            if !found {
                path.truncate(before);
            }
            found
        }),
        Item::Value(value) => in_value(value, offset, path),
        Item::None => false,
    }
}

fn in_value(value: &Value, offset: usize, path: &mut String) -> bool {
    if !contains(value.span(), offset) {
        return false;
    }
    match value {
        Value::InlineTable(table) => table.iter().any(|(key, value)| {
            let before = path.len();
            push_key(path, key);
            let at_key = table
                .key(key)
                .and_then(|k| k.span())
                .is_some_and(|span| span.start == offset);
            let found = at_key || in_value(value, offset, path);
            if !found {
                path.truncate(before);
            }
            found
        }),
        Value::Array(array) => array.iter().enumerate().any(|(i, value)| {
            let before = path.len();
            path.push_str(&format!("[{i}]"));
            let found = in_value(value, offset, path);
            if !found {
                path.truncate(before);
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> Option<String> {
        key_path_at(text, text.find(needle).unwrap())
    }

    #[test]
    fn names_keys_in_headers_arrays_and_inline_tables() {
        let text = "[users.A]\nwait_time = 1\n[[users.A.tasks]]\nname = \"t\"\n\
                    [[users.A.tasks]]\nsteps = [{ path = \"/\" }, { thinkk = 1, x = { deep = 2 } }]\n\
                    [users.A.tasks.request]\nmetod = \"GET\"\n";
        assert_eq!(at(text, "wait_time").as_deref(), Some("users.A.wait_time"));
        assert_eq!(
            at(text, "thinkk").as_deref(),
            Some("users.A.tasks[1].steps[1].thinkk")
        );
        assert_eq!(
            at(text, "deep").as_deref(),
            Some("users.A.tasks[1].steps[1].x.deep")
        );
        assert_eq!(
            at(text, "metod").as_deref(),
            Some("users.A.tasks[1].request.metod")
        );
        assert_eq!(
            key_path_at(text, 3),
            None,
            "inside a header, no key starts there"
        );
        assert_eq!(key_path_at("a = [", 0), None, "not TOML");
    }
}
