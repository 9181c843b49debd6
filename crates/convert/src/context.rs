//! What a function body is converted with: the module's constants, functions and CSV
//! feeders (`Module`), and per function the names that mean `self`, the class's data
//! attributes and helper methods, and the local names bound to a response (`Fx`).

use std::cell::RefCell;
use std::collections::HashMap;

use rustpython_parser::ast::{self, Ranged};

use crate::model::{Feeder, Req, Todo};
use crate::source::Source;

/// How a module-level name reads rows of a CSV file.
#[derive(Debug, Clone)]
pub enum Rows {
    /// `csv.reader(f)` / `csv.DictReader(f)`: rows taken with `next(name)`.
    Reader { feeder: String },
    /// `list(csv.reader(f))` and the like: rows taken with `random.choice` or `.pop()`.
    List { feeder: String },
}

/// The module level of a locustfile.
pub struct Module<'a> {
    pub src: &'a Source<'a>,
    /// Module-level names bound to a constant expression (text, number, list, dict).
    pub consts: HashMap<String, &'a ast::Expr>,
    /// Module-level functions (tasks of a `tasks = [...]` list, event listeners).
    pub functions: HashMap<String, &'a ast::StmtFunctionDef>,
    /// Names bound to an open CSV file: the file's path.
    pub files: HashMap<String, String>,
    pub rows: HashMap<String, Rows>,
    pub feeders: RefCell<Vec<Feeder>>,
    /// Options added by an `init_command_line_parser` listener: name → default (code).
    pub options: HashMap<String, String>,
    /// Variables the converted classes set (after a first pass): reading another one is
    /// a TODO, not a scenario that fails to load.
    pub defined: Option<std::collections::HashSet<String>>,
}

impl<'a> Module<'a> {
    pub fn todo(&self, node: &impl Ranged, why: impl Into<String>) -> Todo {
        let line = self.src.line(node.start());
        Todo {
            line,
            source_line: self.src.line_text(line),
            why: why.into(),
        }
    }

    /// Sets the order of a feeder (the strongest wins: unique over random over cycle).
    pub fn feeder_order(&self, name: &str, order: &'static str) {
        let mut feeders = self.feeders.borrow_mut();
        if let Some(f) = feeders.iter_mut().find(|f| f.name == name) {
            let rank = |o: &str| ["cycle", "random", "unique"].iter().position(|x| *x == o);
            if rank(order) > rank(f.order) {
                f.order = order;
            }
        }
    }

    pub fn feeder_columns(&self, name: &str, columns: Vec<String>) {
        let mut feeders = self.feeders.borrow_mut();
        if let Some(f) = feeders.iter_mut().find(|f| f.name == name) {
            if f.columns.as_ref().is_some_and(|c| c.is_empty()) {
                f.columns = Some(columns);
            }
        }
    }
}

/// A JSON step into a response body: a key or an index (`*` fans out).
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(i64),
    All,
}

/// What a local name holds: a response, or a part of its JSON body.
#[derive(Debug, Clone)]
pub struct RespRef {
    pub req: Req,
    pub json: Option<Vec<Seg>>,
    /// A `with ... as r` response: checks may read it.
    pub in_with: bool,
}

/// One function being converted.
pub struct Fx<'m, 'a> {
    pub m: &'m Module<'a>,
    /// The names meaning `self` (the first parameter) and `self.user`.
    pub selves: Vec<String>,
    /// Class attributes that are data (`products = [...]`): read as their value.
    pub class_consts: HashMap<String, &'a ast::Expr>,
    /// Methods of the class (helpers called as `self.name()` are inlined).
    pub methods: HashMap<String, &'a ast::StmtFunctionDef>,
    pub responses: HashMap<String, RespRef>,
    /// The response of the enclosing `with ... catch_response=True as r` block.
    pub checking: Option<String>,
    /// Names of `with self.client.rename_request(...)` blocks, innermost last.
    pub renames: Vec<String>,
    pub depth: usize,
    /// Variables whose assignment could not be converted: reading them is a TODO too.
    pub unconverted: Vec<String>,
    /// Module constants being inlined (a constant defined by itself is not followed).
    pub expanding: Vec<String>,
    /// Variables created for values read from a response (`r_id`), to keep them unique.
    pub fresh: usize,
}

impl<'m, 'a> Fx<'m, 'a> {
    pub fn new(m: &'m Module<'a>, self_name: &str) -> Self {
        Fx {
            m,
            selves: vec![self_name.to_string()],
            class_consts: HashMap::new(),
            methods: HashMap::new(),
            responses: HashMap::new(),
            checking: None,
            renames: Vec::new(),
            depth: 0,
            expanding: Vec::new(),
            unconverted: Vec::new(),
            fresh: 0,
        }
    }

    /// `self.x`, `self.user.x` (and `l.x` for a task whose parameter is `l`): `x`.
    pub fn self_attr<'e>(&self, e: &'e ast::Expr) -> Option<&'e str> {
        let ast::Expr::Attribute(a) = e else {
            return None;
        };
        if self.is_self(&a.value) {
            return Some(a.attr.as_str());
        }
        None
    }

    pub fn is_self(&self, e: &ast::Expr) -> bool {
        match e {
            ast::Expr::Name(n) => self.selves.iter().any(|s| s == n.id.as_str()),
            ast::Expr::Attribute(a) => a.attr.as_str() == "user" && self.is_self(&a.value),
            _ => false,
        }
    }

    /// `self.client` (or `self.user.client`).
    pub fn is_client(&self, e: &ast::Expr) -> bool {
        self.self_attr(e) == Some("client")
    }
}

/// A dotted name: `os.environ.get` → "os.environ.get" (None for anything else).
pub fn dotted(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Name(n) => Some(n.id.to_string()),
        ast::Expr::Attribute(a) => dotted(&a.value).map(|d| format!("{d}.{}", a.attr)),
        _ => None,
    }
}

/// A string constant's text.
pub fn const_str(e: &ast::Expr) -> Option<&str> {
    match e {
        ast::Expr::Constant(c) => match &c.value {
            ast::Constant::Str(s) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// An integer constant.
pub fn const_int(e: &ast::Expr) -> Option<i64> {
    match e {
        ast::Expr::Constant(c) => match &c.value {
            ast::Constant::Int(i) => i64::try_from(i).ok(),
            _ => None,
        },
        ast::Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::USub) => {
            const_int(&u.operand).map(|i| -i)
        }
        _ => None,
    }
}

/// The keyword argument `name` of a call.
pub fn kwarg<'e>(call: &'e ast::ExprCall, name: &str) -> Option<&'e ast::Expr> {
    call.keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}
