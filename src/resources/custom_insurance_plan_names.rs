//! /api/custom_insurance_plan_names: the practice group's own names for insurance plans
//! ("Custom Insurance Plan Names"). The reference has GET only (DrChrono's web app writes
//! them); chartd also takes POST, PUT, PATCH and DELETE (extensions). `user` is the caller;
//! `doctor` defaults to the caller's doctor.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "custom_insurance_plan_names",
    name: "CustomInsurancePlanName",
    doc: "Custom insurance plan names used by the practice group.",
    scopes: &[Scope::Settings],
    permissions: &[Perm::Settings],
    verbs: Verbs::ALL,
    extension_verbs: Verbs {
        list: false,
        retrieve: false,
        ..Verbs::ALL
    },
    sharing: Sharing::IfSetting(ShareSetting::CustomInsurancePlanNames),
    fields: &[
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::reference("doctor", "doctors")
            .nullable()
            .doc("Doctor who created the custom insurance plan name. Default: the caller's."),
        Field::id(),
        Field::string("insurance_plan_name")
            .required()
            .doc("Custom name."),
        Field::timestamp("updated_at").read_only(),
        Field::int("user")
            .read_only()
            .doc("User who created the custom insurance plan name."),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("user", Kind::Int),
        Filter::icontains("name")
            .on("insurance_plan_name")
            .doc("Only names containing this string (case-insensitive)."),
        Filter::since(),
    ],
    hooks: &PlanNameHooks,
    ..Resource::DEFAULT
};

struct PlanNameHooks;

impl Hooks for PlanNameHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if w.rec
            .get("insurance_plan_name")
            .and_then(Val::as_str)
            .is_some_and(|n| n.trim().is_empty())
        {
            w.errors
                .add("insurance_plan_name", "This field may not be blank.");
        }
        if w.rec.get("doctor").is_some_and(Val::is_null)
            || (w.current.is_none() && !w.rec.has("doctor"))
        {
            w.rec.set("doctor", Val::from(w.ctx.user.doctor_id));
        }
        if w.current.is_none() {
            w.rec.set("user", Val::from(w.ctx.user.user_id));
        }
        Ok(())
    }
}
