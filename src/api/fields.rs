//! Values in and out: parsing a body's keys into typed [`Val`]s (collecting every field
//! error, DRF-style) and writing stored rows as JSON in the reference's formats.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde_json::{Map, Value};

use crate::api::keys;
use crate::api::resource::{Absent, Access, Field, JsonShape, Kind, Record, Resource};
use crate::db::Val;
use crate::error::FieldErrors;

/// POST (and PUT, which replaces the whole object) or PATCH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    Replace,
    Patch,
}

/// Reads one object of a body. Read-only and unknown keys are ignored; required keys must be
/// present on POST and PUT; absent optional keys take their default on POST and PUT.
/// `form` is true for form-urlencoded and multipart bodies, whose values are all strings.
/// `files` are the file keys already stored for this object (see `files::store_uploads`).
pub fn parse_object(
    res: &Resource,
    obj: &Map<String, Value>,
    files: &[(&'static str, String)],
    mode: Mode,
    form: bool,
) -> Result<Record, FieldErrors> {
    parse_fields(res.fields, obj, files, mode, form)
}

/// [`parse_object`] over a list of fields (a resource's, or an action's body).
pub fn parse_fields(
    fields: &[Field],
    obj: &Map<String, Value>,
    files: &[(&'static str, String)],
    mode: Mode,
    form: bool,
) -> Result<Record, FieldErrors> {
    let mut rec = Record::default();
    let mut errors = FieldErrors::default();
    for f in fields.iter().filter(|f| f.writable()) {
        if matches!(f.kind, Kind::File) {
            match files.iter().find(|(name, _)| *name == f.name) {
                Some((_, key)) => {
                    rec.set(f.name, Val::Text(Some(key.clone())));
                    rec.sent.push(f.name);
                }
                None if mode == Mode::Patch => {}
                None if f.access == Access::Required => {
                    errors.add(f.name, "No file was submitted.")
                }
                None => rec.set(f.name, Val::Text(Some(String::new()))),
            }
            continue;
        }
        match obj.get(f.name).or_else(|| f.alias.and_then(|a| obj.get(a))) {
            Some(v) => match coerce(f, v, form) {
                Ok(val) => {
                    rec.set(f.name, val);
                    rec.sent.push(f.name);
                }
                Err(msg) => errors.add(f.name, msg),
            },
            None if mode == Mode::Patch => {}
            None if f.access == Access::Required => errors.add(f.name, "This field is required."),
            None => rec.set(f.name, default_value(f)),
        }
        let blank = rec
            .get(f.name)
            .and_then(Val::as_str)
            .is_some_and(|s| s.trim().is_empty());
        if f.not_blank && blank && !errors.has(f.name) {
            errors.add(f.name, "This field may not be blank.");
        }
    }
    if errors.is_empty() {
        Ok(rec)
    } else {
        Err(errors)
    }
}

/// The value an optional key takes when absent from a POST or PUT.
pub fn default_value(f: &Field) -> Val {
    match (f.default, f.kind) {
        (Absent::Empty, k) if f.nullable => Val::null(k.ty()),
        (Absent::Str(s), Kind::Decimal) => Val::Int(parse_decimal(s).ok()),
        (Absent::Str(s), _) => Val::Text(Some(s.to_string())),
        (Absent::Int(n), Kind::Decimal) => Val::Int(Some(n * 100)),
        (Absent::Int(n), _) => Val::Int(Some(n)),
        (Absent::Bool(b), _) => Val::Bool(Some(b)),
        (Absent::Empty, Kind::Str) => Val::Text(Some(String::new())),
        (Absent::Empty, Kind::Bool) => Val::Bool(Some(false)),
        (Absent::Empty, Kind::Json(shape)) if shape.is_object() => Val::Text(Some("{}".into())),
        (Absent::Empty, Kind::Json(_)) => Val::Text(Some("[]".into())),
        (Absent::Empty, Kind::Choice(values)) => {
            Val::Text(Some(values.first().copied().unwrap_or("").to_string()))
        }
        (Absent::Empty, k) => Val::null(k.ty()),
    }
}

pub const NUL_ERROR: &str = "Null characters are not allowed.";

/// Whether a JSON value holds a NUL character anywhere (PostgreSQL's text refuses it).
pub fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Converts one JSON (or form string) value to the field's stored value, or says why not:
/// its kind, no NUL character, at most [`Field::max_chars`] characters, within its range.
pub fn coerce(f: &Field, v: &Value, form: bool) -> Result<Val, String> {
    if has_nul(v) {
        return Err(NUL_ERROR.into());
    }
    let val = coerce_kind(f, v, form)?;
    match (&val, f.max_chars(), f.range) {
        (Val::Text(Some(s)), Some(max), _) if s.len() > max && s.chars().count() > max => Err(
            format!("Ensure this field has no more than {max} characters."),
        ),
        (Val::Int(Some(n)), _, Some((min, _))) if *n < min => Err(format!(
            "Ensure this value is greater than or equal to {min}."
        )),
        (Val::Int(Some(n)), _, Some((_, max))) if *n > max => {
            Err(format!("Ensure this value is less than or equal to {max}."))
        }
        _ => match f.check.map(|rule| rule(&val)) {
            Some(Err(msg)) => Err(msg.into()),
            _ => Ok(val),
        },
    }
}

fn coerce_kind(f: &Field, v: &Value, form: bool) -> Result<Val, String> {
    if v.is_null() {
        return match f.kind {
            _ if f.nullable => Ok(Val::null(f.kind.ty())),
            Kind::Str | Kind::Json(_) => Ok(default_value(f)),
            _ => Err("This field may not be null.".into()),
        };
    }
    match f.kind {
        Kind::Int | Kind::Ref(_) => parse_int(v).map(|n| Val::Int(Some(n))),
        Kind::File => Err("Expected a file (multipart) or a base64 string.".into()),
        Kind::Str => match v {
            Value::String(s) => Ok(Val::Text(Some(s.clone()))),
            Value::Number(n) => Ok(Val::Text(Some(n.to_string()))),
            _ => Err("Not a valid string.".into()),
        },
        Kind::Choice(values) => {
            let s = match v {
                Value::String(s) => s.as_str(),
                _ => return Err("Not a valid string.".into()),
            };
            if values.contains(&s) {
                Ok(Val::Text(Some(s.to_string())))
            } else {
                Err(format!(
                    "\"{s}\" is not a valid choice. Valid choices: {}.",
                    values
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        Kind::Bool => parse_bool(v).map(|b| Val::Bool(Some(b))),
        Kind::Date => match v {
            Value::String(s) => parse_date(s).map(|d| Val::Date(Some(d))),
            _ => Err(DATE_ERROR.into()),
        },
        Kind::TimeOfDay => match v {
            Value::String(s) => parse_time(s).map(|t| Val::Text(Some(t))),
            _ => Err(TIME_ERROR.into()),
        },
        Kind::Timestamp => match v {
            Value::String(s) => parse_timestamp(s).map(|t| Val::Timestamp(Some(t))),
            _ => Err(TIMESTAMP_ERROR.into()),
        },
        Kind::Decimal => {
            let text = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                _ => return Err(DECIMAL_ERROR.into()),
            };
            parse_decimal(&text).map(|c| Val::Int(Some(c)))
        }
        Kind::Float => {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            // serde_json refuses NaN and infinities, so the stored text is always valid JSON.
            n.and_then(serde_json::Number::from_f64)
                .map(|n| Val::Text(Some(n.to_string())))
                .ok_or_else(|| DECIMAL_ERROR.to_string())
        }
        Kind::Json(shape) => {
            let parsed;
            let v = match v {
                // Form and multipart bodies carry nested values as JSON text.
                Value::String(s) if form || shape != JsonShape::StrList => {
                    parsed = serde_json::from_str::<Value>(s)
                        .map_err(|_| format!("Expected {}, as JSON.", shape_name(shape)))?;
                    &parsed
                }
                other => other,
            };
            match shape {
                JsonShape::Keys(keys) => {
                    return keys::check_object(keys, v).map(|v| Val::Text(Some(v.to_string())));
                }
                JsonShape::KeyedList(keys) => {
                    return keys::check_list(keys, v).map(|v| Val::Text(Some(v.to_string())));
                }
                _ => {}
            }
            let ok = match (shape, v) {
                (JsonShape::Object, Value::Object(_)) => true,
                (JsonShape::ObjectList, Value::Array(a)) => a.iter().all(Value::is_object),
                (JsonShape::IntList, Value::Array(a)) => a.iter().all(|x| x.as_i64().is_some()),
                (JsonShape::StrList, Value::Array(a)) => a.iter().all(Value::is_string),
                (JsonShape::ScalarList, Value::Array(a)) => {
                    a.iter().all(|x| x.is_string() || x.as_i64().is_some())
                }
                _ => false,
            };
            if ok {
                Ok(Val::Text(Some(v.to_string())))
            } else {
                Err(format!("Expected {}.", shape_name(shape)))
            }
        }
    }
}

fn shape_name(shape: JsonShape) -> &'static str {
    match shape {
        JsonShape::Object | JsonShape::Keys(_) => "an object",
        JsonShape::ObjectList | JsonShape::KeyedList(_) => "a list of objects",
        JsonShape::IntList => "a list of integers",
        JsonShape::StrList => "a list of strings",
        JsonShape::ScalarList => "a list of integers or strings",
    }
}

pub const DATE_ERROR: &str = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
pub const TIME_ERROR: &str = "Time has wrong format. Use one of these formats instead: hh:mm[:ss].";
pub const TIMESTAMP_ERROR: &str =
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss].";
pub const DECIMAL_ERROR: &str = "A valid number is required.";

pub fn parse_int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| "A valid integer is required.".to_string()),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| "A valid integer is required.".to_string()),
        _ => Err("A valid integer is required.".into()),
    }
}

pub fn parse_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::String(s) => parse_bool_str(s).ok_or_else(|| "Must be a valid boolean.".into()),
        _ => Err("Must be a valid boolean.".into()),
    }
}

pub fn parse_bool_str(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
        _ => None,
    }
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| DATE_ERROR.to_string())
}

/// "HH:MM" or "HH:MM:SS" (24:00 allowed as the end of a day) → "HH:MM:SS".
pub fn parse_time(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s == "24:00" || s == "24:00:00" {
        return Ok("24:00:00".into());
    }
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .map(|t| t.format("%H:%M:%S").to_string())
        .map_err(|_| TIME_ERROR.to_string())
}

/// An ISO 8601 timestamp without zone ("T" or space; seconds and fraction optional), or with
/// a zone, which is converted to UTC.
pub fn parse_timestamp(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t);
        }
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .map_err(|_| TIMESTAMP_ERROR.to_string())
}

/// Exact decimal text → cents, truncating past two places as the reference says.
pub fn parse_decimal(s: &str) -> Result<i64, String> {
    let err = || DECIMAL_ERROR.to_string();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        // Exponent forms (1e3) are refused rather than guessed at.
        return Err(err());
    }
    if whole.len() > 13 {
        return Err(
            "Ensure that there are no more than 13 digits before the decimal point.".into(),
        );
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| err())?
    };
    let mut cents_text: String = frac.chars().take(2).collect();
    while cents_text.len() < 2 {
        cents_text.push('0');
    }
    let cents: i64 = cents_text.parse().map_err(|_| err())?;
    let total = whole * 100 + cents;
    Ok(if neg { -total } else { total })
}

/// Cents → "123.45".
pub fn format_decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Writes one stored value as JSON in the reference's format. `base` (CHARTD_PUBLIC_URL)
/// makes file paths absolute URLs.
pub fn write_value(buf: &mut Vec<u8>, kind: Kind, v: &Val, base: &str) {
    use std::io::Write;
    match (kind, v) {
        (_, v) if v.is_null() => buf.extend_from_slice(b"null"),
        (Kind::File, Val::Text(Some(path))) if path.is_empty() => buf.extend_from_slice(b"\"\""),
        (Kind::File, Val::Text(Some(path))) => write_str(buf, &format!("{base}{path}")),
        (Kind::Decimal, Val::Int(Some(c))) => write_str(buf, &format_decimal(*c)),
        (_, Val::Int(Some(n))) => {
            let mut b = itoa_buf();
            buf.extend_from_slice(format_i64(&mut b, *n));
        }
        (Kind::Json(_) | Kind::Float, Val::Text(Some(raw))) => {
            buf.extend_from_slice(raw.as_bytes())
        }
        (_, Val::Text(Some(s))) => write_str(buf, s),
        (_, Val::Bool(Some(b))) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        (_, Val::Date(Some(d))) => {
            // Digits by hand: chrono's format() parses its format string on every call.
            buf.push(b'"');
            push_digits(buf, d.year().clamp(0, 9999) as u32, 4);
            buf.push(b'-');
            push_digits(buf, d.month(), 2);
            buf.push(b'-');
            push_digits(buf, d.day(), 2);
            buf.push(b'"');
        }
        (_, Val::Time(Some(t))) => {
            let _ = write!(buf, "\"{}\"", t.format("%H:%M:%S"));
        }
        (_, Val::Timestamp(Some(t))) => {
            buf.push(b'"');
            push_digits(buf, t.year().clamp(0, 9999) as u32, 4);
            for (sep, n) in [
                (b'-', t.month()),
                (b'-', t.day()),
                (b'T', t.hour()),
                (b':', t.minute()),
                (b':', t.second()),
            ] {
                buf.push(sep);
                push_digits(buf, n, 2);
            }
            buf.push(b'"');
        }
        _ => buf.extend_from_slice(b"null"),
    }
}

pub fn write_str(buf: &mut Vec<u8>, s: &str) {
    // Most values need no escaping: copy them straight; otherwise serde_json escapes
    // exactly as JSON requires (writing to a Vec cannot fail).
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *buf, s);
    }
}

/// Writes an object from its output fields and the row read for them (same order). `keys`
/// holds each field's `"name":` already encoded.
pub fn write_object(
    buf: &mut Vec<u8>,
    keys: &[Vec<u8>],
    fields: &[&'static Field],
    row: &[Val],
    base: &str,
) {
    buf.push(b'{');
    for (i, ((key, f), v)) in keys.iter().zip(fields).zip(row).enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(key);
        write_value(buf, f.kind, v, base);
    }
    buf.push(b'}');
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// `n` in decimal, written into `b` (without the allocation of `write!`).
fn format_i64(b: &mut [u8; 20], n: i64) -> &[u8] {
    let mut v = n.unsigned_abs();
    let mut i = b.len();
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        b[i] = b'-';
    }
    &b[i..]
}

/// `"name":`, the encoded key of a field.
pub fn encoded_key(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 3);
    write_str(&mut key, name);
    key.push(b':');
    key
}

/// Appends `n` as exactly `width` decimal digits (zero-padded; n must fit).
fn push_digits(buf: &mut Vec<u8>, mut n: u32, width: usize) {
    let start = buf.len();
    buf.resize(start + width, b'0');
    for i in (start..start + width).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_and_truncated_to_cents() {
        assert_eq!(parse_decimal("123.45"), Ok(12345));
        assert_eq!(parse_decimal("0.1"), Ok(10));
        assert_eq!(parse_decimal("12.349"), Ok(1234));
        assert_eq!(parse_decimal("-5"), Ok(-500));
        assert_eq!(parse_decimal(".5"), Ok(50));
        assert!(parse_decimal("1e3").is_err());
        assert!(parse_decimal("abc").is_err());
        assert!(parse_decimal("").is_err());
        assert_eq!(format_decimal(12345), "123.45");
        assert_eq!(format_decimal(-5), "-0.05");
        assert_eq!(format_decimal(0), "0.00");
    }

    #[test]
    fn times_accept_minutes_and_end_of_day() {
        assert_eq!(parse_time("09:30").unwrap(), "09:30:00");
        assert_eq!(parse_time("24:00").unwrap(), "24:00:00");
        assert!(parse_time("25:00").is_err());
    }
}
