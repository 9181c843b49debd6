//! `multipart/form-data` (RFC 7578) with the exact bytes requests (urllib3's
//! `encode_multipart_formdata`) sends: each part `--BOUNDARY\r\n`, its headers,
//! `\r\n`, its data, `\r\n`; then `--BOUNDARY--\r\n`. A part's headers are
//! `Content-Disposition: form-data; name="..."` (plus `; filename="..."` for a file), then
//! `Content-Type: ...` only when one is given; `"`, CR and LF in a name or filename are
//! written `%22`, `%0D`, `%0A` (urllib3's HTML5 rule). The boundary is 32 random
//! lowercase hex digits, as urllib3's `choose_boundary()`.
//!
//! Hand-written rather than a crate: the format is short, and matching requests byte for
//! byte (escaping, no default part Content-Type, boundary form) is the point.

use bytes::Bytes;
use http::HeaderValue;
use minijinja::{Environment, Value};

use crate::template::Template;

/// The parts of a multipart body, encoded at load except for templated field values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Multipart {
    parts: Vec<Part>,
}

/// One part: its header block (ending with the blank line) and its data.
#[derive(Debug, Clone)]
struct Part {
    head: Bytes,
    data: Data,
}

#[derive(Debug, Clone)]
enum Data {
    Fixed(Bytes),
    Text(Template),
}

impl Multipart {
    /// A text field (`form`), sent as its UTF-8 text.
    pub fn field(&mut self, name: &str, value: Template) {
        let data = match value {
            Template::Static(text) => Data::Fixed(Bytes::copy_from_slice(text.as_bytes())),
            t => Data::Text(t),
        };
        self.parts.push(Part {
            head: head(name, None, None),
            data,
        });
    }

    /// A file (`files`): its bytes, shared, never copied until a body is built.
    pub fn file(&mut self, name: &str, filename: &str, content_type: Option<&str>, data: Bytes) {
        self.parts.push(Part {
            head: head(name, Some(filename), content_type),
            data: Data::Fixed(data),
        });
    }

    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p.data, Data::Fixed(_)))
    }

    /// The whole body with this boundary, templated values rendered.
    pub fn encode(
        &self,
        boundary: &str,
        env: &Environment<'static>,
        ctx: &Value,
    ) -> Result<Vec<u8>, minijinja::Error> {
        let mut rendered = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            rendered.push(match &part.data {
                Data::Fixed(b) => std::borrow::Cow::Borrowed(&b[..]),
                Data::Text(t) => {
                    std::borrow::Cow::Owned(t.render(env, ctx)?.into_owned().into_bytes())
                }
            });
        }
        let datas = self
            .parts
            .iter()
            .zip(rendered.iter())
            .map(|(p, d)| (&p.head[..], &d[..]));
        Ok(encode(boundary, datas))
    }
}

/// `--b\r\n` head data `\r\n` for each part, then `--b--\r\n`, in one allocation.
fn encode<'a>(
    boundary: &str,
    parts: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
) -> Vec<u8> {
    let per_part = boundary.len() + 6;
    let size = parts
        .clone()
        .map(|(head, data)| per_part + head.len() + data.len())
        .sum::<usize>()
        + boundary.len()
        + 6;
    let mut out = Vec::with_capacity(size);
    for (head, data) in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(head);
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

/// A part's header lines and the blank line after them.
fn head(name: &str, filename: Option<&str>, content_type: Option<&str>) -> Bytes {
    let mut out = format!("Content-Disposition: form-data; name=\"{}\"", escape(name));
    if let Some(filename) = filename {
        out.push_str(&format!("; filename=\"{}\"", escape(filename)));
    }
    out.push_str("\r\n");
    if let Some(ct) = content_type.filter(|ct| !ct.is_empty()) {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    out.push_str("\r\n");
    Bytes::from(out)
}

/// urllib3's `format_multipart_header_param`: `"`, CR and LF percent-encoded, the rest
/// (non-ASCII too, as UTF-8) as is.
fn escape(value: &str) -> String {
    value
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// 32 random lowercase hex digits, urllib3's `binascii.hexlify(os.urandom(16))`.
pub(crate) fn boundary() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// `multipart/form-data; boundary=...`; None only for a boundary that is not a header
/// value (never one from [`boundary`]).
pub(crate) fn content_type(boundary: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_body(m: &Multipart, boundary: &str) -> Vec<u8> {
        let env = Environment::new();
        m.encode(boundary, &env, &Value::UNDEFINED).unwrap()
    }

    /// The bytes requests 2.34 / urllib3 2.7 send for
    /// `data={"f": "v", "t": ["a", "b"]}, files={"upload": ('ph"o.png', b"DATA", "image/png"), "g": open("hostname")}`
    /// with the boundary fixed.
    #[test]
    fn the_bytes_requests_sends() {
        let mut m = Multipart::default();
        m.field("f", Template::Static("v".into()));
        m.field("t", Template::Static("a".into()));
        m.field("t", Template::Static("b".into()));
        m.file(
            "upload",
            "ph\"o.png",
            Some("image/png"),
            Bytes::from_static(b"DATA"),
        );
        m.file("g", "hostname", None, Bytes::from_static(b"vm\n"));
        let b = "ce0f56a40f0b6a592683f2f1dac8e172";
        let expected = "--ce0f56a40f0b6a592683f2f1dac8e172\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--ce0f56a40f0b6a592683f2f1dac8e172\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\na\r\n--ce0f56a40f0b6a592683f2f1dac8e172\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nb\r\n--ce0f56a40f0b6a592683f2f1dac8e172\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"ph%22o.png\"\r\nContent-Type: image/png\r\n\r\nDATA\r\n--ce0f56a40f0b6a592683f2f1dac8e172\r\nContent-Disposition: form-data; name=\"g\"; filename=\"hostname\"\r\n\r\nvm\n\r\n--ce0f56a40f0b6a592683f2f1dac8e172--\r\n";
        let body = static_body(&m, b);
        assert_eq!(String::from_utf8_lossy(&body), expected);
        assert_eq!(
            body.len(),
            expected.len(),
            "one allocation of the exact size"
        );
        assert!(m.is_static());
    }

    /// `name="a\r\nb"` and non-ASCII: urllib3 writes `a%0D%0Ab`, `é` as UTF-8.
    #[test]
    fn names_are_escaped_like_urllib3() {
        let mut m = Multipart::default();
        m.file("a\r\n\"b", "é.txt", Some(""), Bytes::new());
        let body = static_body(&m, "x");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--x\r\nContent-Disposition: form-data; name=\"a%0D%0A%22b\"; filename=\"é.txt\"\r\n\r\n\r\n--x--\r\n"
        );
    }

    #[test]
    fn no_parts_is_the_closing_line() {
        assert_eq!(static_body(&Multipart::default(), "b"), b"--b--\r\n");
    }

    #[test]
    fn boundaries_are_32_random_hex_digits() {
        let (a, b) = (boundary(), boundary());
        assert_ne!(a, b);
        for x in [&a, &b] {
            assert_eq!(x.len(), 32);
            assert!(
                x.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)),
                "{x}"
            );
        }
        assert_eq!(
            content_type(&a).unwrap().to_str().unwrap(),
            format!("multipart/form-data; boundary={a}")
        );
        assert!(content_type("a\nb").is_none());
    }
}
