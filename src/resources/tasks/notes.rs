//! A task's notes: rows of /api/task_notes, answered in full in the task's `notes`. A body's
//! items without "id" become new notes by the caller; items with "id" change that note's
//! text or archived; notes left out are kept. The task's `notes` column holds the answer,
//! refreshed after every write of the task or of one of its notes.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use crate::api::compiled::now;
use crate::api::fields::{parse_bool, parse_int};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;

fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Checks a body's notes: [{"id"?, "text"?, "archived"?}], text required for new notes.
pub fn parse(raw: &str) -> Result<String, String> {
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

/// Applies the notes of a body (as `parse` left them; the stored answer when the body sent
/// none, which changes nothing).
pub fn apply(ctx: &Ctx, conn: &mut Conn, task: i64, raw: &str) -> Result<(), ApiError> {
    let notes: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
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
    Ok(())
}

/// Stores a task's notes as answered (every /api/task_notes row of it, by id); `touch` also
/// bumps the task's updated_at.
pub fn refresh(conn: &mut Conn, task: i64, touch: bool) -> Result<(), ApiError> {
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
    #[test]
    fn note_items_need_text_unless_they_name_a_note() {
        use super::parse;
        assert!(parse(r#"[{"text": "Call back"}, {"id": 3, "archived": true}]"#).is_ok());
        assert!(parse(r#"[{"text": "  "}]"#).is_err());
        assert!(parse(r#"[{"archived": true}]"#).is_err());
        assert!(parse(r#"[{"id": "x", "text": "a"}]"#).is_err());
    }
}
