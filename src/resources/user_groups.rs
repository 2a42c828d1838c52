//! /api/user_groups: named groups of users in the practice group ("User Groups"), used as task
//! assignees. Read-only through the API.

use crate::api::resource::{Field, Filter, Resource, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "user_groups",
    name: "UserGroup",
    doc: "User groups in the caller's practice group.",
    verbs: Verbs::READ,
    fields: &[
        Field::id(),
        Field::string("name").read_only(),
        Field::ints("members").read_only().doc("IDs of /api/users."),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::boolean("archived").read_only(),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::since()],
    ..Resource::DEFAULT
};
