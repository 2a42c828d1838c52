//! /api/clinical_notes: the clinical note of each appointment with a patient, as structured
//! data ("Clinical Notes"). DrChrono keys a note by its appointment, so this resource reads
//! the appointments table (`id` and `appointment` are the appointment's id) and takes the
//! note's own state from `clinical_notes` (see `state.rs`). 5 per page, at most 20.
//!
//! clinical_note_sections lists `{"clinical_note_template", "name"}` per template charted;
//! with verbose=true each section also has its `values` (`{"id", "clinical_note_field",
//! "value"}`). The values are written through /api/clinical_note_field_values.
//!
//! Extensions: `locked`, `locked_by`/`locked_at`, `unlocked_by`/`unlocked_at`, `doctor`,
//! `scheduled_time`, `updated_at`, and POST /api/clinical_notes/{id}/lock and /unlock, which
//! answer the note (verbose).

pub mod state;

use crate::api::action::{Action, Reply, Run};
use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::db::Sql;

/// The note's latest change: its own row's or its appointment's, whichever is later.
const UPDATED_AT: &str = "CASE WHEN (SELECT n.updated_at FROM clinical_notes n \
    WHERE n.appointment = t.id) > t.updated_at THEN (SELECT n.updated_at FROM clinical_notes n \
    WHERE n.appointment = t.id) ELSE t.updated_at END";

pub static RESOURCE: Resource = Resource {
    path: "clinical_notes",
    table: "appointments",
    name: "ClinicalNote",
    doc: "The clinical note of an appointment, keyed by the appointment's id. Pass \
          verbose=true for the values.",
    scopes: &[Scope::Clinical],
    permissions: &[Perm::AccessClinicalNotes],
    verbs: Verbs::READ,
    sharing: Sharing::IfSetting(ShareSetting::Patients),
    audited: true,
    page_size: (5, 20),
    verbose_page_size: (5, 20),
    fields: &[
        Field::id().doc("The appointment's id (chartd extension)."),
        Field::int("appointment").sql("t.id"),
        Field::int("patient").read_only(),
        Field::int("doctor")
            .read_only()
            .doc("The appointment's doctor (chartd extension)."),
        Field::timestamp("scheduled_time")
            .read_only()
            .doc("The appointment's scheduled time (chartd extension)."),
        Field::boolean("archived")
            .read_only()
            .doc("The appointment which the note is for has been deleted."),
        Field::objects("clinical_note_sections")
            .sql("COALESCE((SELECT n.sections FROM clinical_notes n WHERE n.appointment = t.id), '[]')")
            .verbose_sql("COALESCE((SELECT n.sections_values FROM clinical_notes n WHERE n.appointment = t.id), '[]')")
            .doc("[{\"clinical_note_template\", \"name\", \"values\": [{\"id\", \"clinical_note_field\", \"value\"}]}], one per template charted; \"values\" only with verbose=true."),
        Field::boolean("locked")
            .sql("COALESCE((SELECT n.locked FROM clinical_notes n WHERE n.appointment = t.id), FALSE)")
            .doc("Whether the note is signed and locked: its values cannot change (chartd extension)."),
        Field::int("locked_by")
            .nullable()
            .sql("(SELECT n.locked_by FROM clinical_notes n WHERE n.appointment = t.id)")
            .doc("The user who last locked the note (chartd extension)."),
        Field::timestamp("locked_at")
            .nullable()
            .sql("(SELECT n.locked_at FROM clinical_notes n WHERE n.appointment = t.id)")
            .doc("When the note was last locked (chartd extension)."),
        Field::int("unlocked_by")
            .nullable()
            .sql("(SELECT n.unlocked_by FROM clinical_notes n WHERE n.appointment = t.id)")
            .doc("The user who last unlocked the note (chartd extension)."),
        Field::timestamp("unlocked_at")
            .nullable()
            .sql("(SELECT n.unlocked_at FROM clinical_notes n WHERE n.appointment = t.id)")
            .doc("When the note was last unlocked (chartd extension)."),
        Field::timestamp("updated_at")
            .sql(UPDATED_AT)
            .doc("The latest change of the note or its appointment (chartd extension)."),
    ],
    list_needs_one_of: &["since", "date", "date_range"],
    filters: &[
        Filter::new("date", "scheduled_time", FilterKind::OnDate)
            .doc("Only notes whose appointment occurs on this date."),
        Filter::new(
            "date_range",
            "scheduled_time",
            FilterKind::DateRange {
                max_days: Some(190),
            },
        )
        .doc("Notes whose appointment is in this inclusive range; at most 190 days unless in the past."),
        Filter::eq("office", Kind::Int),
        Filter::eq("patient", Kind::Int),
        Filter::new("since", UPDATED_AT, FilterKind::Since)
            .doc("Only notes updated at or after this timestamp."),
    ],
    actions: &[LOCK, UNLOCK],
    hooks: &NoteHooks,
    ..Resource::DEFAULT
};

struct NoteHooks;

impl Hooks for NoteHooks {
    /// Breaks have no clinical note.
    fn scope(&self, _ctx: &Ctx, sql: &mut Sql) {
        sql.push(" AND t.patient IS NOT NULL", []);
    }
}

const LOCK_DOC: &str = "Records who and when (chartd extension).";

const NOTE_RESPONSES: &[(&str, &str)] = &[
    ("404", "No such note in your practice group."),
    ("409", "Already in that state."),
];

/// POST /api/clinical_notes/{id}/lock and /unlock: 200 with the note (verbose).
const LOCK: Action = Action {
    path: "/{id}/lock",
    name: "lock",
    summary: "Sign and lock the note: its values can no longer change. Refused (400) while a \
              required field of a charted template is empty, 409 when already locked.",
    doc: LOCK_DOC,
    answer_doc: "The note (verbose).",
    responses: NOTE_RESPONSES,
    extension: true,
    run: Run::Write(|w, _, id| {
        state::set_lock(w.conn, w.ctx, w.ctx.compiled(&RESOURCE), id, true)?;
        Ok(Reply::Object(id))
    }),
    ..Action::DEFAULT
};

const UNLOCK: Action = Action {
    path: "/{id}/unlock",
    name: "unlock",
    summary: "Unlock the note so its values can change again; 409 when not locked.",
    doc: LOCK_DOC,
    answer_doc: "The note (verbose).",
    responses: NOTE_RESPONSES,
    extension: true,
    run: Run::Write(|w, _, id| {
        state::set_lock(w.conn, w.ctx, w.ctx.compiled(&RESOURCE), id, false)?;
        Ok(Reply::Object(id))
    }),
    ..Action::DEFAULT
};
