//! Value rules and types shared by several resources; the types have a `parse` constructor
//! that says what is wrong.

pub mod custom_values;
pub mod duration;
pub mod icd10;
pub mod normal_range;

pub mod billing_codes;

use crate::api::resource::Record;
use crate::api::Ctx;
use crate::db::{Conn, Sql, Val};
use crate::error::{ApiError, FieldErrors};

/// A CSS color as the reference allows it: "#ABCDEF" (or "#ABC") or "rgb(12, 34, 45)".
pub fn is_color(s: &str) -> bool {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        return matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(inner) = s.strip_prefix("rgb(").and_then(|r| r.strip_suffix(')')) {
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        return parts.len() == 3 && parts.iter().all(|p| p.parse::<u8>().is_ok());
    }
    false
}

/// A field rule: a non-empty `color` is a CSS color (`Field::string("color").check(color)`).
pub fn color(v: &Val) -> Result<(), &'static str> {
    match v.as_str() {
        Some(c) if !c.is_empty() && !is_color(c) => {
            Err("Enter a CSS color: \"#ABCDEF\" or \"rgb(12, 34, 45)\".")
        }
        _ => Ok(()),
    }
}

/// An exam room is named by its index among the office's rooms (see /api/offices).
pub fn check_exam_room(
    conn: &mut Conn,
    ctx: &Ctx,
    office: i64,
    room: i64,
    errors: &mut FieldErrors,
) -> Result<(), ApiError> {
    let rooms =
        Sql::new("SELECT t.exam_rooms FROM offices t WHERE t.id = ? AND t.practice_group_id = ?")
            .bind(office)
            .bind(ctx.practice_group())
            .load_one(conn, &[crate::db::Ty::Text])?
            .and_then(|r| r[0].as_str().map(str::to_string))
            .unwrap_or_default();
    let rooms: Vec<serde_json::Value> = serde_json::from_str(&rooms).unwrap_or_default();
    if !rooms
        .iter()
        .any(|r| r.get("index").and_then(serde_json::Value::as_i64) == Some(room))
    {
        errors.add(
            "exam_room",
            format!("Office {office} has no exam room {room}."),
        );
    }
    Ok(())
}

/// external_id: an integrator's own id, unique in the practice group. A duplicate is a 409
/// naming the object that holds it.
pub fn check_external_id(
    conn: &mut Conn,
    ctx: &Ctx,
    table: &str,
    noun: &str,
    rec: &mut Record,
    id: Option<i64>,
) -> Result<(), ApiError> {
    // "" means none: stored as NULL so it never collides.
    if rec.get("external_id").and_then(Val::as_str) == Some("") {
        rec.set("external_id", Val::Text(None));
    }
    let Some(ext) = rec.get("external_id").and_then(Val::as_str) else {
        return Ok(());
    };
    let mut sql = Sql::new(format!(
        "SELECT t.id FROM {table} t WHERE t.practice_group_id = ? AND t.external_id = ?"
    ))
    .bind(ctx.practice_group())
    .bind(ext);
    if let Some(id) = id {
        sql.push(" AND t.id <> ?", [Val::from(id)]);
    }
    match sql.load_i64(conn)? {
        Some(existing) => Err(ApiError::Conflict(
            format!("{noun} {existing} already has external_id \"{ext}\"."),
            Some(serde_json::json!({"id": existing, "external_id": ext})),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_follow_the_reference() {
        assert!(is_color("#ABCDEF"));
        assert!(is_color("rgb(12, 34, 45)"));
        assert!(!is_color("red"));
        assert!(!is_color("rgb(300, 0, 0)"));
    }
}
