//! /api/clinical_note_field_types: the fields of clinical note templates ("Clinical Note
//! Field Types").
//!
//! The reference makes them read-only (the DrChrono web app builds forms); chartd also
//! accepts POST, PUT, PATCH and DELETE (archives) as its extension. A field stays in its
//! template. `appointment`, listed by the reference, is always null: a field type belongs to
//! a template, not to an appointment.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::ApiError;
use crate::resources::clinical_note_templates::refresh_fields;

pub const DATA_TYPES: &[&str] = &[
    "",
    "Checkbox",
    "NullCheckbox",
    "String",
    "TwoStrings",
    "FreeDraw",
    "Photo",
    "Header",
    "Subheader",
];

pub static RESOURCE: Resource = Resource {
    path: "clinical_note_field_types",
    name: "ClinicalNoteFieldType",
    doc: "The fields used when charting an appointment, each in a clinical note template.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::ALL,
    extension_verbs: Verbs {
        list: false,
        retrieve: false,
        ..Verbs::ALL
    },
    fields: &[
        Field::strings("allowed_values").doc(
            "Value options the field relies on if applicable (single or multiple select), \
             otherwise an empty array.",
        ),
        Field::boolean("archived").read_only().doc(
            "The field has been soft-deleted by the doctor and will not be used in future notes.",
        ),
        Field::int("appointment")
            .nullable()
            .sql("CAST(NULL AS BIGINT)")
            .doc("Always null: a field type belongs to a template, not to an appointment."),
        Field::reference("clinical_note_template", "clinical_note_templates").required(),
        Field::string("comment"),
        Field::choice("data_type", DATA_TYPES),
        Field::id(),
        Field::string("name").required(),
        Field::boolean("required")
            .doc("A note should not be locked unless a value is provided for this field."),
    ],
    filters: &[Filter::eq("clinical_note_template", Kind::Int)],
    hooks: &FieldTypeHooks,
    ..Resource::DEFAULT
};

struct FieldTypeHooks;

/// ` AND` the template is the caller's doctor's, when the group does not share templates.
fn own_templates(ctx: &Ctx, sql: &mut Sql, column: &str) {
    if !ctx.user.shares(ShareSetting::ClinicalTemplates) {
        sql.push(
            &format!(
                " AND {column} IN (SELECT tp.id FROM clinical_note_templates tp \
                 WHERE tp.doctor = ?)"
            ),
            [Val::from(ctx.user.doctor_id)],
        );
    }
}

impl Hooks for FieldTypeHooks {
    fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        own_templates(ctx, sql, "t.clinical_note_template");
    }

    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let Some(template) = w.rec.get("clinical_note_template").and_then(Val::as_i64) else {
            return Ok(());
        };
        if let Some(cur) = w.current {
            if cur.get("clinical_note_template").and_then(Val::as_i64) != Some(template) {
                w.errors.add(
                    "clinical_note_template",
                    "A field cannot move to another template.",
                );
            }
        } else if !w.errors.has("clinical_note_template") {
            let mut sql = Sql::new("SELECT t.id FROM clinical_note_templates t WHERE t.id = ?")
                .bind(template);
            own_templates(w.ctx, &mut sql, "t.id");
            if sql.load_i64(w.conn)?.is_none() {
                w.errors.add(
                    "clinical_note_template",
                    "Your practice group does not share clinical templates between doctors; \
                     use one of your own.",
                );
            }
        }
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        let template =
            Sql::new("SELECT clinical_note_template FROM clinical_note_field_types WHERE id = ?")
                .bind(id)
                .load_i64(w.conn)?;
        if let Some(template) = template {
            refresh_fields(w.conn, template)?;
        }
        Ok(())
    }
}
