//! Python's `repr()` for the two value kinds Locust's formats print: `str` and `float`.
//! Error strings, failure keys and CSV numbers must match Python byte for byte, so the
//! rules live here once and every format calls them.

/// `repr(s)` of a Python `str`: single quotes unless the text holds `'` and no `"`.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(x)` of a Python `float`: the shortest text that round-trips, always with a
/// decimal point or an exponent (`6.0`, `2.5e-05`, `1e+16`, `inf`, `nan`).
pub fn repr_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits; Python then picks fixed or
    // exponent notation by the decimal exponent (fixed when -4 <= exp < 16).
    let sci = format!("{:e}", x);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => return sci,
    };
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Inverse of [`repr_str`] for the escapes it produces: `'text'` or `"text"` → text.
/// None when `s` is not a quoted Python string literal.
pub fn unrepr_str(s: &str) -> Option<String> {
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = s.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_quote_like_python() {
        assert_eq!(repr_str("abc"), "'abc'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            repr_str("HTTPError('404 Client Error: File not found for url: /missing')"),
            "\"HTTPError('404 Client Error: File not found for url: /missing')\""
        );
        assert_eq!(repr_str("x\ny"), "'x\\ny'");
    }

    #[test]
    fn unrepr_inverts_repr() {
        for s in ["abc", "it's", "a'b\"c", "x\ny\t\\", "\x01"] {
            assert_eq!(unrepr_str(&repr_str(s)).as_deref(), Some(s));
        }
        assert_eq!(unrepr_str("no quotes"), None);
    }

    #[test]
    fn floats_print_like_python() {
        assert_eq!(repr_float(6.0), "6.0");
        assert_eq!(repr_float(2.6924494999994284), "2.6924494999994284");
        assert_eq!(repr_float(0.1), "0.1");
        assert_eq!(repr_float(1e16), "1e+16");
        assert_eq!(repr_float(1234567890123456.0), "1234567890123456.0");
        assert_eq!(repr_float(0.0001), "0.0001");
        assert_eq!(repr_float(0.00001), "1e-05");
        assert_eq!(repr_float(2.5e-5), "2.5e-05");
        assert_eq!(repr_float(-3.5), "-3.5");
        assert_eq!(repr_float(1795716769.3040407), "1795716769.3040407");
        assert_eq!(repr_float(100.0), "100.0");
    }
}
