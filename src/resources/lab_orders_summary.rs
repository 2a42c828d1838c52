//! /api/lab_orders_summary: a read-only summary of the group's lab orders ("Lab workflow").
//! GET only; the rows are /api/lab_orders (through the `lab_orders_summary` view), with
//! `lab` the sublab's name and `priority` shortened to "N" or "S".
//!
//! Orders made through this API carry no appointment, so `appointment` is null, and their
//! `origin` is "API".

use crate::api::auth::{Perm, Scope};
use crate::api::resource::{Field, Filter, Kind, Resource, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "lab_orders_summary",
    name: "LabOrderSummary",
    doc: "Summary of the practice group's lab orders.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::READ,
    audited: true,
    fields: &[
        Field::id(),
        Field::string("accession_number").read_only(),
        Field::int("appointment")
            .sql("CAST(NULL AS BIGINT)")
            .nullable()
            .doc("The appointment the order was made in; null for orders made through the API."),
        Field::timestamp("created_at").read_only(),
        Field::int("doctor").read_only(),
        Field::string("lab")
            .sql("SELECT s.name FROM sublabs s WHERE s.id = t.sublab")
            .doc("Name of the sublab the order went to."),
        Field::string("notes").read_only(),
        Field::string("origin")
            .sql("'API'")
            .doc("Where the order was made: \"API\"."),
        Field::int("patient").read_only(),
        Field::string("priority")
            .sql("CASE WHEN t.priority = 'STAT' THEN 'S' ELSE 'N' END")
            .doc("\"N\" (normal) or \"S\" (stat)."),
        Field::string("status")
            .read_only()
            .doc("The order's HL7 ORC.5 status, as in /api/lab_orders."),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int).doc("Only lab orders ordered by this doctor."),
        Filter::eq("patient", Kind::Int).doc("Only lab orders of this patient."),
        Filter::since(),
    ],
    ..Resource::DEFAULT
};
