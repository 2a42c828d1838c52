//! /api/task_notes: notes on tasks ("/api/tasks" section). GET, POST, PUT, PATCH; archive
//! with `archived` (the list shows archived notes too: no show_archived is documented).
//! created_by is the token's user. A note stays on its task; each write refreshes the task's
//! `notes` (and its updated_at, so `since` pollers of /api/tasks see it).

use crate::api::auth::Scope;
use crate::api::fields::not_blank;
use crate::api::resource::{Field, Filter, Hooks, Kind, Op, Record, Resource, Verbs};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Val};
use crate::error::{ApiError, FieldErrors};
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
        Field::string("text").required().doc("Content of the note."),
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
    fn validate(
        &self,
        ctx: &Ctx,
        _conn: &mut Conn,
        _op: Op,
        rec: &mut Record,
        current: Option<&Record>,
        errors: &mut FieldErrors,
    ) -> Result<(), ApiError> {
        not_blank(rec, &["text"], errors);
        match current {
            None => rec.set("created_by", Val::from(ctx.user.user_id)),
            Some(cur) => {
                let task = rec.get("task").and_then(Val::as_i64);
                if task.is_some() && task != cur.get("task").and_then(Val::as_i64) {
                    errors.add("task", "A note cannot be moved to another task.");
                }
            }
        }
        Ok(())
    }

    fn after_write(&self, ctx: &Ctx, conn: &mut Conn, _op: Op, id: i64) -> Result<(), ApiError> {
        let task = Sql::new("SELECT t.task FROM task_notes t WHERE t.id = ?")
            .bind(id)
            .load_i64(conn)?;
        if let Some(task) = task {
            refresh_notes(conn, task, true)?;
            // The task's `notes` changed: a modification of the task.
            crate::webhooks::outbox::raise_change(
                conn,
                ctx,
                crate::api::handlers::Compiled::cached(&crate::resources::tasks::RESOURCE),
                crate::api::resource::Change::Modify,
                task,
            )?;
        }
        Ok(())
    }
}
