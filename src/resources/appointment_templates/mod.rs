//! /api/appointment_templates: blocks of time a doctor keeps for appointments of one profile
//! on some week days ("Appointment Templates"). With `available=DATE` (and `office`) a list
//! keeps the templates with an opening long enough for their profile that day, and with
//! verbose=true fills `open_slots`. `slots.rs` computes openings, also for the slot search.

pub mod slots;

use chrono::NaiveDate;
use serde_json::Value;

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::compiled::Output;
use crate::api::fields::parse_date;
use crate::api::filters::Params;
use crate::api::resource::{Field, Filter, FilterKind, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Conn, Sql, Val};
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "appointment_templates",
    name: "AppointmentTemplate",
    doc: "Appointment templates: blocks of time on a doctor's calendar.",
    scopes: &[Scope::Calendar, Scope::Settings],
    permissions: &[Perm::AccessScheduling, Perm::Settings],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::AppointmentProfiles),
    fields: &[
        Field::id(),
        Field::int("doctor")
            .read_only()
            .doc("The profile's doctor (extension)."),
        Field::reference("office", "offices").required(),
        Field::int("exam_room")
            .required()
            .doc("1-based index of the office's exam room."),
        Field::reference("profile", "appointment_profiles")
            .required()
            .doc("The appointment profile to default to."),
        Field::time("scheduled_time")
            .required()
            .doc("When the block starts each day."),
        Field::int("duration")
            .range(1, 1440)
            .required()
            .doc("Length of the block in minutes."),
        Field::ints("week_days")
            .required()
            .doc("0 = Monday, ..., 6 = Sunday."),
        Field::objects("open_slots").verbose().sql("'[]'").doc(
            "[{\"start\", \"end\"}] openings long enough for the profile; computed only when \
             the available and verbose parameters are given.",
        ),
        Field::boolean("archived").read_only(),
    ],
    filters: &[
        Filter::new("available", "id", FilterKind::Custom(Kind::Date))
            .needs("office")
            .doc(
                "Only templates with an opening at least as long as their profile's duration on \
                 this date. Needs office.",
            ),
        Filter::eq("doctor", Kind::Int),
        Filter::eq("office", Kind::Int),
        Filter::eq("profile", Kind::Int),
        Filter::new("strict", "id", FilterKind::Custom(Kind::Str)).doc(
            "With available: the doctor cannot be double-booked even in different exam rooms.",
        ),
        // week_days is a JSON list of single digits, so a digit matches exactly one day.
        Filter::sql(
            "week_day",
            FilterKind::WhereAny {
                sql: "t.week_days LIKE '%' || ? || '%'",
                kind: Kind::Int,
            },
        )
        .range(0, 6)
        .doc("Comma-separated week days (0 = Monday, ..., 6 = Sunday)."),
    ],
    hooks: &TemplateHooks,
    ..Resource::DEFAULT
};

struct TemplateHooks;

fn available_date(params: &Params) -> Result<Option<NaiveDate>, ApiError> {
    match params.get("available").filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(s)
            .map(Some)
            .map_err(|e| ApiError::field("available", e)),
    }
}

impl Hooks for TemplateHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if let Some(raw) = w.rec.get("week_days").and_then(Val::as_str) {
            let days: Vec<i64> = serde_json::from_str(raw).unwrap_or_default();
            if days.is_empty() || days.iter().any(|d| !(0..=6).contains(d)) {
                w.errors.add(
                    "week_days",
                    "Give one or more week days, 0 (Monday) to 6 (Sunday).",
                );
            } else {
                let mut days = days;
                days.sort_unstable();
                days.dedup();
                w.rec.set(
                    "week_days",
                    Val::from(serde_json::to_string(&days).unwrap_or_default()),
                );
            }
        }
        if let Some(d) = w.rec.get("duration").and_then(Val::as_i64) {
            if !(1..=1440).contains(&d) {
                w.errors.add(
                    "duration",
                    "Ensure this value is between 1 and 1440 minutes.",
                );
            }
        }
        // The template belongs to its profile's doctor.
        if let Some(profile) = w.rec.get("profile").and_then(Val::as_i64) {
            let doctor = Sql::new("SELECT t.doctor FROM appointment_profiles t WHERE t.id = ? AND t.practice_group_id = ?")
                .bind(profile)
                .bind(w.ctx.practice_group())
                .load_i64(w.conn)?;
            if let Some(doctor) = doctor {
                w.rec.set("doctor", Val::from(doctor));
            }
        }
        let get = |k: &str| {
            w.rec
                .get(k)
                .or_else(|| w.current.and_then(|c| c.get(k)))
                .and_then(Val::as_i64)
        };
        if let (Some(office), Some(room)) = (get("office"), get("exam_room")) {
            if !w.errors.has("office") {
                crate::domain::check_exam_room(w.conn, w.ctx, office, room, w.errors)?;
            }
        }
        Ok(())
    }

    fn after_list(
        &self,
        ctx: &Ctx,
        conn: &mut Conn,
        params: &Params,
        out: &Output,
        rows: &mut Vec<Vec<Val>>,
    ) -> Result<(), ApiError> {
        let Some(date) = available_date(params)? else {
            return Ok(());
        };
        let strict = params.get("strict").is_some();
        let id_at = out.index_of("id").unwrap_or(0);
        let slots_at = out.index_of("open_slots");
        let mut kept = Vec::with_capacity(rows.len());
        for mut row in rows.drain(..) {
            let id = row[id_at].as_i64();
            let block = slots::blocks(conn, ctx.practice_group(), date, None, None, id)?;
            let mut open = Vec::new();
            for b in &block {
                open.extend(slots::open_slots(conn, ctx.practice_group(), b, strict)?);
            }
            if open.is_empty() {
                continue;
            }
            if let Some(i) = slots_at {
                row[i] = Val::from(Value::Array(open).to_string());
            }
            kept.push(row);
        }
        *rows = kept;
        Ok(())
    }
}
