//! /api/custom_vitals: vitals a doctor records beyond the standard ones ("Custom Vitals").
//! The reference only reads them (the web app defines them); chartd also accepts POST, PUT
//! and PATCH so they can be defined through the API (an extension, marked in OpenAPI).

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::error::ApiError;

pub const DATA_TYPES: &[&str] = &["text", "number", "single_sel"];

pub static RESOURCE: Resource = Resource {
    path: "custom_vitals",
    name: "CustomVital",
    doc: "Custom vitals of the caller's doctor or practice group. Writing them (POST, PUT, \
          PATCH) is a chartd extension: in DrChrono the web app defines them.",
    scopes: &[Scope::Clinical, Scope::Settings],
    permissions: &[Perm::AccessClinicalNotes, Perm::Settings],
    verbs: Verbs::NO_DELETE,
    sharing: Sharing::IfSetting(ShareSetting::ClinicalTemplates),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor who created it."),
        Field::string("name").required(),
        Field::choice("data_type", DATA_TYPES).required(),
        Field::boolean("is_fraction_field"),
        Field::string("fraction_delimiter").doc("Separates numerator and denominator, e.g. \"/\"."),
        Field::strings("allowed_values").doc("The choices when data_type is \"single_sel\"."),
        Field::string("description"),
        Field::string("unit"),
        Field::boolean("archived").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    hooks: &VitalHooks,
    ..Resource::DEFAULT
};

struct VitalHooks;

impl Hooks for VitalHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let get = |k: &str| {
            w.rec
                .get(k)
                .or_else(|| w.current.and_then(|c| c.get(k)))
                .cloned()
        };
        let kind = get("data_type")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let values = get("allowed_values")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if kind == "single_sel" && values.trim() == "[]" {
            w.errors.add(
                "allowed_values",
                "A single_sel vital needs its allowed values.",
            );
        }
        let fraction = get("is_fraction_field")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let delimiter = get("fraction_delimiter")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if fraction && delimiter.is_empty() {
            w.errors.add(
                "fraction_delimiter",
                "A fraction field needs its delimiter, e.g. \"/\".",
            );
        }
        Ok(())
    }
}
