//! /api/patient_flag_types: kinds of flag a doctor attaches to patients ("Patient Flag
//! Types"); patients list theirs in `patient_flags_attached`.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Kind, Resource, Sharing, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "patient_flag_types",
    name: "PatientFlagType",
    doc: "Patient flag types of a doctor.",
    scopes: &[Scope::Patients, Scope::Settings],
    permissions: &[Perm::ManagePatients, Perm::Settings],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor who owns the flag type."),
        Field::string("name"),
        Field::string("color").check(crate::domain::color),
        Field::int("priority").nullable(),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    ..Resource::DEFAULT
};
