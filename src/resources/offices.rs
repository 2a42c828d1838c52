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
use crate::api::resource::{Field, Hooks, Key, Resource, Verbs};
use crate::api::Write;
use crate::db::{Sql, Ty, Val};
use crate::error::ApiError;

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
        Field::objects("online_timeslots")
            .keys(TIMESLOT)
            .verbose()
            .doc("Start before end."),
        Field::objects("exam_rooms").keys(EXAM_ROOM).read_only(),
        Field::boolean("archived")
            .read_only()
            .doc("Soft-deleted; should not be used."),
    ],
    actions: &[ADD_EXAM_ROOM],
    hooks: &OfficeHooks,
    ..Resource::DEFAULT
};

const TIMESLOT: &[Key] = &[
    Key::int_in("weekday", 0, 6).required().doc("Monday=0."),
    Key::time("start_time").required(),
    Key::time("end_time").required(),
];

const EXAM_ROOM: &[Key] = &[
    Key::int("index").doc("Appointments name their room by this."),
    Key::text("name"),
    Key::boolean("online_scheduling"),
];

struct OfficeHooks;

impl Hooks for OfficeHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let Some(raw) = w.rec.get("online_timeslots").and_then(Val::as_str) else {
            return Ok(());
        };
        let slots: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
        if let Some(i) = slots
            .iter()
            .position(|s| s["start_time"].as_str() >= s["end_time"].as_str())
        {
            w.errors.add(
                "online_timeslots",
                format!("Item {i}: start_time must be before end_time."),
            );
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
