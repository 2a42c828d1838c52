//! /api/clinical_note_templates: the forms a note is charted on ("Clinical Note Templates").
//!
//! The reference makes templates read-only (the DrChrono web app builds them); chartd also
//! accepts POST, PUT, PATCH and DELETE (archives) as its extension. `clinical_note_fields`
//! (verbose-only) is derived from /api/clinical_note_field_types whenever a field changes.

use serde_json::{json, Value};

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Hooks, Op, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;
use crate::resources::clinical_notes::state;

pub static RESOURCE: Resource = Resource {
    path: "clinical_note_templates",
    name: "ClinicalNoteTemplate",
    doc: "Clinical note templates (forms) of the practice group's doctors.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::ALL,
    extension_verbs: Verbs {
        list: false,
        retrieve: false,
        ..Verbs::ALL
    },
    sharing: Sharing::IfSetting(ShareSetting::ClinicalTemplates),
    fields: &[
        Field::boolean("archived").read_only().doc(
            "The doctor has soft-deleted this template and will not use it for future \
             appointments.",
        ),
        Field::reference("doctor", "doctors").required(),
        Field::id(),
        Field::boolean("is_onpatient"),
        Field::boolean("is_persistent")
            .doc("The template's values are the same across all of a patient's notes."),
        Field::string("name").required(),
        Field::object("order").doc(
            "{\"on_complete_note\": integer or null, \"on_ipad\": integer or null}: the \
             template's position on complete notes and on the iPad app.",
        ),
        Field::objects("clinical_note_fields")
            .read_only()
            .verbose()
            .doc("The template's fields, as /api/clinical_note_field_types answers them."),
        Field::timestamp("updated_at").read_only(),
    ],
    hooks: &TemplateHooks,
    ..Resource::DEFAULT
};

struct TemplateHooks;

impl Hooks for TemplateHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let Some(raw) = w.rec.get("order").and_then(Val::as_str) else {
            return Ok(());
        };
        let order: Value = serde_json::from_str(raw).unwrap_or_default();
        let mut clean = json!({"on_complete_note": null, "on_ipad": null});
        for (key, v) in order.as_object().into_iter().flatten() {
            match key.as_str() {
                "on_complete_note" | "on_ipad" if v.is_null() || v.is_i64() => {
                    clean[key.as_str()] = v.clone()
                }
                _ => w.errors.add(
                    "order",
                    format!("\"{key}\": expected on_complete_note or on_ipad, an integer or null."),
                ),
            }
        }
        w.rec.set("order", Val::from(clean.to_string()));
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        if matches!(w.op, Op::Update | Op::PartialUpdate) {
            state::refresh_template_notes(w.conn, id)?;
        }
        Ok(())
    }
}

/// Rewrites a template's `clinical_note_fields` from its field types.
pub fn refresh_fields(conn: &mut Conn, template: i64) -> Result<(), ApiError> {
    let rows = Sql::new(
        "SELECT f.id, f.name, f.data_type, f.required, f.allowed_values, f.comment, f.archived \
         FROM clinical_note_field_types f WHERE f.clinical_note_template = ? ORDER BY f.id",
    )
    .bind(template)
    .load(
        conn,
        &[
            Ty::Int,
            Ty::Text,
            Ty::Text,
            Ty::Bool,
            Ty::Text,
            Ty::Text,
            Ty::Bool,
        ],
    )?;
    let fields: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r[0].as_i64(),
                "name": r[1].as_str(),
                "data_type": r[2].as_str(),
                "required": r[3].as_bool(),
                "allowed_values": serde_json::from_str::<Value>(r[4].as_str().unwrap_or("[]"))
                    .unwrap_or_default(),
                "comment": r[5].as_str(),
                "archived": r[6].as_bool(),
                "clinical_note_template": template,
            })
        })
        .collect();
    Sql::new(
        "UPDATE clinical_note_templates SET clinical_note_fields = ?, updated_at = ? WHERE id = ?",
    )
    .bind(Value::Array(fields).to_string())
    .bind(crate::api::compiled::now())
    .bind(template)
    .execute(conn)?;
    Ok(())
}
