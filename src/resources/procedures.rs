//! /api/procedures: the procedures done for patients ("Procedures"), GET only. Not a table of
//! its own: a read-only view of /api/line_items (same rows, same ids), so the two never drift.
//! `status` is the appointment's superbill status ("" when it has none); voided superbills'
//! procedures are archived with their line items.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, FilterKind, Kind, Resource, Sharing, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "procedures",
    table: "line_items",
    name: "Procedure",
    doc: "Procedures for patients: a read-only view of the billing line items.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling, Perm::ShowBillingTab],
    verbs: Verbs::READ,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::int("appointment").read_only(),
        Field::string("code").read_only().doc("Code related with the procedure."),
        Field::timestamp("created_at").read_only(),
        Field::date("date").sql("t.service_date").doc("Service date."),
        Field::string("description").read_only(),
        Field::int("doctor").read_only(),
        Field::id(),
        Field::int("patient").read_only(),
        Field::string("procedure_type").read_only()
            .doc("One of \"C\" (CPT), \"H\" (HCPCS), \"U\" (Custom) and \"S\" (SNOMED)."),
        Field::string("status")
            .sql("COALESCE((SELECT s.status FROM superbills s WHERE s.appointment = t.appointment), '')")
            .doc("The appointment's superbill status (Draft, Submitted, Approved, Voided), or \"\"."),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("appointment", Kind::Int),
        Filter::eq("doctor", Kind::Int),
        Filter::eq("patient", Kind::Int),
        Filter::new("service_date", "service_date", FilterKind::OnDate)
            .doc("Only procedures done on this date."),
        Filter::since(),
    ],
    ..Resource::DEFAULT
};
