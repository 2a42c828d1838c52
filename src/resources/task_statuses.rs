//! /api/task_statuses: the practice group's task statuses ("/api/tasks" section). GET, POST,
//! PUT, PATCH; archive with `archived`. status_category is O (open, default), P (in
//! progress), H (on hold) or C (complete).

use crate::api::auth::Scope;
use crate::api::fields::not_blank;
use crate::api::resource::{Field, Filter, Hooks, Resource, Verbs};
use crate::api::Write;
use crate::error::ApiError;

pub const CATEGORIES: &[&str] = &["O", "P", "H", "C"];

pub static RESOURCE: Resource = Resource {
    path: "task_statuses",
    name: "TaskStatus",
    doc: "Statuses a task can have.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    fields: &[
        Field::id(),
        Field::string("name").required(),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::choice("status_category", CATEGORIES)
            .doc("O (open, default), P (in progress), H (on hold) or C (complete)."),
        Field::reference("task_category", "task_categories").nullable(),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[Filter::since()],
    hooks: &TaskStatusHooks,
    ..Resource::DEFAULT
};

struct TaskStatusHooks;

impl Hooks for TaskStatusHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        not_blank(w.rec, &["name"], w.errors);
        Ok(())
    }
}
