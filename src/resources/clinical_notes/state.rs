//! A clinical note's own state, kept in the `clinical_notes` table (one row per appointment
//! that has been charted or locked): the lock (who and when), and the JSON that
//! /api/clinical_notes and the appointment's `clinical_note` key answer, derived from the
//! field values whenever they change.
//!
//! Every change of the lock goes through [`set_lock`], which raises the CLINICAL_NOTE_LOCK and
//! CLINICAL_NOTE_UNLOCK webhook events (the object: GET /api/clinical_notes/{id}). A write that changes a note's values
//! first calls [`open_for_change`], which takes the note's row lock, so a value write and a
//! lock of the same note never interleave (PostgreSQL; SQLite has one writer anyway).

use serde_json::{json, Value};

use crate::api::auth::ShareSetting;
use crate::api::compiled::{now, Compiled};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

/// The appointment's patient (None for a break), if the caller may see the appointment.
pub fn appointment_patient(
    conn: &mut Conn,
    ctx: &Ctx,
    appointment: i64,
) -> Result<Option<Option<i64>>, ApiError> {
    let mut sql = Sql::new("SELECT t.patient FROM appointments t WHERE t.practice_group_id = ?")
        .bind(ctx.practice_group());
    if !ctx.user.shares(ShareSetting::Patients) {
        sql.push(" AND t.doctor = ?", [Val::from(ctx.user.doctor_id)]);
    }
    sql.push(" AND t.id = ?", [Val::from(appointment)]);
    Ok(sql.load_one(conn, &[Ty::Int])?.map(|r| r[0].as_i64()))
}

/// Makes sure the note's row exists and locks it for this transaction; answers whether the
/// note is locked.
fn touch(conn: &mut Conn, ctx: &Ctx, appointment: i64) -> Result<bool, ApiError> {
    let t = now();
    Sql::new(
        "INSERT INTO clinical_notes (practice_group_id, appointment, created_at, updated_at) \
         VALUES (?, ?, ?, ?) ON CONFLICT (appointment) DO NOTHING",
    )
    .bind(ctx.practice_group())
    .bind(appointment)
    .bind(t)
    .bind(t)
    .execute(conn)?;
    // An UPDATE takes the row lock; RETURNING reads the state after any concurrent lock.
    let row = Sql::new(
        "UPDATE clinical_notes SET updated_at = updated_at WHERE appointment = ? RETURNING locked",
    )
    .bind(appointment)
    .load_one(conn, &[Ty::Bool])?;
    Ok(row.and_then(|r| r[0].as_bool()).unwrap_or(false))
}

/// Before a value of the note changes: 409 when the note is locked.
pub fn open_for_change(conn: &mut Conn, ctx: &Ctx, appointment: i64) -> Result<(), ApiError> {
    if touch(conn, ctx, appointment)? {
        return Err(ApiError::Conflict(
            format!(
                "The clinical note of appointment {appointment} is locked; unlock it \
                 (POST /api/clinical_notes/{appointment}/unlock) before changing its values."
            ),
            Some(json!({"clinical_note": appointment, "locked": true})),
        ));
    }
    Ok(())
}

/// Required fields of the note's templates that have no value yet: (id, name).
fn missing_required(conn: &mut Conn, appointment: i64) -> Result<Vec<(i64, String)>, ApiError> {
    let rows = Sql::new(
        "SELECT f.id, f.name FROM clinical_note_field_types f \
         WHERE f.required = ? AND f.archived = ? AND f.clinical_note_template IN (\
           SELECT f2.clinical_note_template FROM clinical_note_field_values v \
           JOIN clinical_note_field_types f2 ON f2.id = v.clinical_note_field \
           WHERE v.appointment = ? AND v.archived = ?) \
         AND NOT EXISTS (SELECT 1 FROM clinical_note_field_values v \
           WHERE v.appointment = ? AND v.clinical_note_field = f.id AND v.archived = ? \
           AND v.value <> '' AND NOT (f.data_type = 'NullCheckbox' AND v.value = '0')) \
         ORDER BY f.id",
    )
    .bind(true)
    .bind(false)
    .bind(appointment)
    .bind(false)
    .bind(appointment)
    .bind(false)
    .load(conn, &[Ty::Int, Ty::Text])?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r[0].as_i64().unwrap_or_default(),
                r[1].as_str().unwrap_or("").to_string(),
            )
        })
        .collect())
}

/// Locks (`lock`) or unlocks the clinical note of an appointment the caller may see,
/// recording who and when. 404 for a note the caller cannot see, 409 when it already is in
/// that state, 400 naming the required fields still empty when locking.
pub fn set_lock(
    conn: &mut Conn,
    ctx: &Ctx,
    notes: &Compiled,
    appointment: i64,
    lock: bool,
) -> Result<(), ApiError> {
    let mut sql = Sql::new("SELECT t.id FROM appointments t");
    notes.scope(ctx, &mut sql);
    sql.push(" AND t.id = ?", [Val::from(appointment)]);
    sql.load_i64(conn)?.ok_or(ApiError::NotFound)?;
    let locked = touch(conn, ctx, appointment)?;
    if locked == lock {
        return Err(ApiError::Conflict(
            format!(
                "This clinical note is already {}.",
                if lock { "locked" } else { "unlocked" }
            ),
            Some(json!({"locked": locked})),
        ));
    }
    if lock {
        let missing = missing_required(conn, appointment)?;
        if !missing.is_empty() {
            let mut errors = FieldErrors::default();
            for (id, name) in missing {
                errors.add(
                    "clinical_note_sections",
                    format!("Field {id} (\"{name}\") is required before the note can be locked."),
                );
            }
            return Err(ApiError::Validation(errors));
        }
    }
    let (by, at) = if lock {
        ("locked_by", "locked_at")
    } else {
        ("unlocked_by", "unlocked_at")
    };
    Sql::new(format!(
        "UPDATE clinical_notes SET locked = ?, {by} = ?, {at} = ? WHERE appointment = ?"
    ))
    .bind(lock)
    .bind(ctx.user.user_id)
    .bind(now())
    .bind(appointment)
    .execute(conn)?;
    refresh(conn, appointment)?;
    let event = if lock {
        "CLINICAL_NOTE_LOCK"
    } else {
        "CLINICAL_NOTE_UNLOCK"
    };
    crate::api::events::raise(conn, ctx, notes, event, appointment)?;
    Ok(())
}

/// The note's sections as (without values, with values).
fn sections(conn: &mut Conn, appointment: i64) -> Result<(Value, Value), ApiError> {
    let rows = Sql::new(
        "SELECT v.id, v.clinical_note_field, v.value, f.clinical_note_template, tp.name, \
         tp.\"order\" FROM clinical_note_field_values v \
         JOIN clinical_note_field_types f ON f.id = v.clinical_note_field \
         JOIN clinical_note_templates tp ON tp.id = f.clinical_note_template \
         WHERE v.appointment = ? AND v.archived = ? ORDER BY f.clinical_note_template, f.id, v.id",
    )
    .bind(appointment)
    .bind(false)
    .load(
        conn,
        &[Ty::Int, Ty::Int, Ty::Text, Ty::Int, Ty::Text, Ty::Text],
    )?;
    // (position on complete notes, template id, name, values)
    let mut groups: Vec<(i64, i64, String, Vec<Value>)> = Vec::new();
    for r in rows {
        let template = r[3].as_i64().unwrap_or_default();
        if groups.last().is_none_or(|g| g.1 != template) {
            let order: Value =
                serde_json::from_str(r[5].as_str().unwrap_or("{}")).unwrap_or_default();
            let position = order["on_complete_note"].as_i64().unwrap_or(i64::MAX);
            let name = r[4].as_str().unwrap_or("").to_string();
            groups.push((position, template, name, Vec::new()));
        }
        if let Some(g) = groups.last_mut() {
            g.3.push(json!({
                "id": r[0].as_i64(),
                "clinical_note_field": r[1].as_i64(),
                "value": r[2].as_str().unwrap_or(""),
            }));
        }
    }
    groups.sort_by_key(|g| (g.0, g.1));
    let terse = groups
        .iter()
        .map(|g| json!({"clinical_note_template": g.1, "name": g.2}))
        .collect();
    let full = groups
        .into_iter()
        .map(|g| json!({"clinical_note_template": g.1, "name": g.2, "values": g.3}))
        .collect();
    Ok((Value::Array(terse), Value::Array(full)))
}

/// Rewrites the note's derived JSON from its values and lock, and bumps its updated_at.
pub fn refresh(conn: &mut Conn, appointment: i64) -> Result<(), ApiError> {
    let (terse, full) = sections(conn, appointment)?;
    let locked = Sql::new("SELECT locked FROM clinical_notes WHERE appointment = ?")
        .bind(appointment)
        .load_one(conn, &[Ty::Bool])?
        .and_then(|r| r[0].as_bool())
        .unwrap_or(false);
    let t = now();
    // The appointment's `clinical_note` object; chartd renders no PDF of the note.
    let summary = json!({
        "locked": locked,
        "pdf": null,
        "updated_at": t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    });
    Sql::new(
        "UPDATE clinical_notes SET sections = ?, sections_values = ?, summary = ?, \
         updated_at = ? WHERE appointment = ?",
    )
    .bind(terse.to_string())
    .bind(full.to_string())
    .bind(summary.to_string())
    .bind(t)
    .bind(appointment)
    .execute(conn)?;
    Ok(())
}

/// After a template's name or order changed: refreshes the notes that use it whose sections
/// read differently now.
pub fn refresh_template_notes(conn: &mut Conn, template: i64) -> Result<(), ApiError> {
    let rows = Sql::new(
        "SELECT DISTINCT v.appointment, n.sections FROM clinical_note_field_values v \
         JOIN clinical_note_field_types f ON f.id = v.clinical_note_field \
         JOIN clinical_notes n ON n.appointment = v.appointment \
         WHERE f.clinical_note_template = ?",
    )
    .bind(template)
    .load(conn, &[Ty::Int, Ty::Text])?;
    for r in rows {
        let appointment = r[0].as_i64().unwrap_or_default();
        let (terse, _) = sections(conn, appointment)?;
        if r[1].as_str() != Some(terse.to_string().as_str()) {
            refresh(conn, appointment)?;
        }
    }
    Ok(())
}
