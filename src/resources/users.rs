//! /api/users: the users of the caller's practice group ("Users"), and /api/users/current,
//! which answers 302 to the caller's own /api/users/:id. Read-only through the API;
//! `chartd user create` makes them.

use crate::api::action::{Action, Answer, Method, Reply, Run};
use crate::api::resource::{Field, Filter, Kind, Resource, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "users",
    name: "User",
    doc: "Users (doctors and staff) in the caller's practice group.",
    verbs: Verbs::READ,
    fields: &[
        Field::id(),
        Field::string("username").read_only(),
        Field::int("doctor")
            .read_only()
            .doc("For staff, their primary physician's ID; for doctors, their own."),
        Field::boolean("is_doctor")
            .read_only()
            .doc("Mutually exclusive with is_staff."),
        Field::boolean("is_staff")
            .read_only()
            .doc("Mutually exclusive with is_doctor."),
        Field::string("plan_type").read_only(),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::object("permissions").read_only().doc(
            "Permission flags: access_billing, show_billing_tab, access_patient_payments, \
             access_clinical_notes, manage_patients, access_scheduling, settings, \
             access_message_center.",
        ),
    ],
    filters: &[
        Filter::eq("doctor", Kind::Int),
        Filter::eq("username", Kind::Str),
    ],
    actions: &[CURRENT],
    ..Resource::DEFAULT
};

/// GET /api/users/current → 302 to the caller's own user.
const CURRENT: Action = Action {
    method: Method::Get,
    path: "/current",
    name: "current",
    summary: "Redirect (302) to the authorizing user's /api/users/:id",
    write: false,
    // Any valid token may ask who it is.
    access: Some((&[], &[])),
    answer: Answer::Redirect("Location: /api/users/:id"),
    run: Run::Read(|r, _| {
        Ok(Reply::Redirect(
            r.ctx.url(&format!("/api/users/{}", r.ctx.user.user_id)),
        ))
    }),
    ..Action::DEFAULT
};
