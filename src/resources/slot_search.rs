//! Slot search (from the OfficePro partner API's availability calls), DrChrono-style under the
//! doctor: GET /api/doctors/:id/open_slots?date=&duration= (every opening on a date),
//! /check_slot?scheduled_time=&duration= (is this one free?) and
//! /next_open_slot?duration=&max_days= (the first opening from now). Openings come from the
//! doctor's appointment templates, the offices' hours and booked appointments (slots.rs).
//! Needs the calendar scope and the Access Scheduling permission.

use serde_json::json;

use crate::api::action::{Action, Answer, Method, Read, Reply, Run};
use crate::api::auth::{Perm, Scope};
use crate::api::resource::Field;
use crate::db::Val;
use crate::error::ApiError;
use crate::resources::appointment_templates::slots;

const DOC: &str = "Derived from appointment templates, office hours and booked appointments.";

// What every slot search takes.
const DURATION: Field = Field::int("duration")
    .required()
    .doc("Slot length in minutes.");
const OFFICE: Field = Field::int("office").doc("Only this office.");
const STRICT: Field =
    Field::boolean("strict").doc("The doctor cannot be double-booked in another exam room.");

/// The search of doctor `doctor` (seen by the framework) from the common parameters.
fn search(r: &Read, doctor: Option<i64>) -> Result<(slots::Search, i64), ApiError> {
    let duration = r
        .int("duration")
        .filter(|d| (1..=1440).contains(d))
        .ok_or_else(|| {
            ApiError::field("duration", "Give the slot length in minutes (1 to 1440).")
        })?;
    let office = r.params.positive("office")?;
    let q = slots::Search {
        practice_group: r.ctx.practice_group(),
        doctor: doctor.ok_or(ApiError::NotFound)?,
        office,
        strict: r
            .query
            .get("strict")
            .and_then(Val::as_bool)
            .unwrap_or(false),
    };
    Ok((q, duration))
}

const QUERY_OPEN: &[Field] = &[
    DURATION,
    OFFICE,
    STRICT,
    Field::date("date").required().doc("YYYY-MM-DD"),
];
const QUERY_CHECK: &[Field] = &[
    DURATION,
    OFFICE,
    STRICT,
    Field::timestamp("scheduled_time")
        .required()
        .doc("YYYY-MM-DDTHH:MM:SS"),
    Field::int("exam_room").doc("Only this exam room."),
];
const QUERY_NEXT: &[Field] = &[
    DURATION,
    OFFICE,
    STRICT,
    Field::int("max_days").doc("Days to search (default 30, at most 365)."),
];

const SEARCH: Action = Action {
    method: Method::Get,
    write: false,
    access: Some((&[Scope::Calendar], &[Perm::AccessScheduling])),
    doc: DOC,
    answer: Answer::Keys(&[]),
    extension: true,
    ..Action::DEFAULT
};

pub const ACTIONS: &[Action] = &[
    Action {
        path: "/{id}/open_slots",
        name: "open_slots",
        summary: "Every open slot of a doctor on a date",
        query: QUERY_OPEN,
        run: Run::Read(|r, doctor| {
            let (q, duration) = search(r, doctor)?;
            let date = r
                .query
                .get("date")
                .and_then(Val::as_date)
                .ok_or(ApiError::NotFound)?;
            let found = slots::slots(r.conn, &q, date, duration)?;
            let list: Vec<_> = found.iter().map(|s| s.to_json(duration)).collect();
            Ok(Reply::Json(
                json!({"doctor": q.doctor, "date": date.to_string(),
                "duration": duration, "count": list.len(), "slots": list}),
            ))
        }),
        ..SEARCH
    },
    Action {
        path: "/{id}/check_slot",
        name: "check_slot",
        summary: "Whether one slot is free",
        query: QUERY_CHECK,
        run: Run::Read(|r, doctor| {
            let (q, duration) = search(r, doctor)?;
            let start = r
                .query
                .get("scheduled_time")
                .and_then(Val::as_timestamp)
                .ok_or(ApiError::NotFound)?;
            let exam_room = r.params.positive("exam_room")?;
            let slot = slots::check(r.conn, &q, start, duration, exam_room)?;
            Ok(Reply::Json(json!({
                "doctor": q.doctor,
                "scheduled_time": start.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "duration": duration,
                "available": slot.is_some(),
                "slot": slot.map(|s| s.to_json(duration)),
            })))
        }),
        ..SEARCH
    },
    Action {
        path: "/{id}/next_open_slot",
        name: "next_open_slot",
        summary: "The doctor's next open slot from now",
        query: QUERY_NEXT,
        run: Run::Read(|r, doctor| {
            let (q, duration) = search(r, doctor)?;
            let max_days = r.params.positive("max_days")?.unwrap_or(30);
            if max_days > 365 {
                return Err(ApiError::field(
                    "max_days",
                    "Search at most 365 days ahead.",
                ));
            }
            let slot = slots::next(r.conn, &q, duration, max_days)?;
            Ok(Reply::Json(
                json!({"doctor": q.doctor, "duration": duration,
                "search_window_days": max_days, "slot": slot.map(|s| s.to_json(duration))}),
            ))
        }),
        ..SEARCH
    },
];
