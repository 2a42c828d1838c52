//! Slot search (from the OfficePro partner API's availability calls), DrChrono-style under the
//! doctor: GET /api/doctors/:id/open_slots?date=&duration= (every opening on a date),
//! /check_slot?scheduled_time=&duration= (is this one free?) and
//! /next_open_slot?duration=&max_days= (the first opening from now). Openings come from the
//! doctor's appointment templates, the offices' hours and booked appointments (slots.rs).
//! Needs the calendar scope and the Access Scheduling permission.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Required, ResponseBuilder};

use crate::api::auth::{check_access, Perm, Scope};
use crate::api::fields::{parse_date, parse_timestamp};
use crate::api::filters::Params;
use crate::api::Ctx;
use crate::db::Sql;
use crate::error::ApiError;
use crate::resources::appointment_templates::slots;

const SCOPES: &[Scope] = &[Scope::Calendar];
const PERMS: &[Perm] = &[Perm::AccessScheduling];

/// The common parameters: duration (required), office (optional), strict (flag).
fn common(params: &Params) -> Result<(i64, Option<i64>, bool), ApiError> {
    let duration = params
        .positive("duration")?
        .filter(|d| *d <= 1440)
        .ok_or_else(|| {
            ApiError::field("duration", "Give the slot length in minutes (1 to 1440).")
        })?;
    Ok((
        duration,
        params.positive("office")?,
        params.get("strict").is_some(),
    ))
}

async fn run<F>(ctx: Ctx, doctor: i64, f: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut crate::db::Conn, i64) -> Result<serde_json::Value, ApiError> + Send + 'static,
{
    // `f` gets the caller's practice group once the doctor is known to be in it.
    check_access(&ctx.user, SCOPES, PERMS, false)?;
    let group = ctx.practice_group();
    let body = ctx
        .state
        .db
        .run(move |conn| {
            let found =
                Sql::new("SELECT t.id FROM doctors t WHERE t.id = ? AND t.practice_group_id = ?")
                    .bind(doctor)
                    .bind(group)
                    .load_i64(conn)?;
            found.ok_or(ApiError::NotFound)?;
            f(conn, group)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn open_slots(
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    let (duration, office, strict) = common(&params)?;
    let date = params
        .get("date")
        .ok_or_else(|| ApiError::field("date", "This parameter is required."))?;
    let date = parse_date(date).map_err(|e| ApiError::field("date", e))?;
    let doctor = id.into_inner();
    run(ctx, doctor, move |conn, group| {
        let q = slots::Search { practice_group: group, doctor, office, strict };
        let found = slots::slots(conn, &q, date, duration)?;
        let list: Vec<_> = found.iter().map(|s| s.to_json(duration)).collect();
        Ok(json!({"doctor": doctor, "date": date.to_string(), "duration": duration, "count": list.len(), "slots": list}))
    })
    .await
}

async fn check_slot(
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    let (duration, office, strict) = common(&params)?;
    let start = params
        .get("scheduled_time")
        .ok_or_else(|| ApiError::field("scheduled_time", "This parameter is required."))?;
    let start = parse_timestamp(start).map_err(|e| ApiError::field("scheduled_time", e))?;
    let exam_room = params.positive("exam_room")?;
    let doctor = id.into_inner();
    run(ctx, doctor, move |conn, group| {
        let q = slots::Search {
            practice_group: group,
            doctor,
            office,
            strict,
        };
        let slot = slots::check(conn, &q, start, duration, exam_room)?;
        Ok(json!({
            "doctor": doctor,
            "scheduled_time": start.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "duration": duration,
            "available": slot.is_some(),
            "slot": slot.map(|s| s.to_json(duration)),
        }))
    })
    .await
}

async fn next_open_slot(
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string());
    let (duration, office, strict) = common(&params)?;
    let max_days = params.positive("max_days")?.unwrap_or(30);
    if max_days > 365 {
        return Err(ApiError::field(
            "max_days",
            "Search at most 365 days ahead.",
        ));
    }
    let doctor = id.into_inner();
    run(ctx, doctor, move |conn, group| {
        let q = slots::Search {
            practice_group: group,
            doctor,
            office,
            strict,
        };
        let slot = slots::next(conn, &q, duration, max_days)?;
        Ok(
            json!({"doctor": doctor, "duration": duration, "search_window_days": max_days,
                  "slot": slot.map(|s| s.to_json(duration))}),
        )
    })
    .await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id:\\d+}/open_slots", web::get().to(open_slots))
        .route("/{id:\\d+}/check_slot", web::get().to(check_slot))
        .route("/{id:\\d+}/next_open_slot", web::get().to(next_open_slot));
}

fn param(name: &str, t: Type, required: bool, doc: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(if name == "id" {
            ParameterIn::Path
        } else {
            ParameterIn::Query
        })
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .schema(Some(ObjectBuilder::new().schema_type(t)))
        .description(Some(doc))
        .build()
}

pub fn openapi(paths: &mut Paths) {
    let common = || {
        vec![
            param("id", Type::Integer, true, "The doctor."),
            param("duration", Type::Integer, true, "Slot length in minutes."),
            param("office", Type::Integer, false, "Only this office."),
            param(
                "strict",
                Type::Boolean,
                false,
                "The doctor cannot be double-booked in another exam room.",
            ),
        ]
    };
    let ops = [
        (
            "open_slots",
            "Every open slot of a doctor on a date",
            vec![param("date", Type::String, true, "YYYY-MM-DD")],
        ),
        (
            "check_slot",
            "Whether one slot is free",
            vec![
                param("scheduled_time", Type::String, true, "YYYY-MM-DDTHH:MM:SS"),
                param("exam_room", Type::Integer, false, "Only this exam room."),
            ],
        ),
        (
            "next_open_slot",
            "The doctor's next open slot from now",
            vec![param(
                "max_days",
                Type::Integer,
                false,
                "Days to search (default 30, at most 365).",
            )],
        ),
    ];
    for (name, summary, extra) in ops {
        let mut params = common();
        params.extend(extra);
        let op = crate::api::openapi::with_common_errors(
            OperationBuilder::new()
                .operation_id(Some(format!("doctors_{name}")))
                .summary(Some(summary))
                .description(Some("Derived from appointment templates, office hours and booked appointments. Required scopes: calendar. Required permissions: Access Scheduling. A chartd extension."))
                .tag("doctors")
                .parameters(Some(params))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description(summary)
                        .content("application/json", ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::Object))).build())
                        .build(),
                ),
        );
        paths.add_path_operation(
            format!("/api/doctors/{{id}}/{name}"),
            vec![HttpMethod::Get],
            op.build(),
        );
    }
}
