//! /api/patient_payment_log: the log of patient payments ("Patient Payment Log"), GET only.
//! Derived: every write to /api/patient_payments adds its entry in the same transaction
//! (`patient_payments.rs`), so the log cannot miss a payment. `patient_payment` and `office`
//! (the appointment's) are extensions.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Kind, Resource, Sharing, Verbs};

/// What wrote the entry: every entry chartd writes comes through its API.
pub const SOURCE: &str = "API";
pub const ACTIONS: &[&str] = &["Create", "Update", "Delete"];

pub static RESOURCE: Resource = Resource {
    path: "patient_payment_log",
    name: "PatientPaymentLogEntry",
    doc: "One entry per write to /api/patient_payments, written in the same transaction.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling, Perm::ShowBillingTab],
    verbs: Verbs::READ,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::int("patient_payment")
            .read_only()
            .doc("The /api/patient_payments entry (extension)."),
        Field::int("patient")
            .read_only()
            .doc("The /api/patients associated with the payment."),
        Field::int("doctor")
            .read_only()
            .doc("The /api/doctors associated with the payment."),
        Field::int("appointment")
            .read_only()
            .nullable()
            .doc("The /api/appointments associated with the payment."),
        Field::int("office")
            .read_only()
            .nullable()
            .doc("The appointment's office, when there is one (extension)."),
        Field::decimal("amount").read_only(),
        Field::choice("payment_method", super::patient_payments::METHODS).read_only(),
        Field::int("created_by")
            .read_only()
            .nullable()
            .doc("The /api/users who created the payment."),
        Field::choice("action", ACTIONS)
            .read_only()
            .doc("What happened to the payment."),
        Field::string("source")
            .read_only()
            .doc("Where the write came from: \"API\"."),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("office", Kind::Int),
        Filter::since(),
    ],
    ..Resource::DEFAULT
};
