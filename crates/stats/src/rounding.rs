//! Locust's response-time bucketing (§3.4): the rounding Locust applies before it counts a
//! sample, with Python's round-half-to-even. Used only where a Locust format demands it;
//! statistics themselves live in HDR histograms (see `percentile`).

/// Python's `round(x)` for a float: nearest integer, ties to even.
pub fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// The Locust bucket of a response time in ms: whole ms below 100, then tens below 1000,
/// hundreds below 10000, thousands above (half to even, like Python's `round(rt, -n)`).
pub fn locust_bucket(ms: f64) -> u64 {
    if !ms.is_finite() || ms <= 0.0 {
        return 0;
    }
    let step = if ms < 100.0 {
        1.0
    } else if ms < 1000.0 {
        10.0
    } else if ms < 10000.0 {
        100.0
    } else {
        1000.0
    };
    // `as` saturates for huge values; the input is finite and positive here.
    (round_half_even(ms / step) * step) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_vectors_round_half_to_even() {
        let vectors: [(f64, u64); 18] = [
            (0.4, 0),
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (99.4, 99),
            (99.5, 100),
            (104.9, 100),
            (105.0, 100),
            (115.0, 120),
            (995.0, 1000),
            (1049.0, 1000),
            (1050.0, 1000),
            (1150.0, 1200),
            (9949.0, 9900),
            (9950.0, 10000),
            (10500.0, 10000),
            (11500.0, 12000),
            (58760.0, 59000),
        ];
        for (input, want) in vectors {
            assert_eq!(locust_bucket(input), want, "bucket of {input}");
        }
    }

    #[test]
    fn degenerate_inputs_bucket_to_zero() {
        assert_eq!(locust_bucket(0.0), 0);
        assert_eq!(locust_bucket(-3.0), 0);
        assert_eq!(locust_bucket(f64::NAN), 0);
    }
}
