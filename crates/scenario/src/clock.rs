//! The clock functions of templates as pure functions of a given instant: `now()`,
//! `timestamp(unit)`, `date(format)`, `isoformat()` (all UTC, optionally shifted by
//! `days=`/`hours=`/`minutes=`/`seconds=`) and `totp(secret)`, the RFC 6238 code of an
//! authenticator app. `template_funcs.rs` calls them with the wall clock; tests with
//! fixed times.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// Default format of `date()`.
pub(crate) const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d";
/// Units `timestamp(unit)` accepts, default `ms`.
pub(crate) const TIMESTAMP_UNITS: &[&str] = &["s", "ms", "us"];
/// Algorithms `totp(..., algorithm=)` accepts, default `SHA1`.
pub(crate) const TOTP_ALGORITHMS: &[&str] = &["SHA1", "SHA256", "SHA512"];

/// `now()`: seconds since the Unix epoch, with the fraction (Python's `time.time()`).
pub(crate) fn epoch_seconds(at: SystemTime) -> f64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// `timestamp(unit)`: whole seconds (`s`), milliseconds (`ms`, JavaScript's
/// `Date.now()`) or microseconds (`us`) since the Unix epoch, rounded down.
pub(crate) fn timestamp(at: SystemTime, unit: &str) -> Result<i64, String> {
    let (since, sign) = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => (d, 1),
        Err(e) => (e.duration(), -1),
    };
    let value = match unit {
        "s" => since.as_secs() as i128,
        "ms" => since.as_millis() as i128,
        "us" => since.as_micros() as i128,
        other => return Err(unknown_unit(other)),
    };
    i64::try_from(sign * value).map_err(|_| "the time does not fit a 64-bit integer".into())
}

/// The message for a `timestamp()` unit that is not one of [`TIMESTAMP_UNITS`].
pub(crate) fn unknown_unit(unit: &str) -> String {
    format!(
        "timestamp({unit:?}): unknown unit; expected one of {}",
        TIMESTAMP_UNITS.join(", ")
    )
}

/// `at` shifted by an offset in seconds (from `days=` etc.), as a UTC date-time.
pub(crate) fn utc(at: SystemTime, offset_seconds: f64) -> Result<DateTime<Utc>, String> {
    let millis = offset_seconds * 1000.0;
    if !millis.is_finite() || millis.abs() > 1e15 {
        return Err(format!("time offset of {offset_seconds} s is out of range"));
    }
    DateTime::<Utc>::from(at)
        .checked_add_signed(TimeDelta::milliseconds(millis.round() as i64))
        .ok_or_else(|| format!("time offset of {offset_seconds} s is out of range"))
}

/// Checks a `strftime` format (chrono's, as Python's `strftime`: `%Y-%m-%d %H:%M:%S`).
pub(crate) fn check_format(format: &str) -> Result<(), String> {
    let items = StrftimeItems::new(format)
        .parse()
        .map_err(|_| bad_format(format))?;
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(bad_format(format));
    }
    // Some valid specifiers still cannot be written for a UTC time: try one.
    format_utc(DateTime::<Utc>::UNIX_EPOCH, format).map(|_| ())
}

fn bad_format(format: &str) -> String {
    format!("date({format:?}): invalid strftime format (e.g. \"%Y-%m-%dT%H:%M:%S\")")
}

/// `date(format)`: the time written with a `strftime` format; an error, never a panic,
/// for a bad format.
pub(crate) fn format_utc(at: DateTime<Utc>, format: &str) -> Result<String, String> {
    let items = StrftimeItems::new(format)
        .parse()
        .map_err(|_| bad_format(format))?;
    let mut out = String::new();
    write!(out, "{}", at.format_with_items(items.iter())).map_err(|_| bad_format(format))?;
    Ok(out)
}

/// `isoformat()`: RFC 3339 in UTC with milliseconds, JavaScript's `toISOString()`:
/// `2024-05-01T12:34:56.789Z`.
pub(crate) fn isoformat(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The bytes of a base32 secret as authenticator apps show it: case, spaces, dashes and
/// `=` padding are ignored.
pub(crate) fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let clean: String = secret
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '=' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if clean.is_empty() {
        return Err("totp(): the secret is empty".into());
    }
    totp_rs::Secret::try_from_base32(&clean)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|_| "totp(): the secret is not base32 (letters A-Z and digits 2-7)".into())
}

/// The parameters of a TOTP code besides the secret; the defaults are Google
/// Authenticator's (6 digits, 30 s, SHA-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TotpParams {
    pub digits: u8,
    pub period: u64,
    pub algorithm: String,
}

impl Default for TotpParams {
    fn default() -> Self {
        TotpParams {
            digits: 6,
            period: 30,
            algorithm: "SHA1".into(),
        }
    }
}

/// `totp(secret)`: the RFC 6238 code at `at` for a base32 secret.
pub(crate) fn totp(secret: &str, at: SystemTime, params: &TotpParams) -> Result<String, String> {
    let key = decode_secret(secret)?;
    totp_raw(&key, at, params)
}

/// [`totp`] for a secret already decoded (the RFC's test vectors are raw bytes).
pub(crate) fn totp_raw(key: &[u8], at: SystemTime, params: &TotpParams) -> Result<String, String> {
    if !(6..=8).contains(&params.digits) {
        return Err(format!("totp(): digits={} is not 6, 7 or 8", params.digits));
    }
    if params.period == 0 {
        return Err("totp(): period must be at least 1 second".into());
    }
    let algorithm = match params.algorithm.to_ascii_uppercase().as_str() {
        "SHA1" => totp_rs::Algorithm::SHA1,
        "SHA256" => totp_rs::Algorithm::SHA256,
        "SHA512" => totp_rs::Algorithm::SHA512,
        other => {
            return Err(format!(
                "totp(): unknown algorithm {other:?}; expected one of {}",
                TOTP_ALGORITHMS.join(", ")
            ))
        }
    };
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "totp(): the clock is before 1970".to_string())?
        .as_secs();
    // Digits and period are checked above; secrets shorter than the RFC's recommended
    // 128 bits are accepted, as authenticator apps accept them (80-bit secrets are common).
    let generator = totp_rs::Builder::new()
        .with_algorithm(algorithm)
        .with_digits(params.digits)
        .with_step_duration(params.period)
        .with_secret(key.to_vec())
        .build_noncompliant();
    Ok(generator.generate(seconds).to_string())
}

/// A time `seconds` after the Unix epoch (for tests and fixed clocks).
#[cfg(test)]
pub(crate) fn at_epoch_seconds(seconds: u64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// RFC 6238 appendix B: the times, and the 8-digit codes for SHA-1, SHA-256, SHA-512.
    const RFC6238: &[(u64, &str, &str, &str)] = &[
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ];

    fn seed(len: usize) -> Vec<u8> {
        b"1234567890".iter().copied().cycle().take(len).collect()
    }

    fn params(digits: u8, algorithm: &str) -> TotpParams {
        TotpParams {
            digits,
            algorithm: algorithm.into(),
            ..TotpParams::default()
        }
    }

    #[test]
    fn totp_matches_the_rfc_6238_test_vectors() {
        for (t, sha1, sha256, sha512) in RFC6238 {
            let at = at_epoch_seconds(*t);
            assert_eq!(totp_raw(&seed(20), at, &params(8, "SHA1")).unwrap(), *sha1);
            assert_eq!(
                totp_raw(&seed(32), at, &params(8, "sha256")).unwrap(),
                *sha256
            );
            assert_eq!(
                totp_raw(&seed(64), at, &params(8, "SHA512")).unwrap(),
                *sha512
            );
            // The default 6 digits are the last 6 of the 8 (the code modulo 10^6).
            assert_eq!(
                totp_raw(&seed(20), at, &TotpParams::default()).unwrap(),
                sha1[2..]
            );
        }
    }

    #[test]
    fn totp_reads_base32_as_authenticator_apps_show_it() {
        // "12345678901234567890" in base32, the RFC's SHA-1 secret.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let at = at_epoch_seconds(59);
        assert_eq!(totp(secret, at, &TotpParams::default()).unwrap(), "287082");
        let spaced = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq";
        assert_eq!(totp(spaced, at, &TotpParams::default()).unwrap(), "287082");
        // The same code for the whole 30 s step, another one after it.
        assert_eq!(
            totp(secret, at_epoch_seconds(30), &TotpParams::default()).unwrap(),
            "287082"
        );
        assert_ne!(
            totp(secret, at_epoch_seconds(60), &TotpParams::default()).unwrap(),
            "287082"
        );
        // An 80-bit secret (16 base32 letters) works, as in Google Authenticator.
        let short = totp("JBSWY3DPEHPK3PXP", at, &TotpParams::default()).unwrap();
        assert_eq!(short.len(), 6);
        assert!(short.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn totp_errors_are_messages() {
        let at = at_epoch_seconds(59);
        let d = TotpParams::default();
        assert!(totp("not base32!", at, &d).unwrap_err().contains("base32"));
        assert!(totp("", at, &d).unwrap_err().contains("empty"));
        assert!(totp("GEZDGNBV", at, &params(9, "SHA1"))
            .unwrap_err()
            .contains("digits"));
        assert!(totp("GEZDGNBV", at, &params(6, "MD5"))
            .unwrap_err()
            .contains("unknown algorithm"));
        let zero = TotpParams { period: 0, ..d };
        assert!(totp("GEZDGNBV", at, &zero).unwrap_err().contains("period"));
    }

    #[test]
    fn clock_values_at_a_fixed_time() {
        // 2009-02-13T23:31:30.250Z
        let at = at_epoch_seconds(1_234_567_890) + Duration::from_millis(250);
        assert_eq!(epoch_seconds(at), 1_234_567_890.25);
        assert_eq!(timestamp(at, "s").unwrap(), 1_234_567_890);
        assert_eq!(timestamp(at, "ms").unwrap(), 1_234_567_890_250);
        assert_eq!(timestamp(at, "us").unwrap(), 1_234_567_890_250_000);
        assert!(timestamp(at, "h").unwrap_err().contains("unknown unit"));
        let t = utc(at, 0.0).unwrap();
        assert_eq!(format_utc(t, DEFAULT_DATE_FORMAT).unwrap(), "2009-02-13");
        assert_eq!(
            format_utc(t, "%Y-%m-%dT%H:%M:%S%.3fZ").unwrap(),
            "2009-02-13T23:31:30.250Z"
        );
        assert_eq!(isoformat(t), "2009-02-13T23:31:30.250Z");
        let tomorrow = utc(at, 86_400.0).unwrap();
        assert_eq!(format_utc(tomorrow, "%d/%m/%Y").unwrap(), "14/02/2009");
        assert_eq!(
            isoformat(utc(at, -0.25).unwrap()),
            "2009-02-13T23:31:30.000Z"
        );
        assert!(utc(at, f64::INFINITY).is_err());
        assert!(utc(at, 1e300).is_err());
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(epoch_seconds(before), -1.5);
        assert_eq!(timestamp(before, "ms").unwrap(), -1500);
    }

    #[test]
    fn bad_formats_are_errors_not_panics() {
        assert!(check_format("%Y-%m-%d %H:%M:%S").is_ok());
        assert!(check_format("plain text").is_ok());
        for bad in ["%Q", "%", "%Y-%", "%.9"] {
            let e = check_format(bad).unwrap_err();
            assert!(e.contains("invalid strftime format"), "{bad}: {e}");
            assert!(format_utc(DateTime::<Utc>::UNIX_EPOCH, bad).is_err());
        }
    }
}
