//! /api/custom_demographics: the practice's extra patient fields ("Custom Demographics");
//! patients carry values for them in `custom_demographics`.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "custom_demographics",
    name: "CustomDemographic",
    doc: "Custom demographics fields of the caller's practice group.",
    scopes: &[Scope::Patients, Scope::Settings],
    permissions: &[Perm::ManagePatients, Perm::Settings],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    fields: &[
        Field::id(),
        Field::boolean("archived").doc("Soft-deleted; should not be used."),
        Field::reference("doctor", "doctors").required(),
        Field::string("name").required(),
        Field::string("template_name")
            .doc("Letters, digits and underscores only; lets Form Builder insert the value."),
        Field::strings("allowed_values").doc("The choices, if the value is one of a list."),
        Field::string("description"),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    hooks: &DemographicHooks,
    ..Resource::DEFAULT
};

struct DemographicHooks;

impl Hooks for DemographicHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let template = w
            .rec
            .get("template_name")
            .and_then(Val::as_str)
            .unwrap_or("");
        if !template
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            w.errors.add(
                "template_name",
                "Only letters (a-z, A-Z), numbers (0-9) and underscores are allowed.",
            );
        }
        if w.rec
            .get("name")
            .and_then(Val::as_str)
            .is_some_and(|s| s.trim().is_empty())
        {
            w.errors.add("name", "This field may not be blank.");
        }
        Ok(())
    }
}
