//! What a template uses, read from its source without minijinja's internals (whose AST
//! is unstable API): the filters (`| name`, `{% filter name %}`, `map("name")`), the tests
//! (`is name`, `is not name`, `select("name")`), calls with a literal first argument
//! (`env("NAME")`, `date("%Y")`), and `vars.KEY` reads. A small lexer that follows
//! minijinja's (comments, `{% raw %}`, string literals, `-`/`+` whitespace markers,
//! bracket depth) so that nothing inside a string or a comment counts. It runs only on
//! templates minijinja has already parsed, so it can assume valid syntax.

use std::sync::OnceLock;

/// A name a template uses, with the byte offset where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Use<'a> {
    pub name: &'a str,
    pub at: usize,
}

/// `f("literal", ...)`: a call whose first argument is a plain string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiteralCall<'a> {
    pub function: &'a str,
    pub arg: &'a str,
    /// More arguments follow the literal (`env("X", "default")`).
    pub more: bool,
    pub at: usize,
}

/// `vars.KEY` or `vars["KEY"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarRef<'a> {
    pub key: &'a str,
    /// Followed by `| default(...)`/`| d(...)` or `is [not] defined`/`undefined`.
    pub guarded: bool,
    pub at: usize,
}

/// Everything [`scan`] finds, in source order.
#[derive(Debug, Default)]
pub(crate) struct Uses<'a> {
    pub filters: Vec<Use<'a>>,
    pub tests: Vec<Use<'a>>,
    /// Every name called as a function (`uuid()`, not `x.items()`).
    pub calls: Vec<Use<'a>>,
    pub literal_calls: Vec<LiteralCall<'a>>,
    pub vars: Vec<VarRef<'a>>,
    /// Names subscripted or sliced where they stand (`ids[:2]`, `ids[0]`, not `a.ids[0]`).
    /// minijinja's `undeclared_variables` does not see the value of a slice, so the
    /// names a template reads are completed from these, less [`Uses::bound`].
    pub subscripted: Vec<Use<'a>>,
    /// Names the template binds itself: `{% for x, y in ... %}`, `{% set x = ... %}`,
    /// `{% with x = ... %}`.
    pub bound: Vec<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind<'a> {
    /// `{{` or `{%`; `true` for a statement block.
    Start(bool),
    End,
    Ident(&'a str),
    /// A string literal's text; `None` when it has escapes (its value is not its text).
    Str(Option<&'a str>),
    Pipe,
    Dot,
    Comma,
    ParenOpen,
    ParenClose,
    BracketOpen,
    BracketClose,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    kind: Kind<'a>,
    start: usize,
    end: usize,
}

/// 1-based line of a byte offset in a template.
pub(crate) fn line_of(src: &str, at: usize) -> usize {
    src.as_bytes()[..at.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The uses of one template source.
pub(crate) fn scan(src: &str) -> Uses<'_> {
    let toks = tokenize(src);
    let kind = |i: usize| toks.get(i).map(|t| t.kind);
    let after_dot = |i: usize| i > 0 && kind(i - 1) == Some(Kind::Dot);
    let start_of = |i: usize| toks.get(i).map_or(src.len(), |t| t.start);
    let mut uses = Uses::default();
    for (i, tok) in toks.iter().enumerate() {
        match tok.kind {
            Kind::Pipe => {
                if let Some((name, next)) = dotted_name(src, &toks, i + 1) {
                    uses.filters.push(Use {
                        name,
                        at: start_of(i + 1),
                    });
                    string_args(&toks, name, next, &mut uses);
                }
            }
            Kind::Ident("is") if !after_dot(i) => {
                let j = if kind(i + 1) == Some(Kind::Ident("not")) {
                    i + 2
                } else {
                    i + 1
                };
                if let Some((name, _)) = dotted_name(src, &toks, j) {
                    uses.tests.push(Use {
                        name,
                        at: start_of(j),
                    });
                }
            }
            Kind::Start(true) if kind(i + 1) == Some(Kind::Ident("filter")) => {
                if let Some((name, next)) = dotted_name(src, &toks, i + 2) {
                    uses.filters.push(Use {
                        name,
                        at: start_of(i + 2),
                    });
                    string_args(&toks, name, next, &mut uses);
                }
            }
            Kind::Start(true) => bound_names(&toks, i + 1, &mut uses.bound),
            Kind::Ident(name)
                if !after_dot(i)
                    && kind(i + 1) == Some(Kind::BracketOpen)
                    && !matches!(kind(i.wrapping_sub(1)), Some(Kind::Pipe))
                    && name != "vars" =>
            {
                uses.subscripted.push(Use {
                    name,
                    at: tok.start,
                });
            }
            Kind::Ident("vars") if !after_dot(i) => {
                if let Some(var) = var_ref(src, &toks, i) {
                    uses.vars.push(var);
                }
            }
            Kind::Ident(function) if !after_dot(i) && kind(i + 1) == Some(Kind::ParenOpen) => {
                uses.calls.push(Use {
                    name: function,
                    at: tok.start,
                });
                if let (Some(Kind::Str(Some(arg))), Some(next)) = (kind(i + 2), kind(i + 3)) {
                    if matches!(next, Kind::Comma | Kind::ParenClose) {
                        uses.literal_calls.push(LiteralCall {
                            function,
                            arg,
                            more: next == Kind::Comma,
                            at: tok.start,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    uses
}

/// `a` or `a.b.c` from token `i`, as minijinja names filters and tests: the source text
/// from the first identifier to the last. Returns the name and the next token's index.
fn dotted_name<'a>(src: &'a str, toks: &[Tok<'a>], i: usize) -> Option<(&'a str, usize)> {
    let first = toks.get(i).filter(|t| matches!(t.kind, Kind::Ident(_)))?;
    let mut end = first.end;
    let mut next = i + 1;
    while let (Some(Kind::Dot), Some(t)) = (toks.get(next).map(|t| t.kind), toks.get(next + 1)) {
        if !matches!(t.kind, Kind::Ident(_)) {
            break;
        }
        end = t.end;
        next += 2;
    }
    Some((src.get(first.start..end)?, next))
}

/// The names a statement starting at token `i` binds: the targets of `for` (up to `in`),
/// the name of `set`, the names before `=` in `with`.
fn bound_names<'a>(toks: &[Tok<'a>], i: usize, bound: &mut Vec<&'a str>) {
    let kind = |i: usize| toks.get(i).map(|t| t.kind);
    match kind(i) {
        Some(Kind::Ident("for")) => {
            let mut j = i + 1;
            while let Some(k) = kind(j) {
                match k {
                    Kind::Ident("in") | Kind::End => break,
                    Kind::Ident(name) => bound.push(name),
                    _ => {}
                }
                j += 1;
            }
        }
        Some(Kind::Ident("set")) => {
            if let Some(Kind::Ident(name)) = kind(i + 1) {
                bound.push(name);
            }
        }
        Some(Kind::Ident("with")) => {
            let mut j = i + 1;
            while let Some(k) = kind(j) {
                match (k, kind(j + 1)) {
                    (Kind::End, _) => break,
                    (Kind::Ident(name), Some(Kind::Other)) => bound.push(name),
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {}
    }
}

/// Filters that take the name of a test or a filter as a string: `select("odd")`,
/// `reject("none")`, `selectattr("x", "eq", 1)`, `rejectattr(...)`, `map("upper")`.
fn string_args<'a>(toks: &[Tok<'a>], filter: &str, open: usize, uses: &mut Uses<'a>) {
    if toks.get(open).map(|t| t.kind) != Some(Kind::ParenOpen) {
        return;
    }
    let literal = |i: usize| match (toks.get(i), toks.get(i + 1).map(|t| t.kind)) {
        (Some(t), Some(Kind::Comma | Kind::ParenClose)) => match t.kind {
            Kind::Str(Some(s)) => Some(Use {
                name: s,
                at: t.start,
            }),
            _ => None,
        },
        _ => None,
    };
    match filter {
        "select" | "reject" => uses.tests.extend(literal(open + 1)),
        "map" => uses.filters.extend(literal(open + 1)),
        "selectattr" | "rejectattr"
            if literal(open + 1).is_some()
                && toks.get(open + 2).map(|t| t.kind) == Some(Kind::Comma) =>
        {
            uses.tests.extend(literal(open + 3));
        }
        _ => {}
    }
}

/// `vars.KEY` / `vars["KEY"]` at token `i` (the `vars`), and whether it is guarded.
fn var_ref<'a>(src: &'a str, toks: &[Tok<'a>], i: usize) -> Option<VarRef<'a>> {
    let kind = |i: usize| toks.get(i).map(|t| t.kind);
    let (key, mut next) = match (kind(i + 1), kind(i + 2), kind(i + 3)) {
        (Some(Kind::Dot), Some(Kind::Ident(key)), _) => (key, i + 3),
        (Some(Kind::BracketOpen), Some(Kind::Str(Some(key))), Some(Kind::BracketClose)) => {
            (key, i + 4)
        }
        _ => return None,
    };
    // Attribute lookups on the value (`vars.X.y`) do not change what guards it.
    while kind(next) == Some(Kind::Dot) && matches!(kind(next + 1), Some(Kind::Ident(_))) {
        next += 2;
    }
    let guarded = match kind(next) {
        Some(Kind::Pipe) => matches!(dotted_name(src, toks, next + 1), Some(("default" | "d", _))),
        Some(Kind::Ident("is")) => {
            let j = if kind(next + 1) == Some(Kind::Ident("not")) {
                next + 2
            } else {
                next + 1
            };
            matches!(kind(j), Some(Kind::Ident("defined" | "undefined")))
        }
        _ => false,
    };
    Some(VarRef {
        key,
        guarded,
        at: toks.get(i).map_or(0, |t| t.start),
    })
}

fn raw_start() -> Option<&'static regex::Regex> {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\A\{%[-+]?\s*raw\s*[-+]?%\}").ok())
        .as_ref()
}

fn raw_end() -> Option<&'static regex::Regex> {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\{%[-+]?\s*endraw\s*[-+]?%\}").ok())
        .as_ref()
}

/// The tokens of every `{{ }}` and `{% %}` block; template data, comments and raw
/// blocks are skipped.
fn tokenize(src: &str) -> Vec<Tok<'_>> {
    let bytes = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(open) = find_start(bytes, i) {
        match bytes[open + 1] {
            b'#' => {
                i = find(bytes, open + 2, b"#}").map_or(bytes.len(), |end| end + 2);
            }
            b'%' => {
                let raw = raw_start().and_then(|re| re.find(&src[open..]));
                if let Some(raw) = raw {
                    let body = open + raw.end();
                    i = raw_end()
                        .and_then(|re| re.find(&src[body..]))
                        .map_or(bytes.len(), |m| body + m.end());
                } else {
                    toks.push(Tok {
                        kind: Kind::Start(true),
                        start: open,
                        end: open + 2,
                    });
                    i = lex_block(src, open + 2, b"%}", &mut toks);
                }
            }
            _ => {
                toks.push(Tok {
                    kind: Kind::Start(false),
                    start: open,
                    end: open + 2,
                });
                i = lex_block(src, open + 2, b"}}", &mut toks);
            }
        }
    }
    toks
}

/// The next `{{`, `{%` or `{#` at or after `from`.
fn find_start(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len().saturating_sub(1))
        .find(|&i| bytes[i] == b'{' && matches!(bytes[i + 1], b'{' | b'%' | b'#'))
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Tokens from `i` (just after the start marker) to the block's end marker, at bracket
/// depth 0 as minijinja's lexer does; returns the index after the end marker.
fn lex_block<'a>(src: &'a str, mut i: usize, end_marker: &[u8], toks: &mut Vec<Tok<'a>>) -> usize {
    let bytes = src.as_bytes();
    if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut depth = 0i32;
    let push = |toks: &mut Vec<Tok<'a>>, kind, start, end| toks.push(Tok { kind, start, end });
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if depth <= 0 {
            let rest = &bytes[i..];
            let marker = if matches!(c, b'-' | b'+') {
                rest.get(1..)
                    .filter(|r| r.starts_with(end_marker))
                    .map(|_| 1)
            } else {
                rest.starts_with(end_marker).then_some(0)
            };
            if let Some(skip) = marker {
                let end = i + skip + end_marker.len();
                push(toks, Kind::End, i, end);
                return end;
            }
        }
        let start = i;
        let kind = match c {
            b'\'' | b'"' => {
                let mut j = i + 1;
                let mut escaped = false;
                while j < bytes.len() && bytes[j] != c {
                    if bytes[j] == b'\\' {
                        escaped = true;
                        j += 1;
                    }
                    j += 1;
                }
                let text = src.get(i + 1..j.min(bytes.len()));
                i = j + 1;
                Kind::Str(if escaped { None } else { text })
            }
            b'|' => {
                i += 1;
                Kind::Pipe
            }
            b'.' => {
                i += 1;
                Kind::Dot
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
                match c {
                    b'(' => Kind::ParenOpen,
                    b'[' => Kind::BracketOpen,
                    _ => Kind::Other,
                }
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                i += 1;
                match c {
                    b')' => Kind::ParenClose,
                    b']' => Kind::BracketClose,
                    _ => Kind::Other,
                }
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                Kind::Other
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Kind::Ident(src.get(start..i).unwrap_or_default())
            }
            _ => {
                i += 1;
                Kind::Other
            }
        };
        push(toks, kind, start, i.min(bytes.len()));
    }
    bytes.len()
}

/// The end of a number literal: digits and `_`, a fraction, an exponent (`1_000`,
/// `1.5`, `2e-3`); `x.0.y`-style item lookups stop at the second dot.
fn number_end(bytes: &[u8], mut i: usize) -> usize {
    let digits = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b'_') {
            *i += 1;
        }
    };
    digits(&mut i);
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        digits(&mut i);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
            i += 1 + sign;
            digits(&mut i);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(uses: &[Use<'a>]) -> Vec<&'a str> {
        uses.iter().map(|u| u.name).collect()
    }

    #[test]
    fn filters_and_tests_outside_strings_and_comments() {
        let src = r#"{{ a | upper }}{{ b|lower|trim }} "| nope" {# | c is x #}{{ "x | y is z" ~ c | default("|d") }}
{% if d is not defined and e is odd %}{% filter title %}t{% endfilter %}{% endif %}
{% raw %}{{ x | raw_inside }}{% endraw %}{{ f | my.dotted(1) }}{{ g is divisibleby 3 }}{%- set h | indent -%}x{% endset %}"#;
        let uses = scan(src);
        assert_eq!(
            names(&uses.filters),
            [
                "upper",
                "lower",
                "trim",
                "default",
                "title",
                "my.dotted",
                "indent"
            ]
        );
        assert_eq!(names(&uses.tests), ["defined", "odd", "divisibleby"]);
    }

    #[test]
    fn string_arguments_naming_filters_and_tests() {
        let uses = scan(
            r#"{{ xs | select("odd") | reject('none') | selectattr("a", "eq", 1) | map("upper") | map(attribute="x") | select(t) }}"#,
        );
        assert_eq!(names(&uses.tests), ["odd", "none", "eq"]);
        assert_eq!(
            names(&uses.filters),
            [
                "select",
                "reject",
                "selectattr",
                "map",
                "upper",
                "map",
                "select"
            ]
        );
    }

    #[test]
    fn calls_with_literal_arguments() {
        let uses = scan(
            r#"{{ env("A") }}{{ env('B', "d") }}{{ env(name) }}{{ x.env("C") }}{{ date("%Y", days=1) }}{{ env("E\"") }}{{ uuid() }}"#,
        );
        let calls: Vec<_> = uses
            .literal_calls
            .iter()
            .map(|c| (c.function, c.arg, c.more))
            .collect();
        assert_eq!(
            calls,
            [
                ("env", "A", false),
                ("env", "B", true),
                ("date", "%Y", true)
            ]
        );
        assert_eq!(
            names(&uses.calls),
            ["env", "env", "env", "date", "env", "uuid"]
        );
    }

    #[test]
    fn vars_references_and_guards() {
        let uses = scan(
            r#"{{ vars.A }}{{ vars["B"] | default("x") }}{{ vars.C.d is defined }}{{ x.vars.E }}{{ vars.F is not undefined }}{{ vars[k] }}{{ vars.G | upper }}"#,
        );
        let refs: Vec<_> = uses.vars.iter().map(|v| (v.key, v.guarded)).collect();
        assert_eq!(
            refs,
            [
                ("A", false),
                ("B", true),
                ("C", true),
                ("F", true),
                ("G", false)
            ]
        );
    }

    #[test]
    fn block_ends_follow_bracket_depth_and_whitespace_markers() {
        // A dict literal's `}}` does not end the block; `-}}` does.
        let uses = scan("{{- {'a': {'b': 1}} | tojson -}} {{ 1.5 | round }} {{ 2e-3|abs }}");
        assert_eq!(names(&uses.filters), ["tojson", "round", "abs"]);
        // Positions and template lines.
        let src = "a\nb {{ x |\n upper }}";
        let uses = scan(src);
        assert_eq!(line_of(src, uses.filters[0].at), 3);
        assert_eq!(line_of(src, 0), 1);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for src in [
            "{{",
            "{{ 'abc",
            "{# x",
            "{% raw %}x",
            "{{ a |",
            "{{ a is",
            "{{ vars.",
            "{{ 1e",
            "é{{ 'é' | x }}",
        ] {
            let _ = scan(src);
        }
        assert_eq!(names(&scan("é{{ 'é' | x }}").filters), ["x"]);
    }
}
