//! /api/line_items: the billed procedures of appointments ("Line Items"), GET and POST.
//!
//! procedure_type is one letter on POST ("C", "H", "U"; the long form is accepted too) and
//! answered in its long form ("CPT(C)"). diagnosis_pointers are 1-based positions in the
//! appointment's icd10_codes; on POST an ICD-10 code may stand for its position (a code the
//! appointment lacks is added to it). Every amount is exact integer cents.
//!
//! The paid totals and balances are computed from /api/transactions (insurance) and
//! /api/patient_payments (patient) in SQL, so they always add up:
//! - ins_total = ins1_paid + ins2_paid + ins3_paid; paid_total = ins_total + pt_paid
//! - adjustment = the transactions' write-offs (every adjustment group but PR)
//! - balance_total = billed - adjustment - paid_total = balance_ins + balance_pt
//! - balance_pt = patient responsibility (PR adjustments) - pt_paid (negative: a credit)
//! - balance_ins = billed - adjustment - ins_total - patient responsibility
//!
//! Rules beyond the declaration live in `rules.rs`.

mod rules;

pub use rules::{lock_billing, lock_line_item, times_quantity, MAX_DIAGNOSES};

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Absent, Field, Filter, FilterKind, Kind, Resource, Sharing, Verbs};

/// One sum over the line item's transactions (`$cond` narrows them).
macro_rules! transactions_sum {
    ($col:literal, $cond:literal) => {
        concat!(
            "(SELECT CAST(COALESCE(SUM(x.",
            $col,
            "), 0) AS BIGINT) FROM transactions x \
             WHERE x.line_item = t.id AND NOT x.archived",
            $cond,
            ")"
        )
    };
}
macro_rules! ins_total {
    () => {
        transactions_sum!("ins_paid", "")
    };
}
macro_rules! write_off {
    () => {
        transactions_sum!("adjustment", " AND x.adjustment_group_code <> 'PR'")
    };
}
macro_rules! pt_resp {
    () => {
        transactions_sum!("adjustment", " AND x.adjustment_group_code = 'PR'")
    };
}
macro_rules! pt_paid {
    () => {
        "(SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM patient_payments p \
         WHERE p.line_item = t.id AND NOT p.archived)"
    };
}
macro_rules! balance_total {
    () => {
        concat!(
            "t.billed - ",
            write_off!(),
            " - ",
            ins_total!(),
            " - ",
            pt_paid!()
        )
    };
}
macro_rules! claim_status {
    () => {
        "COALESCE((SELECT x.claim_status FROM transactions x WHERE x.line_item = t.id \
         AND NOT x.archived ORDER BY x.id DESC LIMIT 1), '')"
    };
}

/// GET and POST, as the reference says.
const VERBS: Verbs = Verbs {
    create: true,
    ..Verbs::READ
};

pub static RESOURCE: Resource = Resource {
    path: "line_items",
    name: "LineItem",
    doc: "Billing line items: the procedures billed for appointments, with their paid totals \
          and balances.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling, Perm::ShowBillingTab],
    verbs: VERBS,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::decimal("adjustment")
            .sql(write_off!())
            .doc("Written off the total billed (insurance adjustments other than group PR)."),
        Field::reference("appointment", "appointments").required(),
        Field::decimal("allowed")
            .nullable()
            .doc("Amount allowed by insurance."),
        Field::decimal("balance_ins")
            .sql(concat!(
                "t.billed - ",
                write_off!(),
                " - ",
                ins_total!(),
                " - ",
                pt_resp!()
            ))
            .doc("Insurance balance: billed - adjustment - ins_total - patient responsibility."),
        Field::decimal("balance_pt")
            .sql(concat!(pt_resp!(), " - ", pt_paid!()))
            .doc("Patient balance: patient responsibility (PR adjustments) - pt_paid."),
        Field::decimal("balance_total")
            .sql(balance_total!())
            .doc("billed - adjustment - paid_total = balance_ins + balance_pt."),
        Field::decimal("billed").doc("Total billed. Default price × quantity."),
        Field::string("billing_status")
            .sql(concat!(
                "CASE WHEN t.billed > 0 AND ",
                balance_total!(),
                " <= 0 THEN 'Paid in Full' \
                 WHEN ",
                claim_status!(),
                " = '4' THEN 'ERA Denied' \
                 WHEN ",
                ins_total!(),
                " + ",
                pt_paid!(),
                " <> 0 THEN 'Partially Paid' ELSE '' END"
            ))
            .doc(
                "\"\", \"Partially Paid\", \"ERA Denied\" or \"Paid in Full\", from the payments.",
            ),
        Field::string("code").required().doc(
            "CPT (5 digits, or 4 digits and F, T or U), HCPCS (a letter and 4 digits) or custom; \
                  \"99213-25\" gives modifiers too.",
        ),
        Field::boolean("denied_flag")
            .sql(concat!(claim_status!(), " = '4'"))
            .doc("The latest transaction's claim status is 4 (denied)."),
        Field::new(
            "diagnosis_pointers",
            Kind::Json(crate::api::resource::JsonShape::ScalarList),
        )
        .required()
        .doc(
            "Up to 4 pointers: 1-based positions in the appointment's icd10_codes (answered), \
                  or ICD-10 codes on POST.",
        ),
        Field::reference("doctor", "doctors").required(),
        Field::decimal("ins1_paid")
            .sql(transactions_sum!("ins_paid", " AND x.ins_name = 1"))
            .doc("Paid by the primary insurer."),
        Field::decimal("ins2_paid")
            .sql(transactions_sum!("ins_paid", " AND x.ins_name = 2"))
            .doc("Paid by the secondary insurer."),
        Field::decimal("ins3_paid")
            .sql(transactions_sum!("ins_paid", " AND x.ins_name = 3"))
            .doc("Paid by the tertiary insurer."),
        Field::decimal("ins_total")
            .sql(ins_total!())
            .doc("ins1_paid + ins2_paid + ins3_paid."),
        Field::string("insurance_status")
            .sql(claim_status!())
            .doc("The claim status of the latest insurance transaction."),
        Field::strings("modifiers").doc("Up to 4 two-character modifiers."),
        Field::decimal("paid_total")
            .sql(concat!(ins_total!(), " + ", pt_paid!()))
            .doc("ins_total + pt_paid."),
        Field::int("patient")
            .read_only()
            .doc("The appointment's patient."),
        Field::decimal("price").required(),
        Field::string("procedure_type")
            .required()
            .answer(
                "CASE t.procedure_type WHEN 'C' THEN 'CPT(C)' WHEN 'H' THEN 'HCPCS(H)' \
                     WHEN 'U' THEN 'Custom(U)' ELSE t.procedure_type END",
            )
            .doc(
                "POST: \"C\" (CPT), \"H\" (HCPCS) or \"U\" (Custom). \
                  Answered as \"CPT(C)\", \"HCPCS(H)\" or \"Custom(U)\".",
            ),
        Field::decimal("pt_paid")
            .sql(pt_paid!())
            .doc("Paid by the patient (/api/patient_payments)."),
        Field::decimal("quantity")
            .default(Absent::Int(1))
            .doc("Default 1."),
        Field::string("units").read_only().doc("Default \"UN\"."),
        Field::timestamp("posted_date").sql("t.created_at"),
        Field::timestamp("updated_at").read_only(),
        Field::date("service_date")
            .nullable()
            .doc("Date the service was rendered. Default: the appointment's date."),
        Field::string("description")
            .read_only()
            .doc("From the doctor's fee schedule for the code, when there is one."),
        Field::decimal("expected_reimbursement")
            .read_only()
            .nullable()
            .doc("The fee schedule's allowed amount × quantity, when there is one."),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
    ],
    filters: &[
        Filter::eq("appointment", Kind::Int),
        Filter::eq("doctor", Kind::Int),
        Filter::eq("office", Kind::Int)
            .on("(SELECT a.office FROM appointments a WHERE a.id = t.appointment)"),
        Filter::eq("patient", Kind::Int),
        Filter::new("service_date", "service_date", FilterKind::OnDate),
        Filter::new("posted_date", "created_at", FilterKind::OnDate)
            .doc("Only line items created on this date."),
        Filter::since(),
    ],
    hooks: &rules::LineItemHooks,
    ..Resource::DEFAULT
};
