//! The registry: every resource, one line each. Routes and the OpenAPI document come from here.

pub mod allergies;
pub mod amendments;
pub mod appointments;
pub mod clinical_note_field_types;
pub mod clinical_note_field_values;
pub mod clinical_note_templates;
pub mod clinical_notes;
pub mod doctors;
pub mod documents;
pub mod medications;
pub mod offices;
pub mod patients;
pub mod problems;
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
    &clinical_note_templates::RESOURCE,
    &clinical_note_field_types::RESOURCE,
    &clinical_notes::RESOURCE,
    &clinical_note_field_values::RESOURCE,
    &allergies::RESOURCE,
    &medications::RESOURCE,
    &problems::RESOURCE,
    &amendments::RESOURCE,
    &documents::RESOURCE,
];
