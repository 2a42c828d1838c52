//! /api/patients: patients owned by doctors of the caller's practice group ("Patients").
//! Shared between the group's doctors when the "share patients" setting is on.
//!
//! Nested objects (insurances, referring_doctor, custom_demographics, patient_flags_attached)
//! are checked against their formats (`nested.rs`), stored as JSON and returned only with
//! verbose=true, as the reference says. The other rules are in `rules.rs`.

mod nested;
pub mod rules;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{
    Absent, Events, Field, Filter, FilterKind, Kind, Resource, Sharing, Verbs,
};

pub const GENDERS: &[&str] = &["Male", "Female", "Other"];
pub const ETHNICITIES: &[&str] = &["blank", "hispanic", "not_hispanic", "declined"];
pub const RACES: &[&str] = &[
    "blank", "indian", "asian", "black", "hawaiian", "white", "declined",
];
pub const STATUSES: &[&str] = &["A", "I", "D"];
pub const PAYMENT_PROFILES: &[&str] = &[
    "",
    "Cash",
    "Insurance",
    "Insurance Out of Network",
    "Auto Accident",
    "Worker's Comp",
];

pub static RESOURCE: Resource = Resource {
    path: "patients",
    name: "Patient",
    doc: "Patients owned by doctors in the caller's practice group.",
    scopes: &[Scope::Patients],
    permissions: &[Perm::ManagePatients],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The patient's primary provider."),
        Field::choice("gender", GENDERS).required(),
        Field::string("chart_id").doc("Set from the first and last names when absent."),
        Field::string("first_name"),
        Field::string("middle_name"),
        Field::string("last_name"),
        Field::string("nick_name"),
        Field::date("date_of_birth").nullable(),
        Field::choice("ethnicity", ETHNICITIES),
        Field::choice("race", RACES),
        Field::string("preferred_language")
            .default(Absent::Str("blank"))
            .doc("ISO 639 alpha-3 code (three lower-case letters), or \"blank\"."),
        Field::choice("patient_status", STATUSES)
            .doc("\"A\" active, \"I\" inactive, \"D\" inactive-deceased. Default \"A\"."),
        Field::choice("patient_payment_profile", PAYMENT_PROFILES),
        Field::string("social_security_number"),
        Field::string("email"),
        Field::string("home_phone"),
        Field::string("cell_phone"),
        Field::string("office_phone"),
        Field::boolean("disable_sms_messages"),
        Field::string("address"),
        Field::string("city"),
        Field::string("state").doc("Two-letter abbreviation."),
        Field::string("zip_code"),
        Field::string("emergency_contact_name"),
        Field::string("emergency_contact_phone"),
        Field::string("emergency_contact_relation"),
        Field::string("employer"),
        Field::string("employer_address"),
        Field::string("employer_city"),
        Field::string("employer_state").doc("Two-letter abbreviation."),
        Field::string("employer_zip_code"),
        Field::string("default_pharmacy").doc("NCPDP id of the patient's default pharmacy."),
        Field::string("primary_care_physician").doc("Referring doctor for this patient."),
        Field::string("referring_source"),
        Field::string("responsible_party_name"),
        Field::string("responsible_party_relation"),
        Field::string("responsible_party_phone"),
        Field::string("responsible_party_email"),
        Field::file("patient_photo"),
        Field::date("patient_photo_date")
            .nullable()
            .doc("Cannot be passed without patient_photo."),
        Field::object("primary_insurance")
            .keys(nested::INSURANCE)
            .verbose(),
        Field::object("secondary_insurance")
            .keys(nested::INSURANCE)
            .verbose(),
        Field::object("tertiary_insurance")
            .keys(nested::INSURANCE)
            .verbose(),
        Field::object("auto_accident_insurance")
            .keys(nested::AUTO_ACCIDENT)
            .verbose(),
        Field::object("workers_comp_insurance")
            .keys(nested::WORKERS_COMP)
            .verbose(),
        Field::object("referring_doctor")
            .keys(nested::REFERRING_DOCTOR)
            .verbose(),
        Field::objects("custom_demographics")
            .verbose()
            .doc("[{\"field_type\": ID of /api/custom_demographics, \"value\": \"...\"}]"),
        Field::objects("patient_flags_attached")
            .verbose()
            .doc("[{\"flag_type\": ID of /api/patient_flag_types, \"notes\": \"...\"}]"),
        Field::objects("patient_flags")
            .read_only()
            .verbose()
            .doc("The attached flags with their types' name, color and priority."),
        Field::ints("offices")
            .read_only()
            .doc("IDs of every office this patient has been to."),
        Field::boolean("archived").read_only(),
        Field::string("external_id")
            .nullable()
            .doc("Your own id for the patient, unique in the practice group (extension)."),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("date_of_birth", Kind::Date),
        Filter::eq("email", Kind::Str),
        Filter::eq("ethnicity", Kind::Choice(ETHNICITIES)),
        Filter::icontains("first_name"),
        Filter::icontains("last_name"),
        Filter::eq("gender", Kind::Choice(GENDERS)),
        Filter::eq("preferred_language", Kind::Str),
        Filter::eq("race", Kind::Choice(RACES)),
        Filter::new("show_inactive", "patient_status", FilterKind::Flag)
            .doc("Include inactive (and deceased) patients."),
        Filter::sql(
            "offices",
            FilterKind::WhereAny {
                sql: "t.id IN (SELECT a.patient FROM appointments a \
                      WHERE a.practice_group_id = :group AND a.office = ?)",
                kind: Kind::Int,
            },
        )
        .doc("An office id or comma-separated ids: patients with an appointment at one of them."),
        Filter::eq("external_id", Kind::Str),
        Filter::since().doc(
            "Every patient changed at or after this time, archived and inactive ones included.",
        ),
    ],
    hooks: &rules::PatientHooks,
    events: Events::create_modify("PATIENT_CREATE", "PATIENT_MODIFY"),
    ..Resource::DEFAULT
};
