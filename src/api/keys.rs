//! The keys of nested JSON objects (a patient's insurance, an appointment's vitals, a
//! reminder's schedule), declared like fields: `Field::object("vitals").keys(VITALS)`. The
//! framework checks a body's object against them — unknown keys refused, each value by its
//! kind, required keys present — stores it in canonical form and documents its properties in
//! OpenAPI, as DRF's nested serializers do. Rules that relate values (a start before an end)
//! stay in the resource's hooks.

use serde_json::{Map, Value};

use crate::api::fields::{parse_date, parse_int, parse_time};

/// One key of a nested object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub kind: KeyKind,
    /// Must be present (and not null).
    pub required: bool,
    /// The value stored when the key is absent; without it an absent key stays absent.
    pub default: Option<i64>,
    pub doc: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// A string; numbers are taken as their text.
    Text,
    /// An integer (or its text), optionally within (least, most).
    Int(Option<(i64, i64)>),
    /// A number or numeric text, stored as given.
    Number,
    Bool,
    /// "YYYY-MM-DD", or "".
    Date,
    /// "HH:MM[:SS]", stored as "HH:MM:SS".
    Time,
    Choice(&'static [&'static str]),
    /// A list of strings.
    Strs,
    /// An object with keys of its own.
    Object(&'static [Key]),
}

impl Key {
    const fn new(name: &'static str, kind: KeyKind) -> Key {
        Key {
            name,
            kind,
            required: false,
            default: None,
            doc: "",
        }
    }
    pub const fn text(name: &'static str) -> Key {
        Key::new(name, KeyKind::Text)
    }
    pub const fn int(name: &'static str) -> Key {
        Key::new(name, KeyKind::Int(None))
    }
    pub const fn int_in(name: &'static str, least: i64, most: i64) -> Key {
        Key::new(name, KeyKind::Int(Some((least, most))))
    }
    pub const fn number(name: &'static str) -> Key {
        Key::new(name, KeyKind::Number)
    }
    pub const fn boolean(name: &'static str) -> Key {
        Key::new(name, KeyKind::Bool)
    }
    pub const fn date(name: &'static str) -> Key {
        Key::new(name, KeyKind::Date)
    }
    pub const fn time(name: &'static str) -> Key {
        Key::new(name, KeyKind::Time)
    }
    pub const fn choice(name: &'static str, values: &'static [&'static str]) -> Key {
        Key::new(name, KeyKind::Choice(values))
    }
    pub const fn strings(name: &'static str) -> Key {
        Key::new(name, KeyKind::Strs)
    }
    pub const fn object(name: &'static str, keys: &'static [Key]) -> Key {
        Key::new(name, KeyKind::Object(keys))
    }
    pub const fn required(mut self) -> Key {
        self.required = true;
        self
    }
    pub const fn default(mut self, value: i64) -> Key {
        self.default = Some(value);
        self
    }
    pub const fn doc(mut self, doc: &'static str) -> Key {
        self.doc = doc;
        self
    }
}

/// Checks an object against its keys; answers it in canonical form (declared order, defaults
/// filled) or the first problem, naming the key.
pub fn check_object(keys: &[Key], v: &Value) -> Result<Value, String> {
    let Value::Object(obj) = v else {
        return Err("Expected an object.".into());
    };
    if let Some(unknown) = obj.keys().find(|k| !keys.iter().any(|key| key.name == *k)) {
        let known: Vec<&str> = keys.iter().map(|k| k.name).collect();
        return Err(format!(
            "Unknown key \"{unknown}\"; known: {}.",
            known.join(", ")
        ));
    }
    let mut out = Map::new();
    for key in keys {
        match obj.get(key.name) {
            None | Some(Value::Null) if key.required => {
                return Err(format!("{}: This field is required.", key.name));
            }
            None | Some(Value::Null) if key.default.is_some() => {
                out.insert(key.name.into(), key.default.into());
            }
            None => {}
            Some(Value::Null) => {
                out.insert(key.name.into(), Value::Null);
            }
            Some(v) => {
                let clean = check_value(key.kind, v).map_err(|e| format!("{}: {e}", key.name))?;
                out.insert(key.name.into(), clean);
            }
        }
    }
    Ok(Value::Object(out))
}

/// Checks a list of objects; a problem names its item.
pub fn check_list(keys: &[Key], v: &Value) -> Result<Value, String> {
    let Value::Array(items) = v else {
        return Err("Expected a list of objects.".into());
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(check_object(keys, item).map_err(|e| format!("Item {i}: {e}"))?);
    }
    Ok(Value::Array(out))
}

fn check_value(kind: KeyKind, v: &Value) -> Result<Value, String> {
    Ok(match (kind, v) {
        (KeyKind::Text, Value::String(_)) => v.clone(),
        (KeyKind::Text, Value::Number(n)) => Value::String(n.to_string()),
        (KeyKind::Text, _) => return Err("Not a valid string.".into()),
        (KeyKind::Int(range), _) => {
            let n = parse_int(v)?;
            if let Some((least, most)) = range {
                if !(least..=most).contains(&n) {
                    return Err(format!("Must be from {least} to {most}."));
                }
            }
            n.into()
        }
        (KeyKind::Number, Value::Number(_)) => v.clone(),
        (KeyKind::Number, Value::String(s)) if s.is_empty() || s.trim().parse::<f64>().is_ok() => {
            v.clone()
        }
        (KeyKind::Number, _) => return Err("Expected a number.".into()),
        (KeyKind::Bool, Value::Bool(_)) => v.clone(),
        (KeyKind::Bool, _) => return Err("Must be a valid boolean.".into()),
        (KeyKind::Date, Value::String(s)) if s.is_empty() => v.clone(),
        (KeyKind::Date, Value::String(s)) => {
            parse_date(s)?;
            v.clone()
        }
        (KeyKind::Date, _) => return Err("Expected a date, YYYY-MM-DD.".into()),
        (KeyKind::Time, Value::String(s)) => parse_time(s)?.into(),
        (KeyKind::Time, _) => return Err("Expected a time, HH:MM.".into()),
        (KeyKind::Choice(values), Value::String(s)) if values.contains(&s.as_str()) => v.clone(),
        (KeyKind::Choice(values), _) => {
            return Err(format!("Must be one of: {}.", values.join(", ")));
        }
        (KeyKind::Strs, Value::Array(a)) if a.iter().all(Value::is_string) => v.clone(),
        (KeyKind::Strs, _) => return Err("Expected a list of strings.".into()),
        (KeyKind::Object(keys), _) => check_object(keys, v)?,
    })
}
