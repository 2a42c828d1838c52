//! /api/tasks: the practice group's tasks ("/api/tasks"). GET, POST, PUT, PATCH; archive
//! with `archived`.
//!
//! Exactly one of assignee_user and assignee_group is set (a PATCH naming one clears the
//! other); priority is 10 (low), 20 (medium), 30 (high) or 40 (urgent), or null.
//! created_by and assigned_by are the token's user (assigned_by: whoever last changed the
//! assignee), never the body. due_date, associated_items and notes: see `items.rs`.

mod items;
mod notes;

use crate::api::auth::Scope;
use crate::api::resource::{
    Events, Field, Filter, FilterKind, Hooks, Kind, Record, Resource, Verbs,
};
use crate::api::Write;
use crate::db::Val;
use crate::error::{ApiError, FieldErrors};
pub use notes::refresh as refresh_notes;

pub const PRIORITIES: &[i64] = &[10, 20, 30, 40];

pub static RESOURCE: Resource = Resource {
    path: "tasks",
    name: "Task",
    doc: "Tasks of the practice group, assigned to a user or a user group.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    fields: &[
        Field::id(),
        Field::string("title").not_blank().required(),
        Field::reference("status", "task_statuses").required(),
        Field::reference("category", "task_categories").nullable(),
        Field::int("priority")
            .nullable()
            .doc("10 (low), 20 (medium), 30 (high) or 40 (urgent)."),
        Field::reference("assignee_user", "users")
            .nullable()
            .doc("Either assignee_user or assignee_group is set, not both."),
        Field::reference("assignee_group", "user_groups")
            .nullable()
            .doc("Either assignee_user or assignee_group is set, not both."),
        Field::int("assigned_by")
            .read_only()
            .doc("ID of the /api/users who assigned the task."),
        Field::int("created_by")
            .read_only()
            .doc("ID of the /api/users who created the task."),
        Field::object("due_date")
            .nullable()
            .doc("When the task is due: {\"time\": \"2024-05-01T17:00:00\"}; null for none."),
        Field::objects("associated_items").doc(
            "[{\"type\": \"Patient\", \"value\": 12, \"task\": (read-only)}]; type is one of \
             Patient, Appointment, Document, Message, Lab order, Lab result, Lab document, \
             Communication.",
        ),
        Field::objects("notes").doc(
            "The task's /api/task_notes. In a body, {\"text\"} adds a note and {\"id\", \
             \"text\", \"archived\"} changes one; notes left out are kept.",
        ),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("assignee_user", Kind::Int).doc("Only tasks assigned to this user."),
        Filter::eq("assignee_group", Kind::Int).doc("Only tasks assigned to this user group."),
        Filter::eq("status", Kind::Int).doc("Only tasks with this status."),
        Filter::eq("category", Kind::Int).doc("Only tasks in this category."),
        Filter::new("due_at_date", "due_at", FilterKind::OnDate)
            .doc("Only tasks due on this date."),
        Filter::new(
            "due_at_range",
            "due_at",
            FilterKind::DateRange { max_days: None },
        )
        .doc("Only tasks due within this inclusive date range."),
        Filter::new("due_at_since", "due_at", FilterKind::Since)
            .doc("Only tasks due at or after this timestamp."),
        Filter::sql("due_at_unknown", FilterKind::WhereTrue("t.due_at IS NULL"))
            .doc("If true, only tasks without a due date."),
        Filter::since(),
    ],
    hooks: &TaskHooks,
    // DrChrono archives a task to delete it: archiving raises TASK_DELETE.
    events: Events {
        delete: Some("TASK_DELETE"),
        ..Events::create_modify("TASK_CREATE", "TASK_MODIFY")
    },
    ..Resource::DEFAULT
};

struct TaskHooks;

/// A priority key, when set, is one of 10, 20, 30, 40.
pub fn check_priority(rec: &Record, key: &'static str, errors: &mut FieldErrors) {
    if let Some(p) = rec.get(key).and_then(Val::as_i64) {
        if !PRIORITIES.contains(&p) && !errors.has(key) {
            errors.add(
                key,
                "Must be one of 10 (low), 20 (medium), 30 (high), 40 (urgent).",
            );
        }
    }
}

/// At most one of the two assignee keys (exactly one when `required`). A PATCH that sets
/// one clears the other. Answers whether the assignee changed.
pub fn check_assignees(
    rec: &mut Record,
    current: Option<&Record>,
    (user, group): (&'static str, &'static str),
    required: bool,
    errors: &mut FieldErrors,
) -> bool {
    let sent = |rec: &Record, k: &str| rec.get(k).is_some_and(|v| !v.is_null());
    if let Some(cur) = current {
        for (this, other) in [(user, group), (group, user)] {
            if sent(rec, this) && !rec.has(other) && cur.get(other).is_some_and(|v| !v.is_null()) {
                rec.set(other, Val::Int(None));
            }
        }
    }
    let value = |k: &str| rec.get(k).or_else(|| current?.get(k)).and_then(Val::as_i64);
    let (u, g) = (value(user), value(group));
    let message = match (u, g) {
        (Some(_), Some(_)) => Some(format!("Set either {user} or {group}, not both.")),
        (None, None) if required => Some(format!("Either {user} or {group} must be set.")),
        _ => None,
    };
    if let Some(m) = message {
        errors.add(user, m.clone());
        errors.add(group, m);
    }
    let before = current.map(|c| {
        let v = |k: &str| c.get(k).and_then(Val::as_i64);
        (v(user), v(group))
    });
    before != Some((u, g))
}

impl Hooks for TaskHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        check_priority(w.rec, "priority", w.errors);
        let keys = ("assignee_user", "assignee_group");
        if check_assignees(w.rec, w.current, keys, true, w.errors) {
            w.rec.set("assigned_by", Val::from(w.ctx.user.user_id));
        }
        if w.current.is_none() {
            w.rec.set("created_by", Val::from(w.ctx.user.user_id));
        }
        items::validate(w)
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        items::after_write(w.ctx, w.conn, id)
    }
}
