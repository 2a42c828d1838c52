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

use actix_web::{web, HttpResponse};

use crate::api::auth::{check_access, Perm, Scope, ShareSetting};
use crate::api::compiled::Compiled;
use crate::api::filters::Params;
use crate::api::openapi::Paths;
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::db::Sql;
use crate::error::ApiError;

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
    hooks: &NoteHooks,
    ..Resource::DEFAULT
};

struct NoteHooks;

impl Hooks for NoteHooks {
    /// Breaks have no clinical note.
    fn scope(&self, _ctx: &Ctx, sql: &mut Sql) {
        sql.push(" AND t.patient IS NOT NULL", []);
    }

    fn scope_list(&self, _ctx: &Ctx, params: &Params, _sql: &mut Sql) -> Result<(), ApiError> {
        if ["since", "date", "date_range"]
            .iter()
            .all(|p| params.get(p).is_none_or(str::is_empty))
        {
            return Err(ApiError::field(
                "since",
                "Listing clinical notes needs one of the since, date or date_range parameters.",
            ));
        }
        Ok(())
    }

    fn extra_routes(&self, _c: &'static Compiled, cfg: &mut web::ServiceConfig) {
        for (action, lock) in [("lock", true), ("unlock", false)] {
            cfg.service(
                web::resource(format!("/{{id:\\d+}}/{action}"))
                    .route(web::post().to(move |ctx: Ctx, id: web::Path<i64>| {
                        set_lock(ctx, id.into_inner(), lock)
                    }))
                    .default_service(web::to(|| async {
                        Err::<HttpResponse, _>(ApiError::MethodNotAllowed)
                    })),
            );
        }
    }

    fn extra_openapi(&self, res: &'static Resource, paths: &mut Paths) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
        for (action, summary) in [
            (
                "lock",
                "Sign and lock the note: its values can no longer change. Refused (400) while a \
                 required field of a charted template is empty, 409 when already locked.",
            ),
            (
                "unlock",
                "Unlock the note so its values can change again; 409 when not locked.",
            ),
        ] {
            let json = |desc: &str, schema: Ref| {
                ResponseBuilder::new()
                    .description(desc)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build()
            };
            let op = crate::api::openapi::with_common_errors(
                OperationBuilder::new()
                    .operation_id(Some(format!("clinical_notes_{action}")))
                    .summary(Some(summary))
                    .description(Some(
                        "Required scopes: clinical (write). Required permissions: Access \
                         Clinical Notes. Records who and when (chartd extension).",
                    ))
                    .tag(res.path)
                    .parameter(
                        ParameterBuilder::new()
                            .name("id")
                            .parameter_in(ParameterIn::Path)
                            .required(Required::True)
                            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer))),
                    )
                    .response(
                        "200",
                        json("The note (verbose).", Ref::from_schema_name(res.name)),
                    )
                    .response(
                        "404",
                        json(
                            "No such note in your practice group.",
                            Ref::from_schema_name("Error"),
                        ),
                    )
                    .response(
                        "409",
                        json("Already in that state.", Ref::from_schema_name("Error")),
                    ),
            );
            let op = op.extensions(Some(
                utoipa::openapi::extensions::ExtensionsBuilder::new()
                    .add("x-chartd-extension", true)
                    .build(),
            ));
            paths.add_path_operation(
                format!("/api/clinical_notes/{{id}}/{action}"),
                vec![HttpMethod::Post],
                op.build(),
            );
        }
    }
}

/// POST /api/clinical_notes/{id}/lock and /unlock: 200 with the note (verbose).
async fn set_lock(ctx: Ctx, id: i64, lock: bool) -> Result<HttpResponse, ApiError> {
    let c = ctx.compiled(&RESOURCE);
    check_access(&ctx.user, c.res.scopes, c.res.permissions, true)?;
    let db = ctx.state.db.clone();
    let body = db
        .write(move |conn| {
            state::set_lock(conn, &ctx, c, id, lock)?;
            c.fetch_json(conn, &ctx, id, true)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}
