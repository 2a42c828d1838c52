//! /api/superbills: one-call superbills (encounters), beyond the DrChrono reference, after the
//! Kareo/Tebra "submit a superbill" workflow. `POST /api/superbills` (`create.rs`) takes a
//! patient (chartd id, or external id: created from the given demographics when absent), a
//! doctor, an office, a date of service, ICD-10 diagnoses and CPT/HCPCS procedure lines, and
//! creates the patient if needed, the appointment and its line items and the superbill in one
//! transaction, or nothing.
//!
//! An encounter moves through Draft → Submitted → Approved; PATCH `status` moves it:
//! Draft → Submitted | Voided; Submitted → Approved | Draft (returned for correction) | Voided;
//! Approved → Voided; Voided is final. Line items can be added only while it is a Draft.
//! Voiding archives its line items (and so its procedures), refused once money was posted.

mod create;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::compiled::now;
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::{Sql, Ty, Val};
use crate::error::ApiError;

pub const STATUSES: &[&str] = &["Draft", "Submitted", "Approved", "Voided"];

/// The statuses each status may move to.
fn next_statuses(from: &str) -> &'static [&'static str] {
    match from {
        "Draft" => &["Submitted", "Voided"],
        "Submitted" => &["Approved", "Draft", "Voided"],
        "Approved" => &["Voided"],
        _ => &[],
    }
}

const EXTENSION: Verbs = Verbs {
    partial_update: true,
    ..Verbs::READ
};

pub static RESOURCE: Resource = Resource {
    path: "superbills",
    name: "Superbill",
    doc: "A superbill (encounter): an appointment's diagnoses and billed procedures, with a \
          status: Draft → Submitted → Approved, or Voided. PATCH status moves it: Draft → \
          Submitted | Voided; Submitted → Approved | Draft | Voided; Approved → Voided.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling, Perm::ShowBillingTab],
    verbs: EXTENSION,
    extension_verbs: EXTENSION,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    fields: &[
        Field::id(),
        Field::int("appointment")
            .read_only()
            .doc("The appointment the superbill created."),
        Field::int("patient").read_only(),
        Field::int("doctor")
            .read_only()
            .doc("The rendering provider."),
        Field::int("office").read_only(),
        Field::date("date_of_service").read_only(),
        Field::strings("icd10_codes")
            .sql(
                "(SELECT CASE WHEN a.icd10_codes = '' THEN '[]' \
                 ELSE '[\"' || REPLACE(a.icd10_codes, ',', '\",\"') || '\"]' END \
                 FROM appointments a WHERE a.id = t.appointment)",
            )
            .doc("The appointment's diagnoses; line items' diagnosis_pointers count from 1 here."),
        Field::choice("status", STATUSES).doc(
            "Draft, Submitted, Approved or Voided. PATCH moves it: Draft → Submitted | Voided; \
             Submitted → Approved | Draft | Voided; Approved → Voided; Voided is final.",
        ),
        Field::decimal("billed")
            .sql(
                "(SELECT CAST(COALESCE(SUM(l.billed), 0) AS BIGINT) FROM line_items l \
                 WHERE l.appointment = t.appointment AND NOT l.archived)",
            )
            .doc("Total billed on its line items."),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("appointment", Kind::Int),
        Filter::eq("patient", Kind::Int),
        Filter::eq("doctor", Kind::Int),
        Filter::eq("office", Kind::Int),
        Filter::eq("status", Kind::Choice(STATUSES)),
        Filter::new("date", "date_of_service", FilterKind::OnDate),
        Filter::new(
            "date_range",
            "date_of_service",
            FilterKind::DateRange { max_days: None },
        ),
        Filter::since(),
    ],
    actions: &[create::CREATE],
    hooks: &SuperbillHooks,
    ..Resource::DEFAULT
};

struct SuperbillHooks;

impl Hooks for SuperbillHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let Some(to) = w
            .rec
            .get("status")
            .and_then(Val::as_str)
            .map(str::to_string)
        else {
            return Ok(());
        };
        let Some(current) = w.current else {
            if !["Draft", "Submitted"].contains(&to.as_str()) {
                w.errors
                    .add("status", "A superbill starts as a Draft or Submitted.");
            }
            return Ok(());
        };
        let from = current
            .get("status")
            .and_then(Val::as_str)
            .unwrap_or("Draft");
        if from == to {
            return Ok(());
        }
        let allowed = next_statuses(from);
        if !allowed.contains(&to.as_str()) {
            let hint = match allowed {
                [] => "it is final".to_string(),
                _ => format!("it can become {}", allowed.join(" or ")),
            };
            w.errors.add(
                "status",
                format!("A {from} superbill cannot become {to}: {hint}."),
            );
            return Ok(());
        }
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        let row = Sql::new("SELECT s.appointment, s.status FROM superbills s WHERE s.id = ?")
            .bind(id)
            .load_one(w.conn, &[Ty::Int, Ty::Text])?
            .ok_or(ApiError::NotFound)?;
        let appointment = row[0].as_i64().unwrap_or(0);
        // Status changes and the appointment's other billing writes take turns.
        crate::resources::line_items::lock_billing(w.conn, appointment)?;
        if row[1].as_str() != Some("Voided") {
            return Ok(());
        }
        // A voided superbill's line items (and so its procedures) are archived, unless money
        // was posted on them.
        let posted = Sql::new(
            "SELECT (SELECT COUNT(*) FROM transactions x WHERE x.appointment = ? AND NOT x.archived) \
             + (SELECT COUNT(*) FROM patient_payments p JOIN line_items l ON l.id = p.line_item \
             WHERE l.appointment = ? AND NOT p.archived)",
        )
        .bind(appointment)
        .bind(appointment)
        .load_i64(w.conn)?
        .unwrap_or(0);
        if posted > 0 {
            return Err(ApiError::field(
                "status",
                "Payments or insurance transactions are posted on its line items; \
                 reverse them before voiding.",
            ));
        }
        Sql::new(
            "UPDATE line_items SET archived = ?, updated_at = ? WHERE archived = ? AND appointment = ?",
        )
        .bind(true)
        .bind(now())
        .bind(false)
        .bind(appointment)
        .execute(w.conn)?;
        Ok(())
    }
}
