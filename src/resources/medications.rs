//! /api/medications: patients' medications ("Medications"), GET, POST, PUT, PATCH, and
//! PATCH /api/medications/{id}/append_to_pharmacy_note {"text"}, which appends the text to
//! pharmacy_note as a new paragraph and answers {"pharmacy_note": the new text}.

use serde_json::json;

use crate::api::action::{Action, Answer, Method, Reply, Run};
use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Events, Field, Filter, Kind, Resource, Sharing, Verbs};
use crate::db::Val;

pub const ORDER_STATUSES: &[&str] = &[
    "",
    "Ordered",
    "Administered during visit",
    "Electronic eRx Sent",
    "Phoned into Pharmacy",
    "Faxed to Pharmacy",
    "Paper Rx",
    "Prescription Printed",
    "Discontinued",
    "Prescribed by other Dr",
    "Over the Counter",
];
pub const STATUSES: &[&str] = &["active", "inactive"];

pub static RESOURCE: Resource = Resource {
    path: "medications",
    name: "Medication",
    doc: "Medications of patients owned by doctors in the caller's practice group.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    hide_archived: false,
    audited: true,
    fields: &[
        Field::boolean("daw")
            .doc("The prescription should be dispensed as written and not substituted."),
        Field::reference("doctor", "doctors")
            .required()
            .doc("Prescribing doctor."),
        Field::id(),
        Field::string("name"),
        Field::reference("patient", "patients").required(),
        Field::boolean("prn").doc("The medication should be taken when necessary."),
        Field::reference("appointment", "appointments")
            .nullable()
            .doc("The appointment of the initial prescription."),
        Field::date("date_prescribed").nullable(),
        Field::date("date_started_taking").nullable(),
        Field::date("date_stopped_taking").nullable(),
        Field::decimal("dispense_quantity").nullable(),
        Field::string("dosage_quantity")
            .doc("Formerly a decimal; a decimal value or a formatted string."),
        Field::string("dosage_units"),
        Field::string("ndc").doc("National Drug Code; its correctness is the caller's."),
        Field::string("notes").doc("Any additional notes from the provider."),
        Field::string("frequency").doc("Frequency of administration."),
        Field::string("indication"),
        Field::int("number_refills").nullable(),
        Field::choice("order_status", ORDER_STATUSES).doc("Default \"\"."),
        Field::string("pharmacy_note"),
        Field::string("route").doc("Route of administration."),
        Field::string("rxnorm").doc("RxNorm code for the medication."),
        Field::string("signature_note"),
        Field::choice("status", STATUSES).doc("Default \"active\"."),
    ],
    filters: &[Filter::eq("patient", Kind::Int)],
    actions: &[APPEND],
    events: Events::create_modify("PATIENT_MEDICATION_CREATE", "PATIENT_MEDICATION_MODIFY"),
    ..Resource::DEFAULT
};

/// PATCH /api/medications/{id}/append_to_pharmacy_note {"text"}.
const APPEND: Action = Action {
    method: Method::Patch,
    path: "/{id}/append_to_pharmacy_note",
    name: "append_to_pharmacy_note",
    summary: "Append a message to pharmacy_note, in a new paragraph; answers the new text",
    body: &[Field::string("text").required().not_blank()],
    answer: Answer::Keys(&[Field::string("pharmacy_note")]),
    answer_doc: "The new pharmacy_note.",
    run: Run::Write(|w, body, _| {
        let text = body.get("text").and_then(Val::as_str).unwrap_or_default();
        let old = w.text("pharmacy_note").unwrap_or_default().trim_end();
        let note = if old.trim().is_empty() {
            text.to_string()
        } else {
            format!("{old}\n\n{text}")
        };
        w.set("pharmacy_note", note.clone());
        Ok(Reply::Json(json!({ "pharmacy_note": note })))
    }),
    ..Action::DEFAULT
};
