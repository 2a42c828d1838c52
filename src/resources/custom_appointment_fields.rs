//! /api/custom_appointment_fields: the practice's extra appointment fields ("Custom
//! Appointment Fields"); appointments carry values for them in `custom_fields`.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "custom_appointment_fields",
    name: "CustomAppointmentField",
    doc: "Custom appointment fields of the caller's practice group.",
    scopes: &[Scope::Clinical, Scope::Settings],
    permissions: &[Perm::AccessClinicalNotes, Perm::Settings],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors").required(),
        Field::string("field_name").required(),
        Field::string("field_desc").doc("Description of this custom field."),
        Field::int("order")
            .read_only()
            .doc("Position among the doctor's fields (1-based)."),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    hooks: &FieldHooks,
    ..Resource::DEFAULT
};

struct FieldHooks;

impl Hooks for FieldHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if w.rec
            .get("field_name")
            .and_then(Val::as_str)
            .is_some_and(|s| s.trim().is_empty())
        {
            w.errors.add("field_name", "This field may not be blank.");
        }
        // A new field goes last among its doctor's fields.
        if w.current.is_none() {
            let doctor = w
                .rec
                .get("doctor")
                .and_then(Val::as_i64)
                .unwrap_or_default();
            let last = Sql::new(
                "SELECT COALESCE(MAX(t.\"order\"), 0) FROM custom_appointment_fields t \
                 WHERE t.practice_group_id = ? AND t.doctor = ?",
            )
            .bind(w.ctx.practice_group())
            .bind(doctor)
            .load_i64(w.conn)?
            .unwrap_or(0);
            w.rec.set("order", Val::from(last + 1));
        }
        Ok(())
    }
}
