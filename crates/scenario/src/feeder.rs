//! Data feeders: `[feeders.<name>]` tables (a CSV or JSON file of rows, read once at
//! load and shared by every user of the file's classes) and the `{ feed = "<name>" }`
//! step that hands the user its next row, as a variable. The order rows are handed out
//! (`cycle`, `random`, `unique`) and what a `unique` pool does when it runs dry
//! (`when_empty`) are decided here; the shared cursor is an atomic, so users never wait
//! on each other. Users hold a row as a minijinja value (a reference to the shared row),
//! never a copy of the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use minijinja::Value;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Location, ScenarioError};
use crate::feeder_file::{read_rows, Format};
use crate::source::{closest, SourceFile};

/// `[feeders.<name>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeederDef {
    pub file: Option<Spanned<String>>,
    pub order: Option<Spanned<String>>,
    pub when_empty: Option<Spanned<String>>,
    /// The column names of a CSV file that has no header row.
    pub columns: Option<Spanned<Vec<String>>>,
}

/// How a feeder hands out its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// In file order across all users, starting again after the last row.
    Cycle,
    /// A uniformly drawn row each time (rows may repeat).
    Random,
    /// Each row once across all users (a pool rows are popped from).
    Unique(WhenEmpty),
}

/// What a `unique` feeder does once every row was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenEmpty {
    /// The user that asks for a row stops (Locust's `raise StopUser()`).
    StopUser,
    /// The rows are handed out again from the first one (a warning says so, once).
    Recycle,
    /// The feed step fails (a failure row `FEED <name>`); the task goes on as after a
    /// failed request, and steps reading the variable are skipped.
    Fail,
}

const ORDERS: &[&str] = &["cycle", "random", "unique"];
const WHEN_EMPTY: &[&str] = &["stop_user", "recycle", "fail"];

/// One feeder: its rows, held once, and the cursor shared by every user.
#[derive(Debug)]
pub struct Feeder {
    name: String,
    /// The file as the scenario wrote it, for messages.
    file: String,
    rows: Box<[Value]>,
    order: Order,
    /// Rows handed out so far (cycle and unique).
    taken: AtomicU64,
    /// Whether a unique pool was asked for a row it no longer had.
    ran_dry: AtomicBool,
    /// Whether that was reported already.
    warned: AtomicBool,
}

/// What [`Feeder::take`] gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Take {
    Row(Value),
    /// A unique pool is empty and `when_empty` is `stop_user` or `fail`.
    Dry(WhenEmpty),
}

impl Feeder {
    /// A feeder over these rows (for tests and embedders; scenario files use `[feeders]`).
    pub fn new(name: &str, file: &str, rows: Vec<Value>, order: Order) -> Feeder {
        Feeder {
            name: name.to_string(),
            file: file.to_string(),
            rows: rows.into_boxed_slice(),
            order,
            taken: AtomicU64::new(0),
            ran_dry: AtomicBool::new(false),
            warned: AtomicBool::new(false),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn order(&self) -> Order {
        self.order
    }

    /// The next row for a user: the shared cursor's (cycle, unique) or a draw from the
    /// user's own generator (random).
    pub fn take<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Take {
        let len = self.rows.len() as u64;
        if len == 0 {
            return Take::Dry(WhenEmpty::Fail);
        }
        let index = match self.order {
            Order::Random => rng.random_range(0..len),
            Order::Cycle => self.taken.fetch_add(1, Ordering::Relaxed) % len,
            Order::Unique(WhenEmpty::Recycle) => {
                let n = self.taken.fetch_add(1, Ordering::Relaxed);
                if n == len {
                    self.ran_dry.store(true, Ordering::Relaxed);
                }
                n % len
            }
            Order::Unique(when) => {
                let n = self.taken.fetch_add(1, Ordering::Relaxed);
                if n >= len {
                    self.ran_dry.store(true, Ordering::Relaxed);
                    // Keep the counter from wrapping on a run that keeps asking.
                    self.taken.store(len, Ordering::Relaxed);
                    return Take::Dry(when);
                }
                n
            }
        };
        self.rows
            .get(index as usize)
            .cloned()
            .map_or(Take::Dry(WhenEmpty::Fail), Take::Row)
    }

    /// The warning to log once when a unique pool first runs dry: Some for exactly one
    /// call after a user asked for a row the pool no longer had (with `recycle`, after
    /// the first row handed out a second time); None otherwise.
    pub fn dry_warning(&self) -> Option<String> {
        let Order::Unique(when) = self.order else {
            return None;
        };
        if !self.ran_dry.load(Ordering::Relaxed) || self.warned.swap(true, Ordering::Relaxed) {
            return None;
        }
        let what = match when {
            WhenEmpty::StopUser => "users that ask for another row stop",
            WhenEmpty::Recycle => "its rows are handed out again from the first",
            WhenEmpty::Fail => "every further feed step fails",
        };
        Some(format!(
            "Feeder {} ran dry: all {} rows of {} were handed out; {what} (when_empty = \"{}\")",
            self.name,
            self.len(),
            self.file,
            when.as_str()
        ))
    }

    /// Forgets the rows handed out: a new test (the web UI's next start) begins again
    /// from the first row with a full pool.
    pub fn reset(&self) {
        self.taken.store(0, Ordering::Relaxed);
        self.ran_dry.store(false, Ordering::Relaxed);
        self.warned.store(false, Ordering::Relaxed);
    }
}

impl WhenEmpty {
    pub fn as_str(self) -> &'static str {
        match self {
            WhenEmpty::StopUser => "stop_user",
            WhenEmpty::Recycle => "recycle",
            WhenEmpty::Fail => "fail",
        }
    }
}

/// A scenario file's feeders, by name, loaded once when the file is compiled.
#[derive(Debug, Default)]
pub(crate) struct Feeders(OnceLock<BTreeMap<String, Arc<Feeder>>>);

impl Feeders {
    pub fn get(&self, name: &str) -> Option<&Arc<Feeder>> {
        self.0.get()?.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0
            .get()
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }
}

/// Reads every `[feeders.<name>]` of the file (once; a second call does nothing).
pub(crate) fn load_all(file: &SourceFile) -> Result<(), ScenarioError> {
    if file.feeders.0.get().is_some() {
        return Ok(());
    }
    let mut loaded = BTreeMap::new();
    for (name, def) in &file.def.feeders {
        loaded.insert(name.clone(), Arc::new(load_one(file, name, def)?));
    }
    let _ = file.feeders.0.set(loaded);
    Ok(())
}

fn load_one(
    file: &SourceFile,
    name: &str,
    def: &Spanned<FeederDef>,
) -> Result<Feeder, ScenarioError> {
    let key = format!("feeders.{name}");
    let invalid = |span: std::ops::Range<usize>, key: String, message: String| {
        let (line, column) = file.line_col(span.start);
        ScenarioError::Invalid {
            at: Location {
                file: file.path.clone(),
                line,
                column,
                key,
            },
            message,
        }
    };
    let d = def.get_ref();
    if !crate::extract::is_identifier(name) {
        return Err(invalid(
            def.span(),
            key,
            format!("feeder name {name:?} must be letters, digits and _ (it is the variable the row goes into)"),
        ));
    }
    let Some(path) = &d.file else {
        return Err(invalid(
            def.span(),
            key,
            "a feeder needs `file = \"data.csv\"` (a .csv or .json file, relative to the scenario file)".into(),
        ));
    };
    let fkey = format!("{key}.file");
    let format = Format::of(path.get_ref()).ok_or_else(|| {
        invalid(
            path.span(),
            fkey.clone(),
            format!("{:?} is neither a .csv nor a .json file", path.get_ref()),
        )
    })?;
    let order =
        parse_order(d).map_err(|(span, field, m)| invalid(span, format!("{key}.{field}"), m))?;
    let columns = match (&d.columns, format) {
        (Some(c), Format::Json) => {
            return Err(invalid(
                c.span(),
                format!("{key}.columns"),
                "`columns` names the columns of a CSV file without a header row; a JSON file has its own keys".into(),
            ))
        }
        (c, _) => c.as_ref().map(|c| c.get_ref().as_slice()),
    };
    let folder = file.path.parent().unwrap_or(Path::new(""));
    let rows = read_rows(
        &folder.join(path.get_ref()),
        path.get_ref(),
        format,
        columns,
    )
    .map_err(|m| invalid(path.span(), fkey, m))?;
    Ok(Feeder::new(name, path.get_ref(), rows, order))
}

type FieldError = (std::ops::Range<usize>, &'static str, String);

/// `order` and `when_empty`, with a did-you-mean for a misspelt value.
fn parse_order(d: &FeederDef) -> Result<Order, FieldError> {
    let pick = |value: &Spanned<String>, field: &'static str, names: &[&str]| {
        let text = value.get_ref().trim();
        match names.iter().position(|n| *n == text) {
            Some(i) => Ok(i),
            None => {
                let hint = closest(text, names.iter().copied())
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                Err((
                    value.span(),
                    field,
                    format!(
                        "unknown {field} {text:?}; {hint}expected one of: {}",
                        names.join(", ")
                    ),
                ))
            }
        }
    };
    let order = match &d.order {
        None => 0,
        Some(o) => pick(o, "order", ORDERS)?,
    };
    let when = match &d.when_empty {
        None => WhenEmpty::StopUser,
        Some(w) if order != 2 => {
            return Err((
                w.span(),
                "when_empty",
                "`when_empty` goes with order = \"unique\" (the other orders never run dry)".into(),
            ))
        }
        Some(w) => [WhenEmpty::StopUser, WhenEmpty::Recycle, WhenEmpty::Fail]
            [pick(w, "when_empty", WHEN_EMPTY)?],
    };
    Ok([Order::Cycle, Order::Random, Order::Unique(when)][order])
}

/// `{ feed = "users" }` (optionally `as = "user"`): the user's next row of a feeder.
#[derive(Debug, Clone)]
pub struct Feed {
    label: String,
    pub(crate) feeder: Arc<Feeder>,
    /// The variable the row goes into: `as`, else the feeder's name.
    pub(crate) var: String,
}

impl Feed {
    /// Where the step is defined, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn feeder(&self) -> &Arc<Feeder> {
        &self.feeder
    }

    /// The variable the row is stored in.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The error text of a feed step that failed on a dry pool (`when_empty = "fail"`),
    /// in the style of Python exception reprs the failures table shows.
    pub fn dry_error(&self) -> String {
        format!(
            "FeederEmpty({})",
            locust_stats::pyrepr::repr_str(&format!(
                "feeder {} ran dry: all {} rows were handed out",
                self.feeder.name,
                self.feeder.len()
            ))
        )
    }
}

/// Compiles a feed step: the feeder must be declared in the same file.
pub(crate) fn compile_feed(
    cx: &crate::request::Cx<'_>,
    name: &Spanned<String>,
    alias: Option<&Spanned<String>>,
    key: &str,
) -> Result<Feed, ScenarioError> {
    let fkey = format!("{key}.feed");
    let Some(feeder) = cx.file.feeders.get(name.get_ref()) else {
        let declared: Vec<&str> = cx.file.feeders.names().collect();
        let hint = closest(name.get_ref(), declared.iter().copied())
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        let listed = if declared.is_empty() {
            format!(
                " (this file declares none: add [feeders.{}] with `file = \"data.csv\"`)",
                name.get_ref()
            )
        } else {
            format!(" (this file declares: {})", declared.join(", "))
        };
        return Err(cx.invalid(
            name.span(),
            &fkey,
            format!("unknown feeder `{}`{hint}{listed}", name.get_ref()),
        ));
    };
    let var = match alias {
        None => name.get_ref().clone(),
        Some(alias) => alias.get_ref().clone(),
    };
    let span = alias.map_or(name.span(), Spanned::span);
    if !crate::extract::is_identifier(&var) {
        return Err(cx.invalid(
            span,
            &format!("{key}.as"),
            format!("`{var}` is not a usable variable name (letters, digits and _)"),
        ));
    }
    if crate::template::BUILTIN_VARS.contains(&var.as_str())
        || crate::template::BUILTIN_FUNCS.contains(&var.as_str())
    {
        return Err(cx.invalid(
            span,
            &format!("{key}.as"),
            format!(
                "`{var}` is a builtin and cannot be fed into; give `as = \"...\"` another name"
            ),
        ));
    }
    Ok(Feed {
        label: key.strip_prefix("users.").unwrap_or(key).to_string(),
        feeder: feeder.clone(),
        var,
    })
}

/// The variable a step table feeds, if it is a feed step (for the variable analysis).
pub(crate) fn fed_var(def: &crate::model::RequestDef) -> Option<String> {
    let feed = def.feed.as_ref()?;
    Some(def.feed_as.as_ref().unwrap_or(feed).get_ref().clone())
}

/// Every feeder the actions feed from (nested steps too), for [`reset_feeders`].
fn collect<'a>(actions: &'a [crate::Action], out: &mut Vec<&'a Arc<Feeder>>) {
    use crate::Action;
    for action in actions {
        match action {
            Action::Feed(feed) => out.push(&feed.feeder),
            Action::If(branch) => {
                collect(&branch.then, out);
                collect(&branch.otherwise, out);
            }
            Action::Repeat(repeat) => collect(&repeat.body, out),
            Action::Group(group) => collect(&group.body, out),
            _ => {}
        }
    }
}

/// Starts every feeder these classes and run steps use from its first row with a full
/// pool: called when a test starts, so that the web UI's second test is like its first.
pub fn reset_feeders<'a>(
    classes: impl IntoIterator<Item = &'a crate::UserClass>,
    run_steps: &'a [crate::RunSteps],
) {
    let mut feeders = Vec::new();
    for class in classes {
        collect(&class.on_start, &mut feeders);
        collect(&class.on_stop, &mut feeders);
        for task in &class.tasks {
            collect(&task.steps, &mut feeders);
        }
    }
    for run in run_steps {
        collect(&run.setup, &mut feeders);
        collect(&run.teardown, &mut feeders);
    }
    for feeder in feeders {
        feeder.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Value> {
        (0..n).map(|i| Value::from(i as u64)).collect()
    }

    fn take_n(feeder: &Feeder, n: usize) -> Vec<String> {
        let mut rng = rand::rng();
        (0..n)
            .map(|_| match feeder.take(&mut rng) {
                Take::Row(v) => v.to_string(),
                Take::Dry(w) => w.as_str().to_string(),
            })
            .collect()
    }

    #[test]
    fn cycle_wraps_in_file_order() {
        let f = Feeder::new("u", "u.csv", rows(3), Order::Cycle);
        assert_eq!(take_n(&f, 7), ["0", "1", "2", "0", "1", "2", "0"]);
        assert_eq!(f.dry_warning(), None);
        f.reset();
        assert_eq!(take_n(&f, 1), ["0"]);
    }

    #[test]
    fn unique_pools_run_dry_as_asked() {
        let f = Feeder::new("u", "u.csv", rows(2), Order::Unique(WhenEmpty::StopUser));
        assert_eq!(take_n(&f, 2), ["0", "1"]);
        assert_eq!(f.dry_warning(), None, "empty, but nobody was refused yet");
        assert_eq!(take_n(&f, 2), ["stop_user", "stop_user"]);
        let warning = f.dry_warning().unwrap();
        assert_eq!(warning, "Feeder u ran dry: all 2 rows of u.csv were handed out; users that ask for another row stop (when_empty = \"stop_user\")");
        assert_eq!(f.dry_warning(), None, "once");
        f.reset();
        assert_eq!(take_n(&f, 3), ["0", "1", "stop_user"]);

        let f = Feeder::new("u", "u.csv", rows(2), Order::Unique(WhenEmpty::Fail));
        assert_eq!(take_n(&f, 3), ["0", "1", "fail"]);

        let f = Feeder::new("u", "u.csv", rows(2), Order::Unique(WhenEmpty::Recycle));
        assert_eq!(take_n(&f, 2), ["0", "1"]);
        assert_eq!(
            f.dry_warning(),
            None,
            "not dry until a row is handed out again"
        );
        assert_eq!(take_n(&f, 3), ["0", "1", "0"]);
        assert!(f
            .dry_warning()
            .unwrap()
            .contains("handed out again from the first"));
    }

    #[test]
    fn random_stays_within_the_rows() {
        let f = Feeder::new("u", "u.csv", rows(4), Order::Random);
        let seen: std::collections::BTreeSet<String> = take_n(&f, 400).into_iter().collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["0", "1", "2", "3"]);
    }

    #[test]
    fn unique_rows_are_never_repeated_across_threads() {
        let f = Arc::new(Feeder::new(
            "u",
            "u.csv",
            rows(1000),
            Order::Unique(WhenEmpty::Fail),
        ));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let f = f.clone();
                std::thread::spawn(move || take_n(&f, 200))
            })
            .collect();
        let all: Vec<String> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let got: std::collections::BTreeSet<&String> =
            all.iter().filter(|s| *s != "fail").collect();
        assert_eq!(got.len(), 1000);
        assert_eq!(all.iter().filter(|s| *s == "fail").count(), 600);
    }
}
