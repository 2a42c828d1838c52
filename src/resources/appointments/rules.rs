//! The appointment rules the declaration cannot say.

use chrono::Duration;

use crate::api::filters::Params;
use crate::api::resource::{Hooks, Op, Record};
use crate::api::Ctx;
use crate::db::{Conn, Sql, Ty, Val};
use crate::error::{ApiError, FieldErrors};

pub struct AppointmentHooks;

/// A key's value after this write: the new one if given, else the stored one.
fn value<'a>(rec: &'a Record, current: Option<&'a Record>, key: &str) -> Option<&'a Val> {
    rec.get(key).or_else(|| current.and_then(|c| c.get(key)))
}

impl Hooks for AppointmentHooks {
    fn validate(
        &self,
        ctx: &Ctx,
        conn: &mut Conn,
        _op: Op,
        rec: &mut Record,
        current: Option<&Record>,
        errors: &mut FieldErrors,
    ) -> Result<(), ApiError> {
        // reminder_profile is an instruction, not a column.
        rec.remove("reminder_profile");

        // Profile defaults for duration, color and reason (explicit values win).
        if let Some(profile) = rec.get("profile").and_then(Val::as_i64) {
            let row = Sql::new(
                "SELECT t.duration, t.color, t.reason FROM appointment_profiles t \
                 WHERE t.id = ? AND t.practice_group_id = ?",
            )
            .bind(profile)
            .bind(ctx.practice_group())
            .load_one(conn, &[Ty::Int, Ty::Text, Ty::Text])?;
            if let Some(row) = row {
                if current.is_none() {
                    for (key, v) in [
                        ("duration", &row[0]),
                        ("color", &row[1]),
                        ("reason", &row[2]),
                    ] {
                        if !rec.given(key) {
                            rec.set(key, v.clone());
                        }
                    }
                }
            }
        }

        let start = value(rec, current, "scheduled_time").and_then(Val::as_timestamp);
        let minutes = value(rec, current, "duration").and_then(Val::as_i64);
        match minutes {
            None => errors.add(
                "duration",
                "This field is required unless a profile gives it.",
            ),
            Some(m) if !(1..=1440).contains(&m) => errors.add(
                "duration",
                "Ensure this value is between 1 and 1440 minutes.",
            ),
            _ => {}
        }
        if let (Some(start), Some(m)) = (start, minutes) {
            rec.set("ends_at", Val::from(start + Duration::minutes(m)));
        }
        if rec.given("patient") || current.is_none() {
            let is_break = value(rec, current, "patient").is_none_or(Val::is_null);
            rec.set("appt_is_break", Val::from(is_break));
        }
        Ok(())
    }

    fn scope_list(&self, _ctx: &Ctx, params: &Params, _sql: &mut Sql) -> Result<(), ApiError> {
        if ["since", "date", "date_range"]
            .iter()
            .all(|p| params.get(p).is_none_or(str::is_empty))
        {
            return Err(ApiError::BadRequest(
                "Listing appointments needs one of the since, date or date_range parameters."
                    .into(),
            ));
        }
        Ok(())
    }
}
