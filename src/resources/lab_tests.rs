//! /api/lab_tests: the tests of a lab order ("Lab workflow"). GET, POST, PUT, PATCH, DELETE
//! (archives). status is one of preliminary (default), pending, correction, final, canceled.
//! Moving a test to another order moves its results with it (their lab_order is derived).

use crate::api::auth::{Scope, ShareSetting};
use crate::api::compiled::now;
use crate::api::resource::{Field, Filter, Hooks, Kind, Op, Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::ApiError;
use crate::resources::lab_orders::{check_visible_order, scope_to_visible_orders};

/// Statuses of lab tests and of lab results.
pub const STATUSES: &[&str] = &["preliminary", "pending", "correction", "final", "canceled"];

pub static RESOURCE: Resource = Resource {
    path: "lab_tests",
    name: "LabTest",
    doc: "Tests ordered in lab orders.",
    scopes: &[Scope::Labs],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::reference("lab_order", "lab_orders")
            .required()
            .doc("The associated lab order."),
        Field::string("code"),
        Field::string("name").doc("A name for the test."),
        Field::string("description").doc("The short description of the ICD-10 code."),
        Field::timestamp("collection_date")
            .nullable()
            .doc("When the specimens were collected."),
        Field::string("internal_notes").doc("Notes meant for, and read by, the lab."),
        Field::string("report_notes")
            .doc("Notes not meant for the lab, but copied on the results."),
        Field::choice("status", STATUSES).doc("Defaults to \"preliminary\"."),
        Field::string("specimen_source"),
        Field::string("specimen_condition"),
        Field::float("specimen_total_volume").nullable(),
    ],
    filters: &[Filter::eq("order", Kind::Int)
        .on("lab_order")
        .doc("Only tests of this lab order.")],
    hooks: &LabTestHooks,
    ..Resource::DEFAULT
};

struct LabTestHooks;

impl Hooks for LabTestHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if let Some(order) = w.rec.get("lab_order").and_then(Val::as_i64) {
            check_visible_order(w.ctx, w.conn, "lab_order", order, w.errors)?;
        }
        let volume = w.rec.get("specimen_total_volume").and_then(Val::as_str);
        if volume.is_some_and(|v| v.starts_with('-')) {
            w.errors.add(
                "specimen_total_volume",
                "Ensure this value is greater than or equal to 0.",
            );
        }
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        if matches!(w.op, Op::Update | Op::PartialUpdate) {
            let order = Sql::new("SELECT t.lab_order FROM lab_tests t WHERE t.id = ?")
                .bind(id)
                .load_i64(w.conn)?;
            if let Some(order) = order {
                Sql::new(
                    "UPDATE lab_results SET lab_order = ?, updated_at = ? \
                     WHERE lab_test = ? AND lab_order <> ?",
                )
                .bind(order)
                .bind(now())
                .bind(id)
                .bind(order)
                .execute(w.conn)?;
            }
        }
        Ok(())
    }

    fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        scope_to_visible_orders(ctx, sql, "t.lab_order");
    }
}
