//! The body of POST and PATCH /api/webhooks (and `chartd webhook create`), checked: an
//! http(s) callback URL (its addresses are checked apart, see `guard`), a long and
//! unpredictable secret token, known event names, `active`.

use serde_json::{Map, Value};

use super::{guard, EVENTS};
use crate::error::FieldErrors;

/// The shortest accepted secret token.
pub const MIN_SECRET: usize = 32;
const MAX_SECRET: usize = 512;
/// The least estimated entropy of a secret token, in bits.
const MIN_SECRET_BITS: f64 = 96.0;

/// Why a secret token is refused, if it is: too short, too long, not printable, a repeated
/// pattern, or too little variety for its length (estimated from its own character
/// frequencies: a random hex string of 32 characters carries about 115 bits).
pub fn check_secret(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n < MIN_SECRET {
        return Err(format!(
            "Ensure this field has at least {MIN_SECRET} characters: use a random value, \
             e.g. the output of `openssl rand -hex 20`."
        ));
    }
    if n > MAX_SECRET {
        return Err(format!(
            "Ensure this field has no more than {MAX_SECRET} characters."
        ));
    }
    if s.chars().any(char::is_control) {
        return Err("The secret token must not contain control characters.".into());
    }
    let chars: Vec<char> = s.chars().collect();
    if (1..=n / 2).any(|p| (p..n).all(|i| chars[i] == chars[i - p])) {
        return Err("The secret token is a repeated pattern; use a random value.".into());
    }
    let mut counts = std::collections::HashMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let bits: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum::<f64>()
        * n as f64;
    if bits < MIN_SECRET_BITS {
        return Err(
            "The secret token is too predictable; use a random value, e.g. the output of \
             `openssl rand -hex 20`."
                .into(),
        );
    }
    Ok(())
}

/// A create or PATCH body, checked.
#[derive(Default)]
pub struct Input {
    pub callback_url: Option<url::Url>,
    pub secret_token: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// Checks a create (`create`) or PATCH body; the callback URL's addresses are checked apart.
pub fn parse_input(obj: &Map<String, Value>, create: bool) -> Result<Input, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut input = Input::default();
    let required = "This field is required.";
    match obj.get("callback_url") {
        None | Some(Value::Null) if create => errors.add("callback_url", required),
        None => {}
        Some(Value::String(s)) => match guard::parse_callback(s) {
            Ok(u) => input.callback_url = Some(u),
            Err(e) => errors.add("callback_url", e),
        },
        Some(_) => errors.add("callback_url", "Not a valid string."),
    }
    match obj.get("secret_token") {
        None | Some(Value::Null) if create => errors.add("secret_token", required),
        None => {}
        Some(Value::String(s)) => match check_secret(s) {
            Ok(()) => input.secret_token = Some(s.clone()),
            Err(e) => errors.add("secret_token", e),
        },
        Some(_) => errors.add("secret_token", "Not a valid string."),
    }
    let names: Option<Vec<String>> = match obj.get("events") {
        None | Some(Value::Null) if create => {
            errors.add("events", required);
            None
        }
        None => None,
        // A form body gives them comma-separated.
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect(),
        ),
        Some(Value::Array(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            if names.is_none() {
                errors.add("events", "Expected a list of event names.");
            }
            names
        }
        Some(_) => {
            errors.add("events", "Expected a list of event names.");
            None
        }
    };
    if let Some(names) = names {
        let mut events: Vec<String> = Vec::new();
        for name in names {
            if !EVENTS.contains(&name.as_str()) {
                errors.add(
                    "events",
                    format!(
                        "\"{name}\" is not a valid event; one of: {}.",
                        EVENTS.join(", ")
                    ),
                );
            } else if !events.contains(&name) {
                events.push(name);
            }
        }
        if events.is_empty() && !errors.has("events") {
            errors.add("events", "Subscribe to at least one event.");
        }
        input.events = Some(events);
    }
    match obj.get("active") {
        None | Some(Value::Null) => {}
        Some(v) => match crate::api::fields::parse_bool(v) {
            Ok(b) => input.active = Some(b),
            Err(e) => errors.add("active", e),
        },
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::check_secret;

    #[test]
    fn secrets_must_be_long_and_unpredictable() {
        assert!(check_secret("0123456789abcdef0123456789abcde").is_err()); // 31
        assert!(check_secret(&"a".repeat(40)).is_err());
        assert!(check_secret(&"ab".repeat(20)).is_err());
        assert!(check_secret("0123456789abcdef0123456789abcdef").is_err()); // period 16
        assert!(check_secret("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab").is_err());
        assert!(check_secret("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b").is_ok());
        assert!(check_secret("c0a1f6e2b7d94e3f8a5b2c1d0e9f8a7b").is_ok());
    }
}
