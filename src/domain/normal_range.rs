//! The normal range of a numeric lab result: "<lower> <upper>".

/// Two numbers, lower not above upper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormalRange {
    pub lower: f64,
    pub upper: f64,
}

impl NormalRange {
    pub fn parse(s: &str) -> Result<NormalRange, String> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        match parts[..] {
            [lo, hi] => match (number(lo), number(hi)) {
                (Some(lower), Some(upper)) if lower <= upper => Ok(NormalRange { lower, upper }),
                _ => Err(Self::ERROR.into()),
            },
            _ => Err(Self::ERROR.into()),
        }
    }

    pub const ERROR: &'static str = "When value_is_numeric is true, use the form \
        \"<lower> <upper>\" with two numbers, lower not above upper (e.g. \"3.5 5.1\").";

    pub fn contains(&self, v: f64) -> bool {
        self.lower <= v && v <= self.upper
    }
}

/// A finite number written as text ("6.2", "-1", "1e3").
pub fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_ranges_are_two_ordered_numbers() {
        let r = NormalRange::parse(" 3.5  5.1 ").unwrap();
        assert_eq!((r.lower, r.upper), (3.5, 5.1));
        assert!(r.contains(3.5) && r.contains(5.1) && !r.contains(5.2));
        assert!(NormalRange::parse("-1 2").is_ok());
        for bad in ["5 3", "3.5-5.1", "low high", "1 2 3", "NaN 3", "", "4"] {
            assert!(NormalRange::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(number("inf"), None);
    }
}
