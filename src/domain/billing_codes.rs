//! Well-formedness of billing codes: ICD-10-CM and ICD-9-CM diagnoses, CPT and HCPCS Level II
//! procedures and their 2-character modifiers. Only the shape is checked (chartd ships no code
//! sets); codes are answered upper case and trimmed.

/// Procedure code types as line items store them (one letter).
pub const PROCEDURE_TYPES: &[(&str, &str)] =
    &[("C", "CPT(C)"), ("H", "HCPCS(H)"), ("U", "Custom(U)")];

/// At most this many modifiers on one procedure line (CMS-1500 box 24D).
pub const MAX_MODIFIERS: usize = 4;

fn alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// ICD-10-CM: a letter, a digit, an alphanumeric, then optionally a dot (or not) and up to
/// four more alphanumerics: "J06.9", "Z00.00", "S52.521A", "E11".
pub fn icd10(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_uppercase();
    let c: Vec<char> = s.chars().collect();
    let head = c.len() >= 3 && c[0].is_ascii_uppercase() && c[1].is_ascii_digit() && alnum(c[2]);
    let tail = match c.get(3) {
        None => true,
        Some('.') => (1..=4).contains(&(c.len() - 4)) && c[4..].iter().all(|x| alnum(*x)),
        Some(_) => c.len() <= 7 && c[3..].iter().all(|x| alnum(*x)),
    };
    if head && tail {
        Ok(s)
    } else {
        Err(format!(
            "\"{raw}\" is not a well-formed ICD-10-CM code (a letter, a digit, a letter or \
             digit, then optionally a dot and up to 4 more letters or digits)."
        ))
    }
}

/// ICD-9-CM: "250.00", "V70.0", "E849.0", "401".
pub fn icd9(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_uppercase();
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    let ok = match int.chars().next() {
        Some('V') => int.len() == 3 && digits(&int[1..]) && frac.len() <= 2,
        Some('E') => int.len() == 4 && digits(&int[1..]) && frac.len() <= 1,
        Some(_) => int.len() == 3 && digits(int) && frac.len() <= 2,
        None => false,
    } && digits(frac)
        && (frac.is_empty() != s.contains('.'));
    if ok {
        Ok(s)
    } else {
        Err(format!("\"{raw}\" is not a well-formed ICD-9-CM code."))
    }
}

/// A procedure modifier: two letters or digits ("25", "LT", "59").
pub fn modifier(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() == 2 && s.chars().all(alnum) {
        Ok(s)
    } else {
        Err(format!(
            "\"{raw}\" is not a well-formed modifier (2 letters or digits)."
        ))
    }
}

/// A procedure code of the given type ("C", "H" or "U"), which may carry its modifiers after
/// hyphens ("99213-25"); answers the code and those modifiers.
pub fn procedure(kind: &str, raw: &str) -> Result<(String, Vec<String>), String> {
    let s = raw.trim().to_ascii_uppercase();
    if kind == "U" {
        return match s.len() {
            1..=30 => Ok((s, Vec::new())),
            _ => Err("A custom code has 1 to 30 characters.".into()),
        };
    }
    let mut parts = s.split('-');
    let code = parts.next().unwrap_or("").to_string();
    let c: Vec<char> = code.chars().collect();
    let ok = c.len() == 5
        && match kind {
            // CPT: five digits (Category I), or four digits and F (II), T (III) or U (PLA).
            "C" => {
                c[..4].iter().all(char::is_ascii_digit)
                    && (c[4].is_ascii_digit() || "FTU".contains(c[4]))
            }
            // HCPCS Level II: a letter and four digits.
            _ => c[0].is_ascii_uppercase() && c[1..].iter().all(char::is_ascii_digit),
        };
    if !ok {
        return Err(if kind == "C" {
            format!(
                "\"{raw}\" is not a well-formed CPT code (5 digits, or 4 digits and F, T or U, \
                 optionally followed by -modifiers)."
            )
        } else {
            format!("\"{raw}\" is not a well-formed HCPCS code (a letter and 4 digits).")
        });
    }
    let modifiers = parts.map(modifier).collect::<Result<Vec<_>, _>>()?;
    if modifiers.len() > MAX_MODIFIERS {
        return Err(format!("At most {MAX_MODIFIERS} modifiers."));
    }
    Ok((code, modifiers))
}

/// A procedure type given as one letter ("C") or in its long form ("CPT(C)"): the letter.
pub fn procedure_type(raw: &str) -> Option<&'static str> {
    PROCEDURE_TYPES
        .iter()
        .find(|(letter, long)| raw == *letter || raw == *long)
        .map(|(letter, _)| *letter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10_codes_are_checked_for_shape() {
        for ok in ["J06.9", "Z00.00", "S52.521A", "E11", "j069", "A000"] {
            assert!(icd10(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "J0",
            "06.9",
            "JJ6.9",
            "J06.",
            "J06.12345",
            "J06-9",
            "J06.9!",
        ] {
            assert!(icd10(bad).is_err(), "{bad}");
        }
        assert_eq!(icd10(" z00.00 ").unwrap(), "Z00.00");
    }

    #[test]
    fn cpt_and_hcpcs_codes_are_checked_for_shape() {
        assert_eq!(procedure("C", "99213").unwrap(), ("99213".into(), vec![]));
        assert_eq!(procedure("C", "0001U").unwrap().0, "0001U");
        assert_eq!(procedure("C", "3074F").unwrap().0, "3074F");
        assert_eq!(
            procedure("C", "99213-25-lt").unwrap(),
            ("99213".into(), vec!["25".into(), "LT".into()])
        );
        for bad in ["9921", "992134", "9921A", "A9921", "99213-2", "99213-", ""] {
            assert!(procedure("C", bad).is_err(), "{bad}");
        }
        assert!(procedure("H", "J1100").is_ok());
        assert!(procedure("H", "99213").is_err());
        assert!(procedure("U", "MY-CODE").is_ok());
        assert!(icd9("250.00").is_ok() && icd9("V70.0").is_ok() && icd9("E849.0").is_ok());
        assert!(icd9("25").is_err() && icd9("250.").is_err());
    }
}
