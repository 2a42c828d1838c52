//! /api/patient_payments: what patients paid ("Patient Payments"), GET and POST. A payment
//! is never changed: refund or correct it with another one. Every payment writes its
//! /api/patient_payment_log entry in the same transaction.
//!
//! amount is never zero; a refund (REF) is negative, a credit (""), copay or coinsurance
//! positive, a correction or other either. appointment is inferred from line_item, doctor from
//! the line item, the appointment or else the patient's primary doctor.

use chrono::Utc;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::compiled::now;
use crate::api::resource::{Field, Filter, Hooks, Kind, Op, Record, Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;

pub const TRANSACTION_TYPES: &[&str] = &["", "REF", "COR", "COPAY", "COINSR", "OTHR"];
pub const METHODS: &[&str] = &[
    "", "CASH", "CHCK", "DBIT", "CRDT", "AMEX", "VISA", "MSTR", "DISC", "SQR1", "SQRE", "PTPA",
    "ONPT", "OTHR",
];

pub static RESOURCE: Resource = Resource {
    path: "patient_payments",
    name: "PatientPayment",
    doc: "Payments made by patients, optionally applied to an appointment's line item.",
    scopes: &[Scope::BillingPatientPayment],
    permissions: &[
        Perm::AccessBilling,
        Perm::ShowBillingTab,
        Perm::AccessPatientPayments,
    ],
    verbs: Verbs {
        create: true,
        ..Verbs::READ
    },
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::reference("appointment", "appointments")
            .nullable()
            .doc("Inferred from the line item when absent."),
        Field::decimal("amount")
            .required()
            .doc("Never zero; negative for a refund (REF)."),
        Field::timestamp("created_at").read_only(),
        Field::int("created_by")
            .read_only()
            .doc("The /api/users who created the payment."),
        Field::reference("doctor", "doctors")
            .nullable()
            .doc("Default: the line item's or the appointment's doctor, else the patient's."),
        Field::id(),
        Field::reference("line_item", "line_items").nullable(),
        Field::string("notes"),
        Field::reference("patient", "patients").required(),
        Field::choice("payment_transaction_type", TRANSACTION_TYPES).doc(
            "\"\" Credit, \"REF\" Refund, \"COR\" Correction, \"COPAY\" Copay, \
             \"COINSR\" Coinsurance, \"OTHR\" Other.",
        ),
        Field::choice("payment_method", METHODS).doc(
            "\"CASH\", \"CHCK\" Check, \"DBIT\" Debit, \"CRDT\" Credit Card, \"AMEX\" American \
             Express, \"VISA\", \"MSTR\" Mastercard, \"DISC\" Discover, \"SQR1\" Square (legacy), \
             \"SQRE\" Square, \"PTPA\" Patient Payments, \"ONPT\" onpatient, \"OTHR\" Other.",
        ),
        Field::date("posted_date").read_only(),
        Field::date("received_date").nullable(),
        Field::string("trace_number"),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("patient", Kind::Int),
        Filter::since(),
    ],
    hooks: &PaymentHooks,
    ..Resource::DEFAULT
};

struct PaymentHooks;

/// (appointment, patient, doctor, archived) of a line item or an appointment in the practice
/// group.
fn owner(conn: &mut Conn, ctx: &Ctx, table: &str, id: i64) -> Result<Option<Vec<Val>>, ApiError> {
    let appointment = if table == "line_items" {
        "t.appointment"
    } else {
        "t.id"
    };
    Ok(Sql::new(format!(
        "SELECT {appointment}, t.patient, t.doctor, t.archived FROM {table} t \
         WHERE t.id = ? AND t.practice_group_id = ?"
    ))
    .bind(id)
    .bind(ctx.practice_group())
    .load_one(conn, &[Ty::Int, Ty::Int, Ty::Int, Ty::Bool])?)
}

impl Hooks for PaymentHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let amount = w.rec.get("amount").and_then(Val::as_i64).unwrap_or(0);
        let kind = w
            .rec
            .get("payment_transaction_type")
            .and_then(Val::as_str)
            .unwrap_or("");
        match (amount, kind) {
            (0, _) => w.errors.add("amount", "A payment amount cannot be zero."),
            (a, "REF") if a > 0 => w.errors.add("amount", "A refund (REF) is a negative amount."),
            (a, "" | "COPAY" | "COINSR") if a < 0 => w.errors.add(
                "amount",
                "A credit, copay or coinsurance is a positive amount; use REF or COR to give money back.",
            ),
            _ => {}
        }
        let patient = w.rec.get("patient").and_then(Val::as_i64);
        let id_of = |rec: &Record, k: &str| rec.get(k).and_then(Val::as_i64);
        let mut doctor = None;
        for (key, table) in [("line_item", "line_items"), ("appointment", "appointments")] {
            let Some(id) = id_of(w.rec, key).filter(|_| !w.errors.has(key)) else {
                continue;
            };
            if key == "line_item" {
                super::line_items::lock_line_item(w.conn, id)?;
            }
            let Some(row) = owner(w.conn, w.ctx, table, id)? else {
                continue;
            };
            if key == "line_item" && row[3].as_bool() == Some(true) {
                w.errors
                    .add(key, "The line item is archived (its superbill was voided).");
            }
            if row[1].as_i64() != patient {
                w.errors.add(
                    key,
                    format!("The {} is another patient's.", key.replace('_', " ")),
                );
            }
            match (key, id_of(w.rec, "appointment")) {
                ("line_item", None) => w.rec.set("appointment", row[0].clone()),
                ("line_item", Some(a)) if row[0].as_i64() != Some(a) => w.errors.add(
                    "appointment",
                    "The line item belongs to another appointment.",
                ),
                _ => {}
            }
            doctor = doctor.or(row[2].as_i64());
        }
        if id_of(w.rec, "doctor").is_none() {
            if doctor.is_none() {
                if let Some(p) = patient {
                    doctor = Sql::new("SELECT t.doctor FROM patients t WHERE t.id = ?")
                        .bind(p)
                        .load_i64(w.conn)?;
                }
            }
            if let Some(d) = doctor {
                // Without "share patients", only the caller's doctor's patients are visible.
                if !w.ctx.user.shares(ShareSetting::Patients) && d != w.ctx.user.doctor_id {
                    w.errors.add(
                        "patient",
                        format!(
                            "Invalid pk \"{}\" - object does not exist.",
                            patient.unwrap_or(0)
                        ),
                    );
                }
                w.rec.set("doctor", Val::from(d));
            }
        }
        w.rec.set("created_by", Val::from(w.ctx.user.user_id));
        w.rec.set("posted_date", Val::from(Utc::now().date_naive()));
        Ok(())
    }

    /// The log entry of every payment write, in the same transaction.
    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        let action = match w.op {
            Op::Create => "Create",
            Op::Destroy => "Delete",
            _ => "Update",
        };
        let at = now();
        Sql::new(
            "INSERT INTO patient_payment_log (practice_group_id, patient_payment, patient, doctor, \
             appointment, office, amount, payment_method, created_by, action, source, archived, \
             created_at, updated_at) \
             SELECT p.practice_group_id, p.id, p.patient, p.doctor, p.appointment, \
             (SELECT a.office FROM appointments a WHERE a.id = p.appointment), p.amount, \
             p.payment_method, p.created_by, ?, ?, ?, ?, ? FROM patient_payments p WHERE p.id = ?",
        )
        .bind(action)
        .bind(super::patient_payment_log::SOURCE)
        .bind(false)
        .bind(at)
        .bind(at)
        .bind(id)
        .execute(w.conn)?;
        Ok(())
    }
}
