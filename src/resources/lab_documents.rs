//! /api/lab_documents: files of a lab order — requisitions, ABNs and results ("Lab
//! workflow"). GET, POST, PUT, PATCH, DELETE (archives). `document` is a file upload
//! (multipart, or base64 in JSON), answered as a URL needing the same authorization.
//! `timestamp` is when the current file was uploaded. The `doctor` filter is the order's
//! doctor; `since` is on creation time, as the reference says.

use crate::api::auth::{Scope, ShareSetting};
use crate::api::compiled::now;
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Resource};
use crate::api::resource::{Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::ApiError;
use crate::resources::lab_orders::{check_visible_order, scope_to_visible_orders};

pub const TYPES: &[&str] = &["REQ", "ABN", "R-A", "RES"];

pub static RESOURCE: Resource = Resource {
    path: "lab_documents",
    name: "LabDocument",
    doc: "Documents (requisitions, ABNs, results) of lab orders.",
    scopes: &[Scope::Labs],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::reference("lab_order", "lab_orders")
            .required()
            .doc("The order this document belongs to."),
        Field::file("document").required(),
        Field::choice("type", TYPES).required().doc(
            "\"REQ\" requisition form, \"ABN\" Advance Beneficiary Notice, \"R-A\" requisition \
             form and ABN, \"RES\" lab results.",
        ),
        Field::timestamp("timestamp")
            .read_only()
            .doc("Time at which the document was uploaded."),
    ],
    filters: &[
        Filter::new(
            "doctor",
            "(SELECT o.doctor FROM lab_orders o WHERE o.id = t.lab_order)",
            FilterKind::Eq(Kind::Int),
        )
        .doc("Only documents of this doctor's lab orders."),
        Filter::new("since", "created_at", FilterKind::Since)
            .doc("Only documents created at or after this timestamp."),
    ],
    hooks: &LabDocumentHooks,
    ..Resource::DEFAULT
};

struct LabDocumentHooks;

impl Hooks for LabDocumentHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if let Some(order) = w.rec.get("lab_order").and_then(Val::as_i64) {
            check_visible_order(w.ctx, w.conn, "lab_order", order, w.errors)?;
        }
        if w.rec.has("document") {
            w.rec.set("timestamp", now().into());
        }
        Ok(())
    }

    fn scope(&self, ctx: &Ctx, sql: &mut Sql) {
        scope_to_visible_orders(ctx, sql, "t.lab_order");
    }
}
