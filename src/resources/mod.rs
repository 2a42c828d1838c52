//! The registry: every resource, one line each. Routes and the OpenAPI document come from here.

pub mod allergies;
pub mod amendments;
pub mod appointment_profiles;
pub mod appointment_templates;
pub mod appointments;
pub mod billing_profiles;
pub mod clinical_note_field_types;
pub mod clinical_note_field_values;
pub mod clinical_note_templates;
pub mod clinical_notes;
pub mod custom_appointment_fields;
pub mod custom_demographics;
pub mod custom_insurance_plan_names;
pub mod custom_vitals;
pub mod doctors;
pub mod documents;
pub mod fee_schedules;
pub mod insurances;
pub mod lab_documents;
pub mod lab_orders;
pub mod lab_orders_summary;
pub mod lab_results;
pub mod lab_tests;
pub mod line_items;
pub mod medications;
pub mod offices;
pub mod patient_flag_types;
pub mod patient_payment_log;
pub mod patient_payments;
pub mod patients;
pub mod patients_summary;
pub mod problems;
pub mod procedures;
pub mod reminder_profiles;
pub mod slot_search;
pub mod sublabs;
pub mod superbills;
pub mod task_categories;
pub mod task_notes;
pub mod task_statuses;
pub mod task_templates;
pub mod tasks;
pub mod transactions;
pub mod user_groups;
pub mod users;

use std::sync::OnceLock;

use crate::api::registry::Registry;
use crate::api::resource::Resource;

pub static ALL: &[&Resource] = &[
    &doctors::RESOURCE,
    &users::RESOURCE,
    &user_groups::RESOURCE,
    &offices::RESOURCE,
    &patients::RESOURCE,
    &patients_summary::RESOURCE,
    &appointments::RESOURCE,
    &appointment_profiles::RESOURCE,
    &appointment_templates::RESOURCE,
    &reminder_profiles::RESOURCE,
    &custom_appointment_fields::RESOURCE,
    &custom_vitals::RESOURCE,
    &patient_flag_types::RESOURCE,
    &custom_demographics::RESOURCE,
    &sublabs::RESOURCE,
    &lab_orders::RESOURCE,
    &lab_orders_summary::RESOURCE,
    &lab_documents::RESOURCE,
    &lab_tests::RESOURCE,
    &lab_results::RESOURCE,
    &task_categories::RESOURCE,
    &task_statuses::RESOURCE,
    &tasks::RESOURCE,
    &task_notes::RESOURCE,
    &task_templates::RESOURCE,
    &clinical_note_templates::RESOURCE,
    &clinical_note_field_types::RESOURCE,
    &clinical_notes::RESOURCE,
    &clinical_note_field_values::RESOURCE,
    &allergies::RESOURCE,
    &medications::RESOURCE,
    &problems::RESOURCE,
    &amendments::RESOURCE,
    &documents::RESOURCE,
    &line_items::RESOURCE,
    &transactions::RESOURCE,
    &procedures::RESOURCE,
    &patient_payments::RESOURCE,
    &patient_payment_log::RESOURCE,
    &billing_profiles::RESOURCE,
    &fee_schedules::RESOURCE,
    &insurances::RESOURCE,
    &custom_insurance_plan_names::RESOURCE,
    &superbills::RESOURCE,
];

/// Every resource compiled, once per process.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::new(ALL))
}
