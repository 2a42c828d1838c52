//! /api/amendments: amendments to a patient's clinical records ("Amendments"). An
//! application sees and changes only the amendments it created (the `scope` hook).
//!
//! amendment_file is a PDF, uploaded as a multipart part or base64 in JSON, answered as a
//! URL that needs the amendment's own authorization. When `appointment` is given it must be
//! the patient's; DrChrono then appends the file to that appointment's clinical note PDF,
//! which chartd does not render. DELETE archives.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Op, Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::ApiError;
use crate::resources::clinical_notes::state;

pub static RESOURCE: Resource = Resource {
    path: "amendments",
    name: "Amendment",
    doc: "Amendments to patients' clinical records created by the calling application.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::string("amendment_name").required(),
        Field::file("amendment_file")
            .required()
            .doc("A PDF file containing the amended information for the patient's record."),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor who owns the amendment."),
        Field::reference("patient", "patients")
            .required()
            .doc("The patient to whom the amendment applies."),
        Field::reference("appointment", "appointments")
            .nullable()
            .doc("The appointment (of the same patient) to which the amendment applies, if any."),
        Field::string("comments"),
        Field::id(),
    ],
    filters: &[
        Filter::eq("appointment", Kind::Int),
        Filter::eq("patient", Kind::Int),
    ],
    hooks: &AmendmentHooks,
    ..Resource::DEFAULT
};

struct AmendmentHooks;

impl Hooks for AmendmentHooks {
    /// Only what the calling application created.
    fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        sql.push(" AND t.app_id = ?", [Val::from(ctx.user.app_id)]);
    }

    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if w.op == Op::Create {
            w.rec.set("app_id", Val::from(w.ctx.user.app_id));
        }
        if let Some(key) = w.rec.get("amendment_file").and_then(Val::as_str) {
            if !key.to_ascii_lowercase().ends_with(".pdf") {
                w.errors
                    .add("amendment_file", "The amendment file must be a PDF.");
            }
        }
        let get = |k: &str| w.rec.get(k).or_else(|| w.current.and_then(|c| c.get(k)));
        let appointment = get("appointment").and_then(Val::as_i64);
        let patient = get("patient").and_then(Val::as_i64);
        if let (Some(appointment), false) = (appointment, w.errors.has("appointment")) {
            if w.rec.has("appointment") || w.rec.has("patient") {
                match state::appointment_patient(w.conn, w.ctx, appointment)? {
                    Some(p) if p == patient => {}
                    Some(_) => w
                        .errors
                        .add("appointment", "This appointment is not the patient's."),
                    None => w.errors.add(
                        "appointment",
                        format!("Invalid pk \"{appointment}\" - object does not exist."),
                    ),
                }
            }
        }
        Ok(())
    }
}
