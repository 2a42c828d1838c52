//! /api/patients: patients owned by doctors of the caller's practice group ("Patients").
//! Shared between the group's doctors when the "share patients" setting is on.
//!
//! Nested objects (insurances, referring_doctor, custom_demographics, patient_flags_attached)
//! are stored as JSON and returned only with verbose=true, as the reference says.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{
    Default, Field, Filter, FilterKind, Hooks, Kind, Op, Record, Resource, Sharing, Verbs,
};
use crate::api::Ctx;
use crate::db::{Conn, Val};
use crate::error::{ApiError, FieldErrors};

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
            .default(Default::Str("blank"))
            .doc("ISO 639 alpha-3 code."),
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
        Field::object("primary_insurance").verbose(),
        Field::object("secondary_insurance").verbose(),
        Field::object("tertiary_insurance").verbose(),
        Field::object("auto_accident_insurance").verbose(),
        Field::object("workers_comp_insurance").verbose(),
        Field::object("referring_doctor").verbose(),
        Field::objects("custom_demographics").verbose(),
        Field::objects("patient_flags_attached").verbose(),
        Field::objects("patient_flags").verbose().sql("'[]'"),
        Field::ints("offices")
            .sql("'[]'")
            .doc("IDs of every office this patient has been to."),
        Field::boolean("archived").read_only(),
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
        Filter::since(),
    ],
    hooks: &PatientHooks,
    ..Resource::DEFAULT
};

struct PatientHooks;

impl Hooks for PatientHooks {
    fn validate(
        &self,
        _ctx: &Ctx,
        _conn: &mut Conn,
        _op: Op,
        rec: &mut Record,
        current: Option<&Record>,
        errors: &mut FieldErrors,
    ) -> Result<(), ApiError> {
        let photo_date = rec.get("patient_photo_date").is_some_and(|v| !v.is_null());
        if photo_date
            && rec
                .get("patient_photo")
                .and_then(Val::as_str)
                .is_none_or(str::is_empty)
        {
            errors.add(
                "patient_photo_date",
                "Cannot be passed without patient_photo.",
            );
        }
        // chart_id: "Automatically set using first & last names if absent".
        let value = |k: &str| {
            rec.get(k)
                .or_else(|| current.and_then(|c| c.get(k)))
                .and_then(Val::as_str)
                .unwrap_or("")
                .to_string()
        };
        if value("chart_id").trim().is_empty() && (rec.has("chart_id") || current.is_none()) {
            let chart_id = chart_id_from(&value("first_name"), &value("last_name"));
            rec.set("chart_id", Val::from(chart_id));
        }
        Ok(())
    }

    fn scope_list(
        &self,
        _ctx: &Ctx,
        params: &crate::api::filters::Params,
        sql: &mut crate::db::Sql,
    ) -> Result<(), ApiError> {
        // A `since` poller sees every change, inactive patients included.
        if !params.flag("show_inactive")? && params.get("since").is_none() {
            sql.push(" AND t.patient_status = ?", [Val::from("A")]);
        }
        Ok(())
    }
}

/// DrChrono-style chart id: four letters of the last name, two of the first, upper case,
/// then a number made unique enough by the clock.
fn chart_id_from(first: &str, last: &str) -> String {
    let letters = |s: &str, n: usize| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphabetic())
            .take(n)
            .collect::<String>()
            .to_uppercase()
    };
    let stamp = chrono::Utc::now().timestamp_micros() % 1_000_000;
    format!("{}{}{:06}", letters(last, 4), letters(first, 2), stamp)
}
