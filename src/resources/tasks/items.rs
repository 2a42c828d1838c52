//! The nested keys of a task.
//!
//! - due_date: {"time": timestamp (or date)}, stored with a `due_at` column that the due_at_*
//!   filters use; null or {} means no due date.
//! - associated_items: [{"type", "value"}], answered with "task". Types whose resource exists
//!   on this server are checked to be in the practice group; the others (Appointment,
//!   Document, Message, Communication) are stored as given.
//! - notes: rows of /api/task_notes, answered in full. A body's items without "id" become new
//!   notes by the caller; items with "id" change that note's text or archived. The task's
//!   `notes` column is kept as the answer, refreshed after every write of the task or a note.

use chrono::{NaiveDateTime, NaiveTime};
use serde_json::{json, Map, Value};

use crate::api::fields::{parse_bool, parse_date, parse_int, parse_timestamp, TIMESTAMP_ERROR};
use crate::api::handlers::now;
use crate::api::resource::Record;
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

/// Associated item types and the table their ids are checked in (None: not on this server).
const ITEM_TYPES: &[(&str, Option<&str>)] = &[
    ("Patient", Some("patients")),
    ("Appointment", None),
    ("Document", None),
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
pub fn validate(
    ctx: &Ctx,
    conn: &mut Conn,
    rec: &mut Record,
    errors: &mut FieldErrors,
) -> Result<(), ApiError> {
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
    if let Some(raw) = rec.get("associated_items").and_then(Val::as_str) {
        let items: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ty = item.get("type").and_then(Value::as_str).unwrap_or("");
            let entry = ITEM_TYPES.iter().find(|(n, _)| n.eq_ignore_ascii_case(ty));
            let value = item.get("value").and_then(|v| parse_int(v).ok());
            let (Some((name, table)), Some(value)) = (entry, value) else {
                let names: Vec<&str> = ITEM_TYPES.iter().map(|(n, _)| *n).collect();
                errors.add(
                    "associated_items",
                    format!(
                        "Item {i}: expected {{\"type\": one of {}, \"value\": an integer ID}}.",
                        names.join(", ")
                    ),
                );
                continue;
            };
            if let Some(table) = table {
                let found = Sql::new(format!(
                    "SELECT t.id FROM {table} t WHERE t.id = ? AND t.practice_group_id = ?"
                ))
                .bind(value)
                .bind(ctx.practice_group())
                .load_i64(conn)?;
                if found.is_none() {
                    errors.add(
                        "associated_items",
                        format!("Item {i}: {name} {value} does not exist."),
                    );
                }
            }
            out.push(json!({"type": name, "value": value}));
        }
        rec.set("associated_items", Val::from(Value::Array(out).to_string()));
    }
    if let Some(raw) = rec.get("notes").and_then(Val::as_str) {
        match note_input(raw) {
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

/// Checks a body's notes: [{"id"?, "text"?, "archived"?}], text required for new notes.
fn note_input(raw: &str) -> Result<String, String> {
    let items: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, n) in items.iter().enumerate() {
        let mut clean = Map::new();
        if let Some(id) = n.get("id").filter(|v| !v.is_null()) {
            let id = parse_int(id).map_err(|m| format!("Item {i}: id: {m}"))?;
            clean.insert("id".into(), id.into());
        }
        match n.get("text") {
            Some(Value::String(t)) if !t.trim().is_empty() => {
                clean.insert("text".into(), t.as_str().into());
            }
            None if clean.contains_key("id") => {}
            _ => return Err(format!("Item {i}: text: a note needs some text.")),
        }
        if let Some(a) = n.get("archived") {
            let a = parse_bool(a).map_err(|m| format!("Item {i}: archived: {m}"))?;
            clean.insert("archived".into(), a.into());
        }
        out.push(Value::Object(clean));
    }
    Ok(Value::Array(out).to_string())
}

/// Applies the notes a body sent, then stores the answer forms of notes and items.
pub fn after_write(ctx: &Ctx, conn: &mut Conn, task: i64) -> Result<(), ApiError> {
    let row = Sql::new("SELECT t.notes, t.associated_items FROM tasks t WHERE t.id = ?")
        .bind(task)
        .load_one(conn, &[Ty::Text, Ty::Text])?
        .ok_or(ApiError::NotFound)?;
    let notes: Vec<Value> =
        serde_json::from_str(row[0].as_str().unwrap_or("[]")).unwrap_or_default();
    for (i, n) in notes.iter().enumerate() {
        let text = n.get("text").and_then(Value::as_str);
        let archived = n.get("archived").and_then(Value::as_bool);
        let Some(id) = n.get("id").and_then(Value::as_i64) else {
            Sql::new(
                "INSERT INTO task_notes (practice_group_id, task, text, created_by, archived, \
                 created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(ctx.practice_group())
            .bind(task)
            .bind(text.unwrap_or_default())
            .bind(ctx.user.user_id)
            .bind(archived.unwrap_or(false))
            .bind(now())
            .bind(now())
            .execute(conn)?;
            continue;
        };
        let stored =
            Sql::new("SELECT n.text, n.archived FROM task_notes n WHERE n.id = ? AND n.task = ?")
                .bind(id)
                .bind(task)
                .load_one(conn, &[Ty::Text, Ty::Bool])?
                .ok_or_else(|| {
                    ApiError::field(
                        "notes",
                        format!("Item {i}: note {id} is not a note of this task."),
                    )
                })?;
        let text = text.unwrap_or(stored[0].as_str().unwrap_or_default());
        let archived = archived.unwrap_or(stored[1].as_bool().unwrap_or_default());
        if Some(text) != stored[0].as_str() || Some(archived) != stored[1].as_bool() {
            Sql::new("UPDATE task_notes SET text = ?, archived = ?, updated_at = ? WHERE id = ?")
                .bind(text)
                .bind(archived)
                .bind(now())
                .bind(id)
                .execute(conn)?;
        }
    }
    let mut items: Vec<Value> =
        serde_json::from_str(row[1].as_str().unwrap_or("[]")).unwrap_or_default();
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        item.insert("task".into(), task.into());
    }
    Sql::new("UPDATE tasks SET associated_items = ? WHERE id = ?")
        .bind(Value::Array(items).to_string())
        .bind(task)
        .execute(conn)?;
    refresh_notes(conn, task, false)
}

/// Stores a task's notes as answered (every /api/task_notes row of it, by id); `touch` also
/// bumps the task's updated_at.
pub fn refresh_notes(conn: &mut Conn, task: i64, touch: bool) -> Result<(), ApiError> {
    let rows = Sql::new(
        "SELECT n.id, n.text, n.created_by, n.archived, n.created_at, n.updated_at \
         FROM task_notes n WHERE n.task = ? ORDER BY n.id",
    )
    .bind(task)
    .load(
        conn,
        &[
            Ty::Int,
            Ty::Text,
            Ty::Int,
            Ty::Bool,
            Ty::Timestamp,
            Ty::Timestamp,
        ],
    )?;
    let notes: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r[0].as_i64(), "task": task, "text": r[1].as_str(),
                "created_by": r[2].as_i64(), "archived": r[3].as_bool(),
                "created_at": r[4].as_timestamp().map(stamp),
                "updated_at": r[5].as_timestamp().map(stamp),
            })
        })
        .collect();
    let mut sql = Sql::new("UPDATE tasks SET notes = ?").bind(Value::Array(notes).to_string());
    if touch {
        sql.push(", updated_at = ?", [Val::from(now())]);
    }
    sql.push(" WHERE id = ?", [Val::from(task)]);
    sql.execute(conn)?;
    Ok(())
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

    #[test]
    fn note_items_need_text_unless_they_name_a_note() {
        assert!(note_input(r#"[{"text": "Call back"}, {"id": 3, "archived": true}]"#).is_ok());
        assert!(note_input(r#"[{"text": "  "}]"#).is_err());
        assert!(note_input(r#"[{"archived": true}]"#).is_err());
        assert!(note_input(r#"[{"id": "x", "text": "a"}]"#).is_err());
    }
}
