//! Reading a feeder's file into rows, once at load: a `.csv` file (a header row, or the
//! `columns` given in the scenario, then one row per line; each row a map column ->
//! text) or a `.json` file (an array of objects, or of plain values). The rows are
//! minijinja values held once for the whole run; a CSV row shares its column names
//! with every other row. Errors name the data file and its line; nothing here panics on
//! a malformed file.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::Value;

/// The largest feeder file read (64 MiB): rows stay in memory for the whole run, and a
/// bigger file is more likely a mistake (a log, a dump) than test data.
pub const MAX_FEEDER_BYTES: u64 = 64 * 1024 * 1024;

/// The file formats a feeder reads, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Json,
}

impl Format {
    /// `.csv` or `.json` (any case); None for anything else.
    pub fn of(path: &str) -> Option<Format> {
        let ext = Path::new(path).extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Reads the file at `full` (at most [`MAX_FEEDER_BYTES`]) and parses it. `shown` is the
/// path as the scenario wrote it, for messages.
pub(crate) fn read_rows(
    full: &Path,
    shown: &str,
    format: Format,
    columns: Option<&[String]>,
) -> Result<Vec<Value>, String> {
    let file = std::fs::File::open(full).map_err(|e| {
        let abs = std::path::absolute(full).unwrap_or_else(|_| full.to_path_buf());
        format!(
            "cannot read {shown:?} ({}): {e}; a path is relative to the folder of the scenario file",
            abs.display()
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FEEDER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown:?}: {e}"))?;
    if bytes.len() as u64 > MAX_FEEDER_BYTES {
        return Err(format!(
            "{shown} is larger than {} MiB, the most a feeder reads (its rows stay in memory for the whole run)",
            MAX_FEEDER_BYTES / (1024 * 1024)
        ));
    }
    parse_rows(&bytes, shown, format, columns)
}

/// Parses a feeder file's bytes into rows; at least one row, or an error.
pub(crate) fn parse_rows(
    bytes: &[u8],
    shown: &str,
    format: Format,
    columns: Option<&[String]>,
) -> Result<Vec<Value>, String> {
    // Spreadsheets often save UTF-8 with a byte-order mark; it is not part of the data.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("{shown} is empty: a feeder needs at least one row"));
    }
    let rows = match format {
        Format::Csv => csv_rows(bytes, shown, columns)?,
        Format::Json => json_rows(bytes, shown)?,
    };
    if rows.is_empty() {
        return Err(format!("{shown} has no rows: a feeder needs at least one"));
    }
    Ok(rows)
}

/// One CSV row: its cells by the file's column names, shared by all rows.
#[derive(Debug)]
struct CsvRow {
    columns: Arc<[Value]>,
    cells: Box<[Value]>,
}

impl Object for CsvRow {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = self.columns.iter().position(|c| c == key)?;
        self.cells.get(i).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.columns.to_vec())
    }
}

fn csv_rows(bytes: &[u8], shown: &str, columns: Option<&[String]>) -> Result<Vec<Value>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(columns.is_none())
        .flexible(false)
        .from_reader(bytes);
    let names: Vec<String> = match columns {
        Some(given) => given.to_vec(),
        None => {
            let header = reader.headers().map_err(|e| csv_error(&e, shown, &[]))?;
            header.iter().map(|h| h.trim().to_string()).collect()
        }
    };
    check_columns(&names, shown, columns.is_some())?;
    let column_values: Arc<[Value]> = names.iter().map(|n| Value::from(n.as_str())).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e, shown, &names))?;
        if record.len() != names.len() {
            // Only reached with `columns`: the reader itself compares rows with each other.
            let line = record.position().map_or(0, |p| p.line());
            return Err(field_count(shown, line, record.len(), &names));
        }
        let cells: Box<[Value]> = record.iter().map(Value::from).collect();
        rows.push(Value::from_object(CsvRow {
            columns: column_values.clone(),
            cells,
        }));
    }
    Ok(rows)
}

/// Column names are not empty and not repeated (a row could not hold both values).
fn check_columns(names: &[String], shown: &str, given: bool) -> Result<(), String> {
    let origin = if given {
        "`columns`".to_string()
    } else {
        format!("{shown}:1 (the header row)")
    };
    if names.is_empty() {
        return Err(format!("{origin}: no column names"));
    }
    if let Some(i) = names.iter().position(String::is_empty) {
        return Err(format!(
            "{origin}: column {} has no name; the first row of a CSV feeder names its columns \
             (give `columns = [...]` for a file without a header row)",
            i + 1
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(format!("{origin}: column `{name}` appears twice"));
        }
    }
    Ok(())
}

fn field_count(shown: &str, line: u64, found: usize, names: &[String]) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{shown}:{line}: this row has {found} field{}, the columns are {} ({})",
        plural(found),
        names.len(),
        names.join(", ")
    )
}

/// A CSV error as `file:line: what`.
fn csv_error(error: &csv::Error, shown: &str, names: &[String]) -> String {
    let line = error.position().map_or(0, |p| p.line());
    match error.kind() {
        csv::ErrorKind::UnequalLengths { len, .. } if !names.is_empty() => {
            field_count(shown, line, *len as usize, names)
        }
        csv::ErrorKind::Utf8 { .. } => format!("{shown}:{line}: not valid UTF-8 text"),
        csv::ErrorKind::Io(e) => format!("{shown}: {e}"),
        _ => format!("{shown}:{line}: {error}"),
    }
}

fn json_rows(bytes: &[u8], shown: &str) -> Result<Vec<Value>, String> {
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{shown}:{}:{}: {e}", e.line(), e.column()))?;
    match json {
        serde_json::Value::Array(items) => Ok(items.iter().map(Value::from_serialize).collect()),
        other => Err(format!(
            "{shown}: a JSON feeder is an array (of objects, or of values), not {}",
            json_kind(&other)
        )),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<Value>, String> {
        parse_rows(text.as_bytes(), "u.csv", Format::Csv, None)
    }

    fn render(row: &Value, expr: &str) -> String {
        let env = minijinja::Environment::new();
        let ctx = minijinja::context! { row => row.clone() };
        env.render_str(expr, ctx).unwrap()
    }

    #[test]
    fn csv_rows_are_maps_of_their_columns() {
        let rows = csv("username,password\nalice,a1\n\"bob, jr\",\"b\"\"2\"\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            render(&rows[0], "{{ row.username }}/{{ row.password }}"),
            "alice/a1"
        );
        assert_eq!(
            render(&rows[1], "{{ row['username'] }}|{{ row.password }}"),
            "bob, jr|b\"2"
        );
        assert_eq!(
            render(&rows[0], "{{ row | list | join(',') }}"),
            "username,password"
        );
        assert_eq!(
            render(&rows[0], "{{ row | tojson }}"),
            r#"{"username":"alice","password":"a1"}"#
        );
    }

    #[test]
    fn columns_for_a_file_without_header() {
        let names = ["email".to_string(), "password".to_string()];
        let rows = parse_rows(b"a@x,p1\nb@x,p2\n", "u.csv", Format::Csv, Some(&names)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(render(&rows[1], "{{ row.email }}"), "b@x");
        let err = parse_rows(b"a@x,p1\nb@x\n", "u.csv", Format::Csv, Some(&names)).unwrap_err();
        assert_eq!(
            err,
            "u.csv:2: this row has 1 field, the columns are 2 (email, password)"
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = csv("a,b\n1,2\n3\n").unwrap_err();
        assert_eq!(
            err,
            "u.csv:3: this row has 1 field, the columns are 2 (a, b)"
        );
        let err = parse_rows(b"a,b\n1,\xff\n", "u.csv", Format::Csv, None).unwrap_err();
        assert_eq!(err, "u.csv:2: not valid UTF-8 text");
        assert!(csv("a,a\n1,2\n")
            .unwrap_err()
            .contains("column `a` appears twice"));
        assert!(csv("a,,c\n1,2,3\n")
            .unwrap_err()
            .contains("column 2 has no name"));
        assert_eq!(
            csv("a,b\n").unwrap_err(),
            "u.csv has no rows: a feeder needs at least one"
        );
        assert_eq!(
            csv(" \n\n").unwrap_err(),
            "u.csv is empty: a feeder needs at least one row"
        );
        assert_eq!(
            csv("\u{feff}a\n1\n").map(|r| render(&r[0], "{{ row.a }}")),
            Ok("1".into())
        );
    }

    #[test]
    fn json_arrays_of_objects_or_values() {
        let rows = parse_rows(
            br#"[{"id": 1, "tags": ["a"]}, {"id": 2}]"#,
            "p.json",
            Format::Json,
            None,
        )
        .unwrap();
        assert_eq!(
            render(&rows[0], "{{ row.id + 1 }} {{ row.tags[0] }}"),
            "2 a"
        );
        let rows = parse_rows(b"[\"x\", 7]", "p.json", Format::Json, None).unwrap();
        assert_eq!(render(&rows[1], "{{ row }}"), "7");
        let err = parse_rows(b"{\"a\": 1}", "p.json", Format::Json, None).unwrap_err();
        assert_eq!(
            err,
            "p.json: a JSON feeder is an array (of objects, or of values), not an object"
        );
        let err = parse_rows(b"[1,\n  2,,]", "p.json", Format::Json, None).unwrap_err();
        assert!(err.starts_with("p.json:2:"), "{err}");
        assert!(parse_rows(b"[]", "p.json", Format::Json, None)
            .unwrap_err()
            .contains("no rows"));
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::of("data/users.CSV"), Some(Format::Csv));
        assert_eq!(Format::of("p.json"), Some(Format::Json));
        assert_eq!(Format::of("p.txt"), None);
        assert_eq!(Format::of("noext"), None);
    }

    #[test]
    fn a_missing_file_is_named() {
        let err =
            read_rows(Path::new("/nonexistent/u.csv"), "u.csv", Format::Csv, None).unwrap_err();
        assert!(
            err.starts_with("cannot read \"u.csv\" (/nonexistent/u.csv):"),
            "{err}"
        );
    }

    /// xorshift64: a fixed sequence per seed, so that a failing case can be replayed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n.max(1)
        }
    }

    /// `cases`, or more with `LOCUST_RS_FUZZ_CASES` (as `make fuzz` sets it).
    fn fuzz_cases(cases: u64) -> u64 {
        std::env::var("LOCUST_RS_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases)
    }

    /// Seeded mutations of valid feeder files (bytes replaced, inserted, deleted, lines
    /// cut) never panic, and whatever parses has rows whose every cell renders.
    #[test]
    fn fuzz_mutated_feeder_files() {
        let seeds: [(&[u8], Format); 3] = [
            (
                b"username,password\nalice,\"a,1\"\nbob,b2\n\"c\"\"d\",x\n",
                Format::Csv,
            ),
            (
                br#"[{"u": "a", "n": [1, 2.5, null]}, {"u": "\u00e9"}, "plain", 3]"#,
                Format::Json,
            ),
            (b"id\n1\n2\n\n3\r\n", Format::Csv),
        ];
        let alphabet = b",\"\n\r[]{}:\\ a1\xff\xef\xbb\xbf";
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let env = minijinja::Environment::new();
        for case in 0..fuzz_cases(20_000) {
            let (seed, format) = seeds[(case % seeds.len() as u64) as usize];
            let mut data = seed.to_vec();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(data.len() as u64 + 1) as usize;
                let byte = alphabet[rng.below(alphabet.len() as u64) as usize];
                match rng.below(4) {
                    0 if at < data.len() => data[at] = byte,
                    1 => data.insert(at, byte),
                    2 if at < data.len() => {
                        data.remove(at);
                    }
                    _ => data.truncate(at),
                }
            }
            let names = ["a".to_string(), "b".to_string()];
            let columns = (case % 5 == 0).then_some(&names[..]);
            match parse_rows(&data, "f", format, columns) {
                Ok(rows) => {
                    assert!(!rows.is_empty(), "case {case}: no rows but Ok");
                    for row in &rows {
                        let ctx = minijinja::context! { row => row.clone() };
                        assert!(
                            env.render_str("{{ row | tojson }}", ctx).is_ok(),
                            "case {case}"
                        );
                    }
                }
                Err(message) => assert!(message.starts_with('f'), "case {case}: {message}"),
            }
        }
    }
}
