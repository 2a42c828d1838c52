//! /api/offices: the practice group's offices ("Offices"), GET and PATCH (only
//! online_scheduling and online_timeslots are writable), and
//! POST /api/offices/:id/add_exam_room, answering the whole updated office.
//! `chartd office create` makes offices.
//!
//! exam_rooms is a list of {"index", "name", "online_scheduling"}; appointments name a room by
//! its index. online_timeslots (verbose-only) is a list of
//! {"weekday" (0 = Monday .. 6), "start_time", "end_time"} during which online scheduling is open.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::auth::{check_access, Scope};
use crate::api::body;
use crate::api::compiled::Compiled;
use crate::api::fields::{parse_bool, parse_time};
use crate::api::openapi::Paths;
use crate::api::resource::{Field, Hooks, Record, Resource, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Sql, Val};
use crate::error::{ApiError, FieldErrors};

pub static RESOURCE: Resource = Resource {
    path: "offices",
    name: "Office",
    doc: "Offices of the caller's practice group.",
    scopes: &[Scope::User],
    verbs: Verbs::READ_PATCH,
    fields: &[
        Field::id(),
        Field::string("name").read_only(),
        Field::int("doctor")
            .read_only()
            .doc("ID of the doctor who owns the office."),
        Field::string("address").read_only(),
        Field::string("city").read_only(),
        Field::string("state")
            .read_only()
            .doc("Two-letter abbreviation."),
        Field::string("zip_code").read_only(),
        Field::string("country")
            .read_only()
            .doc("Two-letter country code."),
        Field::string("phone_number").read_only(),
        Field::string("fax_number").read_only(),
        Field::time("start_time")
            .read_only()
            .doc("Truncated to the hour. Default 00:00:00."),
        Field::time("end_time")
            .read_only()
            .doc("Truncated to the hour. Default 24:00:00."),
        Field::boolean("online_scheduling").doc("Default false."),
        Field::objects("online_timeslots").verbose().doc(
            "[{\"weekday\": 0-6 (Monday=0), \"start_time\": \"HH:MM\", \"end_time\": \"HH:MM\"}]",
        ),
        Field::objects("exam_rooms")
            .read_only()
            .doc("[{\"index\": 1, \"name\": \"Exam 1\", \"online_scheduling\": true}]"),
        Field::boolean("archived")
            .read_only()
            .doc("Soft-deleted; should not be used."),
    ],
    hooks: &OfficeHooks,
    ..Resource::DEFAULT
};

struct OfficeHooks;

/// Checks each online timeslot and writes it back in canonical form.
fn normalize_timeslots(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    let slots: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
    let mut out = Vec::with_capacity(slots.len());
    for (i, s) in slots.iter().enumerate() {
        let weekday = s
            .get("weekday")
            .and_then(Value::as_i64)
            .filter(|d| (0..=6).contains(d));
        let time = |k: &str| {
            s.get(k)
                .and_then(Value::as_str)
                .and_then(|t| parse_time(t).ok())
        };
        match (weekday, time("start_time"), time("end_time")) {
            (Some(d), Some(a), Some(b)) if a < b => {
                out.push(json!({"weekday": d, "start_time": a, "end_time": b}))
            }
            _ => errors.add(
                "online_timeslots",
                format!(
                    "Item {i}: expected {{\"weekday\": 0-6, \"start_time\": \"HH:MM\", \
                     \"end_time\": \"HH:MM\"}} with start before end."
                ),
            ),
        }
    }
    errors.is_empty().then(|| Value::Array(out).to_string())
}

impl Hooks for OfficeHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if let Some(raw) = w
            .rec
            .get("online_timeslots")
            .and_then(Val::as_str)
            .map(str::to_string)
        {
            if let Some(clean) = normalize_timeslots(&raw, w.errors) {
                w.rec.set("online_timeslots", Val::from(clean));
            }
        }
        Ok(())
    }

    fn extra_routes(&self, c: &'static Compiled, cfg: &mut web::ServiceConfig) {
        cfg.route(
            "/{id:\\d+}/add_exam_room",
            web::post().to(
                move |ctx: Ctx, req: HttpRequest, p: web::Payload, id: web::Path<i64>| {
                    add_exam_room(c, ctx, req, p, id.into_inner())
                },
            ),
        );
    }

    fn extra_openapi(&self, res: &'static Resource, paths: &mut Paths) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder};
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let input = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("name", ObjectBuilder::new().schema_type(Type::String))
            .property(
                "online_scheduling",
                ObjectBuilder::new().schema_type(Type::Boolean),
            )
            .required("name");
        let op = crate::api::openapi::with_common_errors(
            OperationBuilder::new()
                .operation_id(Some("offices_add_exam_room"))
                .summary(Some("Add an exam room; answers the whole updated office"))
                .tag(res.path)
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(input)).build(),
                        )
                        .build(),
                ))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The office.")
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name(res.name)))
                                .build(),
                        )
                        .build(),
                ),
        );
        paths.add_path_operation(
            "/api/offices/{id}/add_exam_room",
            vec![HttpMethod::Post],
            op.build(),
        );
    }
}

/// POST /api/offices/:id/add_exam_room {"name", "online_scheduling"}.
async fn add_exam_room(
    c: &'static Compiled,
    ctx: Ctx,
    req: HttpRequest,
    payload: web::Payload,
    id: i64,
) -> Result<HttpResponse, ApiError> {
    check_access(&ctx.user, c.res.scopes, c.res.permissions, true)?;
    let obj = body::read(&req, payload).await?.one()?;
    let mut errors = FieldErrors::default();
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(_)) => {
            errors.add("name", "This field may not be blank.");
            String::new()
        }
        Some(_) => {
            errors.add("name", "Not a valid string.");
            String::new()
        }
        None => {
            errors.add("name", "This field is required.");
            String::new()
        }
    };
    let online = match obj.get("online_scheduling") {
        None | Some(Value::Null) => false,
        Some(v) => parse_bool(v).unwrap_or_else(|m| {
            errors.add("online_scheduling", m);
            false
        }),
    };
    errors.into_result()?;
    let db = ctx.state.db.clone();
    let body = db
        .write(move |conn| {
            let mut sql = Sql::new("SELECT t.exam_rooms FROM offices t");
            c.scope(&ctx, &mut sql);
            sql.push(" AND t.id = ?", [Val::from(id)]);
            let row = sql
                .load_one(conn, &[crate::db::Ty::Text])?
                .ok_or(ApiError::NotFound)?;
            let mut rooms: Vec<Value> =
                serde_json::from_str(row[0].as_str().unwrap_or("[]")).unwrap_or_default();
            let index = rooms
                .iter()
                .filter_map(|r| r.get("index")?.as_i64())
                .max()
                .unwrap_or(0)
                + 1;
            rooms.push(json!({"index": index, "name": name, "online_scheduling": online}));
            let mut rec = Record::default();
            rec.set("exam_rooms", Val::from(Value::Array(rooms).to_string()));
            c.update_row(conn, id, &rec)?;
            c.fetch_json(conn, &ctx, id, true)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}
