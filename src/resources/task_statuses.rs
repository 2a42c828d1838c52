//! /api/task_statuses: the practice group's task statuses ("/api/tasks" section). GET, POST,
//! PUT, PATCH; archive with `archived`. status_category is O (open, default), P (in
//! progress), H (on hold) or C (complete).

use crate::api::auth::Scope;
use crate::api::resource::{Field, Filter, Resource, Verbs};

pub const CATEGORIES: &[&str] = &["O", "P", "H", "C"];

pub static RESOURCE: Resource = Resource {
    path: "task_statuses",
    name: "TaskStatus",
    doc: "Statuses a task can have.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    fields: &[
        Field::id(),
        Field::string("name").not_blank().required(),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::choice("status_category", CATEGORIES)
            .doc("O (open, default), P (in progress), H (on hold) or C (complete)."),
        Field::reference("task_category", "task_categories").nullable(),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::since()],
    ..Resource::DEFAULT
};
