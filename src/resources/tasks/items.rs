//! The nested keys of a task.
//!
//! - due_date: {"time": timestamp (or date)}, stored with a `due_at` column that the due_at_*
//!   filters use; null or {} means no due date.
//! - associated_items: [{"type", "value"}], answered with "task". Types whose resource exists
//!   on this server are references: the caller must be able to see the object (its
//!   resource's whole scope, sharing rule included); the others (Message, Communication) are
//!   stored as given.
//! - notes: see `notes.rs`.

use chrono::{NaiveDateTime, NaiveTime};
use serde_json::{json, Map, Value};

use super::notes;

use crate::api::fields::{parse_date, parse_int, parse_timestamp, TIMESTAMP_ERROR};
use crate::api::write::{does_not_exist, Write};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;

/// Associated item types and the table their ids are checked in (None: not on this server).
const ITEM_TYPES: &[(&str, Option<&str>)] = &[
    ("Patient", Some("patients")),
    ("Appointment", Some("appointments")),
    ("Document", Some("documents")),
    ("Message", None),
    ("Lab order", Some("lab_orders")),
    ("Lab result", Some("lab_results")),
    ("Lab document", Some("lab_documents")),
    ("Communication", None),
];

fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Checks and canonicalizes due_date, associated_items and notes present in `rec`.
pub fn validate(w: &mut Write) -> Result<(), ApiError> {
    let Write { rec, errors, .. } = w;
    if let Some(v) = rec.get("due_date").cloned() {
        match due_date(v.as_str()) {
            Ok(Some(t)) => {
                rec.set("due_date", Val::from(json!({"time": stamp(t)}).to_string()));
                rec.set("due_at", Val::from(t));
            }
            Ok(None) => {
                rec.set("due_date", Val::Text(None));
                rec.set("due_at", Val::Timestamp(None));
            }
            Err(msg) => errors.add("due_date", msg),
        }
    }
    if let Some(raw) = w.text("associated_items").map(str::to_string) {
        let items: Vec<Value> = serde_json::from_str(&raw).unwrap_or_default();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ty = item.get("type").and_then(Value::as_str).unwrap_or("");
            let entry = ITEM_TYPES.iter().find(|(n, _)| n.eq_ignore_ascii_case(ty));
            let value = item.get("value").and_then(|v| parse_int(v).ok());
            let (Some((name, table)), Some(value)) = (entry, value) else {
                let names: Vec<&str> = ITEM_TYPES.iter().map(|(n, _)| *n).collect();
                w.error(
                    "associated_items",
                    format!(
                        "Item {i}: expected {{\"type\": one of {}, \"value\": an integer ID}}.",
                        names.join(", ")
                    ),
                );
                continue;
            };
            if let Some(table) = table {
                if !w.visible(table, value)? {
                    w.error(
                        "associated_items",
                        format!("Item {i}: {}", does_not_exist(value)),
                    );
                }
            }
            out.push(json!({"type": name, "value": value}));
        }
        w.set("associated_items", Value::Array(out).to_string());
    }
    let Write { rec, errors, .. } = w;
    if let Some(raw) = rec.get("notes").and_then(Val::as_str) {
        match notes::parse(raw) {
            Ok(clean) => rec.set("notes", Val::from(clean)),
            Err(msg) => errors.add("notes", msg),
        }
    }
    Ok(())
}

/// {"time": ...} → the due time; null, {} or {"time": null} → none.
fn due_date(raw: Option<&str>) -> Result<Option<NaiveDateTime>, String> {
    let obj: Map<String, Value> = raw
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    if let Some(k) = obj.keys().find(|k| *k != "time") {
        return Err(format!(
            "Unknown key \"{k}\"; expected {{\"time\": \"YYYY-MM-DDThh:mm:ss\"}}."
        ));
    }
    match obj.get("time") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s)
            .or_else(|_| parse_date(s).map(|d| d.and_time(NaiveTime::MIN)))
            .map(Some)
            .map_err(|_| format!("time: {TIMESTAMP_ERROR}")),
        Some(_) => Err(format!("time: {TIMESTAMP_ERROR}")),
    }
}

/// Applies the notes a body sent, then stores the answer forms of notes and items.
pub fn after_write(ctx: &Ctx, conn: &mut Conn, task: i64) -> Result<(), ApiError> {
    let row = Sql::new("SELECT t.notes, t.associated_items FROM tasks t WHERE t.id = ?")
        .bind(task)
        .load_one(conn, &[Ty::Text, Ty::Text])?
        .ok_or(ApiError::NotFound)?;
    notes::apply(ctx, conn, task, row[0].as_str().unwrap_or("[]"))?;
    let mut items: Vec<Value> =
        serde_json::from_str(row[1].as_str().unwrap_or("[]")).unwrap_or_default();
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        item.insert("task".into(), task.into());
    }
    Sql::new("UPDATE tasks SET associated_items = ? WHERE id = ?")
        .bind(Value::Array(items).to_string())
        .bind(task)
        .execute(conn)?;
    notes::refresh(conn, task, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_take_a_time_or_nothing() {
        let t = due_date(Some(r#"{"time": "2024-05-01T17:00"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(stamp(t), "2024-05-01T17:00:00");
        let d = due_date(Some(r#"{"time": "2024-05-01"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(stamp(d), "2024-05-01T00:00:00");
        assert_eq!(due_date(Some("{}")).unwrap(), None);
        assert_eq!(due_date(None).unwrap(), None);
        assert!(due_date(Some(r#"{"time": "tomorrow"}"#)).is_err());
        assert!(due_date(Some(r#"{"when": "2024-05-01"}"#)).is_err());
    }
}
