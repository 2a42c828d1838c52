//! ICD-10 codes, as lab orders list them ({"code", "description"} objects).

use serde_json::{json, Value};

/// An ICD-10(-CM) code in upper case: a letter, a digit, a letter or digit, then up to four
/// more letters or digits after an optional dot ("E11.9", "S72001A").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icd10Code(String);

impl Icd10Code {
    pub fn parse(s: &str) -> Result<Icd10Code, String> {
        let code = s.trim().to_ascii_uppercase();
        let ok = code.is_ascii() && {
            let (head, tail) = code.split_at(code.len().min(3));
            let tail = tail.strip_prefix('.').unwrap_or(tail);
            let h = head.as_bytes();
            h.len() == 3
                && h[0].is_ascii_uppercase()
                && h[1].is_ascii_digit()
                && h[2].is_ascii_alphanumeric()
                && tail.len() <= 4
                && tail.bytes().all(|c| c.is_ascii_alphanumeric())
        };
        if ok {
            Ok(Icd10Code(code))
        } else {
            Err(format!(
                "\"{code}\" is not an ICD-10 code (a letter, two characters, then optionally \
                 a dot and up to four more, e.g. \"E11.9\")."
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a JSON list of {"code", "description"} and answers it canonical (codes in upper
/// case, description "" when absent).
pub fn parse_list(raw: &str) -> Result<String, String> {
    let items: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let code = item.get("code").and_then(Value::as_str).unwrap_or("");
        let code = Icd10Code::parse(code).map_err(|m| format!("Item {i}: {m}"))?;
        let description = item.get("description").and_then(Value::as_str);
        out.push(json!({"code": code.as_str(), "description": description.unwrap_or("")}));
    }
    Ok(Value::Array(out).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_and_listed_canonically() {
        for good in ["E11.9", "Z0000", "S72.001A", " e11.9 "] {
            assert!(Icd10Code::parse(good).is_ok(), "{good}");
        }
        for bad in ["11.9", "E1", "E11.90000", "É11", ""] {
            assert!(Icd10Code::parse(bad).is_err(), "{bad}");
        }
        let clean = parse_list(r#"[{"code": " e11.9 "}]"#).unwrap();
        assert_eq!(clean, r#"[{"code":"E11.9","description":""}]"#);
        assert!(parse_list(r#"[{"code": "nope"}]"#).is_err());
    }
}
