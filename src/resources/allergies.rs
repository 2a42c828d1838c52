//! /api/allergies: patients' allergies ("Allergies"). GET, POST, PUT, PATCH; `description`
//! only with verbose=true.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Events, Field, Filter, Kind, Resource, Sharing, Verbs};

pub const STATUSES: &[&str] = &["active", "inactive"];

pub static RESOURCE: Resource = Resource {
    path: "allergies",
    name: "Allergy",
    doc: "Allergies of patients owned by doctors in the caller's practice group.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    hide_archived: false,
    audited: true,
    fields: &[
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor who diagnosed the allergy."),
        Field::id(),
        Field::reference("patient", "patients").required(),
        Field::string("description")
            .verbose()
            .doc("Description of the allergy, such as \"Cat hair\"."),
        Field::string("notes").doc("Any additional notes from the provider."),
        Field::string("reaction")
            .doc("Short description of the patient's allergic reaction, such as \"Hives\"."),
        Field::string("rxnorm")
            .doc("If the allergy is a drug allergy, the RxNorm code of the drug."),
        Field::string("snomed_reaction").doc("SNOMED code for the reaction."),
        Field::choice("status", STATUSES).doc("Default \"active\"."),
    ],
    filters: &[Filter::eq("patient", Kind::Int)],
    events: Events::create_modify("PATIENT_ALLERGY_CREATE", "PATIENT_ALLERGY_MODIFY"),
    ..Resource::DEFAULT
};
