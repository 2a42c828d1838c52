//! /api/task_templates: defaults for new tasks ("/api/tasks" section). GET, POST, PUT, PATCH;
//! archive with `archived`. The filters name the default_* keys they apply to.
//!
//! default_due_date_offset is a duration "[DD] [HH:[MM:]]ss[.uuuuuu]" (Django's form): days,
//! then seconds alone, MM:ss or HH:MM:ss (a minute or second after the first part below 60),
//! then up to six fraction digits. It is answered normalized, "3 02:00:00" or "00:01:30".
//! The reference spells default_category "defatul_category": that key is accepted and
//! answered too. At most one default assignee (a PATCH naming one clears the other).

use crate::api::auth::Scope;
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::domain::duration::Duration;
use crate::error::ApiError;
use crate::resources::tasks::{check_assignees, check_priority};

pub static RESOURCE: Resource = Resource {
    path: "task_templates",
    name: "TaskTemplate",
    doc: "Templates holding the defaults of new tasks.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    fields: &[
        Field::id(),
        Field::string("name").not_blank().required(),
        Field::reference("default_assignee_group", "user_groups").nullable(),
        Field::reference("default_assignee_user", "users").nullable(),
        Field::reference("default_category", "task_categories")
            .nullable()
            .alias("defatul_category"),
        Field::int("defatul_category")
            .sql("t.default_category")
            .nullable()
            .doc("The reference's spelling of default_category; the same value."),
        Field::string("default_due_date_offset")
            .doc("Offset of the due date: \"[DD] [HH:[MM:]]ss[.uuuuuu]\", e.g. \"3 02:00:00\"."),
        Field::string("default_note"),
        Field::int("default_priority")
            .nullable()
            .doc("10 (low), 20 (medium), 30 (high) or 40 (urgent)."),
        Field::reference("default_status", "task_statuses").nullable(),
        Field::string("default_title"),
        Field::int("practice_group").sql("t.practice_group_id"),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("assignee_user", Kind::Int).on("default_assignee_user"),
        Filter::eq("assignee_group", Kind::Int).on("default_assignee_group"),
        Filter::eq("status", Kind::Int).on("default_status"),
        Filter::eq("category", Kind::Int).on("default_category"),
        Filter::since(),
    ],
    hooks: &TaskTemplateHooks,
    ..Resource::DEFAULT
};

struct TaskTemplateHooks;

impl Hooks for TaskTemplateHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        check_priority(w.rec, "default_priority", w.errors);
        let keys = ("default_assignee_user", "default_assignee_group");
        check_assignees(w.rec, w.current, keys, false, w.errors);
        if let Some(raw) = w.rec.get("default_due_date_offset").and_then(Val::as_str) {
            // "" is no offset; anything else is answered normalized.
            let parsed = match raw.trim() {
                "" => Ok(String::new()),
                text => Duration::parse(text).map(|d| d.to_string()),
            };
            match parsed {
                Ok(clean) => w.rec.set("default_due_date_offset", Val::from(clean)),
                Err(msg) => w.errors.add("default_due_date_offset", msg),
            }
        }
        Ok(())
    }
}
