//! The keys of a patient's nested objects (the framework checks them: unknown keys are
//! refused, values checked by kind, the object stored in canonical form).

use serde_json::Value;

use crate::api::resource::Key;

/// A primary, secondary or tertiary insurance.
pub const INSURANCE: &[Key] = &[
    Key::text("insurance_company"),
    Key::text("insurance_payer_id"),
    Key::text("insurance_plan_name"),
    Key::text("insurance_plan_type"),
    Key::text("insurance_group_name"),
    Key::text("insurance_group_number"),
    Key::text("insurance_id_number"),
    Key::text("insurance_claim_office_number"),
    Key::boolean("is_subscriber_the_patient"),
    Key::text("patient_relationship_to_subscriber"),
    Key::text("subscriber_first_name"),
    Key::text("subscriber_middle_name"),
    Key::text("subscriber_last_name"),
    Key::text("subscriber_suffix"),
    Key::date("subscriber_date_of_birth"),
    Key::text("subscriber_gender"),
    Key::text("subscriber_social_security"),
    Key::text("subscriber_address"),
    Key::text("subscriber_city"),
    Key::text("subscriber_state"),
    Key::text("subscriber_zip_code"),
    Key::text("subscriber_country"),
];

/// An auto accident insurance.
pub const AUTO_ACCIDENT: &[Key] = &[
    Key::text("auto_accident_case_number"),
    Key::date("auto_accident_date_of_accident"),
    Key::text("auto_accident_state"),
    Key::text("auto_accident_claim_number"),
    Key::text("auto_accident_insurance_company"),
    Key::text("auto_accident_payer_id"),
    Key::text("auto_accident_payer_address"),
    Key::text("auto_accident_payer_city"),
    Key::text("auto_accident_payer_state"),
    Key::text("auto_accident_payer_zip"),
    Key::text("auto_accident_adjuster_name"),
    Key::text("auto_accident_adjuster_phone"),
    Key::boolean("auto_accident_subscriber_is_the_patient"),
    Key::text("auto_accident_patient_relation_to_insured"),
];

/// A workers' compensation insurance.
pub const WORKERS_COMP: &[Key] = &[
    Key::text("workers_comp_case_number"),
    Key::date("workers_comp_date_of_injury"),
    Key::text("workers_comp_state"),
    Key::text("workers_comp_claim_number"),
    Key::text("workers_comp_insurance_company"),
    Key::text("workers_comp_payer_id"),
    Key::text("workers_comp_payer_address"),
    Key::text("workers_comp_payer_city"),
    Key::text("workers_comp_payer_state"),
    Key::text("workers_comp_payer_zip"),
    Key::text("workers_comp_adjuster_name"),
    Key::text("workers_comp_adjuster_phone"),
    Key::text("employer_name"),
];

/// The referring doctor.
pub const REFERRING_DOCTOR: &[Key] = &[
    Key::text("first_name"),
    Key::text("middle_name"),
    Key::text("last_name"),
    Key::text("suffix"),
    Key::text("npi"),
    Key::text("specialty"),
    Key::text("phone"),
    Key::text("fax"),
    Key::text("email"),
    Key::text("address"),
    Key::text("city"),
    Key::text("state"),
    Key::text("zip_code"),
];

/// Whether a stored insurance object names an insurer.
pub fn has_insurer(raw: &str) -> bool {
    let v: Value = serde_json::from_str(raw).unwrap_or_default();
    ["insurance_company", "insurance_payer_id"].iter().any(|k| {
        v.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    })
}
