//! /api/clinical_note_field_values: the values entered when charting an appointment
//! ("Clinical Note Field Values"), at most one per field type and appointment. A value keeps
//! its appointment and field; a locked note refuses new and changed values with 409.
//!
//! show_persistent (with appointment and clinical_note_template): for a persistent template
//! the values come from the patient's latest appointment, at or before this one, that has
//! values for the template (this one first).

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::filters::Params;
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Record, Resource, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Sql, Ty, Val};
use crate::error::ApiError;
use crate::resources::clinical_notes::state;

const TEMPLATE_OF_VALUE: &str =
    "(SELECT f.clinical_note_template FROM clinical_note_field_types f WHERE f.id = t.clinical_note_field)";

pub static RESOURCE: Resource = Resource {
    path: "clinical_note_field_values",
    name: "ClinicalNoteFieldValue",
    doc: "Values entered when charting an appointment, one per clinical note field.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::NO_DELETE,
    audited: true,
    fields: &[
        Field::id(),
        Field::reference("appointment", "appointments").required(),
        Field::reference("clinical_note_field", "clinical_note_field_types")
            .required()
            .doc("The field type that indicates the type of the value."),
        Field::string("value").required().doc(
            "By the field's data_type: Checkbox \"True\" or \"False\"; NullCheckbox \"0\" (not \
             selected), \"1\" (no) or \"2\" (yes); TwoStrings two parts separated by \"/\"; \
             String with allowed_values one of them (a multiple select: several, separated by \
             commas).",
        ),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::new("appointment", "appointment", FilterKind::Custom(Kind::Int))
            .doc("Only values of this appointment's note (see also /api/clinical_notes)."),
        Filter::eq("clinical_note_field", Kind::Int),
        Filter::new(
            "clinical_note_template",
            TEMPLATE_OF_VALUE,
            FilterKind::Eq(Kind::Int),
        )
        .doc("Only values of fields of this template."),
        Filter::new("show_persistent", "appointment", FilterKind::Flag).doc(
            "With appointment and clinical_note_template: the values inherited from a \
             persistent template. Otherwise ignored.",
        ),
        Filter::since(),
    ],
    hooks: &ValueHooks,
    ..Resource::DEFAULT
};

struct ValueHooks;

/// A key's value after this write: the new one if given, else the stored one.
fn value<'a>(rec: &'a Record, current: Option<&'a Record>, key: &str) -> Option<&'a Val> {
    rec.get(key).or_else(|| current.and_then(|c| c.get(key)))
}

/// Checks a value against its field's data type; answers the value to store.
fn check_value(data_type: &str, allowed: &[String], v: &str) -> Result<String, String> {
    match data_type {
        "Checkbox" => match v.trim().to_ascii_lowercase().as_str() {
            "true" => Ok("True".into()),
            "false" => Ok("False".into()),
            _ => Err("A Checkbox value is \"True\" or \"False\".".into()),
        },
        "NullCheckbox" if ["0", "1", "2"].contains(&v.trim()) => Ok(v.trim().into()),
        "NullCheckbox" => {
            Err("A NullCheckbox value is \"0\" (not selected), \"1\" (no) or \"2\" (yes).".into())
        }
        "TwoStrings" if !v.contains('/') => {
            Err("A TwoStrings value is two strings separated by \"/\".".into())
        }
        "String" if !allowed.is_empty() && !v.is_empty() => {
            let ok = |s: &str| allowed.iter().any(|a| a == s);
            if ok(v) || v.split(',').all(|p| ok(p.trim())) {
                Ok(v.into())
            } else {
                Err(format!(
                    "\"{v}\" is not one of the field's allowed values: {}.",
                    allowed.join(", ")
                ))
            }
        }
        _ => Ok(v.into()),
    }
}

impl Hooks for ValueHooks {
    fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        if !ctx.user.shares(ShareSetting::Patients) {
            sql.push(
                " AND t.appointment IN (SELECT a.id FROM appointments a WHERE a.doctor = ?)",
                [Val::from(ctx.user.doctor_id)],
            );
        }
    }

    fn scope_list(&self, ctx: &Ctx, params: &Params, sql: &mut Sql) -> Result<(), ApiError> {
        let int = |k: &str| params.get(k).and_then(|v| v.trim().parse::<i64>().ok());
        let Some(appointment) = int("appointment") else {
            return Ok(());
        };
        match int("clinical_note_template") {
            Some(template) if params.flag("show_persistent")? => {
                sql.push(
                    " AND t.appointment = COALESCE((SELECT a.id FROM appointments a \
                     JOIN clinical_note_templates tp ON tp.id = ? AND tp.is_persistent = ? \
                     WHERE a.practice_group_id = ? AND a.archived = ? \
                     AND a.patient = (SELECT a0.patient FROM appointments a0 WHERE a0.id = ?) \
                     AND a.scheduled_time <= (SELECT a0.scheduled_time FROM appointments a0 \
                       WHERE a0.id = ?) \
                     AND EXISTS (SELECT 1 FROM clinical_note_field_values v \
                       JOIN clinical_note_field_types f ON f.id = v.clinical_note_field \
                       WHERE v.appointment = a.id AND f.clinical_note_template = ?) \
                     ORDER BY CASE WHEN a.id = ? THEN 0 ELSE 1 END, a.scheduled_time DESC, \
                     a.id DESC LIMIT 1), ?)",
                    [
                        Val::from(template),
                        Val::from(true),
                        Val::from(ctx.practice_group()),
                        Val::from(false),
                        Val::from(appointment),
                        Val::from(appointment),
                        Val::from(template),
                        Val::from(appointment),
                        Val::from(appointment),
                    ],
                );
            }
            _ => {
                sql.push(" AND t.appointment = ?", [Val::from(appointment)]);
            }
        }
        Ok(())
    }

    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if let Some(cur) = w.current {
            for key in ["appointment", "clinical_note_field"] {
                if w.rec.given(key) && w.rec.get(key) != cur.get(key) {
                    w.errors.add(
                        key,
                        "A value keeps its appointment and field; create another.",
                    );
                }
            }
        }
        let appointment = value(w.rec, w.current, "appointment").and_then(Val::as_i64);
        let field = value(w.rec, w.current, "clinical_note_field").and_then(Val::as_i64);
        let (Some(appointment), Some(field)) = (appointment, field) else {
            return Ok(());
        };
        if w.errors.has("appointment") || w.errors.has("clinical_note_field") {
            return Ok(());
        }
        match state::appointment_patient(w.conn, w.ctx, appointment)? {
            None => w.errors.add(
                "appointment",
                format!("Invalid pk \"{appointment}\" - object does not exist."),
            ),
            Some(None) => w.errors.add("appointment", "A break has no clinical note."),
            Some(Some(_)) => {}
        }
        let row = Sql::new(
            "SELECT f.data_type, f.allowed_values, f.archived FROM clinical_note_field_types f \
             WHERE f.id = ? AND f.practice_group_id = ?",
        )
        .bind(field)
        .bind(w.ctx.practice_group())
        .load_one(w.conn, &[Ty::Text, Ty::Text, Ty::Bool])?
        .unwrap_or_default();
        if w.current.is_none() {
            if row.get(2).and_then(Val::as_bool) == Some(true) {
                w.errors
                    .add("clinical_note_field", "This field has been archived.");
            }
            let existing = Sql::new(
                "SELECT id FROM clinical_note_field_values \
                 WHERE appointment = ? AND clinical_note_field = ?",
            )
            .bind(appointment)
            .bind(field)
            .load_i64(w.conn)?;
            if let Some(id) = existing {
                w.errors.add(
                    "clinical_note_field",
                    format!(
                        "This note already has a value for this field: change it with \
                         PATCH /api/clinical_note_field_values/{id}."
                    ),
                );
            }
        }
        if let Some(v) = w.rec.get("value").and_then(Val::as_str).map(str::to_string) {
            let data_type = row.first().and_then(Val::as_str).unwrap_or("");
            let allowed: Vec<String> = row
                .get(1)
                .and_then(Val::as_str)
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            match check_value(data_type, &allowed, &v) {
                Ok(clean) => w.rec.set("value", Val::from(clean)),
                Err(msg) => w.errors.add("value", msg),
            }
        }
        if w.errors.is_empty() {
            state::open_for_change(w.conn, w.ctx, appointment)?;
        }
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        let appointment =
            Sql::new("SELECT appointment FROM clinical_note_field_values WHERE id = ?")
                .bind(id)
                .load_i64(w.conn)?;
        if let Some(appointment) = appointment {
            state::refresh(w.conn, appointment)?;
        }
        Ok(())
    }
}
