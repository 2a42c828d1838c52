//! Open time, derived from appointment templates, office hours and booked appointments: the
//! templates' `open_slots`, and the slot search endpoints (the OfficePro partner API's
//! availability calls, DrChrono-style): /api/doctors/:id/open_slots, /check_slot and
//! /next_open_slot.
//!
//! A template is a block of time on some week days in one office and exam room. Its free
//! intervals are the block, clipped to the office's hours, minus the doctor's live
//! appointments in that room (in any room when `strict`). Slots of a duration are cut from the
//! start of each free interval.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{json, Value};

use crate::api::compiled::now;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::ApiError;

const FMT: &str = "%Y-%m-%dT%H:%M:%S";

/// One template's block of time on a date.
#[derive(Clone, Debug)]
pub struct Block {
    pub template: i64,
    pub doctor: i64,
    pub office: i64,
    pub exam_room: i64,
    /// The template's profile's duration: the shortest useful opening.
    pub profile_duration: i64,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

fn time_of(s: &str) -> Option<NaiveTime> {
    if s.starts_with("24:") {
        return None; // end of day, handled by the caller
    }
    NaiveTime::parse_from_str(s, "%H:%M:%S").ok()
}

/// The template blocks of `date` (0 = Monday in week_days), clipped to office hours.
pub fn blocks(
    conn: &mut Conn,
    practice_group: i64,
    date: NaiveDate,
    doctor: Option<i64>,
    office: Option<i64>,
    template: Option<i64>,
) -> Result<Vec<Block>, ApiError> {
    let mut sql = Sql::new(
        "SELECT t.id, t.doctor, t.office, t.exam_room, t.scheduled_time, t.duration, t.week_days, \
         p.duration, o.start_time, o.end_time FROM appointment_templates t \
         JOIN appointment_profiles p ON p.id = t.profile JOIN offices o ON o.id = t.office \
         WHERE t.practice_group_id = ? AND t.archived = ? AND o.archived = ?",
    )
    .bind(practice_group)
    .bind(false)
    .bind(false);
    for (col, v) in [
        ("t.doctor", doctor),
        ("t.office", office),
        ("t.id", template),
    ] {
        if let Some(v) = v {
            sql.push(&format!(" AND {col} = ?"), [Val::from(v)]);
        }
    }
    sql.push(" ORDER BY t.scheduled_time, t.id", []);
    let tys = [
        Ty::Int,
        Ty::Int,
        Ty::Int,
        Ty::Int,
        Ty::Text,
        Ty::Int,
        Ty::Text,
        Ty::Int,
        Ty::Text,
        Ty::Text,
    ];
    let weekday = date.weekday().num_days_from_monday() as i64;
    let day_start = date.and_time(NaiveTime::MIN);
    let day_end = day_start + Duration::days(1);
    let mut out = Vec::new();
    for r in sql.load(conn, &tys)? {
        let days: Vec<i64> =
            serde_json::from_str(r[6].as_str().unwrap_or("[]")).unwrap_or_default();
        if !days.contains(&weekday) {
            continue;
        }
        let Some(start_time) = r[4].as_str().and_then(time_of) else {
            continue;
        };
        let start = date.and_time(start_time);
        let end = start + Duration::minutes(r[5].as_i64().unwrap_or(0));
        let open = r[8]
            .as_str()
            .and_then(time_of)
            .map(|t| date.and_time(t))
            .unwrap_or(day_start);
        let close = r[9]
            .as_str()
            .and_then(time_of)
            .map(|t| date.and_time(t))
            .unwrap_or(day_end);
        let (start, end) = (start.max(open), end.min(close));
        if start < end {
            out.push(Block {
                template: r[0].as_i64().unwrap_or_default(),
                doctor: r[1].as_i64().unwrap_or_default(),
                office: r[2].as_i64().unwrap_or_default(),
                exam_room: r[3].as_i64().unwrap_or_default(),
                profile_duration: r[7].as_i64().unwrap_or(1).max(1),
                start,
                end,
            });
        }
    }
    Ok(out)
}

/// Live appointments of `doctor` meeting [from, to): (office, exam room, start, end).
fn booked(
    conn: &mut Conn,
    practice_group: i64,
    doctor: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(i64, i64, NaiveDateTime, NaiveDateTime)>, ApiError> {
    let rows = Sql::new(
        "SELECT t.office, t.exam_room, t.scheduled_time, t.ends_at FROM appointments t \
         WHERE t.practice_group_id = ? AND t.doctor = ? AND t.archived = ? AND t.deleted_flag = ? \
         AND t.status NOT IN ('Cancelled', 'Rescheduled', 'No Show') \
         AND t.scheduled_time < ? AND t.ends_at > ? ORDER BY t.scheduled_time",
    )
    .bind(practice_group)
    .bind(doctor)
    .bind(false)
    .bind(false)
    .bind(to)
    .bind(from)
    .load(conn, &[Ty::Int, Ty::Int, Ty::Timestamp, Ty::Timestamp])?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r[0].as_i64()?,
                r[1].as_i64()?,
                r[2].as_timestamp()?,
                r[3].as_timestamp()?,
            ))
        })
        .collect())
}

/// The free intervals of a block (the block minus the doctor's bookings in its room, or in
/// any room when `strict`).
pub fn free(
    conn: &mut Conn,
    practice_group: i64,
    block: &Block,
    strict: bool,
) -> Result<Vec<(NaiveDateTime, NaiveDateTime)>, ApiError> {
    let mut busy: Vec<(NaiveDateTime, NaiveDateTime)> =
        booked(conn, practice_group, block.doctor, block.start, block.end)?
            .into_iter()
            .filter(|(office, room, _, _)| {
                strict || (*office == block.office && *room == block.exam_room)
            })
            .map(|(_, _, s, e)| (s, e))
            .collect();
    busy.sort();
    let mut out = Vec::new();
    let mut cursor = block.start;
    for (s, e) in busy {
        if s > cursor {
            out.push((cursor, s.min(block.end)));
        }
        cursor = cursor.max(e);
        if cursor >= block.end {
            break;
        }
    }
    if cursor < block.end {
        out.push((cursor, block.end));
    }
    Ok(out)
}

/// A template's openings long enough for its profile, as [{"start", "end"}].
pub fn open_slots(
    conn: &mut Conn,
    practice_group: i64,
    block: &Block,
    strict: bool,
) -> Result<Vec<Value>, ApiError> {
    Ok(free(conn, practice_group, block, strict)?
        .into_iter()
        .filter(|(s, e)| (*e - *s).num_minutes() >= block.profile_duration)
        .map(|(s, e)| json!({"start": s.format(FMT).to_string(), "end": e.format(FMT).to_string()}))
        .collect())
}

/// A bookable start: where, when.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub start: NaiveDateTime,
    pub office: i64,
    pub exam_room: i64,
}

impl Slot {
    pub fn to_json(&self, duration: i64) -> Value {
        json!({
            "scheduled_time": self.start.format(FMT).to_string(),
            "end_time": (self.start + Duration::minutes(duration)).format(FMT).to_string(),
            "office": self.office,
            "exam_room": self.exam_room,
        })
    }
}

/// Whose openings are searched, and how.
#[derive(Clone, Copy, Debug)]
pub struct Search {
    pub practice_group: i64,
    pub doctor: i64,
    /// Only this office.
    pub office: Option<i64>,
    /// The doctor cannot be double-booked in another exam room either.
    pub strict: bool,
}

/// Every slot of `duration` minutes on `date`, in time order.
pub fn slots(
    conn: &mut Conn,
    q: &Search,
    date: NaiveDate,
    duration: i64,
) -> Result<Vec<Slot>, ApiError> {
    let mut out = Vec::new();
    for block in blocks(conn, q.practice_group, date, Some(q.doctor), q.office, None)? {
        for (s, e) in free(conn, q.practice_group, &block, q.strict)? {
            let mut t = s;
            while t + Duration::minutes(duration) <= e {
                out.push(Slot {
                    start: t,
                    office: block.office,
                    exam_room: block.exam_room,
                });
                t += Duration::minutes(duration);
            }
        }
    }
    out.sort_by_key(|s| (s.start, s.office, s.exam_room));
    out.dedup();
    Ok(out)
}

/// Whether [start, start + duration) is free inside one of the doctor's template blocks.
pub fn check(
    conn: &mut Conn,
    q: &Search,
    start: NaiveDateTime,
    duration: i64,
    exam_room: Option<i64>,
) -> Result<Option<Slot>, ApiError> {
    let end = start + Duration::minutes(duration);
    for block in blocks(
        conn,
        q.practice_group,
        start.date(),
        Some(q.doctor),
        q.office,
        None,
    )? {
        if exam_room.is_some_and(|r| r != block.exam_room) {
            continue;
        }
        let fits = free(conn, q.practice_group, &block, q.strict)?
            .iter()
            .any(|(s, e)| *s <= start && end <= *e);
        if fits {
            return Ok(Some(Slot {
                start,
                office: block.office,
                exam_room: block.exam_room,
            }));
        }
    }
    Ok(None)
}

/// The first slot starting at or after now, within `max_days` days.
pub fn next(
    conn: &mut Conn,
    q: &Search,
    duration: i64,
    max_days: i64,
) -> Result<Option<Slot>, ApiError> {
    let from = now();
    for day in 0..max_days {
        let date = from.date() + Duration::days(day);
        let found = slots(conn, q, date, duration)?
            .into_iter()
            .find(|s| s.start >= from);
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}
