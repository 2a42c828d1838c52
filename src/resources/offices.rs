//! /api/offices: the practice group's offices ("Offices"), GET and PATCH (only
//! online_scheduling and online_timeslots are writable), and
//! POST /api/offices/:id/add_exam_room, answering the whole updated office.
//! `chartd office create` makes offices.
//!
//! exam_rooms is a list of {"index", "name", "online_scheduling"}; appointments name a room by
//! its index. online_timeslots (verbose-only) is a list of
//! {"weekday" (0 = Monday .. 6), "start_time", "end_time"} during which online scheduling is open.

use serde_json::{json, Value};

use crate::api::action::{Action, Method, Reply, Run};
use crate::api::auth::Scope;
use crate::api::fields::parse_time;
use crate::api::resource::{Field, Hooks, Resource, Verbs};
use crate::api::Write;
use crate::db::{Sql, Ty, Val};
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
    actions: &[ADD_EXAM_ROOM],
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
}

/// POST /api/offices/{id}/add_exam_room {"name", "online_scheduling"}.
const ADD_EXAM_ROOM: Action = Action {
    method: Method::Post,
    path: "/{id}/add_exam_room",
    name: "add_exam_room",
    summary: "Add an exam room; answers the whole updated office",
    answer_doc: "The office.",
    body: &[
        Field::string("name").required().not_blank(),
        Field::boolean("online_scheduling"),
    ],
    run: Run::Write(|w, body, id| {
        let stored = Sql::new("SELECT t.exam_rooms FROM offices t WHERE t.id = ?")
            .bind(id)
            .load_one(w.conn, &[Ty::Text])?
            .and_then(|row| row[0].as_str().map(str::to_string));
        let mut rooms: Vec<Value> =
            serde_json::from_str(stored.as_deref().unwrap_or("[]")).unwrap_or_default();
        let index = rooms
            .iter()
            .filter_map(|r| r.get("index")?.as_i64())
            .max()
            .unwrap_or(0)
            + 1;
        let name = body.get("name").and_then(Val::as_str).unwrap_or_default();
        let online = body.get("online_scheduling").and_then(Val::as_bool);
        rooms.push(json!({"index": index, "name": name.trim(), "online_scheduling": online.unwrap_or(false)}));
        w.set("exam_rooms", Value::Array(rooms).to_string());
        Ok(Reply::Object(id))
    }),
    ..Action::DEFAULT
};
