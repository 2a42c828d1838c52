//! /api/appointment_profiles: kinds of appointment with a standard duration, color and reason
//! ("Appointment Profiles"). A profile's values are the defaults of appointments made with it.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Kind, Resource, Sharing, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "appointment_profiles",
    name: "AppointmentProfile",
    doc: "Appointment profiles for a doctor's calendar.",
    scopes: &[Scope::Calendar, Scope::Settings],
    permissions: &[Perm::AccessScheduling, Perm::Settings],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::AppointmentProfiles),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors")
            .required()
            .doc("The doctor the profile belongs to."),
        Field::string("name").required(),
        Field::string("color")
            .required()
            .check(crate::domain::color)
            .doc("A CSS color, \"#ABCDEF\" or \"rgb(12, 34, 45)\"."),
        Field::int("duration")
            .range(1, 1440)
            .required()
            .doc("Length of an appointment in minutes."),
        Field::string("reason").required(),
        Field::boolean("online_scheduling").required(),
        Field::int("sort_order")
            .nullable()
            .doc("Lower values are shown first."),
        Field::boolean("archived").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    ..Resource::DEFAULT
};
