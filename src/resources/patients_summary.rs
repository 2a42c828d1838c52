//! /api/patients_summary: the patients, with only what scheduling needs ("Patients Summary").
//! The same rows as /api/patients; writing needs "Manage Patients", reading only the
//! patients:summary scope.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Events, Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::error::ApiError;
use crate::resources::patients::{rules::PatientHooks, GENDERS};

pub static RESOURCE: Resource = Resource {
    path: "patients_summary",
    table: "patients",
    name: "PatientSummary",
    doc: "Patients with the minimum data needed for scheduling and other non-clinical work.",
    scopes: &[Scope::PatientsSummary],
    permissions: &[Perm::ManagePatients],
    read_permissions: Some(&[]),
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::date("date_of_birth").required(),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The patient's primary provider."),
        Field::choice("gender", GENDERS).required(),
        Field::string("chart_id").doc("Set from the first and last names when absent."),
        Field::string("first_name"),
        Field::string("last_name"),
    ],
    filters: &[
        Filter::eq("date_of_birth", Kind::Date),
        Filter::eq("doctor", Kind::Int),
        Filter::icontains("first_name"),
        Filter::icontains("last_name"),
        Filter::eq("gender", Kind::Choice(GENDERS)),
        Filter::since(),
    ],
    hooks: &SummaryHooks,
    // The same patients: their webhooks carry GET /api/patients/{id}.
    events: Events {
        object: Some(&crate::resources::patients::RESOURCE),
        ..Events::create_modify("PATIENT_CREATE", "PATIENT_MODIFY")
    },
    ..Resource::DEFAULT
};

/// The patient rules for the keys this view has; lists show every patient.
struct SummaryHooks;

impl Hooks for SummaryHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        PatientHooks.validate(w)
    }
}
