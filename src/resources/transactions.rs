//! /api/transactions: insurance transactions on line items ("Transactions"): what an insurer
//! paid (ins_paid, by ins_name 1, 2 or 3) and adjusted. The reference has GET only, DrChrono's
//! web app posting them; chartd also takes POST (an extension) so remittances can be posted.
//! A posted transaction is never changed: correct it with another one (negative amounts).
//!
//! Adjustments carry an X12 claim adjustment group code: CO, OA, PI and CR are written off the
//! line item (its `adjustment`), PR moves the amount to the patient (its `balance_pt`).
//! appointment, patient and doctor are the line item's.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{
    Absent, Field, Filter, FilterKind, Hooks, Kind, Resource, Sharing, Verbs,
};
use crate::api::Write;
use crate::db::{Sql, Ty, Val};
use crate::error::ApiError;

pub const GROUP_CODES: &[&str] = &["", "CO", "CR", "OA", "PI", "PR"];

pub static RESOURCE: Resource = Resource {
    path: "transactions",
    name: "Transaction",
    doc: "Insurance transactions (payments and adjustments) on billing line items.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling, Perm::ShowBillingTab],
    verbs: Verbs { create: true, ..Verbs::READ },
    extension_verbs: Verbs { create: true, ..Verbs::NONE },
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::decimal("adjustment").default(Absent::Int(0))
            .doc("Adjustment from total billed."),
        Field::choice("adjustment_group_code", GROUP_CODES)
            .doc("X12 claim adjustment group: CO, CR, OA, PI (written off) or PR (patient responsibility)."),
        Field::string("adjustment_reason").doc("X12 claim adjustment reason code."),
        Field::int("appointment").read_only(),
        Field::date("check_date").nullable(),
        Field::string("claim_status").doc("X12 claim status (835 CLP02): 1 processed as primary, ..., 4 denied."),
        Field::timestamp("created_at").read_only(),
        Field::int("doctor").read_only(),
        Field::decimal("ins_paid").default(Absent::Int(0)),
        Field::int("ins_name").default(Absent::Int(1))
            .doc("1 primary, 2 secondary, 3 tertiary insurance. Default 1."),
        Field::reference("line_item", "line_items").required(),
        Field::int("patient").read_only(),
        Field::timestamp("posted_date").sql("t.created_at").doc("When the transaction was posted."),
        Field::string("trace_number").doc("Check number."),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("appointment", Kind::Int),
        Filter::eq("line_item", Kind::Int),
        Filter::new("posted_date", "created_at", FilterKind::OnDate),
        Filter::since(),
    ],
    hooks: &TransactionHooks,
    ..Resource::DEFAULT
};

struct TransactionHooks;

impl Hooks for TransactionHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if !w
            .rec
            .get("ins_name")
            .and_then(Val::as_i64)
            .is_some_and(|n| (1..=3).contains(&n))
        {
            w.errors.add(
                "ins_name",
                "Must be 1 (primary), 2 (secondary) or 3 (tertiary).",
            );
        }
        let amount = |k: &str| w.rec.get(k).and_then(Val::as_i64).unwrap_or(0);
        if amount("ins_paid") == 0 && amount("adjustment") == 0 {
            w.errors.add(
                "ins_paid",
                "A transaction needs a non-zero ins_paid or adjustment.",
            );
        }
        if let Some(line_item) = w.rec.get("line_item").and_then(Val::as_i64) {
            super::line_items::lock_line_item(w.conn, line_item)?;
            let row = Sql::new(
                "SELECT t.appointment, t.patient, t.doctor, t.archived FROM line_items t \
                 WHERE t.id = ? AND t.practice_group_id = ?",
            )
            .bind(line_item)
            .bind(w.ctx.practice_group())
            .load_one(w.conn, &[Ty::Int, Ty::Int, Ty::Int, Ty::Bool])?;
            match row {
                Some(r) if r[3].as_bool() == Some(true) => w.errors.add(
                    "line_item",
                    "The line item is archived (its superbill was voided).",
                ),
                // Without "share patients", only the caller's doctor's line items are visible.
                Some(r)
                    if !w.ctx.user.shares(ShareSetting::Patients)
                        && r[2].as_i64() != Some(w.ctx.user.doctor_id) =>
                {
                    w.errors.add(
                        "line_item",
                        format!("Invalid pk \"{line_item}\" - object does not exist."),
                    )
                }
                Some(r) => {
                    for (i, key) in ["appointment", "patient", "doctor"].into_iter().enumerate() {
                        w.rec.set(key, r[i].clone());
                    }
                }
                None => {}
            }
        }
        Ok(())
    }
}
