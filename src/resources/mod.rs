//! The registry: every resource, one line each. Routes and the OpenAPI document come from here.

pub mod appointment_profiles;
pub mod appointment_templates;
pub mod appointments;
pub mod billing_profiles;
pub mod custom_appointment_fields;
pub mod custom_demographics;
pub mod custom_insurance_plan_names;
pub mod custom_vitals;
pub mod doctors;
pub mod fee_schedules;
pub mod insurances;
pub mod line_items;
pub mod offices;
pub mod patient_flag_types;
pub mod patient_payment_log;
pub mod patient_payments;
pub mod patients;
pub mod patients_summary;
pub mod procedures;
pub mod reminder_profiles;
pub mod slot_search;
pub mod superbills;
pub mod transactions;
pub mod user_groups;
pub mod users;

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
