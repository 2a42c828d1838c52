//! The registry: every resource, one line each. Routes and the OpenAPI document come from here.

pub mod appointments;
pub mod billing_profiles;
pub mod custom_insurance_plan_names;
pub mod doctors;
pub mod fee_schedules;
pub mod insurances;
pub mod line_items;
pub mod offices;
pub mod patient_payment_log;
pub mod patient_payments;
pub mod patients;
pub mod procedures;
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
    &appointments::RESOURCE,
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
