//! Finding values in a response body for checks and extractions: JSON pointers
//! (RFC 6901, plus `*` to fan out over every item of an array or value of an object),
//! and CSS selectors on HTML (an element's text, or one of its attributes). Selectors
//! and pointers are compiled once at load; the body is parsed once per response.

use std::ops::ControlFlow;

use serde_json::Value as Json;

/// A compiled JSON pointer.
#[derive(Debug, Clone)]
pub(crate) struct Pointer {
    /// As written, for messages (`/items/*/id`).
    text: String,
    /// The unescaped reference tokens (`~1` is `/`, `~0` is `~`).
    tokens: Vec<String>,
    /// Whether a token is `*`.
    fans_out: bool,
}

impl Pointer {
    /// A pointer is empty (the whole document) or starts with `/`.
    pub fn parse(p: &str) -> Result<Pointer, String> {
        if !(p.is_empty() || p.starts_with('/')) {
            return Err(format!(
                "JSON pointer {p:?} must start with `/` (for example \"/{p}\")"
            ));
        }
        let tokens: Vec<String> = p
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        Ok(Pointer {
            text: p.to_string(),
            fans_out: tokens.iter().any(|t| t == "*"),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pointer can find more than one value (it has a `*`).
    pub fn fans_out(&self) -> bool {
        self.fans_out
    }

    /// The first value found (in document order), if any.
    pub fn first<'j>(&self, doc: &'j Json) -> Option<&'j Json> {
        if !self.fans_out {
            return doc.pointer(&self.text);
        }
        let mut found = None;
        let _ = self.each(doc, &mut |v| {
            found = Some(v);
            ControlFlow::Break(())
        });
        found
    }

    /// Calls `f` with every value found, in document order, until it breaks.
    pub fn each<'j>(
        &self,
        doc: &'j Json,
        f: &mut dyn FnMut(&'j Json) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        walk(doc, &self.tokens, f)
    }
}

fn walk<'j>(
    at: &'j Json,
    tokens: &[String],
    f: &mut dyn FnMut(&'j Json) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some((token, rest)) = tokens.split_first() else {
        return f(at);
    };
    match at {
        Json::Array(items) if token == "*" => {
            for item in items {
                walk(item, rest, f)?;
            }
            ControlFlow::Continue(())
        }
        Json::Object(map) if token == "*" && !map.contains_key("*") => {
            for value in map.values() {
                walk(value, rest, f)?;
            }
            ControlFlow::Continue(())
        }
        Json::Object(map) => match map.get(token.as_str()) {
            Some(next) => walk(next, rest, f),
            None => ControlFlow::Continue(()),
        },
        Json::Array(items) => match array_index(token).and_then(|i| items.get(i)) {
            Some(next) => walk(next, rest, f),
            None => ControlFlow::Continue(()),
        },
        _ => ControlFlow::Continue(()),
    }
}

/// An array index as RFC 6901 writes it: digits, no sign, no leading zero.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// A compiled CSS selector and what to take from each element it matches.
#[derive(Debug, Clone)]
pub(crate) struct Css {
    source: String,
    selector: scraper::Selector,
    /// An attribute's value, or (None) the element's text.
    attr: Option<String>,
}

impl Css {
    pub fn parse(source: &str, attr: Option<&str>) -> Result<Css, String> {
        let selector = scraper::Selector::parse(source)
            .map_err(|e| format!("invalid CSS selector {source:?}: {e}"))?;
        if let Some(a) = attr {
            if a.is_empty() || a.contains(char::is_whitespace) {
                return Err(format!(
                    "`attr = {a:?}` is not an attribute name (for example \"href\" or \"value\")"
                ));
            }
        }
        Ok(Css {
            source: source.to_string(),
            selector,
            attr: attr.map(str::to_ascii_lowercase),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn attr(&self) -> Option<&str> {
        self.attr.as_deref()
    }

    /// Each matching element's attribute value (elements without it are passed over) or
    /// text content (trimmed), in document order.
    pub fn values<'h>(&'h self, html: &'h scraper::Html) -> impl Iterator<Item = String> + 'h {
        html.select(&self.selector)
            .filter_map(move |el| match &self.attr {
                Some(a) => el.value().attr(a).map(str::to_string),
                None => Some(el.text().collect::<String>().trim().to_string()),
            })
    }

    /// How a miss reads in a message: `no element matches css "a.x"` or `no element
    /// matched by css "a.x" has an attribute "href"`.
    pub fn miss(&self, html: &scraper::Html) -> String {
        match &self.attr {
            Some(a) if html.select(&self.selector).next().is_some() => format!(
                "no element matched by css {:?} has an attribute {a:?}",
                self.source
            ),
            _ => format!("no element matches css {:?}", self.source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all<'j>(p: &str, doc: &'j Json) -> Vec<&'j Json> {
        let mut out = Vec::new();
        let _ = Pointer::parse(p).unwrap().each(doc, &mut |v| {
            out.push(v);
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn pointers_follow_rfc6901() {
        let doc = json!({"a/b": 1, "m~n": 2, "items": [{"id": 1}, {"id": 2}], "": 3});
        for (p, want) in [
            ("/a~1b", json!(1)),
            ("/m~0n", json!(2)),
            ("/items/1/id", json!(2)),
            ("/", json!(3)),
        ] {
            let ptr = Pointer::parse(p).unwrap();
            assert!(!ptr.fans_out());
            assert_eq!(ptr.first(&doc), Some(&want), "{p}");
            assert_eq!(all(p, &doc), vec![&want], "{p}");
        }
        assert_eq!(Pointer::parse("").unwrap().first(&doc), Some(&doc));
        assert_eq!(all("/items/01/id", &doc), Vec::<&Json>::new());
        assert_eq!(all("/items/+1/id", &doc), Vec::<&Json>::new());
        assert!(Pointer::parse("items").is_err());
    }

    #[test]
    fn star_fans_out_over_arrays_and_objects() {
        let doc = json!({
            "items": [{"id": 1, "tags": ["a", "b"]}, {"x": 0}, {"id": 3, "tags": ["c"]}],
            "by_name": {"ann": {"age": 30}, "bob": {"age": 40}},
            "literal": {"*": "star", "other": "no"},
        });
        assert_eq!(all("/items/*/id", &doc), vec![&json!(1), &json!(3)]);
        assert_eq!(
            all("/items/*/tags/*", &doc),
            vec![&json!("a"), &json!("b"), &json!("c")]
        );
        assert_eq!(all("/by_name/*/age", &doc), vec![&json!(30), &json!(40)]);
        assert_eq!(all("/literal/*", &doc), vec![&json!("star")]);
        assert_eq!(all("/nothing/*", &doc), Vec::<&Json>::new());
        let p = Pointer::parse("/items/*/id").unwrap();
        assert!(p.fans_out());
        assert_eq!(p.first(&doc), Some(&json!(1)));
        assert_eq!(p.as_str(), "/items/*/id");
    }

    #[test]
    fn css_takes_text_or_an_attribute() {
        let html = scraper::Html::parse_document(
            r#"<html><body>
            <form><input name="authenticity_token" value="t0k"><input name="q"></form>
            <a class="internal" href="/a"> First </a>
            <a class="external" href="http://x/">x</a>
            <a class="internal">no href</a>
            <a class="internal" href="/b">Second</a>
            </body></html>"#,
        );
        let token = Css::parse("input[name=authenticity_token]", Some("value")).unwrap();
        assert_eq!(token.values(&html).collect::<Vec<_>>(), vec!["t0k"]);
        let links = Css::parse("a.internal", Some("href")).unwrap();
        assert_eq!(links.values(&html).collect::<Vec<_>>(), vec!["/a", "/b"]);
        let texts = Css::parse("a.internal", None).unwrap();
        assert_eq!(
            texts.values(&html).collect::<Vec<_>>(),
            vec!["First", "no href", "Second"]
        );
        assert!(links.values(&html).next().is_some());
        let missing_attr = Css::parse("input[name=q]", Some("value")).unwrap();
        assert!(missing_attr.values(&html).next().is_none());
        assert_eq!(
            missing_attr.miss(&html),
            r#"no element matched by css "input[name=q]" has an attribute "value""#
        );
        let none = Css::parse("table td", None).unwrap();
        assert_eq!(none.miss(&html), r#"no element matches css "table td""#);
        assert!(Css::parse("a[", None).is_err());
        assert!(Css::parse("a", Some("two words")).is_err());
        assert_eq!(Css::parse("A", Some("HREF")).unwrap().attr(), Some("href"));
    }
}
