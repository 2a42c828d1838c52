//! /api/task_notes: notes on tasks ("/api/tasks" section). GET, POST, PUT, PATCH; archive
//! with `archived` (the list shows archived notes too: no show_archived is documented).
//! created_by is the token's user. A note stays on its task; each write refreshes the task's
//! `notes` (and its updated_at, so `since` pollers of /api/tasks see it).

use crate::api::auth::Scope;
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Verbs};
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::ApiError;
use crate::resources::tasks::refresh_notes;

pub static RESOURCE: Resource = Resource {
    path: "task_notes",
    name: "TaskNote",
    doc: "Notes on tasks.",
    scopes: &[Scope::Tasks],
    verbs: Verbs::NO_DELETE,
    hide_archived: false,
    fields: &[
        Field::id(),
        Field::reference("task", "tasks").required(),
        Field::string("text")
            .not_blank()
            .required()
            .doc("Content of the note."),
        Field::int("created_by")
            .read_only()
            .doc("ID of the /api/users who wrote the note."),
        Field::boolean("archived"),
        Field::timestamp("created_at").read_only(),
        Field::timestamp("updated_at").read_only(),
    ],
    filters: &[
        Filter::eq("task", Kind::Int).doc("Only notes of this task."),
        Filter::since(),
    ],
    hooks: &TaskNoteHooks,
    ..Resource::DEFAULT
};

struct TaskNoteHooks;

impl Hooks for TaskNoteHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        match w.current {
            None => w.rec.set("created_by", Val::from(w.ctx.user.user_id)),
            Some(cur) => {
                let task = w.rec.get("task").and_then(Val::as_i64);
                if task.is_some() && task != cur.get("task").and_then(Val::as_i64) {
                    w.errors
                        .add("task", "A note cannot be moved to another task.");
                }
            }
        }
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        let task = Sql::new("SELECT t.task FROM task_notes t WHERE t.id = ?")
            .bind(id)
            .load_i64(w.conn)?;
        if let Some(task) = task {
            refresh_notes(w.conn, task, true)?;
            // The task's `notes` changed: a modification of the task.
            crate::api::events::raise_change(
                w.conn,
                w.ctx,
                w.ctx.compiled(&crate::resources::tasks::RESOURCE),
                crate::api::resource::Change::Modify,
                task,
            )?;
        }
        Ok(())
    }
}
