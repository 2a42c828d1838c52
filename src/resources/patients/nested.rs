//! The formats of a patient's nested objects. Unknown keys are refused (naming them), values
//! are checked by type, and the object is stored in canonical form.

use serde_json::{Map, Value};

use crate::api::fields::parse_date;

#[derive(Clone, Copy)]
enum T {
    Text,
    Bool,
    Date,
}

const INSURANCE: &[(&str, T)] = &[
    ("insurance_company", T::Text),
    ("insurance_payer_id", T::Text),
    ("insurance_plan_name", T::Text),
    ("insurance_plan_type", T::Text),
    ("insurance_group_name", T::Text),
    ("insurance_group_number", T::Text),
    ("insurance_id_number", T::Text),
    ("insurance_claim_office_number", T::Text),
    ("is_subscriber_the_patient", T::Bool),
    ("patient_relationship_to_subscriber", T::Text),
    ("subscriber_first_name", T::Text),
    ("subscriber_middle_name", T::Text),
    ("subscriber_last_name", T::Text),
    ("subscriber_suffix", T::Text),
    ("subscriber_date_of_birth", T::Date),
    ("subscriber_gender", T::Text),
    ("subscriber_social_security", T::Text),
    ("subscriber_address", T::Text),
    ("subscriber_city", T::Text),
    ("subscriber_state", T::Text),
    ("subscriber_zip_code", T::Text),
    ("subscriber_country", T::Text),
];

const AUTO_ACCIDENT: &[(&str, T)] = &[
    ("auto_accident_case_number", T::Text),
    ("auto_accident_date_of_accident", T::Date),
    ("auto_accident_state", T::Text),
    ("auto_accident_claim_number", T::Text),
    ("auto_accident_insurance_company", T::Text),
    ("auto_accident_payer_id", T::Text),
    ("auto_accident_payer_address", T::Text),
    ("auto_accident_payer_city", T::Text),
    ("auto_accident_payer_state", T::Text),
    ("auto_accident_payer_zip", T::Text),
    ("auto_accident_adjuster_name", T::Text),
    ("auto_accident_adjuster_phone", T::Text),
    ("auto_accident_subscriber_is_the_patient", T::Bool),
    ("auto_accident_patient_relation_to_insured", T::Text),
];

const WORKERS_COMP: &[(&str, T)] = &[
    ("workers_comp_case_number", T::Text),
    ("workers_comp_date_of_injury", T::Date),
    ("workers_comp_state", T::Text),
    ("workers_comp_claim_number", T::Text),
    ("workers_comp_insurance_company", T::Text),
    ("workers_comp_payer_id", T::Text),
    ("workers_comp_payer_address", T::Text),
    ("workers_comp_payer_city", T::Text),
    ("workers_comp_payer_state", T::Text),
    ("workers_comp_payer_zip", T::Text),
    ("workers_comp_adjuster_name", T::Text),
    ("workers_comp_adjuster_phone", T::Text),
    ("employer_name", T::Text),
];

const REFERRING_DOCTOR: &[(&str, T)] = &[
    ("first_name", T::Text),
    ("middle_name", T::Text),
    ("last_name", T::Text),
    ("suffix", T::Text),
    ("npi", T::Text),
    ("specialty", T::Text),
    ("phone", T::Text),
    ("fax", T::Text),
    ("email", T::Text),
    ("address", T::Text),
    ("city", T::Text),
    ("state", T::Text),
    ("zip_code", T::Text),
];

/// The format of a nested object key, if it is one.
fn format_of(key: &str) -> Option<&'static [(&'static str, T)]> {
    Some(match key {
        "primary_insurance" | "secondary_insurance" | "tertiary_insurance" => INSURANCE,
        "auto_accident_insurance" => AUTO_ACCIDENT,
        "workers_comp_insurance" => WORKERS_COMP,
        "referring_doctor" => REFERRING_DOCTOR,
        _ => return None,
    })
}

pub const OBJECT_KEYS: &[&str] = &[
    "primary_insurance",
    "secondary_insurance",
    "tertiary_insurance",
    "auto_accident_insurance",
    "workers_comp_insurance",
    "referring_doctor",
];

/// Checks one nested object (JSON text); answers it in canonical form or the first problem.
pub fn check(key: &str, raw: &str) -> Result<String, String> {
    let format = format_of(key).ok_or_else(|| format!("{key} is not a nested object"))?;
    let obj: Map<String, Value> =
        serde_json::from_str(raw).map_err(|_| "Expected an object.".to_string())?;
    let mut out = Map::new();
    for (k, v) in obj {
        let Some((_, t)) = format.iter().find(|(name, _)| *name == k) else {
            return Err(format!("Unknown key \"{k}\"."));
        };
        let clean = match (t, &v) {
            (_, Value::Null) => Value::Null,
            (T::Text, Value::String(_)) => v,
            (T::Text, Value::Number(n)) => Value::String(n.to_string()),
            (T::Bool, Value::Bool(_)) => v,
            (T::Date, Value::String(s)) if s.is_empty() => v,
            (T::Date, Value::String(s)) => {
                parse_date(s).map_err(|e| format!("{k}: {e}"))?;
                v
            }
            (T::Text, _) => return Err(format!("{k}: Not a valid string.")),
            (T::Bool, _) => return Err(format!("{k}: Must be a valid boolean.")),
            (T::Date, _) => return Err(format!("{k}: Expected a date, YYYY-MM-DD.")),
        };
        out.insert(k, clean);
    }
    Ok(Value::Object(out).to_string())
}

/// Whether a stored insurance object names an insurer.
pub fn has_insurer(raw: &str) -> bool {
    let v: Value = serde_json::from_str(raw).unwrap_or_default();
    ["insurance_company", "insurance_payer_id"].iter().any(|k| {
        v.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    })
}
