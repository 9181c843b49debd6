//! Keeping secrets out of reports: the values of secret request headers (Authorization,
//! Cookie, Proxy-Authorization and any `secret-headers`), and passwords in URLs, are
//! replaced by `[redacted]` in every string of the result, whatever echoed them.

use std::borrow::Cow;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";
/// Shorter pieces are not redacted on their own (they would blank ordinary words).
const MIN_SECRET_LEN: usize = 6;
/// Words of an Authorization value that are not secret.
const AUTH_SCHEMES: [&str; 5] = ["Bearer", "Basic", "Digest", "Negotiate", "Token"];

/// Secret values to scrub, longest first.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// From secret header values as sent: a value, and its credential parts (the token
    /// after `Bearer `, each cookie value), are all scrubbed.
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut secrets = Vec::new();
        for value in values {
            let value = value.trim().to_string();
            for part in value.split([' ', ';', ',']) {
                let part = part.trim();
                if AUTH_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(part)) {
                    continue;
                }
                secrets.push(part.to_string());
                if let Some((_, cookie)) = part.split_once('=') {
                    secrets.push(cookie.to_string());
                }
            }
            secrets.push(value);
        }
        secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every secret, and any `user:password@` of a URL, replaced.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        match strip_userinfo(&out) {
            Some(clean) => Cow::Owned(clean),
            None => out,
        }
    }

    /// Scrubs every string (and object key) of a JSON value in place.
    pub fn json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(clean) = self.text(s) {
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::Object(map) => {
                let old = std::mem::take(map);
                for (key, mut v) in old {
                    self.json(&mut v);
                    map.insert(self.text(&key).into_owned(), v);
                }
            }
            _ => {}
        }
    }
}

/// `scheme://user:pass@host` → `scheme://[redacted]@host`, for every URL in `text`;
/// None when there is none.
fn strip_userinfo(text: &str) -> Option<String> {
    if !text.contains("://") || !text.contains('@') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'' || c == '"'
            })
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_their_parts_are_scrubbed() {
        let r = Redactor::new([
            "Bearer s3cr3t-token-42".to_string(),
            "sid=abcdef123; theme=x".to_string(),
        ]);
        assert_eq!(r.text("echo: Bearer s3cr3t-token-42!"), "echo: [redacted]!");
        assert_eq!(r.text("token s3cr3t-token-42"), "token [redacted]");
        assert_eq!(r.text("cookie abcdef123"), "cookie [redacted]");
        assert_eq!(r.text("Bearer is a word"), "Bearer is a word");
        let mut v = serde_json::json!({"a": ["x s3cr3t-token-42"], "s3cr3t-token-42": 1});
        r.json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x [redacted]"], "[redacted]": 1})
        );
    }

    #[test]
    fn url_passwords_are_scrubbed() {
        let r = Redactor::default();
        assert_eq!(
            r.text("-H http://bob:pw@host:80/x http://plain/"),
            "-H http://[redacted]@host:80/x http://plain/"
        );
        assert_eq!(r.text("mail a@b"), "mail a@b");
    }
}
