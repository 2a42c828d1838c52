//! /api/billing_profiles: named sets of procedure and diagnosis codes a doctor bills often
//! ("Billing Profiles"). The reference has GET only (DrChrono's web app writes them); chartd
//! also takes POST, PUT, PATCH and DELETE (extensions). Codes are checked for well-formedness.
//!
//! cpt_codes, hcpcs_codes and custom_procedure_codes are lists of
//! {"code", "quantity", "modifiers": [...], "description"}; icd9_codes and icd10_codes lists of
//! code strings.

use serde_json::Value;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Record, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::domain::billing_codes;
use crate::error::{ApiError, FieldErrors};

const CODE_DOC: &str =
    "[{\"code\": \"99213\", \"quantity\": 1, \"modifiers\": [\"25\"], \"description\": \"...\"}]";

pub static RESOURCE: Resource = Resource {
    path: "billing_profiles",
    name: "BillingProfile",
    doc: "Named sets of procedure and diagnosis codes a doctor bills together.",
    scopes: &[Scope::Billing],
    permissions: &[Perm::AccessBilling, Perm::ShowBillingTab],
    verbs: Verbs::ALL,
    extension_verbs: Verbs {
        list: false,
        retrieve: false,
        ..Verbs::ALL
    },
    sharing: Sharing::IfSetting(ShareSetting::BillingProfiles),
    fields: &[
        Field::boolean("archived").read_only(),
        Field::objects("cpt_codes").doc(CODE_DOC),
        Field::timestamp("created_at").read_only(),
        Field::objects("custom_procedure_codes").doc(CODE_DOC),
        Field::reference("doctor", "doctors").required(),
        Field::objects("hcpcs_codes").doc(CODE_DOC),
        Field::strings("icd9_codes"),
        Field::strings("icd10_codes"),
        Field::id(),
        Field::string("name").required(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    hooks: &BillingProfileHooks,
    ..Resource::DEFAULT
};

struct BillingProfileHooks;

/// Checks and normalizes one list key of the record with `check` on each item.
fn each(
    rec: &mut Record,
    key: &'static str,
    errors: &mut FieldErrors,
    check: impl Fn(Value) -> Result<Value, String>,
) {
    let Some(raw) = rec.get(key).and_then(Val::as_str) else {
        return;
    };
    let items: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match check(item) {
            Ok(v) => out.push(v),
            Err(m) => errors.add(key, format!("Item {i}: {m}")),
        }
    }
    rec.set(key, Val::from(Value::Array(out).to_string()));
}

/// A procedure entry of the given type: its code checked, modifiers too.
fn procedure_entry(kind: &'static str) -> impl Fn(Value) -> Result<Value, String> {
    move |mut v| {
        let code = v
            .get("code")
            .and_then(Value::as_str)
            .ok_or("\"code\" is required.")?;
        let (code, mut modifiers) = billing_codes::procedure(kind, code)?;
        if let Some(list) = v.get("modifiers").and_then(Value::as_array) {
            for m in list {
                modifiers.push(billing_codes::modifier(m.as_str().unwrap_or(""))?);
            }
        }
        if modifiers.len() > billing_codes::MAX_MODIFIERS {
            return Err("At most 4 modifiers.".into());
        }
        v["code"] = code.into();
        v["modifiers"] = modifiers.into();
        Ok(v)
    }
}

impl Hooks for BillingProfileHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if w.rec
            .get("name")
            .and_then(Val::as_str)
            .is_some_and(|n| n.trim().is_empty())
        {
            w.errors.add("name", "This field may not be blank.");
        }
        each(w.rec, "cpt_codes", w.errors, procedure_entry("C"));
        each(w.rec, "hcpcs_codes", w.errors, procedure_entry("H"));
        each(
            w.rec,
            "custom_procedure_codes",
            w.errors,
            procedure_entry("U"),
        );
        each(w.rec, "icd10_codes", w.errors, |v| {
            billing_codes::icd10(v.as_str().unwrap_or("")).map(Value::from)
        });
        each(w.rec, "icd9_codes", w.errors, |v| {
            billing_codes::icd9(v.as_str().unwrap_or("")).map(Value::from)
        });
        Ok(())
    }
}
