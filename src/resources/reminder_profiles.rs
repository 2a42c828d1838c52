//! /api/reminder_profiles: default sets of reminders a doctor applies to appointments
//! ("Reminder Profiles"), through the appointment's write-only `reminder_profile` key.
//!
//! A reminder is {"type": "email"|"sms"|"phone"|"auto_call", "scheduled_time_delta": {"days":
//! N, "hours": N, "minutes": N}} — when to send it, before the appointment.

use crate::api::auth::{Perm, Scope, ShareSetting};
use crate::api::resource::{Field, Filter, Hooks, Kind, Resource, Sharing, Verbs};
use crate::api::Write;
use crate::db::Val;
use crate::error::ApiError;

pub static RESOURCE: Resource = Resource {
    path: "reminder_profiles",
    name: "ReminderProfile",
    doc: "Reminder profiles of the caller's doctor (shared when the group shares them).",
    scopes: &[Scope::Calendar],
    permissions: &[Perm::AccessScheduling],
    verbs: Verbs::ALL,
    sharing: Sharing::IfSetting(ShareSetting::ReminderProfiles),
    fields: &[
        Field::id(),
        Field::reference("doctor", "doctors").required(),
        Field::string("name").required(),
        Field::objects("reminders").required().doc(
            "[{\"type\": \"email\"|\"sms\"|\"phone\"|\"auto_call\", \
             \"scheduled_time_delta\": {\"days\": 1, \"hours\": 0, \"minutes\": 0}}]",
        ),
        Field::boolean("archived").read_only(),
    ],
    filters: &[Filter::eq("doctor", Kind::Int)],
    hooks: &ReminderHooks,
    ..Resource::DEFAULT
};

pub const REMINDER_TYPES: &[&str] = &["email", "sms", "phone", "auto_call"];

/// Checks a reminders list and answers it in canonical form.
pub fn normalize_reminders(raw: &str) -> Result<String, String> {
    use serde_json::{json, Value};
    let list: Vec<Value> = serde_json::from_str(raw).map_err(|_| "Expected a list.".to_string())?;
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
        if !REMINDER_TYPES.contains(&kind) {
            return Err(format!(
                "Item {i}: type must be one of {}.",
                REMINDER_TYPES.join(", ")
            ));
        }
        let delta = r.get("scheduled_time_delta").cloned().unwrap_or(json!({}));
        let part = |k: &str| -> Result<i64, String> {
            match delta.get(k) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => v
                    .as_i64()
                    .filter(|n| (0..=10_000).contains(n))
                    .ok_or_else(|| {
                        format!("Item {i}: scheduled_time_delta.{k} must be a whole number.")
                    }),
            }
        };
        let (d, h, m) = (part("days")?, part("hours")?, part("minutes")?);
        if d + h + m == 0 {
            return Err(format!(
                "Item {i}: scheduled_time_delta must be before the appointment."
            ));
        }
        out.push(
            json!({"type": kind, "scheduled_time_delta": {"days": d, "hours": h, "minutes": m}}),
        );
    }
    Ok(Value::Array(out).to_string())
}

struct ReminderHooks;

impl Hooks for ReminderHooks {
    fn validate(&self, w: &mut Write) -> Result<(), ApiError> {
        if let Some(raw) = w
            .rec
            .get("reminders")
            .and_then(Val::as_str)
            .map(str::to_string)
        {
            match normalize_reminders(&raw) {
                Ok(clean) => w.rec.set("reminders", Val::from(clean)),
                Err(msg) => w.errors.add("reminders", msg),
            }
        }
        Ok(())
    }
}
