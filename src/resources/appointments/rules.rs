//! The appointment rules the declaration cannot say: profile defaults, breaks, exam rooms,
//! the overlap check (409, race-free), status transitions, reminder profiles, custom fields,
//! vitals and custom vitals, insurer copies, external ids, and the patient's office list.

use chrono::Duration;
use serde_json::{json, Value};

use crate::api::compiled::now;
use crate::api::resource::{Hooks, Key, Op, Record};
use crate::api::Write;
use crate::db::{Conn, Sql, Ty, Val};
use crate::domain::custom_values::CustomValues;
use crate::error::ApiError;

pub struct AppointmentHooks;

/// Statuses that free the slot: such appointments never conflict.
const INACTIVE: &[&str] = &["Cancelled", "Rescheduled", "No Show"];

/// Keys of the `vitals` object.
pub const VITALS: &[Key] = &[
    Key::number("height"),
    Key::text("height_units"),
    Key::number("weight"),
    Key::text("weight_units"),
    Key::number("bmi"),
    Key::number("blood_pressure_1"),
    Key::number("blood_pressure_2"),
    Key::number("temperature"),
    Key::text("temperature_units"),
    Key::number("pulse"),
    Key::number("respiratory_rate"),
    Key::number("oxygen_saturation"),
    Key::number("pain"),
    Key::number("head_circumference"),
    Key::text("head_circumference_units"),
    Key::text("smoking_status"),
];

/// A key's value after this write: the new one if given, else the stored one.
fn value<'a>(rec: &'a Record, current: Option<&'a Record>, key: &str) -> Option<&'a Val> {
    rec.get(key).or_else(|| current.and_then(|c| c.get(key)))
}

fn text(v: Option<&Val>) -> String {
    v.and_then(Val::as_str).unwrap_or("").to_string()
}

/// The advisory-lock key under which one doctor's bookings are checked and written.
pub fn doctor_lock_key(doctor: i64) -> i64 {
    (0x4150_5054_i64 << 32) | (doctor & 0xffff_ffff)
}

/// The id of a live appointment of `doctor` in `office`/`exam_room` overlapping
/// [start, end), other than `except`.
pub fn overlapping(
    conn: &mut Conn,
    practice_group: i64,
    doctor: i64,
    office: i64,
    exam_room: Option<i64>,
    (start, end): (chrono::NaiveDateTime, chrono::NaiveDateTime),
    except: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let mut sql = Sql::new(
        "SELECT t.id FROM appointments t WHERE t.practice_group_id = ? AND t.doctor = ? \
         AND t.office = ? AND t.archived = ? AND t.deleted_flag = ? \
         AND t.scheduled_time < ? AND t.ends_at > ? AND t.status NOT IN (?, ?, ?)",
    );
    sql.binds = vec![
        practice_group.into(),
        doctor.into(),
        office.into(),
        false.into(),
        false.into(),
        end.into(),
        start.into(),
    ];
    sql.binds.extend(INACTIVE.iter().map(|s| Val::from(*s)));
    if let Some(room) = exam_room {
        sql.push(" AND t.exam_room = ?", [Val::from(room)]);
    }
    if let Some(id) = except {
        sql.push(" AND t.id <> ?", [Val::from(id)]);
    }
    sql.push(" ORDER BY t.scheduled_time LIMIT 1", []);
    Ok(sql.load_i64(conn)?)
}

/// `custom_fields`: values for the practice's custom appointment fields.
const CUSTOM_FIELDS: CustomValues = CustomValues {
    table: "custom_appointment_fields",
    noun: "custom appointment field",
    type_key: "field_type",
    value_key: "field_value",
    data_type: "'text'",
    allowed: "'[]'",
};

/// `custom_vitals`: values for the practice's custom vitals.
const CUSTOM_VITALS: CustomValues = CustomValues {
    table: "custom_vitals",
    noun: "custom vital",
    type_key: "vital_type",
    value_key: "value",
    data_type: "t.data_type",
    allowed: "t.allowed_values",
};

impl Hooks for AppointmentHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        let id = w.current.and_then(|c| c.get("id")).and_then(Val::as_i64);
        let reminder_profile = w.rec.remove("reminder_profile").and_then(|v| v.as_i64());

        // Profile defaults for duration, color and reason (explicit values win), on creation.
        if let (None, Some(profile)) = (w.current, w.rec.get("profile").and_then(Val::as_i64)) {
            let row = Sql::new(
                "SELECT t.duration, t.color, t.reason FROM appointment_profiles t \
                 WHERE t.id = ? AND t.practice_group_id = ?",
            )
            .bind(profile)
            .bind(w.ctx.practice_group())
            .load_one(w.conn, &[Ty::Int, Ty::Text, Ty::Text])?;
            for (key, v) in ["duration", "color", "reason"]
                .into_iter()
                .zip(row.unwrap_or_default())
            {
                if !w.rec.given(key) {
                    w.rec.set(key, v);
                }
            }
        }

        let start = value(w.rec, w.current, "scheduled_time").and_then(Val::as_timestamp);
        let minutes = value(w.rec, w.current, "duration").and_then(Val::as_i64);
        // The declaration bounds a given duration (1 to 1440); a profile's is bounded too.
        if minutes.is_none() {
            w.errors.add(
                "duration",
                "This field is required unless a profile gives it.",
            );
        }
        if let (Some(start), Some(m)) = (start, minutes) {
            w.rec
                .set("ends_at", Val::from(start + Duration::minutes(m)));
        }
        let patient = value(w.rec, w.current, "patient").and_then(Val::as_i64);
        if w.rec.given("patient") || w.current.is_none() {
            w.rec.set("appt_is_break", Val::from(patient.is_none()));
        }

        // The exam room is an index of the office's rooms.
        let office = value(w.rec, w.current, "office").and_then(Val::as_i64);
        let room = value(w.rec, w.current, "exam_room").and_then(Val::as_i64);
        if let (Some(office), Some(room)) = (office, room) {
            if !w.errors.has("office") && (w.rec.given("exam_room") || w.rec.given("office")) {
                crate::domain::check_exam_room(w.conn, w.ctx, office, room, w.errors)?;
            }
        }

        // Nested values.
        if let Some(raw) = w
            .rec
            .get("custom_fields")
            .and_then(Val::as_str)
            .map(str::to_string)
        {
            match CUSTOM_FIELDS.check(w.ctx, w.conn, &raw)? {
                Ok(clean) => w.rec.set("custom_fields", Val::from(clean)),
                Err(msg) => w.errors.add("custom_fields", msg),
            }
        }
        if let Some(raw) = w
            .rec
            .get("custom_vitals")
            .and_then(Val::as_str)
            .map(str::to_string)
        {
            match CUSTOM_VITALS.check(w.ctx, w.conn, &raw)? {
                Ok(clean) => w.rec.set("custom_vitals", Val::from(clean)),
                Err(msg) => w.errors.add("custom_vitals", msg),
            }
        }

        // Stored values this write needs and the record does not carry.
        let stored = match id {
            Some(id) => Sql::new(
                "SELECT t.status_transitions, t.reminders FROM appointments t WHERE t.id = ?",
            )
            .bind(id)
            .load_one(w.conn, &[Ty::Text, Ty::Text])?
            .unwrap_or_default(),
            None => vec![],
        };
        let stored_text = |i: usize| {
            stored
                .get(i)
                .and_then(Val::as_str)
                .unwrap_or("[]")
                .to_string()
        };

        // A reminder profile's reminders, unless the appointment has reminders already.
        if let Some(profile) = reminder_profile {
            if stored_text(1) != "[]" {
                w.errors.add("reminder_profile", "Cannot be applied to an appointment with reminders.");
            } else if let Some(row) = Sql::new("SELECT t.reminders FROM reminder_profiles t WHERE t.id = ? AND t.practice_group_id = ?")
                .bind(profile)
                .bind(w.ctx.practice_group())
                .load_one(w.conn, &[Ty::Text])?
            {
                w.rec.set("reminders", row[0].clone());
            }
        }

        // Every status change is recorded.
        let old_status = text(w.current.and_then(|c| c.get("status")));
        let new_status = text(value(w.rec, w.current, "status"));
        if new_status != old_status {
            let mut transitions: Vec<Value> =
                serde_json::from_str(&stored_text(0)).unwrap_or_default();
            transitions.push(json!({
                "from_status": old_status,
                "to_status": new_status,
                "datetime": now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            }));
            w.rec.set(
                "status_transitions",
                Val::from(Value::Array(transitions).to_string()),
            );
        }

        // The patient's insurers, copied when the appointment gets its patient.
        if w.rec.given("patient") || w.current.is_none() {
            let row = match patient {
                Some(p) => Sql::new("SELECT t.primary_insurance, t.secondary_insurance FROM patients t WHERE t.id = ? AND t.practice_group_id = ?")
                    .bind(p)
                    .bind(w.ctx.practice_group())
                    .load_one(w.conn, &[Ty::Text, Ty::Text])?
                    .unwrap_or_default(),
                None => vec![],
            };
            for (i, prefix) in ["primary", "secondary"].iter().enumerate() {
                let ins: Value = row
                    .get(i)
                    .and_then(Val::as_str)
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_default();
                let get = |k: &str| {
                    Val::from(ins.get(k).and_then(Value::as_str).unwrap_or("").to_string())
                };
                w.rec.set(
                    if i == 0 {
                        "primary_insurer_payer_id"
                    } else {
                        "secondary_insurer_payer_id"
                    },
                    get("insurance_payer_id"),
                );
                w.rec.set(
                    if i == 0 {
                        "primary_insurer_name"
                    } else {
                        "secondary_insurer_name"
                    },
                    get("insurance_company"),
                );
                w.rec.set(
                    if i == 0 {
                        "primary_insurance_id_number"
                    } else {
                        "secondary_insurance_id_number"
                    },
                    get("insurance_id_number"),
                );
                let _ = prefix;
            }
        }

        if !w.errors.is_empty() {
            return Ok(());
        }

        crate::domain::check_external_id(w.conn, w.ctx, "appointments", "Appointment", w.rec, id)?;

        // The overlap rule, checked under a per-doctor lock so concurrent bookings serialize.
        let timing_changed = [
            "scheduled_time",
            "duration",
            "doctor",
            "office",
            "exam_room",
            "allow_overlapping",
            "status",
            "profile",
        ]
        .iter()
        .any(|k| w.rec.given(k))
            || w.op == Op::Create;
        let allow = value(w.rec, w.current, "allow_overlapping")
            .and_then(Val::as_bool)
            .unwrap_or(false);
        let doctor = value(w.rec, w.current, "doctor").and_then(Val::as_i64);
        if timing_changed && !allow && !INACTIVE.contains(&new_status.as_str()) {
            if let (Some(doctor), Some(office), Some(start), Some(m)) =
                (doctor, office, start, minutes)
            {
                w.conn.lock_key(doctor_lock_key(doctor))?;
                let range = (start, start + Duration::minutes(m));
                if let Some(other) = overlapping(
                    w.conn,
                    w.ctx.practice_group(),
                    doctor,
                    office,
                    room,
                    range,
                    id,
                )? {
                    return Err(ApiError::Conflict(
                        format!(
                            "This appointment overlaps appointment {other} of the same doctor in the \
                             same exam room. Set allow_overlapping to book it anyway."
                        ),
                        Some(json!({"conflicting_appointment": other})),
                    ));
                }
            }
        }
        Ok(())
    }

    fn after_write(&self, w: &mut Write, id: i64) -> Result<(), ApiError> {
        if w.op == Op::Destroy {
            Sql::new("UPDATE appointments SET deleted_flag = ? WHERE id = ?")
                .bind(true)
                .bind(id)
                .execute(w.conn)?;
            return Ok(());
        }
        // The patient's `offices`: every office they have had an appointment at.
        let row = Sql::new("SELECT t.patient, t.office FROM appointments t WHERE t.id = ?")
            .bind(id)
            .load_one(w.conn, &[Ty::Int, Ty::Int])?
            .unwrap_or_default();
        if let (Some(patient), Some(office)) = (
            row.first().and_then(Val::as_i64),
            row.get(1).and_then(Val::as_i64),
        ) {
            let offices = Sql::new(
                "SELECT t.offices FROM patients t WHERE t.id = ? AND t.practice_group_id = ?",
            )
            .bind(patient)
            .bind(w.ctx.practice_group())
            .load_one(w.conn, &[Ty::Text])?
            .and_then(|r| r[0].as_str().map(str::to_string))
            .unwrap_or_else(|| "[]".into());
            let mut list: Vec<i64> = serde_json::from_str(&offices).unwrap_or_default();
            if !list.contains(&office) {
                list.push(office);
                list.sort_unstable();
                Sql::new("UPDATE patients SET offices = ? WHERE id = ?")
                    .bind(serde_json::to_string(&list).unwrap_or_default())
                    .bind(patient)
                    .execute(w.conn)?;
                // The patient's `offices` changed: a modification of the patient.
                crate::api::events::raise_change(
                    w.conn,
                    w.ctx,
                    w.ctx.compiled(&crate::resources::patients::RESOURCE),
                    crate::api::resource::Change::Modify,
                    patient,
                )?;
            }
        }
        Ok(())
    }
}
