//! /api/fee_schedules: what a doctor charges for a code ("Fee Schedules"). The reference has
//! GET only (DrChrono's web app writes them); chartd also takes POST, PUT, PATCH and DELETE
//! (extensions). CPT, HCPCS and ICD-10 codes are checked for well-formedness, modifiers too.
//! A line item takes its description and expected reimbursement from the matching entry.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Record, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::domain::billing_codes;
use crate::error::ApiError;

pub const CODE_TYPES: &[&str] = &["CPT", "HCPCS", "ICD9", "ICD10", "Custom", "Revenue"];
const MODIFIERS: [&str; 4] = [
    "cpt_hcpcs_modifier1",
    "cpt_hcpcs_modifier2",
    "cpt_hcpcs_modifier3",
    "cpt_hcpcs_modifier4",
];

pub static RESOURCE: Resource = Resource {
    path: "fee_schedules",
    name: "FeeSchedule",
    doc: "Prices of codes for a doctor, optionally per office and payer.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling],
    verbs: Verbs::ALL,
    extension_verbs: Verbs {
        list: false,
        retrieve: false,
        ..Verbs::ALL
    },
    sharing: Sharing::IfSetting(ShareSetting::FeeSchedules),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors").required(),
        Field::string("code").required(),
        Field::choice("code_type", CODE_TYPES).required(),
        Field::string("cpt_hcpcs_modifier1"),
        Field::string("cpt_hcpcs_modifier2"),
        Field::string("cpt_hcpcs_modifier3"),
        Field::string("cpt_hcpcs_modifier4"),
        Field::reference("office", "offices").nullable(),
        Field::string("ndc_code"),
        Field::decimal("ndc_quantity").default(crate::api::resource::Absent::Int(0)),
        Field::string("ndc_units"),
        Field::decimal("base_price").default(crate::api::resource::Absent::Int(0)),
        Field::decimal("insured_price").default(crate::api::resource::Absent::Int(0)),
        Field::decimal("cash_price").default(crate::api::resource::Absent::Int(0)),
        Field::decimal("insured_out_of_network_price").nullable(),
        Field::string("payer_id"),
        Field::string("plan_name"),
        Field::decimal("allowed_amount").default(crate::api::resource::Absent::Int(0)),
        Field::string("billing_description"),
        Field::string("description"),
        Field::string("picklist_category"),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::since(),
        Filter::eq("doctor", Kind::Int),
        Filter::eq("payer_id", Kind::Str),
        Filter::eq("code_type", Kind::Choice(CODE_TYPES)),
        Filter::eq("code", Kind::Str),
    ],
    hooks: &FeeScheduleHooks,
    ..Resource::DEFAULT
};

struct FeeScheduleHooks;

/// A key's value after this write: the new one if given, else the stored one.
fn value<'a>(rec: &'a Record, current: Option<&'a Record>, key: &str) -> &'a str {
    rec.get(key)
        .or_else(|| current.and_then(|c| c.get(key)))
        .and_then(Val::as_str)
        .unwrap_or("")
}

impl Hooks for FeeScheduleHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if w.rec.has("code") || w.rec.has("code_type") {
            let code = value(w.rec, w.current, "code").to_string();
            let checked = match value(w.rec, w.current, "code_type") {
                "CPT" => billing_codes::procedure("C", &code).map(|c| c.0),
                "HCPCS" => billing_codes::procedure("H", &code).map(|c| c.0),
                "ICD10" => billing_codes::icd10(&code),
                "ICD9" => billing_codes::icd9(&code),
                _ if code.trim().is_empty() => Err("This field may not be blank.".into()),
                _ => Ok(code.trim().to_string()),
            };
            match checked {
                Ok(c) => w.rec.set("code", Val::from(c)),
                Err(m) => w.errors.add("code", m),
            }
        }
        for key in MODIFIERS {
            match w.rec.get(key).and_then(Val::as_str).map(str::to_string) {
                Some(m) if !m.is_empty() => match billing_codes::modifier(&m) {
                    Ok(m) => w.rec.set(key, Val::from(m)),
                    Err(msg) => w.errors.add(key, msg),
                },
                _ => {}
            }
        }
        for key in [
            "base_price",
            "insured_price",
            "cash_price",
            "insured_out_of_network_price",
            "allowed_amount",
            "ndc_quantity",
        ] {
            if w.rec.get(key).and_then(Val::as_i64).is_some_and(|c| c < 0) {
                w.errors
                    .add(key, "Ensure this value is greater than or equal to 0.");
            }
        }
        Ok(())
    }
}
