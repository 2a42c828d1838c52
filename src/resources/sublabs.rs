//! /api/sublabs: the labs (sub-vendors) a practice orders from ("Lab workflow" in the
//! reference). GET, POST, PUT, PATCH; no DELETE. facility_code identifies the lab in orders
//! and results. No filters are documented.

use crate::api::auth::{Scope, ShareSetting};
use crate::api::resource::{Field, Resource, Sharing, Verbs};

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
        Field::string("name").not_blank().required(),
        Field::string("facility_code")
            .not_blank()
            .required()
            .doc("Identifies the lab in orders and results."),
    ],
    ..Resource::DEFAULT
};
