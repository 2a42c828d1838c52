//! /api/task_categories: the practice group's task categories ("/api/tasks" section).
//! GET, POST, PUT, PATCH; archive with `archived`. `name` is a string (the reference's
//! "boolean" is a typo). Categories made through the API are the group's own: is_global is
//! false.

use crate::api::auth::Scope;
use crate::api::resource::{Field, Filter, Resource, Verbs};

pub static RESOURCE: Resource = Resource {
    path: "task_categories",
    name: "TaskCategory",
    doc: "Categories of tasks.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    fields: &[
        Field::id(),
        Field::string("name").not_blank().required(),
        Field::boolean("is_global")
            .read_only()
            .doc("Shared by every practice group; false for the group's own categories."),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::since()],
    ..Resource::DEFAULT
};
