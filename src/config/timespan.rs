//! Locust's time-span strings (`20`, `20s`, `3m`, `1h30m`, `3h30m10s`) as whole seconds.
//! Shared by `-t/--run-time`, `-s/--stop-timeout` and config files, with Locust's message.

/// The text Locust prints for a bad time span.
pub const INVALID: &str =
    "Invalid time span format. Valid formats: 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.";

/// Parses a time span into seconds. Only digits means seconds; otherwise the whole text
/// must be `[<int>h][<int>m][<int>s]` in that order with at least one part.
pub fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let mut total: u64 = 0;
    let mut rest = text;
    let mut seen_any = false;
    for (unit, factor) in [('h', 3600u64), ('m', 60), ('s', 1)] {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || rest.as_bytes().get(digits) != Some(&(unit as u8)) {
            continue;
        }
        let value: u64 = rest[..digits].parse().ok()?;
        total = total.checked_add(value.checked_mul(factor)?)?;
        rest = &rest[digits + 1..];
        seen_any = true;
    }
    (seen_any && rest.is_empty()).then_some(total)
}

/// clap value parser wrapper.
pub fn parse_arg(text: &str) -> Result<u64, String> {
    parse(text).ok_or_else(|| INVALID.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_locust_formats() {
        for (text, secs) in [
            ("20", 20),
            ("20s", 20),
            ("3m", 180),
            ("2h", 7200),
            ("1h30m", 5400),
            ("3h30m10s", 12610),
            ("90m", 5400),
            ("1h5s", 3605),
            ("0", 0),
            ("0s", 0),
        ] {
            assert_eq!(parse(text), Some(secs), "{text}");
        }
    }

    #[test]
    fn rejects_what_locust_rejects() {
        for text in ["1.5h", "1d", "5s10m", "1H", "", "s", "1x", "-1", "1h 5s"] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
