//! Durations in the form Django's DurationField reads and writes, which the reference
//! documents as "[DD] [HH:[MM:]]ss[.uuuuuu]" (task templates' default_due_date_offset).

/// A non-negative duration, to the microsecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    pub micros: i64,
}

const ERROR: &str =
    "Duration has wrong format. Use \"[DD] [HH:[MM:]]ss[.uuuuuu]\", e.g. \"3 02:00:00\".";
const TOO_LONG: &str = "The duration is too long.";

impl Duration {
    /// Days and a space, then seconds alone, MM:ss or HH:MM:ss (a part after the first below
    /// 60), then up to six fraction digits. "1 25:00:00" is two days and an hour, as in Django.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let s = s.trim();
        let num = |x: &str| -> Result<i64, String> {
            if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ERROR.into());
            }
            x.parse::<i64>().map_err(|_| TOO_LONG.to_string())
        };
        let (days, clock) = match s.split_once(' ') {
            Some((d, rest)) => (num(d)?, rest.trim_start()),
            None => (0, s),
        };
        let (clock, micros) = match clock.split_once('.') {
            None => (clock, 0),
            Some((c, f)) if f.len() <= 6 => {
                num(f)?;
                (c, num(&format!("{f:0<6}"))?)
            }
            Some(_) => return Err(ERROR.into()),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() > 3 {
            return Err(ERROR.into());
        }
        let mut seconds = 0i64;
        for (i, p) in parts.iter().enumerate() {
            let n = num(p)?;
            if i > 0 && n >= 60 {
                return Err("Minutes and seconds after the first part must be below 60.".into());
            }
            seconds = seconds
                .checked_mul(60)
                .and_then(|s| s.checked_add(n))
                .ok_or(TOO_LONG)?;
        }
        days.checked_mul(86_400)
            .and_then(|d| d.checked_add(seconds))
            .and_then(|t| t.checked_mul(1_000_000))
            .and_then(|t| t.checked_add(micros))
            .map(|micros| Duration { micros })
            .ok_or_else(|| TOO_LONG.to_string())
    }
}

/// "D HH:MM:SS[.uuuuuu]", days left out when 0, as Django writes durations.
impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (secs, frac) = (self.micros / 1_000_000, self.micros % 1_000_000);
        let (days, rest) = (secs / 86_400, secs % 86_400);
        if days > 0 {
            write!(f, "{days} ")?;
        }
        write!(
            f,
            "{:02}:{:02}:{:02}",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )?;
        if frac > 0 {
            write!(f, ".{frac:06}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;

    fn norm(s: &str) -> Result<String, String> {
        Duration::parse(s).map(|d| d.to_string())
    }

    #[test]
    fn durations_parse_in_the_documented_form_and_normalize() {
        assert_eq!(norm("3 02:00:00").unwrap(), "3 02:00:00");
        assert_eq!(norm("90").unwrap(), "00:01:30");
        assert_eq!(norm("1:30").unwrap(), "00:01:30");
        assert_eq!(norm("1 25:00:00").unwrap(), "2 01:00:00");
        assert_eq!(norm("2 12:00:00.5").unwrap(), "2 12:00:00.500000");
        assert_eq!(norm("0").unwrap(), "00:00:00");
        for bad in [
            "",
            "abc",
            "1:2:3:4",
            "10:75:00",
            "-1 00:00:00",
            "1.1234567",
            "1.",
            "1.x",
            ":30",
            "3 days",
            "1e3",
            "99999999999999999999",
            "106751992 00:00:00",
        ] {
            assert!(norm(bad).is_err(), "{bad}");
        }
    }
}
