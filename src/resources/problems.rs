//! /api/problems: patients' problems, e.g. diseases ("Problems"). GET, POST, PUT, PATCH.
//! icd_version defaults to 10 and status to "active"; icd_code must be a well-formed code of
//! its version. info_url (read-only) is derived from the code: MedlinePlus Connect's patient
//! education page for it.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Absent, Events, Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::error::ApiError;

pub const STATUSES: &[&str] = &["active", "inactive", "resolved"];

pub static RESOURCE: Resource = Resource {
    path: "problems",
    name: "Problem",
    doc: "Problems (e.g. diseases) of patients owned by doctors in the caller's practice group.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    hide_archived: false,
    audited: true,
    fields: &[
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor who diagnosed the problem."),
        Field::int("icd_version")
            .default(Absent::Int(10))
            .doc("Either 9 or 10. Default 10."),
        Field::id(),
        Field::reference("patient", "patients").required(),
        Field::date("date_changed").nullable(),
        Field::date("date_diagnosis").nullable(),
        Field::date("date_onset").nullable(),
        Field::string("description"),
        Field::string("icd_code").doc("The ICD-9 or ICD-10 code for the problem."),
        Field::string("info_url").read_only().doc(
            "External URL with more information about the problem, intended for patient \
             education (MedlinePlus Connect, from icd_code).",
        ),
        Field::string("name"),
        Field::string("notes").doc("Any additional notes by the provider."),
        Field::choice("status", STATUSES).doc("Default \"active\"."),
        Field::string("snomed_ct_code").doc("SNOMED CT code for the problem."),
    ],
    filters: &[Filter::eq("patient", Kind::Int)],
    hooks: &ProblemHooks,
    events: Events::create_modify("PATIENT_PROBLEM_CREATE", "PATIENT_PROBLEM_MODIFY"),
    ..Resource::DEFAULT
};

/// ICD-10-CM: a letter, two characters, then up to four after an optional dot.
fn icd10(code: &str) -> bool {
    let c: Vec<char> = code.chars().filter(|c| *c != '.').collect();
    let dot_ok = match code.find('.') {
        None => true,
        Some(i) => i == 3 && code.matches('.').count() == 1 && code.len() > 4,
    };
    dot_ok
        && (3..=7).contains(&c.len())
        && c[0].is_ascii_uppercase()
        && c[1].is_ascii_digit()
        && c[2..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// ICD-9-CM: 3 digits, V and 2 digits, or E and 3 digits; then up to two (E: one) decimals.
fn icd9(code: &str) -> bool {
    let (head, tail) = code.split_once('.').unwrap_or((code, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let head_ok = match head.as_bytes().first() {
        Some(b'V') => head.len() == 3 && digits(&head[1..]),
        Some(b'E') => head.len() == 4 && digits(&head[1..]),
        _ => head.len() == 3 && digits(head),
    };
    let max_tail = if head.starts_with('E') { 1 } else { 2 };
    head_ok && digits(tail) && tail.len() <= max_tail && !(code.contains('.') && tail.is_empty())
}

struct ProblemHooks;

impl Hooks for ProblemHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let get = |k: &str| {
            w.rec
                .get(k)
                .or_else(|| w.current.and_then(|c| c.get(k)))
                .cloned()
        };
        let version = get("icd_version").and_then(|v| v.as_i64()).unwrap_or(10);
        if w.rec.has("icd_version") && ![9, 10].contains(&version) {
            w.errors.add("icd_version", "Either 9 or 10.");
            return Ok(());
        }
        let code = get("icd_code")
            .and_then(|v| v.as_str().map(|s| s.trim().to_ascii_uppercase()))
            .unwrap_or_default();
        let ok = code.is_empty()
            || if version == 9 {
                icd9(&code)
            } else {
                icd10(&code)
            };
        if !ok {
            let (field, why) = if w.rec.has("icd_code") {
                (
                    "icd_code",
                    format!("\"{code}\" is not a well-formed ICD-{version} code."),
                )
            } else {
                (
                    "icd_version",
                    format!("The icd_code \"{code}\" is not an ICD-{version} code."),
                )
            };
            w.errors.add(field, why);
            return Ok(());
        }
        if w.rec.has("icd_code") || w.rec.has("icd_version") {
            let system = if version == 9 {
                "2.16.840.1.113883.6.103"
            } else {
                "2.16.840.1.113883.6.90"
            };
            let url = if code.is_empty() {
                String::new()
            } else {
                format!(
                    "https://connect.medlineplus.gov/application?mainSearchCriteria.v.cs={system}\
                     &mainSearchCriteria.v.c={code}&informationRecipient.languageCode.c=en"
                )
            };
            w.rec.set("icd_code", Val::from(code));
            w.rec.set("info_url", Val::from(url));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{icd10, icd9};

    #[test]
    fn icd_codes_are_checked_for_shape() {
        for ok in ["J45.909", "E11.9", "I10", "S72.001A", "Z00.00", "J45909"] {
            assert!(icd10(ok), "{ok}");
        }
        for bad in ["J4", "123.4", "J45.", "J.45", "j45", "J45.90901", "J45..9"] {
            assert!(!icd10(bad), "{bad}");
        }
        for ok in ["250.00", "401.9", "V22.1", "E880.9", "493"] {
            assert!(icd9(ok), "{ok}");
        }
        for bad in ["25", "250.000", "E880.12", "V2", "J45.9", "401."] {
            assert!(!icd9(bad), "{bad}");
        }
    }
}
