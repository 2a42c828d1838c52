//! The registry: every resource, one line each. Routes and the OpenAPI document come from here.

pub mod appointments;
pub mod doctors;
pub mod offices;
pub mod patients;
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
];
