//! Python's `repr()` for the two value kinds Locust's formats print: `str` and `float`.
//! Error strings, failure keys and CSV numbers must match Python byte for byte, so the
//! rules live here once and every format calls them.

use unicode_general_category::{get_general_category, GeneralCategory, UNICODE_VERSION};

// Python 3.11's `unicodedata` is Unicode 14.0.0, and so are the printable flags that
// `repr()` consults. unicode-general-category 0.5.x is generated from exactly that
// version (0.6 is 15.0, 1.x is 16.0), so a code point assigned in a later Unicode
// version (e.g. U+1F6DC, 15.0) is unassigned (Cn) here as it is in Python 3.11 and is
// escaped the same way. A bump of the crate that changes its Unicode version stops the
// build here instead of silently drifting from Python.
const _: () = assert!(
    UNICODE_VERSION.0 == 14 && UNICODE_VERSION.1 == 0 && UNICODE_VERSION.2 == 0,
    "pyrepr needs Unicode 14.0.0 data to match Python 3.11's repr()"
);

/// `Py_UNICODE_ISPRINTABLE`: false for the general categories Cc, Cf, Cs, Co, Cn, Zl, Zp
/// and Zs, except the ASCII space (Python's makeunicodedata.py).
fn is_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    )
}

/// `repr(s)` of a Python `str` (3.11's `unicode_repr`): single quotes unless the text
/// holds `'` and no `"`; `\\`, the quote, `\t`, `\n` and `\r` escaped with a backslash;
/// other non-printable characters as `\xhh` (below U+0100), `\uhhhh` (below U+10000) or
/// `\Uhhhhhhhh`, in lowercase hex.
pub fn repr_str(s: &str) -> String {
    let quote_byte = if s.contains('\'') && !s.contains('"') {
        b'"'
    } else {
        b'\''
    };
    let quote = char::from(quote_byte);
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    // Fast path: the leading run of printable ASCII that needs no escape is copied whole
    // (for most texts, all of it).
    let plain = s
        .bytes()
        .position(|b| !(b' '..0x7f).contains(&b) || b == b'\\' || b == quote_byte)
        .unwrap_or(s.len());
    out.push_str(&s[..plain]);
    for c in s[plain..].chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => push_escape(&mut out, c),
        }
    }
    out.push(quote);
    out
}

/// Python's escape of a non-printable character by its code point's size: `\xhh`,
/// `\uhhhh` or `\Uhhhhhhhh`, lowercase hex.
fn push_escape(out: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let cp = c as u32;
    let (letter, digits) = match cp {
        0..=0xff => ('x', 2),
        0x100..=0xffff => ('u', 4),
        _ => ('U', 8),
    };
    out.push('\\');
    out.push(letter);
    for shift in (0..digits).rev() {
        out.push(char::from(HEX[(cp >> (4 * shift)) as usize & 0xf]));
    }
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
            'x' => out.push(hex_char(&mut chars, 2)?),
            'u' => out.push(hex_char(&mut chars, 4)?),
            'U' => out.push(hex_char(&mut chars, 8)?),
            other => out.push(other),
        }
    }
    Some(out)
}

/// The character of the next `digits` hex digits (an `\x`, `\u` or `\U` escape's body).
fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let mut cp = 0u32;
    for _ in 0..digits {
        cp = cp * 16 + chars.next()?.to_digit(16)?;
    }
    char::from_u32(cp)
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
    fn quote_choice_like_python() {
        assert_eq!(repr_str(""), "''");
        assert_eq!(repr_str("'"), "\"'\"");
        assert_eq!(repr_str("\""), "'\"'");
        assert_eq!(repr_str("'\""), "'\\'\"'");
        assert_eq!(repr_str("é'\u{a0}"), "\"é'\\xa0\"");
        assert_eq!(repr_str("é'\"\u{a0}"), "'é\\'\"\\xa0'");
    }

    #[test]
    fn non_printable_characters_escape_like_python() {
        let cases = [
            ("\u{a0}", "'\\xa0'"),           // NBSP, Zs
            ("\u{ad}", "'\\xad'"),           // soft hyphen, Cf
            ("\u{85}", "'\\x85'"),           // NEL, Cc
            ("\u{7f}", "'\\x7f'"),           // DEL, Cc
            ("\u{0}", "'\\x00'"),            // NUL
            ("\u{1b}", "'\\x1b'"),           // ESC
            ("\u{200f}", "'\\u200f'"),       // RLM, Cf
            ("\u{2028}", "'\\u2028'"),       // Zl
            ("\u{2029}", "'\\u2029'"),       // Zp
            ("\u{3000}", "'\\u3000'"),       // ideographic space, Zs
            ("\u{e000}", "'\\ue000'"),       // private use, Co
            ("\u{feff}", "'\\ufeff'"),       // BOM, Cf
            ("\u{fffe}", "'\\ufffe'"),       // noncharacter, Cn
            ("\u{378}", "'\\u0378'"),        // unassigned, Cn
            ("\u{e0001}", "'\\U000e0001'"),  // language tag, Cf
            ("\u{f0000}", "'\\U000f0000'"),  // plane 15 private use
            ("\u{10ffff}", "'\\U0010ffff'"), // last code point, Cn
            ("\u{1f6dc}", "'\\U0001f6dc'"),  // assigned in Unicode 15: Cn in Python 3.11
            ("\u{11f00}", "'\\U00011f00'"),  // Kawi, Unicode 15: Cn in Python 3.11
        ];
        for (text, repr) in cases {
            assert_eq!(
                repr_str(text),
                repr,
                "repr of U+{:04X}",
                text.chars().next().unwrap() as u32
            );
        }
        // Printable non-ASCII is kept as is, including letters new in Unicode 14.
        assert_eq!(repr_str("é ü 中 😀 \u{870}"), "'é ü 中 😀 \u{870}'");
        assert_eq!(
            repr_str("a\u{a0}b\tc\\d\u{2028}é"),
            "'a\\xa0b\\tc\\\\d\\u2028é'"
        );
    }

    /// Python 3.11 itself, for every code point but the surrogates: the non-printable
    /// ones as ranges (checked one by one, to name any that differ), then the `repr()` of
    /// runs of 128 code points, a line each (checked byte for byte: the escapes, the
    /// quotes, every printable character in context).
    ///
    /// Slow-ish in a debug build (the crate's tables are `const` arrays, copied per lookup
    /// when unoptimised), hence not every all-escape run is compared byte for byte.
    #[test]
    fn matches_python_3_11_for_every_code_point() {
        const SCRIPT: &str = r#"
import sys, unicodedata
v = sys.version_info
out = [f"{v.major}.{v.minor}.{v.micro}", unicodedata.unidata_version]
start = None
for cp in range(0x110001):
    np = cp < 0x110000 and not 0xD800 <= cp <= 0xDFFF and not chr(cp).isprintable()
    if np and start is None:
        start = cp
    elif not np and start is not None:
        out.append(f"{start:x}-{cp - 1:x}")
        start = None
out.append("reprs")
chars = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
runs = [chars[i:i + 128] for i in range(0, len(chars), 128)]
out += [
    repr("".join(run))
    for i, run in enumerate(runs)
    if i % 32 == 0 or any(c.isprintable() for c in run)
]
sys.stdout.buffer.write("\n".join(out).encode("utf-8"))
"#;
        let output = std::process::Command::new("python3")
            .args(["-c", SCRIPT])
            .output()
            .unwrap_or_else(|e| {
                panic!("this test needs Python 3.11 as `python3` on PATH; running it failed: {e}")
            });
        assert!(
            output.status.success(),
            "python3 failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).expect("python3 printed UTF-8");
        let mut lines = stdout.split('\n');
        let version = lines.next().unwrap_or("");
        assert!(
            version.starts_with("3.11."),
            "this test compares with Python 3.11 (Unicode 14.0.0), but `python3` is Python {version}"
        );
        assert_eq!(
            lines.next(),
            Some("14.0.0"),
            "Python 3.11's Unicode version"
        );

        let mut non_printable = vec![false; 0x11_0000];
        for line in lines.by_ref().take_while(|l| *l != "reprs") {
            let (a, b) = line.split_once('-').expect("range line");
            let a = u32::from_str_radix(a, 16).expect("hex") as usize;
            let b = u32::from_str_radix(b, 16).expect("hex") as usize;
            non_printable[a..=b].fill(true);
        }
        let chars: Vec<char> = (0..0x11_0000u32).filter_map(char::from_u32).collect();
        let differing: Vec<String> = chars
            .iter()
            .filter(|&&c| is_printable(c) == non_printable[c as usize])
            .map(|&c| format!("U+{:04X}", c as u32))
            .collect();
        assert!(
            differing.is_empty(),
            "{} code points differ from Python 3.11 in printability: {}",
            differing.len(),
            differing[..differing.len().min(50)].join(" ")
        );

        // The runs Python printed: those with a printable character, and every 32nd
        // (the rest are all escapes, like their neighbours; each of their code points is
        // checked above).
        let mut compared = 0;
        for (index, run) in chars.chunks(128).enumerate() {
            if index % 32 != 0 && run.iter().all(|&c| non_printable[c as usize]) {
                continue;
            }
            let python = lines
                .next()
                .expect("python3 printed fewer runs than expected");
            let ours = repr_str(&run.iter().collect::<String>());
            assert!(
                ours == python,
                "repr() of U+{:04X}..=U+{:04X} differs from Python 3.11:\n ours:   {ours}\n python: {python}",
                run[0] as u32,
                run[run.len() - 1] as u32
            );
            compared += 1;
        }
        assert!(compared > 1000, "only {compared} runs compared");
        assert_eq!(
            lines.next(),
            None,
            "python3 printed more runs than expected"
        );
    }

    #[test]
    fn unrepr_inverts_repr() {
        for s in [
            "abc",
            "it's",
            "a'b\"c",
            "x\ny\t\\",
            "\x01",
            "\u{a0}é\u{2028}\u{e0001}\u{10ffff}",
        ] {
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
