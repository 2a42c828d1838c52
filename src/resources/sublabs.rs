//! /api/sublabs: the labs (sub-vendors) a practice orders from ("Lab workflow" in the
//! reference). GET, POST, PUT, PATCH; no DELETE. facility_code identifies the lab in orders
//! and results. No filters are documented.

use crate::api::auth::{Scope, ShareSetting};
use crate::api::fields::not_blank;
use crate::api::resource::{Field, Hooks, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "sublabs",
    name: "Sublab",
    doc: "Labs (sub-vendors) the practice group orders from.",
    scopes: &[Scope::Labs],
    verbs: Verbs::NO_DELETE,
    // "When share_patients is turned on"; a sublab belongs to no doctor, so the whole group.
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    fields: &[
        Field::id(),
        Field::string("name").required(),
        Field::string("facility_code")
            .required()
            .doc("Identifies the lab in orders and results."),
    ],
    hooks: &SublabHooks,
    ..Resource::DEFAULT
};

struct SublabHooks;

impl Hooks for SublabHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        not_blank(w.rec, &["name", "facility_code"], w.errors);
        Ok(())
    }
}
