//! Patient rules beyond the declaration (shared with /api/patients_summary).

use serde_json::{json, Value};

use super::nested;
use crate::api::filters::Params;
use crate::api::resource::Hooks;
use crate::api::Ctx;
use crate::api::Write;
use crate::db::{Conn, Sql, Ty, Val};
use crate::domain::custom_values::CustomValues;
use crate::error::ApiError;

pub struct PatientHooks;

/// Payment profiles that need a primary or secondary insurance.
const NEEDS_INSURANCE: &[&str] = &["Insurance", "Auto Accident", "Worker's Comp"];

impl Hooks for PatientHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if w.rec
            .get("patient_photo_date")
            .is_some_and(|v| !v.is_null())
            && w.rec
                .get("patient_photo")
                .and_then(Val::as_str)
                .is_none_or(str::is_empty)
        {
            w.errors.add(
                "patient_photo_date",
                "Cannot be passed without patient_photo.",
            );
        }
        let language = w.text("preferred_language").unwrap_or_default().to_string();
        if w.rec.has("preferred_language")
            && language != "blank"
            && !(language.len() == 3 && language.chars().all(|c| c.is_ascii_lowercase()))
        {
            w.errors.add(
                "preferred_language",
                "Use an ISO 639 alpha-3 code (e.g. \"eng\") or \"blank\".",
            );
        }

        let profile = w
            .text("patient_payment_profile")
            .unwrap_or_default()
            .to_string();
        if NEEDS_INSURANCE.contains(&profile.as_str())
            && (w.rec.given("patient_payment_profile")
                || w.rec.given("primary_insurance")
                || w.rec.given("secondary_insurance"))
            && !nested::has_insurer(w.text("primary_insurance").unwrap_or_default())
            && !nested::has_insurer(w.text("secondary_insurance").unwrap_or_default())
        {
            w.errors.add(
                "patient_payment_profile",
                format!("\"{profile}\" needs a primary_insurance or secondary_insurance."),
            );
        }

        if let Some(raw) = w
            .rec
            .get("custom_demographics")
            .and_then(Val::as_str)
            .map(str::to_string)
        {
            match CUSTOM_DEMOGRAPHICS.check(w.ctx, w.conn, &raw)? {
                Ok(clean) => w.rec.set("custom_demographics", Val::from(clean)),
                Err(msg) => w.errors.add("custom_demographics", msg),
            }
        }
        if let Some(raw) = w
            .rec
            .get("patient_flags_attached")
            .and_then(Val::as_str)
            .map(str::to_string)
        {
            match flags(w.ctx, w.conn, &raw)? {
                Ok((attached, flags)) => {
                    w.rec.set("patient_flags_attached", Val::from(attached));
                    w.rec.set("patient_flags", Val::from(flags));
                }
                Err(msg) => w.errors.add("patient_flags_attached", msg),
            }
        }

        // chart_id: "Automatically set using first & last names if absent".
        if w.text("chart_id")
            .unwrap_or_default()
            .to_string()
            .trim()
            .is_empty()
            && (w.rec.has("chart_id") || w.current.is_none())
        {
            let chart_id = chart_id_from(
                w.text("first_name").unwrap_or_default(),
                w.text("last_name").unwrap_or_default(),
            );
            w.rec.set("chart_id", Val::from(chart_id));
        }
        if w.errors.is_empty() {
            let id = w.current.and_then(|c| c.get("id")).and_then(Val::as_i64);
            crate::domain::check_external_id(w.conn, w.ctx, "patients", "Patient", w.rec, id)?;
        }
        Ok(())
    }

    fn scope_list(&self, _ctx: &Ctx, params: &Params, sql: &mut Sql) -> Result<(), ApiError> {
        // A `since` poller sees every change, inactive patients included.
        if !params.flag("show_inactive")? && params.get("since").is_none() {
            sql.push(" AND t.patient_status = ?", [Val::from("A")]);
        }
        Ok(())
    }
}

/// `custom_demographics`: values for the practice's custom demographics.
const CUSTOM_DEMOGRAPHICS: CustomValues = CustomValues {
    table: "custom_demographics",
    noun: "custom demographic",
    type_key: "field_type",
    value_key: "value",
    data_type: "'text'",
    allowed: "t.allowed_values",
};

/// Checks attached flags ([{"flag_type": id, "notes": "..."}]) and derives `patient_flags`.
fn flags(
    ctx: &Ctx,
    conn: &mut Conn,
    raw: &str,
) -> Result<Result<(String, String), String>, ApiError> {
    let items: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
    let (mut attached, mut flags) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        let Some(flag_type) = item.get("flag_type").and_then(Value::as_i64) else {
            return Ok(Err(format!(
                "Item {i}: flag_type (an id of /api/patient_flag_types) is required."
            )));
        };
        let notes = item
            .get("notes")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let row = Sql::new("SELECT t.name, t.color, t.priority, t.archived FROM patient_flag_types t WHERE t.id = ? AND t.practice_group_id = ?")
            .bind(flag_type)
            .bind(ctx.practice_group())
            .load_one(conn, &[Ty::Text, Ty::Text, Ty::Int, Ty::Bool])?;
        let Some(row) = row else {
            return Ok(Err(format!(
                "Item {i}: patient flag type {flag_type} does not exist."
            )));
        };
        attached.push(json!({"flag_type": flag_type, "notes": notes}));
        flags.push(json!({
            "flag_type": flag_type,
            "name": row[0].as_str(),
            "color": row[1].as_str(),
            "priority": row[2].as_i64(),
            "archived": row[3].as_bool(),
            "notes": notes,
        }));
    }
    Ok(Ok((
        Value::Array(attached).to_string(),
        Value::Array(flags).to_string(),
    )))
}

/// DrChrono-style chart id: four letters of the last name, two of the first, upper case,
/// then a number made unique enough by the clock.
pub fn chart_id_from(first: &str, last: &str) -> String {
    let letters = |s: &str, n: usize| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphabetic())
            .take(n)
            .collect::<String>()
            .to_uppercase()
    };
    let stamp = chrono::Utc::now().timestamp_micros() % 1_000_000;
    format!("{}{}{:06}", letters(last, 4), letters(first, 2), stamp)
}
