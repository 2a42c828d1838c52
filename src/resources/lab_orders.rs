//! /api/lab_orders: lab orders for a patient, sent to a sublab ("Lab workflow"). GET, POST,
//! PUT, PATCH; no DELETE. Shared between the group's doctors when "share patients" is on.
//!
//! status is the order status of HL7's ORC.5 as DrChrono uses it (default "N", not sent);
//! the codes of HL7 table 0038 are accepted too. `documents` is derived from
//! /api/lab_documents; requisition_id is the id. The `since` filter is on creation time, as
//! the reference says. Also holds the visibility rule the order's children share.

use crate::api::auth::{Scope, ShareSetting};
use crate::api::compiled::now;
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Resource};
use crate::api::resource::{Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Conn, Sql, Val};
use crate::error::{ApiError, FieldErrors};

pub const STATUSES: &[&str] = &[
    "N", "Q", "A", "S", "R", "E", "CA", "CM", "DC", "ER", "HD", "IP", "RP", "SC",
];
pub const PRIORITIES: &[&str] = &["NORMAL", "STAT"];

pub static RESOURCE: Resource = Resource {
    path: "lab_orders",
    name: "LabOrder",
    doc: "Lab orders: a patient's tests sent to a sublab.",
    scopes: &[Scope::Labs],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::reference("sublab", "sublabs").required(),
        Field::reference("doctor", "doctors").required(),
        Field::reference("patient", "patients").required(),
        Field::ints("documents")
            .sql(
                "'[' || COALESCE((SELECT string_agg(CAST(d.id AS TEXT), ',' ORDER BY d.id) \
                 FROM lab_documents d WHERE d.lab_order = t.id AND d.archived = FALSE), '') \
                 || ']'",
            )
            .doc("IDs of the order's /api/lab_documents."),
        Field::timestamp("timestamp")
            .doc("Time at which the order was submitted. Defaults to now."),
        Field::choice("status", STATUSES).doc(
            "HL7 ORC.5: \"N\" not sent (default), \"Q\" queued for processing, \"A\" ABN \
             required, \"S\" sent, \"R\" results received, \"E\" error; or an HL7 table 0038 \
             status: CA, CM, DC, ER, HD, IP, RP, SC.",
        ),
        Field::objects("icd10_codes").doc(
            "ICD-10 codes of the conditions the tests concern: [{\"code\": \"E11.9\", \
             \"description\": \"...\"}].",
        ),
        Field::string("requisition_id")
            .sql("CAST(t.id AS TEXT)")
            .doc("The ID printed on the requisition PDF: the order's id."),
        Field::string("accession_number").doc("For external use only."),
        Field::string("notes"),
        Field::choice("priority", PRIORITIES).doc("\"NORMAL\" (default) or \"STAT\"."),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::new("since", "created_at", FilterKind::Since)
            .doc("Only lab orders created at or after this timestamp."),
    ],
    hooks: &LabOrderHooks,
    ..Resource::DEFAULT
};

struct LabOrderHooks;

impl Hooks for LabOrderHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        // Without "share patients" the patient, like the doctor, must be the caller's own.
        let patient = w.rec.get("patient").and_then(Val::as_i64);
        if let (Some(p), false) = (patient, w.ctx.user.shares(ShareSetting::Patients)) {
            let doctor = Sql::new("SELECT t.doctor FROM patients t WHERE t.id = ?")
                .bind(p)
                .load_i64(w.conn)?;
            if doctor != Some(w.ctx.user.doctor_id) && !w.errors.has("patient") {
                w.errors.add(
                    "patient",
                    format!("Invalid pk \"{p}\" - object does not exist."),
                );
            }
        }
        // Absent on POST: now; absent on PUT: unchanged.
        if w.rec.get("timestamp").is_some_and(Val::is_null) {
            let kept = w.current.and_then(|c| c.get("timestamp")).cloned();
            w.rec.set("timestamp", kept.unwrap_or_else(|| now().into()));
        }
        if let Some(raw) = w.rec.get("icd10_codes").and_then(Val::as_str) {
            match crate::domain::icd10::parse_list(raw) {
                Ok(clean) => w.rec.set("icd10_codes", Val::from(clean)),
                Err(msg) => w.errors.add("icd10_codes", msg),
            }
        }
        Ok(())
    }
}

/// Without "share patients", an order's documents, tests and results are visible only
/// through the caller's doctor's orders; `column` names the order (e.g. "t.lab_order").
pub fn scope_to_visible_orders(ctx: &Ctx, sql: &mut Sql, column: &str) {
    if !ctx.user.shares(ShareSetting::Patients) {
        sql.push(
            &format!(" AND {column} IN (SELECT o.id FROM lab_orders o WHERE o.doctor = ?)"),
            [Val::from(ctx.user.doctor_id)],
        );
    }
}

/// An order the caller may attach things to: in the practice group and, without "share
/// patients", the caller's doctor's. Adds the error to `field` otherwise.
pub fn check_visible_order(
    ctx: &Ctx,
    conn: &mut Conn,
    field: &'static str,
    order: i64,
    errors: &mut FieldErrors,
) -> Result<(), ApiError> {
    if errors.has(field) {
        return Ok(());
    }
    let mut sql =
        Sql::new("SELECT t.id FROM lab_orders t WHERE t.id = ? AND t.practice_group_id = ?")
            .bind(order)
            .bind(ctx.practice_group());
    scope_to_visible_orders(ctx, &mut sql, "t.id");
    if sql.load_i64(conn)?.is_none() {
        errors.add(
            field,
            format!("Invalid pk \"{order}\" - object does not exist."),
        );
    }
    Ok(())
}
